"""Timeouts on the main thread without a thread hand-off: ``SIGALRM`` interrupts an overrunning
handler at its deadline, as Lambda stops an execution environment that runs past its timeout.

Used only where it is safe: on the main thread of a POSIX process, when nothing else uses
``SIGALRM`` (for example pytest-timeout's signal method), and not for a handler nested inside
another one. Elsewhere handlers run on worker threads (see ``workers.py``).
"""

from __future__ import annotations

import signal
import threading
from _signal import getsignal as _raw_getsignal  # type: ignore[import-not-found,unused-ignore]  # no enum conversion: cheap per call
from types import FrameType
from typing import Any

_HAS_ALARM = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
_lock = threading.Lock()
_count = 0
_previous: Any = None
_installed = False
_armed = False
_main = threading.main_thread()


class Interrupted(BaseException):
    """Raised inside a handler at its deadline (a BaseException, so ``except Exception`` in the
    handler does not swallow it)."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _armed:
        raise Interrupted()


def install() -> None:
    """Take SIGALRM if nobody else has it (reference counted, called at stub start)."""
    global _count, _previous, _installed
    with _lock:
        _count += 1
        if _count > 1 or not _HAS_ALARM or threading.current_thread() is not _main:
            return
        current = signal.getsignal(signal.SIGALRM)
        if current not in (signal.SIG_DFL, None) or signal.getitimer(signal.ITIMER_REAL)[0]:
            return
        _previous = signal.signal(signal.SIGALRM, _on_alarm)
        _installed = True


def uninstall() -> None:
    global _count, _installed
    with _lock:
        _count -= 1
        if _count > 0:
            return
        _count = 0
        if _installed and threading.current_thread() is _main \
                and signal.getsignal(signal.SIGALRM) is _on_alarm:
            signal.signal(signal.SIGALRM, _previous)
        _installed = False


def usable() -> bool:
    """Whether the handler about to run on this thread can be timed by SIGALRM."""
    return (_installed and not _armed and threading.current_thread() is _main
            and _raw_getsignal(signal.SIGALRM) is _on_alarm
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0)


def arm(seconds: float) -> None:
    global _armed
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def disarm() -> None:
    global _armed
    signal.setitimer(signal.ITIMER_REAL, 0)
    _armed = False
