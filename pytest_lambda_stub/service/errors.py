"""Service errors: the modeled ones read from botocore's service model, the unmodeled ones AWS
also sends, and transport faults that never reach the service.

The model is read at run time (botocore adds error codes over time), so every error shape of the
installed botocore works, with its HTTP status and the exact case of its members.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

# Errors AWS sends that botocore does not model for Invoke: (status, message member).
UNMODELED: Mapping[str, int] = {
    "ValidationException": 400,
    "RequestEntityTooLargeException": 413,
}
# Faults raised by the HTTP layer, which botocore sees as exceptions, not responses.
TRANSPORT_FAULTS: tuple[str, ...] = (
    "EndpointConnectionError",
    "ReadTimeoutError",
    "ConnectionClosedError",
)

# Realistic default texts for the members of a few shapes; others get a generic one.
_DEFAULT_MESSAGES: Mapping[str, str] = {
    "TooManyRequestsException": "Rate Exceeded.",
    "ServiceException": "An internal error occurred in the Lambda service.",
    "ResourceNotReadyException": "The function is currently in the Pending state.",
    "ResourceConflictException": "The operation cannot be performed at this time.",
    "KMSAccessDeniedException": (
        "Lambda was unable to decrypt the environment variables because KMS access was denied. "
        "Please check the function's KMS key settings."
    ),
    "KMSDisabledException": (
        "Lambda was unable to decrypt the environment variables because the KMS key used is "
        "disabled. Please check the function's KMS key settings."
    ),
    "EC2ThrottledException": "Lambda was throttled by Amazon EC2 during Lambda function initialization.",
    "ENILimitReachedException": (
        "Lambda was not able to create an elastic network interface in the VPC because the "
        "limit for network interfaces has been reached."
    ),
    "RecursiveInvocationException": (
        "Lambda detected an infinite recursive loop and stopped the invocation."
    ),
    "InvalidRequestContentException": "Could not parse request body into json.",
    "RequestTooLargeException": "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    "RequestEntityTooLargeException": "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    "UnsupportedMediaTypeException": "The content type of the request is not supported.",
}
_DEFAULT_FIELDS: Mapping[str, Mapping[str, Any]] = {
    "TooManyRequestsException": {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
    "EC2UnexpectedException": {"EC2ErrorCode": "InternalError"},
}


class ServiceError(Exception):
    """An error answer of the emulated service: status, headers and JSON body."""

    def __init__(self, code: str, status: int, body: Mapping[str, Any],
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{code}: {body}")
        self.code = code
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})

    def wire(self) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(self.body).encode()
        headers = {"x-amzn-ErrorType": self.code, "Content-Type": "application/json"}
        headers.update(self.headers)
        return self.status, headers, body


class TransportFault(Exception):
    """A fault of the network between client and service (the request never got an answer)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@functools.cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("lambda")


@functools.cache
def modeled_error_codes(operation: str = "Invoke") -> tuple[str, ...]:
    """The error codes the installed botocore models for ``operation``."""
    model = _service_model().operation_model(operation)
    return tuple(shape.name for shape in model.error_shapes)


def known_codes(operation: str = "Invoke") -> tuple[str, ...]:
    return modeled_error_codes(operation) + tuple(UNMODELED) + TRANSPORT_FAULTS


def check_code(code: str, fields: Mapping[str, Any], operation: str = "Invoke") -> None:
    """Refuse an unknown code, or fields the code's shape does not have."""
    if code in TRANSPORT_FAULTS:
        if fields:
            raise TypeError(f"{code} is a transport fault: it takes no fields, got {sorted(fields)}")
        return
    if code in UNMODELED:
        extra = set(fields) - {"message", "Message"}
        if extra:
            raise TypeError(f"{code} takes only message=, got {sorted(extra)}")
        return
    if code not in modeled_error_codes(operation):
        raise ValueError(
            f"{code!r} is not an error of Lambda's {operation} in the installed botocore; "
            f"valid codes: {', '.join(sorted(known_codes(operation)))}"
        )
    members = _members(code)
    accepted = set(members) | {"message", "Message"}
    extra = set(fields) - accepted
    if extra:
        raise TypeError(
            f"{code} has no member(s) {', '.join(sorted(extra))}; its members are "
            f"{', '.join(members)}"
        )


def _members(code: str) -> tuple[str, ...]:
    return tuple(_service_model().shape_for(code).members)


def service_error(code: str, fields: Mapping[str, Any] | None = None) -> ServiceError:
    """Build the error answer AWS would send for ``code``, with ``fields`` over the defaults."""
    given = dict(fields or {})
    if code in UNMODELED:
        message = given.get("message", given.get("Message", _DEFAULT_MESSAGES.get(code, code)))
        # An unmodeled error parses to only ``Error``: send the text as ``message``, no Type.
        return ServiceError(code, UNMODELED[code], {"message": message})
    shape = _service_model().shape_for(code)
    status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    body: dict[str, Any] = {}
    headers: dict[str, str] = {}
    message_member = next((m for m in ("Message", "message") if m in shape.members), None)
    defaults: dict[str, Any] = {"Type": "Service" if status >= 500 and code == "ServiceException"
                                else "User"}
    defaults.update(_DEFAULT_FIELDS.get(code, {}))
    if message_member is not None:
        defaults[message_member] = _DEFAULT_MESSAGES.get(code, f"{code} (simulated by pytest-lambda-stub)")
        for alias in ("message", "Message"):
            if alias in given and alias != message_member:
                given[message_member] = given.pop(alias)
    defaults.update(given)
    for name, member in shape.members.items():
        if name not in defaults or defaults[name] is None:
            continue
        value = defaults[name]
        if member.serialization.get("location") == "header":
            headers[member.serialization.get("name", name)] = str(value)
        else:
            body[name] = value
    return ServiceError(code, status, body, headers)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", 404, {"Type": "User", "Message": message})


def invalid_request_content(message: str) -> ServiceError:
    return ServiceError("InvalidRequestContentException", 400, {"Type": "User", "message": message})


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", 400, {"Type": "User", "message": message})


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", 400, {"message": message})


def too_large(message: str) -> ServiceError:
    return ServiceError("RequestEntityTooLargeException", 413, {"message": message})


def throttled(reason: str) -> ServiceError:
    return ServiceError(
        "TooManyRequestsException", 429,
        {"Reason": reason, "Type": "User", "message": "Rate Exceeded."},
    )


def recursion() -> ServiceError:
    return service_error("RecursiveInvocationException")
