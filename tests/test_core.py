"""The core: declared handlers answering real boto3 clients through botocore's whole pipeline."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from pytest_lambda_stub import LambdaContext, LambdaStub, StrictModeError, stub_lambda
from tests.helpers import REGION, client, payload

ACCOUNT = "123456789012"


def echo(event: Any, context: Any) -> Any:
    return event


def test_invoke_runs_the_handler_and_returns_its_result() -> None:
    lam = client()
    with stub_lambda() as stub:
        @stub.function("resize-image")
        def resize(event: Any, context: Any) -> Any:
            return {"width": event["width"] // 2}

        response = lam.invoke(FunctionName="resize-image", Payload=json.dumps({"width": 640}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert payload(response) == {"width": 320}
    assert stub["resize-image"].invocations[0].event == {"width": 640}
    assert stub["resize-image"].call_count == 1
    assert stub["resize-image"].called


def test_request_id_matches_the_context_and_the_record() -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: c.aws_request_id}) as stub:
        response = lam.invoke(FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert payload(response) == request_id
    assert stub.invocations[0].request_id == request_id
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("result, wire", [
    (None, b"null"), ("abc", b'"abc"'), (True, b"true"), ([1, 2], b"[1, 2]"), (1, b"1"),
    ({"a": 1, "b": [1]}, b'{"a": 1, "b": [1]}'),
])
def test_results_are_json_with_the_runtime_separators(result: Any, wire: bytes) -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: result}):
        assert lam.invoke(FunctionName="f")["Payload"].read() == wire


@pytest.mark.parametrize("sent, event", [
    (None, {}), (b"", {}), (b'{"a": 1}', {"a": 1}), ('{"a": "é"}', {"a": "é"}),
    (io.BytesIO(b'{"f": 1}'), {"f": 1}), (b"true", True), (b"1", 1), (b'"s"', "s"),
    (b"null", None), (b"[1, 2]", [1, 2]),
])
def test_payload_forms(sent: Any, event: Any) -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        kwargs = {} if sent is None else {"Payload": sent}
        lam.invoke(FunctionName="f", **kwargs)
    assert stub["f"].invocations[0].event == event


def test_context_has_the_runtime_types() -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> None:
        seen["context"] = context
        seen["remaining"] = context.get_remaining_time_in_millis()

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("ctx", handler, timeout=30, memory_size=512)
        lam.invoke(FunctionName="ctx")
    context = seen["context"]
    assert isinstance(context, LambdaContext)
    assert context.function_name == "ctx"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ctx"
    assert context.memory_limit_in_mb == "512"
    assert context.log_group_name == "/aws/lambda/ctx"
    assert "/[$LATEST]" in context.log_stream_name
    assert context.identity.cognito_identity_id is None
    assert context.identity.cognito_identity_pool_id is None
    assert context.client_context is None
    assert context.tenant_id is None
    assert 29000 < seen["remaining"] <= 30000
    assert isinstance(seen["remaining"], int)


def test_client_context_is_decoded_for_the_handler() -> None:
    seen: dict[str, Any] = {}
    data = {"client": {"app_title": "shop", "installation_id": "i-1"}, "custom": {"k": "v"},
            "env": {"locale": "en"}}
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: seen.setdefault("cc", c.client_context)}) as stub:
        lam.invoke(FunctionName="f",
                   ClientContext=base64.b64encode(json.dumps(data).encode()).decode())
    client_context = seen["cc"]
    assert client_context.client.app_title == "shop"
    assert client_context.client.installation_id == "i-1"
    assert client_context.client.app_version_code is None
    assert client_context.custom == {"k": "v"}
    assert client_context.env == {"locale": "en"}
    assert stub.invocations[0].client_context == data


def test_lambda_context_can_be_built_for_unit_tests() -> None:
    context = LambdaContext(function_name="resize", timeout=1, memory_limit_in_mb=256)
    assert context.memory_limit_in_mb == "256"
    assert context.invoked_function_arn.endswith(":function:resize")
    assert 0 < context.get_remaining_time_in_millis() <= 1000


# -- names, versions, aliases --------------------------------------------------------------

@pytest.fixture
def versioned() -> Any:
    stub = stub_lambda()
    def answer(body: str) -> Any:
        return lambda event, context: [body, context.invoked_function_arn]

    stub.add_function("fn", answer("latest"), versions={"1": answer("v1"), "2": answer("v2")},
                      aliases={"live": "1", "beta": "$LATEST"})
    with stub:
        yield stub


@pytest.mark.parametrize("name, qualifier, version, body, arn_suffix", [
    ("fn", None, "$LATEST", "latest", ""),
    ("fn", "1", "1", "v1", ":1"),
    ("fn:1", None, "1", "v1", ":1"),
    ("fn:live", None, "1", "v1", ":live"),
    ("fn", "live", "1", "v1", ":live"),
    ("fn:$LATEST", None, "$LATEST", "latest", ":$LATEST"),
    ("fn", "beta", "$LATEST", "latest", ":beta"),
    (f"{ACCOUNT}:function:fn", None, "$LATEST", "latest", ""),
    (f"{ACCOUNT}:function:fn:2", None, "2", "v2", ":2"),
    (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn", None, "$LATEST", "latest", ""),
    (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:live", "live", "1", "v1", ":live"),
])
def test_name_forms_versions_and_aliases(versioned: LambdaStub, name: str, qualifier: str | None,
                                         version: str, body: str, arn_suffix: str) -> None:
    kwargs = {"Qualifier": qualifier} if qualifier else {}
    response = client().invoke(FunctionName=name, **kwargs)
    assert response["ExecutedVersion"] == version
    assert payload(response) == [body, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn{arn_suffix}"]
    assert versioned.invocations[-1].executed_version == version


@pytest.mark.parametrize("name, qualifier, message", [
    ("nope", None, f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope:$LATEST"),
    ("fn", "7", f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:7"),
    ("fn:gone", None, f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:gone"),
    ("fn", "$latest", f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn:$latest"),
    ("x" * 65, None,
     f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{'x' * 65}:$LATEST"),
])
def test_unknown_function_version_or_alias_is_404(name: str, qualifier: str | None,
                                                  message: str) -> None:
    lam = client()
    with stub_lambda(strict=False) as stub:
        stub.add_function("fn", echo, versions={"1": echo}, aliases={"live": "1"})
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            lam.invoke(FunctionName=name, **kwargs)
    error = caught.value.response
    assert error["Error"] == {"Code": "ResourceNotFoundException", "Message": message}
    assert error["Type"] == "User"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert stub.invocations[-1].error_code == "ResourceNotFoundException"
    assert not stub.invocations[-1].ran


def test_arn_from_another_region_is_not_reachable() -> None:
    lam = client()
    with stub_lambda(functions={"fn": echo}):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            lam.invoke(FunctionName=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn")
    assert caught.value.response["Error"]["Message"] == (
        f"Functions from 'us-east-1' are not reachable in this region ('{REGION}')")


def test_qualifier_conflict() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("fn", echo, versions={"1": echo})
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
            lam.invoke(FunctionName="fn:1", Qualifier="2")
    assert caught.value.response["Error"]["Message"] == (
        "The derived qualifier from the function name does not match the specified qualifier.")
    assert caught.value.response["Type"] == "User"


def test_function_region_scopes_where_it_answers() -> None:
    with stub_lambda(strict=False) as stub:
        stub.add_function("fn", echo, region="us-west-2")
        assert client("us-west-2").invoke(FunctionName="fn")["StatusCode"] == 200
        with pytest.raises(ClientError):
            client("eu-west-1").invoke(FunctionName="fn")
        assert stub["fn"].arn == f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:fn"


# -- invocation types ----------------------------------------------------------------------

def test_event_returns_202_and_runs_the_handler() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        response = lam.invoke(FunctionName="f", InvocationType="Event", Payload=b'{"a": 1}')
    assert response["StatusCode"] == 202
    assert "ExecutedVersion" not in response
    assert response["Payload"].read() == b""
    assert stub["f"].call_count == 1
    assert stub["f"].invocations[0].invocation_type == "Event"
    assert stub["f"].invocations[0].request_id == response["ResponseMetadata"]["RequestId"]


def test_dry_run_returns_204_and_runs_nothing() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        response = lam.invoke(FunctionName="f", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert "ExecutedVersion" not in response
    assert stub["f"].call_count == 0
    assert stub["f"].invocations[0].status_code == 204
    assert not stub["f"].invocations[0].ran


# -- function errors and logs --------------------------------------------------------------

def failing(event: Any, context: Any) -> None:
    raise Exception("Handler fails")


def test_handler_exception_is_an_unhandled_function_error() -> None:
    lam = client()
    with stub_lambda(functions={"f": failing}) as stub:
        response = lam.invoke(FunctionName="f")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = payload(response)
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "Handler fails"
    assert body["errorType"] == "Exception"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert len(body["stackTrace"]) == 1
    assert body["stackTrace"][0].startswith(f'  File "{__file__}", line ')
    assert body["stackTrace"][0].endswith(', in failing\n    raise Exception("Handler fails")\n')
    record = stub.invocations[0]
    assert record.function_error == "Unhandled"
    assert record.error_type == "Exception"
    assert record.result == body
    assert record.ran


def test_sys_exit_is_a_runtime_exit_error() -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: sys.exit()}):
        response = lam.invoke(FunctionName="f")
    body = payload(response)
    assert body == {"errorType": "Runtime.ExitError", "errorMessage":
                    f"RequestId: {response['ResponseMetadata']['RequestId']} Error: Runtime "
                    f"exited without providing a reason"}


def test_unserialisable_result_is_a_marshal_error() -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: {1, 2}}):
        response = lam.invoke(FunctionName="f")
    body = payload(response)
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "Unable to marshal response: Object of type set is not "
                                    "JSON serializable",
                    "errorType": "Runtime.MarshalError",
                    "requestId": response["ResponseMetadata"]["RequestId"], "stackTrace": []}


def test_log_tail_has_start_output_logging_end_and_report() -> None:
    logger = logging.getLogger("handler-test")
    logger.setLevel(logging.INFO)

    def handler(event: Any, context: Any) -> str:
        print("printed line")
        logger.info("logged %s", "line")
        return "ok"

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", handler, memory_size=256)
        response = lam.invoke(FunctionName="f", LogType="Tail")
        second = lam.invoke(FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    log = base64.b64decode(response["LogResult"]).decode()
    lines = log.split("\n")
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1] == "printed line"
    level, stamp, logged_id, message = lines[2].split("\t")
    assert (level, logged_id, message) == ("[INFO]", request_id, "logged line")
    assert stamp.endswith("Z") and "T" in stamp
    assert lines[3] == f"END RequestId: {request_id}"
    assert lines[4].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "\tMemory Size: 256 MB\t" in lines[4]
    assert "Init Duration" in lines[4]  # the first run of a version is a cold start
    assert log.endswith("\t\n")
    assert stub.invocations[0].log == log
    assert "LogResult" not in second
    assert "Init Duration" not in stub.invocations[1].log


def test_log_tail_is_the_last_4_kb() -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: print("x" * 10000)}) as stub:
        response = lam.invoke(FunctionName="f", LogType="Tail")
    tail = base64.b64decode(response["LogResult"])
    assert len(tail) == 4096
    assert stub.invocations[0].log.encode().endswith(tail)


def test_function_error_is_logged_with_nbsp_indented_traceback() -> None:
    lam = client()
    with stub_lambda(functions={"f": failing}):
        response = lam.invoke(FunctionName="f", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] Exception: Handler fails\nTraceback (most recent call last):\n" in log
    assert '\u00a0\u00a0File "' in log
    assert '\u00a0\u00a0\u00a0\u00a0raise Exception("Handler fails")' in log


def test_handler_output_goes_to_its_log_not_the_callers_stdout(
        capsys: pytest.CaptureFixture[str]) -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: print("from the handler")}) as stub:
        print("from the test")
        lam.invoke(FunctionName="f")
    out = capsys.readouterr().out
    assert out == "from the test\n"
    assert "from the handler" in stub.invocations[0].log


def test_output_of_a_logger_bound_to_an_earlier_stdout_is_captured() -> None:
    stream = sys.stdout
    logger = logging.getLogger("module-level-powertools-like")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('{"level": "%(levelname)s", "msg": "%(message)s"}'))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        lam = client()
        with stub_lambda(functions={"f": lambda e, c: logger.info("structured")}) as stub:
            lam.invoke(FunctionName="f")
        assert '{"level": "INFO", "msg": "structured"}' in stub.invocations[0].log
    finally:
        logger.removeHandler(handler)


def test_logs_of_concurrent_handlers_never_mix() -> None:
    barrier = threading.Barrier(4)

    def handler(event: Any, context: Any) -> None:
        barrier.wait(5)
        for _ in range(50):
            print(f"line from {event['n']}")

    with stub_lambda(functions={"f": handler}) as stub:
        threads = [threading.Thread(target=client().invoke,
                                    kwargs={"FunctionName": "f",
                                            "Payload": json.dumps({"n": n})}) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert len(stub.invocations) == 4
    for record in stub.invocations:
        lines = [line for line in record.log.splitlines() if line.startswith("line from")]
        assert lines == [f"line from {record.event['n']}"] * 50


def test_environment_is_set_while_the_handler_runs_and_restored() -> None:
    os.environ.pop("STUB_TEST_VAR", None)
    os.environ["STUB_EXISTING"] = "before"
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", lambda e, c: [os.environ.get("STUB_TEST_VAR"),
                                             os.environ.get("STUB_EXISTING"),
                                             os.environ.get("AWS_LAMBDA_FUNCTION_NAME")],
                          environment={"STUB_TEST_VAR": "1", "STUB_EXISTING": "during"})
        assert payload(lam.invoke(FunctionName="f")) == ["1", "during", "f"]
    assert "STUB_TEST_VAR" not in os.environ
    assert os.environ.pop("STUB_EXISTING") == "before"


# -- declaring ---------------------------------------------------------------------------

def test_dotted_handler_path_is_imported_on_first_invocation(tmp_path: Any,
                                                             monkeypatch: Any) -> None:
    package = tmp_path / "stubapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handlers.py").write_text(textwrap.dedent("""
        IMPORTED = True
        def audit(event, context):
            return {"audited": event}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    lam = client()
    with stub_lambda(functions={"audit": "stubapp.handlers.audit"}) as stub:
        assert "stubapp.handlers" not in sys.modules
        assert payload(lam.invoke(FunctionName="audit", Payload=b"1")) == {"audited": 1}
        stub.add_function("missing-module", "stubapp.nothere.handler")
        stub.add_function("missing-attr", "stubapp.handlers.nothere")
        first = lam.invoke(FunctionName="missing-module")
        second = lam.invoke(FunctionName="missing-attr")
    assert payload(first) == {
        "errorMessage": "Unable to import module 'stubapp.nothere': No module named "
                        "'stubapp.nothere'",
        "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    assert payload(second) == {
        "errorMessage": "Handler 'nothere' missing on module 'stubapp.handlers'",
        "errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}


def test_returns_declares_a_fixed_result() -> None:
    with stub_lambda() as stub:
        stub.add_function("fixed", returns={"ok": True})
        assert payload(client().invoke(FunctionName="fixed")) == {"ok": True}


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give a handler"),
    ({"handler": echo, "returns": 1}, "not both"),
    ({"handler": echo, "timeout": 0}, "timeout must be a number from 1 to 900"),
    ({"handler": echo, "aliases": {"live": "3"}}, "alias 'live' points to version '3'"),
    ({"handler": echo, "versions": {"latest": echo}}, "published versions are numbered"),
    ({"handler": 42}, "a handler must be a callable"),
])
def test_bad_declarations_are_refused_clearly(kwargs: dict[str, Any], message: str) -> None:
    stub = stub_lambda()
    with pytest.raises((TypeError, ValueError), match=message):
        stub.add_function("f", **kwargs)


def test_getitem_names_the_declared_functions() -> None:
    stub = stub_lambda(functions={"resize-image": echo})
    assert "resize-image" in stub
    assert "nope" not in stub
    with pytest.raises(KeyError, match="declared: 'resize-image'; did you mean 'resize-image'"):
        stub["resize-imag"]


# -- reaching every client ----------------------------------------------------------------

def test_clients_created_before_the_stub_and_from_every_factory_are_reached() -> None:
    before = boto3.client("lambda", region_name=REGION)
    session_client = boto3.Session().client("lambda", region_name=REGION)
    botocore_client = botocore.session.get_session().create_client("lambda", region_name=REGION)
    with stub_lambda(functions={"f": echo}) as stub:
        for lam in (before, session_client, botocore_client):
            lam.invoke(FunctionName="f", Payload=b"1")
    assert stub["f"].call_count == 3


def test_a_session_created_before_the_package_was_imported_is_reached() -> None:
    script = textwrap.dedent("""
        import os, json
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        import boto3
        session = boto3.Session(region_name="eu-west-1")
        early = session.client("lambda")
        assert "pytest_lambda_stub" not in __import__("sys").modules
        from pytest_lambda_stub import stub_lambda
        with stub_lambda(functions={"f": lambda e, c: "answered"}) as stub:
            print(json.loads(early.invoke(FunctionName="f")["Payload"].read()))
            print(json.loads(session.client("lambda").invoke(FunctionName="f")["Payload"].read()))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ACCESS")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["answered", "answered"]


def test_no_credentials_are_needed() -> None:
    lam = client()
    assert lam._request_signer._credentials is None
    with stub_lambda(functions={"f": echo}):
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200


def test_after_stop_nothing_answers_and_records_stay_readable() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        lam.invoke(FunctionName="f")
    assert len(stub.invocations) == 1
    from pytest_lambda_stub.interception import hooks

    assert not hooks.is_installed()
    # Without the stub botocore needs credentials and would go to the network.
    with pytest.raises(Exception) as caught:
        lam.invoke(FunctionName="f")
    assert "credentials" in str(caught.value).lower() or "blocked" in str(caught.value)
    stub.start()
    assert stub.invocations == []
    stub.stop()


def test_nested_stubs_innermost_answers() -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: "outer"}) as outer:
        with stub_lambda(functions={"f": lambda e, c: "inner"}) as inner:
            assert payload(lam.invoke(FunctionName="f")) == "inner"
        assert payload(lam.invoke(FunctionName="f")) == "outer"
    assert len(outer.invocations) == 1 and len(inner.invocations) == 1


def test_a_handler_may_invoke_another_declared_function() -> None:
    lam = client()

    def outer(event: Any, context: Any) -> Any:
        inner = client().invoke(FunctionName="inner", Payload=json.dumps(event))
        return {"inner": payload(inner)}

    with stub_lambda(functions={"outer": outer, "inner": lambda e, c: e * 2}) as stub:
        assert payload(lam.invoke(FunctionName="outer", Payload=b"21")) == {"inner": 42}
    # In the order the requests arrived: the nested invoke after its caller.
    assert [r.function_name for r in stub.invocations] == ["outer", "inner"]


# -- strict mode and passthrough ---------------------------------------------------------------

def test_strict_context_manager_raises_for_swallowed_undeclared_calls() -> None:
    lam = client()
    with pytest.raises(StrictModeError) as caught:
        with stub_lambda(functions={"resize-image": echo}):
            try:
                lam.invoke(FunctionName="resize-imag")
            except ClientError:
                pass
    text = str(caught.value)
    assert "undeclared function 'resize-imag' was invoked once" in text
    assert "did you mean 'resize-image'" in text
    assert "declared functions: 'resize-image'" in text
    assert "strict=False" in text


def test_strict_does_not_mask_an_exception_already_propagating() -> None:
    lam = client()
    with pytest.raises(ZeroDivisionError):
        with stub_lambda():
            try:
                lam.invoke(FunctionName="nope")
            except ClientError:
                pass
            1 / 0  # noqa: B018


def test_passthrough_names_go_on_to_botocore() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}, passthrough=["real"]) as stub:
        with pytest.raises(Exception) as caught:
            lam.invoke(FunctionName="real")
        assert "credentials" in str(caught.value).lower()
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
    assert [r.function_name for r in stub.invocations] == ["f"]


def test_other_lambda_operations_are_answered_not_sent() -> None:
    lam = client()
    with stub_lambda(functions={"f": echo}):
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["f"]


# -- moto ---------------------------------------------------------------------------------------

def test_works_next_to_motos_mock_aws() -> None:
    moto = pytest.importorskip("moto")
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    try:
        with moto.mock_aws():
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket="stub-test-bucket", CreateBucketConfiguration={
                "LocationConstraint": REGION})
            lam = client()
            with stub_lambda(functions={"f": lambda e, c: "stubbed"}) as stub:
                assert payload(lam.invoke(FunctionName="f")) == "stubbed"
                s3.put_object(Bucket="stub-test-bucket", Key="k", Body=b"v")
                # The stub answers the API for declared functions; moto answers the rest.
                assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["f"]
                with pytest.raises(lam.exceptions.ResourceNotFoundException):
                    lam.get_function(FunctionName="declared-in-moto-only")
                assert stub.api_calls[-1].operation == "ListFunctions"  # moto answered the last
            assert s3.get_object(Bucket="stub-test-bucket", Key="k")["Body"].read() == b"v"
            assert stub["f"].call_count == 1
    finally:
        os.environ.pop("AWS_ACCESS_KEY_ID")
        os.environ.pop("AWS_SECRET_ACCESS_KEY")
