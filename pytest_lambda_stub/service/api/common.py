"""What every control-plane operation shares: finding the function a request names (with
AWS's validation and not-found messages), the FunctionConfiguration it reports, and paging."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .. import errors
from ..names import (
    function_arn,
    qualifier_is_valid,
    try_parse_function_name,
    validation_message,
    validation_messages,
)
from .model import RUNTIME, code_of, handler_text, state_of

if TYPE_CHECKING:
    from ...functions import FakeFunction
    from ..state import LambdaService

T = TypeVar("T")
MAX_NAME_LENGTH = 170  # the model's limit for FunctionName (and a function ARN)


@dataclasses.dataclass(slots=True)
class Call:
    """One control-plane request as an operation reads it."""

    service: LambdaService
    operation: str
    params: dict[str, Any]
    region: str

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value


@dataclasses.dataclass(slots=True)
class Target:
    """The declared function a request names, and the qualifier it asks for (if any)."""

    function: FakeFunction
    qualifier: str | None
    region: str

    def arn(self, qualifier: str | None = None) -> str:
        return function_arn(self.region, self.function.account_id, self.function.name, qualifier)


def home_region(service: LambdaService, function: FakeFunction, region: str) -> str:
    return function.region or service.options.region or region


def note_undeclared(service: LambdaService, name: str, region: str, operation: str) -> None:
    """Count a request for a function not declared here, for strict mode: as in another region
    when the name is declared there, else as undeclared (``expect_missing`` names aside)."""
    with service.lock:
        if name in service.functions:
            service.wrong_region[(name, region)] += 1
        elif operation in ("Invoke", "InvokeWithResponseStream", "InvokeAsync"):
            service.undeclared[name] += 1
        else:
            service.undeclared_api[(name, operation)] += 1


def find(call: Call, *, member: str = "FunctionName", qualified: bool = True) -> Target:
    """The declared function ``call`` names; AWS's ValidationException for a bad name,
    ResourceNotFoundException for one not declared here (or a qualifier that does not exist)."""
    service, region = call.service, call.region
    name = str(call.params.get(member, ""))
    qualifier = call.params.get("Qualifier") if qualified else None
    ref = try_parse_function_name(name)
    if ref is None or not qualifier_is_valid(qualifier) or len(name) > MAX_NAME_LENGTH:
        problems = validation_messages(name, qualifier)
        if len(name) > MAX_NAME_LENGTH:
            problems.insert(0, f"Value '{name}' at '{member[0].lower()}{member[1:]}' failed to "
                               f"satisfy constraint: Member must have length less than or "
                               f"equal to {MAX_NAME_LENGTH}")
        raise errors.validation(validation_message(problems))
    if not qualified and ref.qualifier is not None and call.operation not in (
            "ListTags", "TagResource", "UntagResource"):
        raise errors.invalid_parameter(
            f"{call.operation} does not accept a qualified function name: {name}")
    if ref.region is not None and ref.region != region:
        raise errors.not_found(f"Functions from '{ref.region}' are not reachable in this region "
                               f"('{region}')")
    if ref.qualifier is not None and qualifier is not None and ref.qualifier != qualifier:
        raise errors.invalid_parameter("The derived qualifier from the function name does not "
                                       "match the specified qualifier.")
    qualifier = qualifier if qualifier is not None else ref.qualifier
    function = service.lookup(ref.name, region, ref.account)
    if function is None:
        note_undeclared(service, ref.name, region, call.operation)
        account = ref.account or service.options.account_id
        raise errors.not_found(
            f"Function not found: {function_arn(region, account, ref.name, qualifier)}")
    target = Target(function, qualifier, home_region(service, function, region))
    if qualifier is not None and version_of(function, qualifier) is None:
        raise errors.not_found(f"Function not found: {target.arn(qualifier)}")
    return target


def version_of(function: FakeFunction, qualifier: str | None) -> str | None:
    """The version a qualifier names (``$LATEST`` always exists for the API)."""
    if qualifier is None or qualifier == "$LATEST":
        return "$LATEST"
    return function.resolve_qualifier(qualifier)


def configuration(service: LambdaService, target: Target, version: str,
                  arn_qualifier: str | None) -> dict[str, Any]:
    """The FunctionConfiguration AWS reports for a Python function with these settings."""
    function = target.function
    state = state_of(service, function)
    frozen = state.published.get(version)
    if frozen is not None:
        timeout, memory, environment = frozen.timeout, frozen.memory_size, frozen.environment
        description, handler = frozen.description, frozen.handler
        sha, size = frozen.code_sha256, frozen.code_size
        modified, revision = frozen.last_modified, frozen.revision_id
        role = frozen.role
    else:
        timeout, memory, environment = function.timeout, function.memory_size, function.environment
        description = state.description
        handler = handler_text(function, version)
        sha, size = code_of(function, version)
        modified, revision = state.last_modified, state.revision_id
        role = state.role
    account = function.account_id
    config: dict[str, Any] = {
        "FunctionName": function.name,
        "FunctionArn": target.arn(arn_qualifier),
        "Runtime": RUNTIME,
        "Role": role or f"arn:aws:iam::{account}:role/service-role/{function.name}-role",
        "Handler": handler,
        "CodeSize": size,
        "Description": description,
        "Timeout": math.ceil(timeout),
        "MemorySize": memory,
        "LastModified": modified,
        "CodeSha256": sha,
        "Version": version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": revision,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "RuntimeVersionConfig": {
            "RuntimeVersionArn": f"arn:aws:lambda:{target.region}::runtime:"
                                 f"{RUNTIME_VERSION_ID}"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
    }
    if environment:
        config["Environment"] = {"Variables": dict(environment)}
    if isinstance(function.dead_letter, str):
        config["DeadLetterConfig"] = {"TargetArn": function.dead_letter}
    return config


# A stable runtime version id (64 hex digits, as AWS shows them).
RUNTIME_VERSION_ID = "0" * 24 + "".join(f"{ord(c):02x}" for c in RUNTIME)[:40].ljust(40, "0")


def page(call: Call, items: Sequence[T], key: str,
         render: Callable[[T], Any], default: int = 50) -> dict[str, Any]:
    """One page of ``items``: ``Marker`` is the index to start from, ``MaxItems`` the size."""
    marker = call.params.get("Marker")
    start = 0
    if marker is not None:
        if not str(marker).isdigit() or int(marker) > len(items):
            raise errors.invalid_parameter(f"Invalid marker: {marker}")
        start = int(marker)
    size = call.params.get("MaxItems") or default
    if not isinstance(size, int) or size < 1:
        raise errors.validation(validation_message([
            f"Value '{size}' at 'maxItems' failed to satisfy constraint: Member must have "
            f"value greater than or equal to 1"]))
    chunk = items[start:start + size]
    result: dict[str, Any] = {key: [render(item) for item in chunk]}
    if start + size < len(items):
        result["NextMarker"] = str(start + size)
    return result


def check_revision(call: Call, current: str, what: str) -> None:
    given = call.params.get("RevisionId")
    if given is not None and given != current:
        raise errors.ServiceError("PreconditionFailedException", 412, {
            "Type": "User",
            "message": f"The Revision Id provided does not match the latest Revision Id. Call "
                       f"the {what} API to retrieve the latest Revision Id"})


def check_range(member: str, value: Any, low: int, high: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.invalid_parameter(f"{member} must be an integer, not {value!r}")
    problems = []
    if value < low:
        problems.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member "
                        f"must have value greater than or equal to {low}")
    if value > high:
        problems.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member "
                        f"must have value less than or equal to {high}")
    if problems:
        raise errors.validation(validation_message(problems))
