"""Every failure production sees: the errors every AWS operation can return, a raw answer, and
function answers that are not JSON (our RawPayload extension)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pytest_lambda_stub import RawAnswer, RawPayload, stub_lambda
from tests.helpers import REGION, client

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"

COMMON = [
    ("UnrecognizedClientException", 403, "The security token included in the request is invalid."),
    ("InvalidSignatureException", 403, "The request signature we calculated does not match the "
     "signature you provided. Check your AWS Secret Access Key and signing method. Consult the "
     "service documentation for details."),
    ("ExpiredTokenException", 403, "The security token included in the request is expired"),
    ("IncompleteSignature", 403, None),
    ("ThrottlingException", 429, "Rate exceeded"),
    ("InternalFailure", 500, None),
    ("ServiceUnavailable", 503, None),
]


def echo(event: Any, context: Any) -> Any:
    return event


@pytest.mark.parametrize(("code", "status", "message"), COMMON)
def test_common_errors_have_their_real_status_and_message(code: str, status: int,
                                                          message: str | None) -> None:
    lam = client(retries={"total_max_attempts": 1, "mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code)
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName="f")
    error = caught.value.response
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    assert error["ResponseMetadata"]["RequestId"]
    if message is not None:
        assert error["Error"]["Message"] == message
    else:
        assert error["Error"]["Message"]
    assert stub.invocations[-1].error_code == code
    assert not stub.invocations[-1].ran


def test_access_denied_names_the_calling_identity_and_the_function() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("AccessDeniedException")
        stub["f"].fail("AccessDeniedException",
                       identity=f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session")
        with pytest.raises(ClientError) as default:
            lam.invoke(FunctionName="f")
        with pytest.raises(ClientError) as given:
            lam.invoke(FunctionName="f", Qualifier="$LATEST")
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
    assert default.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert default.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/lambda-stub-caller is not authorized to perform: "
        f"lambda:InvokeFunction on resource: {ARN}:f because no identity-based policy allows "
        f"the lambda:InvokeFunction action")
    assert given.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/app/session is not authorized to perform: "
        f"lambda:InvokeFunction on resource: {ARN}:f:$LATEST because no identity-based policy "
        f"allows the lambda:InvokeFunction action")


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalFailure", "ServiceUnavailable"])
def test_botocore_retries_the_transient_ones(code: str) -> None:
    lam = client(retries={"max_attempts": 3, "mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code, times=2)
        response = lam.invoke(FunctionName="f", Payload=b"1")
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(stub.retry_delays) == 2
    assert [r.error_code for r in stub.invocations] == [code, code, None]


def test_common_errors_refuse_unknown_fields() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(TypeError, match="takes only Message, message="):
            stub["f"].fail("ThrottlingException", Reason="x")
        with pytest.raises(TypeError, match="identity"):
            stub["f"].fail("AccessDeniedException", role="x")


def test_a_raw_answer_is_sent_as_given() -> None:
    lam = client(retries={"total_max_attempts": 1, "mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(RawAnswer(502, b"<html>Bad Gateway</html>",
                                 {"Content-Type": "text/html", "X-Cache": "Error from cloudfront"}))
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName="f")
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-cache"] == "Error from cloudfront"
    assert "x-amzn-requestid" not in response["ResponseMetadata"]["HTTPHeaders"]
    assert response["Error"]["Code"] == "502"
    assert stub.invocations[-1].error_code == "RawAnswer"


def test_a_raw_answer_can_be_a_success_defensive_code_must_handle() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(RawAnswer(200, "not json", {"Content-Type": "application/json"}))
        response = lam.invoke(FunctionName="f")
    assert response["Payload"].read() == b"not json"


@pytest.mark.parametrize("bad", [
    lambda: RawAnswer(99),
    lambda: RawAnswer(True),  # type: ignore[arg-type]
    lambda: RawAnswer(200, 5),  # type: ignore[arg-type]
    lambda: RawAnswer(200, b"", {"a": 1}),  # type: ignore[dict-item]
])
def test_raw_answer_refuses_bad_input(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="RawAnswer"):
        bad()


def test_raw_answer_takes_no_fields() -> None:
    with stub_lambda(functions={"f": echo}) as stub, pytest.raises(TypeError, match="no fields"):
        stub["f"].fail(RawAnswer(500), message="x")


# -- RawPayload: functions in other runtimes -------------------------------------------------

@pytest.mark.parametrize("body", [b"plain text, not JSON", b"", "caf\u00e9", b"\xff\xfe"])
def test_a_function_can_answer_a_raw_body(body: bytes | str) -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: RawPayload(body)}) as stub:
        response = lam.invoke(FunctionName="f")
    expected = body.encode() if isinstance(body, str) else body
    assert response["Payload"].read() == expected
    assert "FunctionError" not in response
    assert stub["f"].invocations[-1].response_payload == expected


def test_a_function_error_with_a_non_json_body() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", returns=RawPayload(b"panic: runtime error", "Unhandled"))
        response = lam.invoke(FunctionName="f", LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"].read() == b"panic: runtime error"
    assert base64.b64decode(response["LogResult"]).startswith(b"START")
    assert stub["f"].invocations[-1].function_error == "Unhandled"


def test_raw_payload_through_an_async_invoke_and_a_json_one_unchanged() -> None:
    lam = client()
    with stub_lambda(functions={"raw": lambda e, c: RawPayload(b"x"),
                                "json": lambda e, c: {"a": 1}}) as stub:
        assert lam.invoke(FunctionName="raw", InvocationType="Event")["StatusCode"] == 202
        assert json.loads(lam.invoke(FunctionName="json")["Payload"].read()) == {"a": 1}
    assert stub["raw"].invocations[-1].response_payload == b"x"


@pytest.mark.parametrize("bad", [lambda: RawPayload(1),  # type: ignore[arg-type]
                                 lambda: RawPayload(b"", "")])
def test_raw_payload_refuses_bad_input(bad: Any) -> None:
    with pytest.raises(TypeError, match="RawPayload"):
        bad()


# -- failing the API around Invoke ----------------------------------------------------------

def test_fail_with_operations_fails_those_api_calls_and_not_invoke() -> None:
    lam = client(retries={"total_max_attempts": 1, "mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("AccessDeniedException", operations=["GetFunction", "PublishVersion"],
                       times=None)
        with pytest.raises(ClientError) as denied:
            lam.get_function(FunctionName="f")
        with pytest.raises(ClientError):
            lam.publish_version(FunctionName="f")
        assert lam.invoke(FunctionName="f", Payload=b"1")["StatusCode"] == 200
        assert lam.get_function_configuration(FunctionName="f")["FunctionName"] == "f"
        stub["f"].clear_failures()
        assert lam.get_function(FunctionName="f")["Configuration"]["FunctionName"] == "f"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert denied.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/lambda-stub-caller is not authorized to perform: "
        f"lambda:GetFunction on resource: {ARN}:f because no identity-based policy allows the "
        f"lambda:GetFunction action")
    assert [(c.operation, c.error) for c in stub.api_calls][:2] == [
        ("GetFunction", "AccessDeniedException"), ("PublishVersion", "AccessDeniedException")]


def test_api_calls_are_retried_by_botocore_like_invokes() -> None:
    lam = client(retries={"total_max_attempts": 3, "mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("ThrottlingException", operations="ListAliases", times=2)
        response = lam.list_aliases(FunctionName="f")
        stub["f"].fail("EndpointConnectionError", operations=["GetAlias"], attempts=[1])
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_alias(FunctionName="f", Name="live")  # the retry reaches the service
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(stub.retry_delays) == 3
    assert [c.error for c in stub.api_calls] == [
        "ThrottlingException", "ThrottlingException", None, "EndpointConnectionError",
        "ResourceNotFoundException"]


def test_fail_operations_refuses_unknown_operations_and_foreign_codes() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(ValueError, match="unknown: \\['CreateFunction'\\]"):
            stub["f"].fail("ThrottlingException", operations=["CreateFunction"])
        with pytest.raises(ValueError, match="not an error of Lambda's GetFunction"):
            stub["f"].fail("EC2ThrottledException", operations=["GetFunction"])
        with pytest.raises(ValueError, match="none given"):
            stub["f"].fail("ThrottlingException", operations=[])
