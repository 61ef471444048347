"""The loopback endpoint's HTTP side: the standard library's ``ThreadingHTTPServer`` (a thread per
connection, HTTP/1.1 keep-alive), and a request handler that hands each request to the service
through ``interception.dispatch`` and writes its answer back byte for byte.

- The signature is not checked (any credentials, or none, are accepted); the region is read from
  the SigV4 ``Authorization`` header's credential scope (``us-east-1`` when unsigned).
- Bodies need a ``Content-Length`` (chunked request bodies get ``411``); bodies over
  ``MAX_BODY`` get AWS's ``413 RequestEntityTooLargeException`` without being read; anything the
  standard library refuses to parse gets its status with a JSON body saying why.
- A scripted transport fault (``fail("ReadTimeoutError")``, ``"ConnectionClosedError"``,
  ``"EndpointConnectionError"``) drops the connection without an answer: the client sees a
  closed connection (botocore: ``ConnectionClosedError``, which it retries).
- ``InvokeWithResponseStream`` is answered as it is produced (``server.streaming``): headers
  when the function is about to run, one HTTP chunk per event-stream message as the handler
  yields, ``InvokeComplete`` at the end.
- A client gone mid-answer costs nothing: the write error is swallowed, the connection closed
  (a streaming handler runs on to its end, and is recorded as usual).
- ``stop()`` closes the port, closes idle keep-alive connections, waits a while for requests
  being answered, then closes theirs (those clients see a closed connection).
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from ..interception import dispatch
from ..service import errors
from ..service import source as request_source
from ..service.payloads import SYNC_PAYLOAD_LIMIT
from ..service.state import LambdaService, new_request_id
from ..service.wire import Answer
from .streaming import StreamWriter

MAX_BODY = 16 * 1024 * 1024  # well over Lambda's 6 MB, so the service answers every oversize
IDLE_TIMEOUT = 120.0  # seconds a connection may sit idle (or stall mid-request)
DEFAULT_REGION = "us-east-1"
_SCOPE = re.compile(r"Credential=[^/,\s]*/\d{8}/([^/,\s]+)/")
_GONE = (ConnectionError, TimeoutError, OSError)


def region_of(authorization: str | None) -> str:
    """The region of a SigV4 ``Authorization`` header's credential scope (default us-east-1)."""
    if authorization:
        match = _SCOPE.search(authorization)
        if match is not None:
            return match.group(1)
    return DEFAULT_REGION


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that knows its open connections, so ``close()`` can
    end idle ones at once and busy ones after a grace period."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, service: LambdaService) -> None:
        super().__init__(("127.0.0.1", 0), LoopbackHandler)
        self.service = service
        self.endpoint_url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests = 0  # HTTP requests received (answered, refused or cut off)
        self.failures: list[str] = []  # unexpected errors answering, for the stub's report
        self._lock = threading.Condition()
        self._connections: dict[socket.socket, bool] = {}  # connection -> busy
        self._closing = False

    # -- connections --------------------------------------------------------------------------

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections[connection] = False
            closing = self._closing
        if closing:
            _hang_up(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)
            self._lock.notify_all()

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def begin(self, connection: socket.socket) -> bool:
        """Mark a connection busy answering; False once the server is closing."""
        with self._lock:
            if self._closing:
                return False
            self._connections[connection] = True
            return True

    def end(self, connection: socket.socket) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections[connection] = False
            self._lock.notify_all()

    def fail(self, problem: str) -> None:
        with self._lock:
            self.failures.append(problem)

    def close(self, grace: float) -> int:
        """Stop accepting and close the port; close idle connections now and busy ones after
        ``grace`` seconds. Returns how many requests were cut off unanswered."""
        with self._lock:
            self._closing = True
        self.shutdown()
        self.server_close()
        with self._lock:
            idle = [conn for conn, busy in self._connections.items() if not busy]
        for connection in idle:
            _hang_up(connection)
        deadline = time.monotonic() + grace
        with self._lock:
            while any(self._connections.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            cut = [conn for conn, busy in self._connections.items() if busy]
            rest = list(self._connections)
        for connection in rest:
            _hang_up(connection)
        return len(cut)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, _GONE):
            return  # a client gone, or the connection closed by close(): nothing to report
        self.fail(f"loopback endpoint: {type(exc).__name__}: {exc}")


def _hang_up(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class LoopbackHandler(BaseHTTPRequestHandler):
    """One connection: requests answered in turn (keep-alive) until the client closes it."""

    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # even a garbled request line gets a status line
    timeout = IDLE_TIMEOUT
    wbufsize = 65536  # headers and body leave in one send; see also TCP_NODELAY below
    server: LoopbackHTTPServer

    def setup(self) -> None:
        super().setup()
        # Small answers must not wait for the client's delayed ACK (Nagle): 40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except _GONE:
            pass
        finally:
            self.server.closed(self.connection)

    def parse_request(self) -> bool:
        self.server.count()
        return super().parse_request()

    def version_string(self) -> str:
        return "lambda-stub"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the records say what was asked

    # -- HTTP-level refusals ------------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """What the standard library refuses to parse (bad request line, too many or too long
        headers, unsupported method or version): its status with a JSON body saying why."""
        text = message or self.responses.get(code, ("error",))[0]
        if explain:
            text = f"{text}: {explain}"
        self._refuse(errors.ServiceError(
            "InvalidRequestException" if code < 500 else "ServiceException", code,
            {"Type": "User" if code < 500 else "Service",
             "message": f"lambda_stub loopback endpoint: {text}"}), close=True)

    def handle_expect_100(self) -> bool:
        refusal = self._body_refusal()
        if refusal is not None:
            self._refuse(refusal, close=True)
            return False
        return super().handle_expect_100()

    def _body_refusal(self) -> errors.ServiceError | None:
        if self.headers.get("Transfer-Encoding"):
            return errors.ServiceError("LengthRequiredException", 411, {
                "Type": "User", "message": "lambda_stub loopback endpoint: send the body with a "
                "Content-Length (chunked request bodies are not accepted)"})
        given = self.headers.get_all("Content-Length") or []
        if not given:
            return None
        raw = given[0].strip()
        if len(set(given)) > 1 or not (raw.isascii() and raw.isdigit()):
            return errors.ServiceError("InvalidRequestException", 400, {
                "Type": "User", "message": f"lambda_stub loopback endpoint: bad Content-Length "
                                           f"{', '.join(map(repr, given))}"})
        if int(raw) > MAX_BODY:  # AWS's answer to any oversized Invoke, without reading it
            return errors.too_large(f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes "
                                    f"for the InvokeFunction operation")
        return None

    # -- requests -----------------------------------------------------------------------------

    def _serve(self) -> None:
        connection = self.connection
        refusal = self._body_refusal()
        if refusal is not None:
            self._refuse(refusal, close=True)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True  # the client went away mid-body
            return
        if not self.server.begin(connection):
            self._refuse(errors.ServiceError("ServiceException", 503, {
                "Type": "Service",
                "message": "lambda_stub loopback endpoint: the stub is stopping"}), close=True)
            return
        try:
            self._answer(body)
        finally:
            self.server.end(connection)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def _answer(self, body: bytes) -> None:
        path = urlsplit(self.path).path
        found = dispatch.route(self.command, self.path)
        if found is None:
            self._refuse(errors.ServiceError("UnknownOperationException", 404, {
                "message": f"lambda_stub loopback endpoint: {self.command} {path} is no "
                           f"operation of the Lambda API"}))
            return
        operation, labels = found
        headers = {name.lower(): value for name, value in self.headers.items()}
        region = region_of(headers.get("authorization"))
        url = self.server.endpoint_url + self.path
        writer = StreamWriter(self) if operation == "InvokeWithResponseStream" else None
        try:
            with request_source.via(request_source.LOOPBACK):
                answer = dispatch.answer(self.server.service, operation, self.command, url,
                                         headers, body, region, None,
                                         source=request_source.LOOPBACK, stream=writer)
        except errors.TransportFault:
            self.close_connection = True  # a scripted network fault: no answer at all
            _hang_up(self.connection)
            return
        except Exception as exc:
            if writer is not None and writer.begun:
                # A stream under way cannot turn into an error answer: cut it off.
                self.server.fail(f"loopback endpoint: answering {operation} raised "
                                 f"{type(exc).__name__}: {exc}")
                self.close_connection = True
                _hang_up(self.connection)
                return
            wire = getattr(exc, "wire", None)
            if callable(wire):  # a refusal with its own HTTP answer (an operation not emulated)
                status, headers, answer_body = wire()
                headers["x-amzn-RequestId"] = new_request_id()
                self._send(Answer(status, headers, answer_body))
                return
            problem = (f"loopback endpoint: answering {operation} raised "
                       f"{type(exc).__name__}: {exc}")
            self.server.fail(problem)
            self._refuse(errors.ServiceError("ServiceException", 500, {
                "Type": "Service", "message": f"lambda_stub {problem}"}))
            return
        if answer is None:
            self._refuse(_unanswered(self.server.service, operation, labels))
            return
        if answer.chunks is not None:  # an event stream: what was not sent as it came
            stream = writer if writer is not None else StreamWriter(self)
            stream.finish(answer)
            if stream.gone:
                self.close_connection = True  # the client went away: nothing more to do
            return
        self._send(answer)

    # -- writing ------------------------------------------------------------------------------

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
            self.wfile.flush()
        except _GONE:
            self.close_connection = True  # the client went away: nothing more to do

    def _refuse(self, error: errors.ServiceError, *, close: bool = False) -> None:
        status, headers, body = error.wire()
        headers["x-amzn-RequestId"] = new_request_id()
        if close:
            headers["Connection"] = "close"
            self.close_connection = True
        self._send(Answer(status, headers, body))


def _unanswered(service: LambdaService, operation: str,
                labels: dict[str, str]) -> errors.ServiceError:
    name = labels.get("FunctionName")
    if name is not None and not service.answers(name):
        why = (f"function {name!r} is passthrough, and the loopback endpoint never forwards to "
               f"AWS: call it with a client whose endpoint is AWS's (clients created while the "
               f"stub serves read AWS_ENDPOINT_URL_LAMBDA: pass endpoint_url=, or serve with "
               f"export_endpoint=False)")
    else:
        why = (f"{operation} is passthrough, and the loopback endpoint never forwards to AWS: "
               f"call it with a client whose endpoint is AWS's (pass endpoint_url=, or serve "
               f"with export_endpoint=False)")
    return errors.ServiceError("LambdaStubUnansweredException", 400, {
        "Type": "User", "message": f"lambda_stub loopback endpoint: {why}"})
