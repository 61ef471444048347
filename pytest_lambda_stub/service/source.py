"""Which path a request came by: ``"in-process"`` (a botocore client hooked in the test's process)
or ``"loopback"`` (an HTTP request to ``stub.serve()``'s endpoint). A context variable, set by the
loopback server around each request it hands to the service, read when a record is made."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

IN_PROCESS = "in-process"
LOOPBACK = "loopback"

_source: contextvars.ContextVar[str] = contextvars.ContextVar("lambda_stub_source",
                                                              default=IN_PROCESS)


def current() -> str:
    """The path of the request being answered on this thread (or task)."""
    return _source.get()


@contextlib.contextmanager
def via(source: str) -> Iterator[None]:
    """Answer the requests made inside the block as having come by ``source``."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)
