"""Lifecycle: a thousand start/stop cycles, sequential, nested, across threads, and stopped on
another thread than the one that started them, leave nothing behind: no handler on any client,
no patch on BaseClient / AioBaseClient / endpoints / token buckets, no thread, no signal handler
or timer, no environment variable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_lambda_stub import LambdaStub, stub_lambda
from tests.helpers import client

CYCLES = 1000
_PATCHED = ("__init__", "_make_api_call", "_emit_api_params")


def _answer(event: Any, context: Any) -> Any:
    return "answered"


def _class_attributes() -> dict[str, Any]:
    from botocore.client import BaseClient
    from botocore.retries.bucket import TokenBucket

    found = {f"BaseClient.{name}": BaseClient.__dict__.get(name) for name in _PATCHED}
    found["TokenBucket.acquire"] = TokenBucket.__dict__.get("acquire")
    aio = sys.modules.get("aiobotocore.client")
    if aio is not None:
        for name in _PATCHED:
            found[f"AioBaseClient.{name}"] = aio.AioBaseClient.__dict__.get(name)
        bucket = sys.modules.get("aiobotocore.retries.bucket")
        if bucket is not None and hasattr(bucket, "AsyncTokenBucket"):
            found["AsyncTokenBucket.acquire"] = bucket.AsyncTokenBucket.__dict__.get("acquire")
    return found


def _client_traces(lam: Any) -> list[str]:
    emitter = lam.meta.events._emitter
    handlers = [str(uid) for uid in getattr(emitter, "_unique_id_handlers", {})
                if str(uid).startswith("lambda-stub")]
    attributes = [name for name in vars(lam) if name.startswith("_lambda_stub")]
    endpoint = [name for name in ("_needs_retry", "_send_request") if name in vars(lam._endpoint)]
    return handlers + attributes + endpoint


def _state() -> dict[str, Any]:
    return {
        "classes": _class_attributes(),
        "threads": sorted(t.name for t in threading.enumerate()),
        "alarm": (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)),
        "environ": {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"},
    }


class AioClient:
    """An aiobotocore Lambda client on a loop of its own (None without aiobotocore)."""

    def __init__(self) -> None:
        from aiobotocore.session import get_session

        self.loop = asyncio.new_event_loop()
        self._factory = get_session().create_client("lambda", region_name="eu-west-1")
        self.client = self.loop.run_until_complete(self._factory.__aenter__())

    def invoke(self) -> Any:
        async def call() -> Any:
            response = await self.client.invoke(FunctionName="f")
            return json.loads(await response["Payload"].read())

        return self.loop.run_until_complete(call())

    def close(self) -> None:
        self.loop.run_until_complete(self._factory.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    made: dict[str, Any] = {"lambda": client(), "s3": __import__("boto3").client(
        "s3", region_name="eu-west-1")}
    aio = None
    try:
        import aiobotocore  # noqa: F401
    except ImportError:
        pass
    else:
        aio = AioClient()
        made["aio"] = aio
    yield made
    if aio is not None:
        aio.close()


def _invoke(lam: Any) -> Any:
    return json.loads(lam.invoke(FunctionName="f")["Payload"].read())


def _assert_nothing_left(before: dict[str, Any], clients: dict[str, Any]) -> None:
    from pytest_lambda_stub.interception import hooks

    after = _state()
    assert after["classes"] == before["classes"]
    assert after["threads"] == before["threads"]
    assert after["environ"] == before["environ"]
    assert not hooks.is_installed()
    for name, made in clients.items():
        lam = made.client if name == "aio" else made
        assert _client_traces(lam) == [], name
    assert after["alarm"] == before["alarm"]


def _sequential(clients: dict[str, Any]) -> None:
    lam, aio = clients["lambda"], clients.get("aio")
    for cycle in range(CYCLES):
        with stub_lambda(functions={"f": _answer}):
            if cycle % 10 == 0:
                assert _invoke(lam) == "answered"
            if aio is not None and cycle % 100 == 0:
                assert aio.invoke() == "answered"


def _nested(clients: dict[str, Any]) -> None:
    lam = clients["lambda"]
    with stub_lambda(functions={"f": lambda e, c: "outer"}):
        for cycle in range(CYCLES):
            with stub_lambda(functions={"f": _answer}):
                if cycle % 50 == 0:
                    assert _invoke(lam) == "answered"
            if cycle % 50 == 0:
                assert _invoke(lam) == "outer"


def _threads(clients: dict[str, Any]) -> None:
    errors: list[BaseException] = []
    lam = clients["lambda"]

    def work(index: int) -> None:
        try:
            for cycle in range(CYCLES // 8):
                with stub_lambda(functions={"f": _answer}):
                    if cycle % 25 == index % 25:
                        assert _invoke(lam) == "answered"
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert errors == []


def _stopped_elsewhere(clients: dict[str, Any]) -> None:
    """Started on this thread and stopped on another, and the reverse."""
    lam = clients["lambda"]
    for cycle in range(CYCLES // 2):
        stub = stub_lambda(functions={"f": _answer}).start()
        if cycle % 50 == 0:
            assert _invoke(lam) == "answered"
        stopper = threading.Thread(target=stub.stop)
        stopper.start()
        stopper.join(30)
        assert not stub.active
        started: list[LambdaStub] = []

        def start(into: list[LambdaStub]) -> None:
            into.append(stub_lambda(functions={"f": _answer}).start())

        starter = threading.Thread(target=start, args=(started,))
        starter.start()
        starter.join(30)
        if cycle % 50 == 0:
            assert _invoke(lam) == "answered"
        started[0].stop()


SCENARIOS: dict[str, Callable[[dict[str, Any]], None]] = {
    "sequential": _sequential, "nested": _nested, "threads": _threads,
    "stopped-on-another-thread": _stopped_elsewhere,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_start_stop_cycles_leave_nothing_behind(clients: dict[str, Any], scenario: str) -> None:
    # First sight of everything (imports, lazily built patches, the aio client's event loop's
    # own executor thread, which asyncio.to_thread starts and the loop keeps) before the snapshot.
    with stub_lambda(functions={"f": _answer}):
        _invoke(clients["lambda"])
        if "aio" in clients:
            clients["aio"].invoke()
    # A handler an earlier test abandoned at its deadline runs on to its end on its worker (as
    # documented): wait for those, or they would end during the cycles and look like a change.
    for thread in threading.enumerate():
        if thread.name == "lambda-stub-worker":
            thread.join(60)
    assert "lambda-stub-worker" not in {t.name for t in threading.enumerate()}
    before = _state()
    SCENARIOS[scenario](clients)
    _assert_nothing_left(before, clients)
    # And the clients are still botocore's own: no credentials, so no request is made.
    from botocore.exceptions import NoCredentialsError

    with pytest.raises(NoCredentialsError):
        clients["lambda"].invoke(FunctionName="f")
