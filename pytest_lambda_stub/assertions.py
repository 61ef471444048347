"""Assertion helpers on FakeFunction (``assert_invoked_with`` and friends).

Like ``call_count``, they count runs of the handler (invocations with ``ran``); requests answered
with a service error stay visible in the list of invocations a failure shows. A failure raises
``AssertionError`` with the expected and actual events as a diff (pytest's own assertion diff
while pytest runs, else ``difflib``), the invocations that did happen, and no frames of this
package in the traceback.
"""

from __future__ import annotations

import difflib
import pprint
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import pytest

    from .records import Invocation

MAX_LISTED = 50


class AssertionsMixin:
    """Mixed into :class:`~pytest_lambda_stub.FakeFunction`.

    Every helper takes the optional criteria ``qualifier=`` (the qualifier asked for, or the
    version that ran: ``"$LATEST"`` matches unqualified calls), ``invocation_type=``
    (``"RequestResponse"`` or ``"Event"``) and ``client_context=`` (the decoded ClientContext
    object). ``unittest.mock.ANY`` matches anything, anywhere inside an expected event or client
    context.
    """

    name: str

    @property
    def invocations(self) -> list[Invocation]:  # pragma: no cover - provided by FakeFunction
        raise NotImplementedError

    # -- counting --------------------------------------------------------------------------

    def assert_invoked(self, *, qualifier: str | None = None, invocation_type: str | None = None,
                       client_context: Any = None) -> None:
        """Assert the handler ran at least once (with the given criteria)."""
        __tracebackhide__ = True
        criteria = _criteria(qualifier, invocation_type, client_context)
        runs = self._assert_matching(criteria)
        if not runs:
            self._assert_fail(f"expected {self.name!r} to have been invoked{_describe(criteria)}, "
                       f"but its handler never ran{_describe_match(criteria)}")

    def assert_not_invoked(self, *, qualifier: str | None = None,
                           invocation_type: str | None = None,
                           client_context: Any = None) -> None:
        """Assert the handler never ran (with the given criteria)."""
        __tracebackhide__ = True
        criteria = _criteria(qualifier, invocation_type, client_context)
        runs = self._assert_matching(criteria)
        if runs:
            self._assert_fail(f"expected {self.name!r} not to have been invoked{_describe(criteria)}, "
                       f"but its handler ran {_times(len(runs))}{_describe_match(criteria)}")

    def assert_invoked_once(self, *, qualifier: str | None = None,
                            invocation_type: str | None = None,
                            client_context: Any = None) -> None:
        """Assert the handler ran exactly once (with the given criteria)."""
        __tracebackhide__ = True
        criteria = _criteria(qualifier, invocation_type, client_context)
        runs = self._assert_matching(criteria)
        if len(runs) != 1:
            self._assert_fail(f"expected {self.name!r} to have been invoked once{_describe(criteria)}, "
                       f"but its handler ran {_times(len(runs))}{_describe_match(criteria)}")

    # -- events ----------------------------------------------------------------------------

    def assert_invoked_with(self, event: Any, *, qualifier: str | None = None,
                            invocation_type: str | None = None,
                            client_context: Any = None) -> None:
        """Assert the last run of the handler received ``event`` (and matches the criteria)."""
        __tracebackhide__ = True
        criteria = _criteria(qualifier, invocation_type, client_context)
        runs = self._assert_runs()
        if not runs:
            self._assert_fail(f"expected {self.name!r} to have been invoked with{_describe(criteria)}:\n"
                       f"{_indent(_pformat(event))}\nbut its handler never ran")
        last = runs[-1]
        problems = _mismatches(last, event, criteria)
        if problems:
            self._assert_fail(f"expected the last run of {self.name!r} to have received"
                       f"{_describe(criteria)}:\n{_indent(_pformat(event))}\n"
                       f"but the last run (run {len(runs)} of {len(runs)}) differs:\n"
                       + _indent("\n".join(problems)))

    def assert_invoked_once_with(self, event: Any, *, qualifier: str | None = None,
                                 invocation_type: str | None = None,
                                 client_context: Any = None) -> None:
        """Assert the handler ran exactly once, and that run received ``event`` (and matches
        the criteria)."""
        __tracebackhide__ = True
        criteria = _criteria(qualifier, invocation_type, client_context)
        runs = self._assert_runs()
        if len(runs) != 1:
            self._assert_fail(f"expected {self.name!r} to have been invoked once "
                       f"with{_describe(criteria)}:\n{_indent(_pformat(event))}\n"
                       f"but its handler ran {_times(len(runs))}")
        problems = _mismatches(runs[0], event, criteria)
        if problems:
            self._assert_fail(f"expected {self.name!r} to have been invoked once "
                       f"with{_describe(criteria)}:\n{_indent(_pformat(event))}\n"
                       f"but its only run differs:\n" + _indent("\n".join(problems)))

    def assert_any_invocation(self, event: Any, *, qualifier: str | None = None,
                              invocation_type: str | None = None,
                              client_context: Any = None) -> None:
        """Assert at least one run of the handler received ``event`` (and matches the
        criteria)."""
        __tracebackhide__ = True
        criteria = _criteria(qualifier, invocation_type, client_context)
        runs = self._assert_runs()
        if not runs:
            self._assert_fail(f"expected {self.name!r} to have been invoked with{_describe(criteria)}:\n"
                       f"{_indent(_pformat(event))}\nbut its handler never ran")
        reasons: list[str] = []
        for number, run in enumerate(runs, 1):
            problems = _mismatches(run, event, criteria)
            if not problems:
                return
            if number <= MAX_LISTED:
                reasons.append(f"run {number}:\n" + _indent("\n".join(problems)))
        if len(runs) > MAX_LISTED:
            reasons.append(f"... {len(runs) - MAX_LISTED} more runs not shown")
        self._assert_fail(f"expected {self.name!r} to have been invoked with{_describe(criteria)}:\n"
                   f"{_indent(_pformat(event))}\nnone of its {len(runs)} runs matched:\n"
                   + _indent("\n".join(reasons)))

    # -- helpers ---------------------------------------------------------------------------

    def _assert_runs(self) -> list[Invocation]:
        return [invocation for invocation in self.invocations if invocation.ran]

    def _assert_matching(self, criteria: dict[str, Any]) -> list[Invocation]:
        return [run for run in self._assert_runs() if not _criteria_mismatches(run, criteria)]

    def _assert_fail(self, headline: str) -> NoReturn:
        __tracebackhide__ = True
        invocations = self.invocations
        lines = [headline, f"invocations of {self.name!r}:"]
        if not invocations:
            lines.append("  (none)")
        for number, invocation in enumerate(invocations[:MAX_LISTED], 1):
            lines.append(f"  {number}. {invocation.summary()}")
        if len(invocations) > MAX_LISTED:
            lines.append(f"  ... {len(invocations) - MAX_LISTED} more")
        raise AssertionError("\n".join(lines))


def _criteria(qualifier: str | None, invocation_type: str | None,
              client_context: Any) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    if qualifier is not None:
        criteria["qualifier"] = qualifier
    if invocation_type is not None:
        criteria["invocation_type"] = invocation_type
    if client_context is not None:
        criteria["client_context"] = client_context
    return criteria


def _describe(criteria: dict[str, Any]) -> str:
    if not criteria:
        return ""
    return " (" + ", ".join(f"{key}={value!r}" for key, value in criteria.items()) + ")"


def _describe_match(criteria: dict[str, Any]) -> str:
    return " with those criteria" if criteria else ""


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _criteria_mismatches(run: Invocation, criteria: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if "qualifier" in criteria:
        wanted = criteria["qualifier"]
        asked = run.qualifier or "$LATEST"
        if wanted != asked and wanted != run.executed_version:
            problems.append(f"qualifier: expected {wanted!r}, got {run.qualifier!r} "
                            f"(executed version {run.executed_version!r})")
    if "invocation_type" in criteria and criteria["invocation_type"] != run.invocation_type:
        problems.append(f"invocation_type: expected {criteria['invocation_type']!r}, "
                        f"got {run.invocation_type!r}")
    if "client_context" in criteria and not criteria["client_context"] == run.client_context:
        problems.append("client_context differs:\n"
                        + _indent(_diff(criteria["client_context"], run.client_context)))
    return problems


def _mismatches(run: Invocation, event: Any, criteria: dict[str, Any]) -> list[str]:
    problems = _criteria_mismatches(run, criteria)
    if not event == run.event:
        problems.insert(0, "event:\n" + _indent(_pformat(run.event)) + "\n"
                        "diff, actual (left, +) vs expected (right, -):\n" + _indent(_diff(event, run.event)))
    return problems


def _pformat(value: Any) -> str:
    return pprint.pformat(value, width=88, sort_dicts=True)


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())


def _resolve_any(expected: Any, actual: Any) -> Any:
    """``expected`` with every ``ANY`` replaced by what it matched, so the diff shows only the
    real differences."""
    if _is_any(expected):
        return actual
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {key: _resolve_any(value, actual[key]) if key in actual else value
                for key, value in expected.items()}
    if isinstance(expected, (list, tuple)) and type(expected) is type(actual):
        resolved = [_resolve_any(e, a) for e, a in zip(expected, actual, strict=False)]
        resolved.extend(expected[len(actual):])
        return type(expected)(resolved)
    return expected


def _diff(expected: Any, actual: Any) -> str:
    expected = _resolve_any(expected, actual)
    config = _pytest_config()
    if config is not None:
        # pytest's public hook: its own explanation (and any plugin's) of ``actual == expected``.
        answers = config.hook.pytest_assertrepr_compare(
            config=config, op="==", left=actual, right=expected)
        lines = next((answer for answer in answers if answer), None)
        if lines:
            return "\n".join(lines[1:]).strip("\n") or "\n".join(lines)
    return _difflib_diff(expected, actual)


def _difflib_diff(expected: Any, actual: Any) -> str:
    return "\n".join(line.rstrip() for line in difflib.ndiff(
        _pformat(expected).splitlines(), _pformat(actual).splitlines()))


def _pytest_config() -> pytest.Config | None:
    """The running pytest session's config, so failures use pytest's diff and verbosity."""
    import sys

    plugin = sys.modules.get("pytest_lambda_stub.plugin")
    return plugin.current_config() if plugin is not None else None


def _is_any(value: Any) -> bool:
    """Whether ``value`` is ``unittest.mock.ANY`` (imported only when an assertion runs)."""
    import unittest.mock

    return value is unittest.mock.ANY
