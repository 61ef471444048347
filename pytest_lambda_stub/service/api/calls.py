"""The record of one Lambda API call (other than the Invoke family) the stub answered."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class ApiCall:
    """One API request answered (or refused) by the stub: ``stub.api_calls``.

    ``params`` are the request's parameters by member name, as botocore sent them;
    ``status`` the HTTP status answered; ``error`` the error code, or None on success;
    ``request_id`` the ``x-amzn-RequestId`` answered; ``region`` the region called; ``source``
    the path it came by (``"in-process"`` or ``"loopback"``).
    """

    operation: str
    function_name: str | None
    params: dict[str, Any]
    status: int
    error: str | None
    request_id: str
    region: str
    source: str = "in-process"

    def summary(self) -> str:
        target = f" {self.function_name}" if self.function_name else ""
        outcome = self.error or "ok"
        return f"{self.operation}{target} status={self.status} {outcome}"
