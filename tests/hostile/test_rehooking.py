"""A client hooked again by a later stub (its handlers registered again without botocore's
signature check): a handler registered or unregistered between stubs (or during one) is called,
or not, exactly as botocore would, and after the last stop none of the stub's is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from pytest_lambda_stub import stub_lambda

_FUNCTIONS = {"f": lambda event, context: {"ok": True}}


def _client() -> Any:
    return boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="fake-secret")


def _recorder(seen: list[str]) -> Callable[..., None]:
    def record(event_name: str = "", **_: Any) -> None:
        seen.append(event_name)

    return record


def _invoke_in_a_stub(client: Any) -> None:
    with stub_lambda(functions=_FUNCTIONS):
        assert client.invoke(FunctionName="f")["Payload"].read() == b'{"ok": true}'


def test_handler_registered_between_stubs_is_called() -> None:
    client, seen = _client(), []
    _invoke_in_a_stub(client)
    _invoke_in_a_stub(client)
    client.meta.events.register("before-call.lambda.Invoke", _recorder(seen))
    _invoke_in_a_stub(client)
    assert seen == ["before-call.lambda.Invoke"]
    _invoke_in_a_stub(client)  # and every later time
    assert len(seen) == 2


def test_handler_unregistered_between_stubs_is_not_called() -> None:
    client, seen = _client(), []
    client.meta.events.register("before-call.lambda.Invoke", _recorder(seen),
                                unique_id="test-recorder")
    _invoke_in_a_stub(client)
    _invoke_in_a_stub(client)
    assert len(seen) == 2
    client.meta.events.unregister("before-call.lambda.Invoke", unique_id="test-recorder")
    _invoke_in_a_stub(client)
    _invoke_in_a_stub(client)
    assert len(seen) == 2


def test_handler_registered_during_a_stub_is_called_in_the_next() -> None:
    client, seen = _client(), []
    _invoke_in_a_stub(client)
    with stub_lambda(functions=_FUNCTIONS):
        client.invoke(FunctionName="f")
        client.meta.events.register("before-call.lambda.Invoke", _recorder(seen))
        client.invoke(FunctionName="f")
    assert len(seen) == 1
    _invoke_in_a_stub(client)
    _invoke_in_a_stub(client)
    assert len(seen) == 3


def test_handler_registered_and_removed_during_a_stub_is_gone_in_the_next() -> None:
    client, seen = _client(), []
    _invoke_in_a_stub(client)
    with stub_lambda(functions=_FUNCTIONS):
        client.invoke(FunctionName="f")
        client.meta.events.register("before-call.lambda.Invoke", _recorder(seen),
                                    unique_id="test-recorder")
        client.invoke(FunctionName="f")
        client.meta.events.unregister("before-call.lambda.Invoke", unique_id="test-recorder")
    assert len(seen) == 1
    _invoke_in_a_stub(client)
    assert len(seen) == 1


def test_handler_registered_between_stubs_without_a_call_is_called() -> None:
    """Registered then unregistered between stubs leaves the same handlers, but the kept
    look-ups are only trusted when nothing changed at all; either way the answer is right."""
    client, seen, other = _client(), [], []
    _invoke_in_a_stub(client)
    client.meta.events.register("before-call.lambda.Invoke", _recorder(other),
                                unique_id="test-other")
    client.meta.events.unregister("before-call.lambda.Invoke", unique_id="test-other")
    client.meta.events.register("provide-client-params.lambda.Invoke", _recorder(seen))
    _invoke_in_a_stub(client)
    assert seen == ["provide-client-params.lambda.Invoke"] and other == []


def test_order_after_a_registration_during_a_stub_is_botocores() -> None:
    """A handler registered during a stub for the same event as the stub's own comes after it
    then, and before it once the client is hooked again (botocore appends): the next stub's
    calls follow that new order, not the look-ups made during the first."""
    from botocore.awsrequest import AWSResponse

    class Body:
        def __init__(self) -> None:
            self.data = b'{"from": "user"}'

        def stream(self, **_: Any) -> Any:
            yield self.data

        def read(self, *_: Any) -> bytes:
            data, self.data = self.data, b""
            return data

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"Content-Length": "16"}, Body())  # type: ignore[arg-type]

    client = _client()
    with stub_lambda(functions=_FUNCTIONS):
        client.invoke(FunctionName="f")
        client.meta.events.register_first("before-send.lambda", answer, unique_id="test-answer")
        assert client.invoke(FunctionName="f")["Payload"].read() == b'{"ok": true}'
    with stub_lambda(functions=_FUNCTIONS):
        payload = client.invoke(FunctionName="f")["Payload"].read()
    client.meta.events.unregister("before-send.lambda", unique_id="test-answer")
    assert payload == b'{"from": "user"}'


def test_after_stop_no_lookup_calls_a_handler_of_the_stub() -> None:
    """What botocore looks up after the last stop is its own."""
    client = _client()
    _invoke_in_a_stub(client)
    _invoke_in_a_stub(client)
    emitter = client.meta.events._emitter
    for event in ("before-parameter-build.lambda.Invoke", "choose-signer.lambda.Invoke",
                  "before-send.lambda.Invoke"):
        handlers = emitter._lookup_cache.get(event)
        if handlers is None:  # looked up now, as botocore does at a call
            handlers = emitter._handlers.prefix_search(event)
        modules = {getattr(handler, "__module__", "") for handler in handlers}
        assert not any(str(module).startswith("pytest_lambda_stub") for module in modules)
    assert not any(str(getattr(handler, "__module__", "")).startswith("pytest_lambda_stub")
                   for handlers in emitter._lookup_cache.values() for handler in handlers)
