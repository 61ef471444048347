"""HTTP method and path to a Lambda operation, read from botocore's service model (every
operation's ``requestUri``), so a new operation in botocore is routed without a hand-kept list."""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@functools.cache
def _table() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, path pattern, operation) for every operation, the most literal path first."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    rows: list[tuple[int, str, re.Pattern[str], str]] = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = str(http.get("requestUri", "")).split("?", 1)[0]
        pattern, position = "", 0
        for match in _LABEL.finditer(uri):
            pattern += re.escape(uri[position:match.start()])
            pattern += f"(?P<{match.group(1)}>.+)" if match.group(2) else \
                f"(?P<{match.group(1)}>[^/]+)"
            position = match.end()
        pattern += re.escape(uri[position:].rstrip("/"))
        literal = len(_LABEL.sub("", uri))
        rows.append((literal, str(http.get("method", "POST")).upper(),
                     re.compile(f"{pattern}/?"), name))
    rows.sort(key=lambda row: -row[0])
    return tuple((method, regex, name) for _, method, regex, name in rows)


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation an HTTP request is for, with its URI labels (percent-decoded), or None."""
    method = method.upper()
    for wanted, regex, name in _table():
        if wanted != method:
            continue
        match = regex.fullmatch(path)
        if match is not None:
            return name, {key: unquote(value) for key, value in match.groupdict().items()}
    return None
