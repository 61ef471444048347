"""aiobotocore (and aioboto3) clients: the same interception as for botocore, made async.

Imported by ``hooks`` only when a stub starts, and only if aiobotocore is importable (otherwise
this module raises ``ImportError`` and ``hooks`` skips it, at no cost).

- ``AioBaseClient._make_api_call`` is aiobotocore's own coroutine (it does not call
  botocore's): it is wrapped too, and the first call a Lambda client makes installs the same
  decide / choose-signer handlers as for sync clients (every Lambda operation), plus an async
  ``before-send`` answer (``dispatch.answer``, run in a worker thread).
- The answer is an ``AioAWSResponse`` whose raw body has what aiobotocore reads from aiohttp
  (``await read()``, ``content.read(n)``, ``content.at_eof()``, ``content.iter_chunks()``), so
  aiobotocore's own parsers, modeled exceptions, retry handler and event-stream reader run.
- The service (and so the handler) runs in a worker thread, off the caller's event loop, so the
  caller's other tasks keep running while a handler runs.
- aiobotocore's retries are its own (async): the delays its retry handler asks for, for requests
  the stub answers, are recorded in ``stub.retry_delays`` and not slept, and adaptive mode's rate
  limiter does not block them.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
from collections.abc import Callable
from typing import Any

import wrapt
from aiobotocore.awsrequest import AioAWSResponse
from aiobotocore.client import AioBaseClient
from aiobotocore.endpoint import AioEndpoint
from aiobotocore.retries import bucket as _aio_bucket
from botocore.hooks import first_non_none_response

from ..service import errors
from ..service.wire import Answer
from . import hooks, retries, transport

_CLIENT_ATTR = hooks._CLIENT_ATTR

_original: Any = None
_retry_originals: dict[tuple[Any, str], Any] = {}


def install() -> None:
    global _original
    if _original is None:
        _original = AioBaseClient.__dict__["_make_api_call"]
        wrapt.wrap_function_wrapper(AioBaseClient, "_make_api_call", _make_api_call)
    for owner, name, wrapper in _retry_targets():
        if (owner, name) in _retry_originals or name not in owner.__dict__:
            continue
        _retry_originals[(owner, name)] = owner.__dict__[name]
        wrapt.wrap_function_wrapper(owner, name, wrapper)


def uninstall() -> None:
    global _original
    # Hooked aiobotocore clients are in hooks._hooked: hooks unregisters their handlers (same
    # unique ids as sync clients) before calling this.
    if _original is not None:
        current_attr = AioBaseClient.__dict__.get("_make_api_call")
        if isinstance(current_attr, wrapt.FunctionWrapper) \
                and current_attr.__wrapped__ is _original:
            AioBaseClient._make_api_call = _original
            _original = None
    for (owner, name), original in list(_retry_originals.items()):
        current_attr = owner.__dict__.get(name)
        if isinstance(current_attr, wrapt.FunctionWrapper) and current_attr.__wrapped__ is original:
            setattr(owner, name, original)
        del _retry_originals[(owner, name)]


def _make_api_call(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    # Runs when the coroutine is created, before it is awaited: hooking is synchronous.
    if instance.__dict__.get(_CLIENT_ATTR) is not hooks._generation and hooks._active:
        hooks.ensure_hooked(instance, _answerer)
    return wrapped(*args, **kwargs)


async def _off_the_loop(call: Callable[[], tuple[str, Answer] | None]) -> tuple[str, Answer] | None:
    """Run the service in a worker thread, so the caller's event loop keeps running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio, through aiobotocore's httpx/anyio backend)
        to_thread = importlib.import_module("anyio.to_thread")
        taken: tuple[str, Answer] | None = await to_thread.run_sync(call)
        return taken
    return await asyncio.to_thread(call)


def _answerer(region: str, read_timeout: float) -> Callable[..., Any]:
    async def before_send(request: Any, event_name: str = "", **_: Any) -> Any:
        if hooks.current() is None:
            return None
        url = request.url
        try:
            taken = await _off_the_loop(functools.partial(
                hooks.answer_request, request, hooks.operation_of(event_name), region,
                read_timeout))
        except errors.TransportFault as fault:
            raise transport.fault(fault.name, url) from None
        if taken is None:
            return None
        url, answer = taken
        headers, parts = transport.to_aio_parts(answer)
        return AioAWSResponse(url, answer.status, headers, transport.AioRawBody(url, parts))

    return before_send


# -- retries ---------------------------------------------------------------------------------
# aiobotocore binds its retry handlers (and adaptive mode's rate limiter) to a client's emitter
# when the client is created, so wrapping those classes would miss clients created before the
# stub started. As for botocore (``retries``), the sleep is taken over where aiobotocore makes it,
# in ``AioEndpoint._needs_retry``, and the rate limiter's wait in ``AsyncTokenBucket.acquire``
# (both looked up at call time); a context variable marks the task while a request the stub
# answers is being sent.

_instant: contextvars.ContextVar[bool] = contextvars.ContextVar("lambda_stub_instant",
                                                               default=False)



def _bind_needs_retry(attempts: int, operation_model: Any, request_dict: Any,
                      response: Any = None, caught_exception: Any = None) -> dict[str, Any]:
    return {"attempts": attempts, "operation_model": operation_model,
            "request_dict": request_dict, "response": response,
            "caught_exception": caught_exception}


def _needs_retry_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any,
                         kwargs: Any) -> Any:
    """``AioEndpoint._needs_retry`` without its ``asyncio.sleep`` for requests a stub answers:
    the delay the retry handler asks for is recorded in ``stub.retry_delays``."""
    bound = _bind_needs_retry(*args, **kwargs)
    service = retries.instant_service(bound["request_dict"])
    if service is None:
        return wrapped(*args, **kwargs)

    async def needs_retry() -> bool:
        operation_model = bound["operation_model"]
        service_id = operation_model.service_model.service_id.hyphenize()
        responses = await instance._event_emitter.emit(
            f"needs-retry.{service_id}.{operation_model.name}",
            response=bound["response"], endpoint=instance, operation=operation_model,
            attempts=bound["attempts"], caught_exception=bound["caught_exception"],
            request_dict=bound["request_dict"],
        )
        delay = first_non_none_response(responses)
        if delay is None or delay is False:
            return False
        retries.record_delay(service, delay)
        return True

    return needs_retry()


def _send_request_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any,
                          kwargs: Any) -> Any:
    request_dict = args[0] if args else kwargs.get("request_dict")
    instant = retries.instant_service(request_dict) is not None

    async def send_request() -> Any:
        token = _instant.set(instant)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            _instant.reset(token)

    return send_request()


def _acquire_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    if _instant.get():
        async def acquired() -> bool:
            return True

        return acquired()
    return wrapped(*args, **kwargs)


def _retry_targets() -> list[tuple[Any, str, Callable[..., Any]]]:
    targets: list[tuple[Any, str, Callable[..., Any]]] = [
        (AioEndpoint, "_needs_retry", _needs_retry_wrapper),
        (AioEndpoint, "_send_request", _send_request_wrapper),
    ]
    bucket = getattr(_aio_bucket, "AsyncTokenBucket", None)
    if bucket is not None and "acquire" in bucket.__dict__:
        targets.append((bucket, "acquire", _acquire_wrapper))
    return targets
