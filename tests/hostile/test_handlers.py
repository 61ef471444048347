"""Hostile handlers: whatever a handler raises or prints ends as the runtime's answer, never as
an internal error of the stub, an exception out of ``invoke()``, or the end of the pytest run."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from typing import Any

import pytest

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload


class CustomBase(BaseException):
    pass


def raising(exc: BaseException) -> Any:
    def handler(event: Any, context: Any) -> None:
        print("before raising")
        raise exc

    return handler


def exit_error(response: dict[str, Any], reason: str) -> None:
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert payload(response) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}"}


CASES = [
    (KeyboardInterrupt(), "signal: interrupt"),
    (GeneratorExit(), "exit status 1"),
    (CustomBase("custom"), "exit status 1"),
    (SystemExit(4), "exit status 4"),
]


@pytest.mark.parametrize("exc, reason", CASES, ids=[type(c[0]).__name__ for c in CASES])
@pytest.mark.parametrize("where", ["main-thread", "other-thread"])
def test_a_base_exception_ends_the_runtime_not_the_test(exc: BaseException, reason: str,
                                                        where: str) -> None:
    responses: list[Any] = []
    with stub_lambda(functions={"f": raising(exc), "ok": lambda e, c: "fine"}) as stub:
        if where == "main-thread":
            responses.append(client().invoke(FunctionName="f", LogType="Tail"))
        else:
            thread = threading.Thread(target=lambda: responses.append(
                client().invoke(FunctionName="f", LogType="Tail")))
            thread.start()
            thread.join(30)
        after = client().invoke(FunctionName="f")  # a new environment: a cold start again
        assert payload(client().invoke(FunctionName="ok")) == "fine"
    exit_error(responses[0], reason)
    exit_error(after, reason)
    first, second = stub["f"].invocations
    assert first.ran and first.error_type == "Runtime.ExitError"
    assert "before raising" in first.log
    assert second.init_log  # the runtime exited: the next invocation is cold
    log = base64.b64decode(responses[0]["LogResult"]).decode()
    assert "Runtime.ExitError\nEND RequestId:" in log
    if not isinstance(exc, SystemExit):
        assert f"{type(exc).__name__}" in log  # the interpreter's traceback on its way out


def test_base_exceptions_do_not_abort_a_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import boto3

        def interrupt(event, context):
            raise KeyboardInterrupt

        def test_interrupting_handler(lambda_stub):
            lambda_stub.add_function("f", interrupt)
            lam = boto3.client("lambda", region_name="us-east-1")
            response = lam.invoke(FunctionName="f")
            assert response["FunctionError"] == "Unhandled"

        def test_runs_after():
            pass
    """)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_the_deadline_still_means_timed_out_for_a_handler_catching_base_exception() -> None:
    def sleeper(event: Any, context: Any) -> None:
        try:
            time.sleep(3)
        except BaseException:  # the runtime-exit rule must not turn the deadline into ExitError
            pass

    with stub_lambda() as stub:
        stub.add_function("f", sleeper, timeout=1)
        response = client().invoke(FunctionName="f")
    body = payload(response)
    assert body["errorType"] == "Sandbox.Timedout"
    assert stub.invocations[0].error_type == "Sandbox.Timedout"


class BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class BadRepr(Exception):
    def __str__(self) -> str:
        raise ValueError("nope")

    def __repr__(self) -> str:
        raise ValueError("nope either")


@pytest.mark.parametrize("exc_type", [BadStr, BadRepr])
def test_an_exception_whose_str_raises_ends_the_runtime(exc_type: type[Exception]) -> None:
    def handler(event: Any, context: Any) -> None:
        raise exc_type("x")

    with stub_lambda(functions={"f": handler}) as stub:
        response = client().invoke(FunctionName="f", LogType="Tail")
    # The runtime builds its payload with str(): that raising ends the runtime process.
    exit_error(response, "exit status 1")
    assert stub.invocations[0].error_type == "Runtime.ExitError"
    assert exc_type.__name__ in stub.invocations[0].log


def test_lone_surrogates_in_output_and_error_messages() -> None:
    def handler(event: Any, context: Any) -> None:
        print("bad \ud800 text")
        raise ValueError("message with \udcff inside")

    with stub_lambda(functions={"f": handler}) as stub:
        response = client().invoke(FunctionName="f", LogType="Tail")
        streamed = client().invoke_with_response_stream(FunctionName="f", LogType="Tail")
        events = list(streamed["EventStream"])
    body = payload(response)
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "message with \udcff inside"
    tail = base64.b64decode(response["LogResult"]).decode("utf-8")
    assert "bad \\ud800 text" in tail and "message with \\udcff inside" in tail
    assert "bad \ud800 text" in stub.invocations[0].log  # the record keeps the text itself
    complete = next(e["InvokeComplete"] for e in events if "InvokeComplete" in e)
    assert "\\ud800" in base64.b64decode(complete["LogResult"]).decode("utf-8")


def test_a_result_with_a_lone_surrogate_is_answered() -> None:
    # Escaped before python3.12, as the runtime's encoder does; a MarshalError from 3.12 on,
    # where the runtime keeps non-ASCII characters and the text is not UTF-8.
    with stub_lambda(functions={"f": lambda e, c: {"text": "\ud800"}}):
        response = client().invoke(FunctionName="f")
    body = json.loads(response["Payload"].read())
    if sys.version_info < (3, 12):
        assert body == {"text": "\ud800"}
    else:
        assert body["errorType"] == "Runtime.MarshalError"


def test_a_bytes_result_is_the_payload_as_it_is() -> None:
    # The runtime posts bytes unchanged (awslambdaric's marshaller).
    with stub_lambda(functions={"f": lambda e, c: b"\x00raw"}):
        response = client().invoke(FunctionName="f")
    assert response["Payload"].read() == b"\x00raw"
    assert "FunctionError" not in response


@pytest.mark.parametrize("chain", ["cause", "context"])
def test_a_chained_exception_reports_the_outer_one_only(chain: str) -> None:
    def handler(event: Any, context: Any) -> None:
        try:
            {}["missing"]
        except KeyError as inner:
            if chain == "cause":
                raise ValueError("outer") from inner
            raise ValueError("outer")  # noqa: B904 - implicitly chained (__context__)

    with stub_lambda(functions={"f": handler}):
        body = payload(client().invoke(FunctionName="f"))
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "outer")
    assert len(body["stackTrace"]) == 1  # the outer exception's own traceback only
    assert "KeyError" not in json.dumps(body)


def test_stack_trace_has_no_marker_lines() -> None:
    def handler(event: Any, context: Any) -> Any:
        return event["numerator"] / event["denominator"]

    with stub_lambda(functions={"f": handler}):
        body = payload(client().invoke(FunctionName="f", Payload=b'{"numerator": 1, '
                                                                  b'"denominator": 0}'))
    assert body["errorType"] == "ZeroDivisionError"
    (frame,) = body["stackTrace"]
    assert frame == (f'  File "{__file__}", line {handler.__code__.co_firstlineno + 1}, '
                     f'in handler\n    return event["numerator"] / event["denominator"]\n')


def test_a_handler_that_is_not_callable_is_a_type_error() -> None:
    module = type(sys)("not_callable_module")
    module.handler = 42  # type: ignore[attr-defined]
    sys.modules["not_callable_module"] = module
    try:
        with stub_lambda(functions={"f": "not_callable_module.handler"}):
            body = payload(client().invoke(FunctionName="f"))
    finally:
        del sys.modules["not_callable_module"]
    assert (body["errorType"], body["errorMessage"]) == ("TypeError",
                                                         "'int' object is not callable")


def test_a_handler_deleting_every_variable_leaves_the_process_alone() -> None:
    def handler(event: Any, context: Any) -> int:
        os.environ.clear()
        return len(os.environ)

    before = dict(os.environ)
    with stub_lambda(functions={"f": handler}):
        assert payload(client().invoke(FunctionName="f")) == 0
    assert dict(os.environ) == before


@pytest.mark.parametrize("path", ["", ".", ".handler", "..x.handler", "a..b", "a.", "pkg/../x.h",
                                  "/abs.handler", "sys.exit", "os.path.join.x", "x" * 300 + ".h",
                                  "\ud800.handler", "mod\x00ule.handler"])
def test_odd_handler_paths_answer_a_function_error(path: str) -> None:
    with stub_lambda() as stub:
        stub.add_function("f", path)
        response = client().invoke(FunctionName="f")
        again = client().invoke(FunctionName="f")
        assert payload(client().invoke(FunctionName="f")) == payload(again)
    body = payload(response)
    assert response["FunctionError"] == "Unhandled", body
    assert body["errorType"] and body["requestId"] in ("", response["ResponseMetadata"][
        "RequestId"])
    assert all(r.function_error == "Unhandled" for r in stub.invocations)


def test_many_threads_each_see_their_own_function() -> None:
    names = [f"fn-{n}" for n in range(8)]

    def handler(event: Any, context: Any) -> list[Any]:
        os.environ["WRITTEN_BY"] = context.function_name
        time.sleep(0.001)
        return [os.environ["AWS_LAMBDA_FUNCTION_NAME"], os.environ["WRITTEN_BY"],
                os.environ["OWN"]]

    before = dict(os.environ)
    wrong: list[Any] = []
    with stub_lambda() as stub:
        for name in names:
            stub.add_function(name, handler, environment={"OWN": name})

        def worker(n: int) -> None:
            lam = client()
            for i in range(40):
                name = names[(n + i) % len(names)]
                seen = payload(lam.invoke(FunctionName=name))
                if seen != [name, name, name]:
                    wrong.append((name, seen))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert wrong == []
    assert len(stub.invocations) == 16 * 40
    assert dict(os.environ) == before
