"""aiobotocore (and aioboto3) clients: the same interception as for botocore, made async.

Imported by ``hooks`` only once aiobotocore is loaded (found in ``sys.modules`` at a stub's start,
or from an aiobotocore client's class).

- ``AioBaseClient._make_api_call`` is aiobotocore's own coroutine (it does not call
  botocore's): it is wrapped too (in every copy of aiobotocore seen: nothing here imports
  aiobotocore, its classes are found from the clients and ``sys.modules``), and the first call a
  Lambda client makes installs the same decide / choose-signer handlers as for sync clients
  (every Lambda operation), plus an async ``before-send`` answer (``dispatch.answer``, run in a
  worker thread). Clients created while a stub is active are hooked at creation
  (``BaseClient.__init__``), so aiobotocore imported late or imported again is reached too.
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
import sys
import weakref
from collections.abc import Callable
from typing import Any

from botocore.hooks import first_non_none_response

from ..service import errors
from ..service.wire import Answer
from . import hooks, retries, transport
from .patches import Patch


def patches(base_class: type) -> list[Patch]:
    """The patches for one copy of aiobotocore (its ``AioBaseClient`` and, for adaptive mode,
    its ``AsyncTokenBucket``), looked up in that copy's own modules: never imported here."""
    found = [Patch(base_class, "_make_api_call", _make_api_call),
             Patch(base_class, "_emit_api_params", hooks.first_sight)]
    package = base_class.__module__.rpartition(".")[0]
    bucket = getattr(sys.modules.get(f"{package}.retries.bucket"), "AsyncTokenBucket", None)
    if isinstance(bucket, type) and "acquire" in bucket.__dict__:
        found.append(Patch(bucket, "acquire", _acquire_wrapper))
    return found


def _make_api_call(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    # Runs when the coroutine is created, before it is awaited: hooking is synchronous; the call
    # is tracked (hooks.Call) in the coroutine's own context.
    state = instance.__dict__
    if hooks._active and state.get(hooks._CLIENT_ATTR) is not hooks._generation:
        hooks.ensure_hooked(instance)
    if hooks._HOOKED_ATTR not in state:
        return wrapped(*args, **kwargs)

    async def tracked() -> Any:
        call, token = hooks.enter_call(instance)
        try:
            return await wrapped(*args, **kwargs)
        finally:
            hooks.exit_call(call, token)

    return tracked()


async def _off_the_loop(call: Callable[[], tuple[str, Answer] | None]) -> tuple[str, Answer] | None:
    """Run the service in a worker thread, so the caller's event loop keeps running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio, through aiobotocore's httpx/anyio backend)
        to_thread = importlib.import_module("anyio.to_thread")
        answered: tuple[str, Answer] | None = await to_thread.run_sync(call)
        return answered
    return await asyncio.to_thread(call)


def answerer(client: Any, region: str, read_timeout: float) -> Callable[..., Any]:
    # The response class of the aiobotocore copy that created this client.
    package = _aio_package(client)
    response_class = importlib.import_module(f"{package}.awsrequest").AioAWSResponse
    owner = weakref.ref(client)

    async def before_send(request: Any, event_name: str = "", **_: Any) -> Any:
        operation = hooks.operation_of(event_name)
        claimed = hooks.claim(owner(), request, operation)  # on the loop: the call's context
        if claimed is None:
            return None
        url = request.url
        try:
            answered = await _off_the_loop(functools.partial(
                hooks.answer_request, *claimed, request, operation, region, read_timeout))
        except errors.TransportFault as fault:
            raise transport.fault(fault.name, url) from None
        if answered is None:
            return None
        url, answer = answered
        headers, parts = transport.to_aio_parts(answer)
        return response_class(url, answer.status, headers, transport.AioRawBody(url, parts))

    return before_send


def _aio_package(client: Any) -> str:
    base = hooks._aio_base(type(client))
    return base.__module__.rpartition(".")[0] if base is not None else "aiobotocore"


# -- retries ---------------------------------------------------------------------------------
# aiobotocore binds its retry handlers (and adaptive mode's rate limiter) to a client's emitter
# when the client is created, so wrapping those classes would miss clients created before the
# stub started. As for botocore (``retries``), the sleep is taken over where aiobotocore makes it,
# in ``_needs_retry`` of the endpoint of each hooked client (an instance attribute, removed when
# the client is unhooked), and the rate limiter's wait in ``AsyncTokenBucket.acquire``; a context
# variable marks the task while a request the stub answers is being sent.

_instant: contextvars.ContextVar[bool] = contextvars.ContextVar("lambda_stub_instant",
                                                               default=False)


def patch_endpoint(endpoint: Any) -> None:
    """Take over ``endpoint._needs_retry`` and ``_send_request`` (instance attributes shadowing
    the methods of whatever copy of aiobotocore made the endpoint)."""
    if "_needs_retry" in vars(endpoint):
        return
    original_needs_retry = endpoint._needs_retry
    original_send_request = endpoint._send_request

    def needs_retry(attempts: int, operation_model: Any, request_dict: Any,
                    response: Any = None, caught_exception: Any = None) -> Any:
        service = retries.instant_service(request_dict)
        if service is None:
            return original_needs_retry(attempts, operation_model, request_dict, response,
                                        caught_exception)

        async def instant() -> bool:
            # aiobotocore's AioEndpoint._needs_retry, recording the delay instead of sleeping.
            service_id = operation_model.service_model.service_id.hyphenize()
            responses = await endpoint._event_emitter.emit(
                f"needs-retry.{service_id}.{operation_model.name}",
                response=response, endpoint=endpoint, operation=operation_model,
                attempts=attempts, caught_exception=caught_exception, request_dict=request_dict,
            )
            delay = first_non_none_response(responses)
            if delay is None or delay is False:
                return False
            retries.record_delay(service, delay)
            return True

        return instant()

    def send_request(request_dict: Any, operation_model: Any) -> Any:
        instant = retries.instant_service(request_dict) is not None

        async def sending() -> Any:
            token = _instant.set(instant)
            try:
                return await original_send_request(request_dict, operation_model)
            finally:
                _instant.reset(token)

        return sending()

    endpoint._needs_retry = needs_retry
    endpoint._send_request = send_request


def _acquire_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    if _instant.get():
        async def acquired() -> bool:
            return True

        return acquired()
    return wrapped(*args, **kwargs)
