"""Outside an active stub botocore behaves as if this package were absent: the requests a
client sends to a local endpoint between stubs, after the last one, and in a pytest session
where the plugin ran stubs in earlier tests, are byte for byte the ones a process that never
imported the package sends (method, path, headers in order, body), except the headers that
legitimately differ from one request to the next (their values; they must be present): the
signing time (``X-Amz-Date``), the
signature that covers it (``Authorization``) and the per-request id (``amz-sdk-invocation-id``);
and the order of the feature ids in the User-Agent's ``m/`` field, which botocore keeps in a set
(its iteration order follows the process's string-hash seed, so it differs between processes;
the ids themselves are compared).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.recorder import Seen, recording_endpoint

VARYING = frozenset({"x-amz-date", "authorization", "amz-sdk-invocation-id"})

CALLS = textwrap.dedent('''
    import json, sys
    import boto3
    from botocore.config import Config

    def new_client(url):
        return boto3.client("lambda", region_name="eu-west-1", endpoint_url=url,
                            aws_access_key_id="AKIAFAKEFAKEFAKE", aws_secret_access_key="fake",
                            config=Config(retries={"mode": "standard", "max_attempts": 2}))

    def make_calls(url, lam=None):
        lam = lam or new_client(url)
        lam.invoke(FunctionName="f", Payload=json.dumps({"k": [1, "two"]}))
        lam.invoke(FunctionName="f", Qualifier="live", InvocationType="Event", LogType="None",
                   ClientContext="e30=", Payload=b"{}")
        lam.invoke(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:g",
                   InvocationType="DryRun")
        lam.list_functions(MaxItems=5)
''')


def _header(name: str, value: str) -> tuple[str, str]:
    if name.lower() == "user-agent":
        value = " ".join(
            "m/" + ",".join(sorted(part[2:].split(","))) if part.startswith("m/") else part
            for part in value.split(" "))
    return name, value


def _normalised(seen: list[Seen]) -> list[tuple[Any, ...]]:
    """Every header, in order; the values of the varying ones replaced (their presence is
    compared: an unsigned request would lack them)."""
    return [(s.method, s.path,
             tuple((k, "<varies>") if k.lower() in VARYING else _header(k, v)
                   for k, v in s.headers), s.body)
            for s in seen]


def _baseline(url: str, tmp_path: Path) -> None:
    """The calls made by a process that never imports pytest_lambda_stub (nor pytest)."""
    script = tmp_path / "baseline.py"
    script.write_text(CALLS + textwrap.dedent('''
        make_calls(sys.argv[1])
        assert not [m for m in sys.modules if m.startswith(("pytest_lambda_stub", "pytest"))]
    '''))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    subprocess.run([sys.executable, str(script), url], check=True, env=env, cwd=tmp_path)


STUBS_THEN_CALLS = textwrap.dedent('''
    from pytest_lambda_stub import stub_lambda

    url = sys.argv[1]
    before = new_client(url)  # made before any stub, answered by each
    for phase in ("between", "after"):
        with stub_lambda(functions={"f": lambda event, context: "stub"}):
            during = new_client(url)
            for lam in (before, during):
                assert lam.invoke(FunctionName="f")["Payload"].read() == b'"stub"'
        if phase == "between":
            with stub_lambda(functions={"other": lambda event, context: None}):
                pass
        for lam in (before, during, new_client(url)):
            make_calls(url, lam)
''')


def test_requests_between_and_after_stubs_are_botocores_own(tmp_path: Path) -> None:
    # In a process of its own: other tests' imports (Powertools adds a User-Agent field to
    # every boto3 session) must not be mistaken for this package's doing.
    script = tmp_path / "stubs_then_calls.py"
    script.write_text(CALLS + STUBS_THEN_CALLS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    with recording_endpoint() as (url, seen):
        _baseline(url, tmp_path)
        expected = _normalised(seen)
        assert len(expected) == 4
        del seen[:]
        subprocess.run([sys.executable, str(script), url], check=True, env=env,
                       cwd=Path(__file__).resolve().parents[2])
        got = _normalised(seen)
    # Two phases, three clients each (made before the stubs, during one, after): nothing the
    # stubs answered reached the endpoint, and every call made outside them is botocore's own.
    assert len(got) == 6 * len(expected)
    for index in range(6):
        assert got[index * 4:(index + 1) * 4] == expected, index


def test_requests_in_a_session_where_the_plugin_ran_stubs(pytester: pytest.Pytester,
                                                          tmp_path: Path) -> None:
    with recording_endpoint() as (url, seen):
        _baseline(url, tmp_path)
        expected = _normalised(seen)
        seen.clear()
        pytester.makepyfile(calls=CALLS)
        pytester.makepyfile(test_session=textwrap.dedent(f'''
            from calls import make_calls, new_client

            URL = {url!r}
            lam = new_client(URL)

            def test_1_fixture(lambda_stub):
                lambda_stub.add_function("f", lambda event, context: "stub")
                assert lam.invoke(FunctionName="f")["StatusCode"] == 200

            def test_2_calls_after_a_stub():
                make_calls(URL, lam)

            def test_3_fixture_again(lambda_stub):
                lambda_stub.add_function("f", lambda event, context: "stub")
                assert lam.invoke(FunctionName="f")["StatusCode"] == 200
        '''))
        pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
        assert _normalised(seen) == expected  # test_2's calls, the only ones that went out
