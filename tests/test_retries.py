"""botocore's own retries (legacy, standard, adaptive) really run against the stub, without
sleeping: the delays botocore asks for are recorded in ``stub.retry_delays``."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload

# Attempts botocore makes in each mode by default (the first one included).
MODES = [("legacy", 5), ("standard", 3), ("adaptive", 3)]


def echo(event: Any, context: Any) -> Any:
    return event


@pytest.mark.parametrize("created", ["before", "inside"])
@pytest.mark.parametrize("mode, attempts", MODES)
def test_throttles_are_retried_and_recovered_without_sleeping(mode: str, attempts: int,
                                                              created: str) -> None:
    lam = client(retries={"mode": mode}) if created == "before" else None
    with stub_lambda(functions={"f": echo}) as stub:
        lam = lam or client(retries={"mode": mode})
        stub["f"].fail("TooManyRequestsException", attempts=range(1, attempts))
        started = time.perf_counter()
        response = lam.invoke(FunctionName="f", Payload=b'{"x": 1}')
        elapsed = time.perf_counter() - started
    assert payload(response) == {"x": 1}
    assert response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    delays = stub.retry_delays
    assert len(delays) == attempts - 1
    # botocore's backoffs (base * 2 ** (n - 1), random base below 1): recorded, not slept.
    assert all(0 <= delay <= 2 ** n for n, delay in enumerate(delays))
    assert elapsed < 1
    assert [(r.attempt, r.ran) for r in stub["f"].invocations] == [
        *((n, False) for n in range(1, attempts)), (attempts, True)]


@pytest.mark.parametrize("mode, attempts", MODES)
def test_retries_run_out_after_the_modes_attempts(mode: str, attempts: int) -> None:
    lam = client(retries={"mode": mode})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", times=None)
        started = time.perf_counter()
        with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
            lam.invoke(FunctionName="f")
        elapsed = time.perf_counter() - started
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    records = stub["f"].invocations
    assert [r.attempt for r in records] == list(range(1, attempts + 1))
    assert {r.error_code for r in records} == {"TooManyRequestsException"}
    assert len({r.invocation_id for r in records}) == 1
    assert stub["f"].call_count == 0
    assert len(stub.retry_delays) == attempts - 1
    assert elapsed < 1


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
@pytest.mark.parametrize("code", ["ServiceException", "EC2ThrottledException"])
def test_5xx_errors_are_retried(mode: str, code: str) -> None:
    lam = client(retries={"mode": mode})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail(code)
        response = lam.invoke(FunctionName="f")
    assert response["StatusCode"] == 200
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [r.error_code for r in stub["f"].invocations] == [code, None]


def test_client_errors_are_not_retried() -> None:
    lam = client(retries={"mode": "standard"})
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("ResourceConflictException")
        with pytest.raises(lam.exceptions.ResourceConflictException):
            lam.invoke(FunctionName="f")
    assert len(stub["f"].invocations) == 1
    assert stub.retry_delays == []


@pytest.mark.parametrize("retries", [
    {"mode": "standard", "total_max_attempts": 6},
    {"mode": "standard", "max_attempts": 5},  # retries, not counting the first attempt
    {"mode": "legacy", "max_attempts": 5},
])
def test_max_attempts_from_the_client_config(retries: dict[str, Any]) -> None:
    lam = client(retries=retries)
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].fail("TooManyRequestsException", times=None)
        with pytest.raises(lam.exceptions.TooManyRequestsException):
            lam.invoke(FunctionName="f")
    assert len(stub["f"].invocations) == 6
    assert len(stub.retry_delays) == 5


def test_adaptive_rate_limiter_does_not_block_after_throttles() -> None:
    lam = client(retries={"mode": "adaptive"})
    with stub_lambda(functions={"f": echo}) as stub:
        # Throttles switch the client's rate limiter on and lower its rate.
        stub["f"].fail("TooManyRequestsException", times=None)
        for _ in range(3):
            with pytest.raises(lam.exceptions.TooManyRequestsException):
                lam.invoke(FunctionName="f")
        stub["f"].clear_failures()
        started = time.perf_counter()
        for n in range(20):
            assert payload(lam.invoke(FunctionName="f", Payload=str(n))) == n
        elapsed = time.perf_counter() - started
    assert elapsed < 1
    assert stub["f"].call_count == 20


def test_a_handler_throttled_by_another_function_sees_botocore_retry() -> None:
    lam = client(retries={"mode": "standard"})
    with stub_lambda() as stub:
        stub.add_function("inner", echo).fail("TooManyRequestsException", attempts=[1])

        @stub.function("outer")
        def outer(event: Any, context: Any) -> Any:
            inner = client(retries={"mode": "standard"})
            return payload(inner.invoke(FunctionName="inner", Payload=b'"hi"'))

        started = time.perf_counter()
        assert payload(lam.invoke(FunctionName="outer")) == "hi"
        elapsed = time.perf_counter() - started
    assert elapsed < 1
    assert [r.attempt for r in stub["inner"].invocations] == [1, 2]
    assert len(stub.retry_delays) == 1


def test_delays_are_recorded_per_stub_run() -> None:
    lam = client(retries={"mode": "standard"})
    stub = stub_lambda(functions={"f": echo})
    with stub:
        stub["f"].fail("TooManyRequestsException", attempts=[1])
        lam.invoke(FunctionName="f")
        assert len(stub.retry_delays) == 1
    with stub:  # a new run starts with no records
        assert stub.retry_delays == []
        lam.invoke(FunctionName="f")
        assert len(stub.retry_delays) == 1
