"""Starting and stopping a stub's loopback endpoint, and exporting its URL to child processes.

While a stub serves, ``AWS_ENDPOINT_URL_LAMBDA`` (read by botocore, the AWS CLI and the AWS SDK
for JavaScript v3) can be set in ``os.environ``, so processes started meanwhile call the stub.
Exports nest: the innermost serving stub's URL is in force, and the variable is restored (or
removed) when the last one stops. In-process clients that read it still get answered in-process:
the stub's hooks answer them before anything is sent.
"""

from __future__ import annotations

import os
import sys
import threading

from ..service.state import LambdaService
from .handler import LoopbackHTTPServer

ENV_VAR = "AWS_ENDPOINT_URL_LAMBDA"
DRAIN_TIMEOUT = 5.0  # seconds stop() waits for requests being answered before cutting them off

_export_lock = threading.Lock()
_exports: list[str] = []
_saved: str | None = None


def under_pytest() -> bool:
    """Whether a pytest session with this plugin is running in this process."""
    plugin = sys.modules.get("pytest_lambda_stub.plugin")
    return plugin is not None and plugin.current_config() is not None


class LoopbackServer:
    """One stub's HTTP endpoint on 127.0.0.1 (a free port), served by a background thread."""

    def __init__(self, service: LambdaService, *, export: bool) -> None:
        self._http = LoopbackHTTPServer(service)
        self.url = self._http.endpoint_url
        self.export = export
        self.cut_off = 0
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"lambda-stub-loopback-{self._http.server_address[1]}", daemon=True)
        self._thread.start()
        if export:
            _export(self.url)

    @property
    def requests(self) -> int:
        """HTTP requests this endpoint received (answered, refused or cut off)."""
        return self._http.requests

    @property
    def failures(self) -> list[str]:
        """Unexpected errors met while answering (each also answered 500 to its client)."""
        return list(self._http.failures)

    def stop(self, grace: float | None = None) -> list[str]:
        """Close the port and every connection (waiting up to ``grace`` seconds, default
        ``DRAIN_TIMEOUT``, for requests being answered; ``cut_off`` counts those that were
        not); returns the unexpected errors met answering (each was answered 500)."""
        grace = DRAIN_TIMEOUT if grace is None else grace
        try:
            if self.export:
                _unexport(self.url)
        finally:
            self.cut_off = self._http.close(grace)
            self._thread.join(timeout=grace)
        return self.failures


def _export(url: str) -> None:
    global _saved
    with _export_lock:
        if not _exports:
            _saved = os.environ.get(ENV_VAR)
        _exports.append(url)
        os.environ[ENV_VAR] = url


def _unexport(url: str) -> None:
    with _export_lock:
        if url in _exports:
            del _exports[len(_exports) - 1 - _exports[::-1].index(url)]
        if _exports:
            os.environ[ENV_VAR] = _exports[-1]
        elif _saved is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = _saved
