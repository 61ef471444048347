"""The thin adapter between botocore's HTTP types and the service's plain request/answer."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from ..service.wire import Answer
from . import eventstream

# botocore's default is 60 s; a Config(read_timeout=...) overrides it per client.
DEFAULT_READ_TIMEOUT = 60.0
ANSWERED_URL = "https://lambda-stub.invalid/answered"


class RawBody(io.BytesIO):
    """A response body with the reads botocore uses on urllib3's raw stream."""

    def stream(self, amt: int = 65536, **_: Any) -> Iterator[bytes]:
        while True:
            chunk = self.read(amt)
            if not chunk:
                return
            yield chunk


class ChunkedRaw:
    """An event-stream body delivered frame by frame."""

    def __init__(self, frames: list[bytes]) -> None:
        self._frames = frames

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield from self._frames

    def read(self, amt: int | None = None) -> bytes:
        data = b"".join(self._frames)
        self._frames = []
        return data

    def close(self) -> None:
        self._frames = []


class AioContent:
    """What aiobotocore reads from an aiohttp response's ``content`` (a ``StreamReader``):
    ``read(n)``, ``at_eof()`` and, for event streams, ``iter_chunks()`` (one chunk per frame)."""

    def __init__(self, parts: list[bytes]) -> None:
        self._parts = [part for part in parts if part]

    def at_eof(self) -> bool:
        return not self._parts

    async def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            data = b"".join(self._parts)
            self._parts = []
            return data
        out = bytearray()
        while self._parts and len(out) < n:
            part = self._parts[0]
            wanted = n - len(out)
            out += part[:wanted]
            if len(part) > wanted:
                self._parts[0] = part[wanted:]
            else:
                self._parts.pop(0)
        return bytes(out)

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        while self._parts:
            yield self._parts.pop(0), True

    def close(self) -> None:
        self._parts = []


class AioRawBody:
    """An aiohttp-like raw response for aiobotocore: ``await read()`` for the whole body, and
    ``content`` for ``AioStreamingBody`` and event streams."""

    def __init__(self, url: str, parts: list[bytes]) -> None:
        self.url = url
        self.content = AioContent(parts)

    async def read(self) -> bytes:
        return await self.content.read()

    def close(self) -> None:
        self.content.close()

    def release(self) -> None:
        self.content.close()


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)
    if read is not None:
        position = body.tell() if hasattr(body, "tell") else None
        data = read()
        if position is not None:
            body.seek(position)
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return bytes(body)


def stream_frames(answer: Answer) -> list[bytes]:
    """The event-stream messages of a streaming answer: its chunks, then ``InvokeComplete``."""
    frames = [eventstream.payload_chunk(chunk) for chunk in answer.chunks or ()]
    frames.append(eventstream.invoke_complete(answer.complete or {}))
    return frames


def to_response(url: str, answer: Answer) -> AWSResponse:
    if answer.chunks is not None:
        headers: Any = answer.headers
        return AWSResponse(url, answer.status, headers, ChunkedRaw(stream_frames(answer)))
    plain: Any = answer.headers
    plain["Content-Length"] = str(len(answer.body))
    return AWSResponse(url, answer.status, plain, RawBody(answer.body))


def to_aio_parts(answer: Answer) -> tuple[dict[str, str], list[bytes]]:
    """Headers and body parts of an answer, for an aiobotocore response."""
    headers = dict(answer.headers)
    if answer.chunks is not None:
        return headers, stream_frames(answer)
    headers["Content-Length"] = str(len(answer.body))
    return headers, [answer.body]


def fault(name: str, url: str) -> Exception:
    if name == "ReadTimeoutError":
        return ReadTimeoutError(endpoint_url=url)
    if name == "ConnectionClosedError":
        return ConnectionClosedError(endpoint_url=url)
    return EndpointConnectionError(endpoint_url=url)
