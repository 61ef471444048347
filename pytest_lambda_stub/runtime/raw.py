"""Raw payloads: a handler's answer sent exactly as given (our extension, for the answers
functions written in other runtimes give: a body that is not JSON, an empty one, or a function
error whose body is not JSON)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class RawPayload:
    """Return this from a handler (or declare ``returns=RawPayload(...)``) to answer ``body``
    byte for byte, without JSON serialisation; ``function_error`` (e.g. ``"Unhandled"``) makes
    it a function error, with ``X-Amz-Function-Error`` set and ``body`` as the error payload."""

    body: bytes | str = b""
    function_error: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.body, (bytes, str)):
            raise TypeError(f"RawPayload: body must be bytes or str, not {self.body!r}")
        if self.function_error is not None and (
                not isinstance(self.function_error, str) or not self.function_error):
            raise TypeError(f"RawPayload: function_error must be a non-empty str or None, not "
                            f"{self.function_error!r}")

    @property
    def data(self) -> bytes:
        body = self.body
        return body.encode("utf-8") if isinstance(body, str) else body
