"""FakeFunction's assertion helpers: what passes, and the exact text of what fails."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import pytest

from pytest_lambda_stub import LambdaStub, assertions, stub_lambda
from tests.helpers import client

LINE_1 = "1. f [$LATEST] RequestResponse attempt=1 status=200 ok 1.00 ms"
LINE_2 = "2. f [$LATEST] Event attempt=1 status=202 ok 1.00 ms"


def echo(event: Any, context: Any) -> Any:
    return event


@pytest.fixture
def no_pytest_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside pytest the helpers diff with difflib: exercise that path with stable text."""
    monkeypatch.setattr(assertions, "_pytest_config", lambda: None)


@pytest.fixture
def stub() -> Iterator[LambdaStub]:
    """'f' run twice: synchronously with a big event, then as an Event with a small one."""
    lam = client()
    with stub_lambda(functions={"f": echo}) as stub:
        stub.add_function("f", echo, simulated_duration=0.001)
        stub.add_function("g", echo, versions={"1": echo}, aliases={"live": "1"})
        lam.invoke(FunctionName="f", Payload=json.dumps({"width": 320, "id": 7, "tags": ["a"]}))
        lam.invoke(FunctionName="f", Payload=json.dumps({"width": 100}), InvocationType="Event")
        yield stub


def failure(check: Any) -> str:
    with pytest.raises(AssertionError) as info:
        check()
    return str(info.value)


def test_passing_helpers(stub: LambdaStub) -> None:
    f = stub["f"]
    f.assert_invoked()
    f.assert_invoked(invocation_type="Event")
    f.assert_invoked_once(invocation_type="Event")
    f.assert_invoked_with({"width": 100})
    f.assert_invoked_with({"width": ANY}, invocation_type="Event", qualifier="$LATEST")
    f.assert_any_invocation({"width": 320, "id": ANY, "tags": [ANY]})
    f.assert_any_invocation(ANY, invocation_type="RequestResponse")
    f.assert_not_invoked(qualifier="live")
    stub["g"].assert_not_invoked()


def test_qualifier_matches_the_alias_asked_for_or_the_version_that_ran(stub: LambdaStub) -> None:
    lam = client()
    lam.invoke(FunctionName="g", Qualifier="live", Payload=b'{"v": 1}')
    lam.invoke(FunctionName="g", Payload=b'{"v": 0}')
    g = stub["g"]
    g.assert_invoked_once(qualifier="live")
    g.assert_invoked_once(qualifier="1")
    g.assert_invoked_once(qualifier="$LATEST")
    g.assert_any_invocation({"v": 1}, qualifier="live")
    g.assert_invoked_with({"v": 0}, qualifier="$LATEST")


def test_client_context_criterion_accepts_any_inside(stub: LambdaStub) -> None:
    import base64

    context = {"custom": {"tenant": "acme", "trace": "x1"}, "env": {}}
    client().invoke(FunctionName="g",
                    ClientContext=base64.b64encode(json.dumps(context).encode()).decode())
    stub["g"].assert_invoked_once_with({}, client_context={"custom": {"tenant": "acme",
                                                                     "trace": ANY}, "env": {}})
    message = failure(lambda: stub["g"].assert_invoked_with(
        {}, client_context={"custom": {"tenant": "other", "trace": ANY}, "env": {}}))
    assert "client_context differs:" in message
    assert "'tenant': 'other'" in message


def test_service_errors_are_listed_but_not_counted(stub: LambdaStub) -> None:
    stub["g"].fail("TooManyRequestsException", times=None)
    with pytest.raises(Exception, match="TooManyRequests"):
        client(retries={"total_max_attempts": 1, "mode": "standard"}).invoke(FunctionName="g")
    stub["g"].clear_failures()
    assert failure(stub["g"].assert_invoked) == textwrap.dedent("""\
        expected 'g' to have been invoked, but its handler never ran
        invocations of 'g':
          1. g [-] RequestResponse attempt=1 status=429 TooManyRequestsException 0.00 ms (handler not run)""")


@pytest.mark.usefixtures("no_pytest_diff")
def test_assert_invoked_with_shows_a_diff_against_the_last_run(stub: LambdaStub) -> None:
    message = failure(lambda: stub["f"].assert_invoked_with({"width": 640, "id": ANY}))
    assert message == textwrap.dedent(f"""\
        expected the last run of 'f' to have received:
          {{'id': <ANY>, 'width': 640}}
        but the last run (run 2 of 2) differs:
          event:
            {{'width': 100}}
          diff, actual (left, +) vs expected (right, -):
            - {{'id': <ANY>, 'width': 640}}
            + {{'width': 100}}
        invocations of 'f':
          {LINE_1}
          {LINE_2}""")


@pytest.mark.usefixtures("no_pytest_diff")
def test_any_matched_by_any_is_not_reported_as_a_difference(stub: LambdaStub) -> None:
    message = failure(lambda: stub["f"].assert_any_invocation(
        {"width": 640, "id": ANY, "tags": ["a"]}, invocation_type="RequestResponse"))
    assert message == textwrap.dedent(f"""\
        expected 'f' to have been invoked with (invocation_type='RequestResponse'):
          {{'id': <ANY>, 'tags': ['a'], 'width': 640}}
        none of its 2 runs matched:
          run 1:
            event:
              {{'id': 7, 'tags': ['a'], 'width': 320}}
            diff, actual (left, +) vs expected (right, -):
              - {{'id': 7, 'tags': ['a'], 'width': 640}}
              ?                                   ^^
              + {{'id': 7, 'tags': ['a'], 'width': 320}}
              ?                                   ^^
          run 2:
            event:
              {{'width': 100}}
            diff, actual (left, +) vs expected (right, -):
              - {{'id': <ANY>, 'tags': ['a'], 'width': 640}}
              + {{'width': 100}}
            invocation_type: expected 'RequestResponse', got 'Event'
        invocations of 'f':
          {LINE_1}
          {LINE_2}""")


def test_counting_helpers_failure_text(stub: LambdaStub) -> None:
    listing = f"invocations of 'f':\n  {LINE_1}\n  {LINE_2}"
    assert failure(stub["f"].assert_invoked_once) == (
        "expected 'f' to have been invoked once, but its handler ran 2 times\n" + listing)
    assert failure(lambda: stub["f"].assert_not_invoked(invocation_type="Event")) == (
        "expected 'f' not to have been invoked (invocation_type='Event'), but its handler ran "
        "once with those criteria\n" + listing)
    assert failure(lambda: stub["f"].assert_invoked(qualifier="live")) == (
        "expected 'f' to have been invoked (qualifier='live'), but its handler never ran with "
        "those criteria\n" + listing)
    assert failure(lambda: stub["f"].assert_invoked_once_with({"width": 640})) == (
        "expected 'f' to have been invoked once with:\n  {'width': 640}\n"
        "but its handler ran 2 times\n" + listing)
    assert failure(lambda: stub["g"].assert_invoked_with({})) == (
        "expected 'g' to have been invoked with:\n  {}\nbut its handler never ran\n"
        "invocations of 'g':\n  (none)")


@pytest.mark.usefixtures("no_pytest_diff")
def test_assert_invoked_once_with_checks_the_only_run() -> None:
    with stub_lambda(functions={"f": echo}) as stub:
        stub["f"].simulated_duration = 0.001
        client().invoke(FunctionName="f", Payload=b'[1, 2]')
    stub["f"].assert_invoked_once_with([1, ANY])
    assert failure(lambda: stub["f"].assert_invoked_once_with([1, 3],
                                                             invocation_type="Event")) == (
        textwrap.dedent(f"""\
        expected 'f' to have been invoked once with (invocation_type='Event'):
          [1, 3]
        but its only run differs:
          event:
            [1, 2]
          diff, actual (left, +) vs expected (right, -):
            - [1, 3]
            ?     ^
            + [1, 2]
            ?     ^
          invocation_type: expected 'Event', got 'RequestResponse'
        invocations of 'f':
          {LINE_1}"""))


def test_pytest_diff_and_hidden_frames(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent("""
        import boto3
        import pytest
        from unittest.mock import ANY

        @pytest.mark.lambda_stub(report="never")
        def test_resize(lambda_stub):
            lambda_stub.add_function("resize", lambda e, c: e, simulated_duration=0.002)
            lam = boto3.client("lambda", region_name="eu-west-1")
            lam.invoke(FunctionName="resize", Payload=b'{"width": 320, "id": 1}')
            lambda_stub["resize"].assert_invoked_with({"width": 640, "id": ANY})
    """))
    result = pytester.runpytest("-p", "no:cacheprovider", "-vv")
    result.stdout.fnmatch_lines([
        '>       lambda_stub["resize"].assert_invoked_with({"width": 640, "id": ANY})',
        "E       AssertionError: expected the last run of 'resize' to have received:",
        "E         {'id': <ANY>, 'width': 640}",
        "E       but the last run (run 1 of 1) differs:",
        "E         event:",
        "E           {'id': 1, 'width': 320}",
        "E         diff, actual (left, +) vs expected (right, -):",
        "E           Common items:",
        "E           {'id': 1}",
        "E           Differing items:",
        "E           {'width': 320} != {'width': 640}",
        "E       ",
        # pytest's own full diff (its legend and item order differ between pytest versions)
        "E           Full diff:*",
        "E           -     'width': 640,",
        "E           +     'width': 320,",
        "E       invocations of 'resize':",
        "E         1. resize [$LATEST] RequestResponse attempt=1 status=200 ok 2.00 ms",
    ])
    assert "assertions.py" not in result.stdout.str()
    result.assert_outcomes(failed=1)
