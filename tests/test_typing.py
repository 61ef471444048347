"""The public API type-checks under ``mypy --strict`` with mypy-boto3-lambda's typed client."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

EXAMPLE = '''
from __future__ import annotations

import json
from typing import Any
from unittest.mock import ANY

import boto3
import pytest
from mypy_boto3_lambda import LambdaClient

from pytest_lambda_stub import (
    FakeFunction, Invocation, LambdaContext, LambdaStub, StubOptions, stub_lambda,
)


def resize(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return {"width": int(event["width"]) // 2, "left": context.get_remaining_time_in_millis()}


def make_client() -> LambdaClient:
    return boto3.client("lambda", region_name="eu-west-1")


@pytest.mark.lambda_stub(strict=True, event_delivery="manual")
def test_fixture(lambda_stub: LambdaStub) -> None:
    function: FakeFunction = lambda_stub.add_function("resize", resize, timeout=10)
    response = make_client().invoke(FunctionName="resize", Payload=json.dumps({"width": 640}))
    assert response["StatusCode"] == 200
    body: bytes = response["Payload"].read()
    assert json.loads(body)["width"] == 320
    function.assert_invoked_once_with({"width": 640}, qualifier="$LATEST")
    function.assert_any_invocation({"width": ANY}, invocation_type="RequestResponse")
    records: list[Invocation] = lambda_stub.invocations
    assert records[0].summary()
    drained: list[Invocation] = lambda_stub.drain()
    assert drained == []


@stub_lambda(functions={"resize": resize}, strict=False)
def test_decorator() -> None:
    make_client().invoke(FunctionName="resize", Payload=b'{"width": 2}')


def test_context_manager() -> None:
    client = make_client()
    with stub_lambda() as stub:
        @stub.function("resize", timeout=5)
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return event

        stub["resize"].fail("TooManyRequestsException", times=1)
        client.invoke(FunctionName="resize", InvocationType="Event")
    options: StubOptions = stub.options
    assert options.strict
    assert handler({}, LambdaContext()) == {}
    stub["resize"].assert_not_invoked(qualifier="live")
'''


ROOT = Path(__file__).resolve().parent.parent


def test_example_module_passes_mypy_strict(tmp_path: Path) -> None:
    example = tmp_path / "test_example.py"
    example.write_text(textwrap.dedent(EXAMPLE))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--python-version", "3.10",
         # The package itself is checked by `mypy pytest_lambda_stub`; here only its use is.
         "--follow-imports=silent",
         str(example)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        # An editable install is an import hook mypy does not follow: point it at the source.
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found in 1 source file")
