"""Running one handler as Lambda's Python runtime would: on a worker thread, with its log
captured, its environment set, its result marshalled, its failures turned into error payloads,
and its timeout enforced without the caller waiting for an overrunning handler."""

from __future__ import annotations

import dataclasses
import decimal
import inspect
import json
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from . import environment
from . import handlers as _handlers
from . import logs as _logs
from .chunks import ChunkStream
from .context import LambdaContext
from .raw import RawPayload
from .simulated import simulated_seconds
from .workers import POOL, Interrupted, Job

RESPONSE_LIMIT = 6291556
_running = threading.local()  # the deadline of the run on this worker thread


def current_chain() -> tuple[str, ...]:
    """The functions whose handlers are running for this thread (outermost first): on the
    thread running a handler and on the threads it started, while that handler runs."""
    view = environment.current_view()
    if view is None or not view.active:
        return ()
    return view.chain


@dataclasses.dataclass(slots=True)
class RunSpec:
    """Everything needed to run one handler once."""

    handler: _handlers.HandlerRef
    event: Any
    context: LambdaContext
    timeout: float
    memory_size: int
    version: str
    view: environment.View | None = None  # the invocation's environment (and chain)
    simulated_duration: Callable[[Any], float] | float | None = None
    streaming: bool = False
    on_chunk: Callable[[bytes], None] | None = None  # each streamed chunk, as it is yielded


@dataclasses.dataclass(slots=True)
class RunOutcome:
    """What the runtime answers: the response body, the function error if any, and the log."""

    body: bytes
    function_error: str | None
    error_type: str | None
    log: str
    duration: float
    timed_out: bool = False
    chunks: list[bytes] | None = None
    simulated: bool = False


_DECIMAL = f"\x00decimal-{os.getpid()}-{id(object())}:"  # marks a Decimal's text in the JSON
_DECIMAL_JSON = re.compile(re.escape(json.dumps(_DECIMAL)[:-1]) + r'([^"\\]*)\\u0000"')


class _Encoder(json.JSONEncoder):
    # The runtime writes a Decimal (as DynamoDB returns numbers) as its exact text, a JSON
    # number (NaN as NaN): awslambdaric/lambda_runtime_marshaller.py.
    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            return f"{_DECIMAL}{o}\x00"
        return super().default(o)


# The runtime's encoder keeps non-ASCII characters as they are from python3.12 on (escapes them
# before).
_encode = _Encoder(ensure_ascii=sys.version_info < (3, 12)).encode


def marshal(result: Any) -> bytes:
    """The response body: ``bytes`` as they are (the runtime posts them unchanged), anything
    else as JSON; ``ValueError`` when it cannot be (the runtime's ``Runtime.MarshalError``),
    including a result nested too deeply to encode."""
    if result is None:
        return b"null"
    if isinstance(result, RawPayload):
        return result.data
    if isinstance(result, bytes):
        return result
    text = _encode_deep(result)
    if _DECIMAL[1:] in text:
        text = _DECIMAL_JSON.sub(r"\1", text)
    return text.encode("utf-8")


def _encode_deep(result: Any) -> str:
    try:
        return _encode(result)
    except RecursionError:
        pass
    # The runtime encodes from a shallow stack; here a test's stack sits below the handler. Give
    # the encoder the room it would have there (the limit is process-wide: raise it, briefly).
    with _deep_lock:
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(previous + _stack_depth())
        try:
            return _encode(result)
        except RecursionError as exc:
            raise ValueError(str(exc)) from None
        finally:
            sys.setrecursionlimit(previous)


_deep_lock = threading.Lock()


def _stack_depth() -> int:
    depth = 0
    frame: Any = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


@dataclasses.dataclass(slots=True)
class _Raw:
    body: bytes
    function_error: str | None
    error_payload: dict[str, Any] | None
    log: str
    elapsed: float
    chunks: list[bytes] | None
    interrupted: bool = False


def _call_handler(spec: RunSpec, streamed: ChunkStream | None) -> tuple[Any, bool]:
    """Call the handler; a generator's items go to ``streamed`` as they come (when streaming),
    so the chunks sent before a failure are kept. Returns (result, whether it streamed)."""
    handler = spec.handler.resolve()
    result = handler(spec.event, spec.context)
    if streamed is not None and inspect.isgenerator(result):
        for item in result:
            streamed.add(_chunk(item))
        return None, True
    return result, False


def _run_here(spec: RunSpec, buffer: _logs.LogBuffer | None = None,
              stream: ChunkStream | None = None) -> _Raw:
    """Run on the current thread with the log captured and the invocation's environment in
    ``os.environ``. ``buffer`` lets a caller on another thread read what was printed if it
    stops waiting. Whatever the handler raises ends here: an ``Exception`` is a function error,
    anything else (``KeyboardInterrupt``, ``GeneratorExit``, ``SystemExit``...) ends Lambda's
    runtime process: ``Runtime.ExitError`` (``Interrupted``, the deadline, excepted).
    ``stream`` (streaming calls only) takes a generator handler's chunks."""
    request_id = spec.context.aws_request_id
    if buffer is None:
        buffer = _logs.LogBuffer(request_id)
    previous = _logs.set_buffer(buffer)
    _logs.route_current_streams()
    view = spec.view
    previous_view = environment.set_view(view) if view is not None else None
    error_payload: dict[str, Any] | None = None
    streaming = False
    body = b""
    raw_error: str | None = None  # a RawPayload's function error
    started = time.perf_counter()
    interrupted = False
    try:
        try:
            result, streaming = _call_handler(spec, stream)
            if streaming:
                assert stream is not None
                body = b"".join(stream.chunks)
            else:
                if inspect.iscoroutine(result):
                    result.close()  # never awaited, as on Lambda
                try:
                    body = marshal(result)
                    if isinstance(result, RawPayload):
                        raw_error = result.function_error
                except (TypeError, ValueError) as exc:
                    error_payload = _handlers.marshal_payload(request_id, str(exc))
        except Interrupted:
            interrupted = True
        except _handlers.InitError as exc:
            error_payload = exc.payload
        except Exception as exc:
            try:
                error_payload = _handlers.exception_payload(exc, request_id)
            except Exception:  # its str() raised: on Lambda the runtime itself fails
                error_payload, printed = _handlers.runtime_exit(request_id, exc)
                buffer.parts.append(printed)
        except BaseException as exc:  # the runtime catches Exception only
            error_payload, printed = _handlers.runtime_exit(request_id, exc)
            buffer.parts.append(printed)
    finally:
        elapsed = time.perf_counter() - started
        if view is not None:
            view.active = False
            environment.set_view(previous_view)
        _logs.set_buffer(previous)
    chunks = stream.close() if stream is not None and (streaming or stream.chunks) else None
    if interrupted:
        return _Raw(b"", None, None, buffer.text(), elapsed, None, interrupted=True)
    if error_payload is None and len(body) > RESPONSE_LIMIT:
        error_payload = _handlers.response_too_large_payload(RESPONSE_LIMIT)
    if error_payload is not None:
        buffer.parts.append(_logs.function_error_lines(error_payload))
        body = json.dumps(error_payload).encode()
        return _Raw(body, "Unhandled", error_payload, buffer.text(), elapsed, chunks)
    return _Raw(body, raw_error, None, buffer.text(), elapsed, chunks)


def _chunk(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return marshal(item)


def execute(spec: RunSpec, *, init_duration: float | None = None,
            on_late: Callable[[Any], None] | None = None,
            on_abandoned: Callable[[RunOutcome], None] | None = None) -> RunOutcome:
    """Run the handler on a worker thread, wait for it until its deadline, and build the
    complete log around it.

    The caller never runs the handler itself, on the main thread or any other: a handler that
    catches ``BaseException`` or sits in a long C call cannot hold the caller past its deadline.
    An overrun answers ``Sandbox.Timedout`` at the deadline; the handler's late result goes to
    ``on_late``. A nested invoke (from inside a handler) waits no longer than the handler making
    it may run: when that one's deadline comes first, its thread gets ``Interrupted`` (its own
    caller already has its timeout), and the nested run, once finished, is passed whole to
    ``on_abandoned`` (to be recorded) and its result to ``on_late``.
    """
    request_id = spec.context.aws_request_id
    simulated: float | None = None
    if spec.simulated_duration is not None:
        simulated = simulated_seconds(spec.simulated_duration, spec.event,
                                      spec.context.function_name, request_id)
    now = time.perf_counter()
    # With a simulated duration the handler's real duration does not count: wait for it.
    deadline = None if simulated is not None else now + spec.timeout
    enclosing: float | None = getattr(_running, "deadline", None)
    cut = enclosing is not None and (deadline is None or enclosing < deadline)
    until = enclosing if cut else deadline
    buffer = _logs.LogBuffer(request_id)
    stream = ChunkStream(spec.on_chunk) if spec.streaming else None
    job = POOL.submit(lambda: _run_on_worker(spec, buffer, deadline, stream))
    if on_late is not None or (cut and on_abandoned is not None):
        job.on_late = lambda late: _late(late, spec, simulated, init_duration, on_late,
                                         on_abandoned if cut else None, stream)
    raw: _Raw | None
    printed = ""  # what an overrunning handler printed before its deadline
    if not job.wait(None if until is None else until - now):
        if cut:
            raise Interrupted()  # the handler waiting here is past its own deadline
        raw = None
        printed = "".join(list(buffer.parts))
    elif job.error is not None:  # not an Exception: KeyboardInterrupt and the like
        raise job.error
    else:
        raw = job.result
        if raw is not None and raw.interrupted:
            printed, raw = raw.log, None
    return _outcome(spec, raw, printed, simulated, init_duration, stream)


def _run_on_worker(spec: RunSpec, buffer: _logs.LogBuffer, deadline: float | None,
                   stream: ChunkStream | None) -> _Raw:
    """Run on a worker, with this run's deadline known to invokes the handler makes."""
    _running.deadline = deadline
    try:
        return _run_here(spec, buffer=buffer, stream=stream)
    finally:
        _running.deadline = None


def _outcome(spec: RunSpec, raw: _Raw | None, printed: str, simulated: float | None,
             init_duration: float | None, stream: ChunkStream | None) -> RunOutcome:
    request_id = spec.context.aws_request_id
    head = _logs.start_line(request_id, spec.version)
    if raw is None or (simulated is not None and simulated > spec.timeout):
        if raw is not None:
            printed = raw.log
        log = head + printed + _logs.timeout_line(request_id, spec.timeout) + _logs.end_lines(
            request_id, spec.timeout, spec.memory_size, init_duration, status="timeout")
        payload = _handlers.timeout_payload(request_id, spec.timeout)
        # The chunks streamed before the deadline were sent; an abandoned handler sends no more.
        streamed = stream.close() if stream is not None else None
        return RunOutcome(json.dumps(payload).encode(), "Unhandled", "Sandbox.Timedout", log,
                          spec.timeout, timed_out=True, chunks=streamed or None,
                          simulated=simulated is not None)
    duration = simulated if simulated is not None else raw.elapsed
    log = head + raw.log + _logs.end_lines(request_id, duration, spec.memory_size, init_duration)
    error_type = raw.error_payload.get("errorType") if raw.error_payload else None
    return RunOutcome(raw.body, raw.function_error, error_type, log, duration,
                      chunks=raw.chunks, simulated=simulated is not None)


def _late(job: Job, spec: RunSpec, simulated: float | None, init_duration: float | None,
          on_late: Callable[[Any], None] | None,
          on_abandoned: Callable[[RunOutcome], None] | None,
          stream: ChunkStream | None) -> None:
    """A run whose caller stopped waiting has finished (on its worker thread)."""
    raw = job.result
    stopped = isinstance(raw, _Raw) and raw.interrupted  # stopped at its deadline: no result
    if on_abandoned is not None and isinstance(raw, _Raw):
        on_abandoned(_outcome(spec, None if stopped else raw, raw.log if stopped else "",
                              simulated, init_duration, stream))
    if on_late is not None and not stopped:
        on_late(_late_value(job))


def _late_value(job: Job) -> Any:
    raw = job.result
    if isinstance(raw, _Raw):
        return raw.error_payload if raw.error_payload is not None else raw.body
    return job.error
