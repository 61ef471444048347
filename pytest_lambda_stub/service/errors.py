"""Service errors: the modeled ones read from botocore's service model, the unmodeled ones AWS
also sends, and transport faults that never reach the service.

The model is read at run time (botocore adds error codes over time), so every error shape of the
installed botocore works, with its HTTP status and the exact case of its members.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from typing import Any

# Errors AWS sends that botocore does not model for Invoke: (status, message member).
UNMODELED: Mapping[str, int] = {
    "ValidationException": 400,
    "RequestEntityTooLargeException": 413,
}
# Errors every AWS operation can return (authentication, authorisation, throttling, outages):
# (status, default message). AccessDeniedException's message names the caller and resource.
COMMON: Mapping[str, tuple[int, str]] = {
    "AccessDeniedException": (403, ""),
    "UnrecognizedClientException": (403, "The security token included in the request is invalid."),
    "InvalidSignatureException": (
        403, "The request signature we calculated does not match the signature you provided. "
             "Check your AWS Secret Access Key and signing method. Consult the service "
             "documentation for details."),
    "ExpiredTokenException": (403, "The security token included in the request is expired"),
    "IncompleteSignature": (
        403, "Authorization header requires 'Credential' parameter. Authorization header "
             "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
             "parameter. Authorization header requires existence of either a 'X-Amz-Date' or a "
             "'Date' header."),
    "ThrottlingException": (429, "Rate exceeded"),
    "InternalFailure": (500, "The request processing has failed because of an unknown error, "
                             "exception or failure."),
    "ServiceUnavailable": (503, "The service is unavailable. Please try again later."),
}
RAW = "RawAnswer"
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


@dataclasses.dataclass(frozen=True)
class RawAnswer:
    """An HTTP answer sent exactly as given (status, headers, body), for tests of code that
    must survive whatever comes back: ``stub["f"].fail(RawAnswer(502, b"<html>..."))``."""

    status: int
    body: bytes | str = b""
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int) \
                or not 100 <= self.status <= 599:
            raise ValueError(f"RawAnswer: status must be an HTTP status (100-599), "
                             f"not {self.status!r}")
        if not isinstance(self.body, (bytes, str)):
            raise TypeError(f"RawAnswer: body must be bytes or str, not {self.body!r}")
        bad = [k for k, v in dict(self.headers).items()
               if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise TypeError(f"RawAnswer: header names and values must be str; bad: {bad}")


class ServiceError(Exception):
    """An error answer of the emulated service: status, headers and JSON body (or a raw body,
    sent as given)."""

    def __init__(self, code: str, status: int, body: Mapping[str, Any],
                 headers: Mapping[str, str] | None = None, raw: bytes | None = None) -> None:
        super().__init__(f"{code}: {body}")
        self.code = code
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})
        self.raw = raw

    def wire(self) -> tuple[int, dict[str, str], bytes]:
        if self.raw is not None:
            return self.status, dict(self.headers), self.raw
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


class NotEmulatedError(Exception):
    """A Lambda API request the stub does not emulate, refused at once (never sent): the
    message names the operation and how to let it through."""

    def wire(self) -> tuple[int, dict[str, str], bytes]:
        """An HTTP answer for it (for a server): 501 with the message."""
        body = json.dumps({"message": str(self)}).encode()
        return 501, {"x-amzn-ErrorType": "NotEmulated", "Content-Type": "application/json"}, body


@functools.cache
def modeled_error_codes(operation: str = "Invoke") -> tuple[str, ...]:
    """The error codes the installed botocore models for ``operation``."""
    model = _service_model().operation_model(operation)
    return tuple(shape.name for shape in model.error_shapes)


def known_codes(operation: str = "Invoke") -> tuple[str, ...]:
    return modeled_error_codes(operation) + tuple(UNMODELED) + tuple(COMMON) + TRANSPORT_FAULTS


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
    if code in COMMON:
        allowed = {"message", "Message"} | ({"identity", "action"}
                                            if code == "AccessDeniedException" else set())
        extra = set(fields) - allowed
        if extra:
            raise TypeError(f"{code} takes only {', '.join(sorted(allowed))}=, "
                            f"got {sorted(extra)}")
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


def service_error(code: str, fields: Mapping[str, Any] | None = None, *,
                  resource: str | None = None) -> ServiceError:
    """Build the error answer AWS would send for ``code``, with ``fields`` over the defaults
    (``resource``: the function ARN an AccessDeniedException names)."""
    given = dict(fields or {})
    if code == RAW:
        raw: RawAnswer = given["answer"]
        data = raw.body.encode("utf-8") if isinstance(raw.body, str) else raw.body
        return ServiceError(RAW, raw.status, {}, raw.headers, raw=data)
    if code in COMMON:
        return common_error(code, given, resource=resource)
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


def access_denied_message(identity: str, action: str, resource: str) -> str:
    return (f"User: {identity} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


def common_error(code: str, fields: Mapping[str, Any] | None = None, *,
                 resource: str | None = None, account: str = "123456789012") -> ServiceError:
    """One of the errors every AWS operation can return, as AWS sends it."""
    given = dict(fields or {})
    status, message = COMMON[code]
    if code == "AccessDeniedException":
        if resource is not None:
            account = resource.split(":")[4] or account
        identity = given.get("identity") or f"arn:aws:iam::{account}:user/lambda-stub-caller"
        action = given.get("action") or "lambda:InvokeFunction"
        message = access_denied_message(identity, action, resource or "*")
        body: dict[str, Any] = {"Message": given.get("message", given.get("Message", message))}
    else:
        body = {"message": given.get("message", given.get("Message", message))}
    return ServiceError(code, status, body)
