"""The only place that hooks into botocore's client pipeline.

When the first stub starts, ``BaseClient._make_api_call`` is wrapped (with wrapt); the first call
a Lambda client makes then installs three handlers on that client's own event emitter, once,
under a lock, and only for the Invoke family:

- ``before-parameter-build``: decide whether the stub answers (not a passthrough name);
- ``choose-signer``: answered calls are not signed, so no credentials are needed;
- ``before-send`` (registered first): answer with a synthesised HTTP response, so botocore's own
  parser, modeled exceptions and retry handler run as against AWS.

This reaches clients created before the stub started and before this package was imported.
Everything is undone when the last stub stops.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import botocore
import wrapt
from botocore.client import BaseClient

from ..service import errors
from ..service.invoke import handle
from ..service.state import LambdaService
from ..service.wire import Request
from . import limits, retries, transport

OPERATIONS = ("Invoke", "InvokeWithResponseStream", "InvokeAsync")
_CONTEXT_KEY = retries.CONTEXT_KEY
_CLIENT_ATTR = "_lambda_stub_hooks"

_lock = threading.RLock()
_active: list[LambdaService] = []
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()
_generation = 0
_original: Any = None


def current() -> LambdaService | None:
    """The innermost active stub's service."""
    active = _active
    return active[-1] if active else None


def activate(service: LambdaService) -> None:
    service.name_limits = limits.from_model()
    with _lock:
        _active.append(service)
        if len(_active) == 1:
            _install()


def deactivate(service: LambdaService) -> None:
    with _lock:
        if service in _active:
            _active.remove(service)
        if not _active:
            _uninstall()


def is_installed() -> bool:
    return _original is not None


def _install() -> None:
    global _original, _generation
    _generation += 1
    if _original is None:
        _original = BaseClient.__dict__["_make_api_call"]
        wrapt.wrap_function_wrapper(BaseClient, "_make_api_call", _make_api_call)
    retries.install()
    _install_aio()


def _uninstall() -> None:
    global _original
    for client in list(_hooked):
        _unhook_client(client)
    _hooked.clear()
    retries.uninstall()
    _uninstall_aio()
    if _original is not None:
        current_attr = BaseClient.__dict__.get("_make_api_call")
        if isinstance(current_attr, wrapt.FunctionWrapper) and current_attr.__wrapped__ is _original:
            BaseClient._make_api_call = _original  # type: ignore[attr-defined]
            _original = None


def _make_api_call(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    if instance.__dict__.get(_CLIENT_ATTR) is not _generation and _active:
        ensure_hooked(instance)
    return wrapped(*args, **kwargs)


AnswererFactory = Callable[[str, str, float], Callable[..., Any]]


def ensure_hooked(client: Any, make_answerer: AnswererFactory | None = None) -> None:
    """Install the per-client handlers once per client and stub generation (aiobotocore's
    clients pass their own, asynchronous, ``before-send`` answerer, and their own retries)."""
    with _lock:
        if client.__dict__.get(_CLIENT_ATTR) is _generation:
            return
        if client.meta.service_model.service_name == "lambda":
            _hook_client(client, make_answerer or _answerer)
            if make_answerer is None:
                retries.patch_endpoint(client._endpoint)
        client.__dict__[_CLIENT_ATTR] = _generation


def _hook_client(client: Any, make_answerer: AnswererFactory) -> None:
    events = client.meta.events
    region = client.meta.region_name or "us-east-1"
    read_timeout = getattr(client.meta.config, "read_timeout", None)
    if read_timeout is None:
        read_timeout = transport.DEFAULT_READ_TIMEOUT
    for operation in OPERATIONS:
        events.register(f"before-parameter-build.lambda.{operation}", _decide,
                        unique_id=f"lambda-stub-decide-{operation}")
        events.register(f"choose-signer.lambda.{operation}", _choose_signer,
                        unique_id=f"lambda-stub-signer-{operation}")
        events.register_first(f"before-send.lambda.{operation}",
                              make_answerer(operation, region, float(read_timeout)),
                              unique_id=f"lambda-stub-send-{operation}")
    _hooked.add(client)


def _unhook_client(client: Any) -> None:
    retries.unpatch_endpoint(client._endpoint)
    events = client.meta.events
    for operation in OPERATIONS:
        events.unregister(f"before-parameter-build.lambda.{operation}",
                          unique_id=f"lambda-stub-decide-{operation}")
        events.unregister(f"choose-signer.lambda.{operation}",
                          unique_id=f"lambda-stub-signer-{operation}")
        events.unregister(f"before-send.lambda.{operation}",
                          unique_id=f"lambda-stub-send-{operation}")
    client.__dict__.pop(_CLIENT_ATTR, None)


def _decide(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    service = current()
    if service is not None and service.answers(str(params.get("FunctionName", ""))):
        context[_CONTEXT_KEY] = True


def _choose_signer(context: dict[str, Any] | None = None, **_: Any) -> Any:
    if context is not None and context.get(_CONTEXT_KEY) and current() is not None:
        return botocore.UNSIGNED
    return None



def take_request(request: Any, operation: str, region: str,
                 read_timeout: float) -> tuple[LambdaService, str, Request] | None:
    """The service, original URL and parsed request when a stub answers this HTTP request
    (shared by the sync and the aiobotocore answerers); None lets it go on."""
    service = current()
    if service is None:
        return None
    url = request.url
    name, qualifier = transport.function_name_from_url(url)
    if not service.answers(name):
        return None
    # Make the request unrecognisable to later before-send handlers (moto's mock_aws).
    request.url = transport.ANSWERED_URL
    return service, url, transport.to_request(request, name, qualifier, operation, region,
                                              read_timeout)


def _answerer(operation: str, region: str, read_timeout: float) -> Callable[..., Any]:
    def before_send(request: Any, **_: Any) -> Any:
        taken = take_request(request, operation, region, read_timeout)
        if taken is None:
            return None
        service, url, stub_request = taken
        try:
            answer = handle(service, stub_request)
        except errors.TransportFault as fault:
            raise transport.fault(fault.name, url) from None
        retries.answered_on_this_thread()
        return transport.to_response(url, answer)

    return before_send


def _install_aio() -> None:
    """Reach aiobotocore clients too, when aiobotocore is importable."""
    try:
        from . import aio  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    aio.install()


def _uninstall_aio() -> None:
    try:
        from . import aio  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    aio.uninstall()
