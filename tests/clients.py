"""Every kind of Lambda client behind one synchronous face, so one test body runs against boto3,
aiobotocore and aioboto3 clients (parametrised, not copied).

``caller.call("invoke", FunctionName=...)`` returns the parsed response with a ``Payload`` body
read to bytes and an ``EventStream`` read to its list of events (through the client's own
event-stream parser). Async clients are entered and driven on an event loop of their own; the
aiobotocore and aioboto3 kinds are skipped when the package is not installed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers import REGION, client

KINDS = ("boto3", "aiobotocore", "aioboto3")
ASYNC_KINDS = ("aiobotocore", "aioboto3")


class Caller:
    kind: str
    client: Any

    @property
    def exceptions(self) -> Any:
        return self.client.exceptions

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SyncCaller(Caller):
    kind = "boto3"

    def __init__(self, region: str, **config: Any) -> None:
        self.client = client(region, **config)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        response: dict[str, Any] = getattr(self.client, operation)(**params)
        if "Payload" in response:
            response["Payload"] = response["Payload"].read()
        if "EventStream" in response:
            response["EventStream"] = list(response["EventStream"])
        return response


class AsyncCaller(Caller):
    def __init__(self, kind: str, region: str, **config: Any) -> None:
        from aiobotocore.config import AioConfig

        self.kind = kind
        self.loop = asyncio.new_event_loop()
        self._stack = contextlib.AsyncExitStack()
        options = AioConfig(**config) if config else None
        if kind == "aiobotocore":
            from aiobotocore.session import get_session

            factory = get_session().create_client("lambda", region_name=region, config=options)
        else:
            import aioboto3

            factory = aioboto3.Session().client("lambda", region_name=region, config=options)
        self.client = self.run(self._stack.enter_async_context(factory))

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.run(self._call(operation, params))
        return result

    async def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = await getattr(self.client, operation)(**params)
        if "Payload" in response:
            response["Payload"] = await response["Payload"].read()
        if "EventStream" in response:
            response["EventStream"] = [event async for event in response["EventStream"]]
        return response

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self.loop.close()


def new_caller(kind: str, region: str = REGION, **config: Any) -> Caller:
    if kind == "boto3":
        return SyncCaller(region, **config)
    return AsyncCaller(kind, region, **config)


def callers(kinds: tuple[str, ...] = KINDS) -> Any:
    """A ``make_caller`` fixture parametrised over ``kinds``: ``make_caller(region, **config)``
    makes a client of the kind (closed at teardown). Assign it in a test module:
    ``make_caller = callers()``."""

    @pytest.fixture(params=kinds)
    def make_caller(request: pytest.FixtureRequest) -> Iterator[Callable[..., Caller]]:
        kind = request.param
        if kind != "boto3":
            pytest.importorskip(kind)
        made: list[Caller] = []

        def make(region: str = REGION, **config: Any) -> Caller:
            caller = new_caller(kind, region, **config)
            made.append(caller)
            return caller

        yield make
        for caller in made:
            caller.close()

    return make_caller
