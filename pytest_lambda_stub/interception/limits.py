"""The request limits the service checks, read from the installed botocore's Lambda model (so a
newer model's limits apply without a release of this package)."""

from __future__ import annotations

import functools

from ..service.names import NameLimits


@functools.lru_cache(maxsize=1)
def from_model() -> NameLimits:
    """FunctionName and Qualifier maximum lengths of the Invoke operation's input shape."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    shape = model.operation_model("Invoke").input_shape
    assert shape is not None
    members = shape.members
    return NameLimits(function_name=int(members["FunctionName"].metadata["max"]),
                      qualifier=int(members["Qualifier"].metadata["max"]))
