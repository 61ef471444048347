"""The thin adapter between botocore's HTTP types and the service's plain request/answer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from ..service.wire import Answer, Request
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


def function_name_from_url(url: str) -> tuple[str, str | None]:
    """FunctionName and Qualifier from an Invoke-family URL."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    # /<api-version>/functions/<FunctionName>/<action>
    name = unquote(segments[3]) if len(segments) > 3 else ""
    qualifier = None
    if parts.query:
        values = parse_qs(parts.query, keep_blank_values=True).get("Qualifier")
        if values:
            qualifier = values[0]
    return name, qualifier


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


_WANTED_HEADERS = ("X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context",
                   "X-Amz-Tenant-Id")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def to_request(request: AWSPreparedRequest, name: str, qualifier: str | None, operation: str,
               region: str, read_timeout: float | None) -> Request:
    source = request.headers
    headers = {key.lower(): _text(value) for key in _WANTED_HEADERS
               if (value := source.get(key)) is not None}
    attempt, invocation_id = 1, None
    sdk_request = source.get("amz-sdk-request")
    if sdk_request:
        for item in _text(sdk_request).split(";"):
            key, _, value = item.strip().partition("=")
            if key == "attempt" and value.isdigit():
                attempt = int(value)
    invocation = source.get("amz-sdk-invocation-id")
    if invocation:
        invocation_id = _text(invocation)
    return Request(operation, name, qualifier, headers, _body_bytes(request.body), region,
                   attempt, invocation_id, read_timeout)


def to_response(url: str, answer: Answer) -> AWSResponse:
    if answer.chunks is not None:
        frames = [eventstream.payload_chunk(chunk) for chunk in answer.chunks]
        frames.append(eventstream.invoke_complete(answer.complete or {}))
        headers: Any = answer.headers
        return AWSResponse(url, answer.status, headers, ChunkedRaw(frames))
    plain: Any = answer.headers
    plain["Content-Length"] = str(len(answer.body))
    return AWSResponse(url, answer.status, plain, RawBody(answer.body))


def fault(name: str, url: str) -> Exception:
    if name == "ReadTimeoutError":
        return ReadTimeoutError(endpoint_url=url)
    if name == "ConnectionClosedError":
        return ConnectionClosedError(endpoint_url=url)
    return EndpointConnectionError(endpoint_url=url)
