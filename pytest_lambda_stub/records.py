"""Invocation records: one immutable record per request the stub answered."""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Invocation:
    """One request answered by the stub (or one delivery attempt of an ``Event`` invoke).

    ``ran`` tells whether the handler ran; requests answered with a service error (throttled,
    failed on demand, not found) have ``ran=False`` and their ``error_code``. ``log`` is the
    invocation's log (START to REPORT), ``init_log`` the init phase's on a cold start;
    ``log_type`` is the request's ``LogType``, ``trace_id`` the invocation's X-Ray trace header.
    Every field is described in the guide ("Invocation records").
    """

    function_name: str
    qualifier: str | None
    executed_version: str | None
    invocation_type: str
    event: Any
    payload: bytes
    client_context: Any
    request_id: str
    status_code: int
    function_error: str | None
    response_payload: bytes
    log: str
    started_at: datetime.datetime
    duration: float
    ran: bool
    error_code: str | None = None
    error_type: str | None = None
    attempt: int = 1
    invocation_id: str | None = None
    region: str | None = None
    operation: str = "Invoke"
    chunks: tuple[bytes, ...] | None = None
    log_type: str | None = None
    trace_id: str | None = None
    init_log: str = ""
    source: str = "in-process"  # or "loopback": an HTTP request to stub.serve()'s endpoint

    @property
    def result(self) -> Any:
        """The response payload decoded from JSON (the error payload on a function error);
        ``None`` when there is no payload."""
        if not self.response_payload:
            return None
        try:
            return json.loads(self.response_payload)
        except ValueError:
            return self.response_payload

    @classmethod
    def _fast(cls, *values: Any) -> Invocation:
        """Construct without the frozen ``__setattr__`` (positional, in field order)."""
        record = object.__new__(cls)
        for setter, value in zip(_SETTERS, values, strict=False):
            setter(record, value)
        for setter, value in _DEFAULTS[len(values):]:
            setter(record, value)
        return record

    def summary(self) -> str:
        """One line: function, qualifier/version, type, attempt, status, error, duration."""
        version = self.executed_version or "-"
        qualifier = f":{self.qualifier}" if self.qualifier else ""
        outcome = self.error_code or (
            f"{self.function_error} {self.error_type}" if self.function_error else "ok"
        )
        ran = "" if self.ran else " (handler not run)"
        via = "" if self.operation == "Invoke" else f" via {self.operation}"
        via += "" if self.source == "in-process" else f" [{self.source}]"
        return (
            f"{self.function_name}{qualifier} [{version}] {self.invocation_type}{via} "
            f"attempt={self.attempt} status={self.status_code} {outcome} "
            f"{self.duration * 1000:.2f} ms{ran}"
        )


_FIELDS = dataclasses.fields(Invocation)
_SETTERS = tuple(getattr(Invocation, f.name).__set__ for f in _FIELDS)
_DEFAULTS = tuple(
    (getattr(Invocation, f.name).__set__, f.default) for f in _FIELDS
)
