"""Request payload and ClientContext checks, with the texts AWS answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import threading
from typing import Any

from .errors import ServiceError, invalid_request_content, too_large

SYNC_PAYLOAD_LIMIT = 6291456
EVENT_PAYLOAD_LIMIT = 1048576
CLIENT_CONTEXT_LIMIT = 3583
# Lambda parses payloads with Jackson, whose StreamReadConstraints allow 1000 levels of nesting.
MAX_NESTING_DEPTH = 1000

_PREFIX = "Could not parse request body into json: Could not parse payload into json: "
_SOURCE = "at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"
_TOKEN_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_EXPECTING = ("was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
              "'false')")


def check_size(payload: bytes, invocation_type: str) -> None:
    size = len(payload)
    if invocation_type == "Event":
        if size > EVENT_PAYLOAD_LIMIT:
            raise too_large(f"{size} byte payload is too large for the Event invocation type "
                            f"(limit {EVENT_PAYLOAD_LIMIT} bytes)")
    elif size > SYNC_PAYLOAD_LIMIT:
        raise too_large(
            f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction "
            f"operation")


def decode_payload(payload: bytes) -> Any:
    """The event the handler receives: ``{}`` for no payload, else the JSON value."""
    if not payload:
        return {}
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _location(payload[: exc.start].decode("utf-8", "replace"))
        raise invalid_request_content(
            f"{_PREFIX}Invalid UTF-8 start byte 0x{payload[exc.start]:02x}\n"
            f" {_SOURCE}; line: {line}, column: {column + 1}]") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _json_error(text, exc) from None
    except RecursionError:
        pass  # deeper than Python's recursion limit allows here: measure, then refuse or retry
    return _decode_deep(text)


_BRACKETS_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_deep_lock = threading.Lock()


def _decode_deep(text: str) -> Any:
    """A payload nested deeper than the interpreter's recursion limit allows from this frame:
    AWS's answer when it is deeper than Jackson's limit, else the value (parsed with room)."""
    depth = 0
    for match in _BRACKETS_RE.finditer(text):
        step = _STEP.get(match.group(0), 0)
        depth += step
        if depth > MAX_NESTING_DEPTH:
            line, column = _location(text[: match.end()])
            raise invalid_request_content(
                f"{_PREFIX}Document nesting depth ({depth}) exceeds the maximum allowed "
                f"({MAX_NESTING_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)\n"
                f" {_SOURCE}; line: {line}, column: {column}]")
    # Within Jackson's limit: the handler gets it, whatever the depth of this call stack. The
    # recursion limit is process-wide: raise it (never lower it) under a lock, briefly.
    with _deep_lock:
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(previous + 2 * MAX_NESTING_DEPTH)
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise _json_error(text, exc) from None
        finally:
            sys.setrecursionlimit(previous)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


def _location(prefix: str) -> tuple[int, int]:
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return line, column


def _json_error(text: str, exc: ValueError) -> ServiceError:
    position = getattr(exc, "pos", 0) or 0
    stripped = text[position:]
    token = _TOKEN_RE.match(stripped)
    if token is not None:
        word = token.group(0)
        line, column = _location(text[: position + len(word)])
        description = f"Unrecognized token '{word}': {_EXPECTING}"
    else:
        line, column = _location(text[:position])
        reason = getattr(exc, "msg", str(exc))
        if position >= len(text.rstrip()):
            description = "Unexpected end-of-input: " + reason
        else:
            char = text[position]
            description = f"Unexpected character ('{char}' (code {ord(char)})): {reason}"
    return invalid_request_content(f"{_PREFIX}{description}\n {_SOURCE}; line: {line}, "
                                   f"column: {column}]")


def decode_client_context(value: str | None) -> dict[str, Any] | None:
    """The decoded ClientContext object, or None when none was sent."""
    if value is None:
        return None
    if len(value.encode("utf-8")) > CLIENT_CONTEXT_LIMIT:
        raise invalid_request_content(
            f"Client context must be {CLIENT_CONTEXT_LIMIT} bytes or less (base64-encoded).")
    try:
        decoded = json.loads(base64.b64decode(value, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        decoded = None
    if not isinstance(decoded, dict):
        raise invalid_request_content("Client context must be a valid Base64-encoded JSON object.")
    return decoded
