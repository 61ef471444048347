"""pytest-lambda-stub: test code that calls AWS Lambda without AWS, Docker or credentials.

Importing this package imports neither botocore nor boto3 and patches nothing: only starting a
stub does. The public names are loaded on first use, so the pytest plugin costs next to nothing
at start-up for suites that never use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .functions import FakeFunction, LateResult
    from .interception.hooks import StubStoppedError
    from .options import OptionError, StubOptions
    from .records import Invocation
    from .runtime.context import ClientContext, CognitoIdentity, LambdaContext
    from .runtime.raw import RawPayload
    from .runtime.simulated import SimulatedDurationError
    from .service.api.calls import ApiCall
    from .service.errors import NotEmulatedError, RawAnswer
    from .service.events import PendingEvent
    from .service.state import SentRecord
    from .stub import LambdaStub, StrictModeError, stub_lambda

_WHERE = {
    "ApiCall": ".service.api.calls",
    "NotEmulatedError": ".service.errors",
    "RawAnswer": ".service.errors",
    "RawPayload": ".runtime.raw",
    "ClientContext": ".runtime.context",
    "CognitoIdentity": ".runtime.context",
    "FakeFunction": ".functions",
    "Invocation": ".records",
    "LambdaContext": ".runtime.context",
    "LambdaStub": ".stub",
    "LateResult": ".functions",
    "OptionError": ".options",
    "PendingEvent": ".service.events",
    "SentRecord": ".service.state",
    "SimulatedDurationError": ".runtime.simulated",
    "StrictModeError": ".stub",
    "StubOptions": ".options",
    "StubStoppedError": ".interception.hooks",
    "stub_lambda": ".stub",
}
__all__ = [
    "ApiCall",
    "ClientContext",
    "CognitoIdentity",
    "FakeFunction",
    "Invocation",
    "LambdaContext",
    "LambdaStub",
    "LateResult",
    "NotEmulatedError",
    "OptionError",
    "PendingEvent",
    "RawAnswer",
    "RawPayload",
    "SentRecord",
    "SimulatedDurationError",
    "StrictModeError",
    "StubOptions",
    "StubStoppedError",
    "stub_lambda",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_lambda_stub' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
