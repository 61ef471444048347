"""Real open-source projects that invoke Lambda through boto3, run against the stub only.

Each test runs the project's own code (installed from PyPI by the ``test`` extra): Zappa's
``@task`` dispatch from inside a handler, its ``Zappa`` core (``invoke_lambda_function`` with
``LogType="Tail"``, ``get_function``, versions, ``update_lambda_configuration``), its CLI's
``zappa invoke`` in a child process against the loopback endpoint, lambda-warmer-py's fan-out,
and Chalice's ``chalice invoke`` (its error formatting, and its read timeout without retries).

Fake credentials are set and ``AWS_ENDPOINT_URL`` points at a local HTTP server that must receive
nothing: whatever the stub did not answer would land there (and the suite's network guard blocks
anything else).
"""

from __future__ import annotations

import base64
import http.server
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from pytest_lambda_stub import LambdaStub, stub_lambda

pytest.importorskip("zappa")
pytest.importorskip("lambdawarmer")
pytest.importorskip("chalice")

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


class Sentinel:
    """An HTTP server on 127.0.0.1 that records every request it gets (there must be none)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                requests.append((self.command, self.path))
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def sentinel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sentinel]:
    """Fake credentials, a region, and every endpoint pointed at a server that must stay idle."""
    server = Sentinel()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    # boto3's default session caches the credentials it resolves: keep these out of other tests.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    try:
        yield server
    finally:
        server.close()
    assert server.requests == []


@pytest.fixture
def isolated_modules() -> Iterator[None]:
    """Zappa's handler and lambda-warmer keep process-wide state (a singleton, a root-logger
    handler, module globals read at import): take out what a test imported, restore logging."""
    before = set(sys.modules)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            if name.split(".")[0] in ("zappa", "zappa_settings", "zappa_trial_app",
                                      "lambdawarmer", "warm_app"):
                del sys.modules[name]
        root.setLevel(level)
        root.handlers[:] = handlers


ZAPPA_SETTINGS = """
    API_STAGE = "dev"
    PROJECT_NAME = "trial"
    APP_MODULE = "zappa_trial_app"
    APP_FUNCTION = "app"
    DJANGO_SETTINGS = None
    LOG_LEVEL = "INFO"
    DEBUG = True
    ENVIRONMENT_VARIABLES = {"GREETING": "hello"}
    BINARY_SUPPORT = False
    CONTEXT_HEADER_MAPPINGS = {}
    EXCEPTION_HANDLER = None
    AWS_EVENT_MAPPING = {}
    AWS_BOT_EVENT_MAPPING = {}
    COGNITO_TRIGGER_MAPPING = {}
"""

ZAPPA_APP = """
    import os

    from zappa.asynchronous import task


    @task
    def send_email(user):
        print(f"sending to {user} from {os.environ['AWS_LAMBDA_FUNCTION_NAME']}")
        return f"sent {user}"


    def app(environ, start_response):
        dispatched = send_email("ada")  # on Lambda: an Event invoke of this function
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [type(dispatched).__name__.encode()]
"""


def test_zappa_task_dispatches_an_event_invoke_from_its_handler(
        sentinel: Sentinel, isolated_modules: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "zappa_settings.py").write_text(textwrap.dedent(ZAPPA_SETTINGS))
    (tmp_path / "zappa_trial_app.py").write_text(textwrap.dedent(ZAPPA_APP))
    # Zappa's handler imports its settings and the app at the first call, not at import: the
    # code root must be on sys.path then (see the guide's Zappa recipe).
    monkeypatch.syspath_prepend(str(tmp_path))
    api_gateway_get = {"httpMethod": "GET", "path": "/", "headers": {"Host": "example.com"},
                       "queryStringParameters": None, "body": None, "requestContext": {},
                       "isBase64Encoded": False}
    with stub_lambda(strict=True) as stub:
        stub.add_function("web-app", "zappa.handler.lambda_handler", code_root=tmp_path)
        response = boto3.client("lambda").invoke(FunctionName="web-app",
                                                 Payload=json.dumps(api_gateway_get))
        answer = json.loads(response["Payload"].read())
    assert "FunctionError" not in response
    assert (answer["statusCode"], answer["body"]) == (200, "LambdaAsyncResponse")
    web, dispatched = stub["web-app"].invocations
    assert (web.invocation_type, dispatched.invocation_type) == ("RequestResponse", "Event")
    assert dispatched.event["command"] == "zappa.asynchronous.route_lambda_task"
    assert dispatched.event["task_path"] == "zappa_trial_app.send_email"
    assert dispatched.event["args"] == ["ada"]
    assert "sending to ada from web-app" in dispatched.log
    assert dispatched.trace_id.split(";")[0] == web.trace_id.split(";")[0]  # one chain


def test_zappa_core_invoke_and_update_configuration(
        sentinel: Sentinel, isolated_modules: None, tmp_path: Path) -> None:
    from zappa.core import Zappa

    # As Zappa packages it: its handler module at the root of the deployment package.
    (tmp_path / "handler.py").write_text(textwrap.dedent("""
        import os

        def lambda_handler(event, context):
            print("running", event["command"])
            if event["command"] == "boom":
                raise ValueError("bad command")
            return {"ran": event["command"], "new": os.environ.get("NEW")}
    """))
    with stub_lambda(strict=True) as stub:
        stub.add_function("trial-dev", "handler.lambda_handler", code_root=tmp_path,
                          environment={"REMOTE": "1"})
        zappa = Zappa(boto_session=boto3.Session(), load_credentials=True)
        zappa.credentials_arn = "arn:aws:iam::123456789012:role/trial-dev-ZappaLambdaExecutionRole"

        response = zappa.invoke_lambda_function(
            "trial-dev", json.dumps({"command": "app.hello"}), invocation_type="RequestResponse")
        tail = base64.b64decode(response["LogResult"]).decode()
        assert tail.startswith("START RequestId: ") and "running app.hello" in tail
        assert json.loads(response["Payload"].read()) == {"ran": "app.hello", "new": None}
        failed = zappa.invoke_lambda_function(
            "trial-dev", json.dumps({"command": "boom"}), invocation_type="RequestResponse")
        assert failed["FunctionError"] == "Unhandled"
        assert json.loads(failed["Payload"].read())["errorMessage"] == "bad command"
        queued = zappa.invoke_lambda_function("trial-dev", json.dumps({"command": "later"}))
        assert queued["StatusCode"] == 202 and "LogResult" not in queued

        assert zappa.get_lambda_function("trial-dev") == (
            "arn:aws:lambda:eu-west-1:123456789012:function:trial-dev")
        assert [v["Version"] for v in zappa.get_lambda_function_versions("trial-dev")] == [
            "$LATEST"]
        # `zappa update`'s configuration step: every member sent, most of them unchanged.
        arn = zappa.update_lambda_configuration(
            zappa.credentials_arn, "trial-dev", "handler.lambda_handler", runtime=RUNTIME,
            aws_environment_variables={"NEW": "2"})
        assert arn == "arn:aws:lambda:eu-west-1:123456789012:function:trial-dev"
        config = boto3.client("lambda").get_function_configuration(FunctionName="trial-dev")
        assert config["Environment"] == {"Variables": {"NEW": "2", "REMOTE": "1"}}
        assert (config["Timeout"], config["MemorySize"]) == (30, 512)
        assert config["Role"] == zappa.credentials_arn
        again = zappa.invoke_lambda_function(
            "trial-dev", json.dumps({"command": "app.hello"}), invocation_type="RequestResponse")
        assert json.loads(again["Payload"].read())["new"] == "2"
    assert stub["trial-dev"].call_count == 4
    assert [c.operation for c in stub.api_calls] == [
        "GetFunction", "ListVersionsByFunction", "GetFunctionConfiguration",
        "GetFunctionConfiguration", "UpdateFunctionConfiguration", "GetFunctionConfiguration"]


def test_zappa_cli_invoke_in_a_child_process(
        sentinel: Sentinel, lambda_stub: LambdaStub, tmp_path: Path) -> None:
    (tmp_path / "zappa_settings.json").write_text(json.dumps({"dev": {
        "app_function": "app.app", "aws_region": "eu-west-1", "project_name": "trial",
        "runtime": RUNTIME, "s3_bucket": "zappa-trial"}}))

    def command(event: dict[str, str], context: object) -> str:
        print("running", event["command"])
        return "done"

    lambda_stub.add_function("trial-dev", command)
    lambda_stub.serve()
    script = "import sys; from zappa.cli import handle; sys.argv[0] = 'zappa'; handle()"
    out = subprocess.run([sys.executable, "-c", script, "invoke", "dev", "app.hello"],
                         cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "running app.hello" in out.stdout  # the CLI prints the decoded LogResult tail
    [run] = lambda_stub["trial-dev"].invocations
    assert (run.source, run.event) == ("loopback", {"command": "app.hello"})


def test_lambda_warmer_fan_out(sentinel: Sentinel, isolated_modules: None,
                               tmp_path: Path) -> None:
    # lambda-warmer reads AWS_LAMBDA_FUNCTION_NAME / _VERSION when it is imported: in the
    # function's init phase here, as on Lambda (an earlier import would have kept other values).
    sys.modules.pop("lambdawarmer", None)
    (tmp_path / "warm_app.py").write_text(textwrap.dedent("""
        import lambdawarmer

        @lambdawarmer.warmer(delay=0)
        def handler(event, context):
            return {"served": event}
    """))
    with stub_lambda(strict=True) as stub:
        stub.add_function("api", "warm_app.handler", code_root=tmp_path)
        lam = boto3.client("lambda")
        warm = lam.invoke(FunctionName="api",
                          Payload=json.dumps({"warmer": True, "concurrency": 4}))
        assert (warm["StatusCode"], warm["Payload"].read()) == (200, b"null")
        served = lam.invoke(FunctionName="api", Payload=b'{"x": 1}')
        assert json.loads(served["Payload"].read()) == {"served": {"x": 1}}
    first, *fan_out, last = stub["api"].invocations
    # Invocations 2 and 3 are Event invokes, delivered once the warmer's handler has returned;
    # the 4th is synchronous, so it ran (and was recorded) first.
    assert [(r.invocation_type, r.qualifier, r.event["__WARMER_INVOCATION__"])
            for r in fan_out] == [("RequestResponse", "$LATEST", 4), ("Event", "$LATEST", 2),
                                  ("Event", "$LATEST", 3)]
    assert {r.event["__WARMER_CORRELATION_ID__"] for r in fan_out} == {first.request_id}
    assert all(r.error_code is None for r in stub["api"].invocations)
    assert last.event == {"x": 1}


@pytest.mark.filterwarnings("ignore:'get_binary_stream' is deprecated:DeprecationWarning")
def test_chalice_invoke_command(sentinel: Sentinel, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from chalice.cli import cli
    from click.testing import CliRunner

    # `chalice invoke` changes the working directory and sets AWS_CHALICE_CLI_MODE: undone after.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_CHALICE_CLI_MODE", "true")
    (tmp_path / ".chalice" / "deployed").mkdir(parents=True)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({
        "version": "2.0", "app_name": "shop", "stages": {"dev": {"lambda_timeout": 60}}}))
    (tmp_path / ".chalice" / "deployed" / "dev.json").write_text(json.dumps({
        "schema_version": "2.0", "backend": "api", "resources": [{
            "name": "worker", "resource_type": "lambda_function",
            "lambda_arn": "arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-worker"}]}))

    def worker(event: dict[str, int], context: object) -> dict[str, int]:
        return {"doubled": event["x"] * 2}

    def chalice_invoke(payload: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--project-dir", str(tmp_path), "invoke", "-n",
                                          "worker"], input=payload, obj={})
        return result.exit_code, result.output

    with stub_lambda(strict=True) as stub:
        function = stub.add_function("shop-dev-worker", worker, timeout=900)
        assert chalice_invoke('{"x": 21}') == (0, '{"doubled": 42}\n')
        # A function error: Chalice prints the runtime's stackTrace (strings) and the error.
        code, output = chalice_invoke('{"y": 1}')
        assert code == 1
        assert output.startswith("Traceback (most recent call last):\n  File ")
        assert "KeyError: 'x'\nError: Unhandled exception in Lambda function" in output
        # Chalice reads with the function's configured timeout (60 s) and no retries: a run that
        # lasts 120 s is one attempt, reported as Chalice's own read-timeout error.
        function.simulated_duration = 120
        code, output = chalice_invoke('{"x": 1}')
        assert code == 1 and output.startswith("Error: Read timeout on endpoint URL")
        function.simulated_duration = None
        function.fail("TooManyRequestsException")
        code, output = chalice_invoke('{"x": 1}')
        assert code == 1
        assert output == "Error: got 'TooManyRequestsException' exception back from Lambda\nRate Exceeded.\n"
    assert stub["shop-dev-worker"].call_count == 3
