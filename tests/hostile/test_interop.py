"""The libraries people run beside the stub: tracers that wrap (and unwrap) botocore's client,
moto, botocore's Stubber on the same client, and time freezers.

The tracers patch botocore for the whole process (aws-xray-sdk and sentry-sdk never undo it), so
each runs in a pytest subprocess of its own. Their clients point at a local recording endpoint
with fake credentials: a call the stub did not take would reach it (and be counted)."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_lambda_stub import stub_lambda
from tests.helpers import client, payload

_SUPPORT = textwrap.dedent('''
    import json

    import boto3
    from botocore.client import BaseClient
    from botocore.config import Config

    from pytest_lambda_stub import stub_lambda
    from pytest_lambda_stub.interception import hooks


    def new_client(url):
        return boto3.client("lambda", region_name="eu-west-1", endpoint_url=url,
                            aws_access_key_id="AKIAFAKEFAKEFAKE", aws_secret_access_key="fake",
                            config=Config(retries={"max_attempts": 1}))


    def invoke(lam):
        return json.loads(lam.invoke(FunctionName="f", Payload=b'"x"')["Payload"].read())


    def scenario(url, seen, wrap, unwrap):
        """The other library instruments before any stub, un-instruments during one (when it
        can) and instruments again on top of the stub's patches: every client, whenever made,
        is answered by every later stub, and nothing reaches the endpoint."""
        idle_before = new_client(url)  # first used in the second stub
        used_before = new_client(url)
        wrap()
        with stub_lambda(functions={"f": lambda event, context: "one"}):
            assert invoke(used_before) == "one"
            during = new_client(url)
            if unwrap is not None:
                unwrap()
            late = new_client(url)
            assert [invoke(during), invoke(late)] == ["one", "one"]
            wrap()
        assert seen == []
        with stub_lambda(functions={"f": lambda event, context: "two"}):
            fresh = new_client(url)
            clients = [idle_before, used_before, during, late, fresh]
            assert [invoke(lam) for lam in clients] == ["two"] * 5
            if unwrap is not None:
                unwrap()
            assert invoke(new_client(url)) == "two"
            assert invoke(idle_before) == "two"
        with stub_lambda(functions={"f": lambda event, context: "three"}):
            assert [invoke(lam) for lam in clients] == ["three"] * 5
        assert seen == []
        # No stub: botocore's own request, signed, reaches the endpoint (it answers {}).
        assert invoke(new_client(url)) == {}
        assert len(seen) == 1
        assert any(name.lower() == "authorization" for name, _ in seen[0].headers)
        for lam in clients:
            assert "_lambda_stub_hooked" not in vars(lam)
''')

_TESTS = {
    "opentelemetry": '''
        pytest.importorskip("opentelemetry.instrumentation.botocore")
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        instrumentor = BotocoreInstrumentor()
        scenario(url, seen, instrumentor.instrument, instrumentor.uninstrument)
        instrumentor.uninstrument()
        assert not hooks.is_installed()
    ''',
    "xray": '''
        pytest.importorskip("aws_xray_sdk")
        from aws_xray_sdk.core import patch, xray_recorder

        xray_recorder.configure(context_missing="IGNORE_ERROR", sampling=False)
        xray_recorder.begin_segment("interop")
        try:
            scenario(url, seen, lambda: patch(["botocore"]), None)
        finally:
            xray_recorder.end_segment()
    ''',
    "sentry": '''
        sentry_sdk = pytest.importorskip("sentry_sdk")
        from sentry_sdk.integrations.boto3 import Boto3Integration

        sent = []
        def init():
            if sentry_sdk.get_client().is_active():
                return
            sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", default_integrations=False,
                            integrations=[Boto3Integration()], traces_sample_rate=1.0,
                            transport=sent.append)
        with sentry_sdk.start_transaction(name="interop"):
            scenario(url, seen, init, None)
        assert BaseClient.__init__.__name__ == "sentry_patched_init"
    ''',
}


_MODULES = {"opentelemetry": "opentelemetry.instrumentation.botocore", "xray": "aws_xray_sdk",
            "sentry": "sentry_sdk"}


@pytest.mark.parametrize("library", sorted(_TESTS))
def test_tracers_wrapping_botocore_do_not_disconnect_the_stub(pytester: pytest.Pytester,
                                                              library: str) -> None:
    pytest.importorskip(_MODULES[library])  # the `interop` extra
    pytester.makepyfile(recorder=(Path(__file__).parent / "recorder.py").read_text())
    pytester.makepyfile(interop_support=_SUPPORT)
    body = textwrap.indent(textwrap.dedent(_TESTS[library]), "    ")
    pytester.makepyfile(test_library=(
        "import pytest\nfrom interop_support import *\nfrom recorder import recording_endpoint\n\n"
        "def test_library():\n    with recording_endpoint() as (url, seen):\n"
        + textwrap.indent(body, "    ")))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1)


# -- moto and Stubber on the same client ---------------------------------------------------

def test_moto_mock_aws_and_the_stub_on_the_same_client() -> None:
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        lam = client()
        with stub_lambda(functions={"f": lambda event, context: "stub"},
                         passthrough=["real"]) as stub:
            assert payload(lam.invoke(FunctionName="f")) == "stub"
            # A passthrough name reaches moto (which has no such function).
            with pytest.raises(lam.exceptions.ResourceNotFoundException):
                lam.invoke(FunctionName="real")
        # The stub stopped inside mock_aws: moto answers again, for every name.
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="f")
        with stub_lambda(functions={"f": lambda event, context: "again"}):
            assert payload(lam.invoke(FunctionName="f")) == "again"
    assert [r.function_name for r in stub.invocations] == ["f"]


def test_botocore_stubber_on_the_same_client_while_a_stub_is_active() -> None:
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    lam = client()
    stubber = Stubber(lam)
    body = b'"from stubber"'
    with stub_lambda(functions={"f": lambda event, context: "from the stub"}) as stub:
        assert payload(lam.invoke(FunctionName="f")) == "from the stub"
        stubber.add_response("invoke", {"StatusCode": 200, "Payload": StreamingBody(
            io.BytesIO(body), len(body))}, {"FunctionName": "f"})
        with stubber:
            # The Stubber's queued response comes first (it answers before any request is made).
            assert payload(lam.invoke(FunctionName="f")) == "from stubber"
            stubber.assert_no_pending_responses()
        assert payload(lam.invoke(FunctionName="f")) == "from the stub"
    assert stub["f"].call_count == 2
    # The Stubber still works on the client after the stub stopped.
    stubber.add_response("invoke", {"StatusCode": 202}, {"FunctionName": "f"})
    with stubber:
        assert lam.invoke(FunctionName="f")["StatusCode"] == 202


# -- time freezers -------------------------------------------------------------------------

def _timed_scenario() -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> Any:
        seen["remaining"] = context.get_remaining_time_in_millis()
        return event

    lam = client()
    with stub_lambda(event_delivery="immediate") as stub:
        stub.add_function("f", handler, timeout=5)
        response = lam.invoke(FunctionName="f", Payload=json.dumps({"n": 1}))
        assert json.loads(response["Payload"].read()) == {"n": 1}
        lam.invoke(FunctionName="f", InvocationType="Event", Payload=b'{"n": 2}')
        records = stub["f"].invocations
    seen["events"] = [r.event for r in records]
    seen["durations"] = [r.duration for r in records]
    return seen


def test_freezegun_frozen_around_invokes() -> None:
    freezegun = pytest.importorskip("freezegun")
    with freezegun.freeze_time("2020-02-29 12:00:00"):
        seen = _timed_scenario()
    assert seen["events"] == [{"n": 1}, {"n": 2}]
    assert 0 < seen["remaining"] <= 5000
    assert all(duration >= 0 for duration in seen["durations"])


@pytest.mark.parametrize("tick", [False, True])
def test_time_machine_travelling_around_invokes(tick: bool) -> None:
    time_machine = pytest.importorskip("time_machine")
    with time_machine.travel("2020-02-29 12:00:00", tick=tick):
        seen = _timed_scenario()
    assert seen["events"] == [{"n": 1}, {"n": 2}]
    assert 0 < seen["remaining"] <= 5000
    assert all(duration >= 0 for duration in seen["durations"])


@pytest.mark.parametrize("freezer", ["freezegun", "time_machine"])
def test_deadlines_hold_with_the_clock_frozen(freezer: str) -> None:
    module = pytest.importorskip(freezer)
    frozen = (module.freeze_time("2020-02-29 12:00:00") if freezer == "freezegun"
              else module.travel("2020-02-29 12:00:00", tick=False))

    def slow(event: Any, context: Any) -> Any:
        import time

        time.sleep(4)
        return "late"

    lam = client()
    with frozen, stub_lambda() as stub:
        stub.add_function("slow", slow, timeout=1)
        response = lam.invoke(FunctionName="slow")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Sandbox.Timedout"
