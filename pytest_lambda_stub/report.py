"""The "lambda invocations" text: one line per invocation, then each invocation's log, trimmed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import Invocation

LOG_LINES = 20
LOG_CHARS = 2000


def _trim(log: str) -> str:
    lines = log.rstrip("\n").splitlines()
    if len(lines) > LOG_LINES:
        hidden = len(lines) - LOG_LINES
        lines = [*lines[: LOG_LINES // 2], f"... {hidden} lines hidden ...",
                 *lines[-LOG_LINES // 2:]]
    text = "\n".join(line.rstrip() for line in lines)
    if len(text) > LOG_CHARS:
        text = text[: LOG_CHARS // 2] + "\n... trimmed ...\n" + text[-LOG_CHARS // 2:]
    return text


def render_report(invocations: Sequence[Invocation], start: int = 1) -> str:
    """The report section's text; invocations are numbered from ``start``."""
    if not invocations:
        return "no invocations"
    lines = [f"{index}. {invocation.summary()}"
             for index, invocation in enumerate(invocations, start)]
    for index, invocation in enumerate(invocations, start):
        if invocation.log:
            lines.append("")
            lines.append(f"--- log of {index}. {invocation.function_name} "
                         f"(request {invocation.request_id}) ---")
            lines.append(_trim(invocation.log))
    return "\n".join(lines)
