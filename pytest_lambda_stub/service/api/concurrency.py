"""Reserved concurrency: Get/Put/DeleteFunctionConcurrency change what ``Invoke`` throttles."""

from __future__ import annotations

from typing import Any

from .. import errors
from .common import Call, find

# AWS keeps this many executions unreserved in the account.
MINIMUM_UNRESERVED = 100


def get_function_concurrency(call: Call) -> dict[str, Any]:
    function = find(call, qualified=False).function
    if function.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": function.reserved_concurrency}


def put_function_concurrency(call: Call) -> dict[str, Any]:
    function = find(call, qualified=False).function
    service = call.service
    value = call.params.get("ReservedConcurrentExecutions")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.invalid_parameter(
            f"ReservedConcurrentExecutions must be an integer >= 0, not {value!r}")
    with service.lock:
        limit = service.options.account_concurrency
        others = sum(f.reserved_concurrency or 0 for f in service.functions.values()
                     if f is not function)
        minimum = MINIMUM_UNRESERVED if limit >= MINIMUM_UNRESERVED else 0
        if limit - others - value < minimum:
            raise errors.invalid_parameter(
                f"Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{minimum}].")
        function.reserved_concurrency = value
    return {"ReservedConcurrentExecutions": value}


def delete_function_concurrency(call: Call) -> dict[str, Any]:
    function = find(call, qualified=False).function
    with call.service.lock:
        function.reserved_concurrency = None
    return {}
