"""Instant retries: while a stub is active, botocore's retry delays for requests the stub answers
are recorded (``stub.retry_delays``) instead of slept, and adaptive mode's client-side rate
limiter does not block them. botocore still decides whether and how often to retry.

botocore binds its retry handlers to a client's event emitter when the client is created, so
wrapping the handler classes would miss clients created before the stub started. The sleep is
taken over where botocore makes it, in ``Endpoint._needs_retry``: patched on the endpoint of each
hooked Lambda client only (other services' clients pay nothing), and undone when it is unhooked.
Adaptive mode's token bucket is reached through its class (its instances are private to each
client's rate limiter): its ``acquire`` does not block right after the stub answered a request
on the same thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.hooks import first_non_none_response
from botocore.retries import bucket

from .patches import Patch

_local = threading.local()
CONTEXT_KEY = "lambda_stub"  # a request's context holds the service that took it (hooks)
_ATTR = "_needs_retry"
_AIO_ATTRS = ("_needs_retry", "_send_request")


def instant_service(request_dict: Any) -> Any:
    """The service that took this request when its retries are to be instant, else None."""
    context = request_dict.get("context") if isinstance(request_dict, dict) else None
    service = context.get(CONTEXT_KEY) if context else None
    if service is None or not service.options.instant_retries:
        return None
    return service if service in _active else None


_active: list[Any] = []  # hooks' list of active services (bound by bind_active)


def bind_active(active: list[Any]) -> None:
    global _active
    _active = active


def record_delay(service: Any, delay: float) -> None:
    """A retry delay botocore asked for, recorded (``stub.retry_delays``) instead of slept."""
    with service.lock:
        service.retry_delays.append(float(delay))


def answered_on_this_thread() -> None:
    """Called by the answerer: the rate limiter's ``acquire`` that follows in the same
    ``before-send`` does not block (reset when botocore checks for a retry)."""
    _local.instant = True


def patch_endpoint(endpoint: Any) -> None:
    """Take over ``endpoint._needs_retry`` (an instance attribute shadowing the method)."""
    if _ATTR in vars(endpoint):
        return
    original = getattr(endpoint, _ATTR)

    def needs_retry(attempts: int, operation_model: Any, request_dict: Any,
                    response: Any = None, caught_exception: Any = None) -> Any:
        _local.instant = False
        service = instant_service(request_dict)
        if service is None:
            return original(attempts, operation_model, request_dict, response,
                            caught_exception)
        # botocore's Endpoint._needs_retry, recording the delay instead of sleeping it.
        service_id = operation_model.service_model.service_id.hyphenize()
        responses = endpoint._event_emitter.emit(
            f"needs-retry.{service_id}.{operation_model.name}",
            response=response, endpoint=endpoint, operation=operation_model,
            attempts=attempts, caught_exception=caught_exception, request_dict=request_dict,
        )
        delay = first_non_none_response(responses)
        if delay is None or delay is False:
            return False
        record_delay(service, delay)
        return True

    setattr(endpoint, _ATTR, needs_retry)


def unpatch_endpoint(endpoint: Any) -> None:
    for name in _AIO_ATTRS:
        vars(endpoint).pop(name, None)


def _acquire_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    if getattr(_local, "instant", False):
        return True
    return wrapped(*args, **kwargs)


def patches() -> list[Patch]:
    """Adaptive mode's token bucket: ``acquire`` does not block right after an answer."""
    return [Patch(bucket.TokenBucket, "acquire", _acquire_wrapper)]


def reset() -> None:
    _local.instant = False
