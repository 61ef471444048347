"""Deadlines that hold whatever the handler does, and process-wide state (signals) left as found:
handlers that swallow every exception or sit in a long C call, nested invokes cut short by
their caller's deadline, stubs stopped from another thread, pytest-timeout alongside."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload

MARGIN = 1.5  # seconds past a deadline the caller may wait on a loaded machine


def _wait_for(condition: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def _timed_out(response: dict[str, Any]) -> bool:
    body = payload(response)
    return response.get("FunctionError") == "Unhandled" and body["errorType"] == "Sandbox.Timedout"


# -- the deadline holds on the main thread (C9) --------------------------------------------------


def test_a_handler_swallowing_base_exception_is_cut_at_its_deadline() -> None:
    assert threading.current_thread() is threading.main_thread()

    def stubborn(event: Any, context: Any) -> Any:
        until = time.monotonic() + 4
        while time.monotonic() < until:
            try:
                time.sleep(0.01)
            except BaseException:  # swallows whatever interrupts it
                pass
        return "swallowed"

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("stubborn", stubborn, timeout=1)
        started = time.perf_counter()
        response = lam.invoke(FunctionName="stubborn")
        elapsed = time.perf_counter() - started
        assert _timed_out(response)
        assert 1 <= elapsed < 1 + MARGIN
        _wait_for(lambda: stub["stubborn"].late_results)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert [(late.request_id, late.value) for late in stub["stubborn"].late_results] == [
        (request_id, b'"swallowed"')]
    assert [r.error_type for r in stub["stubborn"].invocations] == ["Sandbox.Timedout"]


def test_a_handler_in_a_long_c_call_is_cut_at_its_deadline() -> None:
    def hashing(event: Any, context: Any) -> Any:
        # One C call of several seconds that never returns to the interpreter (no signal
        # handler can run in it); it releases the GIL, as hashlib does for long work.
        return hashlib.pbkdf2_hmac("sha256", b"secret", b"salt", 16_000_000).hex()[:8]

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("hashing", hashing, timeout=1)
        started = time.perf_counter()
        response = lam.invoke(FunctionName="hashing")
        elapsed = time.perf_counter() - started
        assert _timed_out(response)
        assert 1 <= elapsed < 1 + MARGIN
        _wait_for(lambda: stub["hashing"].late_results, 60)
    [late] = stub["hashing"].late_results
    assert late.request_id == response["ResponseMetadata"]["RequestId"]
    assert isinstance(late.value, bytes) and len(late.value) == 10  # '"xxxxxxxx"'


def test_a_handler_waiting_on_an_event_is_cut_at_its_deadline() -> None:
    release = threading.Event()

    def waiting(event: Any, context: Any) -> Any:
        try:
            release.wait(6)
        except BaseException:
            release.wait(6)
        return "released"

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("waiting", waiting, timeout=1)
        started = time.perf_counter()
        response = lam.invoke(FunctionName="waiting")
        elapsed = time.perf_counter() - started
        release.set()
        _wait_for(lambda: stub["waiting"].late_results)
    assert _timed_out(response)
    assert 1 <= elapsed < 1 + MARGIN
    assert stub["waiting"].late_results[0].value == b'"released"'


# -- a nested invoke cut short by its caller's deadline (C13) ----------------------------------


def test_a_nested_invoke_cut_by_its_callers_deadline_is_recorded_with_its_late_result() -> None:
    nested = client()
    seen: list[Any] = []

    def outer(event: Any, context: Any) -> Any:
        try:
            response = nested.invoke(FunctionName="inner")
            seen.append(payload(response))
        except BaseException as exc:  # what the outer handler sees at its own deadline
            seen.append(type(exc).__name__)
            raise
        return "outer done"

    def inner(event: Any, context: Any) -> Any:
        time.sleep(2)
        return "inner done"

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("outer", outer, timeout=1)
        stub.add_function("inner", inner, timeout=5)
        started = time.perf_counter()
        response = lam.invoke(FunctionName="outer")
        elapsed = time.perf_counter() - started
        assert _timed_out(response)
        assert 1 <= elapsed < 1 + MARGIN
        _wait_for(lambda: stub["inner"].late_results)
    [record] = stub["inner"].invocations
    assert record.ran and record.function_error is None and record.result == "inner done"
    assert [(late.request_id, late.value) for late in stub["inner"].late_results] == [
        (record.request_id, b'"inner done"')]
    # The outer handler, past its deadline, never got the inner result: it was stopped.
    assert seen == ["Interrupted"]
    assert [r.error_type for r in stub["outer"].invocations] == ["Sandbox.Timedout"]
    assert stub["outer"].late_results == []  # stopped at its deadline: no late result


def test_a_nested_invoke_within_its_callers_deadline_is_unaffected() -> None:
    nested = client()

    def outer(event: Any, context: Any) -> Any:
        return payload(nested.invoke(FunctionName="inner"))

    lam = client()
    with stub_lambda({"outer": outer, "inner": lambda event, context: "fast"}) as stub:
        response = lam.invoke(FunctionName="outer")
    assert payload(response) == "fast"
    assert stub["inner"].late_results == [] and stub["outer"].late_results == []


# -- nothing left behind in the process's signal state (B5) ------------------------------------


def test_a_stub_stopped_on_another_thread_leaves_sigalrm_as_found() -> None:
    before = signal.getsignal(signal.SIGALRM)
    timer = signal.getitimer(signal.ITIMER_REAL)
    stub = stub_lambda({"f": lambda event, context: "ok"})
    stub.start()
    client().invoke(FunctionName="f")
    stopper = threading.Thread(target=stub.stop)
    stopper.start()
    stopper.join(10)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == timer
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        _wait_for(lambda: fired, 5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == [signal.SIGALRM]


def test_the_processs_own_alarm_still_fires_after_a_stub_stopped_on_another_thread() -> None:
    # SIGALRM's default action ends the process: it must still do so once the stub has gone.
    script = textwrap.dedent("""
        import signal, threading, time
        import boto3
        from pytest_lambda_stub import stub_lambda

        stub = stub_lambda({"f": lambda event, context: "ok"})
        stub.start()
        boto3.client("lambda", region_name="eu-west-1").invoke(FunctionName="f")
        stopper = threading.Thread(target=stub.stop)
        stopper.start()
        stopper.join()
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        time.sleep(10)
        print("the alarm was swallowed")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == -signal.SIGALRM, (result.returncode, result.stdout,
                                                  result.stderr)


# -- pytest-timeout alongside -------------------------------------------------------------------

TIMEOUT_SUITE = """
    import time
    import boto3
    import pytest

    def lam():
        return boto3.client("lambda", region_name="eu-west-1")

    def test_overrun_answers_timedout(lambda_stub):
        lambda_stub.add_function("slow", lambda event, context: time.sleep(3), timeout=1)
        response = lam().invoke(FunctionName="slow")
        assert response["FunctionError"] == "Unhandled"

    def test_fast_after(lambda_stub):
        lambda_stub.add_function("fast", returns="ok")
        assert lam().invoke(FunctionName="fast")["StatusCode"] == 200
"""


@pytest.mark.parametrize("method", ["signal", "thread"])
def test_pytest_timeout_and_the_stubs_deadline_side_by_side(
        pytester: pytest.Pytester, method: str) -> None:
    pytest.importorskip("pytest_timeout")
    pytester.makepyfile(test_it=textwrap.dedent(TIMEOUT_SUITE))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "timeout",
                                           "--timeout=30", f"--timeout-method={method}")
    result.assert_outcomes(passed=2)


def test_pytest_timeout_signal_method_fails_a_hung_test_and_the_next_one_runs(
        pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_timeout")
    pytester.makepyfile(test_it=textwrap.dedent("""
        import signal, time
        import boto3

        def lam():
            return boto3.client("lambda", region_name="eu-west-1")

        def test_hung(lambda_stub):
            lambda_stub.add_function("hung", lambda event, context: time.sleep(8), timeout=60)
            lam().invoke(FunctionName="hung")

        def test_next(lambda_stub):
            lambda_stub.add_function("fast", returns="ok")
            assert lam().invoke(FunctionName="fast")["StatusCode"] == 200
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "timeout",
                                           "--timeout=2", "--timeout-method=signal")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Timeout*2*"])
