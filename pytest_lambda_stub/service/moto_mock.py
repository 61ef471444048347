"""Whether moto's ``mock_aws`` is active in this process, read from moto's own state without
importing moto (a process that never imported it has no mock active).

moto 5 keeps the count of active ``mock_aws`` contexts on its ``MockAWS`` classes (class
attribute ``_nested_count``, set on the class that was started: ``MockAWS`` in-process,
``ServerModeMockAWS`` / ``ProxyModeMockAWS`` when ``TEST_SERVER_MODE`` / ``TEST_PROXY_MODE``
are set); the in-process mode answers through ``botocore_stubber``, whose ``enabled`` flag is
True exactly while a mock is active.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

MotoMode = Literal["in-process", "server", "proxy"]


def _count(cls: Any) -> int:
    # Only the class's own attribute: a subclass that was never started inherits the base's.
    value = vars(cls).get("_nested_count", 0) if isinstance(cls, type) else 0
    return value if isinstance(value, int) else 0


def active_mode() -> MotoMode | None:
    """How moto's ``mock_aws`` answers requests now, or None when no mock is active."""
    models = sys.modules.get("moto.core.models")
    if models is None:
        return None
    if _count(getattr(models, "ServerModeMockAWS", None)) > 0:
        return "server"
    if _count(getattr(models, "ProxyModeMockAWS", None)) > 0:
        return "proxy"
    stubber = getattr(models, "botocore_stubber", None)
    if _count(getattr(models, "MockAWS", None)) > 0 and getattr(stubber, "enabled", False):
        return "in-process"
    return None
