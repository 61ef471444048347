"""Worker threads that run handlers, so a caller can stop waiting at the function's timeout.

Workers are reused (starting a thread per invoke would cost more than botocore itself). Idle
workers exit when the last stub stops; a worker still running a handler that overran its timeout
exits as soon as that handler returns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Job:
    """One call of ``fn`` on a worker; ``wait`` returns False if it has not finished in time.

    Exactly one of two things happens: the caller takes the result, or (after its wait timed
    out) ``on_late`` is called with the job once ``fn`` finally returns.
    """

    __slots__ = ("_done", "_state", "error", "finished", "fn", "on_late", "result", "timed_out")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.timed_out = False
        self.finished = False
        self.on_late: Callable[[Job], None] | None = None
        self._state = threading.Lock()
        self._done = threading.Lock()
        self._done.acquire()

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        with self._state:
            self.finished = True
            late = self.timed_out
            self._done.release()
        if late and self.on_late is not None:
            self.on_late(self)

    def wait(self, timeout: float | None) -> bool:
        if self._done.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            return True
        with self._state:
            if self.finished:
                return True
            self.timed_out = True
            return False


class _Worker(threading.Thread):
    def __init__(self, pool: WorkerPool) -> None:
        super().__init__(name="lambda-stub-worker", daemon=True)
        self.pool = pool
        self.inbox: queue.SimpleQueue[Job | None] = queue.SimpleQueue()

    def run(self) -> None:
        inbox = self.inbox
        while True:
            job = inbox.get()
            if job is None:
                return
            job.run()
            if not self.pool._release(self):
                return


class WorkerPool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._open = True

    def submit(self, fn: Callable[[], Any]) -> Job:
        job = Job(fn)
        with self._lock:
            worker = self._idle.pop() if self._idle else None
            self._open = True
        if worker is None:
            worker = _Worker(self)
            worker.inbox.put(job)
            worker.start()
        else:
            worker.inbox.put(job)
        return job

    def _release(self, worker: _Worker) -> bool:
        with self._lock:
            if not self._open:
                return False
            self._idle.append(worker)
            return True

    def shutdown(self) -> None:
        """Stop idle workers and wait for them; busy ones stop after their handler returns."""
        with self._lock:
            self._open = False
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.inbox.put(None)
        for worker in idle:
            worker.join(5)


POOL = WorkerPool()
