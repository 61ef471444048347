"""The context object Lambda's Python runtime passes to a handler, with the runtime's own types."""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Mapping
from typing import Any


class CognitoIdentity:
    """``context.identity``: always present, both ids ``None`` when the caller sent none."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, cognito_identity_id: str | None = None,
                 cognito_identity_pool_id: str | None = None) -> None:
        self.cognito_identity_id = cognito_identity_id
        self.cognito_identity_pool_id = cognito_identity_pool_id

    def __repr__(self) -> str:
        return (f"CognitoIdentity(cognito_identity_id={self.cognito_identity_id!r}, "
                f"cognito_identity_pool_id={self.cognito_identity_pool_id!r})")


class Client:
    """``context.client_context.client``: the mobile client that sent the ClientContext."""

    __slots__ = ("app_package_name", "app_title", "app_version_code", "app_version_name",
                 "installation_id")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data or {}
        self.installation_id: Any = data.get("installation_id")
        self.app_title: Any = data.get("app_title")
        self.app_version_name: Any = data.get("app_version_name")
        self.app_version_code: Any = data.get("app_version_code")
        self.app_package_name: Any = data.get("app_package_name")

    def __repr__(self) -> str:
        return f"Client(installation_id={self.installation_id!r}, app_title={self.app_title!r})"


class ClientContext:
    """``context.client_context``: decoded from the request's ``ClientContext`` header."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data or {}
        client = data.get("client")
        self.client: Client | None = Client(client) if isinstance(client, Mapping) else None
        custom = data.get("custom")
        env = data.get("env")
        self.custom: dict[str, Any] | None = dict(custom) if isinstance(custom, Mapping) else None
        self.env: dict[str, Any] | None = dict(env) if isinstance(env, Mapping) else None

    def __repr__(self) -> str:
        return f"ClientContext(client={self.client!r}, custom={self.custom!r}, env={self.env!r})"


class LambdaContext:
    """A realistic Lambda context, as the Python runtime builds it.

    Importable so a handler can be unit-tested directly::

        handler({"id": 1}, LambdaContext(function_name="resize", timeout=30))

    ``memory_limit_in_mb`` is a ``str`` and ``get_remaining_time_in_millis()`` counts down in
    real time from ``timeout`` seconds, as on Lambda.
    """

    def __init__(
        self,
        function_name: str = "test-function",
        function_version: str = "$LATEST",
        invoked_function_arn: str | None = None,
        memory_limit_in_mb: int | str = 128,
        aws_request_id: str | None = None,
        timeout: float = 3,
        client_context: ClientContext | Mapping[str, Any] | None = None,
        identity: CognitoIdentity | None = None,
        tenant_id: str | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        log_stream_name: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn or (
            f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        )
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or make_log_stream_name(function_version)
        self.identity = identity or CognitoIdentity()
        if isinstance(client_context, Mapping):
            client_context = ClientContext(client_context)
        self.client_context = client_context
        self.tenant_id = tenant_id
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return (f"LambdaContext(function_name={self.function_name!r}, "
                f"function_version={self.function_version!r}, "
                f"aws_request_id={self.aws_request_id!r})")


def make_log_stream_name(version: str) -> str:
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    return f"{today}/[{version}]{uuid.uuid4().hex}"
