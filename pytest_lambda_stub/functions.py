"""FakeFunction: one declared function, its versions and aliases, its asynchronous-invocation
settings, scripted failures, and the record of what it answered."""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .assertions import AssertionsMixin
from .records import Invocation
from .runtime.context import make_log_stream_name
from .runtime.handlers import Handler, HandlerRef, check_code_root, check_environment
from .service.errors import RawAnswer
from .service.names import function_arn, is_valid_bare_name, try_parse_function_name
from .service.targets import arn_problem

_MISSING: Any = object()
_INVOKE = frozenset({"Invoke"})
_ALIAS_RE = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9\-_]+")
Target = Callable[[dict[str, Any]], Any] | str
SimulatedDuration = float | int | Callable[[Any], float]
# An alias points to a version, or weighs versions: {"1": 0.9, "2": 0.1} (the first is the
# alias's FunctionVersion, the other its AdditionalVersionWeights, as in RoutingConfig).
AliasTarget = str | int | Mapping[str | int, float]


@dataclasses.dataclass(slots=True)
class ScriptedFailure:
    """A service error (or transport fault) answered instead of running the handler."""

    code: str
    fields: dict[str, Any]
    remaining: int | None  # None: until cleared
    attempts: frozenset[int] | None  # only these botocore attempt numbers
    operations: frozenset[str] | None = None  # None: the Invoke family


@dataclasses.dataclass(frozen=True, slots=True)
class LateResult:
    """The result of a handler that finished after its invocation had already timed out."""

    request_id: str
    value: Any


class FakeFunction(AssertionsMixin):
    """A declared Lambda function. Get it with ``stub[name]``.

    ``invocations`` lists every request the stub answered for it (including requests answered
    with a service error, whose handler did not run: ``ran=False``); ``call_count`` and
    ``called`` count runs of the handler.
    """

    def __init__(
        self,
        name: str,
        handler: Handler | str | None = None,
        *,
        returns: Any = _MISSING,
        timeout: float = 3,
        memory_size: int = 128,
        versions: Mapping[str | int, Handler | str] | None = None,
        aliases: Mapping[str, AliasTarget] | None = None,
        environment: Mapping[str, str] | None = None,
        region: str | None = None,
        account_id: str | None = None,
        reserved_concurrency: int | None = None,
        simulated_duration: SimulatedDuration | None = None,
        recursive_loop: str = "Terminate",
        maximum_retry_attempts: int = 2,
        maximum_event_age: int = 21600,
        on_success: Target | None = None,
        on_failure: Target | None = None,
        dead_letter: Target | None = None,
        duplicate_delivery: float | int = 0,
        code_root: str | os.PathLike[str] | None = None,
        _lock: threading.RLock | None = None,
        _default_account: str = "123456789012",
    ) -> None:
        where = f"function {name!r}"
        if not isinstance(name, str) or not is_valid_bare_name(name) or len(name) > 64:
            raise ValueError(
                f"{where}: a function name is 1-64 letters, digits, '-', '_' or '.', "
                f"without ARN or qualifier"
            )
        if handler is not None and returns is not _MISSING:
            raise TypeError(f"{where}: give a handler or returns=, not both")
        if handler is None and returns is _MISSING and not versions:
            raise TypeError(
                f"{where}: give a handler (a callable (event, context) or "
                f"'package.module.function'), or returns=<fixed result>"
            )
        _check_number(where, "timeout", timeout, 1, 900)
        _check_int(where, "memory_size", memory_size, 128, 10240)
        if reserved_concurrency is not None:
            _check_int(where, "reserved_concurrency", reserved_concurrency, 0, 1000000)
        _check_int(where, "maximum_retry_attempts", maximum_retry_attempts, 0, 2)
        _check_int(where, "maximum_event_age", maximum_event_age, 60, 21600)
        if recursive_loop not in ("Terminate", "Allow"):
            raise ValueError(f"{where}: recursive_loop must be 'Terminate' or 'Allow', "
                             f"not {recursive_loop!r}")
        if isinstance(duplicate_delivery, bool) or not isinstance(duplicate_delivery, (int, float)):
            raise TypeError(f"{where}: duplicate_delivery must be a probability (float) or a "
                            f"count (int), not {duplicate_delivery!r}")
        if isinstance(duplicate_delivery, float) and not 0 <= duplicate_delivery <= 1:
            raise ValueError(f"{where}: duplicate_delivery as a probability must be in [0, 1], "
                             f"not {duplicate_delivery}")
        if isinstance(duplicate_delivery, int) and duplicate_delivery < 0:
            raise ValueError(f"{where}: duplicate_delivery as a count must be >= 0")
        if simulated_duration is not None and not callable(simulated_duration):
            _check_number(where, "simulated_duration", simulated_duration, 0, 1e9)
        for label, target in (("on_success", on_success), ("on_failure", on_failure),
                              ("dead_letter", dead_letter)):
            if target is not None and not (callable(target) or isinstance(target, str)):
                raise TypeError(f"{where}: {label} must be a callable, a function name or an "
                                f"SQS/SNS/EventBridge/Lambda ARN, not {target!r}")
            if isinstance(target, str) and target.startswith("arn:"):
                problem = arn_problem(target, dead_letter=label == "dead_letter")
                if problem is not None:
                    raise ValueError(f"{where}: {label}: {problem}")
            elif isinstance(target, str) and label == "dead_letter":
                raise ValueError(f"{where}: dead_letter must be an SQS queue or SNS topic ARN "
                                 f"(or a callable), not {target!r}")
            elif isinstance(target, str) and try_parse_function_name(target) is None:
                raise ValueError(f"{where}: {label}: {target!r} is not a function name")
        if environment is not None:
            bad = [k for k, v in environment.items()
                   if not isinstance(k, str) or not isinstance(v, str)]
            if bad:
                raise TypeError(f"{where}: environment keys and values must be str; "
                                f"bad entries: {bad}")
            check_environment(where, environment)
        root = check_code_root(where, code_root, handler, versions)

        self.name = name
        self.timeout = float(timeout)
        self.memory_size = memory_size
        self.environment = dict(environment) if environment else None
        self.region = region
        self.account_id = account_id or _default_account
        self.reserved_concurrency = reserved_concurrency
        self.simulated_duration = simulated_duration
        self.recursive_loop = recursive_loop
        self.maximum_retry_attempts = maximum_retry_attempts
        self.maximum_event_age = maximum_event_age
        self.on_success = on_success
        self.on_failure = on_failure
        self.dead_letter = dead_letter
        self.duplicate_delivery = duplicate_delivery

        if returns is not _MISSING:
            fixed = returns
            handler = _fixed_result(fixed)
        self.versions: dict[str, HandlerRef] = {}
        if handler is not None:
            self.versions["$LATEST"] = HandlerRef(handler, root)
        for version, version_handler in (versions or {}).items():
            key = str(version)
            if not key.isdigit() or key.startswith("0"):
                raise ValueError(f"{where}: published versions are numbered '1', '2', ...; "
                                 f"got {version!r}")
            self.versions[key] = HandlerRef(version_handler, root)
        self.aliases: dict[str, str] = {}
        self.routing: dict[str, dict[str, float]] = {}  # weighted aliases: extra version -> weight
        for alias, target_version in (aliases or {}).items():
            if not isinstance(alias, str) or _ALIAS_RE.fullmatch(alias) is None:
                raise ValueError(f"{where}: alias names are letters, digits, '-' or '_' and not "
                                 f"only digits; got {alias!r}")
            if isinstance(target_version, Mapping):
                target_version = self._weighted(where, alias, target_version)
            target_key = str(target_version)
            if target_key not in self.versions:
                raise ValueError(
                    f"{where}: alias {alias!r} points to version {target_key!r}, which is not "
                    f"declared; declared versions: {', '.join(sorted(self.versions))}"
                )
            self.aliases[alias] = target_key

        self._lock = _lock or threading.RLock()
        self._records: list[Invocation] = []
        self._arrivals: list[int] = []
        self._runs = 0
        self._failures: list[ScriptedFailure] = []
        self._timeouts: int | None = 0
        self._cold: set[str] = set()
        self._streams: dict[str, str] = {}
        self.running = 0
        self.late_results: list[LateResult] = []
        self._last_region: str | None = None

    def _weighted(self, where: str, alias: str, weights: Mapping[Any, Any]) -> str:
        """A weighted alias declared as {primary: weight, extra: weight}: the primary version."""
        from .service.api.versions import check_weights

        keys = [str(version) for version in weights]
        if len(keys) not in (1, 2):
            raise ValueError(f"{where}: weighted alias {alias!r} names one or two versions "
                             f"(its version, then one with a weight), got {keys}")
        values = list(weights.values())
        if any(isinstance(w, bool) or not isinstance(w, (int, float)) for w in values) \
                or abs(sum(values) - 1) > 1e-9:
            raise ValueError(f"{where}: the weights of alias {alias!r} must be numbers adding "
                             f"up to 1, got {dict(weights)!r}")
        for key in keys:
            if key not in self.versions:
                raise ValueError(f"{where}: alias {alias!r} weighs version {key!r}, which is not "
                                 f"declared; declared versions: {', '.join(sorted(self.versions))}")

        def refuse(message: str) -> ValueError:
            return ValueError(f"{where}: alias {alias!r}: {message}")

        extra = check_weights(self, keys[0], dict(zip(keys[1:], values[1:], strict=True)), problem=refuse)
        if extra:
            self.routing[alias] = extra
        return keys[0]

    # -- what tests read -------------------------------------------------------------------

    @property
    def arn(self) -> str:
        """The unqualified ARN (in the declared region, else the region last invoked in, else
        us-east-1)."""
        region = self.region or self._last_region or "us-east-1"
        return function_arn(region, self.account_id, self.name)

    @property
    def invocations(self) -> list[Invocation]:
        """Every request answered for this function, in order (a copy)."""
        with self._lock:
            return list(self._records)

    @property
    def call_count(self) -> int:
        """How many times the handler ran."""
        return self._runs

    @property
    def called(self) -> bool:
        """Whether the handler ran at least once."""
        return self._runs > 0

    def __repr__(self) -> str:
        return (f"<FakeFunction {self.name!r} versions={sorted(self.versions)} "
                f"aliases={self.aliases} call_count={self._runs}>")

    # -- scripted failures ------------------------------------------------------------------

    def fail(self, error: str | type[BaseException] | RawAnswer, *, times: int | None = 1,
             attempts: Iterable[int] | None = None, operations: Iterable[str] | None = None,
             **fields: Any) -> FakeFunction:
        """Answer the next ``times`` requests (``None``: every request until
        :meth:`clear_failures`) with a service error instead of running the handler.

        ``error`` is a code (``"TooManyRequestsException"``) or a class from a client
        (``client.exceptions.TooManyRequestsException``); every error botocore models for Invoke
        works, plus ``ValidationException``, ``RequestEntityTooLargeException``, the errors
        every AWS operation can return (``AccessDeniedException`` with ``identity=``,
        ``UnrecognizedClientException``, ``InvalidSignatureException``,
        ``ExpiredTokenException``, ``IncompleteSignature``, ``ThrottlingException``,
        ``InternalFailure``, ``ServiceUnavailable``), the transport faults
        ``EndpointConnectionError``, ``ReadTimeoutError`` and ``ConnectionClosedError``, and a
        :class:`RawAnswer` (status, body, headers sent exactly as given).
        ``fields`` set the error shape's members (``Reason=``, ``message=``,
        ``retryAfterSeconds=``...). ``attempts=[1, 2]`` fails only those botocore attempts of
        each call, so a test sees botocore's retry recover.

        The Invoke family is failed unless ``operations=`` names the API operations to fail on
        this function instead (``["GetFunction", "PublishVersion"]``; ``"Invoke"`` among them
        keeps the Invoke family); the code must then be an error of each of them.
        """
        from .service import errors
        from .service.api import failable_operations

        wanted: frozenset[str] | None = None
        if operations is not None:
            if isinstance(operations, str):
                operations = [operations]
            wanted = frozenset(operations)
            unknown = sorted(wanted - failable_operations())
            if unknown or not wanted:
                raise ValueError(
                    f"function {self.name!r}: operations= names operations the stub answers "
                    f"for a function; unknown: {unknown or 'none given'}; valid: "
                    f"{', '.join(sorted(failable_operations()))}")
        if isinstance(error, errors.RawAnswer):
            if fields:
                raise TypeError(f"function {self.name!r}: a RawAnswer takes no fields, "
                                f"got {sorted(fields)}")
            code, fields = errors.RAW, {"answer": error}
        else:
            code = _error_code(error)
            for operation in sorted(wanted or {"Invoke"}):
                errors.check_code(code, fields, operation)
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                                  or times < 1):
            raise ValueError(f"function {self.name!r}: times must be an int >= 1 or None, "
                             f"not {times!r}")
        attempt_set = frozenset(attempts) if attempts is not None else None
        if attempt_set is not None and attempts is not None and times == 1:
            times = None  # attempts= scripts every call until cleared
        with self._lock:
            self._failures.append(ScriptedFailure(code, dict(fields), times, attempt_set,
                                                  wanted))
        return self

    def time_out(self, times: int | None = 1) -> FakeFunction:
        """Answer the next ``times`` runs with the ``Sandbox.Timedout`` function error at once,
        without running the handler or waiting."""
        with self._lock:
            if times is None or self._timeouts is None:
                self._timeouts = None
            else:
                self._timeouts += times
        return self

    def clear_failures(self) -> None:
        """Forget every scripted failure and timeout."""
        with self._lock:
            self._failures.clear()
            self._timeouts = 0

    # -- used by the service ----------------------------------------------------------------

    def take_failure(self, attempt: int, operation: str = "Invoke") -> ScriptedFailure | None:
        """(Used by the service.) The scripted failure for this attempt of ``operation``
        (any of the Invoke family is ``"Invoke"``), consuming one use."""
        if not self._failures:
            return None
        with self._lock:
            for failure in self._failures:
                if failure.attempts is not None and attempt not in failure.attempts:
                    continue
                if (failure.operations or _INVOKE) and operation not in (
                        failure.operations or _INVOKE):
                    continue
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def take_timeout(self) -> bool:
        """(Used by the service.) Whether this run is a scripted timeout, consuming one."""
        if self._timeouts == 0:
            return False
        with self._lock:
            if self._timeouts is None:
                return True
            if self._timeouts > 0:
                self._timeouts -= 1
                return True
        return False

    def log_stream(self, version: str) -> str:
        """The log stream of this version's execution environment (one per version here)."""
        stream = self._streams.get(version)
        if stream is None:
            stream = self._streams.setdefault(version, make_log_stream_name(version))
        return stream

    def first_run(self, version: str) -> bool:
        """(Used by the service.) True once per version: its cold start."""
        if version in self._cold:
            return False
        with self._lock:
            if version in self._cold:
                return False
            self._cold.add(version)
            return True

    def reset_environment(self) -> None:
        """Make the next invocation of every version a cold start: a new execution
        environment (its init phase runs the handler's module again, its variables start
        afresh, a new log stream)."""
        with self._lock:
            self._cold.clear()
            self._streams.clear()
            for ref in self.versions.values():
                ref.reload = True

    def discard_environment(self, version: str) -> None:
        """(Used by the service.) This version's execution environment is gone (its init
        failed, or its runtime exited): the next invocation is a cold start."""
        with self._lock:
            self._cold.discard(version)
            self._streams.pop(version, None)

    def record(self, invocation: Invocation, arrival: int = -1) -> None:
        """(Used by the service.) Add an invocation to this function's records, in the order
        the requests arrived."""
        with self._lock:
            arrivals = self._arrivals
            if not arrivals or arrival < 0 or arrival > arrivals[-1]:
                self._records.append(invocation)
                arrivals.append(arrival if arrival >= 0 else (arrivals[-1] if arrivals else 0))
            else:
                at = bisect.bisect(arrivals, arrival)
                self._records.insert(at, invocation)
                arrivals.insert(at, arrival)
            if invocation.ran:
                self._runs += 1
            if invocation.region:
                self._last_region = invocation.region

    def reset_records(self) -> None:
        """(Used when a stub starts.) Forget records, cold starts and counters."""
        with self._lock:
            self._records.clear()
            self._arrivals.clear()
            self._runs = 0
            self.late_results.clear()
            self._cold.clear()
            self._streams.clear()
            self.running = 0

    def resolve_qualifier(self, qualifier: str | None) -> str | None:
        """The version a qualifier runs, or None when no such version or alias exists."""
        if qualifier is None:
            return "$LATEST" if "$LATEST" in self.versions else None
        if qualifier in self.versions:
            return qualifier
        return self.aliases.get(qualifier)


def _fixed_result(value: Any) -> Handler:
    def fixed(event: Any, context: Any) -> Any:
        return value

    return fixed


def _error_code(error: str | type[BaseException]) -> str:
    if isinstance(error, str):
        return error
    if isinstance(error, type) and issubclass(error, BaseException):
        return error.__name__
    raise TypeError(f"error must be an error code or an exception class, not {error!r}")


def _check_number(where: str, label: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{where}: {label} must be a number from {low:g} to {high:g}, "
                         f"not {value!r}")


def _check_int(where: str, label: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: {label} must be an int from {low} to {high}, not {value!r}")
