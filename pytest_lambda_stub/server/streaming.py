"""Writing an ``InvokeWithResponseStream`` answer as it is produced: the status line and headers
when the function is about to run, then one HTTP chunk per event-stream message as the handler
yields, then the rest (``InvokeComplete``) once the service has the whole answer.

The service calls ``chunk`` on the handler's thread; a client gone mid-stream makes every later
write a no-op (the handler runs on, its record is kept). The messages are the ones the in-process
path gives botocore (``transport.stream_frames``), byte for byte."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler

from ..interception import eventstream
from ..service.wire import Answer

_GONE = (ConnectionError, TimeoutError, OSError)


class StreamWriter:
    """A ``service.wire.ResponseStream`` over one HTTP/1.1 connection (chunked transfer)."""

    def __init__(self, http: BaseHTTPRequestHandler) -> None:
        self._http = http
        self._lock = threading.Lock()
        self.begun = False
        self.gone = False  # the client went away: nothing more is written
        self._finished = False
        self._sent = 0  # chunks handed to us (written, or dropped for a client gone)

    def begin(self, headers: Mapping[str, str]) -> None:
        with self._lock:
            if self.begun:
                return
            self.begun = True
            http = self._http
            try:
                http.send_response(200)
                for name, value in headers.items():
                    http.send_header(name, value)
                http.send_header("Transfer-Encoding", "chunked")
                http.end_headers()
                http.wfile.flush()
            except _GONE:
                self.gone = True

    def chunk(self, data: bytes) -> None:
        with self._lock:
            if self._finished:
                return
            self._sent += 1
            self._write(eventstream.payload_chunk(data))

    def finish(self, answer: Answer) -> None:
        """The whole answer (headers already sent by ``begin``, or sent now): the chunks not
        sent yet, ``InvokeComplete``, the end of the chunked body."""
        self.begin(answer.headers)
        with self._lock:
            self._finished = True
            for data in (answer.chunks or ())[self._sent:]:
                self._write(eventstream.payload_chunk(data))
            self._write(eventstream.invoke_complete(answer.complete or {}))
            self._write(b"", last=True)

    def _write(self, frame: bytes, *, last: bool = False) -> None:
        if self.gone:
            return
        wfile = self._http.wfile
        try:
            if last:
                wfile.write(b"0\r\n\r\n")
            else:  # one HTTP chunk per event-stream message
                wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            wfile.flush()
        except _GONE:
            self.gone = True
