"""``simulated_duration``: the seconds a run is taken to last, checked when it is computed."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

SIMULATED_DURATION_MAX = 1e9


class SimulatedDurationError(ValueError):
    """A ``simulated_duration`` callable raised, or returned something other than a number of
    seconds: the test's own declaration is wrong, so the test hears of it (not the caller, as a
    function error)."""


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ raises
        return type(exc).__name__


def simulated_seconds(setting: Callable[[Any], Any] | float, event: Any, function_name: str,
                      request_id: str) -> float:
    """The duration ``setting`` (a number, or a callable of the event) gives for this run."""
    if not callable(setting):
        return float(setting)  # validated when declared
    where = (f"function {function_name!r}: simulated_duration "
             f"{getattr(setting, '__qualname__', type(setting).__name__)!r}")
    try:
        value = setting(event)
    except Exception as exc:
        raise SimulatedDurationError(
            f"{where} raised {_describe(exc)} (request {request_id})") from exc
    seconds = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) \
        else None
    if seconds is None or not 0 <= seconds <= SIMULATED_DURATION_MAX:  # also False for NaN
        raise SimulatedDurationError(
            f"{where} returned {value!r}: it must return a number of seconds from 0 to "
            f"{SIMULATED_DURATION_MAX:g} (request {request_id})")
    return seconds
