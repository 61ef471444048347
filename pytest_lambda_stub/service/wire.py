"""What goes into and comes out of the emulated service: plain data, no botocore types."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


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
