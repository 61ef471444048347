"""Hostile checks of the interception itself: aiobotocore imported late or re-imported, and
``stop()`` racing a request the stub already took. Nothing the stub took leaves the process."""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

import pytest

from pytest_lambda_stub import StubStoppedError, stub_lambda

# -- A1: aiobotocore imported after the stub started, or imported again --------------------

_AIO_INVOKE = textwrap.dedent("""
    import asyncio, json

    def aio_invoke(name):
        from aiobotocore.session import get_session

        async def call():
            async with get_session().create_client("lambda", region_name="eu-west-1") as lam:
                response = await lam.invoke(FunctionName=name, Payload=b'"ping"')
                return json.loads(await response["Payload"].read())

        return asyncio.run(call())
""")


def _aio_invoke(name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(_AIO_INVOKE, namespace)
    return namespace["aio_invoke"](name)


def _forget_aiobotocore() -> dict[str, Any]:
    """Unload aiobotocore (as pytester's in-process runs do); return what was unloaded."""
    gone = {name: module for name, module in sys.modules.items()
            if name == "aiobotocore" or name.startswith(("aiobotocore.", "aioboto3"))}
    for name in gone:
        del sys.modules[name]
    return gone


@pytest.fixture
def fresh_aiobotocore() -> Any:
    pytest.importorskip("aiobotocore")
    saved = _forget_aiobotocore()
    yield
    _forget_aiobotocore()
    sys.modules.update(saved)


def test_aiobotocore_first_imported_while_a_stub_is_active(fresh_aiobotocore: None) -> None:
    with stub_lambda(functions={"f": lambda event, context: ["answered", event]}) as stub:
        assert "aiobotocore.client" not in sys.modules
        assert _aio_invoke("f") == ["answered", "ping"]
    assert stub["f"].call_count == 1


def test_aiobotocore_imported_again_between_stubs(fresh_aiobotocore: None) -> None:
    with stub_lambda(functions={"f": lambda event, context: "first"}):
        assert _aio_invoke("f") == "first"
    _forget_aiobotocore()  # a second copy of every aiobotocore class from now on
    with stub_lambda(functions={"f": lambda event, context: "second"}):
        assert _aio_invoke("f") == "second"
    _forget_aiobotocore()
    with stub_lambda(functions={"f": lambda event, context: "third"}):
        assert "aiobotocore.client" not in sys.modules
        assert _aio_invoke("f") == "third"


def test_aiobotocore_first_imported_inside_pytester_then_used_outside(
        pytester: pytest.Pytester) -> None:
    """The order that made the project's suite fail under pytest-randomly: the first import of
    aiobotocore (and of the interception modules) happens in an in-process pytest run, which
    unloads them afterwards."""
    pytest.importorskip("aiobotocore")
    import pytest_lambda_stub.interception as package

    prefix = "pytest_lambda_stub.interception."
    saved = {name: module for name, module in sys.modules.items()
             if name.startswith(("aiobotocore", "aioboto3", prefix))}
    attributes = dict(vars(package))
    for name in saved:
        del sys.modules[name]
        if name.startswith(prefix):
            vars(package).pop(name[len(prefix):], None)
    try:
        pytester.makepyfile(test_inner=_AIO_INVOKE + textwrap.dedent("""
            from pytest_lambda_stub import stub_lambda

            def test_inner():
                with stub_lambda(functions={"f": lambda event, context: "inner"}):
                    assert aio_invoke("f") == "inner"
        """))
        pytester.runpytest_inprocess().assert_outcomes(passed=1)
        # pytester unloaded what the inner run imported: aiobotocore is imported again here.
        with stub_lambda(functions={"f": lambda event, context: "outer"}):
            assert _aio_invoke("f") == "outer"
    finally:
        for name in [n for n in sys.modules if n.startswith(("aiobotocore", "aioboto3", prefix))]:
            del sys.modules[name]
        sys.modules.update(saved)
        vars(package).clear()
        vars(package).update(attributes)


# -- A3: stop() racing a call the stub already took ----------------------------------------

def _fake_credentials_client(endpoint_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("lambda", region_name="eu-west-1", endpoint_url=endpoint_url,
                        aws_access_key_id="AKIAFAKEFAKEFAKE", aws_secret_access_key="fake",
                        config=Config(retries={"mode": "standard", "max_attempts": 3}))


@pytest.mark.parametrize("window", ["before-call", "request-created", "before-sign"])
def test_stop_racing_a_taken_call_never_sends_it(window: str) -> None:
    """The stub is stopped from another thread while a call it took is between
    ``before-parameter-build`` and ``before-send``: the endpoint sees nothing, the caller gets a
    clear failure (or an answer), never the server's reply."""
    import threading

    from tests.hostile.recorder import recording_endpoint

    with recording_endpoint() as (url, seen):
        lam = _fake_credentials_client(url)
        stub = stub_lambda(functions={"f": lambda event, context: "answered"})
        reached, stopped = threading.Event(), threading.Event()

        def pause(**_: Any) -> None:
            if not reached.is_set():
                reached.set()
                assert stopped.wait(30)

        lam.meta.events.register(f"{window}.lambda.Invoke", pause)

        def stopper() -> None:
            assert reached.wait(30)
            stub.stop()
            stopped.set()

        thread = threading.Thread(target=stopper)
        stub.start()
        thread.start()
        outcome: Any
        try:
            outcome = json.loads(lam.invoke(FunctionName="f", Payload=b'"secret"')["Payload"]
                                 .read())
        except Exception as error:
            outcome = error
        thread.join(30)
        assert stopped.is_set() and not stub.active
        assert seen == []
        if not isinstance(outcome, Exception):
            assert outcome == "answered"
        else:
            assert isinstance(outcome, StubStoppedError), outcome
            assert "stub stopped while Invoke of 'f' was in flight" in str(outcome)
            assert "not sent" in str(outcome)
        # The next call, with no stub, is botocore's own: signed and sent.
        lam.meta.events.unregister(f"{window}.lambda.Invoke", pause)
        lam.invoke(FunctionName="f", Payload=b"{}")
        assert len(seen) == 1
        assert any(name.lower() == "authorization" for name, _ in seen[0].headers)
    from pytest_lambda_stub.interception import hooks

    assert not hooks.is_installed()
    assert "_lambda_stub_hooked" not in vars(lam)


def test_stop_racing_a_taken_aiobotocore_call_never_sends_it() -> None:
    pytest.importorskip("aiobotocore")
    import asyncio
    import threading

    from aiobotocore.session import get_session

    from tests.hostile.recorder import recording_endpoint

    stub = stub_lambda(functions={"f": lambda event, context: "answered"})
    reached, stopped = threading.Event(), threading.Event()

    def pause(**_: Any) -> None:  # a plain handler: blocks the loop while the stub stops
        if not reached.is_set():
            reached.set()
            assert stopped.wait(30)

    def stopper() -> None:
        assert reached.wait(30)
        stub.stop()
        stopped.set()

    async def scenario(url: str) -> Any:
        async with get_session().create_client(
                "lambda", region_name="eu-west-1", endpoint_url=url,
                aws_access_key_id="AKIAFAKEFAKEFAKE", aws_secret_access_key="fake") as lam:
            lam.meta.events.register("before-call.lambda.Invoke", pause)
            try:
                response = await lam.invoke(FunctionName="f", Payload=b'"secret"')
                return json.loads(await response["Payload"].read())
            except Exception as error:
                return error

    with recording_endpoint() as (url, seen):
        thread = threading.Thread(target=stopper)
        stub.start()
        thread.start()
        outcome = asyncio.run(scenario(url))
        thread.join(30)
        assert stopped.is_set() and not stub.active
        assert seen == []
        assert outcome == "answered" or isinstance(outcome, StubStoppedError), outcome
