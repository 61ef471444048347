"""Handlers: resolving a callable or a dotted ``module.function`` path as Lambda's Handler setting,
and the error payloads the Python runtime sends when a handler fails."""

from __future__ import annotations

import importlib
import os
import threading
import traceback
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any], Any]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class InitError(Exception):
    """The handler could not be loaded; ``payload`` is what the runtime answers."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage"))
        self.payload = payload


class HandlerRef:
    """A handler given as a callable or as ``"package.module.function"`` (imported on first use,
    retried on the next invocation after a failure, as Lambda retries a failed init)."""

    __slots__ = ("_lock", "_resolved", "spec")

    def __init__(self, spec: Handler | str) -> None:
        if isinstance(spec, str):
            module, _, attr = spec.rpartition(".")
            if not module or not attr:
                raise ValueError(
                    f"handler path {spec!r} must look like 'package.module.function'"
                )
        elif not callable(spec):
            raise TypeError(
                f"a handler must be a callable (event, context) or a 'module.function' path, "
                f"not {spec!r}"
            )
        self.spec = spec
        self._resolved: Handler | None = None if isinstance(spec, str) else spec
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._resolved is not None

    def resolve(self) -> Handler:
        resolved = self._resolved
        if resolved is not None:
            return resolved
        with self._lock:
            if self._resolved is None:
                self._resolved = _import_handler(str(self.spec))
            return self._resolved

    def __repr__(self) -> str:
        spec = self.spec
        return repr(spec) if isinstance(spec, str) else getattr(spec, "__qualname__", repr(spec))


def _import_handler(path: str) -> Handler:
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitError({
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        }) from exc
    except Exception as exc:
        payload = exception_payload(exc, "")
        raise InitError(payload) from exc
    handler = getattr(module, attr, None)
    if handler is None:
        raise InitError({
            "errorMessage": f"Handler '{attr}' missing on module '{module_name}'",
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        })
    if not callable(handler):
        raise InitError({
            "errorMessage": f"Handler '{attr}' on module '{module_name}' is not callable",
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        })
    return handler  # type: ignore[no-any-return]


def _is_ours(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def exception_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The runtime's payload for an exception: message, type, request id, the handler's frames."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if not _is_ours(frame.filename)]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def exit_payload(request_id: str, code: object) -> dict[str, Any]:
    """``sys.exit(code)``: as the interpreter exits, ``None``/``0`` is a clean exit, an int its
    status, anything else (``sys.exit("message")``) status 1."""
    if code is None or (isinstance(code, int) and code == 0):
        reason = "Runtime exited without providing a reason"
    else:
        status = int(code) if isinstance(code, int) else 1
        reason = f"Runtime exited with error: exit status {status}"
    return {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {reason}"}


def marshal_payload(request_id: str, reason: str) -> dict[str, Any]:
    return {
        "errorMessage": f"Unable to marshal response: {reason}",
        "errorType": "Runtime.MarshalError",
        "requestId": request_id,
        "stackTrace": [],
    }


def timeout_payload(request_id: str, timeout: float) -> dict[str, Any]:
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
    }


def response_too_large_payload(limit: int) -> dict[str, Any]:
    return {
        "errorMessage": (
            f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
        ),
        "errorType": "Function.ResponseSizeTooLarge",
    }
