"""Where an asynchronous event's outcome goes: on-success / on-failure destinations and the
dead-letter queue, with the record shapes Lambda sends.

A target is a Python callable (receives the record), the name or ARN of a declared function
(invoked asynchronously with the record), or an SQS queue, SNS topic or EventBridge bus ARN.

An SQS, SNS or EventBridge target is sent with a boto3 client in the target's region only where
that cannot reach AWS by accident: while moto's ``mock_aws`` is active (moto answers), or when
the user opted in with the ``send_destinations`` option (then it goes wherever botocore is
configured to send it, with the credentials present). Otherwise the record is kept in
``stub.destinations`` / ``stub.dead_letters`` with ``sent=False`` and nothing is sent. A failure
to send is recorded, never raised into the test.
"""

from __future__ import annotations

import datetime
import json
import threading
from typing import TYPE_CHECKING, Any

from . import moto_mock
from .state import SentRecord, new_request_id

if TYPE_CHECKING:
    from .events import PendingEvent
    from .state import LambdaService

FAILURE_CONDITIONS = ("RetriesExhausted", "EventAgeExceeded", "ZeroReservedConcurrency",
                      "RecursiveInvocation")
AWS_TARGET_KINDS = ("sqs", "sns", "events")


class _Held(Exception):
    """An SQS, SNS or EventBridge target that may not be sent to (no moto, no opt-in)."""


def _aws_route(service: LambdaService) -> moto_mock.MotoMode | str:
    """Where an SQS, SNS or EventBridge record may go: moto's mode, ``"configured"`` (opted in),
    or raise ``_Held``."""
    mode = moto_mock.active_mode()
    if mode is not None:
        return mode
    if service.options.send_destinations:
        return "configured"
    raise _Held()


def destination_record(service: LambdaService, event: PendingEvent, condition: str) -> dict[str, Any]:
    from .events import qualified_arn

    stamp = datetime.datetime.fromtimestamp(service.clock.now(), datetime.timezone.utc)
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": qualified_arn(event),
            "condition": condition,
            "approximateInvokeCount": event.invoke_count,
        },
        "requestPayload": event.call.event,
    }
    if event.last_response is not None:
        status, version, function_error, payload = event.last_response
        context: dict[str, Any] = {"statusCode": status, "executedVersion": version}
        if function_error:
            context["functionError"] = function_error
        record["responseContext"] = context
        record["responsePayload"] = payload
    return record


def finish(service: LambdaService, event: PendingEvent, condition: str) -> None:
    function = event.call.function
    record = destination_record(service, event, condition)
    if condition == "Success":
        if function.on_success is not None:
            _send(service, "on_success", function.on_success, event, record, success=True)
        return
    if function.on_failure is not None:
        _send(service, "on_failure", function.on_failure, event, record, success=False)
    if function.dead_letter is not None:
        _dead_letter(service, function.dead_letter, event, record)


def _note(service: LambdaService, kind: str, target: Any, event: PendingEvent, record: Any,
          error: str | None, sent: bool = True) -> None:
    with service.lock:
        service.sent.append(SentRecord(kind, target, event.function_name, event.request_id,
                                       record, error, sent))


def _send(service: LambdaService, kind: str, target: Any, event: PendingEvent,
          record: dict[str, Any], *, success: bool) -> None:
    error: str | None = None
    sent = True
    try:
        if callable(target):
            target(record)
        else:
            _send_to_arn(service, str(target), event, record, success=success)
    except _Held:
        sent = False
    except BaseException as exc:  # recorded, never raised into the test (KeyboardInterrupt too)
        error = _describe(exc)
    _note(service, kind, target, event, record, error, sent)


def _send_to_arn(service: LambdaService, target: str, event: PendingEvent,
                 record: dict[str, Any], *, success: bool) -> None:
    parts = target.split(":")
    if not target.startswith("arn:"):
        _invoke_function(service, target, event, record)
        return
    kind, region = parts[2], parts[3]
    if kind == "lambda":
        _invoke_function(service, target, event, record)
        return
    route = _aws_route(service) if kind in AWS_TARGET_KINDS else ""
    body = json.dumps(record)
    if kind == "sqs":
        client = _client("sqs", region, route)
        url = client.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody=body)
    elif kind == "sns":
        _client("sns", region, route).publish(TopicArn=target, Message=body)
    elif kind == "events":
        detail_type = ("Lambda Function Invocation Result - Success" if success
                       else "Lambda Function Invocation Result - Failure")
        from .events import qualified_arn

        _client("events", region, route).put_events(Entries=[{
            "Source": "lambda", "DetailType": detail_type, "Detail": body,
            "EventBusName": target, "Resources": [qualified_arn(event)],
        }])
    else:
        raise ValueError(f"unsupported destination {target!r}: use an SQS, SNS, EventBridge or "
                         f"Lambda ARN, a declared function's name, or a callable")


def _invoke_function(service: LambdaService, target: str, event: PendingEvent,
                     record: dict[str, Any]) -> None:
    from .events import PendingEvent as Pending
    from .execution import Call
    from .names import parse_function_name

    if event_condition(record) == "RecursiveInvocation":
        # The event was stopped as a recursive loop: invoking a function with it would go on.
        raise RuntimeError(f"{target!r} not invoked: the event was stopped as a recursive loop "
                           f"(RecursiveInvocationException)")
    ref = parse_function_name(target)
    function = service.functions.get(ref.name)
    if function is None:
        raise LookupError(f"destination function {ref.name!r} is not declared; declared: "
                          f"{', '.join(sorted(service.functions)) or 'none'}")
    version = function.resolve_qualifier(ref.qualifier)
    if version is None:
        raise LookupError(f"destination {target!r}: no such version or alias")
    payload = json.dumps(record).encode()
    call = Call(function=function, version=version, qualifier=ref.qualifier,
                invocation_type="Event", event=record, payload=payload,
                request_id=new_request_id(), region=ref.region or event.call.region,
                chain=(*event.call.chain, event.function_name))
    service.events.submit(Pending.create(service, call))


def _dead_letter(service: LambdaService, target: Any, event: PendingEvent,
                 record: dict[str, Any]) -> None:
    payload = record.get("responsePayload")
    message = payload.get("errorMessage", "") if isinstance(payload, dict) else ""
    body = event.call.payload.decode("utf-8", "replace") or "{}"
    attributes = {
        "RequestID": {"DataType": "String", "StringValue": event.request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": message or event_condition(record)},
    }
    sent = {"body": body, "attributes": attributes}
    error: str | None = None
    delivered = True
    try:
        if callable(target):
            target(sent)
        else:
            parts = str(target).split(":")
            kind, region = parts[2], parts[3]
            route = _aws_route(service)
            if kind == "sqs":
                client = _client("sqs", region, route)
                url = client.get_queue_url(QueueName=parts[5],
                                           QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
                client.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
            else:
                sns_attributes = {k: {"DataType": v["DataType"], "StringValue": v["StringValue"]}
                                  for k, v in attributes.items()}
                _client("sns", region, route).publish(TopicArn=str(target), Message=body,
                                                      MessageAttributes=sns_attributes)
    except _Held:
        delivered = False
    except BaseException as exc:  # recorded, never raised into the test (KeyboardInterrupt too)
        error = _describe(exc)
    _note(service, "dead_letter", target, event, sent, error, delivered)


def _describe(exc: BaseException) -> str:
    """``Type: message`` of what a target raised (its ``str()`` may raise too)."""
    try:
        text = str(exc)
    except Exception:
        text = f"<{type(exc).__name__} whose str() raised>"
    return f"{type(exc).__name__}: {text}"


def event_condition(record: dict[str, Any]) -> str:
    return str(record.get("requestContext", {}).get("condition", ""))


_client_lock = threading.Lock()


def _client(service_name: str, region: str, route: str) -> Any:
    """A client for sending one record: one attempt, short timeouts, so a target with nothing
    answering costs a recorded error, not botocore's retries with real sleeps. moto's server and
    proxy modes redirect clients made by ``boto3.client`` (which they patch): use it there."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                    read_timeout=10)
    if route in ("server", "proxy"):
        with _client_lock:  # boto3's default session is not safe to share between threads
            make: Any = boto3.client
            return make(service_name, region_name=region, config=config)
    session: Any = boto3.session.Session()
    return session.client(service_name, region_name=region, config=config)
