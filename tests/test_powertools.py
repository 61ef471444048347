"""AWS Lambda Powertools' Logger and Tracer in a declared handler: they read the context and the
runtime's environment (function name, memory, ARN, request id, cold start, trace header)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_lambda_stub import stub_lambda
from tests.helpers import REGION, client, payload

pytest.importorskip("aws_lambda_powertools")
pytest.importorskip("aws_xray_sdk")

HANDLER = """
    from aws_lambda_powertools import Logger, Tracer
    from aws_xray_sdk.core import xray_recorder

    logger = Logger(service="orders")
    tracer = Tracer(service="orders", auto_patch=False)  # no global patching of botocore

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    def handler(event, context):
        logger.info("processing", extra={"order": event["order"]})
        return {"trace_id": xray_recorder.current_segment().trace_id}
"""


def test_powertools_logger_and_tracer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools.logging import logger as powertools_logger

    # Powertools keeps "cold start" in a process-wide flag: this test is its first handler.
    monkeypatch.setattr(powertools_logger, "is_cold_start", True)
    (tmp_path / "orders_app.py").write_text(textwrap.dedent(HANDLER))
    monkeypatch.syspath_prepend(str(tmp_path))
    lam = client()
    try:
        with stub_lambda() as stub:
            stub.add_function("orders", "orders_app.handler", memory_size=256)
            answers = [payload(lam.invoke(FunctionName="orders",
                                          Payload=json.dumps({"order": n}))) for n in (1, 2)]
    finally:
        sys.modules.pop("orders_app", None)
    entries = []
    for record in stub.invocations:
        lines = [line for line in record.log.splitlines() if line.startswith("{")]
        assert len(lines) == 1, record.log
        entries.append(json.loads(lines[0]))
    for entry, record in zip(entries, stub.invocations, strict=True):
        assert entry["message"] == "processing"
        assert entry["service"] == "orders"
        assert entry["function_name"] == "orders"
        assert entry["function_memory_size"] == "256"
        assert entry["function_arn"] == f"arn:aws:lambda:{REGION}:123456789012:function:orders"
        assert entry["function_request_id"] == record.request_id
        assert entry["xray_trace_id"] == record.trace_id.split(";")[0].removeprefix("Root=")
    assert [entry["cold_start"] for entry in entries] == [True, False]
    assert [entry["order"] for entry in entries] == [1, 2]
    # Tracer's segment follows the invocation's trace header.
    assert [a["trace_id"] for a in answers] == [
        r.trace_id.split(";")[0].removeprefix("Root=") for r in stub.invocations]
