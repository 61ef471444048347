"""aiobotocore and aioboto3 clients are answered by the same declarations as boto3 clients.

The key cases of the sync suites run once per client kind (``make_caller`` is parametrised over
boto3, aiobotocore and aioboto3: one test body, not copies). Streaming is covered the same way in
``test_streaming.py`` and InvokeAsync in ``test_invoke_async.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("aiobotocore")

from botocore.exceptions import ClientError, NoCredentialsError

from pytest_lambda_stub import StrictModeError, stub_lambda
from tests.clients import ASYNC_KINDS, Caller, callers, new_caller
from tests.helpers import REGION

ACCOUNT = "123456789012"
make_caller = callers()
MakeCaller = Callable[..., Caller]


def echo(event: Any, context: Any) -> Any:
    return event


def failing(event: Any, context: Any) -> None:
    raise Exception("Handler fails")


@pytest.mark.parametrize("created", ["before", "inside"])
def test_invoke_runs_the_handler_and_returns_its_result(make_caller: MakeCaller,
                                                        created: str) -> None:
    lam = make_caller() if created == "before" else None
    with stub_lambda() as stub:
        lam = lam or make_caller()

        @stub.function("resize-image")
        def resize(event: Any, context: Any) -> Any:
            return {"width": event["width"] // 2, "request_id": context.aws_request_id}

        response = lam.call("invoke", FunctionName="resize-image",
                            Payload=json.dumps({"width": 640}))
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"]) == {"width": 320, "request_id": request_id}
    record = stub["resize-image"].invocations[0]
    assert (record.event, record.request_id, record.operation) == (
        {"width": 640}, request_id, "Invoke")
    assert stub["resize-image"].call_count == 1


@pytest.mark.parametrize("name, qualifier, version, body, arn_suffix", [
    ("fn", None, "$LATEST", "latest", ""),
    ("fn", "1", "1", "v1", ":1"),
    ("fn:live", None, "1", "v1", ":live"),
    ("fn", "beta", "$LATEST", "latest", ":beta"),
    (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:2", None, "2", "v2", ":2"),
])
def test_versions_and_aliases(make_caller: MakeCaller, name: str, qualifier: str | None,
                              version: str, body: str, arn_suffix: str) -> None:
    def answer(text: str) -> Any:
        return lambda event, context: [text, context.invoked_function_arn]

    lam = make_caller()
    with stub_lambda() as stub:
        stub.add_function("fn", answer("latest"), versions={"1": answer("v1"), "2": answer("v2")},
                          aliases={"live": "1", "beta": "$LATEST"})
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        response = lam.call("invoke", FunctionName=name, **kwargs)
    assert response["ExecutedVersion"] == version
    assert json.loads(response["Payload"]) == [
        body, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn{arn_suffix}"]
    assert stub.invocations[-1].executed_version == version


def test_function_error(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": failing}) as stub:
        response = lam.call("invoke", FunctionName="f")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"])
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (body["errorMessage"], body["errorType"]) == ("Handler fails", "Exception")
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert stub["f"].invocations[0].function_error == "Unhandled"


def test_async_def_handler_result_is_a_marshal_error(make_caller: MakeCaller) -> None:
    """Lambda's Python runtime does not await an ``async def`` handler: the coroutine it returns
    is not JSON serialisable, whichever client invoked it."""
    ran: list[bool] = []

    async def handler(event: Any, context: Any) -> str:
        ran.append(True)  # never runs: the coroutine is never awaited
        return "never"

    lam = make_caller()
    with stub_lambda(functions={"f": handler}):
        response = lam.call("invoke", FunctionName="f")
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Payload"])
    assert body["errorType"] == "Runtime.MarshalError"
    assert "coroutine" in body["errorMessage"]
    assert "is not JSON serializable" in body["errorMessage"]
    assert ran == []


def test_log_tail(make_caller: MakeCaller) -> None:
    def handler(event: Any, context: Any) -> str:
        print("printed line")
        return "ok"

    lam = make_caller()
    with stub_lambda(functions={"f": handler}) as stub:
        response = lam.call("invoke", FunctionName="f", LogType="Tail")
        second = lam.call("invoke", FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(response["LogResult"]).decode()
    lines = log.split("\n")
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1] == "printed line"
    assert lines[2] == f"END RequestId: {request_id}"
    assert lines[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert stub.invocations[0].log == log
    assert "LogResult" not in second


def test_not_found_is_the_modeled_exception(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(strict=False) as stub:
        stub.add_function("fn", echo)
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            lam.call("invoke", FunctionName="nope")
    error = caught.value.response
    assert error["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope:$LATEST"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Type"] == "User"
    assert stub.undeclared_calls == {"nope": 1}
    assert stub.invocations[0].error_code == "ResourceNotFoundException"


def test_validation_errors_are_answered_before_running(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(ClientError) as caught:
            lam.call("invoke", FunctionName="f", LogType="Everything")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must satisfy enum value set: [None, Tail]" in str(caught.value)
    assert stub["f"].call_count == 0


# Attempts botocore/aiobotocore make in each mode by default (the first one included).
@pytest.mark.parametrize("mode, attempts", [("legacy", 5), ("standard", 3), ("adaptive", 3)])
def test_fail_then_retry_recovers_without_sleeping(make_caller: MakeCaller, mode: str,
                                                   attempts: int) -> None:
    lam = make_caller(retries={"mode": mode})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", attempts=range(1, attempts))
        started = time.perf_counter()
        response = lam.call("invoke", FunctionName="f", Payload=b'{"x": 1}')
        elapsed = time.perf_counter() - started
    assert json.loads(response["Payload"]) == {"x": 1}
    assert response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    assert len(stub.retry_delays) == attempts - 1
    assert elapsed < 1
    assert [(r.attempt, r.ran) for r in stub["f"].invocations] == [
        *((n, False) for n in range(1, attempts)), (attempts, True)]


def test_fail_until_retries_run_out_raises_the_modeled_error(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", times=None, Reason="CallerRateLimitExceeded")
        started = time.perf_counter()
        with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
            lam.call("invoke", FunctionName="f")
        elapsed = time.perf_counter() - started
    assert caught.value.response["Reason"] == "CallerRateLimitExceeded"
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 4  # legacy: 5 attempts
    assert stub["f"].call_count == 0
    assert elapsed < 1


def test_event_delivery(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        response = lam.call("invoke", FunctionName="f", InvocationType="Event",
                            Payload=b'{"a": 1}')
    assert response["StatusCode"] == 202
    assert response["Payload"] == b""
    assert stub["f"].call_count == 1
    record = stub["f"].invocations[0]
    assert (record.invocation_type, record.event) == ("Event", {"a": 1})
    assert record.request_id == response["ResponseMetadata"]["RequestId"]


def test_manual_event_delivery(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}, event_delivery="manual") as stub:
        lam.call("invoke", FunctionName="f", InvocationType="Event", Payload=b"1")
        assert stub["f"].call_count == 0
        assert [event.event for event in stub.pending] == [1]
        stub.drain()
    assert stub["f"].call_count == 1


def test_strict_mode_reports_swallowed_undeclared_calls(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with pytest.raises(StrictModeError) as caught:
        with stub_lambda(functions={"resize-image": echo}):
            try:
                lam.call("invoke", FunctionName="resize-imag")
            except ClientError:
                pass
    text = str(caught.value)
    assert "undeclared function 'resize-imag' was invoked once" in text
    assert "did you mean 'resize-image'" in text


def test_after_stop_nothing_answers(make_caller: MakeCaller) -> None:
    from pytest_lambda_stub.interception import hooks

    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        lam.call("invoke", FunctionName="f")
    assert not hooks.is_installed()
    # Without the stub the client needs credentials (and would go to the network).
    with pytest.raises(NoCredentialsError):
        lam.call("invoke", FunctionName="f")
    # A later stub reaches the same client again.
    with stub_lambda(functions={"f": lambda e, c: "again"}):
        assert json.loads(lam.call("invoke", FunctionName="f")["Payload"]) == "again"
    assert len(stub.invocations) == 1


def test_passthrough_names_and_other_operations_go_on(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}, passthrough=["real", "ListFunctions"]) as stub:
        with pytest.raises(NoCredentialsError):
            lam.call("invoke", FunctionName="real")
        with pytest.raises(NoCredentialsError):
            lam.call("list_functions")
        assert lam.call("invoke", FunctionName="f")["StatusCode"] == 200
    assert [r.function_name for r in stub.invocations] == ["f"]


def test_a_handler_invoking_another_function(make_caller: MakeCaller) -> None:
    """The handler runs in a worker thread; a boto3 client inside it is answered too."""
    from tests.helpers import client

    def outer(event: Any, context: Any) -> Any:
        inner = client().invoke(FunctionName="inner", Payload=json.dumps(event))
        return {"inner": json.loads(inner["Payload"].read())}

    lam = make_caller()
    with stub_lambda(functions={"outer": outer, "inner": lambda e, c: e * 2}) as stub:
        response = lam.call("invoke", FunctionName="outer", Payload=b"21")
    assert json.loads(response["Payload"]) == {"inner": 42}
    assert [r.function_name for r in stub.invocations] == ["outer", "inner"]  # in arrival order


# -- off the caller's event loop -----------------------------------------------------------

@pytest.mark.parametrize("kind", ASYNC_KINDS)
def test_the_handler_runs_off_the_event_loop(kind: str) -> None:
    pytest.importorskip(kind)
    threads: dict[str, int] = {}

    def slow(event: Any, context: Any) -> str:
        threads["handler"] = threading.get_ident()
        time.sleep(0.5)
        return "done"

    async def scenario(lam: Any) -> tuple[int, dict[str, Any]]:
        threads["loop"] = threading.get_ident()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        try:
            response = await lam.invoke(FunctionName="slow")
            response["Payload"] = await response["Payload"].read()
        finally:
            task.cancel()
        return ticks, response

    caller = new_caller(kind)
    try:
        assert hasattr(caller, "run")
        with stub_lambda(functions={"slow": slow}):
            ticks, response = caller.run(scenario(caller.client))  # type: ignore[attr-defined]
    finally:
        caller.close()
    assert json.loads(response["Payload"]) == "done"
    assert threads["handler"] != threads["loop"]
    # The loop kept running other tasks for the half second the handler slept.
    assert ticks >= 10


@pytest.mark.parametrize("kind", ASYNC_KINDS)
def test_concurrent_invokes_from_one_loop_overlap(kind: str) -> None:
    pytest.importorskip(kind)
    running: list[int] = []
    peak: list[int] = []
    lock = threading.Lock()

    def slow(event: Any, context: Any) -> Any:
        with lock:
            running.append(event)
            peak.append(len(running))
        time.sleep(0.3)
        with lock:
            running.remove(event)
        return event

    async def scenario(lam: Any) -> list[Any]:
        async def one(n: int) -> Any:
            response = await lam.invoke(FunctionName="slow", Payload=json.dumps(n))
            return json.loads(await response["Payload"].read())

        return list(await asyncio.gather(*(one(n) for n in range(3))))

    caller = new_caller(kind)
    try:
        with stub_lambda(functions={"slow": slow}) as stub:
            results = caller.run(scenario(caller.client))  # type: ignore[attr-defined]
    finally:
        caller.close()
    assert results == [0, 1, 2]
    assert max(peak) >= 2
    assert stub["slow"].call_count == 3


def test_the_stub_as_an_async_context_manager() -> None:
    caller = new_caller("aiobotocore")

    async def scenario() -> Any:
        async with stub_lambda(functions={"f": echo}) as stub:
            response = await caller.client.invoke(FunctionName="f", Payload=b'"hi"')
            return stub, json.loads(await response["Payload"].read())

    try:
        stub, result = caller.run(scenario())  # type: ignore[attr-defined]
    finally:
        caller.close()
    assert result == "hi"
    assert stub["f"].call_count == 1


def test_aiobotocore_hooks_are_installed_only_while_a_stub_runs() -> None:
    from aiobotocore.client import AioBaseClient
    from botocore.client import BaseClient

    original = AioBaseClient.__dict__["_make_api_call"]
    sync_original = BaseClient.__dict__["_make_api_call"]
    with stub_lambda():
        assert AioBaseClient.__dict__["_make_api_call"] is not original
    assert AioBaseClient.__dict__["_make_api_call"] is original
    assert BaseClient.__dict__["_make_api_call"] is sync_original


@pytest.mark.parametrize("fault", ["EndpointConnectionError", "ReadTimeoutError",
                                   "ConnectionClosedError"])
def test_transport_faults_are_retried_by_the_client(make_caller: MakeCaller, fault: str) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(fault, attempts=[1])
        response = lam.call("invoke", FunctionName="f", Payload=b"5")
    assert json.loads(response["Payload"]) == 5
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [(r.attempt, r.error_code) for r in stub["f"].invocations] == [(1, fault), (2, None)]
