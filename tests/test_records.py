"""Invocation records: kept in the order requests arrived, with the request's LogType and the
invocation's trace id."""

from __future__ import annotations

import json
import threading
from typing import Any

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload


def test_records_are_in_the_order_requests_arrived() -> None:
    def outer(event: Any, context: Any) -> Any:
        first = payload(client().invoke(FunctionName="inner", Payload=b"1"))
        second = payload(client().invoke(FunctionName="outer", Payload=b"0"))  # recursion
        return [first, second]

    def dispatch(event: Any, context: Any) -> Any:
        if event == 0:
            return "leaf"
        return outer(event, context)

    lam = client()
    with stub_lambda(functions={"outer": dispatch, "inner": lambda e, c: e}) as stub:
        lam.invoke(FunctionName="outer", Payload=b"5")
        lam.invoke(FunctionName="inner", Payload=b"9")
    assert [(r.function_name, r.event) for r in stub.invocations] == [
        ("outer", 5), ("inner", 1), ("outer", 0), ("inner", 9)]
    assert [r.event for r in stub["outer"].invocations] == [5, 0]
    assert [r.event for r in stub["inner"].invocations] == [1, 9]


def test_each_record_keeps_the_log_type_and_the_trace_id() -> None:
    lam = client(retries={"total_max_attempts": 1})
    with stub_lambda(functions={"f": lambda e, c: None}) as stub:
        lam.invoke(FunctionName="f", LogType="Tail")
        lam.invoke(FunctionName="f", LogType="None")
        lam.invoke(FunctionName="f")
        lam.invoke(FunctionName="f", InvocationType="Event")
        stub["f"].fail("TooManyRequestsException")
        try:
            lam.invoke(FunctionName="f", LogType="Tail")
        except lam.exceptions.TooManyRequestsException:
            pass
    records = stub.invocations
    assert [r.log_type for r in records] == ["Tail", "None", None, None, "Tail"]
    traces = [r.trace_id for r in records]
    assert all(t and t.startswith("Root=1-") for t in traces[:4])
    assert len(set(traces[:4])) == 4
    assert traces[4] is None  # answered with a service error: nothing ran


def test_concurrent_nested_calls_keep_each_caller_before_its_callee() -> None:
    def outer(event: Any, context: Any) -> Any:
        return payload(client().invoke(FunctionName="inner", Payload=json.dumps(event)))

    with stub_lambda(functions={"outer": outer, "inner": lambda e, c: e}) as stub:
        threads = [threading.Thread(target=lambda n=n: client().invoke(
            FunctionName="outer", Payload=json.dumps(n))) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    names = [(r.function_name, r.event) for r in stub.invocations]
    assert len(names) == 16
    for n in range(8):
        assert names.index(("outer", n)) < names.index(("inner", n))
