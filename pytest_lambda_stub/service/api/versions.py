"""Versions and aliases: ListVersionsByFunction, PublishVersion, the alias operations, and
weighted alias routing (each invocation of a weighted alias runs one of its versions, drawn
with the stub's ``seed``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...runtime.handlers import HandlerRef
from .. import errors
from .common import Call, Target, check_revision, configuration, find, page
from .model import AliasMeta, code_of, freeze, handler_text, new_revision, state_of

if TYPE_CHECKING:
    from ...functions import FakeFunction
    from ..state import LambdaService

_ALIAS_RE = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")


def _versions(function: FakeFunction) -> list[str]:
    return sorted((v for v in function.versions if v != "$LATEST"), key=int)


def list_versions_by_function(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    entries = ["$LATEST", *_versions(target.function)]
    return page(call, entries, "Versions",
                lambda version: configuration(call.service, target, version, version))


def publish_version(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    function, service = target.function, call.service
    state = state_of(service, function)
    check_revision(call, state.revision_id, "GetFunction")
    sha, _ = code_of(function)
    given_sha = call.params.get("CodeSha256")
    if given_sha is not None and given_sha != sha:
        raise errors.invalid_parameter(
            f"CodeSHA256 ({given_sha}) is different from current CodeSHA256 in $LATEST "
            f"({sha}). Please try again")
    latest = function.versions.get("$LATEST")
    if latest is None:
        raise errors.invalid_parameter(
            f"function {function.name!r} has no $LATEST handler to publish")
    with service.lock:
        existing = _versions(function)
        last = state.published.get(existing[-1]) if existing else None
        if (last is not None and last.code_sha256 == sha
                and last.handler == handler_text(function)
                and last.timeout == function.timeout
                and last.memory_size == function.memory_size
                and (last.environment or None) == (function.environment or None)
                and last.role == state.role):
            version = last.version  # nothing changed since: AWS returns that version
        else:
            version = str(int(existing[-1]) + 1 if existing else 1)
            function.versions[version] = HandlerRef(latest.spec, latest.code_root)
            state.published[version] = freeze(function, version,
                                              call.params.get("Description") or "", state.role)
    return configuration(service, target, version, version)


# -- aliases ---------------------------------------------------------------------------------

def _alias(call: Call, target: Target, name: str) -> dict[str, Any]:
    function = target.function
    meta = state_of(call.service, function).aliases.setdefault(name, AliasMeta())
    result: dict[str, Any] = {
        "AliasArn": target.arn(name),
        "Name": name,
        "FunctionVersion": function.aliases[name],
        "Description": meta.description,
        "RevisionId": meta.revision_id,
    }
    weights = function.routing.get(name)
    if weights:
        result["RoutingConfig"] = {"AdditionalVersionWeights": dict(weights)}
    return result


def _existing_alias(call: Call, target: Target, name: str) -> None:
    if name not in target.function.aliases:
        raise errors.not_found(f"Cannot find alias arn: {target.arn(name)}")


def get_alias(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    name = str(call.params.get("Name"))
    _existing_alias(call, target, name)
    return _alias(call, target, name)


def list_aliases(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    wanted = call.params.get("FunctionVersion")
    names = sorted(name for name, version in target.function.aliases.items()
                   if wanted is None or version == wanted)
    return page(call, names, "Aliases", lambda name: _alias(call, target, name))


def _routing(call: Call, target: Target, primary: str) -> dict[str, float] | None:
    config = call.params.get("RoutingConfig")
    if config is None:
        return None
    weights = config.get("AdditionalVersionWeights") or {}
    return check_weights(target.function, primary, weights, problem=errors.invalid_parameter)


def check_weights(function: FakeFunction, primary: str, weights: Mapping[str, Any], *,
                  problem: Any) -> dict[str, float]:
    """Validate AdditionalVersionWeights as AWS does (one extra version, weight in [0, 1],
    published versions only); ``problem`` builds the error to raise."""
    if len(weights) > 1:
        raise problem("Number of items in AdditionalVersionWeights cannot be greater than 1")
    checked: dict[str, float] = {}
    for version, weight in weights.items():
        version = str(version)
        if primary == "$LATEST" or version == "$LATEST":
            raise problem("$LATEST is not supported for an alias pointing to more than 1 version")
        if version == primary:
            raise problem(f"Alias cannot point to the same version {version} in its "
                          f"RoutingConfig as the primary version")
        if version not in function.versions:
            raise problem(f"Version {version} of function {function.name} does not exist")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or not 0 <= weight <= 1:
            raise problem(f"Routing weight of version {version} must be between 0.0 and 1.0, "
                          f"not {weight!r}")
        checked[version] = float(weight)
    return checked


def _check_version(target: Target, version: str) -> None:
    if version != "$LATEST" and version not in target.function.versions:
        raise errors.not_found(f"Function not found: {target.arn(version)}")


def create_alias(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    function, service = target.function, call.service
    name = str(call.params.get("Name"))
    version = str(call.params.get("FunctionVersion"))
    if _ALIAS_RE.fullmatch(name) is None or len(name) > 128:
        raise errors.validation(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: "
            f"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    _check_version(target, version)
    weights = _routing(call, target, version)
    with service.lock:
        if name in function.aliases:
            raise errors.service_error("ResourceConflictException", {
                "message": f"Alias already exists: {target.arn(name)}"})
        function.aliases[name] = version
        function.routing.pop(name, None)
        if weights:
            function.routing[name] = weights
        state_of(service, function).aliases[name] = AliasMeta(
            call.params.get("Description") or "")
    return _alias(call, target, name)


def update_alias(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    function, service = target.function, call.service
    name = str(call.params.get("Name"))
    _existing_alias(call, target, name)
    meta = state_of(service, function).aliases.setdefault(name, AliasMeta())
    check_revision(call, meta.revision_id, "GetAlias")
    version = call.params.get("FunctionVersion") or function.aliases[name]
    _check_version(target, version)
    weights = _routing(call, target, version)
    with service.lock:
        function.aliases[name] = version
        if weights is not None:
            function.routing.pop(name, None)
            if weights:
                function.routing[name] = weights
        elif version in function.routing.get(name, {}):
            raise errors.invalid_parameter(
                f"Alias cannot point to the same version {version} in its RoutingConfig as "
                f"the primary version")
        if call.params.get("Description") is not None:
            meta.description = call.params["Description"]
        meta.revision_id = new_revision()
    return _alias(call, target, name)


def delete_alias(call: Call) -> dict[str, Any]:
    target = find(call, qualified=False)
    function, service = target.function, call.service
    name = str(call.params.get("Name"))
    with service.lock:
        function.aliases.pop(name, None)  # AWS answers 204 for a missing alias too
        function.routing.pop(name, None)
        state_of(service, function).aliases.pop(name, None)
    return {}


def route_alias(service: LambdaService, function: FakeFunction, qualifier: str | None,
                version: str) -> str:
    """The version one invocation of ``qualifier`` runs: a weighted alias draws one of its
    versions with the stub's seeded random generator."""
    if qualifier is None or not function.routing:
        return version
    weights = function.routing.get(qualifier)
    if not weights:
        return version
    with service.lock:
        draw = service.routing_random.random()
    for extra, weight in weights.items():
        if draw < weight:
            return extra
        draw -= weight
    return version
