"""The init phase (cold start), handler paths, code roots, and init failures as the runtime
answers them."""

from __future__ import annotations

import base64
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_lambda_stub import stub_lambda
from pytest_lambda_stub.runtime import init as init_phase
from tests.helpers import REGION, client, payload


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for handler modules written by the test (unloaded after)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        if str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def duration_ms(log: str) -> float:
    match = re.search(r"\tDuration: ([0-9.]+) ms", log)
    assert match, log
    return float(match.group(1))


def test_a_slow_import_is_the_init_phase_not_the_invocation(code: Path) -> None:
    write(code / "slow_app.py", """
        import time
        print("importing slow_app")
        time.sleep(0.3)
        CALLS = []
        def handler(event, context):
            CALLS.append(event)
            print("handling", len(CALLS))
            return len(CALLS)
    """)
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("slow", "slow_app.handler", timeout=1)
        first = lam.invoke(FunctionName="slow", Payload=b"1", LogType="Tail")
        second = lam.invoke(FunctionName="slow", Payload=b"2")
    assert payload(first) == 1 and "FunctionError" not in first  # no Sandbox.Timedout
    assert payload(second) == 2  # module state persists while warm
    cold, warm = stub.invocations
    assert cold.init_log.startswith(
        f"INIT_START Runtime Version: python:{sys.version_info[0]}.{sys.version_info[1]}.")
    assert f"\tRuntime Version ARN: arn:aws:lambda:{REGION}::runtime:" in cold.init_log
    assert cold.init_log.endswith("importing slow_app\n")
    assert "importing" not in cold.log  # output of the import comes before START
    assert cold.log.startswith("START RequestId:")
    assert duration_ms(cold.log) < 250  # the import does not count in Duration
    init_ms = float(re.search(r"Init Duration: ([0-9.]+) ms", cold.log).group(1))  # type: ignore[union-attr]
    assert init_ms >= 300
    assert warm.init_log == "" and "Init Duration" not in warm.log
    tail = base64.b64decode(first["LogResult"]).decode()
    assert tail == cold.log


def test_the_init_limit_and_its_report_line(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_phase, "INIT_LIMIT", 0.05)  # Lambda's is 10 s
    write(code / "slower_app.py", """
        import time
        time.sleep(0.2)
        def handler(event, context):
            return "ran"
    """)
    with stub_lambda(functions={"f": "slower_app.handler"}) as stub:
        response = client().invoke(FunctionName="f")
    assert payload(response) == "ran"  # retried in the invoke phase, within the timeout
    record = stub.invocations[0]
    assert "INIT_REPORT Init Duration: 50.00 ms\tPhase: init\tStatus: timeout\n" in record.init_log
    assert "Init Duration" not in record.log


def test_an_init_longer_than_the_timeout_but_within_the_limit_does_not_time_out(
        code: Path) -> None:
    write(code / "long_init_app.py", """
        import time
        time.sleep(1.3)
        def handler(event, context):
            return "ran"
    """)
    with stub_lambda() as stub:
        stub.add_function("f", "long_init_app.handler", timeout=1)
        response = client().invoke(FunctionName="f")
    assert payload(response) == "ran"
    assert "Init Duration: 1" in stub.invocations[0].log  # 1,3xx ms, outside Duration


def test_an_init_longer_than_the_limit_and_the_timeout_times_out(
        code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_phase, "INIT_LIMIT", 0.05)
    write(code / "slowest_app.py", """
        import time
        time.sleep(1.2)
        def handler(event, context):
            return "ran"
    """)
    with stub_lambda() as stub:
        stub.add_function("f", "slowest_app.handler", timeout=1)
        response = client().invoke(FunctionName="f")
    assert payload(response)["errorType"] == "Sandbox.Timedout"


def test_handler_paths_the_runtime_accepts(code: Path) -> None:
    write(code / "functions" / "orders.py", """
        def handler(event, context):
            return "dir/module"
    """)
    write(code / "shop" / "__init__.py", "")
    write(code / "shop" / "api" / "__init__.py", "")
    write(code / "shop" / "api" / "views.py", """
        def handler(event, context):
            return "pkg.sub.module"
    """)
    with stub_lambda(functions={"a": "functions/orders.handler",
                                "b": "shop.api.views.handler"}):
        assert payload(client().invoke(FunctionName="a")) == "dir/module"
        assert payload(client().invoke(FunctionName="b")) == "pkg.sub.module"


def test_two_code_roots_with_an_app_py_each_run_their_own(tmp_path: Path) -> None:
    # SAM's default layout: every function's CodeUri holds an app.py (and its helpers).
    for name in ("orders", "payments"):
        write(tmp_path / name / "app.py", f"""
            import os
            import helpers
            def lambda_handler(event, context):
                return [{name!r}, helpers.WHO, os.environ["LAMBDA_TASK_ROOT"]]
        """)
        write(tmp_path / name / "helpers.py", f"WHO = 'helpers of {name}'\n")
    before = set(sys.modules)
    with stub_lambda() as stub:
        stub.add_function("orders", "app.lambda_handler", code_root=tmp_path / "orders")
        stub.add_function("payments", "app.lambda_handler", code_root=str(tmp_path / "payments"))
        for _ in range(2):
            assert payload(client().invoke(FunctionName="orders")) == [
                "orders", "helpers of orders", str(tmp_path / "orders")]
            assert payload(client().invoke(FunctionName="payments")) == [
                "payments", "helpers of payments", str(tmp_path / "payments")]
    assert "app" not in sys.modules and "helpers" not in sys.modules
    assert set(sys.modules) - before <= {"botocore.retries.adaptive"}
    assert str(tmp_path / "orders") not in sys.path


@pytest.mark.parametrize("kwargs, message", [
    ({"handler": "app.handler", "code_root": "/no/such/dir"}, "is not a directory"),
    ({"handler": lambda e, c: 1, "code_root": "."}, "code_root= needs handlers given as"),
    ({"returns": 1, "code_root": "."}, "code_root= needs handlers given as"),
    ({"handler": "app.handler", "code_root": 42}, "code_root must be a directory path"),
])
def test_bad_code_roots_are_refused_clearly(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=f"function 'f': .*{message}"):
        stub_lambda().add_function("f", **kwargs)


def test_reset_environment_forces_a_cold_start_and_runs_the_module_again(code: Path) -> None:
    write(code / "counter_app.py", """
        print("init")
        COUNT = 0
        def handler(event, context):
            global COUNT
            COUNT += 1
            return COUNT
    """)
    lam = client()
    with stub_lambda(functions={"f": "counter_app.handler"}) as stub:
        assert [payload(lam.invoke(FunctionName="f")) for _ in range(3)] == [1, 2, 3]
        stub.reset_environment("f")
        assert payload(lam.invoke(FunctionName="f")) == 1
        with pytest.raises(KeyError, match="no function 'nope'"):
            stub.reset_environment("nope")
    colds = [bool(r.init_log) for r in stub.invocations]
    assert colds == [True, False, False, True]
    assert ["Init Duration" in r.log for r in stub.invocations] == colds
    assert stub.invocations[3].log.count("Init Duration") == 1
    streams = {r.log for r in stub.invocations}
    assert len(streams) == 4


# -- init failures, as the runtime answers them ------------------------------------------------

def fault(message: str, error_type: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": "",
            "stackTrace": trace or []}


def test_init_failures_answer_every_invoke_as_the_runtime_does(code: Path) -> None:
    write(code / "broken_syntax.py", "def handler(event, context)\n    return 1\n")
    write(code / "needs_missing.py", "import not_installed_anywhere\n")
    write(code / "plain.py", "def handler(event, context):\n    return 1\n")
    cases = {
        "malformed": ("nodots", fault(
            "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)",
            "Runtime.MalformedHandlerName")),
        "missing-module": ("nothere.handler", fault(
            "Unable to import module 'nothere': No module named 'nothere'",
            "Runtime.ImportModuleError")),
        "missing-dependency": ("needs_missing.handler", fault(
            "Unable to import module 'needs_missing': No module named 'not_installed_anywhere'",
            "Runtime.ImportModuleError")),
        "missing-attr": ("plain.nothere", fault(
            "Handler 'nothere' missing on module 'plain'", "Runtime.HandlerNotFound")),
        "built-in": ("sys.handler", fault(
            "Cannot use built-in module sys as a handler module",
            "Runtime.BuiltInModuleConflict")),
    }
    lam = client()
    with stub_lambda() as stub:
        for name, (path, _) in cases.items():
            stub.add_function(name, path)
        stub.add_function("syntax", "broken_syntax.handler")
        for name, (_, expected) in cases.items():
            for _ in range(2):  # every invoke: the environment is never initialised
                response = lam.invoke(FunctionName=name)
                assert response["FunctionError"] == "Unhandled"
                assert payload(response) == expected
        syntax = payload(lam.invoke(FunctionName="syntax"))
    assert syntax["errorType"] == "Runtime.UserCodeSyntaxError"
    assert syntax["errorMessage"].startswith("Syntax error in module 'broken_syntax': ")
    assert syntax["requestId"] == ""
    assert syntax["stackTrace"] == [
        f'  File "{code / "broken_syntax.py"}" Line 1\n    def handler(event, context)\n']
    record = stub["missing-module"].invocations[0]
    assert record.init_log.startswith("INIT_START")
    assert "[WARNING]\t" in record.init_log and "LAMBDA_WARNING: Unhandled exception." in record.init_log
    assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'nothere'" in record.init_log
    assert all(r.init_log for r in stub["missing-module"].invocations)  # each one is cold
    assert "Init Duration" not in record.log


def test_an_exception_raised_at_import_is_reported_with_its_own_type(code: Path) -> None:
    write(code / "raising_app.py", """
        import os
        print("about to fail")
        TABLE = os.environ["TABLE_NAME"]
        def handler(event, context):
            return TABLE
    """)
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", "raising_app.handler")
        body = payload(lam.invoke(FunctionName="f"))
        stub.add_function("g", "raising_app.handler", environment={"TABLE_NAME": "orders"})
        assert payload(lam.invoke(FunctionName="g")) == "orders"
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'TABLE_NAME'"
    assert body["requestId"] == ""
    frames = "".join(body["stackTrace"])
    assert 'raising_app.py", line 4, in <module>' in frames
    assert "importlib" in body["stackTrace"][0]  # from the runtime's import_module call on
    assert "^" not in frames and "~" not in frames
    assert "pytest_lambda_stub" not in frames
    assert "about to fail" in stub["f"].invocations[0].init_log


def test_sys_exit_at_import_ends_the_runtime(code: Path) -> None:
    write(code / "exiting_app.py", "import sys\nsys.exit(3)\n")
    with stub_lambda(functions={"f": "exiting_app.handler"}):
        response = client().invoke(FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert payload(response) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                        f"exit status 3"}


def test_a_callable_handler_has_an_empty_init(code: Path) -> None:
    with stub_lambda(functions={"f": lambda e, c: 1}) as stub:
        client().invoke(FunctionName="f")
    record = stub.invocations[0]
    assert record.init_log.startswith("INIT_START") and record.init_log.count("\n") == 1
    assert "\tInit Duration: 0.00 ms\t" in record.log
