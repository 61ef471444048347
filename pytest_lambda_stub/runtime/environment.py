"""The environment a handler sees: ``os.environ`` as Lambda's runtime defines it, per invocation.

While a stub is active, the process's ``os.environ`` object is given a subclass of its own class
(the same object: modules that hold a reference to it, such as botocore's configuration
providers, see the change too). From a thread running a handler, and from the threads that
handler starts, it shows that invocation's variables over the process's own: Lambda's reserved
variables, the function's ``environment=``, and whatever the handler itself sets or deletes.
Every other thread sees the process environment, unchanged. Writes made by a handler go to its
execution environment's variables, never to the process (nor to the C-level environment).

Which threads see an invocation's variables: the thread running its handler, and every
``threading.Thread`` started while a handler runs, from that thread or from a thread it started
(``Thread.start`` is wrapped while a stub is active). A thread keeps the variables of the
invocation that started it. Threads that existed before (a pool created by the test) do not.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

TRACE_KEY = "_X_AMZN_TRACE_ID"
_ORIGINAL_CLASS = type(os.environ)
_install_lock = threading.Lock()
_install_count = 0
_original_start: Any = None


class Variables:
    """One execution environment's variables: what the runtime defined plus the handler's own
    writes (kept across warm invocations, as on Lambda) and deletions."""

    __slots__ = ("deleted", "values")

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values: dict[str, str] = dict(values)
        self.deleted: set[str] = set()


class View:
    """What one invocation's threads see: its environment's variables, its trace header, its
    chain of calling functions, and whether its handler is still running."""

    __slots__ = ("active", "chain", "trace", "variables")

    def __init__(self, variables: Variables, trace: str | None,
                 chain: tuple[str, ...]) -> None:
        self.variables = variables
        self.trace = trace
        self.chain = chain
        self.active = True


class _Local(threading.local):
    view: View | None = None
    inherited = False  # whether this thread has looked for a view from its starter


_local = _Local()


def current_view() -> View | None:
    """The invocation whose environment this thread sees (None: the process's own)."""
    local = _local
    view = local.view
    if view is None and not local.inherited:
        local.inherited = True
        view = local.view = getattr(threading.current_thread(), "_lambda_stub_view", None)
    return view


def set_view(view: View | None) -> View | None:
    """Make ``view`` this thread's (returns the previous one, to restore)."""
    local = _local
    previous = local.view
    local.view = view
    local.inherited = True
    return previous


class LambdaEnviron(_ORIGINAL_CLASS):  # type: ignore[valid-type,misc]
    """``os.environ`` while a stub is active (see the module docstring)."""

    def __getitem__(self, key: str) -> str:
        view = current_view()
        if view is not None:
            variables = view.variables
            if key in variables.deleted:
                raise KeyError(key)
            if key == TRACE_KEY and view.trace is not None:
                return view.trace
            value = variables.values.get(key)
            if value is not None:
                return value
        return super().__getitem__(key)  # type: ignore[no-any-return]

    def __setitem__(self, key: str, value: str) -> None:
        view = current_view()
        if view is None:
            super().__setitem__(key, value)
            return
        # Same checks as os.environ's own (str keys and values only).
        self.encodekey(key)
        self.encodevalue(value)
        variables = view.variables
        variables.deleted.discard(key)
        if key == TRACE_KEY:
            view.trace = value
        variables.values[key] = value

    def __delitem__(self, key: str) -> None:
        view = current_view()
        if view is None:
            super().__delitem__(key)
            return
        if key not in self:
            raise KeyError(key)
        variables = view.variables
        variables.values.pop(key, None)
        if key == TRACE_KEY:
            view.trace = None
        variables.deleted.add(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def _keys(self) -> list[str]:
        view = current_view()
        keys = list(super().__iter__())
        if view is None:
            return keys
        variables = view.variables
        seen = set(keys)
        keys += [key for key in variables.values if key not in seen]
        if view.trace is not None and TRACE_KEY not in seen and TRACE_KEY not in variables.values:
            keys.append(TRACE_KEY)
        return [key for key in keys if key not in variables.deleted]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __repr__(self) -> str:
        items = ", ".join(f"{key!r}: {self[key]!r}" for key in self._keys())
        return f"environ({{{items}}})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        return dict, (dict(self),)


def _start(thread: threading.Thread) -> None:
    view = current_view()
    if view is not None:
        thread._lambda_stub_view = view  # type: ignore[attr-defined]
    _original_start(thread)


_start.__lambda_stub__ = True  # type: ignore[attr-defined]


def install() -> None:
    """Switch ``os.environ`` to the per-invocation view (reference counted, at stub start)."""
    global _install_count, _original_start
    with _install_lock:
        _install_count += 1
        if _install_count > 1:
            return
        if type(os.environ) is _ORIGINAL_CLASS:
            os.environ.__class__ = LambdaEnviron
        if threading.Thread.start is not _start:
            # Kept once taken: a library that wrapped ``start`` after us still calls _start.
            if _original_start is None:
                _original_start = threading.Thread.start
            threading.Thread.start = _start  # type: ignore[method-assign,assignment]


def uninstall() -> None:
    global _install_count
    with _install_lock:
        _install_count -= 1
        if _install_count > 0:
            return
        _install_count = 0
        if type(os.environ) is LambdaEnviron:
            os.environ.__class__ = _ORIGINAL_CLASS  # type: ignore[assignment]
        if _original_start is not None and threading.Thread.start is _start:
            threading.Thread.start = _original_start  # type: ignore[method-assign]
