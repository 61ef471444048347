"""pytest glue: the ``lambda_stub`` fixtures, the ``lambda_stub`` marker, ini options, and the
"lambda invocations" report section. Importing it imports neither botocore nor boto3."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .options import (
    OptionError,
    StubOptions,
    parse_ini_value,
    session_defaults,
    set_session_defaults,
)
from .report import render_report

if TYPE_CHECKING:
    from .stub import LambdaStub

_INI_HELP = {
    "strict": "fail a test that called undeclared functions, was refused an operation as not "
              "emulated, or left events queued",
    "passthrough": "function or Lambda operation names (or 'true' / 'all') whose calls go on to "
                   "botocore's endpoint",
    "account_id": "the 12-digit account id of declared functions",
    "region": "the region of declared functions (empty: whichever region a client calls)",
    "instant_retries": "record botocore's retry delays instead of sleeping them",
    "event_delivery": "Event invokes: immediate, manual or background",
    "report": "'lambda invocations' report section: on-failure, always or never",
    "seed": "seed for duplicate_delivery's and weighted aliases' randomness",
    "account_concurrency": "account-wide concurrent executions before throttling",
    "serve": "also answer over HTTP on 127.0.0.1 (stub.endpoint_url), for other processes",
    "export_endpoint": "while serving, set AWS_ENDPOINT_URL_LAMBDA: true, false or auto "
                       "(auto: under pytest)",
    "send_destinations": "send SQS/SNS/EventBridge destinations and dead letters with boto3 "
                         "even without moto (off: recorded, never sent)",
}
_STASH_KEY = pytest.StashKey["LambdaStub"]()
_configs: list[pytest.Config] = []


def current_config() -> pytest.Config | None:
    """The config of the running pytest session (for the assertion helpers' diffs)."""
    return _configs[-1] if _configs else None

_MODULE_STUB_KEY = pytest.StashKey["LambdaStub"]()
_REPORTED_KEY = pytest.StashKey[bool]()
_OFFSET_KEY = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    for name in StubOptions.names():
        parser.addini(f"lambda_stub_{name}", _INI_HELP.get(name, name), default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lambda_stub(functions=None, **options): configure the lambda_stub fixture "
        "(strict, passthrough, account_id, region, instant_retries, event_delivery, report, "
        "seed, account_concurrency, serve, export_endpoint, send_destinations)",
    )
    _configs.append(config)
    values: dict[str, Any] = {}
    known = {f"lambda_stub_{name}" for name in StubOptions.names()}
    unknown = sorted(key for key in _ini_keys(config)
                     if key.startswith("lambda_stub_") and key not in known)
    if unknown:
        raise pytest.UsageError(
            f"unknown ini option(s) {', '.join(unknown)}; valid lambda_stub ini options are: "
            f"{', '.join(sorted(known))}")
    try:
        for name in StubOptions.names():
            raw = config.getini(f"lambda_stub_{name}")
            if isinstance(raw, str) and raw.strip():
                values[name] = parse_ini_value(name, raw)
        set_session_defaults(StubOptions().replace(values))
    except OptionError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _configs:
        _configs.remove(config)
    set_session_defaults(StubOptions())


def _ini_keys(config: pytest.Config) -> list[str]:
    """The keys of the pytest section of the configuration file pytest read (read from the file:
    pytest has no public API listing unknown keys, and ``config.inicfg`` is deprecated)."""
    path = config.inipath
    if path is None or not path.is_file():
        return []
    if path.suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib as toml
        else:  # pytest itself depends on tomli there
            import tomli as toml  # type: ignore[import-not-found,unused-ignore]
        data = toml.loads(path.read_text(encoding="utf-8"))
        tool = data.get("tool", {}) if path.name == "pyproject.toml" else data
        section = tool.get("pytest", {})
        keys = list(section.get("ini_options", {})) + [k for k in section if k != "ini_options"]
        return [str(key) for key in keys]
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    for name in ("pytest", "tool:pytest"):
        if parser.has_section(name):
            return list(parser[name])
    return []


def _layered(node: pytest.Item | pytest.Collector) -> tuple[StubOptions, dict[str, Any]]:
    """Options from the ini file, then module, class and function markers (closest wins)."""
    options = session_defaults()
    functions: dict[str, Any] = {}
    markers = list(node.iter_markers("lambda_stub"))
    for marker in reversed(markers):
        if marker.args:
            raise OptionError(
                f"@pytest.mark.lambda_stub takes keyword options only, got {marker.args!r}; "
                f"valid options are: functions, {', '.join(StubOptions.names())}")
        kwargs = dict(marker.kwargs)
        functions.update(kwargs.pop("functions", None) or {})
        options = options.replace(kwargs)
    return options, functions


def _layered_or_fail(node: pytest.Item | pytest.Collector) -> tuple[StubOptions, dict[str, Any]]:
    __tracebackhide__ = True
    try:
        return _layered(node)
    except OptionError as error:
        pytest.fail(f"{node.nodeid}: {error}", pytrace=False)


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
    """An active LambdaStub answering every botocore Lambda call for this test (the Invoke
    family and the API around it; nothing is sent to AWS unless let through).

    Declare functions with ``lambda_stub.add_function(name, handler)`` or
    ``@lambda_stub.function(name)``, then assert on ``lambda_stub[name].invocations``.
    Configure with ``@pytest.mark.lambda_stub(strict=False, ...)`` (module, class or test) or
    ``lambda_stub_*`` ini options. A test also decorated with ``@stub_lambda(...)`` gets that
    same stub. With ``strict=True`` (the default) the test fails at teardown if undeclared
    functions were called, an operation was refused as not emulated, or events were left
    queued.
    """
    __tracebackhide__ = True
    options, functions = _layered_or_fail(request.node)
    stub = decorator_stub(getattr(request, "function", None)) or _new_stub()
    stub.configure(options)
    for name, handler in functions.items():
        stub.add_function(name, handler)
    request.node.stash[_STASH_KEY] = stub
    yield from _run_stub(stub)


@pytest.fixture(scope="module")
def lambda_stub_module(request: pytest.FixtureRequest) -> Iterator[LambdaStub]:
    """A LambdaStub active for a whole test module: declarations and records are shared by its
    tests (declare once, e.g. in a module-scoped fixture that takes it). Configure it with a
    module-level ``pytestmark = pytest.mark.lambda_stub(...)``; strict mode reports at the end of
    the module. The "lambda invocations" report of a test lists the invocations made during it.
    """
    __tracebackhide__ = True
    options, functions = _layered_or_fail(request.node)
    stub = _new_stub()
    stub.configure(options)
    for name, handler in functions.items():
        stub.add_function(name, handler)
    request.node.stash[_MODULE_STUB_KEY] = stub
    yield from _run_stub(stub)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test decorated with ``@stub_lambda(...)`` (without the fixture) also gets the options of
    the ini file and the ``lambda_stub`` markers; the decorator's own arguments still win."""
    __tracebackhide__ = True
    stub = decorator_stub(getattr(item, "obj", None))
    if stub is not None and not stub.active:
        options, _ = _layered_or_fail(item)
        stub.configure(options)


def _stub_of(item: pytest.Item) -> tuple[LambdaStub | None, bool]:
    """The stub a test used, and whether it is the module-scoped (shared) one."""
    stub = item.stash.get(_STASH_KEY, None) or decorator_stub(getattr(item, "obj", None))
    if stub is not None:
        return stub, False
    if "lambda_stub_module" in getattr(item, "fixturenames", ()):
        module = item.getparent(pytest.Module)
        if module is not None:
            return module.stash.get(_MODULE_STUB_KEY, None), True
    return None, False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    stub, shared = _stub_of(item)
    if stub is None:
        return
    if report.when == "setup":
        # The invocations of a module-scoped stub's earlier tests are not this test's story.
        item.stash[_OFFSET_KEY] = len(stub.invocations) if shared else 0
        # A rerun (pytest-rerunfailures) runs the same item again: each run gets its section.
        item.stash[_REPORTED_KEY] = False
        return
    if item.stash.get(_REPORTED_KEY, False):
        return
    mode = stub.options.report
    wanted = (mode == "always" and report.when == "call") or (
        mode == "on-failure" and report.failed)
    if wanted:
        item.stash[_REPORTED_KEY] = True
        offset = item.stash.get(_OFFSET_KEY, 0)
        report.sections.append(("lambda invocations",
                                render_report(stub.invocations[offset:], start=offset + 1)))


def decorator_stub(function: Any) -> LambdaStub | None:
    """The stub a test was decorated with (imports the stub module only when there is one)."""
    if getattr(function, "__lambda_stub__", None) is None:
        return None
    from .stub import decorator_stub as find

    return find(function)


def _new_stub() -> LambdaStub:
    from .stub import LambdaStub

    return LambdaStub()
