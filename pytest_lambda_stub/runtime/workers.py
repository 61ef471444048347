"""Worker threads that run handlers, so a caller can stop waiting at the function's timeout.

Every handler runs on a worker, whichever thread invokes it: a handler that swallows every
exception or sits in a long C call (a regular expression, a hash of a huge buffer) cannot hold
its caller past the deadline, which a signal on the caller's own thread could not promise.

The hand-off is the cost of that promise, so it is made cheap: the caller and the worker wake
each other through pipes (where ``poll`` exists), whose synchronous wake-up lets the kernel run
the woken thread on the waker's CPU at once; a lock's wake-up (the fallback) waits for the
scheduler, which on a loaded machine costs several times more.

Workers are reused (starting a thread per invoke would cost more than botocore itself). Idle
workers exit when the last stub stops; a worker still running a handler that overran its timeout
exits as soon as that handler returns.
"""

from __future__ import annotations

import logging
import math
import os
import select
import threading
from collections.abc import Callable
from typing import Any

_PIPES = os.name == "posix" and hasattr(select, "poll")
_log = logging.getLogger(__name__)


class Interrupted(BaseException):
    """Raised in a handler that is past its deadline when it waits for a nested invoke (its own
    caller already has its ``Sandbox.Timedout``): a BaseException, so ``except Exception`` in
    the handler does not swallow it."""


class _Bell:
    """A wake-up from one thread to another (one ring, one take)."""

    def __init__(self) -> None:
        self._read = self._write = -1
        if _PIPES:
            self._read, self._write = os.pipe()
            self._poll = select.poll()
            self._poll.register(self._read, select.POLLIN)
        else:
            self._lock = threading.Lock()
            self._lock.acquire()

    def ring(self) -> None:
        if _PIPES:
            os.write(self._write, b"\0")
        else:
            self._lock.release()

    def wait(self, timeout: float | None) -> bool:
        """Take the ring, waiting up to ``timeout`` seconds (None: for ever)."""
        if _PIPES:
            if timeout is None:
                os.read(self._read, 1)
                return True
            # poll() counts milliseconds: round up, never return before the deadline.
            if not self._poll.poll(max(math.ceil(timeout * 1000), 0)):
                return False
            os.read(self._read, 1)
            return True
        return self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0))

    def drain(self) -> None:
        """Take a ring if there is one, without waiting."""
        if _PIPES:
            if self._poll.poll(0):
                os.read(self._read, 1)
        else:
            self._lock.acquire(blocking=False)

    def close(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            os.close(self._write)
            self._read = self._write = -1

    def __del__(self) -> None:
        self.close()


_waiting = threading.local()  # each thread's bell, rung when the job it waits for is done
_state = threading.Lock()  # guards every job's finished / timed_out hand-over


def _bell() -> _Bell:
    bell: _Bell | None = getattr(_waiting, "bell", None)
    if bell is None:
        bell = _waiting.bell = _Bell()
    return bell


class Job:
    """One call of ``fn`` on a worker; ``wait`` returns False if it has not finished in time.

    Exactly one of two things happens: the caller takes the result, or (after its wait timed
    out) ``on_late`` is called with the job once ``fn`` finally returns. Only the thread that
    submitted the job may wait for it.
    """

    __slots__ = ("_bell", "error", "finished", "fn", "on_late", "result", "timed_out")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.timed_out = False
        self.finished = False
        self.on_late: Callable[[Job], None] | None = None
        self._bell = _bell()

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        with _state:
            self.finished = True
            late = self.timed_out
            if not late:
                self._bell.ring()
        if late and self.on_late is not None:
            try:
                self.on_late(self)
            except Exception:  # nobody to raise to: keep the worker alive
                _log.exception("pytest-lambda-stub: recording a late result failed")

    def wait(self, timeout: float | None) -> bool:
        bell = self._bell
        try:
            if bell.wait(timeout):
                return True
        except BaseException:  # KeyboardInterrupt while waiting: the job is abandoned
            with _state:
                if self.finished:
                    bell.drain()  # taken or not, the ring must not stay for the next job
                else:
                    self.timed_out = True
            raise
        with _state:
            if not self.finished:
                self.timed_out = True
                return False
        bell.wait(None)  # finished meanwhile: rung under the lock, so already there
        return True


class _Worker(threading.Thread):
    def __init__(self, pool: WorkerPool) -> None:
        super().__init__(name="lambda-stub-worker", daemon=True)
        self.pool = pool
        self.job: Job | None = None  # handed over, not yet taken
        self.current: Job | None = None  # being run
        self._go = _Bell()

    def give(self, job: Job | None) -> None:
        self.job = job
        self._go.ring()

    def run(self) -> None:
        try:
            while True:
                self._go.wait(None)
                job, self.job = self.job, None
                if job is None:
                    return
                self.current = job
                job.run()
                self.current = job = None
                if not self.pool._release(self):
                    return
        finally:
            self.pool._gone(self)
            self._go.close()


class WorkerPool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._live: set[_Worker] = set()
        self._open = True

    def submit(self, fn: Callable[[], Any]) -> Job:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
            self._open = True
        fresh = worker is None
        if worker is None:
            worker = _Worker(self)
            with self._lock:
                self._live.add(worker)
        job = Job(fn)
        worker.give(job)
        if fresh:
            worker.start()
        return job

    def _release(self, worker: _Worker) -> bool:
        with self._lock:
            if not self._open:
                return False
            self._idle.append(worker)
            return True

    def _gone(self, worker: _Worker) -> None:
        with self._lock:
            self._live.discard(worker)

    def shutdown(self) -> None:
        """Stop idle workers and wait for them, and for those finishing a job whose caller has
        its answer; a handler still running past its deadline stops its worker when it returns."""
        with self._lock:
            self._open = False
            idle, self._idle = self._idle, []
            busy = [w for w in self._live if w not in idle]
        for worker in idle:
            worker.give(None)
        finishing = [w for w in busy if (w.current is None or w.current.finished)]
        for worker in [*idle, *finishing]:
            worker.join(5)


    def _after_fork(self) -> None:
        """In a forked child no worker thread exists: forget them (and every lock's state)."""
        self._lock = threading.Lock()
        self._idle = []
        self._live = set()


POOL = WorkerPool()


def _after_fork_in_child() -> None:
    global _state
    _state = threading.Lock()
    _waiting.bell = None  # the parent's pipe: the child gets one of its own when it waits
    POOL._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
