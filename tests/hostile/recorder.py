"""A local HTTP endpoint (127.0.0.1, a free port) that records every request it receives and
answers like Lambda's Invoke (200, ``{}``): the endpoint_url of clients whose requests must
never be sent, or must be sent exactly as botocore sends them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(Seen(self.command, self.path, tuple(self.headers.items()), body))
        reply = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("X-Amz-Executed-Version", "$LATEST")
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = _record

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def recording_endpoint() -> Iterator[tuple[str, list[Seen]]]:
    """``(endpoint_url, seen)``: the URL to give a client, the requests received so far."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    seen: list[Seen] = []
    server.seen = seen  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="recording-endpoint",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
