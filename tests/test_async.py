"""Asynchronous invocation (issue 4): Lambda's event queue, retries, event age, destinations,
dead-letter queues, duplicate delivery and the three delivery modes.

Every expectation comes from ../shared/reference/invoke-behaviour.md ("Asynchronous
invocation"): retries 60 s then 120 s after a failed attempt, throttles retried with a backoff
from 1 s doubling to 5 min, an event dropped when its age at its next attempt would be >= its
maximum age.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from pytest_lambda_stub import LambdaStub, StrictModeError, stub_lambda
from tests.helpers import REGION, client

ACCOUNT = "123456789012"
RETRY_DELAYS = (60, 120)  # reference: about 1 minute before the 2nd attempt, 2 before the 3rd
BACKOFF_START, BACKOFF_MAX = 1, 300  # reference: 1 s doubling to 5 min
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def fails(event: Any, context: Any) -> Any:
    raise ValueError("Handler fails")


def echo(event: Any, context: Any) -> Any:
    return event


def event_invoke(lam: Any, name: str = "f", body: Any = None, **kwargs: Any) -> str:
    """Invoke asynchronously; return the request id of the 202 response."""
    response = lam.invoke(FunctionName=name, InvocationType="Event",
                          Payload=json.dumps({"n": 1} if body is None else body), **kwargs)
    assert response["StatusCode"] == 202
    request_id: str = response["ResponseMetadata"]["RequestId"]
    return request_id


def function_arn(name: str, qualifier: str = "$LATEST") -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{qualifier}"


def offsets(stub: LambdaStub, name: str = "f") -> list[float]:
    """Simulated seconds between each attempt and the first."""
    times = [record.started_at.timestamp() for record in stub[name].invocations]
    return [t - times[0] for t in times]


def throttle_schedule(maximum_event_age: int) -> list[int]:
    """The ages at which a throttled event is attempted, from the reference's rule."""
    ages, age, delay = [0], 0, BACKOFF_START
    while age + delay < maximum_event_age:
        age += delay
        ages.append(age)
        delay = min(delay * 2, BACKOFF_MAX)
    return ages


def error_retry_count(maximum_event_age: int, maximum_retry_attempts: int = 2) -> int:
    """How many times a failing event runs, from the reference's rule."""
    count, age = 1, 0
    for delay in RETRY_DELAYS[:maximum_retry_attempts]:
        if age + delay >= maximum_event_age:
            break
        age += delay
        count += 1
    return count


@contextlib.contextmanager
def fake_aws() -> Iterator[Any]:
    """moto's mock_aws with fake credentials, removed afterwards."""
    moto = pytest.importorskip("moto")
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    try:
        with moto.mock_aws():
            yield moto
    finally:
        os.environ.pop("AWS_ACCESS_KEY_ID")
        os.environ.pop("AWS_SECRET_ACCESS_KEY")


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
        WaitTimeSeconds=0).get("Messages", [])
    return messages


# -- record shapes ------------------------------------------------------------------------------

def test_success_record_shape() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", lambda e, c: {"doubled": e["n"] * 2}, on_success=records.append)
        request_id = event_invoke(lam, body={"n": 21})
    [record] = records
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload",
                            "responseContext", "responsePayload"]
    assert record["version"] == "1.0"
    assert TIMESTAMP.fullmatch(record["timestamp"])
    assert list(record["requestContext"]) == ["requestId", "functionArn", "condition",
                                              "approximateInvokeCount"]
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": function_arn("f"), "condition": "Success",
        "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"n": 21}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"doubled": 42}
    assert [(s.kind, s.target, s.request_id, s.error) for s in stub.destinations] == [
        ("on_success", records.append, request_id, None)]
    assert stub.destinations[0].record == record
    assert stub.dead_letters == []


def test_retries_exhausted_record_shape() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, on_failure=records.append, on_success=pytest.fail)
        request_id = event_invoke(lam, body={"the": "event"})
    [record] = records
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload",
                            "responseContext", "responsePayload"]
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": function_arn("f"),
        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"the": "event"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    response = record["responsePayload"]
    assert list(response) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert response["errorMessage"] == "Handler fails"
    assert response["errorType"] == "ValueError"
    assert response["requestId"] == request_id
    assert response == stub["f"].invocations[-1].result


def test_event_age_exceeded_record_shape() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_event_age=60, on_failure=records.append)
        request_id = event_invoke(lam)
    [record] = records
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": function_arn("f"),
        "condition": "EventAgeExceeded", "approximateInvokeCount": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "Handler fails"


def test_zero_reserved_concurrency_is_accepted_then_fails_without_response_fields() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", echo, reserved_concurrency=0, on_failure=records.append)
        request_id = event_invoke(lam, body={"k": "v"})
    assert stub["f"].call_count == 0
    [record] = records
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload"]
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": function_arn("f"),
        "condition": "ZeroReservedConcurrency", "approximateInvokeCount": 0}
    assert record["requestPayload"] == {"k": "v"}


def test_record_timestamp_is_the_simulated_time_of_the_outcome() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, on_failure=records.append)
        before = stub.clock
        event_invoke(lam)
        after = stub.clock
    stamp = datetime.datetime.strptime(records[0]["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    moment = stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert before + sum(RETRY_DELAYS) - 1 <= moment <= after + 1


def test_qualified_invoke_names_the_qualifier_and_version() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", versions={"1": lambda e, c: "v1"}, aliases={"live": "1"},
                          on_success=records.append)
        event_invoke(lam, "f", Qualifier="live")
    assert records[0]["requestContext"]["functionArn"] == function_arn("f", "live")
    assert records[0]["responseContext"] == {"statusCode": 200, "executedVersion": "1"}
    assert records[0]["responsePayload"] == "v1"


# -- retries ------------------------------------------------------------------------------------

@pytest.mark.parametrize("attempts", [0, 1, 2])
def test_retry_counts(attempts: int) -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_retry_attempts=attempts,
                          on_failure=records.append)
        event_invoke(lam)
    runs = stub["f"].invocations
    assert stub["f"].call_count == attempts + 1
    assert [r.attempt for r in runs] == list(range(1, attempts + 2))
    assert all(r.invocation_type == "Event" and r.function_error == "Unhandled" for r in runs)
    expected = [0.0]
    for delay in RETRY_DELAYS[:attempts]:
        expected.append(expected[-1] + delay)
    assert offsets(stub) == pytest.approx(expected, abs=0.5)
    assert records[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert records[0]["requestContext"]["approximateInvokeCount"] == attempts + 1


def test_a_retry_that_succeeds_sends_success_with_the_invoke_count() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", echo, on_success=records.append, on_failure=pytest.fail)
        stub["f"].time_out(times=2)
        event_invoke(lam)
    assert [r.function_error for r in stub["f"].invocations] == ["Unhandled", "Unhandled", None]
    assert [r.error_type for r in stub["f"].invocations][:2] == ["Sandbox.Timedout"] * 2
    assert records[0]["requestContext"]["condition"] == "Success"
    assert records[0]["requestContext"]["approximateInvokeCount"] == 3


@pytest.mark.parametrize("maximum_event_age, runs", [(60, 1), (90, 2), (180, 2), (181, 3)])
def test_event_age_cut_off(maximum_event_age: int, runs: int) -> None:
    assert runs == error_retry_count(maximum_event_age)  # the reference's rule, spelled out
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_event_age=maximum_event_age,
                          on_failure=records.append)
        event_invoke(lam)
    assert stub["f"].call_count == runs
    condition = "RetriesExhausted" if runs == 3 else "EventAgeExceeded"
    assert records[0]["requestContext"]["condition"] == condition
    assert records[0]["requestContext"]["approximateInvokeCount"] == runs


def test_all_attempts_share_the_request_id_of_the_202_response() -> None:
    lam = client()
    seen: list[str] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(context.aws_request_id)
        raise RuntimeError("again")

    with stub_lambda(functions={"f": handler}) as stub:
        request_id = event_invoke(lam)
    assert seen == [request_id] * 3
    assert [r.request_id for r in stub["f"].invocations] == [request_id] * 3
    assert stub["f"].invocations[0].result["requestId"] == request_id


def test_client_context_and_log_type_are_ignored_for_event() -> None:
    lam = client()
    contexts: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        contexts.append(context.client_context)
        print("some output")

    sent = base64.b64encode(json.dumps({"custom": {"a": 1}}).encode()).decode()
    with stub_lambda(functions={"f": handler}) as stub:
        response = lam.invoke(FunctionName="f", InvocationType="Event", ClientContext=sent,
                              LogType="Tail")
        assert response["StatusCode"] == 202
        assert "LogResult" not in response
        assert response["Payload"].read() == b""
    assert contexts == [None]
    assert stub["f"].invocations[0].client_context is None


# -- throttles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("maximum_event_age", [60, 3600])
def test_throttled_delivery_is_retried_with_backoff_until_the_event_expires(
        maximum_event_age: int) -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda(account_concurrency=0) as stub:
        stub.add_function("f", echo, maximum_event_age=maximum_event_age,
                          on_failure=records.append)
        event_invoke(lam)
    attempts = stub["f"].invocations
    assert stub["f"].call_count == 0
    assert all(not r.ran and r.error_code == "TooManyRequestsException" and r.status_code == 429
               for r in attempts)
    assert offsets(stub) == pytest.approx(throttle_schedule(maximum_event_age), abs=0.5)
    [record] = records
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record and "responsePayload" not in record


# -- destinations -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["sink", function_arn("sink").rsplit(":", 1)[0],
                                    function_arn("sink")])
def test_destination_to_a_declared_function(target: str) -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_retry_attempts=0, on_failure=target)
        stub.add_function("sink", lambda e, c: None)
        request_id = event_invoke(lam)
    [delivery] = stub["sink"].invocations
    assert delivery.invocation_type == "Event"
    assert delivery.event["requestContext"]["requestId"] == request_id
    assert delivery.event["requestContext"]["condition"] == "RetriesExhausted"
    assert delivery.event == stub.destinations[0].record
    assert delivery.request_id != request_id
    assert stub.destinations[0].error is None


def test_success_destination_to_a_declared_function_runs_it_asynchronously() -> None:
    lam = client()
    with stub_lambda(event_delivery="manual") as stub:
        stub.add_function("f", echo, on_success="sink")
        stub.add_function("sink", echo)
        event_invoke(lam, body={"x": 1})
        first = stub.drain()
    assert [r.function_name for r in first] == ["f", "sink"]
    assert stub["sink"].invocations[0].event["responsePayload"] == {"x": 1}


def test_destinations_and_dead_letter_queue_on_sqs_under_moto() -> None:
    lam = client()
    with fake_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"]
                for name in ("ok", "failed", "dlq")}
        arn = {name: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}" for name in urls}
        with stub_lambda() as stub:
            stub.add_function("good", echo, on_success=arn["ok"])
            stub.add_function("bad", fails, on_failure=arn["failed"], dead_letter=arn["dlq"])
            good_id = event_invoke(lam, "good", body={"a": 1})
            bad_id = event_invoke(lam, "bad", body={"b": 2})
        [ok] = receive_all(sqs, urls["ok"])
        [failed] = receive_all(sqs, urls["failed"])
        [dlq] = receive_all(sqs, urls["dlq"])
    assert json.loads(ok["Body"]) == stub.destinations[0].record
    assert json.loads(ok["Body"])["requestContext"]["requestId"] == good_id
    assert json.loads(ok["Body"])["responsePayload"] == {"a": 1}
    body = json.loads(failed["Body"])
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["requestId"] == bad_id
    assert body["requestPayload"] == {"b": 2}
    # Dead-letter queue: the original event, with Lambda's three attributes.
    assert json.loads(dlq["Body"]) == {"b": 2}
    assert dlq["MessageAttributes"] == {
        "RequestID": {"DataType": "String", "StringValue": bad_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "Handler fails"},
    }
    assert [s.error for s in stub.destinations + stub.dead_letters] == [None, None, None]
    assert [(s.kind, s.target) for s in stub.dead_letters] == [("dead_letter", arn["dlq"])]


def test_sns_and_eventbridge_destinations_under_moto() -> None:
    lam = client()
    with fake_aws():
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="results")["TopicArn"]
        bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
        with stub_lambda() as stub:
            stub.add_function("f", echo, on_success=topic)
            stub.add_function("g", fails, maximum_retry_attempts=0, on_failure=bus,
                              dead_letter=topic)
            event_invoke(lam, "f")
            event_invoke(lam, "g")
    assert [(s.kind, s.target, s.error) for s in stub.destinations] == [
        ("on_success", topic, None), ("on_failure", bus, None)]
    assert [(s.kind, s.error) for s in stub.dead_letters] == [("dead_letter", None)]


def test_dead_letter_callable_gets_the_event_and_attributes() -> None:
    lam = client()
    got: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_retry_attempts=1, dead_letter=got.append)
        request_id = event_invoke(lam, body={"order": 7})
    [message] = got
    assert json.loads(message["body"]) == {"order": 7}
    assert message["attributes"]["RequestID"] == {"DataType": "String",
                                                  "StringValue": request_id}
    assert message["attributes"]["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert message["attributes"]["ErrorMessage"] == {"DataType": "String",
                                                     "StringValue": "Handler fails"}
    assert stub.dead_letters[0].record == message


def test_a_destination_with_nothing_answering_is_recorded_never_raised(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    lam = client()
    sqs_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:nowhere"

    def broken(record: dict[str, Any]) -> None:
        raise RuntimeError("destination down")

    # Opted in to sending, no moto, an endpoint where nothing answers.
    with stub_lambda(send_destinations=True) as stub:
        stub.add_function("a", fails, maximum_retry_attempts=0, on_failure=sqs_arn,
                          dead_letter=sqs_arn)
        stub.add_function("b", echo, on_success="not-declared")
        stub.add_function("c", echo, on_success=broken)
        event_invoke(lam, "a")
        event_invoke(lam, "b")
        event_invoke(lam, "c")
    sent = stub.destinations + stub.dead_letters
    assert [(s.function_name, s.kind) for s in sent] == [
        ("a", "on_failure"), ("b", "on_success"), ("c", "on_success"), ("a", "dead_letter")]
    assert all(s.error for s in sent)
    assert "not-declared" in (stub.destinations[1].error or "")
    assert stub.destinations[2].error == "RuntimeError: destination down"


def test_a_missing_queue_under_moto_is_recorded_never_raised() -> None:
    lam = client()
    with fake_aws(), stub_lambda() as stub:
        stub.add_function("f", fails, maximum_retry_attempts=0,
                          on_failure=f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing")
        event_invoke(lam)
    assert "NonExistentQueue" in (stub.destinations[0].error or "") or \
        "QueueDoesNotExist" in (stub.destinations[0].error or "")


# -- delivery modes -----------------------------------------------------------------------------

def test_manual_delivery_observes_between_retries() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda(event_delivery="manual") as stub:
        stub.add_function("f", fails, on_failure=records.append)
        request_id = event_invoke(lam)
        assert stub["f"].call_count == 0
        assert [(e.function_name, e.request_id, e.invoke_count) for e in stub.pending] == [
            ("f", request_id, 0)]
        assert [r.attempt for r in stub.advance(0)] == [1]
        assert stub.advance(RETRY_DELAYS[0] - 1) == []
        assert [r.attempt for r in stub.advance(1)] == [2]
        # After the first retry, before the second:
        assert stub["f"].call_count == 2
        assert [e.invoke_count for e in stub.pending] == [2]
        assert records == []
        assert stub.advance(RETRY_DELAYS[1] - 1) == []
        assert [r.attempt for r in stub.advance(1)] == [3]
        assert stub.pending == []
    assert records[0]["requestContext"]["approximateInvokeCount"] == 3


def test_manual_drain_runs_everything_on_the_simulated_clock() -> None:
    lam = client()
    with stub_lambda(event_delivery="manual") as stub:
        stub.add_function("f", fails)
        stub.add_function("g", echo)
        before = stub.clock
        ids = {event_invoke(lam, "f"), event_invoke(lam, "g")}
        after = stub.clock
        assert {e.request_id for e in stub.pending} == ids
        ran = stub.drain()
        assert before + sum(RETRY_DELAYS) <= stub.clock
        assert stub.clock < after + sum(RETRY_DELAYS) + 5
        assert stub.pending == []
        assert stub.drain() == []
    assert sorted(r.function_name for r in ran) == ["f", "f", "f", "g"]
    assert {r.request_id for r in ran} == ids


def test_advance_refuses_negative_seconds() -> None:
    with stub_lambda(event_delivery="manual") as stub, pytest.raises(ValueError):
        stub.advance(-1)


def test_background_delivery_and_no_thread_left_after_stop() -> None:
    lam = client()
    before = set(threading.enumerate())
    done = threading.Event()
    records: list[dict[str, Any]] = []

    def handler(event: Any, context: Any) -> Any:
        if context.function_name == "f":
            done.set()
        raise ValueError("x")

    with stub_lambda(event_delivery="background") as stub:
        stub.add_function("f", handler, on_failure=records.append)
        stub.add_function("g", handler, maximum_retry_attempts=0)
        event_invoke(lam, "f")
        event_invoke(lam, "g")
        assert done.wait(10)
        assert any(t.name == "lambda-stub-events" for t in threading.enumerate())
        assert stub.wait_idle(10)
        assert stub.pending == []
        assert stub["f"].call_count == 3
        assert stub["g"].call_count == 1
    assert records[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert set(threading.enumerate()) <= before


def test_background_stop_does_not_deliver_after_the_stub_stopped() -> None:
    lam = client()
    before = set(threading.enumerate())
    started, release = threading.Event(), threading.Event()

    def slow(event: Any, context: Any) -> Any:
        started.set()
        assert release.wait(5)

    stub = stub_lambda(event_delivery="background", strict=False)
    opener = threading.Timer(0.2, release.set)  # frees the handler while stop() is waiting
    with pytest.warns(UserWarning, match=r"4 event\(s\) left queued when the stub stopped"):
        with stub:
            stub.add_function("f", slow, timeout=10)
            first = event_invoke(lam)
            assert started.wait(5)
            rest = [event_invoke(lam) for _ in range(4)]
            opener.start()
    opener.join()
    assert [r.request_id for r in stub["f"].invocations] == [first]
    assert [e.request_id for e in stub.pending] == rest
    assert set(threading.enumerate()) <= before


def test_background_strict_mode_reports_what_was_left() -> None:
    lam = client()
    started, release = threading.Event(), threading.Event()
    opener = threading.Timer(0.2, release.set)
    stub = stub_lambda(event_delivery="background")
    with pytest.raises(StrictModeError, match=r"1 event\(s\) left queued"):
        with stub:
            stub.add_function("f", lambda e, c: started.set() or release.wait(5), timeout=10)
            event_invoke(lam)
            assert started.wait(5)
            event_invoke(lam)
            opener.start()
    opener.join()
    assert stub["f"].call_count == 1


def test_wait_idle_in_manual_mode_answers_at_once() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}, event_delivery="manual") as stub:
        event_invoke(lam, body={"k": 1})
        wall = time.monotonic()
        assert stub.wait_idle(10) is False
        assert time.monotonic() - wall < 5
        assert [e.event for e in stub.pending] == [{"k": 1}]
        stub.drain()
        assert stub.wait_idle(0) is True


def test_invoke_async_is_queued_like_event() -> None:
    lam = client()
    records: list[dict[str, Any]] = []
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_retry_attempts=1, on_failure=records.append)
        response = lam.invoke_async(FunctionName="f", InvokeArgs=b'{"old": "api"}')
    assert response["Status"] == 202
    assert stub["f"].call_count == 2
    assert records[0]["requestPayload"] == {"old": "api"}
    assert records[0]["requestContext"]["requestId"] == response["ResponseMetadata"]["RequestId"]


def test_immediate_delivery_is_done_when_invoke_returns() -> None:
    lam = client()
    with stub_lambda(functions={"f": fails}) as stub:
        event_invoke(lam)
        assert stub["f"].call_count == 3
        assert stub.pending == []
        assert stub.drain() == []
        assert stub.wait_idle(0)


def test_strict_mode_reports_events_left_queued() -> None:
    lam = client()
    stub = stub_lambda(functions={"f": echo}, event_delivery="manual")
    with pytest.raises(StrictModeError, match=r"1 event\(s\) left queued.*\bf\b"):
        with stub:
            request_id = event_invoke(lam)
    assert [e.request_id for e in stub.pending] == [request_id]


def test_queued_events_are_fine_without_strict_mode_and_after_drain() -> None:
    lam = client()
    with pytest.warns(UserWarning, match=r"1 event\(s\) left queued when the stub stopped"):
        with stub_lambda(functions={"f": echo}, event_delivery="manual", strict=False):
            event_invoke(lam)
    with stub_lambda(functions={"f": echo}, event_delivery="manual") as stub:
        event_invoke(lam)
        stub.drain()
    assert stub.stopped_with == []


# -- duplicate delivery -------------------------------------------------------------------------

def test_duplicate_delivery_count_delivers_every_event_n_extra_times() -> None:
    lam = client()
    seen: list[str] = []
    with stub_lambda() as stub:
        stub.add_function("f", lambda e, c: seen.append(c.aws_request_id),
                          duplicate_delivery=2)
        request_id = event_invoke(lam)
    assert seen == [request_id] * 3
    assert [s.request_id for s in stub.destinations] == []


def deliveries(seed: int, probability: float, events: int = 60) -> list[int]:
    lam = client()
    with stub_lambda(seed=seed) as stub:
        stub.add_function("f", echo, duplicate_delivery=probability)
        ids = [event_invoke(lam) for _ in range(events)]
    counts = [r.request_id for r in stub["f"].invocations]
    return [counts.count(request_id) for request_id in ids]


def test_duplicate_delivery_probability_is_reproducible_with_seed() -> None:
    first = deliveries(7, 0.5)
    assert first == deliveries(7, 0.5)
    assert set(first) == {1, 2}  # each event at most once more, and with p=0.5 some of each
    assert set(deliveries(7, 0.0)) == {1}
    assert set(deliveries(7, 1.0)) == {2}


def test_seed_makes_every_run_of_one_stub_choose_the_same() -> None:
    lam = client()
    stub = stub_lambda(seed=3)
    stub.add_function("f", echo, duplicate_delivery=0.5)
    runs = []
    for _ in range(2):
        with stub:
            ids = [event_invoke(lam) for _ in range(40)]
        counts = [r.request_id for r in stub["f"].invocations]
        runs.append([counts.count(request_id) for request_id in ids])
    assert runs[0] == runs[1]


def test_duplicate_delivery_in_manual_mode_queues_the_copies() -> None:
    lam = client()
    with stub_lambda(event_delivery="manual") as stub:
        stub.add_function("f", echo, duplicate_delivery=1)
        request_id = event_invoke(lam)
        assert [e.request_id for e in stub.pending] == [request_id] * 2
        assert [r.request_id for r in stub.drain()] == [request_id] * 2


# -- scale --------------------------------------------------------------------------------------

def test_a_thousand_failing_events_take_no_real_time() -> None:
    lam = client()
    with stub_lambda(functions={"f": fails}) as stub:
        wall, simulated = time.monotonic(), stub.clock
        for _ in range(1000):
            event_invoke(lam)
        simulated_elapsed = stub.clock - simulated
        wall_elapsed = time.monotonic() - wall
    assert stub["f"].call_count == 3000
    assert simulated_elapsed >= 1000 * sum(RETRY_DELAYS)  # 50 hours
    assert wall_elapsed < 30


# -- declarations -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, words", [
    ({"maximum_retry_attempts": -1}, ValueError, "maximum_retry_attempts"),
    ({"maximum_retry_attempts": 3}, ValueError, "0 to 2"),
    ({"maximum_retry_attempts": True}, ValueError, "maximum_retry_attempts"),
    ({"maximum_event_age": 59}, ValueError, "60 to 21600"),
    ({"maximum_event_age": 21601}, ValueError, "maximum_event_age"),
    ({"duplicate_delivery": 1.5}, ValueError, "duplicate_delivery"),
    ({"duplicate_delivery": -1}, ValueError, "duplicate_delivery"),
    ({"duplicate_delivery": "twice"}, TypeError, "duplicate_delivery"),
    ({"dead_letter": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"}, ValueError,
     "dead_letter"),
    ({"on_failure": 12}, TypeError, "on_failure"),
])
def test_out_of_range_settings_are_refused_at_declaration(kwargs: dict[str, Any],
                                                          error: type[Exception],
                                                          words: str) -> None:
    stub = LambdaStub()
    with pytest.raises(error, match=words):
        stub.add_function("f", echo, **kwargs)
    assert "f" not in stub


def test_boundary_settings_are_accepted() -> None:
    stub = LambdaStub()
    stub.add_function("a", echo, maximum_retry_attempts=0, maximum_event_age=60)
    stub.add_function("b", echo, maximum_retry_attempts=2, maximum_event_age=21600,
                      duplicate_delivery=1.0)
    assert stub["a"].maximum_event_age == 60 and stub["b"].maximum_retry_attempts == 2


def test_a_loop_through_an_on_failure_destination_is_stopped() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", fails, maximum_retry_attempts=0, on_failure="f")
        event_invoke(lam)
    runs = stub["f"].invocations
    assert [r.ran for r in runs].count(True) == 16  # the reference: stopped after about 16
    assert [r.error_code for r in runs if not r.ran] == ["RecursiveInvocationException"]
    stopped = [s for s in stub.destinations if s.record["requestContext"]["condition"]
               == "RecursiveInvocation"]
    assert len(stopped) == 1 and "recursive loop" in (stopped[0].error or "")


def test_event_invoked_from_a_handler_is_delivered_after_the_handler_returns() -> None:
    """Immediate mode: the nested Event invoke waits for the invoking handler to return (and
    free its concurrency), as Lambda's queue would; it is not throttled by its own caller."""
    order: list[str] = []

    def fan_out(event: Any, context: Any) -> None:
        if event.get("child"):
            order.append("child ran")
            return
        client().invoke(FunctionName="fan", InvocationType="Event", Payload=b'{"child": true}')
        order.append("parent returns")

    with stub_lambda() as stub:
        stub.add_function("fan", fan_out, reserved_concurrency=1)
        response = client().invoke(FunctionName="fan", Payload=b"{}")
        assert response["StatusCode"] == 200
    assert order == ["parent returns", "child ran"]
    assert [r.error_code for r in stub["fan"].invocations] == [None, None]
    assert stub.pending == []
