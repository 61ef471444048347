"""The loopback endpoint (``stub.serve()``): the stub's Lambda service behind an HTTP server on
127.0.0.1, for clients outside the test's process (subprocesses, the AWS CLI, other SDKs).

``handler`` (the HTTP server and request handler: it routes and answers each request with
``interception.dispatch``, the same entry point in-process clients reach), ``lifecycle``
(start, stop, and the ``AWS_ENDPOINT_URL_LAMBDA`` export).
"""
