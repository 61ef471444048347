"""Limits: concurrency under real threads, timeouts returned at the deadline, simulated durations
against the client's read timeout, runtime exits, response size, recursive loops."""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload

NO_RETRY = {"retries": {"total_max_attempts": 1}}
RESPONSE_LIMIT = 6291556


def echo(event: Any, context: Any) -> Any:
    return event


def timeout_payload(request_id: str, seconds: str) -> dict[str, str]:
    return {"errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {seconds} seconds"}


def log_of(response: dict[str, Any]) -> str:
    return base64.b64decode(response["LogResult"]).decode("utf-8")


class Gate:
    """Handlers that block until released, counting how many are inside."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def handler(self, event: Any, context: Any) -> Any:
        self.entered.release()
        assert self.release.wait(5)
        return "done"

    def wait_entered(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=5)


def invoke_in_threads(lam: Any, name: str, count: int) -> tuple[list[threading.Thread],
                                                                 list[Any]]:
    results: list[Any] = []

    def call() -> None:
        response = lam.invoke(FunctionName=name)
        results.append(payload(response))

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


# -- concurrency ---------------------------------------------------------------------------------

def test_reserved_concurrency_throttles_past_the_limit_under_real_threads() -> None:
    lam = client(**NO_RETRY)
    gate = Gate()
    with stub_lambda() as stub:
        stub.add_function("busy", gate.handler, reserved_concurrency=2)
        threads, results = invoke_in_threads(lam, "busy", 2)
        try:
            gate.wait_entered(2)
            with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
                lam.invoke(FunctionName="busy")
        finally:
            gate.release.set()
            for thread in threads:
                thread.join(5)
        assert results == ["done", "done"]
        # Once the two running executions finished, there is room again.
        assert payload(lam.invoke(FunctionName="busy")) == "done"
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert response["message"] == "Rate Exceeded."
    assert response["Type"] == "User"
    assert "retry-after" not in response["ResponseMetadata"]["HTTPHeaders"]
    throttled = [r for r in stub["busy"].invocations if r.error_code]
    assert [(r.error_code, r.ran) for r in throttled] == [("TooManyRequestsException", False)]
    assert stub["busy"].call_count == 3
    assert stub["busy"].running == 0


def test_throttles_under_real_threads_are_retried_by_botocore() -> None:
    lam = client(retries={"mode": "standard", "total_max_attempts": 3})
    gate = Gate()
    with stub_lambda() as stub:
        stub.add_function("busy", gate.handler, reserved_concurrency=1)
        threads, results = invoke_in_threads(lam, "busy", 1)
        try:
            gate.wait_entered(1)
            with pytest.raises(lam.exceptions.TooManyRequestsException):
                lam.invoke(FunctionName="busy")
        finally:
            gate.release.set()
            for thread in threads:
                thread.join(5)
    assert results == ["done"]
    assert [r.attempt for r in stub["busy"].invocations if r.error_code] == [1, 2, 3]


def test_reserved_concurrency_zero_throttles_every_synchronous_call() -> None:
    lam = client(**NO_RETRY)
    with stub_lambda() as stub:
        stub.add_function("off", echo, reserved_concurrency=0)
        for _ in range(3):
            with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
                lam.invoke(FunctionName="off")
            assert raised.value.response["Reason"] == (
                "ReservedFunctionConcurrentInvocationLimitExceeded")
        assert lam.invoke(FunctionName="off", InvocationType="Event")["StatusCode"] == 202
    assert stub["off"].call_count == 0


def test_account_concurrency_option() -> None:
    lam = client(**NO_RETRY)
    gate = Gate()
    with stub_lambda(account_concurrency=1) as stub:
        stub.add_function("busy", gate.handler)
        stub.add_function("other", echo)
        threads, _ = invoke_in_threads(lam, "busy", 1)
        try:
            gate.wait_entered(1)
            with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
                lam.invoke(FunctionName="other")
        finally:
            gate.release.set()
            for thread in threads:
                thread.join(5)
        assert lam.invoke(FunctionName="other")["StatusCode"] == 200
    response = raised.value.response
    assert response["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert response["message"] == "Rate Exceeded."
    assert stub["other"].invocations[0].error_code == "TooManyRequestsException"


def test_account_concurrency_defaults_to_1000() -> None:
    with stub_lambda() as stub:
        assert stub.options.account_concurrency == 1000


# -- timeouts ------------------------------------------------------------------------------------

def test_timeout_on_the_main_thread_returns_at_the_deadline() -> None:
    assert threading.current_thread() is threading.main_thread()
    lam = client()
    ran_on: list[threading.Thread] = []
    release = threading.Event()

    def slow(event: Any, context: Any) -> Any:
        ran_on.append(threading.current_thread())
        print("starting")
        release.wait(10)
        return "finished"

    with stub_lambda() as stub:
        stub.add_function("slow", slow, timeout=1)
        started = time.perf_counter()
        response = lam.invoke(FunctionName="slow", LogType="Tail")
        elapsed = time.perf_counter() - started
        assert stub["slow"].late_results == []  # still running
        release.set()
        deadline = time.monotonic() + 10
        while not stub["slow"].late_results and time.monotonic() < deadline:
            time.sleep(0.01)
    # Run on a worker, never on the caller's thread, so nothing it does can hold the caller.
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert 1 <= elapsed < 3  # at the deadline, not when the handler returns (margin for load)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert payload(response) == timeout_payload(request_id, "1.00")
    log = log_of(response)
    assert f"REPORT RequestId: {request_id}\tDuration: 1000.00 ms\t" in log
    record = stub["slow"].invocations[0]
    assert (record.ran, record.error_type, record.function_error) == (
        True, "Sandbox.Timedout", "Unhandled")
    assert [(late.request_id, late.value) for late in stub["slow"].late_results] == [
        (request_id, b'"finished"')]


def test_output_before_the_deadline_stays_in_the_log() -> None:
    lam = client()

    def slow(event: Any, context: Any) -> Any:
        print("starting")
        time.sleep(5)

    with stub_lambda() as stub:
        stub.add_function("slow", slow, timeout=1)
        response = lam.invoke(FunctionName="slow", LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    log = log_of(response)
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\nstarting\n")
    assert "Task timed out after 1.00 seconds" in log


def test_timeout_on_a_worker_thread_returns_at_the_deadline() -> None:
    lam = client()
    finished = threading.Event()

    def slow(event: Any, context: Any) -> Any:
        time.sleep(3)
        finished.set()
        return {"late": True}

    outcome: dict[str, Any] = {}

    def call() -> None:
        started = time.perf_counter()
        outcome["response"] = lam.invoke(FunctionName="slow")
        outcome["elapsed"] = time.perf_counter() - started
        outcome["finished"] = finished.is_set()

    with stub_lambda() as stub:
        stub.add_function("slow", slow, timeout=1)
        thread = threading.Thread(target=call)
        thread.start()
        thread.join(5)
        # The caller did not wait for the handler, which finishes in the background.
        assert outcome["finished"] is False
        assert 1 <= outcome["elapsed"] < 2.5  # at the deadline, not after the handler's 3 s
        assert finished.wait(5)
        deadline = time.monotonic() + 5
        while not stub["slow"].late_results and time.monotonic() < deadline:
            time.sleep(0.01)
    response = outcome["response"]
    request_id = response["ResponseMetadata"]["RequestId"]
    assert payload(response) == timeout_payload(request_id, "1.00")
    (late,) = stub["slow"].late_results
    assert late.request_id == request_id
    assert json.loads(late.value) == {"late": True}
    assert stub["slow"].invocations[0].error_type == "Sandbox.Timedout"


def test_time_out_answers_at_once_without_running_the_handler() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", echo).time_out(times=2)
        started = time.perf_counter()
        responses = [lam.invoke(FunctionName="f", Payload=b'"x"', LogType="Tail")
                     for _ in range(3)]
        elapsed = time.perf_counter() - started
    assert elapsed < 1
    for response in responses[:2]:
        request_id = response["ResponseMetadata"]["RequestId"]
        assert response["FunctionError"] == "Unhandled"
        assert payload(response) == timeout_payload(request_id, "3.00")
        assert "Task timed out after 3.00 seconds" in log_of(response)
    assert payload(responses[2]) == "x"
    assert [(r.ran, r.error_type) for r in stub["f"].invocations] == [
        (False, "Sandbox.Timedout"), (False, "Sandbox.Timedout"), (True, None)]
    assert stub["f"].call_count == 1


def test_time_out_until_cleared() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", echo, timeout=2).time_out(times=None)
        for _ in range(2):
            assert "Task timed out after 2.00 seconds" in payload(
                lam.invoke(FunctionName="f"))["errorMessage"]
        stub["f"].clear_failures()
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
        assert "FunctionError" not in lam.invoke(FunctionName="f")


# -- simulated durations -------------------------------------------------------------------------

def test_simulated_duration_past_the_read_timeout_runs_the_handler_again() -> None:
    lam = client(read_timeout=2, retries={"mode": "standard"})
    with stub_lambda() as stub:
        stub.add_function("slow", echo, timeout=900, simulated_duration=5)
        started = time.perf_counter()
        with pytest.raises(ReadTimeoutError):
            lam.invoke(FunctionName="slow", Payload=b'{"order": 1}')
        elapsed = time.perf_counter() - started
    assert elapsed < 1
    records = stub["slow"].invocations
    assert [(r.attempt, r.ran, r.error_code) for r in records] == [
        (1, True, "ReadTimeoutError"), (2, True, "ReadTimeoutError"),
        (3, True, "ReadTimeoutError")]
    assert len({r.invocation_id for r in records}) == 1
    assert all(r.event == {"order": 1} for r in records)
    assert stub["slow"].call_count == 3
    assert len(stub.retry_delays) == 2


def test_the_duplicate_invocation_pitfall_with_the_default_read_timeout() -> None:
    lam = client()  # read_timeout 60 s, legacy retries
    durations = iter([61.0, 0.5])
    with stub_lambda() as stub:
        stub.add_function("slow", echo, timeout=900,
                          simulated_duration=lambda event: next(durations))
        response = lam.invoke(FunctionName="slow", Payload=b'{"charge": 10}')
    assert payload(response) == {"charge": 10}
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    # The function ran twice for one call.
    assert stub["slow"].call_count == 2
    assert [(r.attempt, r.error_code) for r in stub["slow"].invocations] == [
        (1, "ReadTimeoutError"), (2, None)]


def test_simulated_duration_callable_of_the_event() -> None:
    lam = client(read_timeout=5, **NO_RETRY)
    with stub_lambda() as stub:
        stub.add_function("f", echo, timeout=900, simulated_duration=lambda e: e["seconds"])
        assert lam.invoke(FunctionName="f", Payload=b'{"seconds": 4}')["StatusCode"] == 200
        with pytest.raises(ReadTimeoutError):
            lam.invoke(FunctionName="f", Payload=b'{"seconds": 6}')
    assert [r.error_code for r in stub["f"].invocations] == [None, "ReadTimeoutError"]


def test_function_timeout_first_when_shorter_than_the_read_timeout() -> None:
    lam = client(read_timeout=3)
    with stub_lambda() as stub:
        stub.add_function("slow", echo, timeout=2, simulated_duration=5)
        response = lam.invoke(FunctionName="slow", LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    assert payload(response) == timeout_payload(request_id, "2.00")
    assert "\tDuration: 2000.00 ms\t" in log_of(response)
    (record,) = stub["slow"].invocations
    assert (record.ran, record.error_code, record.error_type, record.duration) == (
        True, None, "Sandbox.Timedout", 2.0)


def test_read_timeout_first_when_shorter_than_the_function_timeout() -> None:
    lam = client(read_timeout=3, **NO_RETRY)
    with stub_lambda() as stub:
        stub.add_function("slow", echo, timeout=4, simulated_duration=5)
        with pytest.raises(ReadTimeoutError):
            lam.invoke(FunctionName="slow")
    assert stub["slow"].invocations[0].error_code == "ReadTimeoutError"


def test_report_duration_is_the_simulated_duration() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", echo, simulated_duration=1.5)
        started = time.perf_counter()
        response = lam.invoke(FunctionName="f", LogType="Tail")
        elapsed = time.perf_counter() - started
    assert elapsed < 1  # simulated, not waited
    request_id = response["ResponseMetadata"]["RequestId"]
    assert (f"REPORT RequestId: {request_id}\tDuration: 1500.00 ms\tBilled Duration: 1500 ms\t"
            in log_of(response))
    assert stub["f"].invocations[0].duration == 1.5


def test_event_invocations_only_see_the_function_timeout() -> None:
    lam = client(read_timeout=1)
    with stub_lambda() as stub:
        stub.add_function("f", echo, timeout=3, simulated_duration=2)
        response = lam.invoke(FunctionName="f", InvocationType="Event", Payload=b'"e"')
        stub.wait_idle(5)
    assert response["StatusCode"] == 202
    (record,) = stub["f"].invocations
    assert (record.ran, record.error_code, record.function_error) == (True, None, None)
    assert record.result == "e"


# -- runtime failures ----------------------------------------------------------------------------

def test_sys_exit_is_runtime_exit_error() -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: sys.exit()}):
        response = lam.invoke(FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    body = payload(response)
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited without "
                                    f"providing a reason"}
    assert list(body) == ["errorType", "errorMessage"]


@pytest.mark.parametrize("code, status", [(3, 3), ("bye", 1), (True, 1)])
def test_sys_exit_with_a_status(code: Any, status: int) -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: sys.exit(code)}):
        response = lam.invoke(FunctionName="f")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert payload(response) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                        f"exit status {status}"}


def test_sys_exit_on_a_worker_thread_is_runtime_exit_error() -> None:
    lam = client()
    responses: list[Any] = []
    with stub_lambda(functions={"f": lambda e, c: sys.exit()}):
        thread = threading.Thread(target=lambda: responses.append(lam.invoke(FunctionName="f")))
        thread.start()
        thread.join(5)
    assert payload(responses[0])["errorType"] == "Runtime.ExitError"


@pytest.mark.parametrize("size, error", [(RESPONSE_LIMIT, False), (RESPONSE_LIMIT + 1, True)])
def test_response_over_the_limit_is_response_size_too_large(size: int, error: bool) -> None:
    lam = client()
    with stub_lambda(functions={"f": lambda e, c: "x" * (size - 2)}) as stub:
        response = lam.invoke(FunctionName="f")
    body = response["Payload"].read()
    if not error:
        assert len(body) == size
        assert "FunctionError" not in response
        return
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(body) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
                        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge"}
    assert stub["f"].invocations[0].error_type == "Function.ResponseSizeTooLarge"


# -- recursive loops -----------------------------------------------------------------------------

def _looping(lam: Any, target: str, invocation_type: str = "RequestResponse",
             stop_at: int = 1000) -> Any:
    def handler(event: Any, context: Any) -> Any:
        depth = event["depth"]
        if depth >= stop_at:
            return {"reached": depth}
        try:
            response = lam.invoke(FunctionName=target, InvocationType=invocation_type,
                                  Payload=json.dumps({"depth": depth + 1}))
        except lam.exceptions.RecursiveInvocationException as exc:
            return {"stopped_at": depth, "code": exc.response["Error"]["Code"]}
        if invocation_type == "Event":
            return {"queued": depth}
        return payload(response)

    return handler


def test_recursive_loop_is_stopped_after_16_invocations() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("loop", _looping(lam, "loop"), timeout=30)
        response = lam.invoke(FunctionName="loop", Payload=b'{"depth": 1}')
    assert payload(response) == {"stopped_at": 16, "code": "RecursiveInvocationException"}
    records = stub["loop"].invocations
    assert stub["loop"].call_count == 16
    assert [r.error_code for r in records if not r.ran] == ["RecursiveInvocationException"]


def test_recursive_loop_through_another_function() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("ping", _looping(lam, "pong"), timeout=30)
        stub.add_function("pong", _looping(lam, "ping"), timeout=30)
        response = lam.invoke(FunctionName="ping", Payload=b'{"depth": 1}')
    # ping runs 16 times; its 17th invocation (by pong) is refused.
    assert payload(response) == {"stopped_at": 32, "code": "RecursiveInvocationException"}
    assert stub["ping"].call_count == 16
    assert stub["pong"].call_count == 16


@pytest.mark.parametrize("via_thread", [False, True], ids=["own-thread", "started-thread"])
@pytest.mark.parametrize("delivery", ["immediate", "background", "manual"])
def test_a_chain_of_event_invokes_is_stopped_and_the_event_goes_to_on_failure(
        delivery: str, via_thread: bool) -> None:
    """AWS: an asynchronous invoke in a loop is accepted (202); when Lambda detects the loop it
    stops that invocation and sends the event to the dead-letter queue or on-failure destination
    (condition ``RecursiveInvocation``). The caller's API call never fails, so no function error
    is retried because of the loop."""
    statuses: list[int] = []
    failures: list[Any] = []
    dead: list[Any] = []

    def loop(event: Any, context: Any) -> int:
        def send() -> None:
            response = client().invoke(FunctionName="loop", InvocationType="Event",
                                       Payload=json.dumps({"depth": event["depth"] + 1}))
            statuses.append(response["StatusCode"])  # an error here is a function error

        if via_thread:
            errors: list[BaseException] = []
            thread = threading.Thread(target=lambda: _capture(send, errors))
            thread.start()
            thread.join(60)
            if errors:
                raise errors[0]
        else:
            send()
        return int(event["depth"])

    with stub_lambda(event_delivery=delivery) as stub:
        stub.add_function("loop", loop, timeout=60, on_failure=failures.append,
                          dead_letter=dead.append)
        response = client().invoke(FunctionName="loop", InvocationType="Event",
                                   Payload=b'{"depth": 1}')
        assert response["StatusCode"] == 202
        if delivery == "manual":
            stub.drain()
        assert stub.wait_idle(60)
    runs = [r for r in stub["loop"].invocations if r.ran]
    assert [r.function_error for r in runs] == [None] * 16  # 16 invocations ran, none failed
    assert sorted(r.result for r in runs) == list(range(1, 17))
    assert [r.attempt for r in runs] == [1] * 16  # nothing retried
    assert statuses == [202] * 16  # each Event invoke was accepted, the 16th's too
    stopped = [r for r in stub["loop"].invocations if not r.ran]
    assert [(r.error_code, r.event) for r in stopped] == [
        ("RecursiveInvocationException", {"depth": 17})]
    [record] = failures
    assert record["requestContext"]["condition"] == "RecursiveInvocation"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"depth": 17}
    assert "responseContext" not in record
    [letter] = dead
    assert json.loads(letter["body"]) == {"depth": 17}
    assert letter["attributes"]["RequestID"]["StringValue"] == stopped[0].request_id
    assert stub.pending == []


def _capture(work: Any, errors: list[BaseException]) -> None:
    try:
        work()
    except BaseException as error:  # re-raised by the handler
        errors.append(error)


def test_a_synchronous_invoke_in_an_event_chain_is_still_refused() -> None:
    """The synchronous caller keeps getting ``RecursiveInvocationException``, also when the chain
    came through ``Event`` invokes."""
    answers: list[Any] = []

    def loop(event: Any, context: Any) -> None:
        depth = event["depth"]
        lam = client()
        if depth < 16:
            lam.invoke(FunctionName="loop", InvocationType="Event",
                       Payload=json.dumps({"depth": depth + 1}))
            return
        try:
            lam.invoke(FunctionName="loop", Payload=json.dumps({"depth": depth + 1}))
        except lam.exceptions.RecursiveInvocationException as exc:
            answers.append(exc.response["Error"]["Code"])

    with stub_lambda() as stub:
        stub.add_function("loop", loop, timeout=60)
        client().invoke(FunctionName="loop", InvocationType="Event", Payload=b'{"depth": 1}')
    assert answers == ["RecursiveInvocationException"]
    assert stub["loop"].call_count == 16


def test_recursive_loop_allow() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("loop", _looping(lam, "loop", stop_at=20), timeout=30,
                          recursive_loop="Allow")
        response = lam.invoke(FunctionName="loop", Payload=b'{"depth": 1}')
    assert payload(response) == {"reached": 20}
    assert stub["loop"].call_count == 20


def test_output_before_the_deadline_stays_in_the_log_on_a_worker_thread() -> None:
    """Called from a thread other than the main one, the handler runs on a worker: its output
    before the deadline is still in the timeout's log."""
    release = threading.Event()

    def slow(event: Any, context: Any) -> Any:
        print("started the slow part")
        release.wait(5)

    with stub_lambda() as stub:
        stub.add_function("slow", slow, timeout=1)
        box: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: box.setdefault(
            "response", client().invoke(FunctionName="slow", LogType="Tail")))
        worker.start()
        worker.join(10)
        release.set()
    log = stub["slow"].invocations[0].log
    assert box["response"]["FunctionError"] == "Unhandled"
    assert "started the slow part\n" in log
    assert "Task timed out after 1.00 seconds" in log
