"""The Lambda API around Invoke, answered from the declarations through real boto3 clients: the
read side (checked against botocore's output shapes), paginators, waiters, the writes that
change the emulation, weighted alias routing, records and strict mode."""

from __future__ import annotations

import base64
import collections
import json
import os
import sys
from typing import Any

import pytest

from pytest_lambda_stub import NotEmulatedError, StrictModeError, stub_lambda
from tests.clients import callers
from tests.control_shapes import (
    ALWAYS_ALIAS,
    ALWAYS_CONFIGURATION,
    ALWAYS_EVENT_INVOKE,
    BodyRecorder,
    check_answer,
)
from tests.helpers import REGION, client

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def handler(event: Any, context: Any) -> Any:
    return {"version": context.function_version, "timeout": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb, "env": os.environ.get("STAGE")}


def recorded() -> tuple[Any, BodyRecorder]:
    lam = client()
    return lam, BodyRecorder(lam)


# -- the read side ------------------------------------------------------------------------------

def test_get_function_configuration_reports_the_declaration() -> None:
    lam, bodies = recorded()
    with stub_lambda() as stub:
        stub.add_function("resize", handler, timeout=30, memory_size=512,
                          environment={"STAGE": "test"})
        config = lam.get_function_configuration(FunctionName="resize")
        raw = check_answer(lam, bodies, "GetFunctionConfiguration")
    assert ALWAYS_CONFIGURATION <= set(raw)
    assert config["FunctionName"] == "resize"
    assert config["FunctionArn"] == f"{ARN}:resize"
    assert config["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert config["Handler"] == "test_control_plane.handler"
    assert (config["Timeout"], config["MemorySize"]) == (30, 512)
    assert config["Environment"] == {"Variables": {"STAGE": "test"}}
    assert (config["State"], config["LastUpdateStatus"], config["Version"]) == (
        "Active", "Successful", "$LATEST")
    assert len(base64.b64decode(config["CodeSha256"])) == 32
    assert config["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_code_sha_and_revision_are_stable_between_reads() -> None:
    lam = client()
    with stub_lambda(functions={"f": handler}):
        first = lam.get_function_configuration(FunctionName="f")
        second = lam.get_function_configuration(FunctionName="f")
    for key in ("CodeSha256", "CodeSize", "RevisionId", "LastModified"):
        assert first[key] == second[key]


def test_get_function_has_configuration_code_tags_and_concurrency() -> None:
    lam, bodies = recorded()
    with stub_lambda() as stub:
        stub.add_function("f", handler, reserved_concurrency=7)
        lam.tag_resource(Resource=f"{ARN}:f", Tags={"team": "img"})
        result = lam.get_function(FunctionName="f")
        raw = check_answer(lam, bodies, "GetFunction")
    assert ALWAYS_CONFIGURATION <= set(raw["Configuration"])
    assert result["Code"]["RepositoryType"] == "S3"
    assert result["Code"]["Location"].startswith(f"https://awslambda-{REGION}-tasks.s3.")
    assert result["Tags"] == {"team": "img"}
    assert result["Concurrency"] == {"ReservedConcurrentExecutions": 7}


@pytest.mark.parametrize("form", ["f", f"{ACCOUNT}:function:f", f"{ARN}:f"])
def test_every_name_form_finds_the_function(form: str) -> None:
    lam = client()
    with stub_lambda(functions={"f": handler}):
        assert lam.get_function(FunctionName=form)["Configuration"]["FunctionName"] == "f"


def test_qualified_reads_report_the_version_and_qualified_arn() -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", handler, versions={"1": handler}, aliases={"live": "1"})
        by_version = lam.get_function_configuration(FunctionName="f", Qualifier="1")
        by_alias = lam.get_function(FunctionName="f:live")["Configuration"]
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            lam.get_function_configuration(FunctionName="f", Qualifier="9")
    assert (by_version["Version"], by_version["FunctionArn"]) == ("1", f"{ARN}:f:1")
    assert (by_alias["Version"], by_alias["FunctionArn"]) == ("1", f"{ARN}:f:live")
    assert missing.value.response["Error"]["Message"] == f"Function not found: {ARN}:f:9"


def test_list_functions_and_versions_conform_and_page() -> None:
    lam, bodies = recorded()
    with stub_lambda() as stub:
        for index in range(7):
            stub.add_function(f"fn-{index}", handler, versions={"1": handler, "2": handler})
        stub.add_function("elsewhere", handler, region="us-west-2")
        pages = list(lam.get_paginator("list_functions").paginate(
            PaginationConfig={"PageSize": 3}))
        check_answer(lam, bodies, "ListFunctions")
        every = [f for page in lam.get_paginator("list_functions").paginate(
            FunctionVersion="ALL", PaginationConfig={"PageSize": 4}) for f in page["Functions"]]
        versions = [v["Version"] for page in lam.get_paginator(
            "list_versions_by_function").paginate(FunctionName="fn-3",
                                                  PaginationConfig={"PageSize": 1})
                    for v in page["Versions"]]
        check_answer(lam, bodies, "ListVersionsByFunction")
    assert [len(page["Functions"]) for page in pages] == [3, 3, 1]
    assert [f["FunctionName"] for page in pages for f in page["Functions"]] == [
        f"fn-{index}" for index in range(7)]
    assert len(every) == 21
    assert {f["FunctionArn"] for f in every if f["FunctionName"] == "fn-0"} == {
        f"{ARN}:fn-0", f"{ARN}:fn-0:1", f"{ARN}:fn-0:2"}
    assert versions == ["$LATEST", "1", "2"]


def test_aliases_read_and_page() -> None:
    lam, bodies = recorded()
    with stub_lambda() as stub:
        stub.add_function("f", handler, versions={"1": handler, "2": handler},
                          aliases={"a": "1", "b": "2", "c": "1", "w": {"1": 0.75, "2": 0.25}})
        alias = lam.get_alias(FunctionName="f", Name="w")
        raw = check_answer(lam, bodies, "GetAlias")
        names = [a["Name"] for page in lam.get_paginator("list_aliases").paginate(
            FunctionName="f", PaginationConfig={"PageSize": 3}) for a in page["Aliases"]]
        check_answer(lam, bodies, "ListAliases")
        on_one = [a["Name"] for a in lam.list_aliases(FunctionName="f",
                                                      FunctionVersion="1")["Aliases"]]
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            lam.get_alias(FunctionName="f", Name="nope")
    assert ALWAYS_ALIAS <= set(raw)
    assert alias["AliasArn"] == f"{ARN}:f:w"
    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    assert names == ["a", "b", "c", "w"]
    assert on_one == ["a", "c", "w"]
    assert missing.value.response["Error"]["Message"] == f"Cannot find alias arn: {ARN}:f:nope"


def test_concurrency_account_settings_recursion_tags_policy_conform() -> None:
    lam, bodies = recorded()
    with stub_lambda(account_concurrency=1000) as stub:
        stub.add_function("f", handler, reserved_concurrency=10, recursive_loop="Allow")
        stub.add_function("g", handler)
        assert lam.get_function_concurrency(FunctionName="f")[
            "ReservedConcurrentExecutions"] == 10
        check_answer(lam, bodies, "GetFunctionConcurrency")
        assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(
            FunctionName="g")
        settings = lam.get_account_settings()
        check_answer(lam, bodies, "GetAccountSettings")
        assert lam.get_function_recursion_config(FunctionName="f")["RecursiveLoop"] == "Allow"
        check_answer(lam, bodies, "GetFunctionRecursionConfig")
        assert lam.list_tags(Resource=f"{ARN}:g")["Tags"] == {}
        check_answer(lam, bodies, "ListTags")
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as no_policy:
            lam.get_policy(FunctionName="f")
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 990
    assert settings["AccountUsage"]["FunctionCount"] == 2
    assert no_policy.value.response["Error"]["Message"] == (
        "The resource you requested does not exist.")


def test_event_invoke_config_reads() -> None:
    lam, bodies = recorded()
    with stub_lambda() as stub:
        stub.add_function("configured", handler, maximum_retry_attempts=1,
                          on_failure="arn:aws:sqs:eu-west-1:123456789012:dlq")
        stub.add_function("plain", handler)
        config = lam.get_function_event_invoke_config(FunctionName="configured")
        raw = check_answer(lam, bodies, "GetFunctionEventInvokeConfig")
        listed = lam.get_paginator("list_function_event_invoke_configs").paginate(
            FunctionName="configured").build_full_result()
        check_answer(lam, bodies, "ListFunctionEventInvokeConfigs")
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as none:
            lam.get_function_event_invoke_config(FunctionName="plain")
        assert lam.list_function_event_invoke_configs(
            FunctionName="plain")["FunctionEventInvokeConfigs"] == []
    assert ALWAYS_EVENT_INVOKE <= set(raw)
    assert config["MaximumRetryAttempts"] == 1
    assert config["MaximumEventAgeInSeconds"] == 21600
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:123456789012:dlq"}}
    assert config["FunctionArn"] == f"{ARN}:configured:$LATEST"
    assert len(listed["FunctionEventInvokeConfigs"]) == 1
    assert none.value.response["Error"]["Message"] == (
        f"The function {ARN}:plain:$LATEST doesn't have an EventInvokeConfig")


@pytest.mark.parametrize("waiter", ["function_exists", "function_active", "function_active_v2",
                                    "function_updated", "function_updated_v2",
                                    "published_version_active"])
def test_waiters_return_at_once(waiter: str) -> None:
    lam = client()
    with stub_lambda() as stub:
        stub.add_function("f", handler, versions={"1": handler})
        params = {"FunctionName": "f"}
        if waiter == "published_version_active":
            params["Qualifier"] = "1"
        lam.get_waiter(waiter).wait(**params, WaiterConfig={"Delay": 30, "MaxAttempts": 2})
        assert len(stub.api_calls) == 1  # one request: no retry, no sleep


def test_function_exists_waiter_on_a_missing_function_fails_without_sleeping() -> None:
    from botocore.exceptions import WaiterError

    lam = client()
    with stub_lambda() as stub:
        stub.expect_missing("ghost")
        with pytest.raises(WaiterError):
            lam.get_waiter("function_exists").wait(
                FunctionName="ghost", WaiterConfig={"Delay": 0, "MaxAttempts": 2})


# -- writes change the emulation ------------------------------------------------------------

def test_update_function_configuration_changes_what_the_handler_sees() -> None:
    lam, bodies = recorded()
    with stub_lambda(functions={"f": handler}):
        before = lam.get_function_configuration(FunctionName="f")
        updated = lam.update_function_configuration(
            FunctionName="f", Timeout=60, MemorySize=1024, Description="bigger",
            Environment={"Variables": {"STAGE": "prod"}})
        check_answer(lam, bodies, "UpdateFunctionConfiguration")
        seen = json.loads(lam.invoke(FunctionName="f")["Payload"].read())
        lam.get_waiter("function_updated_v2").wait(FunctionName="f")
    assert (updated["Timeout"], updated["MemorySize"], updated["Description"]) == (
        60, 1024, "bigger")
    assert updated["RevisionId"] != before["RevisionId"]
    assert seen["memory"] == "1024" and seen["env"] == "prod"
    assert 3000 < seen["timeout"] <= 60000


def test_update_accepts_members_left_as_they_are_and_applies_role() -> None:
    # Deployment tools (Zappa's update_lambda_configuration) send every member on each update.
    lam = client()
    role = f"arn:aws:iam::{ACCOUNT}:role/deployer-role"
    with stub_lambda(functions={"f": handler}, strict=False) as stub:
        current = lam.get_function_configuration(FunctionName="f")
        updated = lam.update_function_configuration(
            FunctionName="f", Role=role, Handler=current["Handler"], Runtime=current["Runtime"],
            Timeout=30, VpcConfig={}, FileSystemConfigs=[], KMSKeyArn="", Layers=[],
            TracingConfig={"Mode": "PassThrough"}, SnapStart={"ApplyOn": "None"},
            EphemeralStorage={"Size": 512}, LoggingConfig={"LogFormat": "Text"},
            Environment={"Variables": {"STAGE": "prod"}})
        assert (updated["Role"], updated["Timeout"]) == (role, 30)
        assert updated["Environment"] == {"Variables": {"STAGE": "prod"}}
        lam.publish_version(FunctionName="f")
        lam.update_function_configuration(FunctionName="f", Role=f"{role}-2")
        assert lam.get_function_configuration(FunctionName="f", Qualifier="1")["Role"] == role
        assert lam.publish_version(FunctionName="f")["Version"] == "2"  # the role changed
        assert lam.get_function_configuration(FunctionName="f:2")["Role"] == f"{role}-2"
        with pytest.raises(lam.exceptions.ClientError) as raised:
            lam.update_function_configuration(FunctionName="f", Role="not-a-role")
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert "at 'role' failed to satisfy constraint" in str(raised.value)
        with pytest.raises(NotEmulatedError) as refused:
            lam.update_function_configuration(FunctionName="f", Runtime="python3.8",
                                              Layers=["arn:aws:lambda:eu-west-1:1:layer:x:1"])
        assert stub["f"].invocations == []
    message = str(refused.value)
    assert "function 'f'" in message
    assert f"Runtime 'python3.8' (the function has '{current['Runtime']}')" in message
    assert "Layers ['arn:aws:lambda:eu-west-1:1:layer:x:1'] (the function has None)" in message


def test_declaring_a_name_again_forgets_what_the_api_did_to_the_old_function() -> None:
    lam = client()

    def remaining(event: Any, context: Any) -> int:
        return int(context.get_remaining_time_in_millis())

    with stub_lambda(strict=False) as stub:
        stub.add_function("f", remaining, timeout=60)
        assert lam.publish_version(FunctionName="f")["Version"] == "1"
        lam.update_function_configuration(FunctionName="f", Description="old",
                                          Role=f"arn:aws:iam::{ACCOUNT}:role/old")
        lam.tag_resource(Resource=f"{ARN}:f", Tags={"team": "old"})
        stub.add_function("f", remaining, timeout=3, versions={"1": remaining})
        ran = json.loads(lam.invoke(FunctionName="f:1")["Payload"].read())
        one = lam.get_function(FunctionName="f", Qualifier="1")
        latest = lam.get_function_configuration(FunctionName="f")
    assert 0 < ran <= 3000  # the new declaration's timeout, not version 1's frozen 60 s
    assert one["Configuration"]["Timeout"] == 3 and "Tags" not in one
    assert (latest["Description"], latest["Role"]) == (
        "", f"arn:aws:iam::{ACCOUNT}:role/service-role/f-role")


def test_update_with_a_stale_revision_id_is_refused() -> None:
    lam = client()
    with stub_lambda(functions={"f": handler}):
        revision = lam.get_function(FunctionName="f")["Configuration"]["RevisionId"]
        lam.update_function_configuration(FunctionName="f", Timeout=5, RevisionId=revision)
        with pytest.raises(lam.exceptions.PreconditionFailedException):
            lam.update_function_configuration(FunctionName="f", Timeout=6, RevisionId=revision)


def test_publish_version_freezes_the_configuration() -> None:
    lam, bodies = recorded()
    with stub_lambda(functions={"f": handler}) as stub:
        lam.update_function_configuration(FunctionName="f", Environment={
            "Variables": {"STAGE": "one"}})
        first = lam.publish_version(FunctionName="f", Description="first")
        raw = check_answer(lam, bodies, "PublishVersion")
        again = lam.publish_version(FunctionName="f")  # nothing changed: the same version
        lam.update_function_configuration(FunctionName="f", Environment={
            "Variables": {"STAGE": "two"}}, MemorySize=256)
        second = lam.publish_version(FunctionName="f")
        one = json.loads(lam.invoke(FunctionName="f", Qualifier="1")["Payload"].read())
        two = json.loads(lam.invoke(FunctionName="f:2")["Payload"].read())
        latest = json.loads(lam.invoke(FunctionName="f")["Payload"].read())
        lam.get_waiter("published_version_active").wait(FunctionName="f", Qualifier="2")
        versions = [v["Version"] for v in lam.list_versions_by_function(
            FunctionName="f")["Versions"]]
    assert ALWAYS_CONFIGURATION <= set(raw)
    assert (first["Version"], again["Version"], second["Version"]) == ("1", "1", "2")
    assert first["FunctionArn"] == f"{ARN}:f:1"
    assert first["Description"] == "first"
    assert (one["version"], one["env"], one["memory"]) == ("1", "one", "128")
    assert (two["version"], two["env"], two["memory"]) == ("2", "two", "256")
    assert (latest["version"], latest["env"]) == ("$LATEST", "two")
    assert versions == ["$LATEST", "1", "2"]
    assert stub["f"].invocations[0].executed_version == "1"


def test_reserved_concurrency_writes_throttle_and_release() -> None:
    lam = client(retries={"max_attempts": 1, "mode": "standard"})
    with stub_lambda(functions={"f": handler}):
        assert lam.put_function_concurrency(
            FunctionName="f", ReservedConcurrentExecutions=0)["ReservedConcurrentExecutions"] == 0
        with pytest.raises(lam.exceptions.TooManyRequestsException):
            lam.invoke(FunctionName="f")
        lam.delete_function_concurrency(FunctionName="f")
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as too_much:
            lam.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=950)
    assert "below its minimum value of [100]" in too_much.value.response["Error"]["Message"]


def test_aliases_written_through_the_api_route_invokes() -> None:
    lam, bodies = recorded()
    with stub_lambda() as stub:
        stub.add_function("f", handler, versions={"1": handler, "2": handler})
        created = lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1",
                                   Description="prod")
        raw = check_answer(lam, bodies, "CreateAlias")
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert lam.invoke(FunctionName="f", Qualifier="live")["ExecutedVersion"] == "1"
        updated = lam.update_alias(FunctionName="f", Name="live", FunctionVersion="2")
        check_answer(lam, bodies, "UpdateAlias")
        assert lam.invoke(FunctionName="f:live")["ExecutedVersion"] == "2"
        with pytest.raises(lam.exceptions.ResourceConflictException):
            lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
        deleted = lam.delete_alias(FunctionName="f", Name="live")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="f", Qualifier="live")
    assert ALWAYS_ALIAS <= set(raw)
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["Description"] == "prod"
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_event_invoke_config_writes_change_async_retries() -> None:
    lam, bodies = recorded()
    runs: list[int] = []

    def failing(event: Any, context: Any) -> None:
        runs.append(1)
        raise RuntimeError("boom")

    with stub_lambda(functions={"f": failing}) as stub:
        put = lam.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=0)
        check_answer(lam, bodies, "PutFunctionEventInvokeConfig")
        lam.invoke(FunctionName="f", InvocationType="Event")
        assert len(runs) == 1
        lam.update_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=1,
                                                MaximumEventAgeInSeconds=3600)
        check_answer(lam, bodies, "UpdateFunctionEventInvokeConfig")
        assert (stub["f"].maximum_retry_attempts, stub["f"].maximum_event_age) == (1, 3600)
        lam.invoke(FunctionName="f", InvocationType="Event")
        assert len(runs) == 3
        lam.delete_function_event_invoke_config(FunctionName="f")
        lam.invoke(FunctionName="f", InvocationType="Event")
        assert len(runs) == 6  # the default: two retries
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function_event_invoke_config(FunctionName="f")
    assert put["MaximumRetryAttempts"] == 0


def test_recursion_and_tag_writes() -> None:
    lam = client()
    with stub_lambda(functions={"f": handler}) as stub:
        assert lam.put_function_recursion_config(
            FunctionName="f", RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
        assert stub["f"].recursive_loop == "Allow"
        lam.tag_resource(Resource=f"{ARN}:f", Tags={"a": "1", "b": "2"})
        lam.untag_resource(Resource=f"{ARN}:f", TagKeys=["a"])
        assert lam.list_tags(Resource=f"{ARN}:f")["Tags"] == {"b": "2"}


# -- weighted alias routing --------------------------------------------------------------------

def _executed(seed: int, count: int, weights: dict[str, float] | None = None) -> list[str]:
    lam = client()
    with stub_lambda(seed=seed) as stub:
        stub.add_function("f", handler, versions={"1": handler, "2": handler},
                          aliases={"live": weights or {"1": 0.8, "2": 0.2}})
        return [lam.invoke(FunctionName="f", Qualifier="live")["ExecutedVersion"]
                for _ in range(count)]


def test_weighted_alias_lands_within_two_percent_of_its_weights() -> None:
    counts = collections.Counter(_executed(seed=11, count=10_000, weights={"1": 0.7, "2": 0.3}))
    assert abs(counts["1"] / 10_000 - 0.7) < 0.02
    assert abs(counts["2"] / 10_000 - 0.3) < 0.02
    assert set(counts) == {"1", "2"}


def test_weighted_alias_same_seed_same_sequence() -> None:
    first = _executed(seed=5, count=300)
    assert _executed(seed=5, count=300) == first
    assert _executed(seed=6, count=300) != first


def test_weighted_alias_written_through_the_api_and_recorded() -> None:
    lam = client()
    with stub_lambda(seed=1) as stub:
        stub.add_function("f", handler, versions={"1": handler, "2": handler})
        lam.create_alias(FunctionName="f", Name="canary", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
        executed = {lam.invoke(FunctionName="f", Qualifier="canary")["ExecutedVersion"]
                    for _ in range(100)}
        assert executed == {"1", "2"}
        assert {r.executed_version for r in stub["f"].invocations} == {"1", "2"}
        lam.update_alias(FunctionName="f", Name="canary",
                         RoutingConfig={"AdditionalVersionWeights": {}})
        assert {lam.invoke(FunctionName="f", Qualifier="canary")["ExecutedVersion"]
                for _ in range(30)} == {"1"}
        assert "RoutingConfig" not in lam.get_alias(FunctionName="f", Name="canary")


# -- Zappa's CLI-style flow ---------------------------------------------------------------------

def test_zappa_style_flow_against_declarations_only() -> None:
    """Zappa's ``invoke``: read the configuration, then invoke with the log tail."""

    def app(event: Any, context: Any) -> Any:
        print("running", event["command"])
        return {"ok": True}

    lam = client()
    with stub_lambda(functions={"my-app-dev": app}):
        config = lam.get_function_configuration(FunctionName="my-app-dev")
        response = lam.invoke(FunctionName=config["FunctionName"],
                              InvocationType="RequestResponse", LogType="Tail",
                              Payload=json.dumps({"command": "migrate"}).encode())
    log = base64.b64decode(response["LogResult"]).decode()
    assert json.loads(response["Payload"].read()) == {"ok": True}
    assert "running migrate" in log
    assert log.startswith("START RequestId:")


# -- records and strict mode ---------------------------------------------------------------

def test_api_calls_are_recorded_and_assertable() -> None:
    lam = client()
    with stub_lambda(functions={"f": handler}) as stub:
        lam.get_function(FunctionName="f")
        lam.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=3)
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="f", Qualifier="7")
    assert [(c.operation, c.function_name, c.status, c.error) for c in stub.api_calls] == [
        ("GetFunction", "f", 200, None),
        ("PutFunctionConcurrency", "f", 200, None),
        ("GetFunction", "f", 404, "ResourceNotFoundException"),
    ]
    call = stub.assert_api_called("PutFunctionConcurrency", "f", ReservedConcurrentExecutions=3)
    assert call.params == {"FunctionName": "f", "ReservedConcurrentExecutions": 3}
    stub.assert_api_not_called("PublishVersion")
    with pytest.raises(AssertionError, match="expected a PublishVersion call on 'f'"):
        stub.assert_api_called("PublishVersion", "f")
    with pytest.raises(AssertionError, match="1 were made"):
        stub.assert_api_not_called("PutFunctionConcurrency")


def test_strict_mode_reports_api_calls_on_undeclared_functions() -> None:
    lam = client()
    with pytest.raises(StrictModeError) as caught, stub_lambda(functions={"resize": handler}):
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function_configuration(FunctionName="resiz")
    assert ("undeclared function 'resiz' was called by GetFunctionConfiguration once "
            "(did you mean 'resize'?)") in str(caught.value)


def test_expect_missing_keeps_strict_mode_quiet_for_every_operation() -> None:
    lam = client()
    with stub_lambda(functions={"f": handler}) as stub:
        stub.expect_missing("ghost")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="ghost")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="ghost")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_alias(FunctionName="ghost", Name="live")
    assert stub.stopped_with == []


def test_function_declared_in_another_region_is_reported_as_such() -> None:
    lam = client()  # eu-west-1
    with pytest.raises(StrictModeError) as caught, stub_lambda() as stub:
        stub.add_function("f", handler, region="us-west-2")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="f")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="f")
    text = str(caught.value)
    assert ("function 'f' is declared in region 'us-west-2' but was called in 'eu-west-1' "
            "2 times") in text
    assert "undeclared" not in text and "did you mean" not in text


# -- every kind of client, every entry point ----------------------------------------------------

make_caller = callers()


def test_every_client_kind_gets_the_api_and_the_net(make_caller: Any) -> None:
    caller = make_caller()
    stub = stub_lambda(seed=2)
    with pytest.raises(StrictModeError, match="DeleteFunction was refused"), stub:
        stub.add_function("f", handler, versions={"1": handler, "2": handler},
                          aliases={"w": {"1": 0.5, "2": 0.5}})
        config = caller.call("get_function_configuration", FunctionName="f")
        assert config["FunctionArn"] == f"{ARN}:f"
        published = caller.call("publish_version", FunctionName="f")
        assert published["Version"] == "3"
        executed = {caller.call("invoke", FunctionName="f", Qualifier="w")["ExecutedVersion"]
                    for _ in range(40)}
        assert executed == {"1", "2"}
        with pytest.raises(caller.exceptions.ResourceNotFoundException):
            caller.call("get_alias", FunctionName="f", Name="nope")
        with pytest.raises(NotEmulatedError, match="DeleteFunction"):
            caller.call("delete_function", FunctionName="f")
    assert [c.operation for c in stub.api_calls] == [
        "GetFunctionConfiguration", "PublishVersion", "GetAlias", "DeleteFunction"]
    assert stub.stopped_with[0].startswith("DeleteFunction was refused as not emulated once")


def test_fixture_strict_mode_reports_api_calls_and_honours_expect_missing(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import boto3, pytest

        def test_undeclared(lambda_stub):
            lam = boto3.client("lambda", region_name="eu-west-1")
            with pytest.raises(lam.exceptions.ResourceNotFoundException):
                lam.get_function(FunctionName="billing")

        def test_expected_missing(lambda_stub):
            lambda_stub.expect_missing("billing")
            lam = boto3.client("lambda", region_name="eu-west-1")
            with pytest.raises(lam.exceptions.ResourceNotFoundException):
                lam.list_aliases(FunctionName="billing")
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*undeclared function 'billing' was called by GetFunction once*",
        "*stub.expect_missing(name)*",
    ])
