"""One entry point for every Lambda API request: route a raw HTTP request to its operation,
parse it per botocore's service model, answer it from the service, serialise the result.

Used by the in-process ``before-send`` hook (``hooks``) for every Lambda operation, and by the
loopback HTTP server, so both give byte-for-byte the same answers. Everything model-driven
(request URIs, where each member travels, output shapes) is read from the installed botocore's
``lambda`` model, loaded once; what an operation does lives in ``service/api``.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore import xform_name
from botocore.model import OperationModel, ServiceModel, Shape

from ..service import api, errors
from ..service.invoke import handle
from ..service.state import LambdaService, new_request_id
from ..service.wire import Answer, Request, ResponseStream

INVOKE_FAMILY = frozenset({"Invoke", "InvokeWithResponseStream", "InvokeAsync"})
IN_PROCESS = "in-process"
# Members that name the function an operation acts on (TagResource & co. take an ARN).
_FUNCTION_MEMBERS = ("FunctionName", "Resource")
_WANTED_HEADERS = frozenset({"x-amz-invocation-type", "x-amz-log-type", "x-amz-client-context",
                             "x-amz-tenant-id", "x-amzn-trace-id"})


@functools.cache
def model() -> ServiceModel:
    """botocore's ``lambda`` service model (loaded once per process)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("lambda")


@functools.cache
def operation_model(operation: str) -> OperationModel:
    return model().operation_model(operation)


@functools.cache
def operation_names() -> frozenset[str]:
    return frozenset(model().operation_names)


@functools.cache
def _snake_names() -> dict[str, str]:
    return {xform_name(name): name for name in model().operation_names}


# -- routing ---------------------------------------------------------------------------------

_LABEL_RE = re.compile(r"\{([^}]+)\}")


def _compile(uri: str) -> tuple[re.Pattern[str], dict[str, str], int]:
    """A path pattern with one group per URI label, the literal query the URI requires, and
    how many literal characters the path has (more literal: a more specific route)."""
    path, _, query = uri.partition("?")
    pattern, literal, position = "", 0, 0
    for match in _LABEL_RE.finditer(path):
        text = path[position:match.start()]
        pattern += re.escape(text)
        literal += len(text)
        label = match.group(1)
        greedy = label.endswith("+")
        pattern += f"(?P<{label.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
        position = match.end()
    pattern += re.escape(path[position:])
    literal += len(path) - position
    required = {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}
    return re.compile(pattern + "/?"), required, literal


@functools.cache
def _routes() -> tuple[tuple[str, str, re.Pattern[str], dict[str, str], int], ...]:
    table = []
    for name in model().operation_names:
        http = operation_model(name).http
        pattern, required, literal = _compile(http["requestUri"])
        table.append((http["method"].upper(), name, pattern, required, literal))
    # Most specific first: required query parameters, then more literal characters.
    table.sort(key=lambda row: (-len(row[3]), -row[4]))
    return tuple(table)


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The Lambda operation and URI labels (decoded) for an HTTP request, or None when no
    operation of botocore's model has this method and request URI. ``path`` may carry a
    query string (it decides between routes that differ only by a required query)."""
    raw_path, _, query = path.partition("?")
    given = parse_qs(query, keep_blank_values=True)
    method = method.upper()
    for route_method, name, pattern, required, _ in _routes():
        if route_method != method:
            continue
        match = pattern.fullmatch(raw_path)
        if match is None:
            continue
        if any(given.get(key, [None])[0] != value for key, value in required.items()):
            continue
        return name, {label: unquote(value) for label, value in match.groupdict().items()}
    return None


@functools.cache
def _patterns() -> dict[str, re.Pattern[str]]:
    return {row[1]: row[2] for row in _routes()}


def _labels(operation: str, path: str) -> dict[str, str]:
    match = _patterns()[operation].fullmatch(path)
    if match is None:
        return {}
    return {label: unquote(value) for label, value in match.groupdict().items()}


# -- the decision: answer, refuse, or let through -------------------------------------------

def moto_active() -> bool:
    """Whether moto's ``mock_aws`` is active in this process (moto is never imported here)."""
    models = sys.modules.get("moto.core.models")
    stubber = getattr(models, "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


def canonical_operation(name: str) -> str | None:
    """An operation name as the API spells it, from itself or botocore's snake_case."""
    if name in operation_names():
        return name
    return _snake_names().get(name)


def passes_operation(service: LambdaService, operation: str) -> bool:
    passthrough = service.options.passthrough
    if passthrough is True:
        return True
    if not passthrough:
        return False
    return any(canonical_operation(entry) == operation for entry in passthrough)


def lets_through(service: LambdaService, operation: str, function_name: str | None, *,
                 source: str = IN_PROCESS) -> bool:
    """Whether this request goes on to wherever botocore sends it (True), or the stub answers
    or refuses it (False): the ``passthrough`` option (function or operation names), or moto's
    ``mock_aws`` for undeclared functions and operations the stub does not emulate."""
    if passes_operation(service, operation):
        return True
    if function_name is not None and not service.answers(function_name):
        return True
    if source == IN_PROCESS and moto_active():
        if operation not in INVOKE_FAMILY and operation not in api.OPERATIONS:
            return True
        if function_name is not None and not api.is_known(service, function_name):
            return True
    return False


def function_name_of(params: Mapping[str, Any]) -> str | None:
    for member in _FUNCTION_MEMBERS:
        value = params.get(member)
        if isinstance(value, str):
            return value
    return None


# -- parsing a request per the model ------------------------------------------------------------

def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _from_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {key: _from_json(members[key], item) if key in members else item
                for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_from_json(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: _from_json(shape.value, item)  # type: ignore[attr-defined]
                for key, item in value.items()}
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value)
        except ValueError:
            return value
    return value


def parse_params(operation: str, labels: Mapping[str, str], query: str,
                 headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The request's parameters by member name, as botocore's serializer laid them out."""
    shape = operation_model(operation).input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    lowered = {key.lower(): value for key, value in headers.items()}
    values = parse_qs(query, keep_blank_values=True)
    payload = shape.serialization.get("payload")
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = labels[wire_name]
        elif location == "querystring":
            if wire_name in values:
                found = values[wire_name]
                params[name] = ([_scalar(member.member, v) for v in found]  # type: ignore[attr-defined]
                                if member.type_name == "list" else _scalar(member, found[0]))
        elif location == "header":
            if wire_name.lower() in lowered:
                params[name] = _scalar(member, lowered[wire_name.lower()])
        elif name == payload:
            params[name] = body if member.type_name == "blob" else _json_object(body)
        else:
            body_members[name] = member
    if body_members and body:
        document = _json_object(body)
        for name, member in body_members.items():
            if name in document:
                params[name] = _from_json(member, document[name])
    return params


def _json_object(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        raise errors.ServiceError(
            "InvalidRequestContentException", 400,
            {"Type": "User", "message": "Could not parse request body into json"}) from None
    if not isinstance(document, dict):
        raise errors.ServiceError(
            "InvalidRequestContentException", 400,
            {"Type": "User", "message": "Could not parse request body into json"})
    return document


# -- serialising a result per the output shape -------------------------------------------------

def _to_json(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        unknown = set(value) - set(members)
        if unknown:
            raise AssertionError(f"{where}: {sorted(unknown)} not in shape {shape.name}")
        return {key: _to_json(members[key], item, f"{where}.{key}")
                for key, item in value.items() if item is not None}
    if kind == "list":
        return [_to_json(shape.member, item, f"{where}[]")  # type: ignore[attr-defined]
                for item in value]
    if kind == "map":
        return {key: _to_json(shape.value, item, f"{where}{{}}")  # type: ignore[attr-defined]
                for key, item in value.items()}
    if kind == "timestamp":
        return float(value)
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    return value


def serialise(operation: str, data: Mapping[str, Any], request_id: str) -> Answer:
    """An answer for the output members ``data``, laid out per the operation's output shape."""
    model_op = operation_model(operation)
    status = int(model_op.http.get("responseCode", 200))
    headers = {"x-amzn-RequestId": request_id}
    shape = model_op.output_shape
    if shape is None:
        if data:
            raise AssertionError(f"{operation} has no output, got {sorted(data)}")
        return Answer(status, headers)
    members = shape.members
    unknown = set(data) - set(members)
    if unknown:
        raise AssertionError(f"{operation}: {sorted(unknown)} not in shape {shape.name}")
    document: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        member = members[name]
        location = member.serialization.get("location")
        if location == "header":
            headers[member.serialization.get("name", name)] = str(value)
        elif location == "statusCode":
            status = int(value)
        else:
            document[name] = _to_json(member, value, f"{operation}.{name}")
    headers["Content-Type"] = "application/json"
    return Answer(status, headers, json.dumps(document).encode() if status != 204 else b"")


# -- the one entry point -------------------------------------------------------------------------

def _invoke_request(operation: str, labels: Mapping[str, str], query: str,
                    headers: Mapping[str, str], body: bytes, region: str,
                    read_timeout: float | None,
                    stream: ResponseStream | None = None) -> Request:
    wanted: dict[str, str] = {}
    attempt, invocation_id = 1, None
    for key, value in headers.items():
        lower = key.lower()
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if lower in _WANTED_HEADERS:
            wanted[lower] = text
        elif lower == "amz-sdk-invocation-id":
            invocation_id = text
        elif lower == "amz-sdk-request":
            for item in text.split(";"):
                field, _, number = item.strip().partition("=")
                if field == "attempt" and number.isdigit():
                    attempt = int(number)
    qualifier = None
    found = parse_qs(query, keep_blank_values=True).get("Qualifier")
    if found:
        qualifier = found[0]
    return Request(operation, labels.get("FunctionName", ""), qualifier, wanted, body, region,
                   attempt, invocation_id, read_timeout, stream)


def answer(service: LambdaService, operation: str, method: str, url: str,
           headers: Mapping[str, str], body: bytes, region: str,
           read_timeout: float | None, *, source: str = IN_PROCESS,
           stream: ResponseStream | None = None) -> Answer | None:
    """Answer one Lambda API request from the service.

    ``url`` is the request's URL (or only its path and query); ``headers`` its headers (any
    case, str or bytes values); ``body`` its raw body. ``source`` is recorded in
    ``ApiCall.source``; moto's ``mock_aws`` is consulted only for ``"in-process"`` requests.

    Returns None when the stub lets the request through (the ``passthrough`` option, or moto's
    ``mock_aws``); raises ``errors.TransportFault`` for a scripted network fault and
    ``errors.NotEmulatedError`` for an operation the stub does not emulate (its ``wire()``
    gives an HTTP answer for a server). A streaming answer (``InvokeWithResponseStream``) has
    ``chunks`` and ``complete`` instead of a body: ``transport.stream_frames`` frames it.
    With ``stream``, an ``InvokeWithResponseStream`` that runs its function also tells it the
    answer's headers and each chunk as they are produced (``ResponseStream``); the answer
    returned is the whole of it all the same.
    """
    if operation not in operation_names():
        raise ValueError(f"{operation!r} is not an operation of Lambda's API")
    parts = urlsplit(url)
    labels = _labels(operation, parts.path)
    if operation in INVOKE_FAMILY:
        if lets_through(service, operation, labels.get("FunctionName"), source=source):
            return None
        return handle(service, _invoke_request(operation, labels, parts.query, headers, body,
                                               region, read_timeout, stream))
    request_id = new_request_id()
    try:
        params = parse_params(operation, labels, parts.query, _text_headers(headers), body)
    except errors.ServiceError as error:
        return _error_answer(error, request_id)
    name = function_name_of(params)
    if lets_through(service, operation, name, source=source):
        return None
    if operation not in api.OPERATIONS:
        raise api.not_emulated(service, operation, name, region, request_id, params=params,
                               source=source)
    status = int(operation_model(operation).http.get("responseCode", 200))
    try:
        data = api.call(service, operation, params, region, request_id,
                        success_status=status, attempt=_attempt(headers), source=source)
    except errors.ServiceError as error:
        return _error_answer(error, request_id)
    return serialise(operation, data, request_id)


def _attempt(headers: Mapping[str, Any]) -> int:
    """botocore's attempt number (its ``amz-sdk-request`` header), 1 when absent."""
    for key, value in headers.items():
        if key.lower() == "amz-sdk-request":
            text = value.decode() if isinstance(value, bytes) else str(value)
            for item in text.split(";"):
                field, _, number = item.strip().partition("=")
                if field == "attempt" and number.isdigit():
                    return int(number)
    return 1


def _text_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {key: value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            for key, value in headers.items()}


def _error_answer(error: errors.ServiceError, request_id: str) -> Answer:
    status, headers, body = error.wire()
    headers["x-amzn-RequestId"] = request_id
    return Answer(status, headers, body)
