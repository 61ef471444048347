"""LambdaStub and stub_lambda: the public stub object, its lifecycle, and the decorator form.

``start()``/``stop()`` hold the logic; the context-manager, async-context-manager and decorator
forms only delegate. Constructing a stub has no side effects: only ``start()`` patches anything,
and botocore is imported then, not when this package is imported.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .functions import _MISSING, AliasTarget, FakeFunction, SimulatedDuration, Target
from .options import StubOptions, session_defaults
from .records import Invocation
from .runtime.handlers import Handler
from .service.api.calls import ApiCall
from .service.events import PendingEvent
from .service.state import LambdaService, SentRecord

if TYPE_CHECKING:
    from .server.lifecycle import LoopbackServer

F = TypeVar("F", bound=Callable[..., Any])
_FIXTURE_NAME = "lambda_stub"
_STUB_ATTR = "__lambda_stub__"


class StrictModeError(AssertionError):
    """Raised by the context manager and the decorator (the pytest fixtures fail the test
    instead) when a strict stub saw undeclared functions called, calls in another region or
    account than a function's, operations refused as not emulated, or events left queued."""


class LambdaStub:
    """An imitation of the Lambda service answering every botocore Lambda client in the process:
    the Invoke family and the API around it (``GetFunction``, ``PublishVersion``...); operations
    it does not emulate are refused with ``NotEmulatedError``, never sent, unless let through.

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
        self._server: LoopbackServer | None = None
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
    ) -> FakeFunction:
        """Declare a function and return it.

        ``handler`` is a callable ``(event, context)`` or a Handler setting
        (``"module.function"``, ``"package.sub.module.function"``, ``"dir/module.function"``),
        imported at the function's cold start as Lambda's init phase, from ``code_root`` when
        given (a directory: the function's task root, like SAM's ``CodeUri``); ``returns=``
        declares a fixed result instead. ``versions={"1": handler_v1}`` and
        ``aliases={"live": "1"}`` declare published versions and aliases (the plain handler is
        ``$LATEST``); ``aliases={"live": {"1": 0.9, "2": 0.1}}`` declares a weighted alias
        (version 1, and version 2 with weight 0.1, as RoutingConfig's
        AdditionalVersionWeights).

        While the handler runs (its import included), ``os.environ`` shows Lambda's reserved
        variables (``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_REGION``...) and ``environment`` over
        the test process's own, for that invocation's threads only; the test process's
        environment is never changed.

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
            duplicate_delivery=duplicate_delivery, code_root=code_root,
            _lock=self._service.lock,
            _default_account=options.account_id,
        )
        self._service.add(function)
        return function

    def reset_environment(self, name: str) -> None:
        """Make the next invocation of function ``name`` a cold start (a new execution
        environment: init phase, module imported again, fresh variables)."""
        self[name].reset_environment()

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
        """Every destination record (on success or failure), with its target: sent, failed
        to send (``error``), or held back (``sent=False``)."""
        with self._service.lock:
            return [s for s in self._service.sent if s.kind != "dead_letter"]

    @property
    def dead_letters(self) -> list[SentRecord]:
        """Every dead-letter message, with its target: sent, failed to send (``error``), or
        held back (``sent=False``)."""
        with self._service.lock:
            return [s for s in self._service.sent if s.kind == "dead_letter"]

    @property
    def api_calls(self) -> list[ApiCall]:
        """Every Lambda API call other than the Invoke family the stub answered or refused
        (``GetFunction``, ``PublishVersion``...), in order."""
        with self._service.lock:
            return list(self._service.api_calls)

    def expect_missing(self, *names: str) -> LambdaStub:
        """Say these functions are meant not to exist: requests for them are answered
        ``ResourceNotFoundException`` (every operation) and strict mode does not report them."""
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"expect_missing takes function names, not {name!r}")
            if name in self._service.functions:
                raise ValueError(f"function {name!r} is declared: it cannot also be expected "
                                 f"to be missing")
        with self._service.lock:
            self._service.missing.update(names)
        return self

    def assert_api_called(self, operation: str, function_name: str | None = None,
                          **params: Any) -> ApiCall:
        """Assert an API call of ``operation`` was made (on ``function_name``, with these
        parameters among its own); return the last such call."""
        __tracebackhide__ = True
        calls = self.api_calls
        for call in reversed(calls):
            if call.operation == operation and _api_matches(call, function_name, params):
                return call
        wanted = _describe_api(operation, function_name, params)
        made = "\n  ".join(c.summary() for c in calls) or "none"
        raise AssertionError(f"expected {wanted}, but it was not made; API calls made:\n  {made}")

    def assert_api_not_called(self, operation: str, function_name: str | None = None,
                              **params: Any) -> None:
        """Assert no API call of ``operation`` (on ``function_name``, with these parameters)."""
        __tracebackhide__ = True
        found = [c for c in self.api_calls
                 if c.operation == operation and _api_matches(c, function_name, params)]
        if found:
            listed = "\n  ".join(c.summary() for c in found)
            raise AssertionError(f"expected no {_describe_api(operation, function_name, params)}"
                                 f", but {len(found)} were made:\n  {listed}")

    # -- asynchronous delivery -----------------------------------------------------------------

    @property
    def pending(self) -> list[PendingEvent]:
        """Events accepted and not yet finished (``event_delivery="manual"`` or ``"background"``)."""
        return self._service.events.pending

    def drain(self) -> list[Invocation]:
        """Deliver every queued event to completion on the simulated clock; return the runs."""
        return self._service.events.drain()

    def advance(self, seconds: float) -> list[Invocation]:
        """Move the simulated clock forward, delivering only what falls due by then; return the
        runs. ``seconds`` is a finite number from 0 to 1e10 (``ValueError`` otherwise,
        ``TypeError`` for a non-number; the clock is left alone)."""
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
        """Whether the stub is answering now (started and not yet stopped as often)."""
        return self._depth > 0

    def start(self) -> LambdaStub:
        """Start answering Lambda calls (records from a previous run are cleared). Nested
        ``start()`` calls are counted: the stub stops at the matching last ``stop()``."""
        with self._lock:
            self._depth += 1
            if self._depth > 1:
                return self
            from .interception import hooks
            from .runtime import environment, logs

            self._service.reset()
            self._service.events.clear()
            logs.install()
            environment.install()
            hooks.activate(self._service)
            self._service.events.start()
            if self._service.options.serve:
                try:
                    self.serve()
                except BaseException:
                    self.stop()  # not left half-started
                    raise
        return self

    def serve(self) -> str:
        """Answer over HTTP too, for clients outside this process; returns the endpoint's URL.

        A server on 127.0.0.1 (a free port) answers the Lambda API as the stub does in-process
        (same records, failure scripts and strict mode; the signature is not checked). With
        ``export_endpoint`` (on by default under pytest) ``AWS_ENDPOINT_URL_LAMBDA`` is set in
        ``os.environ`` meanwhile, so child processes' SDKs call it. Stopped with the stub.
        """
        with self._lock:
            if not self.active:
                raise RuntimeError("stub.serve() needs a started stub: call it inside "
                                   "'with stub:' or the lambda_stub fixture, or pass serve=True")
            if self._server is None:
                from .server.lifecycle import LoopbackServer, under_pytest

                export = self._service.options.export_endpoint
                self._server = LoopbackServer(
                    self._service, export=under_pytest() if export is None else export)
            return self._server.url

    @property
    def endpoint_url(self) -> str:
        """The loopback endpoint's URL (``http://127.0.0.1:<port>``) while the stub serves."""
        server = self._server
        if server is None:
            raise RuntimeError("the stub is not serving: call stub.serve() or pass serve=True")
        return server.url

    def stop(self) -> list[str]:
        """Stop answering; undo every patch when no other stub is active.

        Returns the strict-mode problems found (see :meth:`problems`), which the entry points
        turn into a failure.
        """
        with self._lock:
            if self._depth == 0:
                return []
            self._depth -= 1
            if self._depth > 0:
                return []
            from .interception import hooks
            from .runtime import environment, logs
            from .runtime.workers import POOL

            server, self._server = self._server, None
            failed = server.stop() if server is not None else []  # before the hooks go
            left = self._service.events.stop()
            hooks.deactivate(self._service)
            logs.uninstall()
            environment.uninstall()
            if hooks.current() is None:
                POOL.shutdown()
            self.stopped_with = self.problems(left)
            if left and not self._service.options.strict:
                import warnings

                warnings.warn(f"lambda_stub: {len(left)} event(s) left queued when the stub "
                              f"stopped, never delivered", stacklevel=2)
            if failed:  # each was answered 500; said again so that no client can hide it
                import warnings

                warnings.warn("lambda_stub: the loopback endpoint failed answering:\n  "
                              + "\n  ".join(failed), stacklevel=2)
            return self.stopped_with

    def problems(self, left: list[PendingEvent] | None = None) -> list[str]:
        """What strict mode reports: undeclared functions called (by any operation, unless
        :meth:`expect_missing`), calls in another region or account than a function's,
        operations refused as not emulated, events left queued; then what to do about it."""
        service = self._service
        if not service.options.strict:
            return []
        with service.lock:  # the common case, at every stop: nothing to report
            if not (left or service.undeclared or service.undeclared_api
                    or service.wrong_region or service.not_emulated):
                return []
        found: list[str] = []
        declared = sorted(service.functions)
        undeclared = sorted(self.undeclared_calls.items())
        missing = service.missing
        undeclared = [(name, count) for name, count in undeclared if name not in missing]
        with service.lock:
            undeclared_api = sorted((k, v) for k, v in service.undeclared_api.items()
                                    if k[0] not in missing)
            wrong_region = sorted(service.wrong_region.items())
            not_emulated = sorted(service.not_emulated.items())
        for name, count in undeclared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.append(f"undeclared function {name!r} was invoked {_times(count)}{hint}")
        for (name, operation), count in undeclared_api:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.append(f"undeclared function {name!r} was called by {operation} "
                         f"{_times(count)}{hint}")
        for (name, region), count in wrong_region:
            function = service.functions.get(name)
            home = (function.region if function else None) or service.options.region
            if home is not None and home != region:
                found.append(f"function {name!r} is declared in region {home!r} but was called "
                             f"in {region!r} {_times(count)} (declare it with region={region!r}"
                             f", or call it in {home!r})")
            else:
                account = function.account_id if function else "?"
                found.append(f"function {name!r} is declared in account {account} but was "
                             f"called in another account {_times(count)}")
        for operation, count in not_emulated:
            found.append(f"{operation} was refused as not emulated {_times(count)} (let it "
                         f"through with passthrough=[{operation!r}] or moto's mock_aws)")
        undeclared = undeclared + [(name, count) for (name, _), count in undeclared_api]
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
            found.append("declare them (stub.add_function(name, handler)), say they are meant "
                         "to be missing (stub.expect_missing(name)), or let them reach AWS with "
                         "passthrough=[name]")
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


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _api_matches(call: ApiCall, function_name: str | None, params: Mapping[str, Any]) -> bool:
    if function_name is not None and call.function_name != function_name:
        return False
    return all(call.params.get(key) == value for key, value in params.items())


def _describe_api(operation: str, function_name: str | None, params: Mapping[str, Any]) -> str:
    target = f" on {function_name!r}" if function_name else ""
    given = f" with {params!r}" if params else ""
    return f"a {operation} call{target}{given}"


def decorator_stub(function: Any) -> LambdaStub | None:
    """The stub a test function was decorated with, if any."""
    stub = getattr(function, _STUB_ATTR, None)
    return stub if isinstance(stub, LambdaStub) else None
