"""The deprecated InvokeAsync: ``{"Status": 202}``, and the event delivered exactly as an
``Event`` invocation; its modeled errors (read from botocore's model) on demand.

Each test runs with a boto3 client and, where installed, aiobotocore and aioboto3 clients.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from pytest_lambda_stub import stub_lambda
from tests.clients import Caller, callers
from tests.helpers import REGION

ACCOUNT = "123456789012"
make_caller = callers()
MakeCaller = Callable[..., Caller]


def echo(event: Any, context: Any) -> Any:
    return event


def _model() -> Any:
    return botocore.session.get_session().get_service_model("lambda")


INVOKE_ASYNC_ERRORS = sorted(shape.name for shape in
                             _model().operation_model("InvokeAsync").error_shapes)


def test_answers_202_and_delivers_the_event(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        response = lam.call("invoke_async", FunctionName="f", InvokeArgs=b'{"order": 7}')
    assert response["Status"] == 202
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert stub["f"].call_count == 1
    record = stub["f"].invocations[0]
    assert record.invocation_type == "Event"
    assert record.operation == "InvokeAsync"
    assert record.event == {"order": 7}
    assert record.ran
    assert record.request_id == response["ResponseMetadata"]["RequestId"]
    assert record.result == {"order": 7}


@pytest.mark.parametrize("sent, event", [
    (b'{"a": 1}', {"a": 1}), ('{"a": "é"}', {"a": "é"}), (io.BytesIO(b"[1, 2]"), [1, 2]),
    (b"", {}),
])
def test_invoke_args_forms(sent: Any, event: Any) -> None:
    from tests.clients import new_caller

    lam = new_caller("boto3")
    with stub_lambda(functions={"f": echo}) as stub:
        assert lam.call("invoke_async", FunctionName="f", InvokeArgs=sent)["Status"] == 202
    assert stub["f"].invocations[0].event == event


def test_delivery_is_that_of_an_event_invoke(make_caller: MakeCaller) -> None:
    """Queued as an Event invoke: manual delivery holds it, the same records come out."""
    lam = make_caller()
    with stub_lambda(functions={"f": echo}, event_delivery="manual") as stub:
        by_invoke_async = lam.call("invoke_async", FunctionName="f", InvokeArgs=b'"x"')
        by_invoke = lam.call("invoke", FunctionName="f", InvocationType="Event", Payload=b'"x"')
        assert stub["f"].call_count == 0
        pending = stub.pending
        assert [event.event for event in pending] == ["x", "x"]
        assert [event.request_id for event in pending] == [
            by_invoke_async["ResponseMetadata"]["RequestId"],
            by_invoke["ResponseMetadata"]["RequestId"]]
        runs = stub.drain()
    assert [(r.invocation_type, r.event, r.ran) for r in runs] == [("Event", "x", True)] * 2
    assert stub["f"].call_count == 2


def test_a_failing_handler_is_retried_as_an_event_and_still_202(make_caller: MakeCaller) -> None:
    def failing(event: Any, context: Any) -> None:
        raise RuntimeError("always")

    lam = make_caller()
    with stub_lambda(functions={"f": failing}, event_delivery="manual") as stub:
        response = lam.call("invoke_async", FunctionName="f", InvokeArgs=b"{}")
        runs = stub.drain()
    assert response["Status"] == 202
    # Lambda's asynchronous retries: the first attempt and two retries.
    assert [r.function_error for r in runs] == ["Unhandled"] * 3
    assert {r.request_id for r in runs} == {response["ResponseMetadata"]["RequestId"]}


def test_a_qualified_name_runs_that_version(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda() as stub:
        stub.add_function("fn", lambda e, c: "latest", versions={"1": lambda e, c: "v1"},
                          aliases={"live": "1"})
        lam.call("invoke_async", FunctionName="fn:live", InvokeArgs=b"{}")
    record = stub["fn"].invocations[0]
    assert (record.qualifier, record.executed_version, record.result) == ("live", "1", "v1")


def test_not_found(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(strict=False) as stub:
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            lam.call("invoke_async", FunctionName="nope", InvokeArgs=b"{}")
    assert caught.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope:$LATEST")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert stub.undeclared_calls == {"nope": 1}
    assert stub.invocations[0].operation == "InvokeAsync"


def test_invalid_json_is_invalid_request_content(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(lam.exceptions.InvalidRequestContentException) as caught:
            lam.call("invoke_async", FunctionName="f", InvokeArgs=b"{not json")
    assert "Could not parse request body into json" in str(caught.value)
    assert stub["f"].call_count == 0


def test_the_error_list_is_the_models() -> None:
    assert {"ResourceNotFoundException", "InvalidRequestContentException",
            "ServiceException"} <= set(INVOKE_ASYNC_ERRORS)


@pytest.mark.parametrize("code", INVOKE_ASYNC_ERRORS)
def test_every_modeled_error_on_demand(make_caller: MakeCaller, code: str) -> None:
    shape = _model().shape_for(code)
    status = int(shape.metadata["error"]["httpStatusCode"])
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code, times=None)
        started = time.perf_counter()
        with pytest.raises(getattr(lam.exceptions, code)) as caught:
            lam.call("invoke_async", FunctionName="f", InvokeArgs=b"{}")
        elapsed = time.perf_counter() - started
    error = caught.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    message_member = next(m for m in ("Message", "message") if m in shape.members)
    assert error["Error"]["Message"]
    assert message_member in shape.members
    assert stub["f"].call_count == 0
    records = stub["f"].invocations
    assert {(r.error_code, r.operation, r.ran) for r in records} == {(code, "InvokeAsync", False)}
    if status >= 500:  # retried by botocore: the delays it asked for recorded, not slept
        assert stub.retry_delays
    assert elapsed < 10  # generous: a loaded machine made "< 1" fail once in a randomized run


def test_fail_once_then_the_retry_delivers(make_caller: MakeCaller) -> None:
    lam = make_caller()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("ServiceException")
        response = lam.call("invoke_async", FunctionName="f", InvokeArgs=b"1")
    assert response["Status"] == 202
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [(r.error_code, r.ran) for r in stub["f"].invocations] == [
        ("ServiceException", False), (None, True)]
