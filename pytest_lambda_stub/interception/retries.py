"""Instant retries: while a stub is active, botocore's retry delays for requests the stub answers
are recorded (``stub.retry_delays``) instead of slept, and adaptive mode's client-side rate
limiter does not block them. botocore still decides whether and how often to retry.

botocore binds its retry handlers to a client's event emitter when the client is created
(``handler.needs_retry`` in standard and adaptive modes, ``rate_limiter.on_sending_request`` in
adaptive mode), so wrapping those classes would miss clients created before the stub started.
The sleep is therefore taken over where botocore makes it, in ``Endpoint._needs_retry``, and the
rate limiter's wait in ``TokenBucket.acquire``; both are looked up at call time. The handler-class
wrappers stay for endpoints that do not go through ``Endpoint._needs_retry`` (aiobotocore).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import wrapt
from botocore import endpoint, retryhandler
from botocore.hooks import first_non_none_response
from botocore.retries import adaptive, bucket, standard

_local = threading.local()
_CONTEXT_KEY = "lambda_stub"  # set by hooks._decide on requests a stub answers
_originals: dict[tuple[Any, str], Any] = {}
_hooks: Any = None  # the hooks module, bound at install (it imports this one)


def _service() -> Any:
    return _hooks.current() if _hooks is not None else None


def _instant_service(request_dict: Any) -> Any:
    """The active service when retries of this request are to be instant, else None."""
    service = _service()
    if service is None or not service.options.instant_retries \
            or not _hooks.answered(request_dict):
        return None
    return service


def _record(service: Any, delay: Any) -> None:
    with service.lock:
        service.retry_delays.append(float(delay))


def _bind_needs_retry(attempts: int, operation_model: Any, request_dict: Any,
                      response: Any = None, caught_exception: Any = None) -> dict[str, Any]:
    return {"attempts": attempts, "operation_model": operation_model,
            "request_dict": request_dict, "response": response,
            "caught_exception": caught_exception}


def _answered_request(request_dict: Any) -> bool:
    """Cheap test, on every request of every client while a stub is active."""
    context = request_dict.get("context") if isinstance(request_dict, dict) else None
    return bool(context and context.get(_CONTEXT_KEY))


def _needs_retry_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any,
                         kwargs: Any) -> Any:
    """``Endpoint._needs_retry`` without its ``time.sleep`` for requests a stub answers."""
    request_dict = args[2] if len(args) > 2 else kwargs.get("request_dict")
    if not _answered_request(request_dict):
        return wrapped(*args, **kwargs)
    bound = _bind_needs_retry(*args, **kwargs)
    service = _instant_service(bound["request_dict"])
    if service is None:
        return wrapped(*args, **kwargs)
    operation_model = bound["operation_model"]
    service_id = operation_model.service_model.service_id.hyphenize()
    previous = getattr(_local, "direct", False)
    _local.direct = True
    try:
        responses = instance._event_emitter.emit(
            f"needs-retry.{service_id}.{operation_model.name}",
            response=bound["response"], endpoint=instance, operation=operation_model,
            attempts=bound["attempts"], caught_exception=bound["caught_exception"],
            request_dict=bound["request_dict"],
        )
    finally:
        _local.direct = previous
    delay = first_non_none_response(responses)
    if delay is None or delay is False:
        return False
    _record(service, delay)
    return True


def _send_request_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any,
                          kwargs: Any) -> Any:
    """Mark the thread while a request the stub answers is in flight (for the rate limiter);
    saved and restored, as a handler may send other requests from inside it."""
    request_dict = args[0] if args else kwargs.get("request_dict")
    if not _answered_request(request_dict) and not getattr(_local, "instant", False):
        return wrapped(*args, **kwargs)
    previous = getattr(_local, "instant", False)
    _local.instant = _instant_service(request_dict) is not None
    try:
        return wrapped(*args, **kwargs)
    finally:
        _local.instant = previous


def _acquire_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    if getattr(_local, "instant", False):
        return True
    return wrapped(*args, **kwargs)


def _delay_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    delay = wrapped(*args, **kwargs)
    if delay is None or delay is False or getattr(_local, "direct", False):
        return delay  # recorded (and not slept) by _needs_retry_wrapper
    service = _instant_service(kwargs.get("request_dict"))
    if service is None:
        return delay
    _record(service, delay)
    return 0


def _rate_limit_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any,
                        kwargs: Any) -> Any:
    from .transport import ANSWERED_URL

    request = kwargs.get("request", args[0] if args else None)
    service = _service()
    if service is not None and service.options.instant_retries and (
            getattr(_local, "instant", False)
            or getattr(request, "url", None) == ANSWERED_URL):
        return None
    return wrapped(*args, **kwargs)


_TARGETS: tuple[tuple[Any, str, Callable[..., Any]], ...] = (
    (endpoint.Endpoint, "_needs_retry", _needs_retry_wrapper),
    (endpoint.Endpoint, "_send_request", _send_request_wrapper),
    (bucket.TokenBucket, "acquire", _acquire_wrapper),
    (retryhandler.RetryHandler, "__call__", _delay_wrapper),
    (standard.RetryHandler, "needs_retry", _delay_wrapper),
    (adaptive.ClientRateLimiter, "on_sending_request", _rate_limit_wrapper),
)


def install() -> None:
    global _hooks
    from . import hooks

    _hooks = hooks
    for owner, name, wrapper in _TARGETS:
        if (owner, name) in _originals:
            continue
        _originals[(owner, name)] = owner.__dict__[name]
        wrapt.wrap_function_wrapper(owner, name, wrapper)


def uninstall() -> None:
    for (owner, name), original in list(_originals.items()):
        current_attr = owner.__dict__.get(name)
        if isinstance(current_attr, wrapt.FunctionWrapper) and current_attr.__wrapped__ is original:
            setattr(owner, name, original)
        del _originals[(owner, name)]
