"""The pytest entry points, exercised with pytester: fixture, marker, decorator, strict mode."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

HEADER = """
import asyncio, json
import boto3
import pytest
from pytest_lambda_stub import LambdaStub, stub_lambda

def client():
    return boto3.client("lambda", region_name="eu-west-1")

def double(event, context):
    return event * 2
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=HEADER + body)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_fixture_answers_and_records(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_it(lambda_stub):
    assert isinstance(lambda_stub, LambdaStub) and lambda_stub.active
    @lambda_stub.function("double")
    def handler(event, context):
        return event * 2
    assert json.loads(client().invoke(FunctionName="double", Payload=b"21")["Payload"].read()) == 42
    assert lambda_stub["double"].invocations[0].event == 21
""")
    result.assert_outcomes(passed=1)


def test_marker_configures_the_fixture(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@pytest.mark.lambda_stub(strict=False, functions={"double": double}, account_id="999999999999")
def test_it(lambda_stub):
    assert lambda_stub.options.strict is False
    assert lambda_stub["double"].account_id == "999999999999"
    with pytest.raises(Exception):
        client().invoke(FunctionName="undeclared")
""")
    result.assert_outcomes(passed=1)


def test_strict_fixture_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_swallows(lambda_stub):
    lambda_stub.add_function("resize-image", double)
    try:
        client().invoke(FunctionName="resize-imag")
        client().invoke(FunctionName="resize-imag")
    except Exception:
        pass
""")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*lambda_stub strict mode:",
        "*undeclared function 'resize-imag' was invoked once (did you mean 'resize-image'?)",
        "*declared functions: 'resize-image'",
        "*strict=False*",
    ])


def test_decorator_sync_async_and_class(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@stub_lambda(functions={"double": double})
def test_sync():
    assert json.loads(client().invoke(FunctionName="double", Payload=b"2")["Payload"].read()) == 4

@stub_lambda
def test_bare():
    with pytest.raises(Exception):
        client().invoke(FunctionName="double")

stub = stub_lambda(functions={"double": double})

@stub
async def run_async():
    return json.loads(client().invoke(FunctionName="double", Payload=b"3")["Payload"].read())

def test_async_decorated():
    assert asyncio.run(run_async()) == 6
    assert stub["double"].call_count == 1

@stub_lambda(functions={"double": double})
class TestClass:
    def test_one(self):
        assert client().invoke(FunctionName="double", Payload=b"1")["StatusCode"] == 200

    def test_two(self, tmp_path):
        assert tmp_path.exists()
        assert client().invoke(FunctionName="double", Payload=b"1")["StatusCode"] == 200
""")
    # test_bare's undeclared invoke fails it in strict mode (the decorator raises at exit).
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*_ test_bare _*", "*StrictModeError: lambda_stub strict mode:",
                                 "*undeclared function 'double' was invoked once"])


def test_decorator_and_fixture_are_one_stub(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@pytest.fixture
def other():
    return "other fixture"

@stub_lambda(functions={"double": double}, strict=False)
def test_both(lambda_stub, other, tmp_path):
    assert other == "other fixture"
    assert "double" in lambda_stub
    assert lambda_stub.options.strict is False
    client().invoke(FunctionName="double", Payload=b"1")
    assert lambda_stub["double"].call_count == 1
""")
    result.assert_outcomes(passed=1)


def test_decorator_with_fixture_keeps_one_record(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
seen = []
stub = stub_lambda(functions={"double": double})

@stub
def test_both(lambda_stub):
    assert lambda_stub is stub
    client().invoke(FunctionName="double", Payload=b"1")

def test_after():
    assert len(stub.invocations) == 1
    assert not stub.active
""")
    result.assert_outcomes(passed=2)


def test_plugin_import_does_not_import_botocore(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="""
import sys
def test_plain():
    assert "botocore" not in sys.modules
    assert "pytest_lambda_stub.plugin" in sys.modules
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_fixture_docstring_is_shown_by_pytest_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest_inprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["lambda_stub*", "*An active LambdaStub answering*"])
