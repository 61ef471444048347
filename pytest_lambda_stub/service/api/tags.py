"""Tags: ListTags, TagResource and UntagResource on a declared function's ARN."""

from __future__ import annotations

from typing import Any

from .. import errors
from .common import Call, find
from .model import state_of

_ARN_PATTERN = r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"


def _target_state(call: Call) -> Any:
    resource = str(call.params.get("Resource", ""))
    if not resource.startswith("arn:"):
        raise errors.validation(
            f"1 validation error detected: Value '{resource}' at 'resource' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {_ARN_PATTERN}")
    target = find(call, member="Resource", qualified=False)
    return state_of(call.service, target.function)


def list_tags(call: Call) -> dict[str, Any]:
    return {"Tags": dict(_target_state(call).tags)}


def tag_resource(call: Call) -> dict[str, Any]:
    state = _target_state(call)
    tags = call.params.get("Tags") or {}
    with call.service.lock:
        state.tags.update({str(k): str(v) for k, v in tags.items()})
    return {}


def untag_resource(call: Call) -> dict[str, Any]:
    state = _target_state(call)
    with call.service.lock:
        for key in call.params.get("TagKeys") or ():
            state.tags.pop(key, None)
    return {}
