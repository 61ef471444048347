"""The environment a handler sees: Lambda's reserved variables per invocation, the trace header,
threads, and nothing left behind in the test process."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
import threading
from typing import Any

import boto3
import pytest

from pytest_lambda_stub import stub_lambda
from tests.helpers import REGION, client, payload

RESERVED = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
            "AWS_EXECUTION_ENV", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_LAMBDA_INITIALIZATION_TYPE", "_HANDLER", "LAMBDA_TASK_ROOT",
            "LAMBDA_RUNTIME_DIR", "TZ", "_X_AMZN_TRACE_ID")
TRACE = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]")


def snapshot() -> dict[str, str]:
    return dict(os.environ)


def reserved_view(event: Any, context: Any) -> dict[str, Any]:
    return {"env": {key: os.environ.get(key) for key in RESERVED},
            "getenv": os.getenv("AWS_LAMBDA_FUNCTION_NAME"),
            "stream": context.log_stream_name}


def test_the_runtime_defines_lambdas_reserved_variables() -> None:
    before = snapshot()
    with stub_lambda() as stub:
        stub.add_function("resize", reserved_view, memory_size=512, versions={"1": reserved_view},
                          aliases={"live": "1"}, environment={"TABLE": "t"})
        seen = payload(client().invoke(FunctionName="resize", Qualifier="live"))
    env = seen["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == seen["getenv"] == "resize"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "1"  # the executed version, not the alias
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/resize"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == seen["stream"]
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["_HANDLER"] == f"{__name__}.reserved_view"
    assert env["TZ"] == ":UTC"
    assert env["LAMBDA_TASK_ROOT"] and env["LAMBDA_RUNTIME_DIR"]
    assert TRACE.fullmatch(env["_X_AMZN_TRACE_ID"])
    assert snapshot() == before


def test_credentials_are_never_invented() -> None:
    def handler(event: Any, context: Any) -> list[Any]:
        return [os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN")]

    with stub_lambda(functions={"f": handler}):
        assert payload(client().invoke(FunctionName="f")) == [None, None, None]


def test_reserved_variables_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match=r"function 'f': environment= may not set Lambda's "
                                         r"reserved variables AWS_REGION"):
        stub_lambda().add_function("f", reserved_view, environment={"AWS_REGION": "x"})


def test_function_region_wins_and_boto3_clients_in_the_handler_get_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)

    def handler(event: Any, context: Any) -> str:
        return str(boto3.client("sqs").meta.region_name)  # no region given: the environment's

    with stub_lambda() as stub:
        stub.add_function("here", handler)
        stub.add_function("there", handler, region="ap-south-1")
        assert payload(client().invoke(FunctionName="here")) == REGION
        assert payload(client("ap-south-1").invoke(FunctionName="there")) == "ap-south-1"
    assert "AWS_DEFAULT_REGION" not in os.environ


def test_a_module_reading_the_function_name_at_import_time_gets_it(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A warmer library builds its target name when imported, as the init phase runs.
    (tmp_path / "warmer_app.py").write_text(textwrap.dedent("""
        import os
        TARGET = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "FAILED_TO_RETRIEVE_LAMBDA_NAME")
        def handler(event, context):
            return TARGET
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    with stub_lambda(functions={"warm-me": "warmer_app.handler"}):
        assert payload(client().invoke(FunctionName="warm-me")) == "warm-me"
    sys.modules.pop("warmer_app", None)


def test_nothing_the_handler_sets_or_deletes_is_left_behind(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEP_ME", "test value")
    monkeypatch.setenv("DELETE_ME", "test value")
    monkeypatch.delenv("ABSENT_BEFORE", raising=False)

    def handler(event: Any, context: Any) -> list[Any]:
        os.environ["SERVERTYPE"] = "AWS Lambda"  # what Zappa's handler does
        os.environ["FRAMEWORK"] = "Zappa"
        os.environ["KEEP_ME"] = "changed by the handler"
        del os.environ["DELETE_ME"]
        os.environ.setdefault("ABSENT_BEFORE", "added")
        os.environ.pop("AWS_LAMBDA_FUNCTION_NAME")
        return [os.environ.get("KEEP_ME"), "DELETE_ME" in os.environ,
                os.getenv("ABSENT_BEFORE"), os.getenv("AWS_LAMBDA_FUNCTION_NAME"),
                sorted(set(os.environ) - {"_X_AMZN_TRACE_ID"}) == sorted(
                    k for k in dict(os.environ) if k != "_X_AMZN_TRACE_ID")]

    before = snapshot()
    with stub_lambda(functions={"zappa": handler}):
        assert payload(client().invoke(FunctionName="zappa")) == [
            "changed by the handler", False, "added", None, True]
        assert snapshot() == before  # also while the stub is active
    assert snapshot() == before
    assert "SERVERTYPE" not in os.environ and "FRAMEWORK" not in os.environ


def test_variables_a_handler_sets_stay_in_its_environment_while_warm() -> None:
    def handler(event: Any, context: Any) -> Any:
        seen = os.environ.get("SET_AT_FIRST_CALL")
        os.environ["SET_AT_FIRST_CALL"] = "yes"
        return seen

    lam = client()
    with stub_lambda(functions={"f": handler}) as stub:
        assert payload(lam.invoke(FunctionName="f")) is None
        assert payload(lam.invoke(FunctionName="f")) == "yes"  # the same environment, warm
        stub.reset_environment("f")
        assert payload(lam.invoke(FunctionName="f")) is None  # a new one
    assert "SET_AT_FIRST_CALL" not in os.environ


def test_no_leak_when_the_handler_times_out_on_a_worker_thread() -> None:
    release = threading.Event()

    def slow(event: Any, context: Any) -> None:
        os.environ["LEFT_BY_TIMEOUT"] = "x"
        release.wait(10)
        os.environ["LEFT_AFTER_TIMEOUT"] = "y"

    before = snapshot()
    result: list[Any] = []
    with stub_lambda(functions={"slow": slow}) as stub:
        stub.add_function("slow", slow, timeout=1, environment={"FUNCTION_VAR": "v"})
        thread = threading.Thread(target=lambda: result.append(
            payload(client().invoke(FunctionName="slow"))))
        thread.start()
        thread.join(30)
        assert result[0]["errorType"] == "Sandbox.Timedout"
        assert snapshot() == before
        release.set()
        for _ in range(100):
            if stub["slow"].late_results:
                break
            threading.Event().wait(0.05)
    assert snapshot() == before


def test_two_functions_at_once_each_see_their_own_values() -> None:
    barrier = threading.Barrier(2, timeout=10)

    def handler(event: Any, context: Any) -> list[Any]:
        barrier.wait()  # both handlers are running now
        values = [os.environ["AWS_LAMBDA_FUNCTION_NAME"], os.environ["SHARED_KEY"]]
        os.environ["SHARED_KEY"] = context.function_name + "-written"
        barrier.wait()
        return [*values, os.environ["SHARED_KEY"]]

    results: dict[str, Any] = {}
    before = snapshot()
    with stub_lambda() as stub:
        stub.add_function("a", handler, environment={"SHARED_KEY": "for a"})
        stub.add_function("b", handler, environment={"SHARED_KEY": "for b"})

        def call(name: str) -> None:
            results[name] = payload(client().invoke(FunctionName=name))

        threads = [threading.Thread(target=call, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert results == {"a": ["a", "for a", "a-written"], "b": ["b", "for b", "b-written"]}
    assert snapshot() == before


def test_threads_a_handler_starts_see_its_environment() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def handler(event: Any, context: Any) -> list[Any]:
        seen: list[Any] = []
        thread = threading.Thread(target=lambda: seen.append(os.getenv("FUNCTION_VAR")))
        thread.start()
        thread.join()
        with ThreadPoolExecutor(2) as pool:
            seen.append(pool.submit(os.getenv, "AWS_LAMBDA_FUNCTION_NAME").result())
        return seen

    with stub_lambda() as stub:
        stub.add_function("spawner", handler, environment={"FUNCTION_VAR": "from function"})
        assert payload(client().invoke(FunctionName="spawner")) == ["from function", "spawner"]
    outside: list[Any] = []
    thread = threading.Thread(target=lambda: outside.append(os.getenv("FUNCTION_VAR")))
    thread.start()
    thread.join()
    assert outside == [None]


def test_a_subprocess_given_os_environ_gets_the_handlers_variables() -> None:
    import subprocess

    def handler(event: Any, context: Any) -> str:
        return subprocess.run(
            [sys.executable, "-c", "import os; print(os.environ['AWS_LAMBDA_FUNCTION_NAME'])"],
            env=os.environ.copy(), capture_output=True, text=True, check=True).stdout.strip()

    with stub_lambda(functions={"child": handler}):
        assert payload(client().invoke(FunctionName="child")) == "child"


# -- the trace header ------------------------------------------------------------------------

def test_each_invocation_gets_a_trace_id_and_a_nested_invoke_keeps_its_root() -> None:
    def outer(event: Any, context: Any) -> Any:
        inner = client().invoke(FunctionName="inner")
        return {"outer": os.environ["_X_AMZN_TRACE_ID"], "inner": payload(inner)}

    def inner(event: Any, context: Any) -> str:
        return os.environ["_X_AMZN_TRACE_ID"]

    lam = client()
    with stub_lambda(functions={"outer": outer, "inner": inner}) as stub:
        first = payload(lam.invoke(FunctionName="outer"))
        second = payload(lam.invoke(FunctionName="outer"))
    root = first["outer"].split(";")[0]
    assert TRACE.fullmatch(first["outer"]) and TRACE.fullmatch(first["inner"])
    assert first["inner"].split(";")[0] == root  # the caller's Root, as Lambda keeps it
    assert first["inner"] != first["outer"]  # its own Parent segment
    assert second["outer"].split(";")[0] != root  # a new request, a new trace
    records = stub.invocations
    assert [r.trace_id for r in records] == [first["outer"], first["inner"],
                                             second["outer"], second["inner"]]
    assert "_X_AMZN_TRACE_ID" not in os.environ


def test_a_nested_event_invoke_made_when_on_lambda_goes_through_the_stub() -> None:
    # Zappa's task dispatch: run the task in-line unless the process is on Lambda.
    ran_inline: list[Any] = []

    def task(event: Any, context: Any) -> str:
        return "task done"

    def api(event: Any, context: Any) -> str:
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            boto3.client("lambda").invoke(FunctionName="task", InvocationType="Event",
                                          Payload=json.dumps({"job": 1}))
            return "dispatched"
        ran_inline.append(task(event, context))
        return "ran in-line"

    with stub_lambda(functions={"api": api, "task": task}) as stub:
        assert payload(client().invoke(FunctionName="api")) == "dispatched"
    assert ran_inline == []
    assert [(r.function_name, r.invocation_type) for r in stub.invocations] == [
        ("api", "RequestResponse"), ("task", "Event")]
    assert stub.invocations[1].region == REGION  # the handler's client took the function's


@pytest.mark.parametrize("via_thread", [False, True], ids=["own-thread", "started-thread"])
def test_loop_detection_is_the_same_from_a_thread_the_handler_starts(via_thread: bool) -> None:
    from botocore.exceptions import ClientError

    def loop(event: Any, context: Any) -> Any:
        def call() -> Any:
            try:
                return payload(client().invoke(FunctionName="loop", Payload=b"{}"))
            except ClientError as error:
                return error.response["Error"]["Code"]

        if not via_thread:
            return call()
        out: list[Any] = []
        thread = threading.Thread(target=lambda: out.append(call()))
        thread.start()
        thread.join(60)
        return out[0]

    with stub_lambda(functions={"loop": loop}) as stub:
        answer = payload(client().invoke(FunctionName="loop", Payload=b"{}"))
    assert answer == "RecursiveInvocationException"
    runs = [r for r in stub.invocations if r.ran]
    assert len(runs) == 16
    assert stub.invocations[-1].error_code == "RecursiveInvocationException"
    assert len({r.trace_id.split(";")[0] for r in runs}) == 1  # one trace Root


def test_event_invokes_from_a_started_thread_wait_for_the_handler_like_its_own() -> None:
    order: list[str] = []

    def task(event: Any, context: Any) -> None:
        order.append("task")

    def api(event: Any, context: Any) -> None:
        thread = threading.Thread(target=lambda: client().invoke(
            FunctionName="task", InvocationType="Event"))
        thread.start()
        thread.join()
        order.append("api returns")

    with stub_lambda(functions={"api": api, "task": task}):
        client().invoke(FunctionName="api")
    assert order == ["api returns", "task"]
