"""What goes into and comes out of the emulated service: plain data, no botocore types."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Protocol


class ResponseStream(Protocol):
    """Where a caller wants an ``InvokeWithResponseStream`` answer as it is produced (the
    loopback endpoint): ``begin`` once the function is about to run (status 200 with these
    headers), then ``chunk`` for each chunk as the handler yields it, on the handler's thread.
    Neither may raise (a caller gone swallows its own errors). The ``Answer`` returned at the
    end is still the whole answer: the caller sends what it has not sent yet."""

    def begin(self, headers: Mapping[str, str]) -> None: ...

    def chunk(self, data: bytes) -> None: ...


@dataclasses.dataclass(slots=True)
class Request:
    """One HTTP request to the Lambda API, already split into the parts the service reads."""

    operation: str  # "Invoke", "InvokeWithResponseStream" or "InvokeAsync"
    function_name: str
    qualifier: str | None
    headers: Mapping[str, str]  # names in lower case
    payload: bytes
    region: str
    attempt: int = 1
    invocation_id: str | None = None
    read_timeout: float | None = None
    stream: ResponseStream | None = None  # InvokeWithResponseStream answered as it comes

    def header(self, name: str) -> str | None:
        """A request header by its lower-case name."""
        return self.headers.get(name)


@dataclasses.dataclass(slots=True)
class Answer:
    """The service's answer: an HTTP status, headers and body (or chunks, for streaming)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: list[bytes] | None = None
    complete: dict[str, str] | None = None  # InvokeComplete members, for streaming
