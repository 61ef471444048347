"""The safety net: while a stub is active, no Lambda API call leaves the process unless the
user says so. Proven against a local HTTP endpoint with real-looking credentials: every
operation of botocore's model, with minimal valid parameters, is answered or refused at once,
and the endpoint sees nothing."""

from __future__ import annotations

import datetime
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape

from pytest_lambda_stub import NotEmulatedError, StrictModeError, stub_lambda
from pytest_lambda_stub.interception import dispatch
from pytest_lambda_stub.service import api
from tests.helpers import REGION

ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"


class Endpoint:
    """An HTTP server on 127.0.0.1 that counts the requests it gets (and answers 418)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(418)
                self.send_header("Content-Length", "2")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    server = Endpoint()
    yield server
    server.close()


def lambda_client(endpoint: Endpoint) -> Any:
    # A session of its own: boto3's default session would keep these credentials for later
    # tests, which expect none.
    return boto3.session.Session().client(
        "lambda", region_name=REGION, endpoint_url=endpoint.url,
        config=Config(retries={"max_attempts": 1}, read_timeout=5, connect_timeout=5))


# -- minimal valid parameters from the input shapes ---------------------------------------------

def _value(name: str, shape: Shape, function: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {member: _value(member, shape.members[member], function)  # type: ignore[attr-defined]
                for member in shape.required_members}  # type: ignore[attr-defined]
    if kind == "list":
        return [_value(name, shape.member, function)  # type: ignore[attr-defined]
                for _ in range(max(1, int(shape.metadata.get("min", 1))))]
    if kind == "map":
        return {"key": _value(name, shape.value, function)}  # type: ignore[attr-defined]
    if kind in ("integer", "long"):
        return max(int(shape.metadata.get("min", 1)), 1)
    if kind in ("double", "float"):
        return float(shape.metadata.get("min", 1))
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"{}"
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    if shape.enum:
        return shape.enum[0]
    if name == "FunctionName":
        return function
    if name in ("Resource", "ResourceArn") or name.endswith("Arn") or name == "Role":
        return f"{FUNCTION_ARN[:-1]}{function}" if name in ("Resource", "ResourceArn") else (
            f"arn:aws:iam::{ACCOUNT}:role/r" if name == "Role" else
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:thing:x")
    text = "x1"
    return text.ljust(int(shape.metadata.get("min", 1)), "x")


def minimal_params(operation: str, function: str) -> dict[str, Any]:
    shape = dispatch.operation_model(operation).input_shape
    if shape is None:
        return {}
    return _value(operation, shape, function)  # type: ignore[no-any-return]


def _call(lam: Any, operation: str, params: dict[str, Any]) -> str:
    """What became of the call: "answered", "error:<code>" or "not-emulated"."""
    method = getattr(lam, dispatch.xform_name(operation))
    try:
        response = method(**params)
    except NotEmulatedError as error:
        message = str(error)
        assert operation in message and "passthrough" in message and "mock_aws" in message
        return "not-emulated"
    except ClientError as error:
        return f"error:{error.response['Error']['Code']}"
    for key in ("Payload", "EventStream"):
        if key in response:
            body = response[key]
            body.read() if key == "Payload" else list(body)
    return "answered"


OPERATIONS = sorted(dispatch.operation_names())


@pytest.mark.parametrize("function", ["f", "undeclared"])
def test_no_operation_of_the_model_reaches_the_endpoint(endpoint: Endpoint,
                                                        function: str) -> None:
    lam = lambda_client(endpoint)
    outcomes: dict[str, str] = {}
    with stub_lambda(strict=False) as stub:
        stub.add_function("f", lambda e, c: {"ok": True}, versions={"1": lambda e, c: 1},
                          aliases={"x1": "1"})
        for operation in OPERATIONS:
            outcomes[operation] = _call(lam, operation, minimal_params(operation, function))
    assert endpoint.requests == []
    emulated = set(api.OPERATIONS) | set(dispatch.INVOKE_FAMILY)
    for operation, outcome in outcomes.items():
        if operation in emulated:
            assert outcome != "not-emulated", operation
        else:
            assert outcome == "not-emulated", (operation, outcome)
    if function == "undeclared":
        for operation in emulated - {"ListFunctions", "GetAccountSettings"}:
            assert outcomes[operation] in ("error:ResourceNotFoundException",
                                           "error:ValidationException"), (
                operation, outcomes[operation])
    else:
        assert outcomes["GetFunction"] == "answered"
        assert outcomes["Invoke"] == "answered"


def test_the_endpoint_does_see_requests_without_a_stub(endpoint: Endpoint) -> None:
    lam = lambda_client(endpoint)
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="f")
    assert endpoint.requests == ["GET /2015-03-31/functions/f"]


def test_not_emulated_fails_at_once_with_both_ways_out(endpoint: Endpoint) -> None:
    lam = lambda_client(endpoint)
    with pytest.raises(StrictModeError) as strict, stub_lambda(functions={"f": print}) as stub:
        with pytest.raises(NotEmulatedError) as caught:
            lam.create_function(FunctionName="new", Role=f"arn:aws:iam::{ACCOUNT}:role/r",
                                Code={"ZipFile": b"zip"})
    message = str(caught.value)
    assert "does not emulate Lambda's CreateFunction" in message
    assert "passthrough=['CreateFunction']" in message
    assert "moto's mock_aws" in message
    assert stub.api_calls[-1].operation == "CreateFunction"
    assert stub.api_calls[-1].error == "NotEmulated"
    assert "CreateFunction was refused as not emulated once" in str(strict.value)
    assert endpoint.requests == []


@pytest.mark.parametrize("entry", ["CreateFunction", "create_function"])
def test_passthrough_naming_an_operation_lets_it_through(endpoint: Endpoint,
                                                         entry: str) -> None:
    lam = lambda_client(endpoint)
    with stub_lambda(functions={"f": print}, passthrough=[entry]):
        with pytest.raises(ClientError):  # the endpoint's 418
            lam.create_function(FunctionName="new", Role=f"arn:aws:iam::{ACCOUNT}:role/r",
                                Code={"ZipFile": b"zip"})
        lam.get_function(FunctionName="f")  # still answered
    assert endpoint.requests == ["POST /2015-03-31/functions"]


def test_passthrough_naming_a_function_lets_its_operations_through(endpoint: Endpoint) -> None:
    lam = lambda_client(endpoint)
    with stub_lambda(functions={"f": print}, passthrough=["real"]) as stub:
        with pytest.raises(ClientError):
            lam.get_function(FunctionName="real")
        with pytest.raises(ClientError):
            lam.update_function_code(FunctionName="real", ZipFile=b"zip")
        lam.get_function(FunctionName="f")
    assert [r.split(" ")[0] for r in endpoint.requests] == ["GET", "PUT"]
    assert [c.operation for c in stub.api_calls] == ["GetFunction"]


def test_passthrough_true_lets_every_operation_through(endpoint: Endpoint) -> None:
    lam = lambda_client(endpoint)
    with stub_lambda(functions={"f": print}, passthrough=True):
        with pytest.raises(ClientError):
            lam.get_function(FunctionName="f")
    assert len(endpoint.requests) == 1


def test_answered_requests_are_not_signed() -> None:
    lam = boto3.client("lambda", region_name=REGION)  # no credentials anywhere
    with stub_lambda(functions={"f": print}, strict=False):
        lam.get_function(FunctionName="f")
        lam.list_functions()
        with pytest.raises(NotEmulatedError):
            lam.delete_function(FunctionName="f")


def test_under_moto_undeclared_functions_and_other_operations_go_to_moto(
        monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        lam = boto3.session.Session().client("lambda", region_name=REGION)
        with stub_lambda(functions={"f": lambda e, c: "stubbed"}) as stub:
            with pytest.raises(ClientError) as moto_missing:
                lam.get_function(FunctionName="only-in-moto")
            with pytest.raises(ClientError):
                lam.delete_function(FunctionName="only-in-moto")  # not emulated: moto's answer
            assert lam.get_function(FunctionName="f")["Configuration"]["FunctionName"] == "f"
    assert moto_missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert [c.operation for c in stub.api_calls] == ["GetFunction"]
    assert stub.stopped_with == []


def test_after_stop_the_net_is_gone(endpoint: Endpoint) -> None:
    lam = lambda_client(endpoint)
    with stub_lambda(functions={"f": print}):
        lam.get_function(FunctionName="f")
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="f")
    assert endpoint.requests == ["GET /2015-03-31/functions/f"]
