"""InvokeWithResponseStream: an AWS event stream read through the client's own parser.

Each test runs with a boto3 client and, where installed, aiobotocore and aioboto3 clients
(``make_caller``): the consumer sees ``PayloadChunk`` events, then one ``InvokeComplete``.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError

from pytest_lambda_stub import stub_lambda
from pytest_lambda_stub.interception import eventstream
from tests.clients import Caller, callers
from tests.helpers import REGION, client

ACCOUNT = "123456789012"
make_caller = callers()
MakeCaller = Callable[..., Caller]


def echo(event: Any, context: Any) -> Any:
    return event


def chunks_of(events: list[dict[str, Any]]) -> list[bytes]:
    return [event["PayloadChunk"]["Payload"] for event in events if "PayloadChunk" in event]


def completion(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The one InvokeComplete event, which must come last."""
    assert [list(event) for event in events].count(["InvokeComplete"]) == 1
    assert "InvokeComplete" in events[-1]
    complete: dict[str, Any] = events[-1]["InvokeComplete"]
    return complete


def stream(lam: Caller, **params: Any) -> dict[str, Any]:
    return lam.call("invoke_with_response_stream", **params)


# -- the stream --------------------------------------------------------------------------------

def test_a_returned_value_is_one_chunk_then_invoke_complete(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": lambda e, c: {"width": e["width"] // 2}}) as stub:
        response = stream(lam, FunctionName="f", Payload=b'{"width": 640}')
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
    events = response["EventStream"]
    assert chunks_of(events) == [b'{"width": 320}']
    assert len(events) == 2
    assert completion(events) == {}
    record = stub["f"].invocations[0]
    assert record.operation == "InvokeWithResponseStream"
    assert record.request_id == response["ResponseMetadata"]["RequestId"]
    assert record.event == {"width": 640}
    assert record.response_payload == b'{"width": 320}'
    assert "via InvokeWithResponseStream" in record.summary()


def test_a_generator_handler_yields_one_chunk_per_item(make_caller: MakeCaller) -> None:
    def handler(event: Any, context: Any) -> Iterator[bytes | str]:
        yield b'{"rows": ['
        for n in range(event["rows"]):
            yield ("," if n else "") + json.dumps({"n": n})
        yield "]}"

    lam = make_caller()
    with stub_lambda(functions={"rows": handler}) as stub:
        response = stream(lam, FunctionName="rows", Payload=b'{"rows": 3}')
    chunks = chunks_of(response["EventStream"])
    assert chunks == [b'{"rows": [', b'{"n": 0}', b',{"n": 1}', b',{"n": 2}', b"]}"]
    # The consumer's reassembly of the chunks gives the whole document.
    assert json.loads(b"".join(chunks)) == {"rows": [{"n": 0}, {"n": 1}, {"n": 2}]}
    assert completion(response["EventStream"]) == {}
    record = stub["rows"].invocations[0]
    assert record.chunks == tuple(chunks)
    assert record.response_payload == b"".join(chunks)


def test_unicode_and_empty_results(make_caller: MakeCaller) -> None:
    def handler(event: Any, context: Any) -> Iterator[str]:
        yield "café "
        yield "☕"

    lam = make_caller()
    with stub_lambda(functions={"text": handler, "none": lambda e, c: None}):
        text = stream(lam, FunctionName="text")["EventStream"]
        none = stream(lam, FunctionName="none")["EventStream"]
    assert b"".join(chunks_of(text)).decode("utf-8") == "café ☕"
    assert chunks_of(none) == [b"null"]


def test_a_large_result_arrives_whole(make_caller: MakeCaller) -> None:
    big = "x" * 300_000
    lam = make_caller()
    with stub_lambda(functions={"f": lambda e, c: big}):
        events = stream(lam, FunctionName="f")["EventStream"]
    assert json.loads(b"".join(chunks_of(events))) == big


def test_versions_and_aliases(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda() as stub:
        stub.add_function("fn", lambda e, c: "latest", versions={"1": lambda e, c: "v1"},
                          aliases={"live": "1"})
        by_alias = stream(lam, FunctionName="fn", Qualifier="live")
        by_arn = stream(lam, FunctionName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:1")
        latest = stream(lam, FunctionName="fn")
    assert by_alias["ExecutedVersion"] == "1"
    assert chunks_of(by_alias["EventStream"]) == [b'"v1"']
    assert by_arn["ExecutedVersion"] == "1"
    assert latest["ExecutedVersion"] == "$LATEST"
    assert chunks_of(latest["EventStream"]) == [b'"latest"']
    assert [r.qualifier for r in stub.invocations] == ["live", "1", None]


def test_every_chunk_sent_is_recorded_on_the_invocation(make_caller: MakeCaller) -> None:
    def chunked(event: Any, context: Any) -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    def failing(event: Any, context: Any) -> None:
        raise ValueError("no chunks")

    lam = make_caller()
    with stub_lambda(functions={"value": lambda e, c: [1], "chunked": chunked,
                                "failing": failing}) as stub:
        sent = {name: chunks_of(stream(lam, FunctionName=name)["EventStream"])
                for name in ("value", "chunked", "failing")}
    assert sent == {"value": [b"[1]"], "chunked": [b"a", b"b"], "failing": []}
    for name, chunks in sent.items():
        assert stub[name].invocations[0].chunks == tuple(chunks), name
    # A plain Invoke sends no chunks.
    with stub_lambda(functions={"f": echo}) as stub:
        lam.call("invoke", FunctionName="f")
    assert stub["f"].invocations[0].chunks is None


# -- function errors and logs in InvokeComplete ------------------------------------------------

def test_a_function_error_is_reported_in_invoke_complete(make_caller: MakeCaller) -> None:
    def failing(event: Any, context: Any) -> None:
        raise ValueError("bad input")

    lam = make_caller()
    with stub_lambda(functions={"f": failing}) as stub:
        response = stream(lam, FunctionName="f")
        invoked = lam.call("invoke", FunctionName="f")
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    events = response["EventStream"]
    assert chunks_of(events) == []
    complete = completion(events)
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    # The same JSON error payload Invoke returns (our choice: AWS's text is unrecorded).
    assert list(details) == list(json.loads(invoked["Payload"]))
    assert details["errorMessage"] == "bad input"
    assert details["errorType"] == "ValueError"
    assert details["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert "LogResult" not in complete
    assert stub.invocations[0].function_error == "Unhandled"


def test_log_tail_is_in_invoke_complete(make_caller: MakeCaller) -> None:
    def handler(event: Any, context: Any) -> str:
        print("streaming now")
        return "ok"

    lam = make_caller()
    with stub_lambda(functions={"f": handler}) as stub:
        response = stream(lam, FunctionName="f", LogType="Tail")
        quiet = stream(lam, FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    complete = completion(response["EventStream"])
    assert set(complete) == {"LogResult"}
    log = base64.b64decode(complete["LogResult"]).decode()
    lines = log.split("\n")
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1] == "streaming now"
    assert lines[2] == f"END RequestId: {request_id}"
    assert lines[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert log == stub.invocations[0].log
    assert "x-amz-log-result" not in response["ResponseMetadata"]["HTTPHeaders"]
    assert completion(quiet["EventStream"]) == {}


def test_function_error_with_log_tail(make_caller: MakeCaller) -> None:
    def failing(event: Any, context: Any) -> None:
        raise RuntimeError("boom")

    lam = make_caller()
    with stub_lambda(functions={"f": failing}):
        complete = completion(stream(lam, FunctionName="f", LogType="Tail")["EventStream"])
    assert complete["ErrorCode"] == "Unhandled"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "boom"
    log = base64.b64decode(complete["LogResult"]).decode()
    assert "RuntimeError" in log


# -- errors before the function runs: ordinary modeled errors ----------------------------------

def test_not_found_is_the_modeled_exception(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(strict=False) as stub:
        stub.add_function("fn", echo)
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            stream(lam, FunctionName="nope")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            stream(lam, FunctionName="fn", Qualifier="7")
    assert caught.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope:$LATEST")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert [r.error_code for r in stub.invocations] == ["ResourceNotFoundException"] * 2
    assert {r.operation for r in stub.invocations} == {"InvokeWithResponseStream"}


@pytest.mark.parametrize("params, problem", [
    ({"LogType": "Everything"}, "Member must satisfy enum value set: [None, Tail]"),
    ({"InvocationType": "Event"},
     "Member must satisfy enum value set: [RequestResponse, DryRun]"),
])
def test_validation_errors(make_caller: MakeCaller, params: dict[str, Any], problem: str) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(ClientError) as caught:
            stream(lam, FunctionName="f", **params)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert problem in str(caught.value)
    assert stub["f"].call_count == 0


def test_throttle_on_demand_is_retried_then_recovers(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", attempts=[1, 2])
        started = time.perf_counter()
        response = stream(lam, FunctionName="f", Payload=b'"x"')
        elapsed = time.perf_counter() - started
    assert chunks_of(response["EventStream"]) == [b'"x"']
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(stub.retry_delays) == 2
    assert elapsed < 1
    assert [(r.attempt, r.error_code) for r in stub["f"].invocations] == [
        (1, "TooManyRequestsException"), (2, "TooManyRequestsException"), (3, None)]


def test_throttle_until_retries_run_out(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", times=None,
                       Reason="ReservedFunctionConcurrentInvocationLimitExceeded")
        with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
            stream(lam, FunctionName="f")
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert stub["f"].call_count == 0


def test_reserved_concurrency_zero_throttles(make_caller: MakeCaller) -> None:
    lam = make_caller(retries={"max_attempts": 0})
    with stub_lambda() as stub:
        stub.add_function("f", echo, reserved_concurrency=0)
        with pytest.raises(lam.exceptions.TooManyRequestsException):
            stream(lam, FunctionName="f")
    assert stub["f"].call_count == 0


def test_dry_run_runs_nothing(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        response = stream(lam, FunctionName="f", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert stub["f"].call_count == 0


def test_modeled_errors_of_the_operation_are_read_from_the_model() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    codes = {shape.name for shape in
             model.operation_model("InvokeWithResponseStream").error_shapes}
    assert {"ResourceNotFoundException", "TooManyRequestsException",
            "InvalidRequestContentException"} <= codes


@pytest.mark.parametrize("code", ["ServiceException", "ResourceConflictException",
                                  "KMSAccessDeniedException", "InvalidRequestContentException"])
def test_modeled_errors_on_demand(make_caller: MakeCaller, code: str) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code, times=None)
        with pytest.raises(getattr(lam.exceptions, code)) as caught:
            stream(lam, FunctionName="f")
    assert caught.value.response["Error"]["Code"] == code
    assert stub["f"].call_count == 0
    assert {r.error_code for r in stub.invocations} == {code}


# -- the encoding ------------------------------------------------------------------------------

def test_frames_are_aws_event_stream_messages_with_valid_crcs() -> None:
    frames = eventstream.payload_chunk(b"hello") + eventstream.invoke_complete(
        {"ErrorCode": "Unhandled"})
    buffer = EventStreamBuffer()
    buffer.add_data(frames)
    first, second = list(buffer)
    assert first.headers == {":event-type": "PayloadChunk",
                             ":content-type": "application/octet-stream",
                             ":message-type": "event"}
    assert first.payload == b"hello"
    assert second.headers[":event-type"] == "InvokeComplete"
    assert json.loads(second.payload) == {"ErrorCode": "Unhandled"}
    total, headers_length = struct.unpack("!II", frames[:8])
    # prelude (12) + headers + payload + message CRC (4)
    assert total == len(eventstream.payload_chunk(b"hello")) == 12 + headers_length + 5 + 4


def test_a_corrupt_frame_fails_the_checksum() -> None:
    frame = bytearray(eventstream.payload_chunk(b"hello"))
    frame[-6] ^= 0xFF  # a payload byte
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        list(buffer)


def test_chunks_yielded_before_a_failure_are_sent_then_the_error() -> None:
    """A streaming handler that fails midway: the client has the chunks sent so far, then
    InvokeComplete with the error (and the invocation records them)."""

    def partial(event: Any, context: Any) -> Any:
        yield b"first"
        yield "second"
        raise RuntimeError("broke midway")

    lam = client()
    with stub_lambda(functions={"partial": partial}) as stub:
        response = lam.invoke_with_response_stream(FunctionName="partial")
        events = list(response["EventStream"])
    chunks = [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e]
    assert chunks == [b"first", b"second"]
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert (details["errorType"], details["errorMessage"]) == ("RuntimeError", "broke midway")
    assert stub.invocations[0].chunks == (b"first", b"second")
    assert stub.invocations[0].function_error == "Unhandled"
