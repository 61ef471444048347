"""The one place that knows who answers a loopback request: ``interception.dispatch`` (every
Lambda operation, routed and parsed from botocore's model) when it is present; otherwise the
Invoke family, through the very path in-process clients take (``transport.to_request`` then
``service.invoke.handle``), routed by botocore's model (``routes``).

Both give the same contract: ``route(method, path)`` -> (operation, URI labels) or None, and
``answer(...)`` -> the service's ``Answer``, or None when the stub does not answer the request
(a passthrough function name, or an operation it does not serve). A scripted transport fault is
raised as ``errors.TransportFault``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ..service.wire import Answer
from . import routes

INVOKE_FAMILY = ("Invoke", "InvokeAsync", "InvokeWithResponseStream")


def _load_dispatch() -> Any:
    """``interception.dispatch`` (the control plane, once merged), or None while it is absent."""
    name = f"{__package__.rpartition('.')[0]}.interception.dispatch"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name != name:
            raise
        return None


_dispatch = _load_dispatch()

CONTROL_PLANE = _dispatch is not None  # whether operations beyond the Invoke family are answered


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation a request is for and its URI labels; None for no Lambda operation."""
    if _dispatch is not None:
        found: tuple[str, dict[str, str]] | None = _dispatch.route(method, path)
        return found
    return routes.route(method, path)


def answer(service: Any, operation: str, method: str, url: str, headers: Mapping[str, str],
           body: bytes, region: str, read_timeout: float | None, *,
           source: str = "loopback") -> Answer | None:
    """The service's answer to one raw HTTP request (headers with lower-case names)."""
    if _dispatch is not None:
        given: Answer | None = _dispatch.answer(service, operation, method, url, headers, body,
                                                region, read_timeout, source=source)
        return given
    if operation not in INVOKE_FAMILY:
        return None
    return _invoke_family(service, operation, method, url, headers, body, region, read_timeout)


def _invoke_family(service: Any, operation: str, method: str, url: str,
                   headers: Mapping[str, str], body: bytes, region: str,
                   read_timeout: float | None) -> Answer | None:
    from botocore.awsrequest import AWSPreparedRequest, HTTPHeaders

    from ..interception import transport
    from ..service.invoke import handle

    name, qualifier = transport.function_name_from_url(url)
    if not service.answers(name):
        return None
    wire_headers = HTTPHeaders()
    for key, value in headers.items():
        wire_headers[key] = value
    prepared = AWSPreparedRequest(method, url, wire_headers, body, stream_output=False)
    return handle(service, transport.to_request(prepared, name, qualifier, operation, region,
                                                read_timeout))
