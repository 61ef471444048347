"""Class-attribute patches that find themselves again, whoever wrapped around them since.

Other libraries wrap the same botocore methods (OpenTelemetry, aws-xray-sdk, ddtrace wrap
``BaseClient._make_api_call``; sentry-sdk replaces ``BaseClient.__init__``) and some unwrap by
taking the *outermost* layer's ``__wrapped__``, which removes whatever layer sits on top,
possibly this package's. So a patch is never trusted to be in place because a flag says so:

- :meth:`Patch.present` walks the attribute's ``__wrapped__`` chain looking for this patch's own
  wrapper function (a few attribute reads);
- :meth:`Patch.ensure` wraps the attribute as it is now when the wrapper is not in the chain;
- :meth:`Patch.remove` restores what the wrapper wrapped only when the wrapper is the outermost
  layer. Under another library's layer it stays in place, inert (the wrappers do nothing while no
  stub is active), because pulling a layer out from under someone else's wrapper would break it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt

Wrapper = Callable[[Callable[..., Any], Any, Any, Any], Any]
_MAX_DEPTH = 32  # wrapper chains are a few layers deep; a cycle must not hang the check


class Patch:
    """``owner.name`` wrapped (with wrapt) by ``wrapper``."""

    __slots__ = ("_made", "name", "owner", "wrapper")

    def __init__(self, owner: type, name: str, wrapper: Wrapper) -> None:
        self.owner = owner
        self.name = name
        self.wrapper = wrapper
        # The last (wrapped attribute, FunctionWrapper) made: re-installed as is when the
        # attribute is still the one it wrapped (a stub per test costs one setattr, not a
        # new wrapper).
        self._made: tuple[Any, Any] | None = None

    def present(self) -> bool:
        """Whether the wrapper is anywhere in the attribute's chain of wrapped callables."""
        attr = self.owner.__dict__.get(self.name)
        for _ in range(_MAX_DEPTH):
            if attr is None:
                return False
            if isinstance(attr, wrapt.FunctionWrapper) and attr._self_wrapper is self.wrapper:
                return True
            attr = getattr(attr, "__wrapped__", None)
        return False

    def ensure(self) -> None:
        current = self.owner.__dict__.get(self.name)
        if current is None or self.present():
            return
        made = self._made
        if made is None or made[0] is not current:
            made = self._made = (current, wrapt.FunctionWrapper(current, self.wrapper))
        setattr(self.owner, self.name, made[1])

    def remove(self) -> bool:
        """Undo the patch if it is the outermost layer; False when it had to stay (inert)."""
        attr = self.owner.__dict__.get(self.name)
        if isinstance(attr, wrapt.FunctionWrapper) and attr._self_wrapper is self.wrapper:
            setattr(self.owner, self.name, attr.__wrapped__)
            return True
        return not self.present()
