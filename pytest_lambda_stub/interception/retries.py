"""Instant retries: while a stub is active, botocore's retry delays for requests the stub answers
are recorded (``stub.retry_delays``) instead of slept, and adaptive mode's client-side rate
limiter does not block them. botocore still decides whether and how often to retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt
from botocore import retryhandler
from botocore.retries import adaptive, standard

_TARGETS: tuple[tuple[Any, str], ...] = (
    (retryhandler.RetryHandler, "__call__"),
    (standard.RetryHandler, "needs_retry"),
    (adaptive.ClientRateLimiter, "on_sending_request"),
)
_originals: dict[tuple[Any, str], Any] = {}


def _service() -> Any:
    from .hooks import current

    return current()


def _delay_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    delay = wrapped(*args, **kwargs)
    if delay is None or delay is False:
        return delay
    from .hooks import answered

    service = _service()
    if service is None or not service.options.instant_retries \
            or not answered(kwargs.get("request_dict")):
        return delay
    with service.lock:
        service.retry_delays.append(float(delay))
    return 0


def _rate_limit_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any,
                        kwargs: Any) -> Any:
    service = _service()
    if service is not None and service.options.instant_retries \
            and str(kwargs.get("event_name", "")).startswith("before-send.lambda.Invoke"):
        return None
    return wrapped(*args, **kwargs)


def install() -> None:
    for owner, name in _TARGETS:
        if (owner, name) in _originals:
            continue
        _originals[(owner, name)] = owner.__dict__[name]
        wrapper = _rate_limit_wrapper if owner is adaptive.ClientRateLimiter else _delay_wrapper
        wrapt.wrap_function_wrapper(owner, name, wrapper)


def uninstall() -> None:
    for (owner, name), original in list(_originals.items()):
        current_attr = owner.__dict__.get(name)
        if isinstance(current_attr, wrapt.FunctionWrapper) and current_attr.__wrapped__ is original:
            setattr(owner, name, original)
        del _originals[(owner, name)]
