"""The init phase of an execution environment (a cold start): importing the handler with the
function's environment, its output and duration kept apart from the first invocation's, and the
answer the runtime gives when the import fails."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import sys
import time
from typing import Any

from . import environment
from . import handlers as _handlers
from . import logs as _logs

INIT_LIMIT = 10.0  # seconds: Lambda's limit on the init phase of an on-demand function
_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
_PYTHON = f"python:{sys.version_info[0]}.{sys.version_info[1]}"
_RUNTIME_HASH = hashlib.sha256(sys.version.encode()).hexdigest()


@dataclasses.dataclass(slots=True)
class InitOutcome:
    """What the init phase left: its log (``INIT_START`` and what the import printed), the
    ``Init Duration`` to report (None: not reported), and the error payload if it failed."""

    log: str
    elapsed: float
    init_duration: float | None
    error: dict[str, Any] | None = None
    exited: bool = False  # the runtime process itself ended (SystemExit, BaseException...)


def init_start_line(region: str) -> str:
    return (f"INIT_START Runtime Version: {_PYTHON}.v1\tRuntime Version ARN: "
            f"arn:aws:lambda:{region}::runtime:{_RUNTIME_HASH}\n")


def _warning_line() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (f"[WARNING]\t{now.strftime('%Y-%m-%dT%H:%M:%S')}.{now.microsecond // 1000:03d}Z"
            f"\t\t{_UNHANDLED_WARNING}\n")


def initialize(ref: _handlers.HandlerRef, view: environment.View, region: str, *,
               fresh: bool, request_id: str) -> InitOutcome:
    """Run the init phase on this thread: import the handler (``fresh``: run its module
    again) with the environment of ``view`` and the output captured."""
    buffer = _logs.LogBuffer("")  # the runtime's request id is empty until the first invoke
    previous_buffer = _logs.set_buffer(buffer)
    _logs.route_current_streams()
    previous_view = environment.set_view(view)
    error: dict[str, Any] | None = None
    exited = False
    started = time.perf_counter()
    try:
        try:
            ref.load(fresh)
        except _handlers.InitError as exc:
            error = exc.payload
        except Exception as exc:
            try:
                error = _handlers.exception_payload(exc, "")
            except Exception:  # str(exc) raised: the runtime itself fails
                error, printed = _handlers.runtime_exit(request_id, exc)
                buffer.parts.append(printed)
                exited = True
        except BaseException as exc:
            error, printed = _handlers.runtime_exit(request_id, exc)
            buffer.parts.append(printed)
            exited = True
    finally:
        elapsed = time.perf_counter() - started
        environment.set_view(previous_view)
        _logs.set_buffer(previous_buffer)
    log = init_start_line(region) + buffer.text()
    if error is not None and not exited:
        log += _warning_line() + _logs.error_lines(
            error.get("errorType"), error.get("errorMessage"), error.get("stackTrace"))
    if not isinstance(ref.spec, str):
        elapsed = 0.0  # a callable was loaded by the test itself: nothing runs at init
    if elapsed > INIT_LIMIT:
        log += (f"INIT_REPORT Init Duration: {INIT_LIMIT * 1000:.2f} ms\tPhase: init\t"
                f"Status: timeout\n")
        return InitOutcome(log, elapsed, None, error, exited)
    return InitOutcome(log, elapsed, elapsed, error, exited)
