"""LambdaStub and stub_lambda: the public stub object, its lifecycle, and the decorator form.

``start()``/``stop()`` hold the logic; the context-manager, async-context-manager and decorator
forms only delegate. Constructing a stub has no side effects: only ``start()`` patches anything,
and botocore is imported then, not when this package is imported.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar, overload

from .functions import _MISSING, FakeFunction, SimulatedDuration, Target
from .options import StubOptions, session_defaults
from .records import Invocation
from .runtime.handlers import Handler
from .service.events import PendingEvent
from .service.state import LambdaService, SentRecord

F = TypeVar("F", bound=Callable[..., Any])
_FIXTURE_NAME = "lambda_stub"
_STUB_ATTR = "__lambda_stub__"


class StrictModeError(AssertionError):
    """Raised (or reported by the pytest plugin) when a strict stub saw undeclared functions
    invoked or events left queued."""


class LambdaStub:
    """An imitation of the Lambda service answering every botocore ``Invoke`` in the process.

    Use it as the ``lambda_stub`` pytest fixture, as a decorator (``@stub_lambda(...)``), or as a
    context manager (``with stub_lambda(...) as stub:``); it is also an async context manager.
    Declare functions with :meth:`add_function` or the :meth:`function` decorator, then read what
    happened from ``stub[name].invocations`` or ``stub.invocations``.
    """

    def __init__(self, functions: Mapping[str, Handler | str] | None = None,
                 **options: Any) -> None:
        self._explicit = dict(options)
        self._service = LambdaService(session_defaults().replace(options))
        self._depth = 0
        self._lock = threading.RLock()
        self.stopped_with: list[str] = []
        for name, handler in (functions or {}).items():
            self.add_function(name, handler)

    # -- configuration -------------------------------------------------------------------------

    @property
    def options(self) -> StubOptions:
        """The options in force (defaults, ini file, markers, then explicit arguments)."""
        return self._service.options

    def configure(self, base: StubOptions) -> None:
        """Re-base this stub's options on ``base`` (its explicit options still win)."""
        self._service.configure(base.replace(self._explicit))

    # -- declaring functions -------------------------------------------------------------------

    def add_function(
        self,
        name: str,
        handler: Handler | str | None = None,
        *,
        returns: Any = _MISSING,
        timeout: float = 3,
        memory_size: int = 128,
        versions: Mapping[str | int, Handler | str] | None = None,
        aliases: Mapping[str, str | int] | None = None,
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
    ) -> FakeFunction:
        """Declare a function and return it.

        ``handler`` is a callable ``(event, context)`` or a dotted ``"package.module.function"``
        path, imported on first invocation as Lambda's Handler setting; ``returns=`` declares a
        fixed result instead. ``versions={"1": handler_v1}`` and ``aliases={"live": "1"}``
        declare published versions and aliases (the plain handler is ``$LATEST``).

        ``environment`` is set in ``os.environ`` while the handler runs and restored after:
        ``os.environ`` is process-wide, so other threads see it meanwhile. Lambda's reserved
        variables (``AWS_REGION``...) are not set unless given.

        Errors and limits: ``timeout`` (s, 1-900), ``memory_size`` (MB), ``reserved_concurrency``
        (``0`` throttles every call), ``simulated_duration`` (seconds each run is taken to last,
        a number or a callable of the event: compared with the function's timeout and the calling
        client's ``read_timeout``), ``recursive_loop`` (``"Terminate"`` or ``"Allow"``).

        Asynchronous invocation (as ``PutFunctionEventInvokeConfig``): ``maximum_retry_attempts``
        (0-2), ``maximum_event_age`` (60-21600 s), ``on_success`` / ``on_failure`` destinations
        and ``dead_letter`` (a callable, a declared function's name or ARN, or an SQS, SNS or
        EventBridge ARN), ``duplicate_delivery`` (a probability, or a count of extra deliveries).
        """
        options = self._service.options
        function = FakeFunction(
            name, handler, returns=returns, timeout=timeout, memory_size=memory_size,
            versions=versions, aliases=aliases, environment=environment, region=region,
            account_id=account_id, reserved_concurrency=reserved_concurrency,
            simulated_duration=simulated_duration, recursive_loop=recursive_loop,
            maximum_retry_attempts=maximum_retry_attempts, maximum_event_age=maximum_event_age,
            on_success=on_success, on_failure=on_failure, dead_letter=dead_letter,
            duplicate_delivery=duplicate_delivery, _lock=self._service.lock,
            _default_account=options.account_id,
        )
        self._service.add(function)
        return function

    def function(self, name: str, **options: Any) -> Callable[[F], F]:
        """Decorator form of :meth:`add_function`: ``@stub.function("resize")``."""

        def declare(handler: F) -> F:
            self.add_function(name, handler, **options)
            return handler

        return declare

    def __getitem__(self, name: str) -> FakeFunction:
        try:
            return self._service.functions[name]
        except KeyError:
            declared = sorted(self._service.functions)
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(
                f"no function {name!r} is declared; declared: "
                f"{', '.join(map(repr, declared)) or 'none'}{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._service.functions

    def __iter__(self) -> Iterator[FakeFunction]:
        return iter(list(self._service.functions.values()))

    # -- what happened ---------------------------------------------------------------------

    @property
    def invocations(self) -> list[Invocation]:
        """Every request answered, in order (and each delivery attempt of ``Event`` invokes)."""
        with self._service.lock:
            return list(self._service.records)

    @property
    def retry_delays(self) -> list[float]:
        """Delays botocore asked for between retries, recorded instead of slept."""
        with self._service.lock:
            return list(self._service.retry_delays)

    @property
    def undeclared_calls(self) -> dict[str, int]:
        """Undeclared function names invoked, with how often."""
        with self._service.lock:
            return dict(self._service.undeclared)

    @property
    def destinations(self) -> list[SentRecord]:
        """Every destination record sent (on success or failure), with its target."""
        with self._service.lock:
            return [s for s in self._service.sent if s.kind != "dead_letter"]

    @property
    def dead_letters(self) -> list[SentRecord]:
        """Every dead-letter message sent, with its target."""
        with self._service.lock:
            return [s for s in self._service.sent if s.kind == "dead_letter"]

    # -- asynchronous delivery -----------------------------------------------------------------

    @property
    def pending(self) -> list[PendingEvent]:
        """Events accepted and not yet finished (``event_delivery="manual"`` or ``"background"``)."""
        return self._service.events.pending

    def drain(self) -> list[Invocation]:
        """Deliver every queued event to completion on the simulated clock; return the runs."""
        return self._service.events.drain()

    def advance(self, seconds: float) -> list[Invocation]:
        """Move the simulated clock forward, delivering only what falls due by then."""
        return self._service.events.advance(seconds)

    def wait_idle(self, timeout: float | None = 10) -> bool:
        """Wait until no event is queued or being delivered; False when ``timeout`` ran out."""
        return self._service.events.wait_idle(timeout)

    @property
    def clock(self) -> float:
        """The simulated clock, in seconds since the epoch."""
        return self._service.clock.now()

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether the stub is answering Invokes now."""
        return self._depth > 0

    def start(self) -> LambdaStub:
        """Start answering Invokes (records from a previous run are cleared)."""
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return self
            from .interception import hooks
            from .runtime import alarm, logs

            self._service.reset()
            self._service.events.clear()
            logs.install()
            alarm.install()
            hooks.activate(self._service)
            self._service.events.start()
        return self

    def stop(self) -> list[str]:
        """Stop answering; undo every patch when no other stub is active.

        Returns the strict-mode problems found (undeclared functions invoked, events left
        queued), which the entry points turn into a failure.
        """
        with self._lock:
            if self._depth == 0:
                return []
            self._depth -= 1
            if self._depth > 0:
                return []
            from .interception import hooks
            from .runtime import alarm, logs
            from .runtime.workers import POOL

            left = self._service.events.stop()
            hooks.deactivate(self._service)
            logs.uninstall()
            alarm.uninstall()
            if hooks.current() is None:
                POOL.shutdown()
            self.stopped_with = self.problems(left)
            if left and not self._service.options.strict:
                import warnings

                warnings.warn(f"lambda_stub: {len(left)} event(s) left queued when the stub "
                              f"stopped, never delivered", stacklevel=2)
            return self.stopped_with

    def problems(self, left: list[PendingEvent] | None = None) -> list[str]:
        """What strict mode reports: undeclared functions invoked, events left queued; each
        followed by what to do about it."""
        if not self._service.options.strict:
            return []
        found: list[str] = []
        declared = sorted(self._service.functions)
        undeclared = sorted(self.undeclared_calls.items())
        for name, count in undeclared:
            times = "once" if count == 1 else f"{count} times"
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.append(f"undeclared function {name!r} was invoked {times}{hint}")
        if left:
            counts: dict[str, int] = {}
            for event in left:
                counts[event.function_name] = counts.get(event.function_name, 0) + 1
            found.append(f"{len(left)} event(s) left queued, never delivered: " + ", ".join(
                f"{name} ({count})" for name, count in counts.items()))
        if not found:
            return []
        found.append(f"declared functions: {', '.join(map(repr, declared)) or 'none'}")
        if undeclared:
            found.append("declare them (stub.add_function(name, handler)), or let them reach "
                         "AWS with passthrough=[name]")
        if left:
            found.append("deliver queued events with stub.drain() (or stub.wait_idle() with "
                         "event_delivery='background')")
        found.append("or relax the check: strict=False (@pytest.mark.lambda_stub(strict=False), "
                     "stub_lambda(strict=False), or lambda_stub_strict = false in the ini file)")
        return found

    def raise_problems(self, problems: list[str]) -> None:
        """Raise :class:`StrictModeError` listing ``problems`` (if any)."""
        __tracebackhide__ = True
        if problems:
            raise StrictModeError("lambda_stub strict mode:\n  " + "\n  ".join(problems))

    def __enter__(self) -> LambdaStub:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        __tracebackhide__ = True
        problems = self.stop()
        if exc_type is None:
            self.raise_problems(problems)

    async def __aenter__(self) -> LambdaStub:
        return self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        __tracebackhide__ = True
        self.__exit__(exc_type, exc, tb)

    # -- decorator ----------------------------------------------------------------------------

    def __call__(self, target: F) -> F:
        """Decorate a test function, coroutine function or class (each ``test*`` method)."""
        if inspect.isclass(target):
            for attr, value in list(vars(target).items()):
                if attr.startswith("test") and callable(value):
                    setattr(target, attr, self(value))
            return target
        if not callable(target):
            raise TypeError(f"stub_lambda decorates functions and classes, not {target!r}")
        stub = self

        def fixture_stub(kwargs: Mapping[str, Any]) -> LambdaStub | None:
            value = kwargs.get(_FIXTURE_NAME)
            return value if isinstance(value, LambdaStub) and value.active else None

        if inspect.iscoroutinefunction(target):
            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                __tracebackhide__ = True
                if fixture_stub(kwargs) is stub:
                    return await target(*args, **kwargs)
                async with stub:
                    return await target(*args, **kwargs)

            setattr(async_wrapper, _STUB_ATTR, stub)
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            if fixture_stub(kwargs) is stub:
                return target(*args, **kwargs)
            with stub:
                return target(*args, **kwargs)

        setattr(wrapper, _STUB_ATTR, stub)
        return wrapper  # type: ignore[return-value]


@overload
def stub_lambda(functions: F) -> F: ...


@overload
def stub_lambda(functions: Mapping[str, Handler | str] | None = None,
                **options: Any) -> LambdaStub: ...


def stub_lambda(functions: Any = None, **options: Any) -> Any:
    """A new :class:`LambdaStub`: ``with stub_lambda(functions={...}) as stub:``,
    ``@stub_lambda(functions={...}, strict=False)``, or bare ``@stub_lambda``."""
    if callable(functions) and not isinstance(functions, Mapping):
        return LambdaStub()(functions)
    return LambdaStub(functions, **options)


def decorator_stub(function: Any) -> LambdaStub | None:
    """The stub a test function was decorated with, if any."""
    stub = getattr(function, _STUB_ATTR, None)
    return stub if isinstance(stub, LambdaStub) else None
