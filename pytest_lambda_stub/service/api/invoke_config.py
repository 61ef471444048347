"""Asynchronous invocation settings: Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)
set what ``Event`` invokes do (retries, maximum event age, destinations).

The emulation keeps one configuration per function: a qualifier's configuration applies to
every version of the function.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..names import function_arn, is_valid_bare_name
from .common import Call, Target, check_range, find
from .model import state_of

DEFAULT_RETRIES = 2
DEFAULT_AGE = 21600


def _configured(call: Call, target: Target) -> bool:
    state = state_of(call.service, target.function)
    if state.event_invoke_configured is not None:
        return state.event_invoke_configured
    function = target.function
    return (function.maximum_retry_attempts != DEFAULT_RETRIES
            or function.maximum_event_age != DEFAULT_AGE
            or function.on_success is not None or function.on_failure is not None)


def _destination(target: Target, value: Any) -> dict[str, str]:
    if isinstance(value, str):
        if not value.startswith("arn:") and is_valid_bare_name(value):
            value = function_arn(target.region, target.function.account_id, value)
        return {"Destination": value}
    return {}  # a callable: no ARN to show


def _render(call: Call, target: Target) -> dict[str, Any]:
    function = target.function
    state = state_of(call.service, function)
    destinations: dict[str, Any] = {}
    if function.on_success is not None:
        destinations["OnSuccess"] = _destination(target, function.on_success)
    if function.on_failure is not None:
        destinations["OnFailure"] = _destination(target, function.on_failure)
    if not state.event_invoke_modified:  # declared: as of the first time it is reported
        state.event_invoke_modified = call.service.clock.now()
    return {
        "LastModified": state.event_invoke_modified,
        "FunctionArn": target.arn(target.qualifier or "$LATEST"),
        "MaximumRetryAttempts": function.maximum_retry_attempts,
        "MaximumEventAgeInSeconds": function.maximum_event_age,
        "DestinationConfig": destinations,
    }


def get_function_event_invoke_config(call: Call) -> dict[str, Any]:
    target = find(call)
    if not _configured(call, target):
        raise errors.not_found(f"The function {target.arn(target.qualifier or '$LATEST')} "
                               f"doesn't have an EventInvokeConfig")
    return _render(call, target)


def list_function_event_invoke_configs(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    configs = [_render(call, target)] if _configured(call, target) else []
    return {"FunctionEventInvokeConfigs": configs}


def _apply(call: Call, *, replace: bool) -> dict[str, Any]:
    target = find(call)
    function, service = target.function, call.service
    if not replace and not _configured(call, target):
        raise errors.not_found(f"The function {target.arn(target.qualifier or '$LATEST')} "
                               f"doesn't have an EventInvokeConfig")
    retries = call.params.get("MaximumRetryAttempts")
    age = call.params.get("MaximumEventAgeInSeconds")
    check_range("maximumRetryAttempts", retries, 0, 2)
    check_range("maximumEventAgeInSeconds", age, 60, 21600)
    config = call.params.get("DestinationConfig")
    targets: dict[str, Any] = {}
    for key in ("OnSuccess", "OnFailure"):
        entry = (config or {}).get(key)
        if entry is not None:
            destination = entry.get("Destination")
            if destination is not None and not str(destination).startswith("arn:"):
                raise errors.invalid_parameter(
                    f"The provided destination config DestinationConfig.{key}.Destination is "
                    f"invalid: {destination}")
            targets[key] = destination
    with service.lock:
        if replace:
            function.maximum_retry_attempts = DEFAULT_RETRIES if retries is None else retries
            function.maximum_event_age = DEFAULT_AGE if age is None else age
            function.on_success = targets.get("OnSuccess")
            function.on_failure = targets.get("OnFailure")
        else:
            if retries is not None:
                function.maximum_retry_attempts = retries
            if age is not None:
                function.maximum_event_age = age
            if "OnSuccess" in targets:
                function.on_success = targets["OnSuccess"]
            if "OnFailure" in targets:
                function.on_failure = targets["OnFailure"]
        state = state_of(service, function)
        state.event_invoke_configured = True
        state.event_invoke_modified = service.clock.now()
    return _render(call, target)


def put_function_event_invoke_config(call: Call) -> dict[str, Any]:
    return _apply(call, replace=True)


def update_function_event_invoke_config(call: Call) -> dict[str, Any]:
    return _apply(call, replace=False)


def delete_function_event_invoke_config(call: Call) -> dict[str, Any]:
    target = find(call)
    function, service = target.function, call.service
    if not _configured(call, target):
        raise errors.not_found(f"The function {target.arn(target.qualifier or '$LATEST')} "
                               f"doesn't have an EventInvokeConfig")
    with service.lock:
        function.maximum_retry_attempts = DEFAULT_RETRIES
        function.maximum_event_age = DEFAULT_AGE
        function.on_success = None
        function.on_failure = None
        state_of(service, function).event_invoke_configured = False
    return {}
