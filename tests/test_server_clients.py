"""Real clients outside the test's process, answered by the loopback endpoint and recorded by
the test's stub: a boto3 script in a subprocess, a multiprocessing pool (spawn), the AWS CLI,
the AWS SDK for JavaScript v3, and a load test of 8 processes."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_lambda_stub import LambdaStub
from tests.loopback import FAKE_CREDENTIALS, child_env, run_python
from tests.loopback_workers import invoke_many

pytestmark = pytest.mark.lambda_stub(serve=True)
NODE_SDK = "@aws-sdk/client-lambda@3.1164.0"  # resolves here; else an install before 2025-06
NODE_SDK_FALLBACK = ("@aws-sdk/client-lambda@3", "--before=2025-06-01")


def echo(event: Any, context: Any) -> Any:
    print("echo handler ran")
    return {"got": event}


def boom(event: Any, context: Any) -> Any:
    raise ValueError(f"bad event {event!r}")


def loopback_runs(stub: LambdaStub) -> list[Any]:
    runs = stub.invocations
    assert {r.source for r in runs} == {"loopback"}, [r.summary() for r in runs]
    return runs


# -- a subprocess with boto3 ---------------------------------------------------------------------

@pytest.mark.lambda_stub(strict=False)  # "missing" is invoked on purpose
def test_subprocess_boto3_without_endpoint_argument(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    lambda_stub.add_function("boom", boom)
    done = run_python("""
        import base64, json
        import boto3

        client = boto3.client("lambda")  # no endpoint_url: AWS_ENDPOINT_URL_LAMBDA
        ok = client.invoke(FunctionName="echo", Payload=b'{"a": 1}', LogType="Tail")
        bad = client.invoke(FunctionName="boom", Payload=b'[1]')
        stream = client.invoke_with_response_stream(FunctionName="echo", Payload=b'{"s": 1}')
        event = client.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"e": 1}')
        try:
            client.invoke(FunctionName="missing")
            missing = None
        except client.exceptions.ResourceNotFoundException as error:
            missing = error.response["Error"]["Message"]
        print(json.dumps({
            "endpoint": client.meta.endpoint_url,
            "ok": [ok["StatusCode"], json.loads(ok["Payload"].read()),
                   base64.b64decode(ok["LogResult"]).decode()],
            "bad": [bad["FunctionError"], json.loads(bad["Payload"].read())["errorMessage"]],
            "stream": [list(e)[0] for e in stream["EventStream"]],
            "event": event["StatusCode"],
            "missing": missing,
        }))
    """)
    out = json.loads(done.stdout)
    assert out["endpoint"] == lambda_stub.endpoint_url
    assert out["ok"][:2] == [200, {"got": {"a": 1}}]
    assert "echo handler ran" in out["ok"][2]
    assert out["bad"] == ["Unhandled", "bad event [1]"]
    assert out["stream"] == ["PayloadChunk", "InvokeComplete"]
    assert out["event"] == 202
    assert "Function not found" in out["missing"]
    runs = loopback_runs(lambda_stub)
    assert [(r.function_name, r.operation, r.invocation_type, r.status_code) for r in runs] == [
        ("echo", "Invoke", "RequestResponse", 200), ("boom", "Invoke", "RequestResponse", 200),
        ("echo", "InvokeWithResponseStream", "RequestResponse", 200),
        ("echo", "Invoke", "Event", 202), ("missing", "Invoke", "RequestResponse", 404)]
    assert lambda_stub["echo"].invocations[0].event == {"a": 1}
    assert lambda_stub["boom"].invocations[0].error_type == "ValueError"


def test_subprocess_retries_a_scripted_throttle(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo).fail("TooManyRequestsException", attempts=[1])
    done = run_python("""
        import boto3
        print(boto3.client("lambda").invoke(FunctionName="echo")["StatusCode"])
    """)
    assert done.stdout.strip() == "200"
    assert [(r.attempt, r.error_code) for r in loopback_runs(lambda_stub)] == [
        (1, "TooManyRequestsException"), (2, None)]


def test_subprocess_sees_a_scripted_transport_fault_as_a_dropped_connection(
        lambda_stub: LambdaStub) -> None:
    function = lambda_stub.add_function("echo", echo)
    function.fail("ReadTimeoutError", attempts=[1])
    done = run_python("""
        import boto3
        print(boto3.client("lambda").invoke(FunctionName="echo")["StatusCode"])
    """)
    assert done.stdout.strip() == "200"  # botocore retried the dropped connection
    function.clear_failures()
    function.fail("ConnectionClosedError", times=None)
    done = run_python("""
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ConnectionClosedError
        client = boto3.client("lambda", config=Config(retries={"max_attempts": 0}))
        try:
            client.invoke(FunctionName="echo")
        except ConnectionClosedError as error:
            print("closed:", error)
    """)
    assert done.stdout.startswith("closed: Connection was closed before we received a valid "
                                  "response from endpoint URL")
    assert [(r.attempt, r.error_code) for r in loopback_runs(lambda_stub)] == [
        (1, "ReadTimeoutError"), (2, None), (1, "ConnectionClosedError")]


# -- a multiprocessing pool with spawn -----------------------------------------------------------

def test_spawned_pool_workers_invoke(lambda_stub: LambdaStub,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lambda_stub.add_function("echo", echo)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)  # spawned workers inherit os.environ
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        results = pool.starmap(invoke_many, [(worker, 5) for worker in range(6)])
    assert {result["endpoint"] for result in results} == {lambda_stub.endpoint_url}
    assert os.getpid() not in {result["pid"] for result in results}
    answered = {rid: body for result in results for rid, body in result["answers"]}
    runs = loopback_runs(lambda_stub)
    assert len(runs) == len(answered) == 30
    assert {r.request_id: r.result for r in runs} == answered
    assert sorted((r.event["worker"], r.event["n"]) for r in runs) == [
        (w, n) for w in range(6) for n in range(5)]


# -- the AWS CLI ---------------------------------------------------------------------------------

def aws(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        import awscli  # noqa: F401
    except ImportError:
        pytest.skip("the AWS CLI (awscli, in the 'test' extra) is not installed")
    return subprocess.run([sys.executable, "-m", "awscli", *args], env=child_env(),
                          capture_output=True, text=True, timeout=120)


def test_aws_cli_invoke_with_log_tail(lambda_stub: LambdaStub, tmp_path: Path) -> None:
    lambda_stub.add_function("echo", echo)
    out = tmp_path / "out.json"
    done = aws("lambda", "invoke", "--function-name", "echo", "--payload", '{"cli": true}',
               "--log-type", "Tail", str(out))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["StatusCode"], answer["ExecutedVersion"]) == (200, "$LATEST")
    assert "echo handler ran" in base64.b64decode(answer["LogResult"]).decode()
    assert json.loads(out.read_text()) == {"got": {"cli": True}}
    [run] = loopback_runs(lambda_stub)
    assert (run.event, run.region) == ({"cli": True}, "eu-west-1")


@pytest.mark.lambda_stub(strict=False)  # "missing" is invoked on purpose
def test_aws_cli_function_error_and_service_error(lambda_stub: LambdaStub,
                                                  tmp_path: Path) -> None:
    lambda_stub.add_function("boom", boom)
    done = aws("lambda", "invoke", "--function-name", "boom", str(tmp_path / "out.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["FunctionError"] == "Unhandled"
    assert json.loads((tmp_path / "out.json").read_text())["errorType"] == "ValueError"
    done = aws("lambda", "invoke", "--function-name", "missing", str(tmp_path / "x.json"))
    assert done.returncode != 0
    assert "ResourceNotFoundException" in done.stderr and "Function not found" in done.stderr
    assert [(r.function_name, r.error_type or r.error_code)
            for r in loopback_runs(lambda_stub)] == [
        ("boom", "ValueError"), ("missing", "ResourceNotFoundException")]


def test_aws_cli_get_function(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo, memory_size=256)
    done = aws("lambda", "get-function", "--function-name", "echo")
    assert done.returncode == 0, done.stderr
    configuration = json.loads(done.stdout)["Configuration"]
    assert (configuration["FunctionName"], configuration["MemorySize"]) == ("echo", 256)
    assert configuration["FunctionArn"] == "arn:aws:lambda:eu-west-1:123456789012:function:echo"
    [call] = [c for c in lambda_stub.api_calls if c.operation == "GetFunction"]  # type: ignore[attr-defined,unused-ignore]
    assert (call.function_name, call.source, call.region) == ("echo", "loopback", "eu-west-1")


# -- the AWS SDK for JavaScript v3 ---------------------------------------------------------------

NODE_SCRIPT = r"""
const { createRequire } = require("node:module");
const sdk = createRequire(process.env.SDK_DIR + "/package.json")("@aws-sdk/client-lambda");
const text = (bytes) => new TextDecoder().decode(bytes);
(async () => {
  const client = new sdk.LambdaClient({});  // endpoint from AWS_ENDPOINT_URL_LAMBDA
  const out = {};
  const r = await client.send(new sdk.InvokeCommand({
    FunctionName: "echo", Payload: new TextEncoder().encode('{"from": "node"}'), LogType: "Tail"}));
  out.invoke = [r.StatusCode, JSON.parse(text(r.Payload)), r.ExecutedVersion,
                Buffer.from(r.LogResult, "base64").toString()];
  const s = await client.send(new sdk.InvokeWithResponseStreamCommand({
    FunctionName: "echo", Payload: new TextEncoder().encode('{"stream": true}')}));
  out.stream = [];
  for await (const e of s.EventStream) {
    if (e.PayloadChunk) out.stream.push(["chunk", JSON.parse(text(e.PayloadChunk.Payload))]);
    if (e.InvokeComplete) out.stream.push(["complete", e.InvokeComplete]);
  }
  try { await client.send(new sdk.InvokeCommand({FunctionName: "boom"})); }
  catch (e) { out.unexpected = String(e); }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-lambda-stub"


@pytest.fixture(scope="session")
def node_sdk() -> Iterator[Path]:
    """A folder with @aws-sdk/client-lambda installed by npm (cached across sessions; a lock
    keeps xdist workers from installing it twice at once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the AWS SDK for JavaScript v3 tests")
    folder = _cache_root() / ("node-" + NODE_SDK.replace("/", "-").replace("@", ""))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = folder / "node_modules" / "@aws-sdk" / "client-lambda" / "package.json"
        if not marker.exists():
            (folder / "package.json").write_text('{"private": true}')
            attempts = [[NODE_SDK], list(NODE_SDK_FALLBACK)]
            log = []
            for extra in attempts:
                done = subprocess.run([npm, "install", "--no-audit", "--no-fund", *extra],
                                      cwd=folder, capture_output=True, text=True, timeout=600)
                log.append(done.stdout + done.stderr)
                if done.returncode == 0:
                    break
            else:
                pytest.fail("npm could not install the AWS SDK for JavaScript v3:\n"
                            + "\n".join(log), pytrace=False)
    yield folder


def test_javascript_sdk_v3_invoke_and_stream(lambda_stub: LambdaStub, node_sdk: Path,
                                             tmp_path: Path) -> None:
    lambda_stub.add_function("echo", echo)
    lambda_stub.add_function("boom", boom)
    script = tmp_path / "invoke.cjs"
    script.write_text(NODE_SCRIPT)
    done = subprocess.run(["node", str(script)], env=child_env(SDK_DIR=str(node_sdk)),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    status, body, version, log = out["invoke"]
    assert (status, body, version) == (200, {"got": {"from": "node"}}, "$LATEST")
    assert "echo handler ran" in log
    assert out["stream"] == [["chunk", {"got": {"stream": True}}], ["complete", {}]]
    assert "unexpected" not in out  # a function error is an answer, not an exception
    runs = loopback_runs(lambda_stub)
    assert [(r.function_name, r.operation) for r in runs] == [
        ("echo", "Invoke"), ("echo", "InvokeWithResponseStream"), ("boom", "Invoke")]
    assert runs[0].region == "eu-west-1"
    assert runs[2].function_error == "Unhandled"


NODE_STREAM_SCRIPT = r"""
const { createRequire } = require("node:module");
const sdk = createRequire(process.env.SDK_DIR + "/package.json")("@aws-sdk/client-lambda");
(async () => {
  const client = new sdk.LambdaClient({});
  const s = await client.send(new sdk.InvokeWithResponseStreamCommand({FunctionName: "slow"}));
  const out = [];
  for await (const e of s.EventStream) {
    if (e.PayloadChunk) {
      out.push(new TextDecoder().decode(e.PayloadChunk.Payload));
      // While "slow" still waits for it: tell the test the first chunk is here.
      if (out.length === 1) await client.send(new sdk.InvokeCommand({FunctionName: "said"}));
    }
    if (e.InvokeComplete) out.push(e.InvokeComplete);
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_javascript_sdk_v3_reads_chunks_while_the_handler_runs(
        lambda_stub: LambdaStub, node_sdk: Path, tmp_path: Path) -> None:
    release = threading.Event()

    def slow(event: Any, context: Any) -> Iterator[bytes]:
        yield b"first"
        if not release.wait(60):
            raise RuntimeError("node never said it had the first chunk")
        yield b"second"

    def said(event: Any, context: Any) -> str:
        release.set()
        return "ok"

    lambda_stub.add_function("slow", slow, timeout=120)
    lambda_stub.add_function("said", said)
    script = tmp_path / "stream.cjs"
    script.write_text(NODE_STREAM_SCRIPT)
    try:
        done = subprocess.run(["node", str(script)], env=child_env(SDK_DIR=str(node_sdk)),
                              capture_output=True, text=True, timeout=180)
    finally:
        release.set()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["first", "second", {}]
    [record] = lambda_stub["slow"].invocations
    assert (record.chunks, record.function_error) == ((b"first", b"second"), None)


# -- load ----------------------------------------------------------------------------------------

LOAD_SCRIPT = """
import json, sys
import boto3

worker, count = int(sys.argv[1]), int(sys.argv[2])
client = boto3.client("lambda")
ids, errors = [], []
for n in range(count):
    try:
        response = client.invoke(FunctionName="echo", Payload=json.dumps([worker, n]))
        body = json.loads(response["Payload"].read())
        if response["StatusCode"] != 200 or body != {"got": [worker, n]}:
            errors.append([n, response["StatusCode"], body])
        ids.append(response["ResponseMetadata"]["RequestId"])
    except Exception as exc:
        errors.append([n, repr(exc)])
print(json.dumps({"ids": ids, "errors": errors}))
"""


def test_load_8_processes_x_200_invokes(lambda_stub: LambdaStub) -> None:
    lambda_stub.add_function("echo", echo)
    processes, count = 8, 200
    with contextlib.ExitStack() as stack:
        children = [stack.enter_context(subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(LOAD_SCRIPT), str(w), str(count)],
            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for w in range(processes)]
        outputs = [child.communicate(timeout=600) for child in children]
    results = []
    for child, (stdout, stderr) in zip(children, outputs, strict=True):
        assert child.returncode == 0, stderr
        results.append(json.loads(stdout))
    assert [r["errors"] for r in results] == [[]] * processes
    client_ids = [rid for r in results for rid in r["ids"]]
    runs = loopback_runs(lambda_stub)
    assert len(runs) == len(client_ids) == processes * count
    assert sorted(r.request_id for r in runs) == sorted(client_ids)  # each recorded exactly once
    assert sorted(tuple(r.event) for r in runs) == [
        (w, n) for w in range(processes) for n in range(count)]
