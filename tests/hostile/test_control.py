"""Hostile tests of the control plane: the raw-HTTP entry point (route and answer) against
botocore's own serializer for every operation, bad input to every write, concurrent writes and
invokes, and start/stop cycles."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.serialize import create_serializer

from pytest_lambda_stub import NotEmulatedError, stub_lambda
from pytest_lambda_stub.interception import dispatch
from pytest_lambda_stub.service import errors
from tests.helpers import REGION, client
from tests.test_safety_net import minimal_params

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
HOST = f"https://lambda.{REGION}.amazonaws.com"


def echo(event: Any, context: Any) -> Any:
    return event


def serialised(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The HTTP request botocore would send (its own rest-json serializer)."""
    model = dispatch.operation_model(operation)
    request: dict[str, Any] = create_serializer("rest-json", include_validation=False) \
        .serialize_to_request(params, model)
    query = urlencode(request["query_string"], doseq=True) if request["query_string"] else ""
    joiner = "&" if "?" in request["url_path"] else "?"
    request["path"] = request["url_path"] + (f"{joiner}{query}" if query else "")
    request["url"] = HOST + request["path"]
    body = request["body"]
    request["body"] = body.encode() if isinstance(body, str) else (body or b"")
    return request


# -- routing every operation of the model -----------------------------------------------------

@pytest.mark.parametrize("operation", sorted(dispatch.operation_names()))
def test_route_finds_every_operation_from_botocores_own_request(operation: str) -> None:
    params = minimal_params(operation, "my-function")
    request = serialised(operation, params)
    found = dispatch.route(request["method"], request["path"])
    assert found is not None, request["path"]
    name, labels = found
    assert name == operation
    if "FunctionName" in params and "{FunctionName}" in \
            dispatch.operation_model(operation).http["requestUri"]:
        assert labels["FunctionName"] == "my-function"


def test_route_decodes_labels_and_refuses_what_is_not_lambda() -> None:
    assert dispatch.route("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A"
                                 "123456789012%3Afunction%3Af/configuration") == (
        "GetFunctionConfiguration", {"FunctionName": f"{ARN}:f"})
    assert dispatch.route("GET", "/2015-03-31/functions/f/configuration/") is not None
    assert dispatch.route("GET", "/") is None
    assert dispatch.route("PATCH", "/2015-03-31/functions/f") is None
    assert dispatch.route("GET", "/2015-03-31/functions/f/nothing") is None
    assert dispatch.route("get", "/2015-03-31/functions") == ("ListFunctions", {})
    assert dispatch.route("GET", "/2018-10-31/layers?find=LayerVersion&Arn=x")[0] == \
        "GetLayerVersionByArn"
    assert dispatch.route("GET", "/2018-10-31/layers")[0] == "ListLayers"


# -- the raw entry point gives the in-process answer ------------------------------------------

def test_raw_requests_get_the_same_bytes_as_in_process_ones() -> None:
    lam = client()
    captured: dict[str, bytes] = {}

    def keep(http_response: Any, model: Any, **_: Any) -> None:
        if not model.has_streaming_output:
            captured[model.name] = http_response.content

    lam.meta.events.register("after-call.lambda", keep)
    with stub_lambda() as stub:
        stub.add_function("f", echo, versions={"1": echo}, aliases={"live": "1"},
                          environment={"A": "b"})
        service = stub._service
        for operation, params in [
                ("GetFunctionConfiguration", {"FunctionName": "f"}),
                ("GetFunction", {"FunctionName": "f", "Qualifier": "live"}),
                ("ListAliases", {"FunctionName": "f"}),
                ("ListVersionsByFunction", {"FunctionName": "f", "MaxItems": 1}),
                ("GetAlias", {"FunctionName": "f", "Name": "live"}),
                ("GetAccountSettings", {})]:
            getattr(lam, dispatch.xform_name(operation))(**params)
            request = serialised(operation, params)
            answer = dispatch.answer(service, operation, request["method"], request["url"],
                                     request["headers"], request["body"], REGION, None,
                                     source="server")
            assert answer is not None
            assert answer.body == captured[operation], operation
        request = serialised("Invoke", {"FunctionName": "f", "Payload": b'{"x": 1}'})
        answer = dispatch.answer(service, "Invoke", "POST", request["url"], request["headers"],
                                 request["body"], REGION, None, source="server")
        assert answer is not None
        assert (answer.status, answer.body) == (200, b'{"x": 1}')
        assert answer.headers["X-Amz-Executed-Version"] == "$LATEST"
        assert [c.source for c in stub.api_calls][-1] == "server"


def test_raw_errors_bad_json_and_not_emulated() -> None:
    with stub_lambda(functions={"f": echo}, strict=False) as stub:
        service = stub._service
        request = serialised("UpdateAlias", {"FunctionName": "f", "Name": "a"})
        answer = dispatch.answer(service, "UpdateAlias", "PUT", request["url"], {},
                                 b"{not json", REGION, None, source="server")
        assert answer is not None
        assert answer.status == 400
        assert answer.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
        missing = dispatch.answer(service, "GetFunction", "GET", f"{HOST}/2015-03-31/functions/"
                                  "nope", {}, b"", REGION, None, source="server")
        assert missing is not None and missing.status == 404
        with pytest.raises(errors.NotEmulatedError) as caught:
            dispatch.answer(service, "DeleteFunction", "DELETE",
                            f"{HOST}/2015-03-31/functions/f", {}, b"", REGION, None,
                            source="server")
        status, _, body = caught.value.wire()
        assert status == 501 and b"DeleteFunction" in body
        with pytest.raises(ValueError, match="not an operation"):
            dispatch.answer(service, "Nope", "GET", HOST, {}, b"", REGION, None)


# -- bad input to the writes ------------------------------------------------------------------

def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_alias_writes_refuse_what_aws_refuses() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", echo, versions={"1": echo, "2": echo, "3": echo})
        code, message = _error(lambda: lam.create_alias(FunctionName="f", Name="a",
                                                        FunctionVersion="9"))
        assert (code, message) == ("ResourceNotFoundException", f"Function not found: {ARN}:f:9")
        code, _ = _error(lambda: lam.create_alias(
            FunctionName="f", Name="a", FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}}))
        assert code == "InvalidParameterValueException"
        code, _ = _error(lambda: lam.create_alias(
            FunctionName="f", Name="a", FunctionVersion="$LATEST",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}}))
        assert code == "InvalidParameterValueException"
        code, _ = _error(lambda: lam.create_alias(
            FunctionName="f", Name="a", FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}}))
        assert code == "InvalidParameterValueException"
        code, _ = _error(lambda: lam.create_alias(FunctionName="f", Name="123",
                                                  FunctionVersion="1"))
        assert code == "ValidationException"
        created = lam.create_alias(FunctionName="f", Name="a", FunctionVersion="1")
        lam.update_alias(FunctionName="f", Name="a", Description="changed")
        code, _ = _error(lambda: lam.update_alias(FunctionName="f", Name="a",
                                                  RevisionId=created["RevisionId"]))
        assert code == "PreconditionFailedException"
        code, _ = _error(lambda: lam.update_alias(FunctionName="f", Name="nope",
                                                  FunctionVersion="1"))
        assert code == "ResourceNotFoundException"
        assert stub["f"].aliases == {"a": "1"}


def test_configuration_writes_refuse_bad_values_and_what_is_not_emulated() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}, strict=False) as stub:
        code, message = _error(lambda: lam.update_function_configuration(FunctionName="f",
                                                                         Timeout=901))
        assert code == "ValidationException" and "less than or equal to 900" in message
        with pytest.raises(NotEmulatedError, match="Runtime"):
            lam.update_function_configuration(FunctionName="f", Runtime="nodejs20.x")
        code, _ = _error(lambda: lam.put_function_event_invoke_config(
            FunctionName="f", MaximumRetryAttempts=5))
        assert code == "ValidationException"
        code, _ = _error(lambda: lam.put_function_event_invoke_config(
            FunctionName="f", DestinationConfig={"OnSuccess": {"Destination": "not-an-arn"}}))
        assert code == "InvalidParameterValueException"
        code, _ = _error(lambda: lam.list_tags(Resource="f"))
        assert code == "ValidationException"
        code, _ = _error(lambda: lam.list_functions(Marker="bogus"))
        assert code == "InvalidParameterValueException"
        code, _ = _error(lambda: lam.get_function(FunctionName="f:" + "q" * 200))
        assert code == "ValidationException"
        code, _ = _error(lambda: lam.put_function_recursion_config(FunctionName="f",
                                                                   RecursiveLoop="Sometimes"))
        assert code == "ValidationException"
        assert stub["f"].timeout == 3
        assert stub["f"].maximum_retry_attempts == 2


@pytest.mark.parametrize(("aliases", "match"), [
    ({"w": {"1": 0.5, "2": 0.4}}, "adding up to 1"),
    ({"w": {"1": 0.5, "7": 0.5}}, "not declared"),
    ({"w": {"1": 0.2, "2": 0.2, "3": 0.6}}, "one or two versions"),
    ({"w": {"$LATEST": 0.5, "1": 0.5}}, r"\$LATEST is not supported"),
    ({"w": {"1": "half", "2": 0.5}}, "adding up to 1"),
    ({"w": {}}, "one or two versions"),
])
def test_weighted_alias_declarations_refuse_bad_weights(aliases: Any, match: str) -> None:
    with stub_lambda() as stub, pytest.raises(ValueError, match=match):
        stub.add_function("f", echo, versions={"1": echo, "2": echo, "3": echo},
                          aliases=aliases)


def test_expect_missing_refuses_declared_names_and_bad_types() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        with pytest.raises(ValueError, match="'f' is declared"):
            stub.expect_missing("f")
        with pytest.raises(TypeError):
            stub.expect_missing(3)  # type: ignore[arg-type]


# -- concurrency ------------------------------------------------------------------------------

def test_concurrent_writes_and_invokes_stay_consistent() -> None:
    lam = client()
    failures: list[BaseException] = []
    published: list[str] = []
    with stub_lambda(seed=3) as stub:
        stub.add_function("f", echo, versions={"1": echo, "2": echo},
                          aliases={"w": {"1": 0.5, "2": 0.5}})

        def worker(index: int) -> None:
            try:
                for step in range(20):
                    if index % 2:
                        lam.update_function_configuration(FunctionName="f",
                                                          Timeout=10 + index * 20 + step)
                        published.append(lam.publish_version(FunctionName="f")["Version"])
                    else:
                        executed = lam.invoke(FunctionName="f", Qualifier="w")["ExecutedVersion"]
                        assert executed in ("1", "2")
                        lam.put_function_concurrency(FunctionName="f",
                                                     ReservedConcurrentExecutions=500)
                        lam.get_function(FunctionName="f")
            except BaseException as error:  # reported below
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        versions = [v["Version"] for page in lam.get_paginator(
            "list_versions_by_function").paginate(FunctionName="f") for v in page["Versions"]]
    assert failures == []
    numbers = [int(v) for v in versions[1:]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(published) <= set(versions)
    assert len([c for c in stub.api_calls if c.operation != "ListVersionsByFunction"]) == 320
    assert all(c.error is None for c in stub.api_calls)


# -- lifecycle --------------------------------------------------------------------------------

def test_many_start_stop_cycles_leave_nothing_and_records_restart() -> None:
    lam = client()
    stub = stub_lambda(functions={"f": echo})
    for _ in range(100):
        with stub:
            lam.get_function(FunctionName="f")
            lam.tag_resource(Resource=f"{ARN}:f", Tags={"n": "1"})
        assert [c.operation for c in stub.api_calls] == ["GetFunction", "TagResource"]
    handlers = [h for h in lam.meta.events._emitter._handlers.prefix_search(
        "before-send.lambda.GetFunction") if "lambda_stub" in getattr(h, "__module__", "")
        or "pytest_lambda_stub" in repr(h)]
    assert handlers == []
    with pytest.raises(Exception, match="credentials"):
        lam.get_function(FunctionName="f")  # no stub: botocore signs and would send it


def test_nested_stubs_answer_from_the_innermost() -> None:
    lam = client()
    with stub_lambda(functions={"outer": echo}) as outer:
        with stub_lambda(functions={"inner": echo}, strict=False) as inner:
            assert lam.get_function(FunctionName="inner")["Configuration"]["FunctionName"] \
                == "inner"
            with pytest.raises(lam.exceptions.ResourceNotFoundException):
                lam.get_function(FunctionName="outer")
        assert lam.get_function(FunctionName="outer")["Configuration"]["FunctionName"] == "outer"
    assert len(inner.api_calls) == 2 and len(outer.api_calls) == 1


def test_a_handler_can_call_the_api_about_itself() -> None:
    def introspect(event: Any, context: Any) -> Any:
        own = boto3.client("lambda", region_name=REGION)
        config = own.get_function_configuration(FunctionName=context.function_name)
        own.tag_resource(Resource=context.invoked_function_arn, Tags={"seen": "yes"})
        return config["Timeout"]

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("self-aware", introspect, timeout=42)
        assert json.loads(lam.invoke(FunctionName="self-aware")["Payload"].read()) == 42
        assert lam.list_tags(Resource=f"{ARN}:self-aware")["Tags"] == {"seen": "yes"}


def test_start_and_stop_on_other_threads_leave_nothing_behind() -> None:
    lam = client()
    stub = stub_lambda(functions={"f": echo})
    for _ in range(10):
        starter = threading.Thread(target=stub.start)
        starter.start()
        starter.join(30)
        assert lam.get_function(FunctionName="f")["Configuration"]["FunctionName"] == "f"
        stopper = threading.Thread(target=stub.stop)
        stopper.start()
        stopper.join(30)
        assert not stub.active
    with pytest.raises(Exception, match="credentials"):
        lam.list_functions()


def test_raw_payload_through_a_response_stream() -> None:
    from pytest_lambda_stub import RawPayload

    lam = client()
    with stub_lambda(functions={"f": lambda e, c: RawPayload(b"<not json>")}):
        events = list(lam.invoke_with_response_stream(FunctionName="f")["EventStream"])
    chunks = [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e]
    assert b"".join(chunks) == b"<not json>"
    assert events[-1]["InvokeComplete"] == {}
