"""The execution log: capturing what a handler prints and logs, Lambda's line formats, the tail.

While a stub is active, writes to ``sys.stdout``/``sys.stderr`` (and to the streams of logging
handlers that existed when the stub started, such as a module-level Powertools or structlog logger
bound to the ``sys.stdout`` of that time) are routed per thread: from a thread running a handler
they go to that invocation's log; from any other thread they go where they always went. Python
``logging`` records emitted while a handler runs are added in Lambda's format.
"""

from __future__ import annotations

import base64
import datetime
import io
import logging
import math
import sys
import threading
from collections.abc import Callable
from typing import Any

TAIL_BYTES = 4096
_NBSP = "\u00a0"

_local = threading.local()
_install_lock = threading.Lock()
_install_count = 0
_patched: dict[int, tuple[Any, Any, bool]] = {}  # id(stream) -> (stream, old write, had own)
_log_handler: logging.Handler | None = None


class LogBuffer:
    """The log of one invocation while its handler runs."""

    __slots__ = ("parts", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)



def set_buffer(buffer: LogBuffer | None) -> LogBuffer | None:
    previous = getattr(_local, "buffer", None)
    _local.buffer = buffer
    return previous


def _routed_write(original: Callable[[str], Any]) -> Callable[[str], Any]:
    def write(text: str) -> Any:
        buffer = getattr(_local, "buffer", None)
        if buffer is None:
            return original(text)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        buffer.parts.append(text)
        return len(text)

    write.__lambda_stub_routed__ = True  # type: ignore[attr-defined]
    return write


def _patch_stream(stream: Any) -> None:
    if stream is None or id(stream) in _patched:
        return
    try:
        own = "write" in vars(stream)
    except TypeError:  # no __dict__: cannot be routed
        return
    original = stream.write
    if getattr(original, "__lambda_stub_routed__", False):
        return
    try:
        stream.write = _routed_write(original)
    except (AttributeError, TypeError):
        return
    _patched[id(stream)] = (stream, original, own)


def route_current_streams() -> None:
    """Route ``sys.stdout``/``sys.stderr`` as they are now (cheap when already routed)."""
    if id(sys.stdout) in _patched and id(sys.stderr) in _patched:
        return
    with _install_lock:
        if _install_count:
            _patch_stream(sys.stdout)
            _patch_stream(sys.stderr)


class _LambdaLogHandler(logging.Handler):
    """Adds logging records emitted by a running handler to its log, in Lambda's format."""

    def emit(self, record: logging.LogRecord) -> None:
        buffer = getattr(_local, "buffer", None)
        if buffer is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a broken log call must not break the handler
            message = str(record.msg)
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        buffer.parts.append(
            f"[{record.levelname}]\t{stamp.strftime('%Y-%m-%dT%H:%M:%S')}."
            f"{int(record.msecs):03d}Z\t{buffer.request_id}\t{message}\n"
        )


def _live_handlers() -> list[Any]:
    """Every logging handler alive: ``logging`` keeps a weak reference to each one made (a
    handful), cheaper to read than every logger (botocore alone makes about 60); the loggers'
    handlers when that list is not there."""
    refs = getattr(logging, "_handlerList", None)
    if isinstance(refs, list):
        found = [ref() for ref in list(refs)]
        return [handler for handler in found if handler is not None]
    return [handler for logger in (logging.getLogger(),
                                   *logging.Logger.manager.loggerDict.values())
            for handler in getattr(logger, "handlers", ())]


def install() -> None:
    """Start routing output (reference counted: every active stub calls it once)."""
    global _install_count, _log_handler
    with _install_lock:
        _install_count += 1
        if _install_count > 1:
            return
        streams = [sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__]
        for handler in _live_handlers():
            # Console streams only (the real stdio or a capture file standing in for it),
            # not in-memory ones such as pytest's own log capture.
            stream = getattr(handler, "stream", None)
            if isinstance(stream, io.TextIOWrapper) and not isinstance(
                    handler, logging.FileHandler):
                streams.append(stream)
        for stream in streams:
            _patch_stream(stream)
        _log_handler = _LambdaLogHandler(logging.NOTSET)
        logging.getLogger().addHandler(_log_handler)


def uninstall() -> None:
    global _install_count, _log_handler
    with _install_lock:
        _install_count -= 1
        if _install_count > 0:
            return
        _install_count = 0
        for stream, original, own in _patched.values():
            try:
                if own:
                    stream.write = original
                else:
                    del stream.write
            except (AttributeError, TypeError):
                pass
        _patched.clear()
        if _log_handler is not None:
            logging.getLogger().removeHandler(_log_handler)
            _log_handler = None


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_lines(request_id: str, duration_s: float, memory_size: int,
              init_duration_s: float | None = None, status: str | None = None) -> str:
    duration_ms = duration_s * 1000
    billed = max(1, math.ceil(duration_ms))
    used = min(memory_size, 40)
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory_size} MB\t"
        f"Max Memory Used: {used} MB\t"
    )
    if init_duration_s is not None:
        report += f"Init Duration: {init_duration_s * 1000:.2f} ms\t"
    if status is not None:
        report += f"Status: {status}\t"
    return f"END RequestId: {request_id}\n{report}\n"


def error_lines(error_type: str | None, message: str | None, stack: list[str] | None) -> str:
    """The ``[ERROR]`` entry the runtime logs for a function error (NBSP-indented frames)."""
    head = "[ERROR]"
    if error_type:
        head += f" {error_type}"
    if message:
        head += (":" if error_type else "") + f" {message}"
    lines = [head]
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(_NBSP * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines) + "\n"


def function_error_lines(payload: dict[str, Any]) -> str:
    """What the log shows for a function error: the runtime's ``[ERROR]`` entry, or, when the
    runtime process itself ended (``Runtime.ExitError``), the platform's two lines."""
    error_type = payload.get("errorType")
    if error_type == "Runtime.ExitError":
        return f"{payload.get('errorMessage')}\n{error_type}\n"
    return error_lines(error_type, payload.get("errorMessage"), payload.get("stackTrace"))


def timeout_line(request_id: str, timeout: float) -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return f"{stamp}Z {request_id} Task timed out after {timeout:.2f} seconds\n\n"


def tail(log: str) -> str:
    """``LogResult``: base64 of the last 4 KB of the log."""
    # A lone surrogate (printed, or in an error message) cannot be UTF-8: shown escaped.
    data = log.encode("utf-8", "backslashreplace")[-TAIL_BYTES:]
    return base64.b64encode(data).decode("ascii")

