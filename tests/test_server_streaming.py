"""InvokeWithResponseStream over the loopback endpoint is answered as it is produced: a client
reads each ``PayloadChunk`` while the handler is still running, the status and headers come
before the first chunk, service errors are plain error answers, a failure or a timeout midway
ends the stream with ``InvokeComplete``, and a client gone mid-stream costs nothing.

The clients are raw HTTP clients (``http.client``) reading the chunked body frame by frame, and
boto3 in a child process; in-process boto3 clients are compared with them."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer, EventStreamMessage

from pytest_lambda_stub import LambdaStub
from tests.helpers import client
from tests.loopback import SIGNED, comparable, connect, invoke_path, request, run_python

serving = pytest.mark.lambda_stub(serve=True)
WAIT = 60.0  # generous: how long a handler waits for the test before giving up


def stream_path(name: str) -> str:
    return f"/2021-11-15/functions/{name}/response-streaming-invocations"


def open_stream(url: str, name: str, payload: bytes = b"{}",
                headers: dict[str, str] | None = None
                ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """Send the request and read the status line and headers (not the body)."""
    connection = connect(url, timeout=WAIT)
    connection.request("POST", stream_path(name), body=payload,
                       headers={"Authorization": SIGNED, **(headers or {})})
    return connection, connection.getresponse()


def next_message(response: http.client.HTTPResponse) -> EventStreamMessage:
    """Exactly one event-stream message from the body (its prelude says how long it is)."""
    prelude = response.read(8)
    assert len(prelude) == 8, f"the stream ended early: {prelude!r}"
    total = struct.unpack("!I", prelude[:4])[0]
    buffer = EventStreamBuffer()
    buffer.add_data(prelude + response.read(total - 8))
    return next(buffer)


def event(message: EventStreamMessage) -> tuple[str, bytes]:
    return message.headers[":event-type"], message.payload


def messages(body: bytes) -> list[EventStreamMessage]:
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    return list(buffer)


def record_of(stub: LambdaStub, name: str, count: int = 1) -> Any:
    """The function's last record, once there are ``count`` (written after the handler ends)."""
    deadline = time.monotonic() + WAIT
    while len(stub[name].invocations) < count:
        assert time.monotonic() < deadline, "the invocation was never recorded"
        time.sleep(0.01)
    return stub[name].invocations[-1]


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event a handler waits on; set at teardown so no handler is left waiting."""
    gate = threading.Event()
    yield gate
    gate.set()


@serving
def test_a_client_reads_each_chunk_while_the_handler_runs(
        lambda_stub: LambdaStub, release: threading.Event) -> None:
    released: list[bool] = []

    def slow(event: Any, context: Any) -> Iterator[bytes]:
        yield b"first"
        released.append(release.wait(WAIT))  # until the client has the first chunk
        yield b"second"

    lambda_stub.add_function("slow", slow, timeout=WAIT * 2)
    lambda_stub.add_function("echo", lambda event, context: event)
    connection, response = open_stream(lambda_stub.endpoint_url, "slow")
    try:
        # The status and headers came before any chunk, while the handler runs.
        assert response.status == 200
        assert response.getheader("Content-Type") == "application/vnd.amazon.eventstream"
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("X-Amz-Executed-Version") == "$LATEST"
        request_id = response.getheader("x-amzn-RequestId")
        assert event(next_message(response)) == ("PayloadChunk", b"first")
        assert not lambda_stub["slow"].invocations  # the handler has not finished
        release.set()
        assert event(next_message(response)) == ("PayloadChunk", b"second")
        assert event(next_message(response)) == ("InvokeComplete", b"{}")
        assert response.read() == b""  # the end of the chunked body
        # The connection is kept alive for the next request.
        connection.request("POST", invoke_path("echo"), body=b'{"next": 1}',
                           headers={"Authorization": SIGNED})
        assert connection.getresponse().read() == b'{"next": 1}'
    finally:
        connection.close()
    assert released == [True]  # the handler went on only once the first chunk had arrived
    record = record_of(lambda_stub, "slow")
    assert (record.request_id, record.source) == (request_id, "loopback")
    assert record.chunks == (b"first", b"second")
    assert record.response_payload == b"firstsecond"
    assert record.function_error is None


@serving
def test_streamed_answers_are_byte_for_byte_the_in_process_ones(lambda_stub: LambdaStub) -> None:
    def rows(event: Any, context: Any) -> Iterator[Any]:
        print("streaming rows")
        yield "["
        for n in range(event["n"]):
            yield {"n": n}
        yield b"]"

    def partial(event: Any, context: Any) -> Iterator[bytes]:
        yield b"first"
        raise RuntimeError("broke midway")

    def whole(event: Any, context: Any) -> Any:
        return {"whole": event}

    lambda_stub.add_function("rows", rows)
    lambda_stub.add_function("partial", partial)
    lambda_stub.add_function("whole", whole)
    in_process = client()
    for name in ("rows", "partial", "whole"):
        here = in_process.invoke_with_response_stream(FunctionName=name, Payload=b'{"n": 3}')
        own = messages(here["EventStream"]._raw_stream.read())
        status, headers, body = request(lambda_stub.endpoint_url, "POST", stream_path(name),
                                        b'{"n": 3}')
        there = messages(body)
        assert status == here["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert comparable(headers) == comparable(here["ResponseMetadata"]["HTTPHeaders"])
        # Byte for byte (the messages' lengths and checksums included), but for the request id
        # that an error payload carries.
        ids = (here["ResponseMetadata"]["RequestId"].encode(),
               headers["x-amzn-requestid"].encode())
        assert [(m.headers, m.payload.replace(ids[0], b"<id>")) for m in own] \
            == [(m.headers, m.payload.replace(ids[1], b"<id>")) for m in there], name
        if name != "partial":
            assert [(m.prelude.total_length, m.crc) for m in own] \
                == [(m.prelude.total_length, m.crc) for m in there], name
    records = [(r.function_name, r.source, r.chunks, r.function_error)
               for r in lambda_stub.invocations]
    assert records[0::2] == [(n, "in-process", c, e) for n, _, c, e in records[1::2]]
    assert [source for _, source, _, _ in records[1::2]] == ["loopback"] * 3


@serving
def test_a_failure_midway_ends_the_stream_with_the_error(
        lambda_stub: LambdaStub, release: threading.Event) -> None:
    def partial(event: Any, context: Any) -> Iterator[bytes]:
        yield b"first"
        release.wait(WAIT)
        print("about to fail")
        raise RuntimeError("broke midway")

    lambda_stub.add_function("partial", partial, timeout=WAIT * 2)
    connection, response = open_stream(lambda_stub.endpoint_url, "partial",
                                       headers={"X-Amz-Log-Type": "Tail"})
    try:
        assert response.status == 200
        assert response.getheader("X-Amz-Function-Error") is None  # it is in InvokeComplete
        assert event(next_message(response)) == ("PayloadChunk", b"first")
        assert not lambda_stub["partial"].invocations  # still running
        release.set()
        kind, payload = event(next_message(response))
        assert response.read() == b""
    finally:
        connection.close()
    assert kind == "InvokeComplete"
    complete = json.loads(payload)
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert (details["errorType"], details["errorMessage"]) == ("RuntimeError", "broke midway")
    record = record_of(lambda_stub, "partial")
    assert "about to fail" in record.log
    assert base64.b64decode(complete["LogResult"]).decode() in record.log
    assert record.chunks == (b"first",)
    assert record.function_error == "Unhandled"


def _stuck(release: threading.Event) -> Any:
    def stuck(event: Any, context: Any) -> Iterator[bytes]:
        yield b"first"
        release.wait(WAIT)  # past the function's timeout
        yield b"too late"

    return stuck


@serving
def test_a_timeout_midway_ends_the_stream_and_later_chunks_are_not_sent(
        lambda_stub: LambdaStub, release: threading.Event) -> None:
    lambda_stub.add_function("stuck", _stuck(release), timeout=1)
    connection, response = open_stream(lambda_stub.endpoint_url, "stuck")
    try:
        assert event(next_message(response)) == ("PayloadChunk", b"first")
        kind, payload = event(next_message(response))
        assert response.read() == b""
    finally:
        connection.close()
    assert kind == "InvokeComplete"
    complete = json.loads(payload)
    assert complete["ErrorCode"] == "Unhandled"
    assert json.loads(complete["ErrorDetails"])["errorType"] == "Sandbox.Timedout"
    record = record_of(lambda_stub, "stuck")
    assert (record.chunks, record.error_type) == ((b"first",), "Sandbox.Timedout")
    release.set()  # the abandoned handler yields again: nothing is sent, nothing is recorded
    assert lambda_stub._server is not None and lambda_stub._server.failures == []


def test_a_timeout_midway_in_process_sends_the_same_chunks(release: threading.Event) -> None:
    from pytest_lambda_stub import stub_lambda

    with stub_lambda() as stub:
        stub.add_function("stuck", _stuck(release), timeout=1)
        events = list(client().invoke_with_response_stream(FunctionName="stuck")["EventStream"])
    assert [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e] == [b"first"]
    details = json.loads(events[-1]["InvokeComplete"]["ErrorDetails"])
    assert details["errorType"] == "Sandbox.Timedout"
    assert stub["stuck"].invocations[0].chunks == (b"first",)


@serving
@pytest.mark.parametrize("case", ["throttled", "not found", "validation"])
def test_errors_before_the_handler_runs_are_plain_error_answers(
        lambda_stub: LambdaStub, case: str) -> None:
    ran: list[bool] = []

    def handler(event: Any, context: Any) -> Iterator[bytes]:
        ran.append(True)
        yield b"x"

    lambda_stub.add_function("f", handler, reserved_concurrency=0 if case == "throttled" else None)
    name = "missing" if case == "not found" else "f"
    lambda_stub.expect_missing("missing")
    headers = {"X-Amz-Invocation-Type": "Event"} if case == "validation" else {}
    status, answer_headers, body = request(lambda_stub.endpoint_url, "POST", stream_path(name),
                                           b"{}", headers=headers)
    expected = {"throttled": (429, "TooManyRequestsException"),
                "not found": (404, "ResourceNotFoundException"),
                "validation": (400, "ValidationException")}[case]
    assert (status, answer_headers["x-amzn-errortype"]) == expected
    assert "transfer-encoding" not in answer_headers
    assert answer_headers["content-length"] == str(len(body))
    assert answer_headers["content-type"] == "application/json"
    assert json.loads(body)
    assert ran == []


@serving
def test_a_client_gone_mid_stream_costs_nothing(lambda_stub: LambdaStub,
                                                release: threading.Event) -> None:
    finished = threading.Event()

    def long(event: Any, context: Any) -> Iterator[bytes]:
        try:
            yield b"first"
            release.wait(WAIT)  # until the client is gone
            for _ in range(64):  # enough to meet the closed socket
                yield b"x" * 65536
        finally:
            finished.set()

    lambda_stub.add_function("long", long, timeout=WAIT * 2)
    connection, response = open_stream(lambda_stub.endpoint_url, "long")
    assert event(next_message(response)) == ("PayloadChunk", b"first")
    assert not finished.is_set()
    assert connection.sock is not None
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    release.set()
    assert finished.wait(WAIT)
    record = record_of(lambda_stub, "long")
    # The handler ran to its end and everything it yielded is recorded, as in-process.
    assert record.function_error is None
    assert record.chunks is not None and len(record.chunks) == 65
    server = lambda_stub._server
    assert server is not None and server.failures == []
    # The endpoint still answers.
    status, _, body = request(lambda_stub.endpoint_url, "POST", stream_path("long"))
    assert status == 200 and len(messages(body)) == 66


@serving
def test_boto3_in_a_child_process_reads_chunks_as_they_come(
        lambda_stub: LambdaStub, release: threading.Event) -> None:
    def slow(event: Any, context: Any) -> Iterator[bytes]:
        yield b"first"
        if not release.wait(WAIT):
            raise RuntimeError("the child never said it had the first chunk")
        yield b"second"

    def said(event: Any, context: Any) -> str:
        release.set()  # the child has the first chunk: it tells us by invoking this
        return "ok"

    lambda_stub.add_function("slow", slow, timeout=WAIT * 2)
    lambda_stub.add_function("said", said)
    done = run_python("""
        import json, boto3
        lam = boto3.client("lambda")
        events = iter(lam.invoke_with_response_stream(FunctionName="slow")["EventStream"])
        first = next(events)
        lam.invoke(FunctionName="said")  # while "slow" still waits for it
        print(json.dumps([first["PayloadChunk"]["Payload"].decode()]
                         + [list(e)[0] for e in events]))
    """)
    assert json.loads(done.stdout) == ["first", "PayloadChunk", "InvokeComplete"]
    record = record_of(lambda_stub, "slow")
    assert (record.chunks, record.function_error, record.source) == (
        (b"first", b"second"), None, "loopback")


# -- hostile -------------------------------------------------------------------------------------

@serving
def test_concurrent_streams_are_each_read_while_their_handlers_run(
        lambda_stub: LambdaStub, release: threading.Event) -> None:
    def slow(event: Any, context: Any) -> Iterator[bytes]:
        yield json.dumps(event).encode()
        release.wait(WAIT)
        yield b"end"

    lambda_stub.add_function("slow", slow, timeout=WAIT * 2)
    streams = [open_stream(lambda_stub.endpoint_url, "slow", json.dumps({"n": n}).encode())
               for n in range(4)]
    try:
        # Every stream has its first chunk while all four handlers are still running.
        for n, (_, response) in enumerate(streams):
            assert event(next_message(response)) == ("PayloadChunk", b'{"n": %d}' % n)
        assert not lambda_stub["slow"].invocations
        release.set()
        for _, response in streams:
            assert [event(m)[0] for m in messages(response.read())] == [
                "PayloadChunk", "InvokeComplete"]
    finally:
        for connection, _ in streams:
            connection.close()
    record_of(lambda_stub, "slow", 4)
    assert sorted(r.chunks for r in lambda_stub["slow"].invocations) == [
        (b'{"n": %d}' % n, b"end") for n in range(4)]


def test_stop_cuts_off_a_stream_past_the_grace(monkeypatch: pytest.MonkeyPatch,
                                               release: threading.Event) -> None:
    from pytest_lambda_stub.server import lifecycle

    monkeypatch.setattr(lifecycle, "DRAIN_TIMEOUT", 0.2)
    finished = threading.Event()

    def slow(event: Any, context: Any) -> Iterator[bytes]:
        try:
            yield b"first"
            release.wait(WAIT)
            yield b"after the stop"
        finally:
            finished.set()

    stub = LambdaStub(export_endpoint=False, strict=False)
    stub.add_function("slow", slow, timeout=WAIT * 2)
    stub.start()
    url = stub.serve()
    connection, response = open_stream(url, "slow")
    try:
        assert event(next_message(response)) == ("PayloadChunk", b"first")
        server = stub._server
        stub.stop()  # the stream is cut off: the client sees the connection closed
        assert server is not None and server.cut_off == 1
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            response.read()
    finally:
        connection.close()
    release.set()  # the handler runs on, writes to a closed connection: nothing raises
    assert finished.wait(WAIT)
    record = record_of(stub, "slow")
    assert record.chunks == (b"first", b"after the stop")
    assert server.failures == []


def test_a_stream_sink_gets_headers_then_each_chunk_off_the_main_thread(
        release: threading.Event) -> None:
    """The service's side of it, through the raw entry point: ``begin`` before the handler
    runs, ``chunk`` as each item is yielded (from a worker thread even when called on the main
    thread, so SIGALRM never interrupts a chunk being sent), the whole answer at the end."""
    from pytest_lambda_stub import stub_lambda
    from pytest_lambda_stub.interception import dispatch

    seen: list[Any] = []

    class Sink:
        def begin(self, headers: Any) -> None:
            seen.append(("begin", dict(headers)))

        def chunk(self, data: bytes) -> None:
            seen.append(("chunk", data, threading.current_thread() is threading.main_thread()))

    def gen(event: Any, context: Any) -> Iterator[bytes]:
        seen.append(("ran",))
        yield b"a"
        yield b"b"
        release.wait(WAIT)  # past the timeout
        yield b"late"

    with stub_lambda(strict=False) as stub:
        stub.add_function("gen", gen, timeout=1)
        answer = dispatch.answer(stub._service, "InvokeWithResponseStream", "POST",
                                 stream_path("gen"), {}, b"{}", "us-east-1", None,
                                 stream=Sink())
        release.set()
    assert answer is not None and answer.chunks == [b"a", b"b"]
    assert answer.complete is not None and answer.complete["ErrorCode"] == "Unhandled"
    assert seen[0] == ("begin", answer.headers)
    assert seen[1:] == [("ran",), ("chunk", b"a", False), ("chunk", b"b", False)]


def test_a_request_sent_once_the_stream_has_begun_is_recorded_after_it() -> None:
    """The client has the stream's headers before its run starts, and may send its next request
    at once (on another connection): records stay in the order the requests arrived."""
    from pytest_lambda_stub import stub_lambda
    from pytest_lambda_stub.interception import dispatch

    def gen(event: Any, context: Any) -> Iterator[bytes]:
        yield b"a"

    with stub_lambda(strict=False) as stub:
        stub.add_function("gen", gen)
        stub.add_function("other", lambda event, context: "other")

        class Sink:
            def begin(self, headers: Any) -> None:
                # The next request, answered before the stream's run starts.
                assert client().invoke(FunctionName="other")["StatusCode"] == 200

            def chunk(self, data: bytes) -> None:
                pass

        dispatch.answer(stub._service, "InvokeWithResponseStream", "POST",
                        stream_path("gen"), {}, b"{}", "us-east-1", None, stream=Sink())
    assert [r.function_name for r in stub.invocations] == ["gen", "other"]
