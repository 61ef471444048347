"""Many threads at once: exact counts of records, no event lost to a simulated clock that runs
ahead of real executions."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pytest_lambda_stub import stub_lambda
from tests.helpers import client

THREADS = 16
CALLS = 500


def _run_threads(count: int, work: Any) -> list[str]:
    problems: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def run(number: int) -> None:
        try:
            barrier.wait(60)
            work(number)
        except BaseException as error:  # reported by the main thread
            with lock:
                problems.append(f"thread {number}: {type(error).__name__}: {error}")
            barrier.abort()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not [t for t in threads if t.is_alive()], "threads still running"
    return problems


# -- D14: throttled events wait for the slot -----------------------------------------------------


def test_immediate_events_with_one_slot_and_eight_threads_are_all_delivered() -> None:
    delivered: list[int] = []
    failures: list[Any] = []
    lock = threading.Lock()

    def handler(event: Any, context: Any) -> None:
        time.sleep(0.001)  # hold the slot a little, as real work would
        with lock:
            delivered.append(event["n"])

    per_thread = 50
    with stub_lambda() as stub:
        stub.add_function("one", handler, reserved_concurrency=1, on_failure=failures.append)

        def work(number: int) -> None:
            lam = client()
            for i in range(per_thread):
                body = json.dumps({"n": number * per_thread + i})
                assert lam.invoke(FunctionName="one", InvocationType="Event",
                                  Payload=body)["StatusCode"] == 202

        problems = _run_threads(8, work)
    assert problems == []
    assert sorted(delivered) == list(range(8 * per_thread))  # every event, exactly once
    assert failures == []
    runs = [r for r in stub["one"].invocations if r.ran]
    assert len(runs) == 8 * per_thread and all(r.function_error is None for r in runs)
    assert stub.pending == []


@pytest.mark.parametrize("delivery", ["immediate", "background", "manual"])
def test_throttled_events_with_nothing_running_still_back_off_and_expire(delivery: str) -> None:
    # account_concurrency=0: nothing running will ever free a slot, so waiting would hang.
    failures: list[Any] = []
    with stub_lambda(account_concurrency=0, event_delivery=delivery) as stub:
        stub.add_function("f", returns="ok", maximum_event_age=60, on_failure=failures.append)
        client().invoke(FunctionName="f", InvocationType="Event")
        if delivery == "manual":
            stub.drain()
        assert stub.wait_idle(60)
    assert [f["requestContext"]["condition"] for f in failures] == ["EventAgeExceeded"]
    assert stub["f"].call_count == 0


# -- 16 threads x 500 mixed calls: exact counts ----------------------------------------------------


def _echo(event: Any, context: Any) -> Any:
    return event


def _boom(event: Any, context: Any) -> Any:
    raise ValueError(f"boom {event['i']}")


def _stream(event: Any, context: Any) -> Any:
    yield b"a"
    yield {"i": event["i"]}


KINDS = ("sync", "event", "stream", "error", "event-error", "dry-run", "missing", "bad-json")


def test_sixteen_threads_of_mixed_calls_leave_exact_records() -> None:
    with stub_lambda(strict=False) as stub:
        stub.add_function("sync", _echo)
        stub.add_function("event", _echo)
        stub.add_function("stream", _stream)
        stub.add_function("error", _boom)
        stub.add_function("event_error", _boom, maximum_retry_attempts=1)
        counts: collections.Counter[str] = collections.Counter()
        counts_lock = threading.Lock()

        def work(number: int) -> None:
            lam = client(retries={"total_max_attempts": 1})
            local: collections.Counter[str] = collections.Counter()
            for i in range(CALLS):
                kind = KINDS[(number + i) % len(KINDS)]
                body = json.dumps({"t": number, "i": i}).encode()
                if kind == "sync":
                    response = lam.invoke(FunctionName="sync", Payload=body)
                    assert json.loads(response["Payload"].read()) == {"t": number, "i": i}
                elif kind == "event":
                    assert lam.invoke(FunctionName="event", InvocationType="Event",
                                      Payload=body)["StatusCode"] == 202
                elif kind == "stream":
                    response = lam.invoke_with_response_stream(FunctionName="stream",
                                                               Payload=body)
                    chunks = [e["PayloadChunk"]["Payload"] for e in response["EventStream"]
                              if "PayloadChunk" in e]
                    assert chunks == [b"a", json.dumps({"i": i}).encode()]
                elif kind == "error":
                    response = lam.invoke(FunctionName="error", Payload=body)
                    assert response["FunctionError"] == "Unhandled"
                elif kind == "event-error":
                    lam.invoke(FunctionName="event_error", InvocationType="Event", Payload=body)
                elif kind == "dry-run":
                    assert lam.invoke(FunctionName="sync", InvocationType="DryRun",
                                      Payload=body)["StatusCode"] == 204
                elif kind == "missing":
                    try:
                        lam.invoke(FunctionName="missing", Payload=body)
                    except ClientError as error:
                        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
                    else:
                        raise AssertionError("missing function answered")
                else:
                    try:
                        lam.invoke(FunctionName="sync", Payload=b"[" + body)
                    except ClientError as error:
                        assert error.response["Error"]["Code"] == \
                            "InvalidRequestContentException"
                    else:
                        raise AssertionError("bad JSON accepted")
                local[kind] += 1
            with counts_lock:
                counts.update(local)

        problems = _run_threads(THREADS, work)
    assert problems == []
    per_kind = THREADS * CALLS // len(KINDS)
    assert counts == dict.fromkeys(KINDS, per_kind)

    def records(name: str) -> list[Any]:
        return stub[name].invocations

    sync = records("sync")
    assert sum(1 for r in sync if r.ran and r.invocation_type == "RequestResponse") == per_kind
    assert sum(1 for r in sync if r.invocation_type == "DryRun" and r.status_code == 204) \
        == per_kind
    assert sum(1 for r in sync if r.error_code == "InvalidRequestContentException") == per_kind
    assert len(sync) == 3 * per_kind
    assert len(records("event")) == per_kind and all(r.ran for r in records("event"))
    assert len(records("stream")) == per_kind and all(
        r.chunks == (b"a", json.dumps({"i": json.loads(r.payload)["i"]}).encode())
        for r in records("stream"))
    assert len(records("error")) == per_kind
    # Two attempts each (maximum_retry_attempts=1), all failing.
    event_errors = records("event_error")
    assert len(event_errors) == 2 * per_kind
    assert collections.Counter(r.attempt for r in event_errors) == {1: per_kind, 2: per_kind}
    assert stub.undeclared_calls == {"missing": per_kind}
    # Every request id of the whole run is unique, except an event's attempts sharing one.
    ids = [r.request_id for r in stub.invocations if r.attempt == 1]
    assert len(ids) == len(set(ids))
    assert stub.pending == []
    assert all(f.running == 0 for f in stub)


def test_start_stop_cycles_with_threads_leave_no_thread_or_descriptor() -> None:
    import gc
    import os

    def open_descriptors() -> int:
        return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0

    def stub_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("lambda-stub")]

    lam = client()
    lam.invoke  # noqa: B018  # the client's own set-up happens before counting
    gc.collect()
    before = open_descriptors()
    for cycle in range(200):
        with stub_lambda({"f": _echo}) as stub:
            lam.invoke(FunctionName="f", Payload=b"1")
            caller = threading.Thread(target=lambda: lam.invoke(FunctionName="f", Payload=b"2"))
            caller.start()
            caller.join(10)
        assert len(stub["f"].invocations) == 2, cycle
    gc.collect()
    assert stub_threads() == []
    assert open_descriptors() <= before + 2  # this thread's own wake-up pipe, kept for reuse


def test_a_forked_child_invoking_while_a_stub_is_active_is_answered() -> None:
    # Worker threads do not survive fork(): the child must not wait for the parent's.
    script = textwrap.dedent("""
        import json, multiprocessing, sys, time
        import boto3
        from pytest_lambda_stub import stub_lambda

        def child(queue):
            lam = boto3.client("lambda", region_name="eu-west-1")
            started = time.perf_counter()
            body = json.loads(lam.invoke(FunctionName="f", Payload=b"[7]")["Payload"].read())
            queue.put((body, time.perf_counter() - started))

        if __name__ == "__main__":
            lam = boto3.client("lambda", region_name="eu-west-1")
            with stub_lambda({"f": lambda event, context: event}, strict=False):
                lam.invoke(FunctionName="f", Payload=b"[1]")  # the parent has a worker now
                context = multiprocessing.get_context("fork")
                queue = context.Queue()
                process = context.Process(target=child, args=(queue,))
                process.start()
                body, elapsed = queue.get(timeout=30)
                process.join(30)
                assert lam.invoke(FunctionName="f", Payload=b"[2]")["Payload"].read() == b"[2]"
            print(json.dumps({"body": body, "fast": elapsed < 2.5}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"body": [7], "fast": True}


# -- background and manual delivery: a throttled event waits for the slot too -------------------


def test_background_event_throttled_by_its_running_caller_is_delivered_once_the_slot_frees(
) -> None:
    """The Zappa / lambda-warmer pattern: a handler holding its function's only slot sends
    ``Event`` invokes to itself. Lambda delivers them once the slot frees; the stub used to run
    the throttle backoff through six simulated hours while the handler ran 0.3 s."""
    delivered: list[int] = []
    failures: list[Any] = []
    lock = threading.Lock()
    lam = client()

    def handler(event: Any, context: Any) -> str:
        if event.get("fan_out"):
            for n in range(10):
                response = lam.invoke(FunctionName="one", InvocationType="Event",
                                      Payload=json.dumps({"n": n}))
                assert response["StatusCode"] == 202
            time.sleep(0.3)  # still holding the slot
            return "sent"
        with lock:
            delivered.append(event["n"])
        return "ok"

    with stub_lambda(event_delivery="background") as stub:
        stub.add_function("one", handler, reserved_concurrency=1, on_failure=failures.append)
        response = lam.invoke(FunctionName="one", Payload=b'{"fan_out": true}')
        assert response["StatusCode"] == 200 and "FunctionError" not in response
        assert stub.wait_idle(60)
    assert sorted(delivered) == list(range(10))  # every event, exactly once
    assert failures == []
    assert [r.error_code for r in stub["one"].invocations if not r.ran] == []
    assert [r.attempt for r in stub["one"].invocations if r.invocation_type == "Event"] == [1] * 10


def test_background_event_waiting_for_a_slot_does_not_hold_up_other_functions() -> None:
    """While one event waits for its function's slot, the queue goes on delivering events for
    other functions (Lambda's queue is not one line): a handler that sends an ``Event`` invoke
    to another function and waits for it to run gets it."""
    other_ran = threading.Event()
    lam = client()

    def holder(event: Any, context: Any) -> bool:
        if event.get("child"):
            return True
        lam.invoke(FunctionName="holder", InvocationType="Event", Payload=b'{"child": true}')
        time.sleep(0.2)  # let the queue take the throttled child first
        lam.invoke(FunctionName="other", InvocationType="Event", Payload=b"{}")
        return other_ran.wait(20)

    with stub_lambda(event_delivery="background") as stub:
        stub.add_function("holder", holder, reserved_concurrency=1, timeout=60)
        stub.add_function("other", lambda event, context: other_ran.set())
        response = lam.invoke(FunctionName="holder", Payload=b"{}")
        assert stub.wait_idle(60)
    assert json.loads(response["Payload"].read()) is True
    runs = [(r.function_name, r.invocation_type, r.ran, r.error_code) for r in stub.invocations]
    assert sorted(runs) == sorted([("holder", "RequestResponse", True, None),
                                   ("holder", "Event", True, None),
                                   ("other", "Event", True, None)])


def test_manual_drain_waits_for_a_slot_another_thread_holds() -> None:
    """``drain()`` while an execution on another thread holds the only slot: the event waits for
    it (in real time) and is delivered once, rather than backing off through its whole age."""
    release = threading.Event()
    running = threading.Event()
    failures: list[Any] = []
    lam = client()

    def handler(event: Any, context: Any) -> str:
        if event.get("hold"):
            running.set()
            release.wait(30)
            return "held"
        return "delivered"

    with stub_lambda(event_delivery="manual") as stub:
        stub.add_function("one", handler, reserved_concurrency=1, on_failure=failures.append)
        lam.invoke(FunctionName="one", InvocationType="Event", Payload=b'{"n": 1}')
        holder = threading.Thread(target=lambda: client().invoke(
            FunctionName="one", Payload=b'{"hold": true}'))
        holder.start()
        assert running.wait(30)
        timer = threading.Timer(0.3, release.set)
        timer.start()
        ran = stub.drain()
        holder.join(30)
        timer.join(30)
    assert [r.result for r in ran] == ["delivered"]
    assert failures == []
    assert [r.error_code for r in stub["one"].invocations if not r.ran] == []
    assert stub["one"].call_count == 2 and stub.pending == []


def test_drain_from_a_handler_holding_the_slot_does_not_wait_for_itself() -> None:
    """A handler that calls ``drain()`` holds the slot the queued event needs: waiting would wait
    for itself, so the throttle backoff applies there (and the event expires), without hanging."""
    failures: list[Any] = []
    lam = client()

    with stub_lambda(event_delivery="manual") as stub:
        def handler(event: Any, context: Any) -> Any:
            if event.get("drain"):
                return len(stub.drain())
            return "ran"

        stub.add_function("one", handler, reserved_concurrency=1, maximum_event_age=60,
                          on_failure=failures.append, timeout=60)
        lam.invoke(FunctionName="one", InvocationType="Event")
        response = lam.invoke(FunctionName="one", Payload=b'{"drain": true}')
    assert "FunctionError" not in response
    assert [f["requestContext"]["condition"] for f in failures] == ["EventAgeExceeded"]
    assert {r.error_code for r in stub["one"].invocations if not r.ran} == {
        "TooManyRequestsException"}


def test_stopping_with_an_event_waiting_for_a_slot_reports_it_and_does_not_hang() -> None:
    release = threading.Event()
    holding = threading.Event()
    lam = client()

    def handler(event: Any, context: Any) -> None:
        if event.get("hold"):
            lam.invoke(FunctionName="one", InvocationType="Event", Payload=b"{}")
            holding.set()
            release.wait(30)

    stub = stub_lambda(event_delivery="background", strict=False)
    stub.add_function("one", handler, reserved_concurrency=1, timeout=60)
    stub.start()
    holder = threading.Thread(target=lambda: lam.invoke(FunctionName="one",
                                                        Payload=b'{"hold": true}'))
    holder.start()
    try:
        assert holding.wait(30)
        time.sleep(0.2)  # the worker takes the event and finds the slot held
        assert stub.wait_idle(0.2) is False  # still waiting for the slot
        with pytest.warns(UserWarning, match="1 event"):
            stub.stop()
    finally:
        release.set()
        holder.join(30)
    assert [r.invocation_type for r in stub["one"].invocations] == ["RequestResponse"]
