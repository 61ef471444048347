"""The chunks a streaming handler sends (``InvokeWithResponseStream``), kept in order and, when
the caller asked for them as they come, handed to its ``on_chunk`` at once.

A handler abandoned at its deadline may still yield on its worker thread: ``close()`` ends the
stream, so what the answer (and the record) says was sent is exactly what ``on_chunk`` got."""

from __future__ import annotations

import threading
from collections.abc import Callable


class ChunkStream:
    """The chunks of one run: appended by the handler's thread, closed by the caller's."""

    __slots__ = ("_closed", "_lock", "_on_chunk", "chunks")

    def __init__(self, on_chunk: Callable[[bytes], None] | None = None) -> None:
        self.chunks: list[bytes] = []
        self._on_chunk = on_chunk
        self._lock = threading.Lock()
        self._closed = False

    def add(self, chunk: bytes) -> None:
        """One chunk yielded by the handler (dropped once the stream is closed)."""
        with self._lock:  # held while on_chunk sends, so close() never cuts a chunk in half
            if self._closed:
                return
            self.chunks.append(chunk)
            if self._on_chunk is not None:
                self._on_chunk(chunk)

    def close(self) -> list[bytes]:
        """No more chunks: those sent so far."""
        with self._lock:
            self._closed = True
            return list(self.chunks)
