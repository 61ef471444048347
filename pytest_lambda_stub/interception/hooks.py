"""The only place that hooks into botocore's client pipeline.

When the first stub starts, ``BaseClient._make_api_call`` is wrapped (with wrapt); the first call
a Lambda client makes then installs three handlers on that client's own event emitter, once,
under a lock, for every Lambda operation:

- ``before-parameter-build``: decide whether the stub takes the request (not let through by
  the ``passthrough`` option or to moto's ``mock_aws``);
- ``choose-signer``: taken calls are not signed, so no credentials are needed;
- ``before-send`` (registered first): answer with a synthesised HTTP response from
  ``dispatch.answer``, so botocore's own parser, modeled exceptions and retry handler run as
  against AWS (an operation the stub does not emulate raises ``NotEmulatedError`` there).

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
from ..service.state import LambdaService
from ..service.wire import Answer
from . import dispatch, limits, retries, transport

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


AnswererFactory = Callable[[str, float], Callable[..., Any]]
# The three handlers are registered for the service's event prefix (``before-send.lambda``), so
# they run for every Lambda operation; each learns the operation from the event's name.
_EVENTS = ("before-parameter-build.lambda", "choose-signer.lambda", "before-send.lambda")
_UNIQUE_IDS = ("lambda-stub-decide", "lambda-stub-signer", "lambda-stub-send")


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
    decide, signer, send = _EVENTS
    events.register(decide, _decide, unique_id=_UNIQUE_IDS[0])
    events.register(signer, _choose_signer, unique_id=_UNIQUE_IDS[1])
    events.register_first(send, make_answerer(region, float(read_timeout)),
                          unique_id=_UNIQUE_IDS[2])
    _hooked.add(client)


def _unhook_client(client: Any) -> None:
    retries.unpatch_endpoint(client._endpoint)
    events = client.meta.events
    for event, unique_id in zip(_EVENTS, _UNIQUE_IDS, strict=True):
        events.unregister(event, unique_id=unique_id)
    client.__dict__.pop(_CLIENT_ATTR, None)


def operation_of(event_name: str) -> str:
    """The operation of a Lambda event name (``before-send.lambda.GetFunction``)."""
    return event_name.rpartition(".")[2]


def _decide(params: dict[str, Any], context: dict[str, Any], event_name: str = "",
            **_: Any) -> None:
    """Mark a request the stub takes (answers or refuses): it is not signed, and its retries
    are instant. Requests let through (passthrough, moto) are left alone."""
    service = current()
    if service is not None and not dispatch.lets_through(
            service, operation_of(event_name), dispatch.function_name_of(params)):
        context[_CONTEXT_KEY] = True


def _choose_signer(context: dict[str, Any] | None = None, **_: Any) -> Any:
    if context is not None and context.get(_CONTEXT_KEY) and current() is not None:
        return botocore.UNSIGNED
    return None


def answer_request(request: Any, operation: str, region: str,
                   read_timeout: float) -> tuple[str, Answer] | None:
    """The original URL and the answer when a stub takes this HTTP request (shared by the sync
    and the aiobotocore answerers); None lets it go on. Raises ``errors.TransportFault`` for a
    scripted network fault and ``errors.NotEmulatedError`` for an operation not emulated."""
    service = current()
    if service is None:
        return None
    url = request.url
    answer = dispatch.answer(service, operation, request.method, url, request.headers,
                             transport._body_bytes(request.body), region, read_timeout)
    if answer is None:
        return None
    # Make the request unrecognisable to later before-send handlers (moto's mock_aws).
    request.url = transport.ANSWERED_URL
    return url, answer


def _answerer(region: str, read_timeout: float) -> Callable[..., Any]:
    def before_send(request: Any, event_name: str = "", **_: Any) -> Any:
        url = request.url
        try:
            taken = answer_request(request, operation_of(event_name), region, read_timeout)
        except errors.TransportFault as fault:
            raise transport.fault(fault.name, url) from None
        if taken is None:
            return None
        retries.answered_on_this_thread()
        return transport.to_response(*taken)

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
