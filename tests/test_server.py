"""The loopback endpoint (``stub.serve()``), driven by raw HTTP requests and child processes:
routing, regions, byte-for-byte answers, records, the environment export, options and the
pytest entry points (ini, marker, xdist)."""

from __future__ import annotations

import http.client
import json
import os
import socket
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError

from pytest_lambda_stub import LambdaStub, OptionError, stub_lambda
from pytest_lambda_stub.server.lifecycle import ENV_VAR
from tests.helpers import client
from tests.loopback import comparable, invoke_path, request, run_python

pytest_plugins = ["pytester"]
serving = pytest.mark.lambda_stub(serve=True)


def echo(event: Any, context: Any) -> Any:
    print("echoing", event)
    return {"got": event, "version": context.function_version}


def boom(event: Any, context: Any) -> Any:
    raise ValueError("bad input")


@serving
def test_serve_answers_over_http_and_records_the_path(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    status, headers, body = request(lambda_stub.endpoint_url, "POST", invoke_path("echo"),
                                    b'{"n": 1}')
    assert status == 200
    assert json.loads(body) == {"got": {"n": 1}, "version": "$LATEST"}
    assert headers["x-amz-executed-version"] == "$LATEST"
    [record] = lambda_stub["echo"].invocations
    assert record.source == "loopback"
    assert record.region == "eu-west-1"  # from the SigV4 credential scope
    assert record.request_id == headers["x-amzn-requestid"]
    assert "[loopback]" in record.summary()


@serving
def test_unsigned_requests_are_in_us_east_1(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    status, _, _ = request(lambda_stub.endpoint_url, "POST", invoke_path("echo"), signed=False)
    assert status == 200
    assert lambda_stub["echo"].invocations[0].region == "us-east-1"


@serving
def test_answers_are_byte_for_byte_the_in_process_ones(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo, versions={"1": echo}, aliases={"live": "1"})
    lambda_stub.add_function("boom", boom)
    in_process = client()
    cases = [("echo", None, b'{"a": [1, 2]}'), ("echo", "live", b"[]"), ("boom", None, b"{}")]
    for name, qualifier, payload in cases:
        params: dict[str, Any] = {"FunctionName": name, "Payload": payload}
        if qualifier:
            params["Qualifier"] = qualifier
        here = in_process.invoke(**params)
        status, headers, body = request(lambda_stub.endpoint_url, "POST",
                                        invoke_path(name, qualifier), payload)
        assert status == here["StatusCode"]
        # Byte for byte, but for the request id (an error payload carries it).
        own_id = here["ResponseMetadata"]["RequestId"].encode()
        assert body.replace(headers["x-amzn-requestid"].encode(), b"<id>") \
            == here["Payload"].read().replace(own_id, b"<id>")
        assert comparable(headers) == comparable(here["ResponseMetadata"]["HTTPHeaders"])
    # A service error: same status, headers and error document.
    with pytest.raises(ClientError) as raised:
        in_process.invoke(FunctionName="echo", Qualifier="nope")
    status, headers, body = request(lambda_stub.endpoint_url, "POST", invoke_path("echo", "nope"))
    error = raised.value.response
    assert status == error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert comparable(headers) == comparable(error["ResponseMetadata"]["HTTPHeaders"])
    assert json.loads(body)["Message"] == error["Error"]["Message"]
    sources = [(r.function_name, r.source) for r in lambda_stub.invocations]
    assert sources == [(n, s) for n, *_ in [*cases, ("echo",)] for s in ("in-process", "loopback")]


@serving
def test_streaming_is_sent_chunked_frame_by_frame(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    status, headers, body = request(
        lambda_stub.endpoint_url, "POST",
        "/2021-11-15/functions/echo/response-streaming-invocations", b'{"s": 1}',
        headers={"X-Amz-Log-Type": "Tail"})
    assert status == 200
    assert headers["transfer-encoding"] == "chunked"
    assert headers["content-type"] == "application/vnd.amazon.eventstream"
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    events = [(m.headers[":event-type"], m.payload) for m in buffer]
    assert events[0] == ("PayloadChunk", b'{"got": {"s": 1}, "version": "$LATEST"}')
    assert events[1][0] == "InvokeComplete" and "LogResult" in json.loads(events[1][1])
    [record] = lambda_stub.invocations
    assert (record.operation, record.source) == ("InvokeWithResponseStream", "loopback")


@serving
def test_invoke_async_and_event_invokes(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    status, _, body = request(lambda_stub.endpoint_url, "POST",
                              "/2014-11-13/functions/echo/invoke-async/", b'{"a": 1}')
    assert (status, json.loads(body)) == (202, {"Status": 202})
    status, _, body = request(lambda_stub.endpoint_url, "POST", invoke_path("echo"), b"{}",
                              headers={"X-Amz-Invocation-Type": "Event"})
    assert (status, body) == (202, b"")
    assert [(r.operation, r.invocation_type, r.source) for r in lambda_stub.invocations] == [
        ("InvokeAsync", "Event", "loopback"), ("Invoke", "Event", "loopback")]


@serving
def test_failure_scripts_apply_over_http(lambda_stub: LambdaStub) -> None:
    function = lambda_stub.add_function("echo", echo)
    function.fail("TooManyRequestsException", Reason="CallerRateLimitExceeded")
    status, headers, body = request(lambda_stub.endpoint_url, "POST", invoke_path("echo"))
    assert status == 429
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert json.loads(body)["Reason"] == "CallerRateLimitExceeded"
    function.fail("ConnectionClosedError")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(lambda_stub.endpoint_url, "POST", invoke_path("echo"))
    assert [(r.error_code, r.source) for r in function.invocations] == [
        ("TooManyRequestsException", "loopback"), ("ConnectionClosedError", "loopback")]
    # The endpoint still answers afterwards.
    assert request(lambda_stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200


@serving
def test_in_process_clients_reading_the_exported_url_stay_in_process(
        lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    assert os.environ[ENV_VAR] == lambda_stub.endpoint_url
    in_process = client()  # created while serving: botocore reads AWS_ENDPOINT_URL_LAMBDA
    assert in_process.meta.endpoint_url == lambda_stub.endpoint_url
    assert in_process.invoke(FunctionName="echo")["StatusCode"] == 200
    events = list(in_process.invoke_with_response_stream(FunctionName="echo")["EventStream"])
    assert "InvokeComplete" in events[-1]
    assert [r.source for r in lambda_stub.invocations] == ["in-process", "in-process"]
    server = lambda_stub._server
    assert server is not None and server.requests == 0  # nothing reached the socket


def test_the_export_is_restored_after_and_nests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "http://before.invalid")
    with stub_lambda(serve=True) as outer:
        assert os.environ[ENV_VAR] == outer.endpoint_url
        with stub_lambda(serve=True) as inner:
            assert inner.endpoint_url != outer.endpoint_url
            assert os.environ[ENV_VAR] == inner.endpoint_url
        assert os.environ[ENV_VAR] == outer.endpoint_url
    assert os.environ[ENV_VAR] == "http://before.invalid"
    monkeypatch.delenv(ENV_VAR)
    with stub_lambda(serve=True):
        assert ENV_VAR in os.environ
    assert ENV_VAR not in os.environ


def test_export_can_be_turned_off() -> None:
    with stub_lambda(serve=True, export_endpoint=False) as stub:
        assert stub.endpoint_url.startswith("http://127.0.0.1:")
        assert ENV_VAR not in os.environ


def test_serve_after_start_and_port_closed_at_stop() -> None:
    stub = LambdaStub({"echo": echo})
    with pytest.raises(RuntimeError, match="needs a started stub"):
        stub.serve()
    with pytest.raises(RuntimeError, match="not serving"):
        stub.endpoint_url  # noqa: B018
    with stub:
        url = stub.serve()
        assert stub.serve() == url == stub.endpoint_url  # once per run
        assert request(url, "POST", invoke_path("echo"))[0] == 200
    with pytest.raises(RuntimeError, match="not serving"):
        stub.endpoint_url  # noqa: B018
    with pytest.raises(ConnectionRefusedError):
        request(url, "POST", invoke_path("echo"))


def test_bad_option_values_name_the_option() -> None:
    with pytest.raises(OptionError, match="'serve' must be True or False"):
        stub_lambda(serve="yes")
    with pytest.raises(OptionError, match="'export_endpoint' must be True, False or None"):
        stub_lambda(export_endpoint="auto")


@serving
def test_unknown_paths_and_unanswered_requests_fail_clearly(lambda_stub: LambdaStub) -> None:
    lambda_stub.configure(lambda_stub.options.replace({"passthrough": ["elsewhere"]}))
    status, headers, body = request(lambda_stub.endpoint_url, "GET", "/no/such/thing")
    assert (status, headers["x-amzn-errortype"]) == (404, "UnknownOperationException")
    assert "GET /no/such/thing is no operation of the Lambda API" in json.loads(body)["message"]
    status, _, body = request(lambda_stub.endpoint_url, "POST", invoke_path("elsewhere"))
    assert status == 400
    assert "'elsewhere' is passthrough" in json.loads(body)["message"]
    assert lambda_stub.invocations == []


def test_child_process_reaches_the_stub_through_the_export() -> None:
    with stub_lambda({"echo": echo}, serve=True) as stub:
        done = run_python("""
            import boto3
            print(boto3.client("lambda").invoke(FunctionName="echo")["Payload"].read().decode())
        """)
        assert json.loads(done.stdout) == {"got": {}, "version": "$LATEST"}
        assert [r.source for r in stub.invocations] == ["loopback"]


PLUGIN_TEST = """
import json, os, subprocess, sys

def echo(event, context):
    return {"pid": os.getpid()}

def test_child(lambda_stub, tmp_path):
    lambda_stub.add_function("echo", echo)
    script = "import boto3; print(boto3.client('lambda').invoke(FunctionName='echo')['StatusCode'])"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b",
               AWS_DEFAULT_REGION="eu-west-1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == "200", out.stderr
    assert [r.source for r in lambda_stub.invocations] == ["loopback"]
    with open(os.environ["PORTS_FILE"], "a") as ports:
        ports.write(lambda_stub.endpoint_url + "\\n")
"""


def test_ini_option_serves_the_fixture(pytester: pytest.Pytester,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTS_FILE", str(pytester.path / "ports.txt"))
    pytester.makeini("[pytest]\nlambda_stub_serve = true\n")
    pytester.makepyfile(test_user=PLUGIN_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_ini_export_endpoint_false_keeps_children_away(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlambda_stub_serve = true\nlambda_stub_export_endpoint = false\n")
    pytester.makepyfile(test_user="""
import os
def test_it(lambda_stub):
    assert lambda_stub.endpoint_url
    assert "AWS_ENDPOINT_URL_LAMBDA" not in os.environ
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlambda_stub_export_endpoint = sometimes\n")
    pytester.makepyfile(test_user="def test_it(): pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert "lambda_stub_export_endpoint must be true, false or auto" in str(result.stderr)


def test_xdist_workers_each_serve_on_their_own_port(pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ports = pytester.path / "ports.txt"
    monkeypatch.setenv("PORTS_FILE", str(ports))
    pytester.makepyfile(test_user="import pytest\npytestmark = pytest.mark.lambda_stub(serve=True)\n"
                        + PLUGIN_TEST + "\n" + "\n".join(
                            f"def test_child_{i}(lambda_stub, tmp_path):\n"
                            f"    test_child(lambda_stub, tmp_path)\n" for i in range(3)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly",
                                           "-n", "2")
    result.assert_outcomes(passed=4)
    urls = ports.read_text().split()
    assert len(urls) == 4
    assert len(set(urls)) == 4  # every stub its own port, whichever worker ran it


def test_the_port_is_free_for_anyone_after_stop() -> None:
    with stub_lambda(serve=True) as stub:
        port = int(stub.endpoint_url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # nothing holds it any more


def test_every_entry_point_serves() -> None:
    @stub_lambda({"echo": echo}, serve=True, export_endpoint=False)
    def decorated() -> str:
        from pytest_lambda_stub.stub import decorator_stub

        stub = decorator_stub(decorated)
        assert stub is not None
        assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200
        return stub.endpoint_url

    url = decorated()
    with pytest.raises(ConnectionRefusedError):
        request(url, "POST", invoke_path("echo"))
    with stub_lambda({"echo": echo}, serve=True, export_endpoint=False) as stub:
        assert request(stub.endpoint_url, "POST", invoke_path("echo"))[0] == 200
        assert [r.source for r in stub.invocations] == ["loopback"]


@pytest.mark.lambda_stub(serve=True, event_delivery="manual")
def test_queued_events_keep_the_path_they_came_by(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    status, _, _ = request(lambda_stub.endpoint_url, "POST", invoke_path("echo"), b'{"e": 1}',
                           headers={"X-Amz-Invocation-Type": "Event"})
    assert status == 202 and lambda_stub.invocations == []
    client().invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"e": 2}')
    delivered = lambda_stub.drain()  # delivered from the test's thread
    assert [(r.event, r.source) for r in delivered] == [({"e": 1}, "loopback"),
                                                        ({"e": 2}, "in-process")]


def test_strict_mode_and_the_report_cover_loopback_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
import os, subprocess, sys
import pytest

@pytest.mark.lambda_stub(serve=True, report="always")
def test_child_calls_an_undeclared_function(lambda_stub):
    lambda_stub.add_function("known", lambda event, context: "ok")
    script = ("import boto3\\n"
              "c = boto3.client('lambda')\\n"
              "c.invoke(FunctionName='known')\\n"
              "try:\\n    c.invoke(FunctionName='unknown')\\nexcept Exception: pass\\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b",
               AWS_DEFAULT_REGION="eu-west-1")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-rA")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*undeclared function 'unknown' was invoked once*",
        "*1. known [[]$LATEST[]] RequestResponse [[]loopback[]] attempt=1 status=200 ok*",
        "*2. unknown [[]-[]] RequestResponse [[]loopback[]] attempt=1 status=404*",
    ])
