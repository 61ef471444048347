"""The service's own checks, with AWS's exact texts: FunctionName and Qualifier patterns and
lengths, payload content and size, ClientContext."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pytest_lambda_stub import stub_lambda
from tests.helpers import REGION, client

ACCOUNT = "123456789012"
# The patterns as AWS prints them (invoke-behaviour.md).
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
NOT_JSON_PREFIX = "Could not parse request body into json: Could not parse payload into json: "
SOURCE = "at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"
BAD_CONTEXT = "Client context must be a valid Base64-encoded JSON object."


def echo(event: Any, context: Any) -> Any:
    return event


def name_violation(value: str) -> str:
    return (f"Value '{value}' at 'functionName' failed to satisfy constraint: Member must "
            f"satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}")


def qualifier_violation(value: str) -> str:
    return (f"Value '{value}' at 'qualifier' failed to satisfy constraint: Member must "
            f"satisfy regular expression pattern: {QUALIFIER_PATTERN}")


def qualifier_length_violation(value: str) -> str:
    return (f"Value '{value}' at 'qualifier' failed to satisfy constraint: Member must have "
            f"length less than or equal to 128")


def invoke_error(**kwargs: Any) -> tuple[ClientError, Any]:
    """Invoke with a declared ``my-function``; return the error and the stub."""
    lam = client(retries={"total_max_attempts": 1})
    with stub_lambda(functions={"my-function": echo}, strict=False) as stub:
        with pytest.raises(ClientError) as raised:
            lam.invoke(**kwargs)
    return raised.value, stub


def assert_validation_error(error: ClientError, message: str) -> None:
    assert type(error) is ClientError  # unmodeled: botocore has no class for it
    response = error.response
    assert response["Error"] == {"Code": "ValidationException", "Message": message}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert set(response) == {"Error", "ResponseMetadata"}  # only Error: no Type


@pytest.mark.parametrize("name", [
    "my-function!",
    "*",
    "invalid-account:function:my-function",
    f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function:1:2",
    f"arn:aws:lambda::{ACCOUNT}:function:my-function",
    "my function",
    f"arn:aws:lambda:{REGION}:1234:function:my-function",
    "\u0661" * 12 + ":function:my-function",  # Java's \d: ASCII digits only
])
def test_function_name_pattern(name: str) -> None:
    error, stub = invoke_error(FunctionName=name)
    assert_validation_error(error, f"1 validation error detected: {name_violation(name)}")
    record = stub.invocations[0]
    assert (record.error_code, record.status_code, record.ran) == ("ValidationException", 400,
                                                                   False)
    assert stub["my-function"].call_count == 0


@pytest.mark.parametrize("name", [
    "my-function", "my-function:v1", f"{ACCOUNT}:function:my-function",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function:$LATEST",
    f"arn:aws-us-gov:lambda:{REGION}:{ACCOUNT}:function:my-function",
])
def test_accepted_name_forms_pass_validation(name: str) -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("my-function", echo, versions={"1": echo}, aliases={"v1": "1"})
        assert lam.invoke(FunctionName=name)["StatusCode"] == 200


def test_long_names_are_not_found_not_refused() -> None:
    name = "a" * 65
    error, _ = invoke_error(FunctionName=name)
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:$LATEST")


@pytest.mark.parametrize("qualifier", ["v.1", "live!", "a b", "$LATEST.x"])
def test_qualifier_pattern(qualifier: str) -> None:
    error, _ = invoke_error(FunctionName="my-function", Qualifier=qualifier)
    assert_validation_error(
        error, f"1 validation error detected: {qualifier_violation(qualifier)}")


def test_qualifier_length() -> None:
    qualifier = "q" * 129
    error, _ = invoke_error(FunctionName="my-function", Qualifier=qualifier)
    assert_validation_error(
        error, f"1 validation error detected: {qualifier_length_violation(qualifier)}")


def test_qualifier_of_128_characters_is_only_not_found() -> None:
    qualifier = "q" * 128
    error, _ = invoke_error(FunctionName="my-function", Qualifier=qualifier)
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["Message"].endswith(f":function:my-function:{qualifier}")


def test_two_violations_are_joined() -> None:
    error, _ = invoke_error(FunctionName="my-function!", Qualifier="live!")
    assert_validation_error(
        error, f"2 validation errors detected: {name_violation('my-function!')}; "
               f"{qualifier_violation('live!')}")


def test_qualifier_pattern_and_length_are_two_violations() -> None:
    qualifier = "!" * 129
    error, _ = invoke_error(FunctionName="my-function", Qualifier=qualifier)
    assert_validation_error(
        error, f"2 validation errors detected: {qualifier_violation(qualifier)}; "
               f"{qualifier_length_violation(qualifier)}")


def test_lower_case_latest_is_not_normalised() -> None:
    error, _ = invoke_error(FunctionName="my-function", Qualifier="$latest")
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["Message"] == (
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function:$latest")


def assert_invalid_content(error: ClientError, message: str) -> None:
    response = error.response
    assert response["Error"]["Code"] == "InvalidRequestContentException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Type"] == "User"
    assert response["message"] == message
    assert "Message" not in response


def test_payload_not_utf8() -> None:
    error, stub = invoke_error(FunctionName="my-function", Payload=b'"\x87"')
    assert_invalid_content(
        error, f"{NOT_JSON_PREFIX}Invalid UTF-8 start byte 0x87\n {SOURCE}; line: 1, column: 3]")
    assert stub.invocations[0].error_code == "InvalidRequestContentException"
    assert stub["my-function"].call_count == 0


def test_payload_not_json() -> None:
    error, _ = invoke_error(FunctionName="my-function", Payload=b"abc")
    message = error.response["message"]
    assert message.startswith(
        f"{NOT_JSON_PREFIX}Unrecognized token 'abc': was expecting (JSON String, Number, Array, "
        f"Object or token 'null', 'true' or 'false')\n {SOURCE}; line: 1, column: ")
    assert_invalid_content(error, message)


@pytest.mark.parametrize("body", [b'{"a": ', b"{'a': 1}", b"[1, 2", b"NaN", b'{"a": 1} x'])
def test_other_malformed_json_is_invalid_request_content(body: bytes) -> None:
    error, _ = invoke_error(FunctionName="my-function", Payload=body)
    assert error.response["message"].startswith(NOT_JSON_PREFIX)
    assert f"\n {SOURCE}; line: 1, column: " in error.response["message"]
    assert_invalid_content(error, error.response["message"])


def _json_of_size(size: int) -> bytes:
    body = json.dumps("x" * (size - 2)).encode()
    assert len(body) == size
    return body


@pytest.mark.parametrize("invocation_type, limit, message", [
    ("RequestResponse", 6291456,
     "Request must be smaller than 6291456 bytes for the InvokeFunction operation"),
    ("Event", 1048576,
     "{size} byte payload is too large for the Event invocation type (limit 1048576 bytes)"),
])
def test_payload_size_limits(invocation_type: str, limit: int, message: str) -> None:
    lam = client(retries={"total_max_attempts": 1})
    with stub_lambda(functions={"my-function": lambda e, c: len(e)}) as stub:
        at_limit = lam.invoke(FunctionName="my-function", InvocationType=invocation_type,
                              Payload=_json_of_size(limit))
        assert at_limit["StatusCode"] in (200, 202)
        with pytest.raises(ClientError) as raised:
            lam.invoke(FunctionName="my-function", InvocationType=invocation_type,
                       Payload=_json_of_size(limit + 1))
    error = raised.value
    assert type(error) is ClientError  # unmodeled
    assert error.response["Error"] == {"Code": "RequestEntityTooLargeException",
                                       "Message": message.format(size=limit + 1)}
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert stub["my-function"].call_count == 1


@pytest.mark.parametrize("invocation_type, limit", [("RequestResponse", 6291456),
                                                    ("Event", 1048576)])
def test_payload_too_large_is_recorded(invocation_type: str, limit: int) -> None:
    lam = client(retries={"total_max_attempts": 1})
    with stub_lambda(functions={"my-function": echo}) as stub:
        with pytest.raises(ClientError):
            lam.invoke(FunctionName="my-function", InvocationType=invocation_type,
                       Payload=_json_of_size(limit + 1))
    record = stub.invocations[-1]
    assert (record.error_code, record.status_code, record.ran) == (
        "RequestEntityTooLargeException", 413, False)
    assert stub["my-function"].invocations == [record]


def _context(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize("client_context", [
    "not base64!",
    base64.b64encode(b"not json").decode(),
    _context([1, 2]),
    _context("a string"),
    base64.b64encode(b"\xff\xfe").decode(),
])
def test_client_context_must_be_base64_json_object(client_context: str) -> None:
    error, stub = invoke_error(FunctionName="my-function", ClientContext=client_context)
    assert_invalid_content(error, BAD_CONTEXT)
    assert stub["my-function"].call_count == 0


def _context_of_size(size: int) -> str:
    encoded = _context({"custom": {"k": ""}})
    padding = 0
    while len(encoded) < size:
        padding += 1
        encoded = _context({"custom": {"k": "x" * padding}})
    assert len(encoded) >= size
    return encoded


def test_client_context_size_limit() -> None:
    lam = client(retries={"total_max_attempts": 1})
    fitting = _context_of_size(3580)
    assert len(fitting) <= 3583
    too_long = _context_of_size(3584)
    assert len(too_long) > 3583
    with stub_lambda(functions={"my-function": lambda e, c: c.client_context.custom}) as stub:
        assert json.loads(lam.invoke(FunctionName="my-function",
                                     ClientContext=fitting)["Payload"].read())["k"]
        with pytest.raises(ClientError) as raised:
            lam.invoke(FunctionName="my-function", ClientContext=too_long)
    response = raised.value.response
    assert response["Error"]["Code"] == "InvalidRequestContentException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Type"] == "User"
    assert "3583" in response["message"]
    assert stub["my-function"].call_count == 1

