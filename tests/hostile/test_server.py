"""Hostile tests of the loopback endpoint: malformed and oversized requests, clients that vanish,
stop() with requests in flight, concurrency and keep-alive, and serving started and stopped many
times from many threads."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_lambda_stub import LambdaStub, stub_lambda
from pytest_lambda_stub.server import handler, lifecycle
from pytest_lambda_stub.server.lifecycle import ENV_VAR, LoopbackServer
from pytest_lambda_stub.service.payloads import SYNC_PAYLOAD_LIMIT
from tests.loopback import SIGNED, connect, invoke_path, request

WAIT = 30.0  # generous: the machine is loaded


def echo(event: Any, context: Any) -> Any:
    return {"got": event}


@pytest.fixture
def stub() -> Iterator[LambdaStub]:
    with stub_lambda({"echo": echo}, serve=True, export_endpoint=False) as active:
        yield active


def server_of(stub: LambdaStub) -> LoopbackServer:
    server = stub._server
    assert server is not None
    return server


def raw(url: str, data: bytes, *, read: bool = True) -> bytes:
    """Send raw bytes on a fresh socket; everything the server sends back until it closes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=WAIT) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def hung_up(sock: socket.socket) -> bool:
    """Whether the server closed this connection (end of stream, or a reset)."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def parse(response: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, json.loads(body)


# -- malformed and oversized requests -----------------------------------------------------------

def test_malformed_request_line_gets_a_400_with_a_clear_body(stub: LambdaStub) -> None:
    status, headers, body = parse(raw(stub.endpoint_url, b"NONSENSE\r\n\r\n"))
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert "lambda_stub loopback endpoint: Bad request syntax" in body["message"]


@pytest.mark.parametrize("lengths", [["abc"], ["-5"], ["1.5"], ["\u00b2"], ["2", "3"]])
def test_bad_content_length_gets_a_400(stub: LambdaStub, lengths: list[str]) -> None:
    path = invoke_path("echo").encode()
    fields = b"".join(b"Content-Length: " + n.encode("latin-1") + b"\r\n" for n in lengths)
    status, headers, body = parse(raw(stub.endpoint_url, b"POST " + path + b" HTTP/1.1\r\n"
                                      b"Host: x\r\n" + fields + b"\r\n{}"))
    assert status == 400 and headers["connection"] == "close"
    assert f"bad Content-Length {', '.join(map(repr, lengths))}" in body["message"]
    assert stub.invocations == []


def test_chunked_request_body_gets_a_411(stub: LambdaStub) -> None:
    path = invoke_path("echo").encode()
    status, _, body = parse(raw(stub.endpoint_url, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"))
    assert status == 411
    assert "Content-Length" in body["message"]


@pytest.mark.parametrize("expect", [False, True])
def test_oversized_body_is_refused_unread(stub: LambdaStub, expect: bool) -> None:
    path = invoke_path("echo").encode()
    head = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + str(handler.MAX_BODY + 1).encode() + b"\r\n"
            + (b"Expect: 100-continue\r\n" if expect else b"") + b"\r\n")
    status, headers, body = parse(raw(stub.endpoint_url, head))  # the body is never sent
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
    assert body == {"message": "Request must be smaller than 6291456 bytes for the "
                               "InvokeFunction operation"}  # AWS's text
    assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200  # still serving


def test_payload_over_lambdas_limit_gets_the_services_own_answer(stub: LambdaStub) -> None:
    status, headers, body = request(stub.endpoint_url, "POST", invoke_path("echo"),
                                    b"x" * (SYNC_PAYLOAD_LIMIT + 1))
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
    assert json.loads(body) == {"message": "Request must be smaller than 6291456 bytes for the "
                                           "InvokeFunction operation"}
    [run] = stub.invocations
    assert (run.error_code, run.source) == ("RequestEntityTooLargeException", "loopback")


def test_too_many_headers_get_a_clear_answer(stub: LambdaStub) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(150))
    status, _, body = parse(raw(stub.endpoint_url, b"GET / HTTP/1.1\r\nHost: x\r\n" + many
                                + b"\r\n"))
    assert status == 431
    assert "Too many headers" in body["message"]


def test_unsupported_method_and_version(stub: LambdaStub) -> None:
    status, _, body = parse(raw(stub.endpoint_url, b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 501 and "BREW" in body["message"]
    status, _, body = parse(raw(stub.endpoint_url, b"GET / HTTP/3.0\r\nHost: x\r\n\r\n"))
    assert status == 505


def test_a_failing_answer_is_a_500_and_noted(stub: LambdaStub,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr(handler.dispatch, "answer", broken)
    status, headers, body = request(stub.endpoint_url, "POST", invoke_path("echo"))
    assert (status, headers["x-amzn-errortype"]) == (500, "ServiceException")
    assert "answering Invoke raised KeyError: 'surprise'" in json.loads(body)["message"]
    assert server_of(stub).failures == [
        "loopback endpoint: answering Invoke raised KeyError: 'surprise'"]
    with pytest.warns(UserWarning, match="failed answering:\n  loopback endpoint: answering "
                                         "Invoke raised KeyError"):
        stub.stop()
    assert not stub.active and ENV_VAR not in os.environ


def test_a_warning_turned_error_still_tears_everything_down(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_lambda_stub.interception import hooks

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr(handler.dispatch, "answer", broken)
    stub = LambdaStub({"echo": echo}, serve=True).start()
    assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 500
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="failed answering"):
            stub.stop()
    assert not stub.active and not hooks.is_installed() and ENV_VAR not in os.environ


def test_a_serve_that_cannot_start_leaves_nothing_started(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_lambda_stub.interception import hooks

    def no_port(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no port for you")

    monkeypatch.setattr(lifecycle, "LoopbackHTTPServer", no_port)
    stub = LambdaStub({"echo": echo}, serve=True)
    with pytest.raises(OSError, match="no port for you"), stub:
        pass
    assert not stub.active and not hooks.is_installed() and ENV_VAR not in os.environ


def test_a_refusal_with_its_own_http_answer_is_sent_as_is(
        stub: LambdaStub, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refused(Exception):
        def wire(self) -> tuple[int, dict[str, str], bytes]:
            return 501, {"x-amzn-ErrorType": "NotEmulated"}, b'{"message": "not emulated"}'

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise Refused()

    monkeypatch.setattr(handler.dispatch, "answer", refuse)
    status, headers, body = request(stub.endpoint_url, "POST", invoke_path("echo"))
    assert (status, headers["x-amzn-errortype"], body) == (
        501, "NotEmulated", b'{"message": "not emulated"}')
    assert server_of(stub).failures == []


# -- clients that vanish ------------------------------------------------------------------------

def test_client_gone_mid_body_costs_nothing(stub: LambdaStub) -> None:
    path = invoke_path("echo").encode()
    raw(stub.endpoint_url, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        b"\r\n{\"partial\"", read=False)
    assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200
    assert len(stub.invocations) == 1  # the cut-off request never reached the service
    assert server_of(stub).failures == []


def test_client_gone_mid_answer_costs_nothing(stub: LambdaStub) -> None:
    big = "x" * 5_000_000
    stub.add_function("big", lambda event, context: big)
    stub.add_function("chunks", lambda event, context: [big[:1000]] * 2000)
    for path in (invoke_path("big"), "/2021-11-15/functions/chunks/response-streaming-invocations"):
        connection = connect(stub.endpoint_url)
        connection.request("POST", path, body=b"{}", headers={"Authorization": SIGNED})
        response = connection.getresponse()
        response.read(10)
        connection.sock.close()  # type: ignore[union-attr]
        connection.close()
    assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200
    assert [r.function_name for r in stub.invocations] == ["big", "chunks", "echo"]
    assert server_of(stub).failures == []


def test_client_gone_while_the_handler_runs(stub: LambdaStub) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(event: Any, context: Any) -> Any:
        started.set()
        release.wait(WAIT)
        return "late"

    stub.add_function("slow", slow, timeout=60)
    path = invoke_path("slow").encode()
    raw(stub.endpoint_url, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        read=False)  # sent, then the socket is closed at once
    assert started.wait(WAIT)
    release.set()
    assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200
    assert {r.function_name for r in stub.invocations} == {"slow", "echo"}
    assert server_of(stub).failures == []


# -- stop() with requests in flight -------------------------------------------------------------

def _in_thread(target: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = target()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_stop_answers_requests_that_finish_within_the_grace() -> None:
    started, release = threading.Event(), threading.Event()

    def slow(event: Any, context: Any) -> Any:
        started.set()
        release.wait(WAIT)
        return "done"

    stub = LambdaStub({"slow": slow}, export_endpoint=False)
    stub.start()
    url = stub.serve()
    caller, result = _in_thread(lambda: request(url, "POST", invoke_path("slow")))
    assert started.wait(WAIT)
    # stop() runs on the main thread (see the note at the end of this module); the handler is
    # released while it waits for the request in flight.
    releaser = threading.Timer(0.2, release.set)
    releaser.start()
    stub.stop()
    releaser.join(WAIT)
    caller.join(WAIT)
    status, _, body = result["value"]
    assert (status, body) == (200, b'"done"')
    with pytest.raises(ConnectionRefusedError):
        request(url, "POST", invoke_path("slow"))


def test_stop_cuts_off_requests_past_the_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "DRAIN_TIMEOUT", 0.2)
    started, release = threading.Event(), threading.Event()

    def stuck(event: Any, context: Any) -> Any:
        started.set()
        release.wait(WAIT)
        return "too late"

    stub = LambdaStub({"stuck": stuck}, export_endpoint=False, strict=False)
    stub.start()
    url = stub.serve()
    caller, result = _in_thread(lambda: request(url, "POST", invoke_path("stuck")))
    assert started.wait(WAIT)
    stub.stop()
    caller.join(WAIT)
    assert not caller.is_alive()
    assert isinstance(result.get("error"), (http.client.RemoteDisconnected, ConnectionError))
    with pytest.raises(ConnectionRefusedError):
        request(url, "POST", invoke_path("stuck"))
    release.set()


def test_stop_closes_idle_and_stalled_connections() -> None:
    stub = LambdaStub({"echo": echo}, export_endpoint=False)
    stub.start()
    url = stub.serve()
    idle = connect(url)
    idle.request("POST", invoke_path("echo"), body=b"{}", headers={"Authorization": SIGNED})
    assert idle.getresponse().read() == b'{"got": {}}'
    parts = urlsplit(url)
    stalled = socket.create_connection((parts.hostname, parts.port), timeout=WAIT)
    stalled.sendall(b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\n")
    server = server_of(stub)
    server.stop(grace=WAIT)
    assert server.cut_off == 0  # neither connection counted as in flight
    stub.stop()
    assert hung_up(stalled)
    assert idle.sock is not None and hung_up(idle.sock)
    stalled.close()
    idle.close()


# -- concurrency and keep-alive -----------------------------------------------------------------

def test_requests_are_answered_in_parallel_on_keep_alive_connections(stub: LambdaStub) -> None:
    barrier = threading.Barrier(6, timeout=WAIT)

    def meet(event: Any, context: Any) -> Any:
        if event.get("meet"):
            barrier.wait()  # breaks unless 6 requests are being answered at once
        return event

    stub.add_function("meet", meet)
    sockets: list[Any] = []

    def client(worker: int) -> list[int]:
        connection = connect(stub.endpoint_url)
        statuses = []
        for n in range(10):
            body = json.dumps({"meet": n == 0, "worker": worker, "n": n}).encode()
            connection.request("POST", invoke_path("meet"), body=body,
                               headers={"Authorization": SIGNED})
            response = connection.getresponse()
            statuses.append(response.status)
            response.read()
            sockets.append((worker, connection.sock))
        connection.close()
        return statuses

    threads = [_in_thread(lambda w=w: client(w)) for w in range(6)]
    for thread, _ in threads:
        thread.join(WAIT * 2)
    assert [result.get("value") for _, result in threads] == [[200] * 10] * 6
    assert len({id(sock) for _, sock in sockets}) == 6  # one connection per client, kept alive
    assert len(stub["meet"].invocations) == 60
    assert server_of(stub).requests == 60


def test_serve_from_many_threads_starts_one_server() -> None:
    with stub_lambda({"echo": echo}, export_endpoint=False) as stub:
        threads = [_in_thread(stub.serve) for _ in range(8)]
        for thread, _ in threads:
            thread.join(WAIT)
        assert {result["value"] for _, result in threads} == {stub.endpoint_url}


def test_serve_and_stop_many_times() -> None:
    before = threading.active_count()
    stub = LambdaStub({"echo": echo}, serve=True)
    urls = set()
    for _ in range(15):
        with stub:
            urls.add(stub.endpoint_url)
            assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200
            assert [r.source for r in stub.invocations] == ["loopback"]
        assert lifecycle.ENV_VAR not in os.environ
    assert len(urls) >= 2  # a fresh server (and port) each run
    deadline = time.monotonic() + WAIT
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)  # connection threads end just after their socket is closed
    assert threading.active_count() <= before  # no server or connection thread left behind


# -- beside other libraries ---------------------------------------------------------------------

def test_serving_beside_motos_mock_aws() -> None:
    moto = pytest.importorskip("moto")
    import boto3

    from tests.loopback import run_python

    with moto.mock_aws(), stub_lambda({"echo": echo}, serve=True) as stub:
        sqs = boto3.client("sqs", region_name="eu-west-1")  # moto still answers other services
        assert sqs.create_queue(QueueName="q")["QueueUrl"].endswith("/q")
        in_process = boto3.client("lambda", region_name="eu-west-1")
        assert in_process.invoke(FunctionName="echo", Payload=b"1")["StatusCode"] == 200
        done = run_python("""
            import boto3
            print(boto3.client("lambda").invoke(FunctionName="echo", Payload=b"2")["StatusCode"])
        """)
        assert done.stdout.strip() == "200"
        assert [(r.event, r.source) for r in stub.invocations] == [
            (1, "in-process"), (2, "loopback")]
        assert server_of(stub).requests == 1

