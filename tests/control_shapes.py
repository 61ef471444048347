"""Checking answers of the Lambda API against botocore's output shapes: the raw JSON body the
stub sent (captured on the client, before botocore's parser drops unknown keys) may hold only
keys of the shape, with values of the shape's types; the keys AWS always returns must be there."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import Shape

# What AWS always returns in a FunctionConfiguration of a Zip-packaged Python function.
ALWAYS_CONFIGURATION = frozenset({
    "FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSize", "Description",
    "Timeout", "MemorySize", "LastModified", "CodeSha256", "Version", "TracingConfig",
    "RevisionId", "State", "LastUpdateStatus", "PackageType", "Architectures",
    "EphemeralStorage", "SnapStart", "RuntimeVersionConfig", "LoggingConfig",
})
ALWAYS_ALIAS = frozenset({"AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"})
ALWAYS_EVENT_INVOKE = frozenset({"LastModified", "FunctionArn", "MaximumRetryAttempts",
                                 "MaximumEventAgeInSeconds", "DestinationConfig"})

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "long": (int,), "boolean": (bool,),
    "double": (int, float), "float": (int, float), "timestamp": (int, float, str),
    "blob": (str,), "list": (list,), "map": (dict,), "structure": (dict,),
}


def conforms(value: Any, shape: Shape, where: str = "") -> list[str]:
    """Problems of ``value`` (decoded JSON) against ``shape``: unknown keys, wrong types,
    missing required members, enum values outside the model."""
    problems: list[str] = []
    kind = shape.type_name
    if not isinstance(value, _JSON_TYPES[kind]) or (kind in ("integer", "long")
                                                    and isinstance(value, bool)):
        return [f"{where or shape.name}: {value!r} is not a {kind}"]
    if kind == "string" and shape.enum and value not in shape.enum:
        problems.append(f"{where}: {value!r} not in enum {shape.enum}")
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        for key, item in value.items():
            if key not in members:
                problems.append(f"{where}.{key}: not a member of {shape.name}")
            else:
                problems += conforms(item, members[key], f"{where}.{key}")
        for key in shape.required_members:  # type: ignore[attr-defined]
            if key not in value:
                problems.append(f"{where}.{key}: required by {shape.name}, missing")
    elif kind == "list":
        for index, item in enumerate(value):
            problems += conforms(item, shape.member, f"{where}[{index}]")  # type: ignore[attr-defined]
    elif kind == "map":
        for key, item in value.items():
            problems += conforms(item, shape.value, f"{where}[{key}]")  # type: ignore[attr-defined]
    return problems


class BodyRecorder:
    """Registered on a client: keeps the raw JSON body of every answer, by operation."""

    def __init__(self, client: Any) -> None:
        self.bodies: list[tuple[str, int, bytes]] = []
        client.meta.events.register("after-call.lambda", self._after_call)

    def _after_call(self, http_response: Any, model: Any, **_: Any) -> None:
        if model.has_streaming_output or model.has_event_stream_output:
            return  # Invoke's payload is the caller's to read
        self.bodies.append((model.name, http_response.status_code, http_response.content))

    def last(self, operation: str) -> Any:
        for name, _, body in reversed(self.bodies):
            if name == operation:
                return json.loads(body) if body else {}
        raise AssertionError(f"no answer recorded for {operation}")


def check_answer(client: Any, recorder: BodyRecorder, operation: str) -> Any:
    """Assert the last raw answer of ``operation`` conforms to its output shape; return it."""
    body = recorder.last(operation)
    shape = client.meta.service_model.operation_model(operation).output_shape
    if shape is None:
        assert body == {}, body
        return body
    problems = conforms(body, shape, operation)
    assert not problems, "\n".join(problems)
    return body
