"""pytest-lambda-stub: test code that calls AWS Lambda's Invoke without AWS, Docker or credentials.

Importing this package imports neither botocore nor boto3 and patches nothing: only starting a
stub does.
"""

from .functions import FakeFunction, LateResult
from .options import OptionError, StubOptions
from .records import Invocation
from .runtime.context import ClientContext, CognitoIdentity, LambdaContext
from .service.events import PendingEvent
from .service.state import SentRecord
from .stub import LambdaStub, StrictModeError, stub_lambda

__all__ = [
    "ClientContext",
    "CognitoIdentity",
    "FakeFunction",
    "Invocation",
    "LambdaContext",
    "LambdaStub",
    "LateResult",
    "OptionError",
    "PendingEvent",
    "SentRecord",
    "StrictModeError",
    "StubOptions",
    "stub_lambda",
]
