"""Lambda's event queue for ``InvocationType="Event"``: a simulated clock, retries of function
errors (60 s, then 120 s), backoff for throttles (1 s doubling to 5 min), event age, duplicate
delivery, and the destination / dead-letter records at the end of each event's life.

Delivery modes: ``immediate`` (delivered before the invoke call returns), ``manual`` (queued
until ``drain()`` / ``advance()``), ``background`` (a worker thread delivers them).

A throttled event waits for the concurrency it needs while an execution that will free it is
running, as Lambda's queue holds it: the executions run in real time, and running through the
throttle backoff on the simulated clock meanwhile would expire the event in milliseconds. The
backoff applies only when nothing running will free a slot. ``immediate``, ``drain()`` and
``advance()`` wait in place (keeping the order the test drives); the background worker sets the
event aside and goes on delivering the others until a slot frees.

A recursive loop is detected at delivery: the ``Event`` invoke that continues it was accepted
(202), and its event is stopped and sent to the on-failure destination / dead-letter queue with
the condition ``RecursiveInvocation``.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import logging
import numbers
import random
import threading
from typing import TYPE_CHECKING, Any

from ..functions import FakeFunction
from ..records import Invocation
from ..runtime.execute import current_chain
from . import destinations, errors, execution
from .names import function_arn

if TYPE_CHECKING:
    from .state import LambdaService

_log = logging.getLogger(__name__)
RETRY_DELAYS = (60.0, 120.0)
THROTTLE_BACKOFF_START = 1.0
THROTTLE_BACKOFF_MAX = 300.0
# How far one advance() may move the simulated clock: far beyond any event's life (6 hours),
# and far from where records' timestamps (datetime, year 9999) overflow.
MAX_ADVANCE = 1e10
_sequence = itertools.count()


@dataclasses.dataclass(slots=True)
class PendingEvent:
    """An accepted ``Event`` invoke on its way through Lambda's queue."""

    call: execution.Call
    enqueued_at: float
    due: float
    invoke_count: int = 0
    backoff: float = THROTTLE_BACKOFF_START
    last_response: tuple[int, str, str | None, Any] | None = None  # status, version, error, payload
    duplicate: bool = False

    @classmethod
    def create(cls, service: LambdaService, call: execution.Call) -> PendingEvent:
        now = service.clock.now()
        return cls(call=call, enqueued_at=now, due=now)

    @property
    def function_name(self) -> str:
        """The declared function the event goes to."""
        return self.call.function.name

    @property
    def request_id(self) -> str:
        """The request id of the 202 response, shared by every attempt."""
        return self.call.request_id

    @property
    def event(self) -> Any:
        """The event (decoded payload) as the handler receives it."""
        return self.call.event

    @property
    def age(self) -> float:
        """The event's age, in simulated seconds, at its next attempt."""
        return self.due - self.enqueued_at

    def __repr__(self) -> str:
        return (f"<PendingEvent {self.function_name} request_id={self.request_id} "
                f"attempts={self.invoke_count} age_at_next_attempt={self.age:.0f}s>")


class EventQueue:
    def __init__(self, service: LambdaService) -> None:
        self.service = service
        self._heap: list[tuple[float, int, PendingEvent]] = []
        # The service's ``capacity`` condition: notified when an event is queued and when an
        # execution ends and frees concurrency (both can make an event deliverable).
        self._cond = service.capacity
        self._in_flight = 0
        # Background delivery: throttled events waiting for a running execution to free a slot.
        self._parked: list[PendingEvent] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._seed = service.options.seed
        self._random: random.Random | None = None  # made at its first draw

    @property
    def random(self) -> random.Random:
        """``duplicate_delivery``'s draws, seeded at the last ``clear()``; made when first
        drawn from (seeding a generator costs more than most tests' invokes)."""
        generator = self._random
        if generator is None:
            generator = self._random = random.Random(self._seed)
        return generator

    # -- submission ----------------------------------------------------------------------

    def submit(self, event: PendingEvent) -> None:
        copies = [event, *self._duplicates(event)]
        mode = self.service.options.event_delivery
        if mode == "immediate" and not current_chain():
            for copy in copies:
                self._deliver_fully(copy)
            self.deliver_deferred()
            return
        # Queued: manual and background delivery, and (immediate mode) an Event invoke made
        # from inside a running handler, delivered once that handler has returned and freed
        # its concurrency, as Lambda's queue would (see deliver_deferred).
        with self._cond:
            for copy in copies:
                heapq.heappush(self._heap, (copy.due, next(_sequence), copy))
            self._cond.notify_all()

    def _duplicates(self, event: PendingEvent) -> list[PendingEvent]:
        setting = event.call.function.duplicate_delivery
        if isinstance(setting, float):
            extra = 1 if setting and self.random.random() < setting else 0
        else:
            extra = setting
        return [dataclasses.replace(event, duplicate=True) for _ in range(extra)]

    # -- manual delivery -------------------------------------------------------------------

    @property
    def pending(self) -> list[PendingEvent]:
        with self._cond:
            return self._queued()

    def _queued(self) -> list[PendingEvent]:
        queued = [item[2] for item in sorted(self._heap)]
        if self._parked:
            queued = sorted([*queued, *self._parked], key=lambda event: event.due)
        return queued

    def drain(self) -> list[Invocation]:
        """Deliver everything queued (and what that queues), moving the clock as needed."""
        return self._deliver_due(None)

    def advance(self, seconds: float) -> list[Invocation]:
        if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
            raise TypeError(f"advance() takes a number of seconds, not {seconds!r}")
        if not 0 <= seconds <= MAX_ADVANCE:  # also False for NaN
            raise ValueError(f"advance() takes a finite number of seconds from 0 to "
                             f"{MAX_ADVANCE:g} (about 300 years), not {seconds!r}")
        now = self.service.clock.now()
        target = now + seconds
        ran = self._deliver_due(target)
        self.service.clock.advance_to(target)
        return ran

    def _deliver_due(self, until: float | None, *, background: bool = False) -> list[Invocation]:
        ran: list[Invocation] = []
        while True:
            with self._cond:
                if background and self._stopping:
                    return ran  # the stub stops: what is still queued is reported
                if not self._heap or (until is not None and self._heap[0][0] > until):
                    return ran
                _, _, event = heapq.heappop(self._heap)
                self._in_flight += 1
            try:
                self.service.clock.advance_to(event.due)
                record = self._attempt(event)
                if record is not None:
                    ran.append(record)
            except Exception:
                if not background:
                    raise
                # Nobody to raise to in the worker thread: log, and keep delivering the others.
                _log.exception("pytest-lambda-stub: delivering an asynchronous event to %s "
                               "failed", event.function_name)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    # -- background delivery ---------------------------------------------------------------

    def start(self) -> None:
        if self.service.options.event_delivery != "background" or self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._background, name="lambda-stub-events",
                                        daemon=True)
        self._thread.start()

    def _background(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._stopping and not self._unpark():
                    self._cond.wait()
                if self._stopping:
                    return
            self._deliver_due(None, background=True)

    def _unpark(self) -> bool:
        """Queue again the parked events a freed slot (or nothing running any more) lets through;
        True if there were any. Called with the lock held."""
        ready = [event for event in self._parked
                 if not self._blocked(event.call.function) or not self._running(event)]
        if not ready:
            return False
        now = self.service.clock.now()
        for event in ready:
            self._parked.remove(event)
            event.due = max(event.due, now)
            heapq.heappush(self._heap, (event.due, next(_sequence), event))
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no event is queued or being delivered; False if ``timeout`` ran out.

        With ``manual`` delivery nothing delivers queued events but ``drain()`` / ``advance()``:
        waiting for them would only burn the timeout, so the answer is immediate."""
        with self._cond:
            if self.service.options.event_delivery == "manual" and self._heap:
                return False
            return self._cond.wait_for(
                lambda: not self._heap and not self._parked and not self._in_flight, timeout)

    def stop(self) -> list[PendingEvent]:
        """Stop the background thread; return the events still queued."""
        thread = self._thread
        if thread is not None:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            thread.join(10)
            self._thread = None
        with self._cond:
            return self._queued()

    def clear(self) -> None:
        """Forget queued events and re-seed ``duplicate_delivery``'s randomness (at start), so
        every run of a stub with ``seed=`` makes the same choices."""
        with self._cond:
            self._heap.clear()
            self._parked.clear()
            self._seed = self.service.options.seed
            self._random = None

    # -- one event's life --------------------------------------------------------------------

    def deliver_deferred(self) -> None:
        """Immediate mode: deliver the events handlers queued while they ran. Called once the
        outermost handler on this thread has returned."""
        if self.service.options.event_delivery != "immediate" or current_chain():
            return
        while True:
            with self._cond:
                if not self._heap:
                    return
                _, _, event = heapq.heappop(self._heap)
            self._deliver_fully(event)

    def _deliver_fully(self, event: PendingEvent) -> None:
        with self._cond:
            self._in_flight += 1
        try:
            while True:
                self.service.clock.advance_to(event.due)
                self._attempt(event)
                if event.due < 0:  # finished
                    break
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _blocked(self, function: FakeFunction) -> bool:
        """Whether running ``function`` now would be throttled. Called with the lock held."""
        service = self.service
        limit = function.reserved_concurrency
        return ((limit is not None and function.running >= limit)
                or service.account_running >= service.options.account_concurrency)

    def _running(self, event: PendingEvent) -> bool:
        """Whether an execution is running that will free concurrency ``event`` needs."""
        return bool(event.call.function.running or self.service.account_running)

    def _wait_for_capacity(self, event: PendingEvent) -> str | None:
        """A throttled event waits, in real time, while other executions hold the concurrency
        it needs, as Lambda's queue holds it (see the module's docstring). ``"free"`` once a
        slot is free (attempt again at once), ``"parked"`` when set aside for the background
        worker, None when nothing running would free a slot: then the backoff applies."""
        function = event.call.function
        if current_chain():
            return None  # drain() / advance() from a running handler: it may hold the slot
        with self._cond:
            if threading.current_thread() is self._thread:
                # The background worker sets the event aside and delivers the others meanwhile.
                if not self._blocked(function):
                    return "free"
                if not self._running(event):
                    return None
                self._parked.append(event)
                return "parked"
            while self._blocked(function):
                if not self._running(event):
                    return None
                self._cond.wait(1.0)
        event.due = max(event.due, self.service.clock.now())
        return "free"

    def _reschedule(self, event: PendingEvent, delay: float) -> None:
        event.due += delay
        if self.service.options.event_delivery != "immediate":
            with self._cond:
                heapq.heappush(self._heap, (event.due, next(_sequence), event))
                self._cond.notify_all()

    def _finish(self, event: PendingEvent, condition: str) -> None:
        destinations.finish(self.service, event, condition)
        event.due = -1.0

    def _attempt(self, event: PendingEvent) -> Invocation | None:
        """One delivery attempt at ``event.due``; schedules the next one or finishes."""
        service = self.service
        call = event.call
        function = call.function
        if function.reserved_concurrency == 0:
            self._finish(event, "ZeroReservedConcurrency")
            return None
        try:
            execution.check_recursion(function, call.chain)
            while True:
                try:
                    execution.acquire_concurrency(service, function)
                    break
                except errors.ServiceError as error:
                    waited = (self._wait_for_capacity(event)
                              if error.code == "TooManyRequestsException" else None)
                    if waited is None:
                        raise
                    if waited == "parked":
                        return None  # set aside until a slot frees (background worker)
                    if event.age >= function.maximum_event_age:
                        self._finish(event, "EventAgeExceeded")
                        return None
                    # a slot freed: attempt again at once
        except errors.ServiceError as error:
            record = execution.refused_record(
                service, function_name=function.name, qualifier=call.qualifier,
                invocation_type="Event", payload=call.payload, request_id=call.request_id,
                region=call.region, error=error, status=error.status,
                attempt=event.invoke_count + 1, invocation_id=None, operation=call.operation,
                event=call.event)
            service.record(record, function)
            if error.code == "RecursiveInvocationException":
                self._finish(event, "RecursiveInvocation")
                return record
            delay = event.backoff
            event.backoff = min(event.backoff * 2, THROTTLE_BACKOFF_MAX)
            if event.age + delay >= function.maximum_event_age:
                self._finish(event, "EventAgeExceeded")
            else:
                self._reschedule(event, delay)
            return record
        event.invoke_count += 1
        attempt_call = dataclasses.replace(call, attempt=event.invoke_count, status_code=202)
        try:
            outcome, record = execution.run(service, attempt_call)
        finally:
            execution.release_concurrency(service, function)
        try:
            response: Any = json.loads(outcome.body) if outcome.body else None
        except ValueError:
            response = outcome.body.decode("utf-8", "replace")
        event.last_response = (200, call.version, outcome.function_error, response)
        if outcome.function_error is None:
            self._finish(event, "Success")
        elif event.invoke_count > function.maximum_retry_attempts:
            self._finish(event, "RetriesExhausted")
        else:
            delay = RETRY_DELAYS[min(event.invoke_count, len(RETRY_DELAYS)) - 1]
            if event.age + delay >= function.maximum_event_age:
                self._finish(event, "EventAgeExceeded")
            else:
                self._reschedule(event, delay)
        return record


def qualified_arn(event: PendingEvent) -> str:
    call = event.call
    function = call.function
    return function_arn(function.region or call.region, function.account_id, function.name,
                        call.qualifier or "$LATEST")
