"""pytest glue: the ``lambda_stub`` fixtures, the ``lambda_stub`` marker, ini options, and the
"lambda invocations" report section. Importing it imports neither botocore nor boto3."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from .options import (
    OptionError,
    StubOptions,
    parse_ini_value,
    session_defaults,
    set_session_defaults,
)
from .report import render_report
from .stub import LambdaStub, decorator_stub

_INI_HELP = {
    "strict": "fail a test whose code invoked undeclared functions or left events queued",
    "passthrough": "function names (or 'true' for all) whose Invokes go on to botocore's endpoint",
    "account_id": "the 12-digit account id of declared functions",
    "region": "the only region the stub answers in (empty: every region)",
    "instant_retries": "record botocore's retry delays instead of sleeping them",
    "event_delivery": "Event invokes: immediate, manual or background",
    "report": "'lambda invocations' report section: on-failure, always or never",
    "seed": "seed for duplicate_delivery's randomness",
    "account_concurrency": "account-wide concurrent executions before throttling",
}
_STASH_KEY = pytest.StashKey[LambdaStub]()


def pytest_addoption(parser: pytest.Parser) -> None:
    for name in StubOptions.names():
        parser.addini(f"lambda_stub_{name}", _INI_HELP.get(name, name), default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lambda_stub(functions=None, **options): configure the lambda_stub fixture "
        "(strict, passthrough, account_id, region, instant_retries, event_delivery, report, "
        "seed, account_concurrency)",
    )
    values: dict[str, Any] = {}
    try:
        for name in StubOptions.names():
            raw = config.getini(f"lambda_stub_{name}")
            if isinstance(raw, str) and raw.strip():
                values[name] = parse_ini_value(name, raw)
        set_session_defaults(StubOptions().replace(values))
    except OptionError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    set_session_defaults(StubOptions())


def _layered(node: pytest.Item | pytest.Collector) -> tuple[StubOptions, dict[str, Any]]:
    """Options from the ini file, then module, class and function markers (closest wins)."""
    options = session_defaults()
    functions: dict[str, Any] = {}
    markers = list(node.iter_markers("lambda_stub"))
    for marker in reversed(markers):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.lambda_stub takes keyword options only, got {marker.args!r}")
        kwargs = dict(marker.kwargs)
        functions.update(kwargs.pop("functions", None) or {})
        try:
            options = options.replace(kwargs)
        except OptionError as error:
            raise pytest.UsageError(f"{node.nodeid}: {error}") from None
    return options, functions


def _run_stub(stub: LambdaStub) -> Generator[LambdaStub, None, None]:
    __tracebackhide__ = True
    stub.start()
    try:
        yield stub
    finally:
        problems = stub.stop()
    if problems:
        pytest.fail("lambda_stub strict mode:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def lambda_stub(request: pytest.FixtureRequest) -> Iterator[LambdaStub]:
    """An active LambdaStub answering every botocore Lambda ``Invoke`` for this test.

    Declare functions with ``lambda_stub.add_function(name, handler)`` or
    ``@lambda_stub.function(name)``, then assert on ``lambda_stub[name].invocations``.
    Configure with ``@pytest.mark.lambda_stub(strict=False, ...)`` (module, class or test) or
    ``lambda_stub_*`` ini options. A test also decorated with ``@stub_lambda(...)`` gets that
    same stub. With ``strict=True`` (the default) the test fails at teardown if undeclared
    functions were invoked or events were left queued.
    """
    __tracebackhide__ = True
    options, functions = _layered(request.node)
    stub = decorator_stub(getattr(request, "function", None)) or LambdaStub()
    stub.configure(options)
    for name, handler in functions.items():
        stub.add_function(name, handler)
    request.node.stash[_STASH_KEY] = stub
    yield from _run_stub(stub)


@pytest.fixture(scope="module")
def lambda_stub_module(request: pytest.FixtureRequest) -> Iterator[LambdaStub]:
    """A LambdaStub active for a whole test module (declarations and records are shared by its
    tests; configure with a module-level ``pytestmark = pytest.mark.lambda_stub(...)``)."""
    __tracebackhide__ = True
    options, functions = _layered(request.node)
    stub = LambdaStub()
    stub.configure(options)
    for name, handler in functions.items():
        stub.add_function(name, handler)
    yield from _run_stub(stub)


def _stub_of(item: pytest.Item) -> LambdaStub | None:
    stub = item.stash.get(_STASH_KEY, None)
    if stub is None:
        stub = decorator_stub(getattr(item, "obj", None))
    return stub


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "setup":
        return
    stub = _stub_of(item)
    if stub is None:
        return
    mode = stub.options.report
    wanted = (mode == "always" and report.when == "call") or (
        mode == "on-failure" and report.failed)
    if wanted:
        report.sections.append(("lambda invocations", render_report(stub.invocations)))
