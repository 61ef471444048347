"""The only place that hooks into botocore's client pipeline.

What is installed, when:

- While a stub is active, class patches (:mod:`.patches`, wrapt): ``BaseClient.__init__`` (a
  client created now is hooked at once, whatever its class: this is how aiobotocore clients are
  reached when aiobotocore was imported after the stub started, or imported again),
  ``BaseClient._make_api_call`` (reaches clients created before the stub started, and tracks
  each call of a hooked client to its end), ``BaseClient._emit_api_params`` (the same first
  sight, for when another library unwrapped the previous one mid-stub) and, when aiobotocore is
  loaded, the same two on ``AioBaseClient`` of every copy of aiobotocore seen; plus the
  instant-retries patches (:mod:`.retries`).
- On a client of a service :func:`is_hooked` names (Lambda), once per stub generation, under a
  lock, the handlers listed by :func:`registrations`, for every operation of the service:
  ``before-parameter-build`` decides whether the stub takes the call (not let through by the
  ``passthrough`` option or to moto's ``mock_aws``), ``choose-signer`` leaves a taken call
  unsigned (no credentials needed), ``before-send`` (registered first) answers it with a
  synthesised HTTP response from ``dispatch.answer``, so botocore's own parser, modeled
  exceptions and retry handler run as against AWS (an operation the stub does not emulate
  raises ``NotEmulatedError`` there).

What is checked, when: every ``start()`` checks that each patch is still in the chain of the
attribute it patched (another library may have unwrapped it) and re-installs it if not; so does
the first sight of a client in a generation (``__init__`` or ``_make_api_call``), which also
notes the client's aiobotocore class, if any. Nothing is trusted to a module flag.

A call the stub took (decided in ``before-parameter-build``) is answered or failed, never sent:
the call is tracked from ``_make_api_call`` to its end; ``stop()`` leaves the handlers of a client
with a taken call in flight in place until that call ends, and ``before-send`` fails such a call
when its stub has stopped meanwhile.

When the last stub stops, every patch and handler is undone (a patch under another library's
wrapper stays, inert: see :mod:`.patches`).
"""

from __future__ import annotations

import contextvars
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import botocore
import botocore.client
from botocore.exceptions import BotoCoreError

from ..service import errors
from ..service.state import LambdaService
from ..service.wire import Answer
from . import dispatch, limits, retries, transport
from .patches import Patch

_CONTEXT_KEY = retries.CONTEXT_KEY
_CLIENT_ATTR = "_lambda_stub_hooks"  # the generation a client was last seen in
_HOOKED_ATTR = "_lambda_stub_hooked"  # present while the client's handlers are registered

_lock = threading.RLock()
_active: list[LambdaService] = []
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()
_inflight: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
_generation = 0
retries.bind_active(_active)


class StubStoppedError(BotoCoreError):
    """A call the stub had taken was still in flight when the stub stopped: it is failed with
    this error, never sent."""

    fmt = ("lambda_stub: the stub stopped while {operation} of {function!r} was in flight; the "
           "request was not sent (stop the stub after the calls it answers have returned)")


class UnansweredError(BotoCoreError):
    """A call the stub had taken got no answer (it was let through after being taken): it is
    failed with this error, never sent."""

    fmt = ("lambda_stub: {operation} of {function!r} was taken by the stub but not answered; the "
           "request was not sent (to let it through, name it in passthrough= before the call)")


def is_hooked(service_name: str) -> bool:
    """The one place saying which clients are hooked: those of the Lambda service (every one
    of its operations: the stub answers, refuses or lets through each call)."""
    return service_name == "lambda"


AnswererFactory = Callable[[Any, str, float], Callable[..., Any]]
Registration = tuple[str, Callable[..., Any], str, bool]  # event, handler, unique id, first


def registrations(client: Any, make_answerer: AnswererFactory) -> list[Registration]:
    """The handlers a hooked client gets (unregistered by unique id). They are registered for
    the service's event prefix (``before-send.lambda``), so they run for every operation; each
    learns the operation from the event's name."""
    region = client.meta.region_name or "us-east-1"
    read_timeout = getattr(client.meta.config, "read_timeout", None)
    if read_timeout is None:
        read_timeout = transport.DEFAULT_READ_TIMEOUT
    service = client.meta.service_model.service_id.hyphenize()
    return [
        (f"before-parameter-build.{service}", _decider(client), "lambda-stub-decide", False),
        (f"choose-signer.{service}", _choose_signer, "lambda-stub-signer", False),
        (f"before-send.{service}", make_answerer(client, region, float(read_timeout)),
         "lambda-stub-send", True),
    ]


def operation_of(event_name: str) -> str:
    """The operation of an event's name (``before-send.lambda.GetFunction``)."""
    return event_name.rpartition(".")[2]


# -- the calls in flight -----------------------------------------------------------------------

class Call:
    """One API call of a hooked client, from ``_make_api_call`` to its end."""

    __slots__ = ("client", "service")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.service: LambdaService | None = None  # set when the stub takes the call


_call: contextvars.ContextVar[Call | None] = contextvars.ContextVar("lambda_stub_call",
                                                                   default=None)


def enter_call(client: Any) -> tuple[Call, contextvars.Token[Call | None]]:
    call = Call(client)
    return call, _call.set(call)


def exit_call(call: Call, token: contextvars.Token[Call | None]) -> None:
    _call.reset(token)
    if call.service is None:
        return
    with _lock:
        left = _inflight.get(call.client, 1) - 1
        if left > 0:
            _inflight[call.client] = left
            return
        _inflight.pop(call.client, None)
        if not _active and call.client in _hooked:
            _unhook_client(call.client)  # its stub stopped while this call was in flight


# -- lifecycle -------------------------------------------------------------------------------

def current() -> LambdaService | None:
    """The innermost active stub's service."""
    active = _active
    return active[-1] if active else None


def activate(service: LambdaService) -> None:
    global _generation
    service.name_limits = limits.from_model()
    with _lock:
        _active.append(service)
        if len(_active) == 1:
            _generation += 1
        ensure_patches()


def deactivate(service: LambdaService) -> None:
    with _lock:
        if service in _active:
            _active.remove(service)
        if not _active:
            _release()


def is_installed() -> bool:
    """Whether any patch of this module is in place (active or left inert)."""
    return any(patch.present() for patch in _all_patches())


_sync_patches: list[Patch] = []
_aio_patches: weakref.WeakKeyDictionary[type, list[Patch]] = weakref.WeakKeyDictionary()


def _all_patches() -> Iterator[Patch]:
    yield from _sync_patches
    for patches in list(_aio_patches.values()):
        yield from patches


def ensure_patches() -> None:
    """Check that every patch is in place, re-installing what another library unwrapped; note
    the aiobotocore loaded now, if any (looked up, never imported)."""
    with _lock:
        if not _sync_patches:
            base = botocore.client.BaseClient
            _sync_patches.extend([Patch(base, "__init__", _client_init),
                                  Patch(base, "_make_api_call", _make_api_call),
                                  Patch(base, "_emit_api_params", first_sight),
                                  *retries.patches()])
        module = sys.modules.get("aiobotocore.client")
        base_class = getattr(module, "AioBaseClient", None) if module is not None else None
        if isinstance(base_class, type):
            _note_aio_base(base_class)
        for patch in _all_patches():
            patch.ensure()


def _release() -> None:
    for client in list(_hooked):
        if not _inflight.get(client):
            _unhook_client(client)
    for patch in _all_patches():
        patch.remove()
    retries.reset()


def _note_aio_base(base_class: type) -> None:
    if base_class not in _aio_patches:
        from . import aio

        _aio_patches[base_class] = aio.patches(base_class)


def _aio_base(cls: type) -> type | None:
    """The aiobotocore ``AioBaseClient`` a client class derives from (whatever copy of
    aiobotocore created it), or None for a botocore client."""
    for klass in cls.__mro__:
        if klass.__name__ == "AioBaseClient" and klass.__module__.startswith("aiobotocore."):
            return klass
    return None


# -- the patches' wrappers ---------------------------------------------------------------------

def _client_init(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> None:
    wrapped(*args, **kwargs)
    if _active:
        ensure_hooked(instance)


def first_sight(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """``_emit_api_params`` (it emits ``before-parameter-build``): reaches a client created
    before the stub started even when another library unwrapped ``_make_api_call``'s patch
    during this stub (repaired at the next start)."""
    if _active and instance.__dict__.get(_CLIENT_ATTR) is not _generation:
        ensure_hooked(instance)
    return wrapped(*args, **kwargs)


def _make_api_call(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    state = instance.__dict__
    if _active and state.get(_CLIENT_ATTR) is not _generation:
        ensure_hooked(instance)
    if _HOOKED_ATTR not in state:
        return wrapped(*args, **kwargs)
    call, token = enter_call(instance)
    try:
        return wrapped(*args, **kwargs)
    finally:
        exit_call(call, token)


def ensure_hooked(client: Any) -> None:
    """Install the per-client handlers once per client and stub generation (first sight of a
    client: the patches are checked too)."""
    with _lock:
        if client.__dict__.get(_CLIENT_ATTR) is _generation or not _active:
            return
        ensure_patches()
        if is_hooked(client.meta.service_model.service_name):
            aio_base = _aio_base(type(client))
            if aio_base is None:
                _hook_client(client, _answerer)
                retries.patch_endpoint(client._endpoint)
            else:
                from . import aio

                _note_aio_base(aio_base)
                for patch in _aio_patches[aio_base]:
                    patch.ensure()
                _hook_client(client, aio.answerer)
                aio.patch_endpoint(client._endpoint)
        client.__dict__[_CLIENT_ATTR] = _generation


# A client's handlers, made once: hooking it again in a later stub registers the same ones.
_made: weakref.WeakKeyDictionary[Any, list[Registration]] = weakref.WeakKeyDictionary()


def _hook_client(client: Any, make_answerer: AnswererFactory) -> None:
    events = client.meta.events
    made = _made.get(client)
    if made is None:
        made = registrations(client, make_answerer)
        for event, handler, unique_id, first in made:  # botocore checks each handler here
            if first:
                events.register_first(event, handler, unique_id=unique_id)
            else:
                events.register(event, handler, unique_id=unique_id)
        _made[client] = made
    else:
        _register_again(events, made)
    client.__dict__[_HOOKED_ATTR] = True
    _hooked.add(client)


def _register_again(events: Any, made: list[Registration]) -> None:
    """Register handlers botocore has already checked, without checking them again (its check
    inspects each handler's signature: most of the cost of hooking a client per test)."""
    emitter = getattr(events, "_emitter", None)
    alias = getattr(events, "_alias_event_name", None)
    register = getattr(emitter, "_register", None)
    register_first = getattr(emitter, "_register_first", None)
    for event, handler, unique_id, first in made:
        if alias is None or register is None or register_first is None:
            (events.register_first if first else events.register)(
                event, handler, unique_id=unique_id)
        else:
            (register_first if first else register)(alias(event), handler, unique_id, False)


def _unhook_client(client: Any) -> None:
    retries.unpatch_endpoint(client._endpoint)
    events = client.meta.events
    client.__dict__.pop(_HOOKED_ATTR, None)
    for event, _, unique_id, _ in _made.get(client, ()):
        events.unregister(event, unique_id=unique_id)
    client.__dict__.pop(_CLIENT_ATTR, None)
    _hooked.discard(client)


# -- the handlers ----------------------------------------------------------------------------

def _decider(client: Any) -> Callable[..., None]:
    owner = weakref.ref(client)

    def decide(params: dict[str, Any], context: dict[str, Any], event_name: str = "",
               **_: Any) -> None:
        """Take the call (answer or refuse it: not signed, retries instant) unless it is let
        through (passthrough, moto)."""
        service = current()
        if service is None or dispatch.lets_through(
                service, operation_of(event_name), dispatch.function_name_of(params)):
            return
        call = _call.get()
        with _lock:
            if service not in _active:
                return  # stopped meanwhile: not taken
            context[_CONTEXT_KEY] = service
            if call is not None and call.service is None and call.client is owner():
                call.service = service
                _inflight[call.client] = _inflight.get(call.client, 0) + 1

    return decide


def _choose_signer(context: dict[str, Any] | None = None, **_: Any) -> Any:
    # A call the stub took is never signed, even if the stub stopped since it took it.
    if context is not None and context.get(_CONTEXT_KEY) is not None:
        return botocore.UNSIGNED
    return None


def claim(client: Any, request: Any, operation: str) -> tuple[LambdaService, bool] | None:
    """The service that answers this HTTP request, and whether the stub took the call before
    (``before-parameter-build``); None lets it go on. A taken call whose stub has stopped since
    fails with :class:`StubStoppedError`. Runs on the caller's thread (or event loop)."""
    call = _call.get()
    taken = call.service if call is not None and call.client is client else None
    if taken is not None:
        if taken not in _active:
            raise StubStoppedError(operation=operation, function=_function_of(request))
        return taken, True
    found = current()
    return (found, False) if found is not None else None


def answer_request(service: LambdaService, taken: bool, request: Any, operation: str,
                   region: str, read_timeout: float) -> tuple[str, Answer] | None:
    """The original URL and the answer to an HTTP request (shared by the sync and the
    aiobotocore answerers); None lets it go on. Raises ``errors.TransportFault`` for a scripted
    network fault and ``errors.NotEmulatedError`` for an operation not emulated; a taken call
    is answered or failed, never let go on."""
    url = request.url
    answer = dispatch.answer(service, operation, request.method, url, request.headers,
                             transport._body_bytes(request.body), region, read_timeout)
    if answer is None:
        if taken:
            raise UnansweredError(operation=operation, function=_function_of(request, url))
        return None
    # Make the request unrecognisable to later before-send handlers (moto's mock_aws).
    request.url = transport.ANSWERED_URL
    return url, answer


def _function_of(request: Any, url: str | None = None) -> str:
    """The function a request names (its URL path when it names none), for messages."""
    parts = urlsplit(url or request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    found = dispatch.route(request.method, path)
    name = found[1].get("FunctionName") or found[1].get("ARN") if found is not None else None
    return name or parts.path


def _answerer(client: Any, region: str, read_timeout: float) -> Callable[..., Any]:
    owner = weakref.ref(client)

    def before_send(request: Any, event_name: str = "", **_: Any) -> Any:
        operation = operation_of(event_name)
        claimed = claim(owner(), request, operation)
        if claimed is None:
            return None
        url = request.url
        try:
            answered = answer_request(*claimed, request, operation, region, read_timeout)
        except errors.TransportFault as fault:
            raise transport.fault(fault.name, url) from None
        if answered is None:
            return None
        retries.answered_on_this_thread()
        return transport.to_response(*answered)

    return before_send
