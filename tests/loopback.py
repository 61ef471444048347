"""Helpers for tests of the loopback endpoint: child processes with fake credentials, and raw
HTTP requests to the endpoint."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import textwrap
from typing import Any
from urllib.parse import urlsplit

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDLOOPBACKTEST", "AWS_SECRET_ACCESS_KEY": "secret",
                    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1"}
# Signed like botocore signs (the endpoint reads the region from the credential scope).
SIGNED = ("AWS4-HMAC-SHA256 Credential=AKIDLOOPBACKTEST/20250101/eu-west-1/lambda/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def child_env(**extra: str) -> dict[str, str]:
    """os.environ (with the exported endpoint) plus fake credentials and a region."""
    env = dict(os.environ)
    env.update(FAKE_CREDENTIALS)
    env.update(extra)
    return env


def run_python(script: str, *, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a Python script in a child process; fail with its output when it fails."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=child_env(**env),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"child failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def connect(url: str, timeout: float = 30) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)


def request(url: str, method: str, path: str, body: bytes = b"",
            headers: dict[str, str] | None = None,
            signed: bool = True) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, headers (lower-case names) and body."""
    connection = connect(url)
    try:
        sent = {"Authorization": SIGNED} if signed else {}
        connection.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def invoke_path(name: str, qualifier: str | None = None) -> str:
    query = f"?Qualifier={qualifier}" if qualifier else ""
    return f"/2015-03-31/functions/{name}/invocations{query}"


def comparable(headers: dict[str, Any]) -> dict[str, str]:
    """Headers without those that differ between any two answers (request id, date, framing)."""
    skip = {"x-amzn-requestid", "date", "server", "connection", "content-length",
            "transfer-encoding", "x-amz-log-result"}
    return {k.lower(): str(v) for k, v in headers.items() if k.lower() not in skip}
