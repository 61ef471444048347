"""Lifecycle of the runtime environment: starting and stopping stubs, on any thread, many times,
leaves ``os.environ`` and ``threading.Thread.start`` exactly as they were."""

from __future__ import annotations

import os
import threading
from typing import Any

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload


def test_many_start_stop_cycles_leave_nothing_behind() -> None:
    environ_class = type(os.environ)
    thread_start = threading.Thread.start
    before = dict(os.environ)
    stub = stub_lambda(functions={"f": lambda e, c: os.environ.setdefault("SET_BY_F", "1")})
    lam = client()
    for n in range(300):
        with stub:
            if n % 50 == 0:
                assert payload(lam.invoke(FunctionName="f")) == "1"
        assert type(os.environ) is environ_class
        assert threading.Thread.start is thread_start
    assert dict(os.environ) == before


def test_a_stub_stopped_on_another_thread_restores_the_environment_class() -> None:
    # Started and stopped off the main thread.
    environ_class = type(os.environ)
    stub = stub_lambda(functions={"f": lambda e, c: 1})
    starter = threading.Thread(target=stub.start)
    starter.start()
    starter.join(10)
    assert type(os.environ) is not environ_class  # the per-invocation view is in place
    thread = threading.Thread(target=stub.stop)
    thread.start()
    thread.join(10)
    assert type(os.environ) is environ_class
    assert threading.Thread.start.__name__ == "start"


def test_nested_stubs_keep_the_view_until_the_last_stops() -> None:
    environ_class = type(os.environ)
    with stub_lambda(functions={"a": lambda e, c: os.environ["AWS_LAMBDA_FUNCTION_NAME"]}):
        with stub_lambda(functions={"b": lambda e, c: os.environ["AWS_LAMBDA_FUNCTION_NAME"]}):
            pass
        assert type(os.environ) is not environ_class
        assert payload(client().invoke(FunctionName="a")) == "a"
    assert type(os.environ) is environ_class


def test_environment_writes_from_the_test_thread_while_a_stub_is_active(
        monkeypatch: Any) -> None:
    with stub_lambda(functions={"f": lambda e, c: os.environ.get("FROM_TEST")}):
        monkeypatch.setenv("FROM_TEST", "visible to the handler")
        assert os.environ["FROM_TEST"] == "visible to the handler"
        assert payload(client().invoke(FunctionName="f")) == "visible to the handler"
        monkeypatch.delenv("FROM_TEST")
        assert payload(client().invoke(FunctionName="f")) is None
    assert "FROM_TEST" not in os.environ
