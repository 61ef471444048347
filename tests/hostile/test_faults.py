"""Hostile input for the service and the simulation: every bad value gets the error AWS gives
(or a clear error naming what was declared), never an internal Python error, and the stub keeps
working afterwards."""

from __future__ import annotations

import http.server
import json
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from pytest_lambda_stub import LambdaStub, SimulatedDurationError, stub_lambda
from pytest_lambda_stub.service import names
from tests.helpers import client

DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 KB, far deeper than any recursion limit
OPERATIONS = ("RequestResponse", "Event", "InvokeWithResponseStream", "InvokeAsync")


def _echo(event: Any, context: Any) -> Any:
    return event


def _call(lam: Any, operation: str, name: str, body: bytes = b"{}") -> dict[str, Any]:
    if operation == "InvokeAsync":
        result: dict[str, Any] = lam.invoke_async(FunctionName=name, InvokeArgs=body)
    elif operation == "InvokeWithResponseStream":
        result = lam.invoke_with_response_stream(FunctionName=name, Payload=body)
        result["EventStream"] = list(result["EventStream"])
    else:
        result = lam.invoke(FunctionName=name, InvocationType=operation, Payload=body)
    return result


def _model_member(name: str) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("lambda")
    metadata: dict[str, Any] = model.operation_model("Invoke").input_shape.members[name].metadata
    return metadata


# -- deeply nested payloads and results (C10) -----------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
def test_deeply_nested_payload_is_invalid_request_content(operation: str) -> None:
    lam = client()
    with stub_lambda({"f": _echo}) as stub:
        with pytest.raises(lam.exceptions.InvalidRequestContentException) as caught:
            _call(lam, operation, "f", DEEP)
        message = caught.value.response["Error"]["Message"]
        assert message.startswith("Could not parse request body into json: Could not parse "
                                  "payload into json: Document nesting depth (1001) exceeds "
                                  "the maximum allowed (1000")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        # Recorded as refused; the handler never ran; the stub still answers.
        assert [r.error_code for r in stub["f"].invocations] == ["InvalidRequestContentException"]
        assert not stub["f"].invocations[0].ran
        assert json.loads(lam.invoke(FunctionName="f", Payload=b"[1]")["Payload"].read()) == [1]


@pytest.mark.parametrize("depth", [500, 990])
def test_nesting_within_the_limit_reaches_the_handler(depth: int) -> None:
    # Within Jackson's 1000 levels, whatever the depth of the test's own call stack.
    seen: list[int] = []

    def measure(event: Any, context: Any) -> None:
        levels = 0
        while isinstance(event, list) and event:
            event, levels = event[0], levels + 1
        seen.append(levels + 1)

    lam = client()
    with stub_lambda({"f": measure}):
        body = b"[" * (depth - 1) + b"[]" + b"]" * (depth - 1)
        assert lam.invoke(FunctionName="f", Payload=body)["StatusCode"] == 200
    assert seen == [depth]


def test_deeply_nested_client_context_is_invalid_request_content() -> None:
    import base64

    lam = client()
    context = base64.b64encode(b"[" * 2500 + b"]" * 0).decode()[:3500]
    with stub_lambda({"f": _echo}):
        with pytest.raises(lam.exceptions.InvalidRequestContentException, match="Client context"):
            lam.invoke(FunctionName="f", ClientContext=context)


@pytest.mark.parametrize("operation", ["RequestResponse", "InvokeWithResponseStream"])
def test_deeply_nested_result_is_a_marshal_error(operation: str) -> None:
    def deep(event: Any, context: Any) -> Any:
        value: list[Any] = []
        for _ in range(50_000):
            value = [value]
        return value

    lam = client()
    with stub_lambda({"deep": deep}) as stub:
        _call(lam, operation, "deep")
    record = stub["deep"].invocations[0]
    assert record.function_error == "Unhandled"
    assert record.error_type == "Runtime.MarshalError"
    payload = record.result
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"].startswith("Unable to marshal response: maximum recursion "
                                              "depth exceeded")
    assert payload["requestId"] == record.request_id and payload["stackTrace"] == []


def test_deeply_nested_result_of_an_event_goes_to_the_failure_destination() -> None:
    def deep(event: Any, context: Any) -> Any:
        value: list[Any] = []
        for _ in range(50_000):
            value = [value]
        return value

    failures: list[Any] = []
    lam = client()
    with stub_lambda(strict=False) as stub:
        stub.add_function("deep", deep, maximum_retry_attempts=0, on_failure=failures.append)
        assert lam.invoke(FunctionName="deep", InvocationType="Event")["StatusCode"] == 202
    assert [r.error_type for r in stub["deep"].invocations] == ["Runtime.MarshalError"]
    assert failures[0]["responsePayload"]["errorType"] == "Runtime.MarshalError"


# -- FunctionName length (C12) --------------------------------------------------------------


def test_name_limits_are_the_installed_models() -> None:
    # The limits in force come from the installed botocore (older models say 170, newer 256).
    from pytest_lambda_stub.interception import limits

    assert limits.from_model() == names.NameLimits(
        function_name=int(_model_member("FunctionName")["max"]),
        qualifier=int(_model_member("Qualifier")["max"]))


def test_name_patterns_are_the_current_models() -> None:
    # The service's patterns are the current model generation's (FunctionName up to 256):
    # an older botocore (aiobotocore pins one) has older patterns and limits.
    if int(_model_member("FunctionName")["max"]) != names.FUNCTION_NAME_MAX_LENGTH:
        pytest.skip("the installed botocore's Lambda model predates the current patterns")
    assert names.FUNCTION_NAME_PATTERN_TEXT == _model_member("FunctionName")["pattern"]
    assert names.QUALIFIER_PATTERN_TEXT == _model_member("Qualifier")["pattern"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_function_name_longer_than_the_model_allows_is_a_validation_error(operation: str) -> None:
    limit = int(_model_member("FunctionName")["max"])
    long_name = "f" * (limit + 1)
    lam = client()
    with stub_lambda({"f": _echo}, strict=False) as stub:
        with pytest.raises(ClientError) as caught:
            _call(lam, operation, long_name)
        error = caught.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert error["Message"] == (
            f"1 validation error detected: Value '{long_name}' at 'functionName' failed to "
            f"satisfy constraint: Member must have length less than or equal to {limit}")
        assert stub.undeclared_calls == {}
        # At the limit itself: not a validation error, just not found.
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            _call(lam, operation, "f" * limit)


def test_long_name_failing_the_pattern_lists_both_violations() -> None:
    limit = int(_model_member("FunctionName")["max"])
    bad = "!" * (limit + 1)
    lam = client()
    with stub_lambda({"f": _echo}):
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName=bad)
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "Member must satisfy regular expression pattern" in message
    assert message.endswith(f"Member must have length less than or equal to {limit}")


def test_name_limits_come_from_the_model_when_a_stub_starts() -> None:
    stub = LambdaStub()
    with stub:
        assert stub._service.name_limits.function_name == _model_member("FunctionName")["max"]


# -- advance() and simulated_duration (C11) ----------------------------------------------------


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan, -1, -0.5, 1e20, 1e11])
def test_advance_rejects_values_the_clock_cannot_take(seconds: float) -> None:
    lam = client()
    with stub_lambda(event_delivery="manual", strict=False) as stub:
        stub.add_function("f", returns="ok")
        lam.invoke(FunctionName="f", InvocationType="Event")
        clock = stub.clock
        with pytest.raises(ValueError, match=r"advance\(\) takes a finite number of seconds"):
            stub.advance(seconds)
        assert stub.clock - clock < 5  # not moved
        # Later invokes and advances still work.
        assert len(stub.advance(1)) == 1
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
        assert stub.drain() == []


@pytest.mark.parametrize("value", ["1", None, [1], True])
def test_advance_rejects_what_is_not_a_number(value: Any) -> None:
    with stub_lambda() as stub, pytest.raises(TypeError, match="advance"):
        stub.advance(value)


def _raises(event: Any) -> float:
    raise KeyError("no duration for this event")


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def _raises_unprintable(event: Any) -> float:
    raise _Unprintable()


BAD_DURATIONS: list[tuple[Callable[[Any], Any], str]] = [
    (_raises, "raised KeyError"),
    (_raises_unprintable, "raised _Unprintable"),
    (lambda event: "3", "returned '3'"),
    (lambda event: None, "returned None"),
    (lambda event: math.nan, "returned nan"),
    (lambda event: math.inf, "returned inf"),
    (lambda event: -1, "returned -1"),
    (lambda event: True, "returned True"),
]


@pytest.mark.parametrize(("duration", "said"), BAD_DURATIONS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_bad_simulated_duration_is_a_clear_error_naming_the_function(
        duration: Callable[[Any], Any], said: str, operation: str) -> None:
    lam = client()
    with stub_lambda(strict=False) as stub:
        stub.add_function("slow", returns="ok", simulated_duration=duration)
        stub.add_function("fine", returns="ok", simulated_duration=lambda event: 1.5)
        with pytest.raises(SimulatedDurationError) as caught:
            _call(lam, operation, "slow")
        assert "function 'slow': simulated_duration" in str(caught.value)
        assert said in str(caught.value)
        assert isinstance(caught.value, ValueError)
        # Nothing held: concurrency released, later invokes answered.
        assert stub["slow"].running == 0
        response = lam.invoke(FunctionName="fine")
        assert response["StatusCode"] == 200 and "FunctionError" not in response


def test_simulated_duration_accepts_any_real_number() -> None:
    import decimal
    import fractions

    lam = client()
    with stub_lambda(strict=False) as stub:
        stub.add_function("a", returns=1, simulated_duration=lambda e: fractions.Fraction(1, 2))
        stub.add_function("b", returns=1, simulated_duration=lambda e: 2)
        lam.invoke(FunctionName="a")
        lam.invoke(FunctionName="b")
        stub.add_function("c", returns=1, simulated_duration=lambda e: decimal.Decimal("1"))
        with pytest.raises(SimulatedDurationError, match="Decimal"):
            lam.invoke(FunctionName="c")
    assert stub["a"].invocations[0].duration == 0.5
    assert stub["b"].invocations[0].duration == 2.0


# -- destinations that are AWS ARNs never reach AWS by accident (A4) ----------------------------


class _Counting(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).seen.append(f"{self.command} {self.path} {self.headers.get('Host')}")
        body = b'{"__type": "InternalFailure", "message": "test endpoint"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A local HTTP endpoint every AWS client of the process is configured for, with fake
    credentials: whatever reaches it would have reached AWS."""
    _Counting.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS",
                 "AWS_ENDPOINT_URL_EVENTBRIDGE"):
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield _Counting.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _own_client() -> Any:
    """A client of its own session: boto3's default session would keep the fake credentials
    for the tests that come after."""
    import boto3

    return boto3.session.Session().client("lambda", region_name="eu-west-1")


ACCOUNT = "123456789012"
QUEUE = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:failed"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:failed"
BUS = f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default"


def _fails(event: Any, context: Any) -> Any:
    raise RuntimeError("Handler fails")


def _declare_every_target(stub: LambdaStub) -> None:
    stub.add_function("to_queue", _fails, maximum_retry_attempts=0, on_failure=QUEUE,
                      dead_letter=QUEUE)
    stub.add_function("to_topic", _fails, maximum_retry_attempts=0, on_failure=TOPIC,
                      dead_letter=TOPIC)
    stub.add_function("to_bus", _echo, on_success=BUS)


def _send_every_event(lam: Any) -> None:
    for name in ("to_queue", "to_topic", "to_bus"):
        assert lam.invoke(FunctionName=name, InvocationType="Event",
                          Payload=b'{"n": 1}')["StatusCode"] == 202


def test_aws_destinations_are_recorded_not_sent_without_moto(endpoint: list[str]) -> None:
    lam = _own_client()
    with stub_lambda() as stub:
        _declare_every_target(stub)
        _send_every_event(lam)
    assert endpoint == []  # not one request reached the configured endpoint
    held = stub.destinations + stub.dead_letters
    assert sorted((s.function_name, s.kind, s.target) for s in held) == sorted([
        ("to_queue", "on_failure", QUEUE), ("to_queue", "dead_letter", QUEUE),
        ("to_topic", "on_failure", TOPIC), ("to_topic", "dead_letter", TOPIC),
        ("to_bus", "on_success", BUS)])
    assert all(not s.sent and s.error is None for s in held)
    queue_record = next(s for s in stub.destinations if s.target == QUEUE).record
    assert queue_record["requestContext"]["condition"] == "RetriesExhausted"
    assert stub.dead_letters[0].record["body"] == '{"n": 1}'


def test_moto_imported_but_not_active_is_not_an_opt_in(endpoint: list[str]) -> None:
    pytest.importorskip("moto")
    import moto

    with moto.mock_aws():
        pass  # started and stopped: moto's handler stays registered, disabled
    lam = _own_client()
    with stub_lambda() as stub:
        _declare_every_target(stub)
        _send_every_event(lam)
    assert endpoint == []
    assert all(not s.sent for s in stub.destinations + stub.dead_letters)


def test_send_destinations_opts_in_to_the_configured_endpoint(endpoint: list[str]) -> None:
    lam = _own_client()
    with stub_lambda(send_destinations=True) as stub:
        _declare_every_target(stub)
        _send_every_event(lam)
    # Each target was tried against the configured endpoint (which fails every request).
    assert len(endpoint) == 5
    sent = stub.destinations + stub.dead_letters
    assert all(s.sent and s.error for s in sent)


def test_send_destinations_from_the_ini_file_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlambda_stub_send_destinations = true\n")
    pytester.makepyfile(test_it="""
        import pytest

        def test_ini(lambda_stub):
            assert lambda_stub.options.send_destinations is True

        @pytest.mark.lambda_stub(send_destinations=False)
        def test_marker(lambda_stub):
            assert lambda_stub.options.send_destinations is False

        def test_bad():
            from pytest_lambda_stub import OptionError, stub_lambda
            with pytest.raises(OptionError, match="'send_destinations' must be True or False"):
                stub_lambda(send_destinations="yes")
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_under_moto_destinations_reach_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    lam = _own_client()
    with moto.mock_aws(), stub_lambda() as stub:
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="failed")["QueueUrl"]
        stub.add_function("to_queue", _fails, maximum_retry_attempts=0, on_failure=QUEUE,
                          dead_letter=QUEUE)
        lam.invoke(FunctionName="to_queue", InvocationType="Event", Payload=b'{"n": 1}')
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2
    assert all(s.sent and s.error is None for s in stub.destinations + stub.dead_letters)


# -- bad input on every operation: a service error, never an internal error ---------------------

BAD_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("not UTF-8", {"body": b"\x87\x00"}, "InvalidRequestContentException"),
    ("not JSON", {"body": b"{nope"}, "InvalidRequestContentException"),
    ("NaN token", {"body": b"NaN"}, "InvalidRequestContentException"),
    ("truncated", {"body": b'{"a": [1, 2'}, "InvalidRequestContentException"),
    ("lone surrogate escape", {"body": b'"\\ud800"'}, ""),
    ("name pattern", {"name": "bad name!"}, "ValidationException"),
    ("qualifier pattern", {"qualifier": "no way"}, "ValidationException"),
    ("qualifier length", {"qualifier": "q" * 129}, "ValidationException"),
    ("qualifier conflict", {"name": "f:1", "qualifier": "2"}, "InvalidParameterValueException"),
    ("unknown alias", {"qualifier": "nope"}, "ResourceNotFoundException"),
    ("other region ARN", {"name": "arn:aws:lambda:us-west-2:123456789012:function:f"},
     "ResourceNotFoundException"),
]


def _bad_call(lam: Any, operation: str, name: str, qualifier: str | None, body: bytes) -> None:
    extra = {} if qualifier is None else {"Qualifier": qualifier}
    if operation == "InvokeAsync":
        if qualifier is not None:
            pytest.skip("InvokeAsync has no Qualifier")
        lam.invoke_async(FunctionName=name, InvokeArgs=body)
    elif operation == "InvokeWithResponseStream":
        list(lam.invoke_with_response_stream(FunctionName=name, Payload=body,
                                             **extra)["EventStream"])
    else:
        lam.invoke(FunctionName=name, InvocationType=operation, Payload=body, **extra)


@pytest.mark.parametrize(("case", "request_parts", "code"), BAD_REQUESTS,
                         ids=[case for case, _, _ in BAD_REQUESTS])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_bad_requests_get_the_service_error_on_every_operation(
        operation: str, case: str, request_parts: dict[str, Any], code: str) -> None:
    lam = client(retries={"total_max_attempts": 1})
    with stub_lambda(strict=False) as stub:
        stub.add_function("f", _echo, versions={"1": _echo})
        name = request_parts.get("name", "f")
        try:
            _bad_call(lam, operation, name, request_parts.get("qualifier"),
                      request_parts.get("body", b"{}"))
        except ClientError as error:
            assert error.response["Error"]["Code"] == code, error.response
        else:
            assert code == "", f"{case}: answered without an error"
        # The stub still answers afterwards.
        assert json.loads(lam.invoke(FunctionName="f", Payload=b"[2]")["Payload"].read()) == [2]
        assert all(f.running == 0 for f in stub)


BAD_TARGETS: list[tuple[str, Any, str]] = [
    ("on_success", "arn:aws:sqs", "not a well-formed sqs ARN"),
    ("on_success", "arn:aws:sqs:eu-west-1:123:queue", "not a well-formed sqs ARN"),
    ("on_failure", "arn:aws:sns:eu-west-1:123456789012:topic:extra", "not a well-formed sns ARN"),
    ("on_failure", "arn:aws:events:eu-west-1:123456789012:rule/x", "not a well-formed events"),
    ("on_success", "arn:aws:lambda:eu-west-1:123456789012:f", "not a well-formed lambda ARN"),
    ("on_success", "arn:aws:s3:::bucket",
     "not an SQS queue, SNS topic, EventBridge bus or Lambda function ARN"),
    ("dead_letter", "arn:aws:events:eu-west-1:123456789012:event-bus/default",
     "not an SQS queue or SNS topic ARN"),
    ("dead_letter", "queue-name", "dead_letter must be an SQS queue or SNS topic ARN"),
    ("on_success", "not a name!", "is not a function name"),
    ("on_failure", 42, "must be a callable"),
]


@pytest.mark.parametrize(("label", "target", "said"), BAD_TARGETS)
def test_malformed_destination_targets_are_refused_when_declared(
        label: str, target: Any, said: str) -> None:
    stub = LambdaStub()
    with pytest.raises((ValueError, TypeError)) as caught:
        stub.add_function("f", returns="ok", **{label: target})
    assert str(caught.value).startswith(f"function 'f': {label}")
    assert said in str(caught.value)


def test_well_formed_targets_of_every_kind_are_accepted() -> None:
    stub = LambdaStub()
    stub.add_function("sink", returns=None)
    for target in (QUEUE, TOPIC, BUS, f"{QUEUE}.fifo",
                   f"arn:aws-us-gov:sqs:us-gov-west-1:{ACCOUNT}:q",
                   f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:sink",
                   f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:sink:$LATEST", "sink", "sink:1"):
        stub.add_function("f", returns="ok", on_success=target)


# -- destination callables raising anything (issue 10 C8) ------------------------------------


class _Custom(BaseException):
    pass


@pytest.mark.parametrize("raised", [KeyboardInterrupt, GeneratorExit, SystemExit, _Custom])
def test_a_destination_callable_raising_a_base_exception_is_recorded_never_raised(
        raised: type[BaseException]) -> None:
    def target(record: Any) -> None:
        raise raised("target down")

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("ok", _echo, on_success=target)
        stub.add_function("bad", _fails, maximum_retry_attempts=0, on_failure=target,
                          dead_letter=target)
        assert lam.invoke(FunctionName="ok", InvocationType="Event")["StatusCode"] == 202
        assert lam.invoke(FunctionName="bad", InvocationType="Event")["StatusCode"] == 202
    sent = stub.destinations + stub.dead_letters
    assert [(s.function_name, s.kind) for s in sent] == [
        ("ok", "on_success"), ("bad", "on_failure"), ("bad", "dead_letter")]
    assert {s.error for s in sent} == {f"{raised.__name__}: target down"}
