"""Running one version of a declared function for the service: concurrency limits, recursive
loop detection, scripted timeouts, and the invocation record. Shared by synchronous requests and
asynchronous deliveries."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..functions import FakeFunction, LateResult
from ..records import Invocation
from ..runtime import environment, logs
from ..runtime.context import LambdaContext
from ..runtime.execute import RunOutcome, RunSpec, current_chain, execute
from ..runtime.handlers import HandlerRef, timeout_payload
from ..runtime.init import initialize
from . import errors
from . import source as request_source
from .api.model import settings_for
from .names import function_arn
from .state import LambdaService, next_arrival

RECURSION_LIMIT = 16
EXECUTION_ENV = f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}"
RUNTIME_DIR = os.path.dirname(os.path.abspath(environment.__file__))


@dataclasses.dataclass(slots=True)
class Call:
    """One run of a function's version, as the service asks for it."""

    function: FakeFunction
    version: str
    qualifier: str | None
    invocation_type: str
    event: Any
    payload: bytes
    request_id: str
    region: str
    client_context: dict[str, Any] | None = None
    attempt: int = 1
    invocation_id: str | None = None
    chain: tuple[str, ...] = ()
    streaming: bool = False
    operation: str = "Invoke"
    status_code: int = 200
    read_timeout: float | None = None  # the calling client's, for synchronous calls
    log_type: str | None = None  # the request's LogType
    trace_header: str | None = None  # the request's X-Amzn-Trace-Id (a caller on Lambda)
    arrival: int | None = None  # taken early when the answer starts before the run
    source: str = dataclasses.field(default_factory=request_source.current)  # the request's path
    on_chunk: Callable[[bytes], None] | None = None  # streamed chunks, as they are yielded


def request_chain(service: LambdaService, trace_header: str | None) -> tuple[str, ...]:
    """The chain of functions a request comes from: the invocation whose trace header it
    carries (botocore adds ``X-Amzn-Trace-Id`` from a handler's environment, on its thread and
    the threads it starts), else the handler running on this thread, else none."""
    if trace_header:
        parent = _trace_field(trace_header, "Parent")
        if parent is not None:
            chain = service.trace_chains.get(parent)
            if chain is not None:
                return chain
    return current_chain()


def _trace_field(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def new_trace(service: LambdaService, incoming: str | None, chain: tuple[str, ...]) -> str:
    """An X-Ray trace header for one invocation: the caller's ``Root`` kept (as Lambda does),
    a new ``Parent`` segment; remembered with the invocation's chain."""
    bits = f"{service.trace_random.getrandbits(160):040x}"
    parent = bits[:16]
    service.trace_chains[parent] = chain
    if not incoming:
        return f"Root=1-{int(time.time()):08x}-{bits[16:]};Parent={parent};Sampled=0"
    root = _trace_field(incoming, "Root") or f"1-{int(time.time()):08x}-{bits[16:]}"
    sampled = _trace_field(incoming, "Sampled") or "0"
    return f"Root={root};Parent={parent};Sampled={sampled}"


def runtime_variables(function: FakeFunction, ref: HandlerRef, version: str, region: str,
                      log_stream: str, memory_size: int,
                      declared: Mapping[str, str] | None) -> dict[str, str]:
    """The variables Lambda's runtime defines for an execution environment, over the
    version's own environment (``environment=``; reserved names cannot be declared there)."""
    values = dict(declared or {})
    values.update({
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": EXECUTION_ENV,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": ref.setting,
        "LAMBDA_TASK_ROOT": ref.code_root or os.getcwd(),
        "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        "TZ": ":UTC",
    })
    return values


def check_recursion(function: FakeFunction, chain: tuple[str, ...]) -> None:
    if function.recursive_loop == "Terminate" and chain.count(function.name) >= RECURSION_LIMIT:
        raise errors.recursion()


def acquire_concurrency(service: LambdaService, function: FakeFunction) -> None:
    """Count one more running execution, or raise the throttle AWS would answer."""
    with service.lock:
        limit = function.reserved_concurrency
        if limit is not None and function.running >= limit:
            raise errors.throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        if service.account_running >= service.options.account_concurrency:
            raise errors.throttled("ConcurrentInvocationLimitExceeded")
        function.running += 1
        service.account_running += 1


def release_concurrency(service: LambdaService, function: FakeFunction) -> None:
    with service.lock:
        function.running -= 1
        service.account_running -= 1
        service.capacity.notify_all()


def run(service: LambdaService, call: Call) -> tuple[RunOutcome, Invocation]:
    """Run the handler (concurrency already acquired by the caller) and record it."""
    arrival = call.arrival if call.arrival is not None else next_arrival()
    function = call.function
    started_at = datetime.datetime.fromtimestamp(service.clock.now(), datetime.timezone.utc)
    arn_region = function.region or call.region
    invoked_arn = function_arn(arn_region, function.account_id, function.name, call.qualifier)
    # A version published through the API runs with its frozen configuration.
    timeout, memory_size, declared_environment = settings_for(service, function, call.version)
    log_stream = function.log_stream(call.version)
    context = LambdaContext(
        function_name=function.name,
        function_version=call.version,
        invoked_function_arn=invoked_arn,
        memory_limit_in_mb=memory_size,
        aws_request_id=call.request_id,
        timeout=timeout,
        client_context=call.client_context,
        log_stream_name=log_stream,
    )
    chain = (*call.chain, function.name)
    trace = new_trace(service, call.trace_header, chain)
    init_log = ""
    if function.take_timeout():
        outcome = _scripted_timeout(call, timeout, memory_size)
        ran = False
    else:
        ref = function.versions[call.version]
        cold = function.first_run(call.version)
        variables = ref.variables
        if cold or variables is None:
            variables = ref.variables = environment.Variables(runtime_variables(
                function, ref, call.version, arn_region, log_stream, memory_size,
                declared_environment))
        view = environment.View(variables, trace, chain)
        init_duration: float | None = None
        failed: RunOutcome | None = None
        if cold:
            fresh, ref.reload = ref.reload, False
            init = initialize(ref, environment.View(variables, None, chain), arn_region,
                              fresh=fresh, request_id=call.request_id)
            init_log, init_duration = init.log, init.init_duration
            if init.error is not None:
                failed = _init_failure(call, function, init.elapsed, init.error)
                _discard_environment(function, ref, call.version, reload=init.exited)
            elif init.init_duration is None and init.elapsed > timeout:
                # Past the init limit Lambda runs the init again in the invoke phase, under the
                # function's timeout: it cannot finish in time.
                failed = _scripted_timeout(call, timeout, memory_size)
                _discard_environment(function, ref, call.version, reload=True)
        if failed is not None:
            outcome = failed
        else:
            spec = RunSpec(ref, call.event, context, timeout, memory_size,
                           call.version, view, function.simulated_duration, call.streaming,
                           call.on_chunk)
            outcome = execute(spec, init_duration=init_duration,
                              on_late=lambda value: function.late_results.append(
                                  LateResult(call.request_id, value)),
                              # A nested run its caller's deadline cut short: recorded once done.
                              on_abandoned=lambda done: service.record(
                                  make_record(call, done, started_at, ran=True, trace=trace,
                                              init_log=init_log), function, arrival))
            if outcome.error_type == "Runtime.ExitError":  # the runtime process ended
                _discard_environment(function, ref, call.version, reload=True)
        ran = True
    # Only a caller waiting for the answer can stop waiting: for ``Event`` deliveries (the
    # caller already has its 202) only the function's own timeout applies.
    cut_off = (call.invocation_type != "Event" and call.read_timeout is not None
               and outcome.simulated and outcome.duration > call.read_timeout)
    invocation = make_record(call, outcome, started_at, ran=ran,
                             error_code="ReadTimeoutError" if cut_off else None, trace=trace,
                             init_log=init_log)
    service.record(invocation, function, arrival)
    return outcome, invocation


def _discard_environment(function: FakeFunction, ref: HandlerRef, version: str, *,
                         reload: bool) -> None:
    """The execution environment is gone: the next invocation is a cold start."""
    function.discard_environment(version)
    if reload:
        ref.reload = True


def _init_failure(call: Call, function: FakeFunction, elapsed: float,
                  payload: dict[str, Any]) -> RunOutcome:
    # Lambda runs a failed init again in the invoke phase: the error shows in its log too.
    log = (logs.start_line(call.request_id, call.version) + logs.function_error_lines(payload)
           + logs.end_lines(call.request_id, elapsed, function.memory_size))
    return RunOutcome(json.dumps(payload).encode(), "Unhandled", payload.get("errorType"), log,
                      elapsed)


def _scripted_timeout(call: Call, timeout: float, memory_size: int) -> RunOutcome:
    log = (logs.start_line(call.request_id, call.version)
           + logs.timeout_line(call.request_id, timeout)
           + logs.end_lines(call.request_id, timeout, memory_size, status="timeout"))
    body = json.dumps(timeout_payload(call.request_id, timeout)).encode()
    return RunOutcome(body, "Unhandled", "Sandbox.Timedout", log, timeout, timed_out=True)


def _streamed_chunks(call: Call, outcome: RunOutcome) -> tuple[bytes, ...] | None:
    """The PayloadChunks an InvokeWithResponseStream answer sends (None for other calls)."""
    if outcome.chunks is not None:
        return tuple(outcome.chunks)
    if not call.streaming:
        return None
    return () if outcome.function_error else (outcome.body,)


def make_record(call: Call, outcome: RunOutcome, started_at: datetime.datetime, *, ran: bool,
                error_code: str | None = None, trace: str | None = None,
                init_log: str = "") -> Invocation:
    record = Invocation._fast(
        call.function.name, call.qualifier, call.version, call.invocation_type, call.event,
        call.payload, call.client_context, call.request_id, call.status_code,
        outcome.function_error, outcome.body, outcome.log, started_at, outcome.duration, ran,
        error_code, outcome.error_type, call.attempt, call.invocation_id, call.region,
        call.operation, _streamed_chunks(call, outcome), call.log_type, trace, init_log,
    )
    if call.source != record.source:  # set by name: independent of the fields' order
        object.__setattr__(record, "source", call.source)
    return record


def refused_record(service: LambdaService, *, function_name: str, qualifier: str | None,
                   invocation_type: str, payload: bytes, request_id: str, region: str,
                   error: errors.ServiceError | str | None, status: int, attempt: int,
                   invocation_id: str | None, operation: str,
                   event: Any = None, log_type: str | None = None) -> Invocation:
    """The record of a request answered without running the handler."""
    code = error.code if isinstance(error, errors.ServiceError) else error
    return Invocation(
        function_name=function_name, qualifier=qualifier, executed_version=None,
        invocation_type=invocation_type, event=event, payload=payload, client_context=None,
        request_id=request_id, status_code=status, function_error=None, response_payload=b"",
        log="",
        started_at=datetime.datetime.fromtimestamp(service.clock.now(), datetime.timezone.utc),
        duration=0.0, ran=False, error_code=code, attempt=attempt,
        invocation_id=invocation_id, region=region, operation=operation, log_type=log_type,
        source=request_source.current(),
    )
