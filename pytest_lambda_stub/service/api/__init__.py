"""The Lambda API around Invoke, answered from the declarations (botocore-free: the request's
parameters come in as plain data by member name, the result goes out the same way; parsing and
serialising per botocore's model happen in ``interception.dispatch``).

Areas: ``functions`` (configuration, account settings, recursion, policy), ``versions``
(versions, aliases, weighted routing), ``concurrency``, ``invoke_config`` (asynchronous
settings), ``tags``. Every call is recorded in ``service.api_calls``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import errors
from ..names import function_arn
from . import concurrency, functions, invoke_config, tags, versions
from .calls import ApiCall
from .common import Call

if TYPE_CHECKING:
    from ..state import LambdaService

Operation = Callable[[Call], dict[str, Any]]

OPERATIONS: Mapping[str, Operation] = {
    "GetFunction": functions.get_function,
    "GetFunctionConfiguration": functions.get_function_configuration,
    "ListFunctions": functions.list_functions,
    "UpdateFunctionConfiguration": functions.update_function_configuration,
    "GetFunctionRecursionConfig": functions.get_function_recursion_config,
    "PutFunctionRecursionConfig": functions.put_function_recursion_config,
    "GetAccountSettings": functions.get_account_settings,
    "GetPolicy": functions.get_policy,
    "ListVersionsByFunction": versions.list_versions_by_function,
    "PublishVersion": versions.publish_version,
    "GetAlias": versions.get_alias,
    "ListAliases": versions.list_aliases,
    "CreateAlias": versions.create_alias,
    "UpdateAlias": versions.update_alias,
    "DeleteAlias": versions.delete_alias,
    "GetFunctionConcurrency": concurrency.get_function_concurrency,
    "PutFunctionConcurrency": concurrency.put_function_concurrency,
    "DeleteFunctionConcurrency": concurrency.delete_function_concurrency,
    "GetFunctionEventInvokeConfig": invoke_config.get_function_event_invoke_config,
    "PutFunctionEventInvokeConfig": invoke_config.put_function_event_invoke_config,
    "UpdateFunctionEventInvokeConfig": invoke_config.update_function_event_invoke_config,
    "DeleteFunctionEventInvokeConfig": invoke_config.delete_function_event_invoke_config,
    "ListFunctionEventInvokeConfigs": invoke_config.list_function_event_invoke_configs,
    "ListTags": tags.list_tags,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
}
INVOKE_FAMILY = ("Invoke", "InvokeWithResponseStream", "InvokeAsync")


def failable_operations() -> frozenset[str]:
    """Operations ``FakeFunction.fail(operations=...)`` can script: those naming a function
    (``"Invoke"`` stands for the Invoke family)."""
    return frozenset(set(OPERATIONS) - {"ListFunctions", "GetAccountSettings"}) | {"Invoke"}


def _bare(name: str) -> str:
    return name.split(":function:")[-1].split(":")[0]


def is_known(service: LambdaService, function_name: str) -> bool:
    """Whether a FunctionName (any form) names a declared function or one expected missing."""
    bare = _bare(function_name)
    return bare in service.functions or bare in service.missing


def call(service: LambdaService, operation: str, params: dict[str, Any], region: str,
         request_id: str, *, success_status: int = 200, attempt: int = 1,
         source: str = "in-process") -> dict[str, Any]:
    """Answer one control-plane operation: the output members by name. Raises
    ``errors.ServiceError`` for an error answer, ``errors.NotEmulatedError`` for a request the
    emulation cannot apply. Every call is recorded."""
    name = params.get("FunctionName", params.get("Resource"))
    name = _bare(name) if isinstance(name, str) else None
    status, code = success_status, None
    try:
        scripted_failure(service, operation, name, region, attempt)
        return OPERATIONS[operation](Call(service, operation, params, region))
    except errors.TransportFault as fault:
        status, code = 0, fault.name
        raise
    except errors.ServiceError as error:
        status, code = error.status, error.code
        raise
    except errors.NotEmulatedError:
        status, code = 0, "NotEmulated"
        with service.lock:
            service.not_emulated[operation] += 1
        raise
    finally:
        _record(service, ApiCall(operation, name, params, status, code, request_id, region,
                                 source))


def scripted_failure(service: LambdaService, operation: str, name: str | None, region: str,
                     attempt: int) -> None:
    """Raise the failure scripted with ``fail(operations=[...])`` for this call, if any."""
    if name is None or name not in service.functions:
        return
    function = service.lookup(name, region, None)
    if function is None:
        return
    failure = function.take_failure(attempt, operation)
    if failure is None:
        return
    if failure.code in errors.TRANSPORT_FAULTS:
        raise errors.TransportFault(failure.code)
    arn = function_arn(function.region or region, function.account_id, function.name)
    fields = dict(failure.fields)
    if failure.code == "AccessDeniedException":
        fields.setdefault("action", f"lambda:{operation}")
    raise errors.service_error(failure.code, fields, resource=arn)


def _record(service: LambdaService, record: ApiCall) -> None:
    with service.lock:
        service.api_calls.append(record)


def not_emulated(service: LambdaService, operation: str, function_name: str | None,
                 region: str, request_id: str, *, params: dict[str, Any] | None = None,
                 source: str = "in-process") -> errors.NotEmulatedError:
    """The error for an operation the stub does not emulate (recorded, counted for strict mode):
    it names the operation and the two ways to let it through."""
    name = _bare(function_name) if function_name else None
    with service.lock:
        service.not_emulated[operation] += 1
    _record(service, ApiCall(operation, name, dict(params or {}), 0, "NotEmulated", request_id,
                             region, source))
    return errors.NotEmulatedError(
        f"pytest-lambda-stub does not emulate Lambda's {operation}, and while a stub is active "
        f"no Lambda call leaves the process unless you say so. Either let it through with the "
        f"passthrough option, naming the operation or the function "
        f"(stub_lambda(passthrough=[{operation!r}]), "
        f"@pytest.mark.lambda_stub(passthrough=[{operation!r}]) or lambda_stub_passthrough = "
        f"{operation} in the ini file), or activate moto's mock_aws, which then answers "
        f"operations the stub does not emulate")
