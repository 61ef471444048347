"""Configuration: ini file < module < class < function marker < decorator arguments; unknown names
and bad values fail with the valid ones listed."""

from __future__ import annotations

import textwrap

import pytest

from pytest_lambda_stub import OptionError, StubOptions, stub_lambda

INI = textwrap.dedent("""\
    [pytest]
    lambda_stub_strict = false
    lambda_stub_region = eu-west-1
    lambda_stub_account_id = 111122223333
    lambda_stub_event_delivery = manual
    lambda_stub_instant_retries = false
    lambda_stub_report = always
    lambda_stub_seed = 7
    lambda_stub_account_concurrency = 5
    lambda_stub_passthrough = legacy-a, legacy-b
""")


def test_every_option_is_settable_in_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("""
        from pytest_lambda_stub import StubOptions, stub_lambda

        EXPECTED = StubOptions(
            strict=False, region="eu-west-1", account_id="111122223333",
            event_delivery="manual", instant_retries=False, report="always", seed=7,
            account_concurrency=5, passthrough=frozenset({"legacy-a", "legacy-b"}))

        def test_fixture(lambda_stub):
            assert lambda_stub.options == EXPECTED

        def test_context_manager():
            with stub_lambda() as stub:
                assert stub.options == EXPECTED

        @stub_lambda
        def test_decorator():
            pass

        def test_decorator_stub_options(request):
            from pytest_lambda_stub.stub import decorator_stub
            assert decorator_stub(test_decorator).options == EXPECTED
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_the_ini_names_every_option() -> None:
    assert StubOptions.names() == (
        "strict", "passthrough", "account_id", "region", "instant_retries", "event_delivery",
        "report", "seed", "account_concurrency", "serve", "export_endpoint", "send_destinations")


def test_precedence_ini_module_class_function_decorator(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlambda_stub_region = us-east-1\nlambda_stub_seed = 1\n"
                     "lambda_stub_report = never\n")
    pytester.makepyfile("""
        import pytest
        from pytest_lambda_stub import stub_lambda

        pytestmark = pytest.mark.lambda_stub(region="eu-west-1", seed=2, strict=False)

        def test_module(lambda_stub):
            o = lambda_stub.options
            assert (o.region, o.seed, o.strict, o.report) == ("eu-west-1", 2, False, "never")

        @pytest.mark.lambda_stub(seed=3)
        class TestClass:
            def test_class(self, lambda_stub):
                assert (lambda_stub.options.region, lambda_stub.options.seed) == ("eu-west-1", 3)

            @pytest.mark.lambda_stub(seed=4, event_delivery="manual")
            def test_function(self, lambda_stub):
                o = lambda_stub.options
                assert (o.region, o.seed, o.event_delivery) == ("eu-west-1", 4, "manual")

            @stub_lambda(seed=5)
            @pytest.mark.lambda_stub(seed=4, report="always")
            def test_decorator_with_fixture(self, lambda_stub):
                o = lambda_stub.options
                assert (o.seed, o.report, o.strict) == (5, "always", False)

            @stub_lambda(seed=5)
            @pytest.mark.lambda_stub(seed=4, account_concurrency=9)
            def test_decorator_without_fixture(self):
                from pytest_lambda_stub.stub import decorator_stub
                stub = decorator_stub(TestClass.test_decorator_without_fixture)
                o = stub.options
                assert (o.seed, o.account_concurrency, o.region) == (5, 9, "eu-west-1")
                assert stub.active
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=5)


def test_marker_functions_are_declared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import json
        import boto3
        import pytest

        def double(event, context):
            return event * 2

        pytestmark = pytest.mark.lambda_stub(functions={"double": double})

        @pytest.mark.lambda_stub(functions={"triple": "json.loads"})
        def test_it(lambda_stub):
            lam = boto3.client("lambda", region_name="eu-west-1")
            assert lam.invoke(FunctionName="double", Payload=b"4")["Payload"].read() == b"8"
            assert sorted(f.name for f in lambda_stub) == ["double", "triple"]
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_unknown_marker_option_lists_the_valid_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_stub(stict=False)
        def test_typo(lambda_stub):
            pass

        @pytest.mark.lambda_stub(event_delivery="later")
        def test_bad_value(lambda_stub):
            pass

        @pytest.mark.lambda_stub(True)
        def test_positional(lambda_stub):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines([
        "test_unknown_marker_option_lists_the_valid_ones.py::test_typo: unknown lambda_stub "
        "option(s) 'stict'; valid options are: strict, passthrough, account_id, region, "
        "instant_retries, event_delivery, report, seed, account_concurrency, serve, "
        "export_endpoint, send_destinations",
    ])
    result.stdout.fnmatch_lines([
        "test_unknown_marker_option_lists_the_valid_ones.py::test_bad_value: lambda_stub option "
        "'event_delivery' must be one of 'immediate', 'manual', 'background', not 'later'",
    ])
    result.stdout.fnmatch_lines([
        "test_unknown_marker_option_lists_the_valid_ones.py::test_positional: "
        "@pytest.mark.lambda_stub takes keyword options only, got (True,); valid options are: "
        "functions, strict, passthrough, account_id, region, instant_retries, event_delivery, "
        "report, seed, account_concurrency, serve, export_endpoint, send_destinations",
    ])


@pytest.mark.parametrize("line, message", [
    ("lambda_stub_stict = false",
     "ERROR: unknown ini option(s) lambda_stub_stict; valid lambda_stub ini options are: "
     "lambda_stub_account_concurrency, lambda_stub_account_id, lambda_stub_event_delivery, "
     "lambda_stub_export_endpoint, lambda_stub_instant_retries, lambda_stub_passthrough, "
     "lambda_stub_region, lambda_stub_report, lambda_stub_seed, lambda_stub_send_destinations, "
     "lambda_stub_serve, lambda_stub_strict"),
    ("lambda_stub_report = sometimes",
     "ERROR: lambda_stub option 'report' must be one of 'on-failure', 'always', 'never', "
     "not 'sometimes'"),
    ("lambda_stub_strict = maybe",
     "ERROR: ini option lambda_stub_strict must be true or false, not 'maybe'"),
    ("lambda_stub_account_id = 42",
     "ERROR: lambda_stub option 'account_id' must be 12 digits as a str, not '42'"),
])
def test_bad_ini_values_stop_the_run(pytester: pytest.Pytester, line: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{line}\n")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str().splitlines()


def test_constructor_and_decorator_arguments_are_validated_the_same_way() -> None:
    with pytest.raises(OptionError, match=r"unknown lambda_stub option\(s\) 'regoin'; valid "
                                          r"options are: strict, passthrough"):
        stub_lambda(regoin="eu-west-1")
    with pytest.raises(OptionError, match="must be True or False, not 'no'"):
        stub_lambda(strict="no")
    with pytest.raises(OptionError, match=r"'passthrough' must be True, False, or names of "
                                          r"functions or Lambda operations .*not 3"):
        stub_lambda(passthrough=3)


def test_lambda_stub_module_is_shared_by_a_modules_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import boto3
        import pytest

        pytestmark = pytest.mark.lambda_stub(seed=3)

        @pytest.fixture(scope="module")
        def team(lambda_stub_module):
            lambda_stub_module.add_function("echo", lambda e, c: e)
            return lambda_stub_module

        def test_one(team):
            boto3.client("lambda", region_name="eu-west-1").invoke(FunctionName="echo")
            assert team.options.seed == 3

        def test_two(team, lambda_stub_module):
            assert team is lambda_stub_module
            boto3.client("lambda", region_name="eu-west-1").invoke(FunctionName="echo")
            assert team["echo"].call_count == 2

        def test_undeclared_is_reported_at_module_end(team):
            try:
                boto3.client("lambda", region_name="eu-west-1").invoke(FunctionName="ecko")
            except Exception:
                pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_undeclared_is_reported_at_module_end*",
        "lambda_stub strict mode:",
        "  undeclared function 'ecko' was invoked once (did you mean 'echo'?)",
    ])


def test_conftest_fixture_shares_declarations(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest

        def resize(event, context):
            return {"width": event["width"] // 2}

        @pytest.fixture
        def team_lambdas(lambda_stub):
            lambda_stub.add_function("resize-image", resize)
            lambda_stub.add_function("audit", returns=None)
            return lambda_stub
    """)
    pytester.makepyfile("""
        import json
        import boto3

        def test_uses_shared_declarations(team_lambdas):
            lam = boto3.client("lambda", region_name="eu-west-1")
            lam.invoke(FunctionName="resize-image", Payload=json.dumps({"width": 8}))
            team_lambdas["resize-image"].assert_invoked_once_with({"width": 8})
            team_lambdas["audit"].assert_not_invoked()
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fixture_docstring_shows_in_pytest_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "lambda_stub -- *",
        "    An active LambdaStub answering every botocore Lambda call for this test (the Invoke",
    ])
    result.stdout.fnmatch_lines([
        "lambda_stub_module [[]module scope[]] -- *",
        "    A LambdaStub active for a whole test module*",
    ])


def test_unknown_option_in_pyproject_toml_stops_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nlambda_stub_regoin = "eu-west-1"\n')
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert any(line.startswith("ERROR: unknown ini option(s) lambda_stub_regoin; valid")
               for line in result.stderr.str().splitlines())
