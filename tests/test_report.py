"""The "lambda invocations" report section and strict mode's teardown failure, as users see them.

Request ids are random: they are replaced by ``<id>`` before comparing the exact text.
"""

from __future__ import annotations

import re
import textwrap

import pytest

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

HANDLERS = """
import json
import boto3
import pytest


def resize(event, context):
    print("resizing", event)
    if event.get("width", 0) < 0:
        raise ValueError("width must be positive")
    return {"width": event["width"] // 2}


def lam():
    return boto3.client("lambda", region_name="eu-west-1",
                        config=__import__("botocore.config").config.Config(
                            retries={"total_max_attempts": 1}))
"""


def section(output: str, title: str = "lambda invocations") -> str:
    """The text of one report section (up to the next section or summary line)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f" {title} " in line and line.startswith("-"))
    body: list[str] = []
    for line in lines[start + 1:]:
        if line.startswith(("----", "====", "____")):
            break
        body.append(line)
    return UUID.sub("<id>", "\n".join(body).rstrip("\n"))


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_it=HANDLERS + textwrap.dedent(source))
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_failing_test_gets_one_line_per_invocation_then_the_logs(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        def test_it(lambda_stub):
            lambda_stub.add_function("resize", resize, simulated_duration=0.0125)
            lambda_stub.add_function("thumb", resize, versions={"1": resize},
                                     aliases={"live": 1}, simulated_duration=0.5)
            lam().invoke(FunctionName="resize", Payload=json.dumps({"width": 640}))
            lam().invoke(FunctionName="resize", Payload=json.dumps({"width": -1}))
            lam().invoke(FunctionName="thumb", Qualifier="live", Payload=b'{"width": 8}',
                         InvocationType="Event")
            lambda_stub["resize"].fail("TooManyRequestsException")
            with pytest.raises(lam().exceptions.TooManyRequestsException):
                lam().invoke(FunctionName="resize", Payload=b'{"width": 2}')
            assert False, "the test's own failure"
    """)
    result.assert_outcomes(failed=1)
    path = pytester.path / "test_it.py"
    assert section(result.stdout.str()) == textwrap.dedent("""\
        1. resize [$LATEST] RequestResponse attempt=1 status=200 ok 12.50 ms
        2. resize [$LATEST] RequestResponse attempt=1 status=200 Unhandled ValueError 12.50 ms
        3. thumb:live [1] Event attempt=1 status=202 ok 500.00 ms
        4. resize [-] RequestResponse attempt=1 status=429 TooManyRequestsException 0.00 ms (handler not run)

        --- log of 1. resize (request <id>) ---
        START RequestId: <id> Version: $LATEST
        resizing {'width': 640}
        END RequestId: <id>
        REPORT RequestId: <id>\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 0.00 ms

        --- log of 2. resize (request <id>) ---
        START RequestId: <id> Version: $LATEST
        resizing {'width': -1}
        [ERROR] ValueError: width must be positive
        Traceback (most recent call last):
        {nbsp}{nbsp}File "{path}", line 9, in resize
        {nbsp}{nbsp}{nbsp}{nbsp}raise ValueError("width must be positive")
        END RequestId: <id>
        REPORT RequestId: <id>\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB

        --- log of 3. thumb (request <id>) ---
        START RequestId: <id> Version: 1
        resizing {'width': 8}
        END RequestId: <id>
        REPORT RequestId: <id>\tDuration: 500.00 ms\tBilled Duration: 500 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 0.00 ms""").replace(
        "{path}", str(path)).replace("{nbsp}", "\u00a0")


def test_passing_test_has_no_section_unless_report_always(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        def test_quiet(lambda_stub):
            lambda_stub.add_function("resize", resize, simulated_duration=0.001)
            lam().invoke(FunctionName="resize", Payload=b'{"width": 4}')

        @pytest.mark.lambda_stub(report="always")
        def test_loud(lambda_stub):
            lambda_stub.add_function("resize", resize, simulated_duration=0.001)
            lam().invoke(FunctionName="resize", Payload=b'{"width": 4}',
                         InvocationType="DryRun")
    """, "-rP")
    result.assert_outcomes(passed=2)
    output = result.stdout.str()
    assert output.count(" lambda invocations ") == 1
    assert section(output) == (
        "1. resize [-] DryRun attempt=1 status=204 ok 0.00 ms (handler not run)")


def test_report_never_leaves_failures_without_a_section(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlambda_stub_report = never\n")
    result = run(pytester, """
        def test_it(lambda_stub):
            lambda_stub.add_function("resize", resize)
            lam().invoke(FunctionName="resize", Payload=b'{"width": 4}')
            assert False
    """)
    result.assert_outcomes(failed=1)
    assert "lambda invocations" not in result.stdout.str()


def test_decorated_test_without_fixture_gets_a_section(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        from pytest_lambda_stub import stub_lambda

        @stub_lambda(functions={"resize": resize})
        def test_it():
            lam().invoke(FunctionName="resize", Payload=b'{"width": 4}', LogType="Tail")
            assert False
    """)
    result.assert_outcomes(failed=1)
    assert section(result.stdout.str()).splitlines()[2:5] == [
        "--- log of 1. resize (request <id>) ---",
        "START RequestId: <id> Version: $LATEST",
        "resizing {'width': 4}",
    ]


def test_long_logs_are_trimmed(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        def chatty(event, context):
            for line in range(100):
                print("line", line)

        def test_it(lambda_stub):
            lambda_stub.add_function("chatty", chatty, simulated_duration=0.001)
            lam().invoke(FunctionName="chatty")
            assert False
    """)
    lines = section(result.stdout.str()).splitlines()
    assert lines[2:] == [
        "--- log of 1. chatty (request <id>) ---",
        "START RequestId: <id> Version: $LATEST",
        *[f"line {n}" for n in range(9)],
        "... 83 lines hidden ...",
        *[f"line {n}" for n in range(92, 100)],
        "END RequestId: <id>",
        "REPORT RequestId: <id>\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 40 MB\tInit Duration: 0.00 ms",
    ]


def test_module_stub_reports_only_the_failing_tests_invocations(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        @pytest.fixture(scope="module", autouse=True)
        def declared(lambda_stub_module):
            lambda_stub_module.add_function("resize", resize, simulated_duration=0.001)

        def test_first(lambda_stub_module):
            lam().invoke(FunctionName="resize", Payload=b'{"width": 2}')

        def test_second(lambda_stub_module):
            lam().invoke(FunctionName="resize", Payload=b'{"width": 4}', InvocationType="Event")
            assert lambda_stub_module["resize"].call_count == 2
            assert False
    """)
    result.assert_outcomes(passed=1, failed=1)
    assert section(result.stdout.str()).splitlines()[0] == (
        "2. resize [$LATEST] Event attempt=1 status=202 ok 1.00 ms")


def test_strict_teardown_failure_names_counts_lists_suggests_and_relaxes(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        @pytest.mark.lambda_stub(event_delivery="manual", report="never")
        def test_it(lambda_stub):
            lambda_stub.add_function("resize-image", resize)
            lambda_stub.add_function("thumbnail", resize)
            for _ in range(2):
                try:
                    lam().invoke(FunctionName="resize-imag")
                except Exception:
                    pass  # the code under test swallows the error
            lam().invoke(FunctionName="thumbnail", InvocationType="Event", Payload=b'{"width": 2}')
    """)
    result.assert_outcomes(passed=1, errors=1)
    lines = result.stdout.str().splitlines()
    start = lines.index("lambda_stub strict mode:")
    assert lines[start - 1:start + 8] == [
        "_" * 25 + " ERROR at teardown of test_it " + "_" * 25,
        "lambda_stub strict mode:",
        "  undeclared function 'resize-imag' was invoked 2 times (did you mean 'resize-image'?)",
        "  1 event(s) left queued, never delivered: thumbnail (1)",
        "  declared functions: 'resize-image', 'thumbnail'",
        "  declare them (stub.add_function(name, handler)), say they are meant to be missing "
        "(stub.expect_missing(name)), or let them reach AWS with "
        "passthrough=[name]",
        "  deliver queued events with stub.drain() (or stub.wait_idle() with "
        "event_delivery='background')",
        "  or relax the check: strict=False (@pytest.mark.lambda_stub(strict=False), "
        "stub_lambda(strict=False), or lambda_stub_strict = false in the ini file)",
        "All traceback entries are hidden. Pass `--full-trace` to see hidden and internal frames.",
    ]


def test_strict_context_manager_error_has_the_same_text() -> None:
    import boto3

    from pytest_lambda_stub import StrictModeError, stub_lambda

    lam = boto3.client("lambda", region_name="eu-west-1")
    with pytest.raises(StrictModeError) as info, stub_lambda() as stub:
        stub.add_function("billing", lambda e, c: None)
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="audit")
    assert str(info.value) == textwrap.dedent("""\
        lambda_stub strict mode:
          undeclared function 'audit' was invoked once
          declared functions: 'billing'
          declare them (stub.add_function(name, handler)), say they are meant to be missing (stub.expect_missing(name)), or let them reach AWS with passthrough=[name]
          or relax the check: strict=False (@pytest.mark.lambda_stub(strict=False), stub_lambda(strict=False), or lambda_stub_strict = false in the ini file)""")


def test_rerun_failed_test_keeps_its_section_in_the_final_report(
        pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_rerunfailures")
    result = run(pytester, """
        runs = []

        def test_flaky(lambda_stub):
            runs.append(1)
            lambda_stub.add_function("resize", resize)
            lam().invoke(FunctionName="resize", Payload=json.dumps({"width": len(runs)}))
            assert False, f"run {len(runs)}"
    """, "-p", "rerunfailures", "--reruns", "2")
    assert result.parseoutcomes() == {"failed": 1, "rerun": 2}
    output = result.stdout.str()
    # The final report shows the last run's invocations (each run has a fresh stub).
    assert output.count(" lambda invocations ") == 1
    text = section(output)
    assert text.startswith("1. resize [$LATEST] RequestResponse attempt=1 status=200 ok ")
    assert "resizing {'width': 3}" in text


def test_rerun_then_pass_reports_nothing_unless_always(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_rerunfailures")
    result = run(pytester, """
        runs = []

        @pytest.mark.lambda_stub(report="always")
        def test_flaky(lambda_stub):
            runs.append(1)
            lambda_stub.add_function("resize", resize)
            lam().invoke(FunctionName="resize", Payload=json.dumps({"width": len(runs)}))
            assert len(runs) == 2
    """, "-p", "rerunfailures", "--reruns", "2", "-rAR")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    output = result.stdout.str()
    assert "resizing {'width': 2}" in output
