"""The emulated service's state: declared functions, records, counters and the simulated clock.

One ``LambdaService`` belongs to one ``LambdaStub``. Everything is guarded by one re-entrant lock,
never held while user handler code runs (a handler may invoke another declared function).
"""

from __future__ import annotations

import collections
import dataclasses
import random
import threading
import time
from typing import Any

from ..functions import FakeFunction
from ..options import StubOptions
from ..records import Invocation
from .names import DEFAULT_LIMITS, NameLimits

_ids = random.Random()


def new_request_id() -> str:
    """A random (version 4) UUID string, cheaper than ``uuid.uuid4()``'s system call."""
    bits = _ids.getrandbits(128)
    text = f"{bits:032x}"
    variant = "89ab"[bits & 3]
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"


class SimClock:
    """Wall-clock time plus an offset that asynchronous retries move forward (never sleeps)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self.offset

    def advance_to(self, when: float) -> None:
        with self._lock:
            ahead = when - (time.time() + self.offset)
            if ahead > 0:
                self.offset += ahead

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds


@dataclasses.dataclass(frozen=True, slots=True)
class SentRecord:
    """A destination record or dead-letter message: sent, failed to send (``error``), or held
    back (``sent=False``)."""

    kind: str  # "on_success", "on_failure" or "dead_letter"
    target: Any
    function_name: str
    request_id: str
    record: Any
    error: str | None = None
    # False: an SQS, SNS or EventBridge target held back (no moto ``mock_aws`` active, and the
    # ``send_destinations`` option not set), so nothing was sent anywhere.
    sent: bool = True


class LambdaService:
    def __init__(self, options: StubOptions) -> None:
        self.options = options
        self.lock = threading.RLock()
        # Notified whenever an execution ends and frees concurrency (events waiting for it).
        self.capacity = threading.Condition(self.lock)
        self.functions: dict[str, FakeFunction] = {}
        self.records: list[Invocation] = []
        self.undeclared: collections.Counter[str] = collections.Counter()
        self.retry_delays: list[float] = []
        self.sent: list[SentRecord] = []
        self.account_running = 0
        self.clock = SimClock()
        self.name_limits: NameLimits = DEFAULT_LIMITS  # the installed model's (set at activation)
        from .events import EventQueue

        self.events = EventQueue(self)

    def configure(self, options: StubOptions) -> None:
        self.options = options

    def reset(self) -> None:
        """Forget records (at start): declarations and scripted failures stay."""
        with self.lock:
            self.records.clear()
            self.undeclared.clear()
            self.retry_delays.clear()
            self.sent.clear()
            self.account_running = 0
            self.clock = SimClock()
            for function in self.functions.values():
                function.reset_records()

    def add(self, function: FakeFunction) -> None:
        with self.lock:
            self.functions[function.name] = function

    def lookup(self, name: str, region: str, account: str | None) -> FakeFunction | None:
        function = self.functions.get(name)
        if function is None:
            return None
        home = function.region or self.options.region
        if home is not None and home != region:
            return None
        if account is not None and account != function.account_id:
            return None
        return function

    def record(self, invocation: Invocation, function: FakeFunction | None) -> None:
        with self.lock:
            self.records.append(invocation)
        if function is not None:
            function.record(invocation)

    def answers(self, function_name: str) -> bool:
        """Whether the stub answers this FunctionName (False: passthrough)."""
        options = self.options
        if options.passthrough is False or options.passthrough == frozenset():
            return True
        if options.passthrough is True:
            return False
        # Compare by the bare name, whatever form the caller used.
        bare = function_name.split(":function:")[-1].split(":")[0]
        return not options.passes_through(bare)
