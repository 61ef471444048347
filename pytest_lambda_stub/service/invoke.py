"""One request in, one answer out: the Invoke family as the Lambda service answers it.

The order of checks: request validation (name, qualifier, enums), other-region ARNs, qualifier
conflict, payload size, function/version/alias lookup, scripted failures, payload and
ClientContext content, DryRun, then queueing the event (``Event``) or recursion, throttling
and running.
"""

from __future__ import annotations

from . import errors, execution, payloads
from .api.common import note_undeclared
from .api.versions import route_alias
from .events import PendingEvent
from .names import (
    function_arn,
    qualifier_is_valid,
    try_parse_function_name,
    validation_message,
    validation_messages,
)
from .state import LambdaService, new_request_id, next_arrival
from .wire import Answer, Request

INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
STREAMING_INVOCATION_TYPES = ("RequestResponse", "DryRun")
LOG_TYPES = ("None", "Tail")


def _enum_problem(member: str, value: str, allowed: tuple[str, ...]) -> str:
    return (f"Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(allowed)}]")


def handle(service: LambdaService, request: Request) -> Answer:
    """Answer one request; raises ``TransportFault`` for a scripted network fault."""
    request_id = new_request_id()
    invocation_type = ("Event" if request.operation == "InvokeAsync"
                       else request.header("x-amz-invocation-type") or "RequestResponse")
    try:
        return _handle(service, request, request_id, invocation_type)
    except errors.ServiceError as error:
        status, headers, body = error.wire()
        if error.raw is None:
            headers["x-amzn-RequestId"] = request_id
        return Answer(status, headers, body)


def _handle(service: LambdaService, request: Request, request_id: str,
            invocation_type: str) -> Answer:
    ref = try_parse_function_name(request.function_name)
    problems: list[str] = []
    limits = service.name_limits
    if ref is None or not qualifier_is_valid(request.qualifier) \
            or not limits.allows(request.function_name, request.qualifier):
        problems = validation_messages(request.function_name, request.qualifier, limits)
    if request.operation != "InvokeAsync":
        allowed = (STREAMING_INVOCATION_TYPES if request.operation == "InvokeWithResponseStream"
                   else INVOCATION_TYPES)
        if invocation_type not in allowed:
            problems.append(_enum_problem("invocationType", invocation_type, allowed))
        log_type = request.header("x-amz-log-type")
        if log_type is not None and log_type not in LOG_TYPES:
            problems.append(_enum_problem("logType", log_type, LOG_TYPES))
    if problems:
        _refuse(service, request, request_id, invocation_type, errors.validation(
            validation_message(problems)))
    assert ref is not None
    if ref.region is not None and ref.region != request.region:
        _refuse(service, request, request_id, invocation_type, errors.not_found(
            f"Functions from '{ref.region}' are not reachable in this region "
            f"('{request.region}')"), name=ref.name)
    if ref.qualifier is not None and request.qualifier is not None \
            and ref.qualifier != request.qualifier:
        _refuse(service, request, request_id, invocation_type, errors.invalid_parameter(
            "The derived qualifier from the function name does not match the specified "
            "qualifier."), name=ref.name)
    qualifier = request.qualifier if request.qualifier is not None else ref.qualifier
    try:
        payloads.check_size(request.payload, invocation_type)
    except errors.ServiceError as error:
        _refuse(service, request, request_id, invocation_type, error, name=ref.name,
                qualifier=qualifier,
                function=service.lookup(ref.name, request.region, ref.account))

    function = service.lookup(ref.name, request.region, ref.account)
    version = function.resolve_qualifier(qualifier) if function is not None else None
    if function is None or version is None:
        account = ref.account or (function.account_id if function else service.options.account_id)
        missing = function_arn(request.region, account, ref.name, qualifier or "$LATEST")
        if function is None:
            note_undeclared(service, ref.name, request.region, request.operation)
        _refuse(service, request, request_id, invocation_type,
                errors.not_found(f"Function not found: {missing}"), name=ref.name,
                qualifier=qualifier, function=function)
    assert function is not None and version is not None
    version = route_alias(service, function, qualifier, version)

    failure = function.take_failure(request.attempt)
    if failure is not None:
        if failure.code in errors.TRANSPORT_FAULTS:
            service.record(execution.refused_record(
                service, function_name=function.name, qualifier=qualifier,
                invocation_type=invocation_type, payload=request.payload,
                request_id=request_id, region=request.region, error=failure.code, status=0,
                attempt=request.attempt, invocation_id=request.invocation_id,
                operation=request.operation), function)
            raise errors.TransportFault(failure.code)
        arn = function_arn(function.region or request.region, function.account_id,
                           function.name, qualifier)
        _refuse(service, request, request_id, invocation_type,
                errors.service_error(failure.code, failure.fields, resource=arn),
                name=function.name, qualifier=qualifier, function=function)

    try:
        event = payloads.decode_payload(request.payload)
        client_context = None
        if invocation_type != "Event":
            client_context = payloads.decode_client_context(
                request.header("x-amz-client-context"))
    except errors.ServiceError as error:
        _refuse(service, request, request_id, invocation_type, error, name=function.name,
                qualifier=qualifier, function=function)

    call = execution.Call(
        function=function, version=version, qualifier=qualifier,
        invocation_type=invocation_type, event=event, payload=request.payload,
        request_id=request_id, region=request.region, client_context=client_context,
        attempt=request.attempt, invocation_id=request.invocation_id,
        chain=execution.request_chain(service, request.header("x-amzn-trace-id")),
        log_type=request.header("x-amz-log-type"),
        trace_header=request.header("x-amzn-trace-id"),
        streaming=request.operation == "InvokeWithResponseStream",
        operation=request.operation, read_timeout=request.read_timeout,
    )
    if invocation_type == "DryRun":
        service.record(execution.refused_record(
            service, function_name=function.name, qualifier=qualifier,
            invocation_type="DryRun", payload=request.payload, request_id=request_id,
            region=request.region, error=None, status=204, attempt=request.attempt,
            invocation_id=request.invocation_id, operation=request.operation, event=event,
        ), function)
        return Answer(204, {"x-amzn-RequestId": request_id})

    if invocation_type == "Event":
        # Accepted even in a recursive loop: Lambda stops the delivery instead and sends the
        # event to the dead-letter queue / on-failure destination (``events.EventQueue``).
        service.events.submit(PendingEvent.create(service, call))
        if request.operation == "InvokeAsync":
            return Answer(202, {"x-amzn-RequestId": request_id,
                                "Content-Type": "application/json"}, b'{"Status": 202}')
        return Answer(202, {"x-amzn-RequestId": request_id})

    try:
        execution.check_recursion(function, call.chain)
    except errors.ServiceError as error:
        _refuse(service, request, request_id, invocation_type, error, name=function.name,
                qualifier=qualifier, function=function)

    try:
        execution.acquire_concurrency(service, function)
    except errors.ServiceError as error:
        _refuse(service, request, request_id, invocation_type, error, name=function.name,
                qualifier=qualifier, function=function)
    if call.streaming and request.stream is not None:
        # Answered as it comes: the status and headers now, each chunk as the handler yields it.
        # The client may send its next request before this run starts: this one arrived first.
        call.arrival = next_arrival()
        request.stream.begin(_stream_headers(request_id, version))
        call.on_chunk = request.stream.chunk
    try:
        outcome, invocation = execution.run(service, call)
    finally:
        execution.release_concurrency(service, function)
    service.events.deliver_deferred()  # Event invokes the handler made (immediate mode)

    if invocation.error_code == "ReadTimeoutError":
        # The client stopped waiting: botocore sees a read timeout and retries.
        raise errors.TransportFault("ReadTimeoutError")

    headers = {
        "x-amzn-RequestId": request_id,
        "X-Amz-Executed-Version": version,
    }
    if outcome.function_error:
        headers["X-Amz-Function-Error"] = outcome.function_error
    if request.header("x-amz-log-type") == "Tail":
        from ..runtime.logs import tail

        headers["X-Amz-Log-Result"] = tail(outcome.log)
    if call.streaming:
        complete: dict[str, str] = {}
        if outcome.function_error:
            complete["ErrorCode"] = outcome.function_error
            complete["ErrorDetails"] = outcome.body.decode("utf-8")
        if "X-Amz-Log-Result" in headers:
            complete["LogResult"] = headers.pop("X-Amz-Log-Result")
        chunks = outcome.chunks if outcome.chunks is not None else (
            [] if outcome.function_error else [outcome.body])
        return Answer(200, _stream_headers(request_id, version), chunks=chunks,
                      complete=complete)
    headers["Content-Type"] = "application/json"
    return Answer(200, headers, outcome.body)


def _stream_headers(request_id: str, version: str) -> dict[str, str]:
    """An ``InvokeWithResponseStream`` answer's headers (a function error and the log tail are
    in its ``InvokeComplete`` event): known before the function runs."""
    return {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": version,
            "Content-Type": "application/vnd.amazon.eventstream"}


def _refuse(service: LambdaService, request: Request, request_id: str, invocation_type: str,
            error: errors.ServiceError, *, name: str | None = None,
            qualifier: str | None = None, function: object = None) -> None:
    """Record a request answered with a service error, and raise that error."""
    from ..functions import FakeFunction

    service.record(execution.refused_record(
        service, function_name=name or request.function_name,
        qualifier=qualifier if name else request.qualifier, invocation_type=invocation_type,
        payload=request.payload, request_id=request_id, region=request.region, error=error,
        status=error.status, attempt=request.attempt, invocation_id=request.invocation_id,
        operation=request.operation, log_type=request.header("x-amz-log-type"),
    ), function if isinstance(function, FakeFunction) else None)
    raise error

