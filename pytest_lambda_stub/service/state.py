"""The emulated service's state: declared functions, records, counters and the simulated clock.

One ``LambdaService`` belongs to one ``LambdaStub``. Everything is guarded by one re-entrant lock,
never held while user handler code runs (a handler may invoke another declared function).
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import itertools
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from ..functions import FakeFunction
from ..options import StubOptions
from ..records import Invocation
from .names import DEFAULT_LIMITS, NameLimits

if TYPE_CHECKING:
    from .api.calls import ApiCall
    from .api.model import FunctionState

_ids = random.Random()
_arrivals = itertools.count()


def next_arrival() -> int:
    """The arrival number of a request (records are kept in this order)."""
    return next(_arrivals)


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
        self._arrivals: list[int] = []  # records[i] arrived as request number _arrivals[i]
        self.trace_chains: dict[str, tuple[str, ...]] = {}  # trace Parent id -> chain
        # Unseeded, as before: one generator for every stub (seeding one costs 37,000
        # instructions, about 4% of a test's).
        self.trace_random = _ids
        self.undeclared: collections.Counter[str] = collections.Counter()
        self.retry_delays: list[float] = []
        self.sent: list[SentRecord] = []
        self.account_running = 0
        self.clock = SimClock()
        # The API around Invoke (service.api): its records, per-function state, strict-mode
        # counters, the names tests expect to be missing, and weighted-alias routing's draws.
        self.api_calls: list[ApiCall] = []
        self.control: dict[str, FunctionState] = {}
        self.undeclared_api: collections.Counter[tuple[str, str]] = collections.Counter()
        self.wrong_region: collections.Counter[tuple[str, str]] = collections.Counter()
        self.not_emulated: collections.Counter[str] = collections.Counter()
        self.missing: set[str] = set()
        self._routing_seed = options.seed
        self._routing_random: random.Random | None = None  # made at its first draw
        self.name_limits: NameLimits = DEFAULT_LIMITS  # the installed model's (set at activation)
        from .events import EventQueue

        self.events = EventQueue(self)

    @property
    def routing_random(self) -> random.Random:
        """Weighted aliases' draws: seeded with the ``seed`` option in force at the last
        reset, made when first drawn from (most tests never draw)."""
        generator = self._routing_random
        if generator is None:
            generator = self._routing_random = random.Random(self._routing_seed)
        return generator

    def configure(self, options: StubOptions) -> None:
        self.options = options

    def reset(self) -> None:
        """Forget records (at start): declarations and scripted failures stay."""
        with self.lock:
            self.records.clear()
            self._arrivals.clear()
            self.trace_chains.clear()
            self.undeclared.clear()
            self.retry_delays.clear()
            self.sent.clear()
            self.account_running = 0
            self.clock = SimClock()
            self.api_calls.clear()
            self.undeclared_api.clear()
            self.wrong_region.clear()
            self.not_emulated.clear()
            self._routing_seed = self.options.seed
            self._routing_random = None
            for function in self.functions.values():
                function.reset_records()

    def add(self, function: FakeFunction) -> None:
        """Declare ``function``; declaring a name again replaces the function entirely (as
        deleting and creating it would): what the API had changed or published for the old
        declaration (versions, role, tags, description...) does not carry over."""
        with self.lock:
            self.functions[function.name] = function
            self.control.pop(function.name, None)

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

    def record(self, invocation: Invocation, function: FakeFunction | None,
               arrival: int | None = None) -> None:
        """Keep a record in the order requests arrived (``arrival``, taken when the run
        started: a nested invoke finishes before its caller but is recorded after it)."""
        with self.lock:
            arrival = next(_arrivals) if arrival is None else arrival
            records, arrivals = self.records, self._arrivals
            if not arrivals or arrival > arrivals[-1]:
                records.append(invocation)
                arrivals.append(arrival)
            else:
                at = bisect.bisect(arrivals, arrival)
                records.insert(at, invocation)
                arrivals.insert(at, arrival)
        if function is not None:
            function.record(invocation, arrival)

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
