"""Reliability: stress under threads, property-based requests, isolation between stubs and tests,
no network, and parallel runs under pytest-xdist."""

from __future__ import annotations

import base64
import collections
import json
import os
import signal
import socket
import textwrap
import threading
import time
from collections.abc import Mapping
from typing import Any

import botocore.session
import pytest
import wrapt
from botocore.client import BaseClient
from botocore.exceptions import ClientError, NoCredentialsError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_lambda_stub import LambdaStub, stub_lambda
from tests.helpers import REGION, client, payload

# -- stress ------------------------------------------------------------------------------------

THREADS = 16
CALLS_PER_THREAD = 500
STRESS_TIMEOUT = 600.0  # seconds: a deadlock fails the test instead of hanging the suite
THROTTLES = 40  # scripted TooManyRequestsException answers, consumed by botocore's retries

# Each thread cycles through these kinds of call; every kind has its own function(s), so the
# records of each can be counted exactly.
KINDS = ("ok", "error", "throttled", "nested", "event")


def _echo(event: Any, context: Any) -> Any:
    return event


def _boom(event: Any, context: Any) -> Any:
    raise ValueError(f"boom {event['i']}")


def _attempts(metadata: Mapping[str, Any]) -> int:
    return int(metadata.get("RetryAttempts", 0)) + 1


def test_stress_threads_mixing_every_kind_of_invoke() -> None:
    nested_client = client()

    def outer(event: Any, context: Any) -> Any:
        inner = nested_client.invoke(FunctionName="inner", Payload=json.dumps(event))
        return {"inner": payload(inner), "outer": context.aws_request_id}

    stub = stub_lambda(strict=True)
    stub.add_function("ok", _echo)
    stub.add_function("error", _boom)
    stub.add_function("throttled", _echo)
    stub.add_function("outer", outer)
    stub.add_function("inner", _echo)
    stub.add_function("event", _echo)
    stub["throttled"].fail("TooManyRequestsException", times=THROTTLES)

    counts: collections.Counter[str] = collections.Counter()
    throttled_attempts = 0
    request_ids: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def work(number: int) -> None:
        nonlocal throttled_attempts
        lam = client(retries={"mode": "standard", "max_attempts": 10})
        local: collections.Counter[str] = collections.Counter()
        local_attempts = 0
        ids: list[str] = []
        try:
            barrier.wait(60)
            for i in range(CALLS_PER_THREAD):
                kind = KINDS[(number + i) % len(KINDS)]
                body = json.dumps({"t": number, "i": i}).encode()
                if kind == "ok":
                    response = lam.invoke(FunctionName="ok", Payload=body)
                    assert payload(response) == {"t": number, "i": i}
                elif kind == "error":
                    response = lam.invoke(FunctionName="error", Payload=body)
                    assert response["FunctionError"] == "Unhandled"
                    assert payload(response)["errorMessage"] == f"boom {i}"
                elif kind == "throttled":
                    try:
                        response = lam.invoke(FunctionName="throttled", Payload=body)
                    except ClientError as error:  # retries (or the retry quota) ran out
                        assert error.response["Error"]["Code"] == "TooManyRequestsException"
                        local_attempts += _attempts(error.response["ResponseMetadata"])
                        ids.append(error.response["ResponseMetadata"]["RequestId"])
                        local[kind] += 1
                        continue
                    assert payload(response) == {"t": number, "i": i}
                    local_attempts += _attempts(response["ResponseMetadata"])
                elif kind == "nested":
                    response = lam.invoke(FunctionName="outer", Payload=body)
                    result = payload(response)
                    assert result["inner"] == {"t": number, "i": i}, result
                    assert result["outer"] == response["ResponseMetadata"]["RequestId"]
                else:
                    response = lam.invoke(FunctionName="event", InvocationType="Event",
                                          Payload=body)
                    assert response["StatusCode"] == 202
                if kind != "throttled":
                    assert _attempts(response["ResponseMetadata"]) == 1
                ids.append(response["ResponseMetadata"]["RequestId"])
                local[kind] += 1
        except BaseException as error:  # reported by the main thread
            with lock:
                problems.append(f"thread {number}: {type(error).__name__}: {error}")
            barrier.abort()
            return
        with lock:
            counts.update(local)
            throttled_attempts += local_attempts
            request_ids.extend(ids)

    started = time.monotonic()
    with stub:
        threads = [threading.Thread(target=work, args=(n,), name=f"stress-{n}", daemon=True)
                   for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(STRESS_TIMEOUT - (time.monotonic() - started), 0.1))
        alive = [thread.name for thread in threads if thread.is_alive()]
        assert not alive, f"deadlock: threads still running after {STRESS_TIMEOUT} s: {alive}"
    assert not problems, "\n".join(problems[:10])

    total = THREADS * CALLS_PER_THREAD
    per_kind = {kind: sum(1 for n in range(THREADS) for i in range(CALLS_PER_THREAD)
                          if KINDS[(n + i) % len(KINDS)] == kind) for kind in KINDS}
    assert sum(counts.values()) == total
    assert dict(counts) == per_kind

    # Every invocation is recorded exactly once, per function and overall.
    assert len(stub["ok"].invocations) == per_kind["ok"]
    assert stub["ok"].call_count == per_kind["ok"]
    assert len(stub["error"].invocations) == per_kind["error"]
    assert all(r.function_error == "Unhandled" for r in stub["error"].invocations)
    assert len(stub["outer"].invocations) == per_kind["nested"]
    assert len(stub["inner"].invocations) == per_kind["nested"]
    assert all(r.ran and r.function_error is None for r in stub["inner"].invocations)
    assert len(stub["event"].invocations) == per_kind["event"]
    assert all(r.invocation_type == "Event" for r in stub["event"].invocations)
    throttled = stub["throttled"].invocations
    assert len(throttled) == throttled_attempts
    refused = [r for r in throttled if not r.ran]
    assert len(refused) == THROTTLES
    assert all(r.error_code == "TooManyRequestsException" for r in refused)
    assert stub["throttled"].call_count == throttled_attempts - THROTTLES
    assert len(stub.invocations) == (total + per_kind["nested"]  # each nested call runs 2
                                     + throttled_attempts - per_kind["throttled"])
    assert len(stub.retry_delays) == throttled_attempts - per_kind["throttled"]

    recorded = collections.Counter(r.request_id for r in stub.invocations)
    assert len(recorded) == len(stub.invocations), "a request id was recorded twice"
    assert len(request_ids) == len(set(request_ids))
    missing = [rid for rid in request_ids if rid not in recorded]
    assert not missing, f"{len(missing)} answered requests were never recorded"
    assert stub.undeclared_calls == {}
    assert stub.stopped_with == []


# -- property-based ------------------------------------------------------------------------------


def _invoke_error_codes() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("lambda")
    modeled = {shape.name for shape in model.operation_model("Invoke").error_shapes}
    # Documented by AWS for Invoke, sent unmodeled by botocore.
    return frozenset(modeled | {"ValidationException", "RequestEntityTooLargeException"})


DOCUMENTED_CODES = _invoke_error_codes()

_names = st.one_of(
    st.text(max_size=80),
    st.sampled_from([
        "ok", "ok:1", "ok:live", "ok:$LATEST", "ok:nope", "missing",
        f"arn:aws:lambda:{REGION}:123456789012:function:ok",
        f"arn:aws:lambda:{REGION}:123456789012:function:ok:live",
        "arn:aws:lambda:us-east-1:123456789012:function:ok",
        "123456789012:function:ok", "a" * 65, "a" * 200, ".", "..", "ok/../x", "ok?x=1",
        "%2F", "ok#frag",
    ]),
    st.from_regex(r"[a-zA-Z0-9\-_.:$]{1,70}", fullmatch=True),
)
_qualifiers = st.one_of(st.none(), st.text(max_size=140),
                        st.sampled_from(["1", "live", "$LATEST", "$LATEST.PUBLISHED", "2", ""]))
_payloads = st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                 max_leaves=8).map(lambda value: json.dumps(value).encode()),
)
_client_contexts = st.one_of(
    st.none(),
    st.text(max_size=100),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3).map(
        lambda value: base64.b64encode(json.dumps(value).encode()).decode()),
    st.binary(max_size=60).map(lambda raw: base64.b64encode(raw).decode()),
)
_invocation_types = st.one_of(st.sampled_from(["RequestResponse", "Event", "DryRun"]),
                              st.text(max_size=20))
_log_types = st.one_of(st.none(), st.sampled_from(["None", "Tail"]), st.text(max_size=8))


def _property_stub() -> LambdaStub:
    stub = stub_lambda(strict=False)
    stub.add_function("ok", _echo, versions={"1": _echo}, aliases={"live": "1"})
    return stub


def _outcome(lam: Any, kwargs: dict[str, Any]) -> str:
    """Invoke and classify: only documented outcomes return; anything else raises."""
    try:
        response = lam.invoke(**kwargs)
    except ParamValidationError:
        return "ParamValidationError"
    except ClientError as error:
        code = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        assert code in DOCUMENTED_CODES, f"undocumented error code {code!r} for {kwargs!r}"
        assert 400 <= status < 600, status
        return code
    status = response["StatusCode"]
    assert 200 <= status < 300, response
    response["Payload"].read()
    return str(status)


def _kwargs(name: str, qualifier: str | None, body: bytes, client_context: str | None,
            invocation_type: str, log_type: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"FunctionName": name, "Payload": body,
                              "InvocationType": invocation_type}
    if qualifier is not None:
        kwargs["Qualifier"] = qualifier
    if client_context is not None:
        kwargs["ClientContext"] = client_context
    if log_type is not None:
        kwargs["LogType"] = log_type
    return kwargs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_names, qualifier=_qualifiers, body=_payloads, client_context=_client_contexts,
       invocation_type=_invocation_types, log_type=_log_types)
def test_arbitrary_requests_only_produce_documented_outcomes(
        name: str, qualifier: str | None, body: bytes, client_context: str | None,
        invocation_type: str, log_type: str | None) -> None:
    kwargs = _kwargs(name, qualifier, body, client_context, invocation_type, log_type)
    lam = client(retries={"total_max_attempts": 1})
    with _property_stub():
        _outcome(lam, kwargs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_names, qualifier=_qualifiers, body=_payloads, client_context=_client_contexts,
       invocation_type=_invocation_types, log_type=_log_types)
def test_arbitrary_requests_from_a_thread_never_hang(
        name: str, qualifier: str | None, body: bytes, client_context: str | None,
        invocation_type: str, log_type: str | None) -> None:
    # Off the main thread handlers run on worker threads: a hang shows as a join timeout.
    kwargs = _kwargs(name, qualifier, body, client_context, invocation_type, log_type)
    lam = client(retries={"total_max_attempts": 1})
    result: list[str] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(_outcome(lam, kwargs))
        except BaseException as error:
            failure.append(error)

    with _property_stub():
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), f"invoke hung: {kwargs!r}"
    if failure:
        raise failure[0]
    assert result


def test_documented_outcomes_include_the_common_ones() -> None:
    # The classifier above is not vacuous: each kind of outcome really occurs.
    lam = client(retries={"total_max_attempts": 1})
    seen = set()
    with _property_stub():
        for kwargs in (
            {"FunctionName": "ok", "Payload": b"{}"},
            {"FunctionName": "ok", "InvocationType": "Event"},
            {"FunctionName": "ok", "InvocationType": "DryRun"},
            {"FunctionName": "missing"},
            {"FunctionName": "ok", "InvocationType": "Bogus"},
            {"FunctionName": "ok", "Payload": b"{"},
            {"FunctionName": ""},
            {"FunctionName": "ok", "ClientContext": "not base64"},
        ):
            seen.add(_outcome(lam, kwargs))
    assert seen == {"200", "202", "204", "ResourceNotFoundException", "ValidationException",
                    "InvalidRequestContentException", "ParamValidationError"}


# -- isolation -----------------------------------------------------------------------------------


def _stub_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lambda-stub")]


def _stub_handler_ids(lam: Any) -> list[str]:
    emitter = lam.meta.events._emitter
    return [str(uid) for uid in getattr(emitter, "_unique_id_handlers", {})
            if str(uid).startswith("lambda-stub")]


def test_after_stop_no_hook_answers_and_botocore_behaves_as_without_the_package() -> None:
    lam = client()
    environ = dict(os.environ)
    alarm = signal.getsignal(signal.SIGALRM)
    with stub_lambda(functions={"f": _echo}) as stub:
        assert payload(lam.invoke(FunctionName="f", Payload=b'{"a": 1}')) == {"a": 1}
        assert _stub_handler_ids(lam)
    assert _stub_handler_ids(lam) == []
    assert not isinstance(BaseClient.__dict__["_make_api_call"], wrapt.FunctionWrapper)
    # Without the stub this client has no credentials: botocore refuses before any network.
    with pytest.raises(NoCredentialsError):
        lam.invoke(FunctionName="f", Payload=b"{}")
    with pytest.raises(NoCredentialsError):
        client().invoke(FunctionName="f")
    assert len(stub["f"].invocations) == 1
    assert dict(os.environ) == environ
    assert signal.getsignal(signal.SIGALRM) == alarm
    assert _stub_threads() == []


def test_environment_is_restored_even_when_the_handler_raises() -> None:
    environ = dict(os.environ)
    seen: list[str | None] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(os.environ.get("RELIABILITY_VAR"))
        if event.get("raise"):
            raise RuntimeError("inside the handler")
        return {}

    lam = client()
    with stub_lambda() as stub:
        stub.add_function("env", handler, environment={"RELIABILITY_VAR": "set",
                                                       "HOME": "/lambda-home"})
        lam.invoke(FunctionName="env", Payload=b"{}")
        response = lam.invoke(FunctionName="env", Payload=b'{"raise": true}')
        assert response["FunctionError"] == "Unhandled"
        assert "RELIABILITY_VAR" not in os.environ
        assert os.environ.get("HOME") == environ.get("HOME")
    assert seen == ["set", "set"]
    assert dict(os.environ) == environ


def test_no_stub_thread_is_left_after_stop() -> None:
    lam = client()
    with stub_lambda(functions={"f": _echo, "g": _echo}, event_delivery="background") as stub:
        # Off the main thread handlers run on worker threads; background delivery has its own.
        workers = [threading.Thread(target=lambda: [lam.invoke(FunctionName="f")
                                                    for _ in range(5)]) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        lam.invoke(FunctionName="g", InvocationType="Event", Payload=b"{}")
        assert _stub_threads(), "expected stub threads while active"
        deadline = time.monotonic() + 10
        while stub.pending and time.monotonic() < deadline:
            time.sleep(0.01)
    assert stub.stopped_with == []
    assert _stub_threads() == []
    assert len(stub["f"].invocations) == 20


def test_a_failing_test_leaves_nothing_for_the_next_one(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent("""
        import os
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                     "AWS_PROFILE"):
            os.environ.pop(name, None)
    """))
    pytester.makepyfile(test_leaks=textwrap.dedent("""
        import json, logging, os, signal, sys, threading
        import boto3, botocore.exceptions, pytest, wrapt
        from botocore.client import BaseClient
        from pytest_lambda_stub import stub_lambda

        def environ():
            return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}

        ENV = environ()
        ALARM = signal.getsignal(signal.SIGALRM)
        lam = boto3.client("lambda", region_name="eu-west-1")

        def clean():
            assert environ() == ENV
            assert signal.getsignal(signal.SIGALRM) == ALARM
            assert not [h for h in logging.getLogger().handlers
                        if type(h).__module__.startswith("pytest_lambda_stub")]
            for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                assert not getattr(stream.write, "__lambda_stub_routed__", False)
            assert not [t.name for t in threading.enumerate()
                        if t.name.startswith("lambda-stub")]
            assert not isinstance(BaseClient.__dict__["_make_api_call"], wrapt.FunctionWrapper)
            with pytest.raises(botocore.exceptions.NoCredentialsError):
                lam.invoke(FunctionName="f")

        def boom(event, context):
            print("handler output")
            raise RuntimeError("in the handler")

        def test_1_fixture_test_raises(lambda_stub):
            lambda_stub.add_function("f", boom, environment={"LEAK_VAR": "x"})
            lam.invoke(FunctionName="f")
            threading.Thread(target=lam.invoke, kwargs={"FunctionName": "f"}).start()
            raise RuntimeError("the test itself raises while the stub is active")

        def test_2_clean():
            clean()

        def test_3_context_manager_assertion_fails():
            with stub_lambda(functions={"f": boom}) as stub:
                lam.invoke(FunctionName="f")
                assert stub["f"].call_count == 99

        def test_4_clean():
            clean()

        @stub_lambda(functions={"f": boom}, event_delivery="background")
        def test_5_decorated_handler_interrupts():
            lam.invoke(FunctionName="f", InvocationType="Event")
            raise KeyError("decorated test fails")

        def test_6_clean():
            clean()

        def test_7_strict_teardown_error(lambda_stub):
            with pytest.raises(lam.exceptions.ResourceNotFoundException):
                lam.invoke(FunctionName="undeclared-function")

        def test_8_fresh_fixture_sees_nothing_from_before(lambda_stub):
            assert lambda_stub.invocations == []
            assert "f" not in lambda_stub
            assert lambda_stub.undeclared_calls == {}
            lambda_stub.add_function("f", lambda e, c: "fresh")
            assert json.loads(lam.invoke(FunctionName="f")["Payload"].read()) == "fresh"

        def test_9_clean():
            clean()
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=6, failed=3, errors=1)
    result.stdout.fnmatch_lines(["*test_7_strict_teardown_error*",
                                 "*undeclared function 'undeclared-function'*"])


# -- no network ----------------------------------------------------------------------------------


def test_non_loopback_connections_fail_loudly() -> None:
    with pytest.raises(RuntimeError, match="network is blocked"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RuntimeError, match="network is blocked"):
            sock.connect(("203.0.113.7", 80))
        with pytest.raises(RuntimeError, match="network is blocked"):
            sock.connect_ex(("198.51.100.1", 80))
    finally:
        sock.close()


def test_loopback_connections_still_work() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        with socket.create_connection(server.getsockname(), timeout=5):
            accepted, _ = server.accept()
            accepted.close()
    finally:
        server.close()


# -- parallel runs -------------------------------------------------------------------------------


def test_a_user_suite_using_the_fixture_passes_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makeconftest(textwrap.dedent("""
        import os
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                     "AWS_PROFILE"):
            os.environ.pop(name, None)
    """))
    tests = ["import json, os, threading", "import boto3, pytest", ""]
    for number in range(12):
        tests.append(textwrap.dedent(f"""
            @pytest.mark.lambda_stub(strict=True)
            def test_{number}(lambda_stub):
                lambda_stub.add_function("f{number}", lambda e, c: {{"n": e["n"], "w": os.environ.get("PYTEST_XDIST_WORKER")}})
                lam = boto3.client("lambda", region_name="eu-west-1")
                results = []
                def call(i):
                    r = lam.invoke(FunctionName="f{number}", Payload=json.dumps({{"n": i}}))
                    results.append(json.loads(r["Payload"].read())["n"])
                threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
                for t in threads: t.start()
                for t in threads: t.join(30)
                call(99)
                assert sorted(results) == [0, 1, 2, 3, 99]
                assert lambda_stub["f{number}"].call_count == 5
                assert len(lambda_stub.invocations) == 5
        """))
    pytester.makepyfile(test_user_suite="\n".join(tests))
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*2 workers*"])

