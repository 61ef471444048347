"""The loopback endpoint (``stub.serve()``): the stub's Lambda service behind an HTTP server on
127.0.0.1, for clients outside the test's process (subprocesses, the AWS CLI, other SDKs).

``routes`` (method and path to operation, from botocore's model), ``adapter`` (the one place
that hands a raw request to the service), ``handler`` (the HTTP server and request handler),
``lifecycle`` (start, stop, and the ``AWS_ENDPOINT_URL_LAMBDA`` export).
"""
