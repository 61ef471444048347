"""Service errors on demand: every modeled Invoke error of the installed botocore, the unmodeled
ones AWS also sends, transport faults, scripted attempts, and what the records say."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload

_MODEL = botocore.session.get_session().get_service_model("lambda")
INVOKE_ERRORS = _MODEL.operation_model("Invoke").error_shapes
# No retries: each call shows exactly one answer of the stub.
NO_RETRY = {"retries": {"total_max_attempts": 1}}


def echo(event: Any, context: Any) -> Any:
    return event


def _message_member(shape: Any) -> str:
    return next(m for m in ("Message", "message") if m in shape.members)


@pytest.mark.parametrize("shape", INVOKE_ERRORS, ids=[s.name for s in INVOKE_ERRORS])
def test_every_modeled_invoke_error(shape: Any) -> None:
    code = shape.name
    status = shape.metadata["error"]["httpStatusCode"]
    member = _message_member(shape)
    other_case = "message" if member == "Message" else "Message"
    fields: dict[str, Any] = {"message": f"simulated {code}"}
    if "retryAfterSeconds" in shape.members:
        fields["retryAfterSeconds"] = "7"
    lam = client(**NO_RETRY)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code, **fields)
        with pytest.raises(ClientError) as raised:
            lam.invoke(FunctionName="f")
        # The next call runs the handler again (times=1 by default).
        assert payload(lam.invoke(FunctionName="f", Payload=b'{"ok": 1}')) == {"ok": 1}

    error = raised.value
    assert type(error) is getattr(lam.exceptions, code)
    response = error.response
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"] == f"simulated {code}"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == code
    # The members, with the exact case of the shape.
    assert response[member] == f"simulated {code}"
    assert other_case not in response
    assert response["Type"] in ("User", "Service")
    for name in response:
        if name not in ("Error", "ResponseMetadata"):
            assert name in shape.members, f"{name} is not a member of {code}"
    if "retryAfterSeconds" in shape.members:
        assert headers["retry-after"] == "7"
        assert response["retryAfterSeconds"] == "7"
        assert response["Reason"]  # a realistic default
    if "EC2ErrorCode" in shape.members:
        assert response["EC2ErrorCode"]
    # The record of the failed request.
    failed, ran = stub["f"].invocations
    assert (failed.ran, failed.error_code, failed.status_code) == (False, code, status)
    assert failed.request_id == response["ResponseMetadata"]["RequestId"]
    assert (ran.ran, ran.error_code) == (True, None)
    assert stub["f"].call_count == 1


def test_members_have_realistic_defaults() -> None:
    lam = client(**NO_RETRY)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException")
        with pytest.raises(lam.exceptions.TooManyRequestsException) as throttled:
            lam.invoke(FunctionName="f")
        stub["f"].fail("EC2UnexpectedException", EC2ErrorCode="RequestLimitExceeded")
        with pytest.raises(lam.exceptions.EC2UnexpectedException) as ec2:
            lam.invoke(FunctionName="f")
    response = throttled.value.response
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert response["message"] == "Rate Exceeded."
    assert response["Type"] == "User"
    assert "retry-after" not in response["ResponseMetadata"]["HTTPHeaders"]
    assert "retryAfterSeconds" not in response
    assert ec2.value.response["EC2ErrorCode"] == "RequestLimitExceeded"


def test_fail_accepts_the_class_from_a_client() -> None:
    lam = client(**NO_RETRY)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(lam.exceptions.KMSAccessDeniedException, Message="no key for you")
        with pytest.raises(lam.exceptions.KMSAccessDeniedException) as raised:
            lam.invoke(FunctionName="f")
    assert raised.value.response["Message"] == "no key for you"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert stub["f"].call_count == 0


def test_fail_until_cleared() -> None:
    lam = client(**NO_RETRY)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("ResourceConflictException", times=None)
        for _ in range(3):
            with pytest.raises(lam.exceptions.ResourceConflictException):
                lam.invoke(FunctionName="f")
        stub["f"].clear_failures()
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
    assert [r.error_code for r in stub["f"].invocations] == [
        "ResourceConflictException"] * 3 + [None]


def test_fail_times_counts_requests() -> None:
    lam = client(**NO_RETRY)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("ServiceException", times=2)
        for _ in range(2):
            with pytest.raises(lam.exceptions.ServiceException):
                lam.invoke(FunctionName="f")
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200


def test_unknown_code_is_refused_listing_the_valid_ones() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(ValueError) as raised:
            stub["f"].fail("NoSuchThingException")
    message = str(raised.value)
    assert "'NoSuchThingException'" in message
    for shape in INVOKE_ERRORS:
        assert shape.name in message
    for extra in ("ValidationException", "RequestEntityTooLargeException",
                  "EndpointConnectionError", "ReadTimeoutError", "ConnectionClosedError"):
        assert extra in message


def test_unknown_member_is_refused() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(TypeError, match="Reason"):
            stub["f"].fail("ServiceException", Reason="nope")


@pytest.mark.parametrize("code, status", [
    ("ValidationException", 400),
    ("RequestEntityTooLargeException", 413),
])
def test_unmodeled_errors_are_plain_client_errors(code: str, status: int) -> None:
    lam = client(**NO_RETRY)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code, message="simulated")
        with pytest.raises(ClientError) as raised:
            lam.invoke(FunctionName="f")
    assert type(raised.value) is ClientError
    response = raised.value.response
    assert response["Error"] == {"Code": code, "Message": "simulated"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert set(response) == {"Error", "ResponseMetadata"}
    assert stub["f"].invocations[0].error_code == code


@pytest.mark.parametrize("fault, exception", [
    ("EndpointConnectionError", EndpointConnectionError),
    ("ReadTimeoutError", ReadTimeoutError),
    ("ConnectionClosedError", ConnectionClosedError),
])
def test_transport_faults_are_retried_by_botocore(fault: str, exception: type[Exception]) -> None:
    lam = client(retries={"mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(fault)
        response = lam.invoke(FunctionName="f", Payload=b'{"a": 1}')
        assert payload(response) == {"a": 1}
        assert response["ResponseMetadata"]["RetryAttempts"] == 1
        first, second = stub["f"].invocations
        assert (first.attempt, first.ran, first.error_code) == (1, False, fault)
        assert (second.attempt, second.ran, second.error_code) == (2, True, None)
        assert first.invocation_id == second.invocation_id is not None

        stub["f"].fail(fault, times=None)
        with pytest.raises(exception):
            lam.invoke(FunctionName="f")
    # standard mode: 3 attempts, all cut off by the fault.
    assert [(r.attempt, r.error_code) for r in stub["f"].invocations[2:]] == [
        (1, fault), (2, fault), (3, fault)]
    assert stub["f"].call_count == 1


def test_transport_faults_take_no_fields() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(TypeError):
            stub["f"].fail("EndpointConnectionError", message="x")


def test_fail_scripted_by_attempt_lets_botocore_recover() -> None:
    lam = client()  # the default retry configuration
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", attempts=[1, 2])
        first = lam.invoke(FunctionName="f", Payload=b'{"n": 1}')
        second = lam.invoke(FunctionName="f", Payload=b'{"n": 2}')  # scripted per call
    for response, n in ((first, 1), (second, 2)):
        assert response["StatusCode"] == 200
        assert response["ResponseMetadata"]["RetryAttempts"] == 2
        assert payload(response) == {"n": n}
    records = stub["f"].invocations
    assert [(r.attempt, r.ran, r.error_code) for r in records] == [
        (1, False, "TooManyRequestsException"), (2, False, "TooManyRequestsException"),
        (3, True, None)] * 2
    assert len({r.invocation_id for r in records[:3]}) == 1
    assert len({r.invocation_id for r in records[3:]}) == 1
    assert records[0].invocation_id != records[3].invocation_id
    assert len({r.request_id for r in records}) == 6
    assert stub["f"].call_count == 2
    assert stub.invocations == records


def test_every_attempt_is_recorded_when_retries_run_out() -> None:
    lam = client(retries={"mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("ServiceException", times=None)
        with pytest.raises(lam.exceptions.ServiceException) as raised:
            lam.invoke(FunctionName="f")
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    records = stub["f"].invocations
    assert [(r.attempt, r.ran, r.error_code, r.status_code) for r in records] == [
        (1, False, "ServiceException", 500), (2, False, "ServiceException", 500),
        (3, False, "ServiceException", 500)]
    assert len({r.invocation_id for r in records}) == 1
    assert "attempt=3" in records[2].summary()


def test_error_body_is_json_with_the_shape_members() -> None:
    from pytest_lambda_stub.service import errors

    error = errors.service_error("TooManyRequestsException", {"retryAfterSeconds": 3,
                                                               "Reason": "CallerRateLimitExceeded"})
    status, headers, body = error.wire()
    assert status == 429
    assert headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert headers["Retry-After"] == "3"
    assert json.loads(body) == {"Type": "User", "message": "Rate Exceeded.",
                                "Reason": "CallerRateLimitExceeded"}
