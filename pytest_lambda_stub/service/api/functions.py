"""Functions and their configuration: GetFunction, GetFunctionConfiguration, ListFunctions,
UpdateFunctionConfiguration, the recursion setting, account settings and GetPolicy."""

from __future__ import annotations

import re
from typing import Any

from ...runtime.handlers import RESERVED_VARIABLES
from .. import errors
from .common import Call, Target, check_range, check_revision, configuration, find, page, version_of
from .model import code_of, state_of

# UpdateFunctionConfiguration members the emulation applies; the others are refused unless
# they leave the configuration as it is (deployment tools such as Zappa send every member).
_APPLIED = frozenset({"FunctionName", "Timeout", "MemorySize", "Environment", "Description",
                      "RevisionId", "DeadLetterConfig", "Role"})
# The RoleArn shape's pattern in Lambda's service model.
_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")


def _empty(value: Any) -> bool:
    """``{}``, ``[]``, ``""``, or a structure of them: the value of a member the function lacks."""
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, (list, tuple, str)):
        return not value
    return value is None or value is False


def _unchanged(value: Any, current: Any) -> bool:
    """Whether setting a member to ``value`` leaves what GetFunctionConfiguration reports."""
    if current is None:
        return _empty(value)
    if isinstance(value, dict) and isinstance(current, dict):
        return all(_unchanged(v, current.get(k)) for k, v in value.items())
    return bool(value == current)


def _config(call: Call, target: Target) -> dict[str, Any]:
    version = version_of(target.function, target.qualifier) or "$LATEST"
    return configuration(call.service, target, version, target.qualifier)


def get_function_configuration(call: Call) -> dict[str, Any]:
    return _config(call, find(call))


def get_function(call: Call) -> dict[str, Any]:
    target = find(call)
    function = target.function
    sha, _ = code_of(function)
    result: dict[str, Any] = {
        "Configuration": _config(call, target),
        "Code": {
            "RepositoryType": "S3",
            "Location": (f"https://awslambda-{target.region}-tasks.s3.{target.region}."
                         f"amazonaws.com/snapshots/{function.account_id}/{function.name}-"
                         f"{sha[:8].replace('/', '_').replace('+', '-')}"),
        },
    }
    tags = state_of(call.service, function).tags
    if tags:
        result["Tags"] = dict(tags)
    if function.reserved_concurrency is not None:
        result["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved_concurrency}
    return result


def list_functions(call: Call) -> dict[str, Any]:
    service, region = call.service, call.region
    every = call.params.get("FunctionVersion") == "ALL"
    if call.params.get("FunctionVersion") not in (None, "ALL"):
        raise errors.validation(
            f"1 validation error detected: Value '{call.params['FunctionVersion']}' at "
            f"'functionVersion' failed to satisfy constraint: Member must satisfy enum value "
            f"set: [ALL]")
    entries: list[tuple[Target, str, str | None]] = []
    with service.lock:
        functions = sorted(service.functions.values(), key=lambda f: f.name)
    for function in functions:
        if service.lookup(function.name, region, None) is None:
            continue
        target = Target(function, None, function.region or service.options.region or region)
        entries.append((target, "$LATEST", None))
        if every:
            for version in _published_versions(function):
                entries.append((target, version, version))
    return page(call, entries, "Functions",
                lambda entry: configuration(service, entry[0], entry[1], entry[2]))


def _published_versions(function: Any) -> list[str]:
    return sorted((v for v in function.versions if v != "$LATEST"), key=int)


def update_function_configuration(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    function = target.function
    state = state_of(call.service, function)
    current = configuration(call.service, target, "$LATEST", None)
    refused = sorted(k for k, v in call.params.items()
                     if v is not None and k not in _APPLIED and not _unchanged(v, current.get(k)))
    if refused:
        changes = "; ".join(f"{k} {call.params[k]!r} (the function has {current.get(k)!r})"
                            for k in refused)
        raise errors.NotEmulatedError(
            f"UpdateFunctionConfiguration of function '{function.name}' changing {changes} is "
            f"not emulated by pytest-lambda-stub (it applies Timeout, MemorySize, Environment, "
            f"Description, Role and DeadLetterConfig, and accepts other members set to the "
            f"values the function already has); change the declaration instead, or let the "
            f"operation through with passthrough=['UpdateFunctionConfiguration'] or moto's "
            f"mock_aws")
    role = call.params.get("Role")
    if role is not None and not _ROLE.fullmatch(role):
        raise errors.validation(
            f"1 validation error detected: Value '{role}' at 'role' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {_ROLE.pattern}")
    check_revision(call, state.revision_id, "GetFunction")
    timeout = call.params.get("Timeout")
    memory = call.params.get("MemorySize")
    check_range("timeout", timeout, 1, 900)
    check_range("memorySize", memory, 128, 10240)
    environment = call.params.get("Environment")
    variables = None
    if environment is not None:
        variables = environment.get("Variables") or {}
        bad = [k for k, v in variables.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise errors.invalid_parameter(f"Environment variables must be strings: {bad}")
        reserved = sorted(k for k in variables if k in RESERVED_VARIABLES)
        if reserved:
            raise errors.invalid_parameter(
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided contains reserved keys that are "
                f"currently not supported for modification. Reserved keys used in this "
                f"request: {', '.join(reserved)}")
    dead_letter = call.params.get("DeadLetterConfig")
    with call.service.lock:
        if timeout is not None:
            function.timeout = float(timeout)
        if memory is not None:
            function.memory_size = memory
        if environment is not None:
            function.environment = dict(variables) if variables else None
        if call.params.get("Description") is not None:
            state.description = call.params["Description"]
        if dead_letter is not None:
            function.dead_letter = dead_letter.get("TargetArn") or None
        if role is not None:
            state.role = role
        state.touch()
    # Lambda runs $LATEST in new execution environments after a configuration change: the
    # next invocation is a cold start that runs the handler's module again.
    function.discard_environment("$LATEST")
    latest = function.versions.get("$LATEST")
    if latest is not None:
        latest.reload = True
    return configuration(call.service, target, "$LATEST", None)


def get_function_recursion_config(call: Call) -> dict[str, Any]:
    return {"RecursiveLoop": find(call, qualified=False).function.recursive_loop}


def put_function_recursion_config(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    loop = call.params.get("RecursiveLoop")
    if loop not in ("Allow", "Terminate"):
        raise errors.validation(
            f"1 validation error detected: Value '{loop}' at 'recursiveLoop' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [Allow, Terminate]")
    with call.service.lock:
        target.function.recursive_loop = loop
    return {"RecursiveLoop": loop}


# AWS's default quotas for an account.
_TOTAL_CODE_SIZE = 80530636800
_UNZIPPED = 262144000
_ZIPPED = 52428800


def get_account_settings(call: Call) -> dict[str, Any]:
    service = call.service
    with service.lock:
        functions = [f for f in service.functions.values()
                     if service.lookup(f.name, call.region, None) is not None]
    limit = service.options.account_concurrency
    reserved = sum(f.reserved_concurrency or 0 for f in functions)
    return {
        "AccountLimit": {
            "TotalCodeSize": _TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": _UNZIPPED,
            "CodeSizeZipped": _ZIPPED,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": max(limit - reserved, 0),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(code_of(f)[1] for f in functions),
            "FunctionCount": len(functions),
        },
    }


def get_policy(call: Call) -> dict[str, Any]:
    find(call)
    raise errors.not_found("The resource you requested does not exist.")
