"""Running one version of a declared function for the service: concurrency limits, recursive
loop detection, scripted timeouts, and the invocation record. Shared by synchronous requests and
asynchronous deliveries."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

from ..functions import FakeFunction, LateResult
from ..records import Invocation
from ..runtime import logs
from ..runtime.context import LambdaContext
from ..runtime.execute import RunOutcome, RunSpec, execute
from ..runtime.handlers import timeout_payload
from . import errors
from .names import function_arn
from .state import LambdaService

RECURSION_LIMIT = 16


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
    function = call.function
    started_at = datetime.datetime.fromtimestamp(service.clock.now(), datetime.timezone.utc)
    arn_region = function.region or call.region
    invoked_arn = function_arn(arn_region, function.account_id, function.name, call.qualifier)
    context = LambdaContext(
        function_name=function.name,
        function_version=call.version,
        invoked_function_arn=invoked_arn,
        memory_limit_in_mb=function.memory_size,
        aws_request_id=call.request_id,
        timeout=function.timeout,
        client_context=call.client_context,
        log_stream_name=function.log_stream(call.version),
    )
    if function.take_timeout():
        outcome = _scripted_timeout(call, function)
        ran = False
    else:
        handler = function.versions[call.version]
        init = 0.0 if function.first_run(call.version) else None
        spec = RunSpec(handler, call.event, context, function.timeout, function.memory_size,
                       call.version, function.environment, function.simulated_duration,
                       call.streaming, (*call.chain, function.name))
        outcome = execute(spec, init_duration=init,
                          on_late=lambda value: function.late_results.append(
                              LateResult(call.request_id, value)),
                          # A nested run its caller's deadline cut short: recorded once done.
                          on_abandoned=lambda done: service.record(
                              make_record(call, done, started_at, ran=True), function))
        ran = True
    # Only a caller waiting for the answer can stop waiting: for ``Event`` deliveries (the
    # caller already has its 202) only the function's own timeout applies.
    cut_off = (call.invocation_type != "Event" and call.read_timeout is not None
               and outcome.simulated and outcome.duration > call.read_timeout)
    invocation = make_record(call, outcome, started_at, ran=ran,
                             error_code="ReadTimeoutError" if cut_off else None)
    service.record(invocation, function)
    return outcome, invocation


def _scripted_timeout(call: Call, function: FakeFunction) -> RunOutcome:
    log = (logs.start_line(call.request_id, call.version)
           + logs.timeout_line(call.request_id, function.timeout)
           + logs.end_lines(call.request_id, function.timeout, function.memory_size,
                            status="timeout"))
    body = json.dumps(timeout_payload(call.request_id, function.timeout)).encode()
    return RunOutcome(body, "Unhandled", "Sandbox.Timedout", log, function.timeout,
                      timed_out=True)


def _streamed_chunks(call: Call, outcome: RunOutcome) -> tuple[bytes, ...] | None:
    """The PayloadChunks an InvokeWithResponseStream answer sends (None for other calls)."""
    if outcome.chunks is not None:
        return tuple(outcome.chunks)
    if not call.streaming:
        return None
    return () if outcome.function_error else (outcome.body,)


def make_record(call: Call, outcome: RunOutcome, started_at: datetime.datetime, *, ran: bool,
                error_code: str | None = None) -> Invocation:
    return Invocation._fast(
        call.function.name, call.qualifier, call.version, call.invocation_type, call.event,
        call.payload, call.client_context, call.request_id, call.status_code,
        outcome.function_error, outcome.body, outcome.log, started_at, outcome.duration, ran,
        error_code, outcome.error_type, call.attempt, call.invocation_id, call.region,
        call.operation, _streamed_chunks(call, outcome),
    )


def refused_record(service: LambdaService, *, function_name: str, qualifier: str | None,
                   invocation_type: str, payload: bytes, request_id: str, region: str,
                   error: errors.ServiceError | str | None, status: int, attempt: int,
                   invocation_id: str | None, operation: str,
                   event: Any = None) -> Invocation:
    """The record of a request answered without running the handler."""
    code = error.code if isinstance(error, errors.ServiceError) else error
    return Invocation(
        function_name=function_name, qualifier=qualifier, executed_version=None,
        invocation_type=invocation_type, event=event, payload=payload, client_context=None,
        request_id=request_id, status_code=status, function_error=None, response_payload=b"",
        log="",
        started_at=datetime.datetime.fromtimestamp(service.clock.now(), datetime.timezone.utc),
        duration=0.0, ran=False, error_code=code, attempt=attempt,
        invocation_id=invocation_id, region=region, operation=operation,
    )
