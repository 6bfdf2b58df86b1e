"""Live mode against a moto server on 127.0.0.1: the same verdicts as mock mode."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    CLASS,
    MISSING,
    TABLE_ARN,
    MotoServer,
    action_id,
    compliant_policy,
    runbook_policy,
    task_policy,
    write_policy,
)

ALL_PERMISSIONS = f"{CLASS}::test_task_role_has_all_required_permissions"
LEAST_PRIVILEGE = f"{CLASS}::test_dynamodb_access_is_least_privilege"


def action_test(operation: str) -> str:
    return action_id(f"dynamodb:{operation}")


def failed(pytester: pytest.Pytester, *args: str) -> set[str]:
    reprec = pytester.inline_run(*args)
    return {report.nodeid for report in reprec.getfailures()}


def allow(*actions: str, resource: str = TABLE_ARN, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": [f"dynamodb:{a}" for a in actions],
        "Resource": resource,
        **extra,
    }


def deny(*actions: str, sid: str, resource: str = "*") -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Action": [f"dynamodb:{a}" for a in actions],
        "Resource": resource,
    }


def not_resource(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement with NotResource instead of Resource: everything but the table."""
    return {**{k: v for k, v in statement.items() if k != "Resource"}, "NotResource": TABLE_ARN}


#: The DynamoDB operations of the actions the runbook's policy lacks: Scan, Query, ...
MISSING_OPERATIONS = tuple(action.partition(":")[2] for action in MISSING)

#: name -> (managed task policy, extra managed, inline, boundary, expected failures)
SCENARIOS: dict[str, tuple[Any, ...]] = {
    "runbook-today": (
        runbook_policy(),
        {},
        {},
        None,
        {ALL_PERMISSIONS, *map(action_test, MISSING_OPERATIONS)},
    ),
    "inline-grants-the-missing-three": (
        runbook_policy(),
        {},
        {"JobsReadOnly": task_policy(allow(*MISSING_OPERATIONS))},
        None,
        set(),
    ),
    "second-managed-policy-grants-them": (
        runbook_policy(),
        {"JobsExtra": task_policy(allow(*MISSING_OPERATIONS))},
        {},
        None,
        set(),
    ),
    "inline-deny-wins-over-managed-allow": (
        compliant_policy(),
        {},
        {"NoQuery": task_policy(deny("Query", sid="NoQuery"))},
        None,
        {ALL_PERMISSIONS, action_test("Query")},
    ),
    "boundary-allows-only-the-old-three": (
        compliant_policy(),
        {},
        {},
        task_policy(allow("GetItem", "PutItem", "UpdateItem", resource="*")),
        {ALL_PERMISSIONS, *map(action_test, MISSING_OPERATIONS)},
    ),
    "boundary-deny": (
        compliant_policy(),
        {},
        {},
        task_policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            deny("DescribeTable", sid="NoDescribe"),
        ),
        {ALL_PERMISSIONS, action_test("DescribeTable")},
    ),
    "managed-inline-and-boundary-combined": (
        runbook_policy(),
        {"JobsQuery": task_policy(allow("Query", "DescribeTable"))},
        {"JobsScan": task_policy(allow("Scan"))},
        task_policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        set(),
    ),
    "wildcard-grant-allows-but-is-not-least-privilege": (
        runbook_policy(),
        {"JobsEverything": task_policy(allow("*"))},
        {},
        None,
        {LEAST_PRIVILEGE},
    ),
    "single-statement-object-and-string-action": (
        runbook_policy(),
        {},
        {"One": {"Version": "2012-10-17", "Statement": {**allow(), "Action": "dynamodb:Scan"}}},
        None,
        {ALL_PERMISSIONS, action_test("Query"), action_test("DescribeTable")},
    ),
    "action-case-insensitive-with-question-mark": (
        runbook_policy(),
        {},
        {
            "Odd": task_policy(
                {**allow(), "Action": ["DYNAMODB:scan", "dynamodb:Quer?", "dynamodb:Describe*"]}
            )
        },
        None,
        {LEAST_PRIVILEGE},
    ),
    "resource-is-case-sensitive": (
        runbook_policy(),
        {},
        {
            "Upper": task_policy(
                allow(*MISSING_OPERATIONS, resource=TABLE_ARN.replace("ml-jobs", "ML-JOBS"))
            )
        },
        None,
        {ALL_PERMISSIONS, *map(action_test, MISSING_OPERATIONS)},
    ),
    "resource-wildcard-matches-but-is-not-least-privilege": (
        runbook_policy(),
        {},
        {"Prefix": task_policy(allow(*MISSING_OPERATIONS, resource=TABLE_ARN + "*"))},
        None,
        {LEAST_PRIVILEGE},
    ),
    "not-resource-excluding-the-table": (
        runbook_policy(),
        {},
        {"Elsewhere": task_policy(not_resource(allow(*MISSING_OPERATIONS)))},
        None,
        {ALL_PERMISSIONS, *map(action_test, MISSING_OPERATIONS)},
    ),
    "deny-not-action-denies-everything-else": (
        compliant_policy(),
        {},
        {
            "OnlyReads": task_policy(
                {
                    "Effect": "Deny",
                    "NotAction": [
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                        "dynamodb:Scan",
                        "dynamodb:DescribeTable",
                    ],
                    "Resource": "*",
                }
            )
        },
        None,
        {ALL_PERMISSIONS, action_test("PutItem"), action_test("UpdateItem")},
    ),
    "negated-condition-with-absent-key-allows": (
        runbook_policy(),
        {},
        {
            "NotFromVpc": task_policy(
                allow(
                    *MISSING_OPERATIONS, Condition={"StringNotEquals": {"aws:SourceVpc": "vpc-bad"}}
                )
            )
        },
        None,
        set(),
    ),
    "deny-with-if-exists-condition-and-absent-key-denies": (
        compliant_policy(),
        {},
        {
            "OnlyInVpc": task_policy(
                {
                    "Sid": "OnlyInVpc",
                    "Effect": "Deny",
                    "Action": "dynamodb:Scan",
                    "Resource": "*",
                    "Condition": {
                        "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"},
                        "Null": {"aws:SourceVpc": "true"},
                    },
                }
            )
        },
        None,
        {ALL_PERMISSIONS, action_test("Scan")},
    ),
    "conditional-allow-with-absent-key": (
        runbook_policy(),
        {},
        {
            "JobsInVpc": task_policy(
                allow(*MISSING_OPERATIONS, Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
            )
        },
        None,
        {ALL_PERMISSIONS, *map(action_test, MISSING_OPERATIONS)},
    ),
}


def seed_mock(
    pytester: pytest.Pytester,
    extra: Mapping[str, Any],
    inline: Mapping[str, Any],
    boundary: Any,
) -> None:
    for name, document in extra.items():
        write_policy(pytester, document, f"fixtures/policies/managed/{name}.json")
    for name, document in inline.items():
        write_policy(pytester, document, f"fixtures/policies/inline/{name}.json")
    if boundary is not None:
        write_policy(pytester, boundary, "fixtures/policies/boundary.json")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [pytest.param(name, id=name) for name in SCENARIOS])
def test_live_and_mock_give_the_documented_verdicts(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
) -> None:
    managed, extra, inline, boundary, expected = SCENARIOS[scenario]
    moto_server.seed(managed=managed, extra_managed=extra, inline=inline, boundary=boundary)
    seed_mock(suite, extra, inline, boundary)
    policy_file = write_policy(suite, managed)

    mock_failures = failed(suite, "--iam-policy-file", str(policy_file))
    moto_server.use(monkeypatch)
    live_failures = failed(suite, "--aws-mode", "live")

    assert live_failures == expected
    assert mock_failures == expected


def test_live_header_names_account_and_default_version(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = moto_server.seed()
    moto_server.iam().create_policy_version(
        PolicyArn=arn, PolicyDocument=__import__("json").dumps(runbook_policy()), SetAsDefault=True
    )
    moto_server.use(monkeypatch)
    result = suite.runpytest("--aws-mode", "live")
    result.stdout.fnmatch_lines(
        [
            "iam-compliance: LIVE mode*",
            f"iam-compliance: live account {ACCOUNT}: arn:aws:iam::{ACCOUNT}:role/"
            "MLPlatformECSTaskRole with MLPlatformECSTaskPolicy default version v2, read "
            f"through {moto_server.url} as arn:aws:sts::{ACCOUNT}:assumed-role/*",
        ]
    )
    result.stdout.no_fnmatch_line("*MOCK*")


def test_policy_not_attached_fails_that_test_with_a_message(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed(attach=False)
    moto_server.use(monkeypatch)
    result = suite.runpytest("--aws-mode", "live", "-rf")
    result.stdout.fnmatch_lines(
        [
            "*MLPlatformECSTaskPolicy (arn:aws:iam::618574523116:policy/MLPlatformECSTaskPolicy)"
            " exists but is not attached to MLPlatformECSTaskRole*"
        ]
    )
    assert f"{CLASS}::test_policy_is_attached_to_task_role" in {
        line.split(" ")[1] for line in result.outlines if line.startswith("FAILED")
    }


SSO_CONFIG = """\
[profile ml-sso]
sso_session = corp
sso_account_id = 618574523116
sso_role_name = ComplianceReader
region = us-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
"""


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(
            "wrong-account",
            "*credentials belong to account 111122223333, but AWS_ACCOUNT_ID*is 618574523116*",
            id="wrong-account",
        ),
        pytest.param(
            "no-role",
            "*iam:GetRole arn:aws:iam::618574523116:role/MLPlatformECSTaskRole: not found*",
            id="missing-role",
        ),
        pytest.param("no-credentials", "*no AWS credentials found*", id="no-credentials"),
        pytest.param(
            "sso-not-signed-in",
            "*sts:GetCallerIdentity: the AWS SSO sign-in of this profile is missing or has "
            "expired (Error loading SSO Token: Token for corp does not exist); sign in with: "
            "aws sso login --profile <AWS_PROFILE>",
            id="sso-not-signed-in",
        ),
    ],
)
def test_live_problems_stop_with_one_message(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    message: str,
) -> None:
    if setup == "wrong-account":
        moto_server.seed(account="111122223333")
        moto_server.use(monkeypatch, account="111122223333")
    elif setup == "no-role":
        moto_server.use(monkeypatch)
    elif setup == "sso-not-signed-in":
        # An IAM Identity Center profile whose token cache (under $HOME) is empty.
        config = suite.path / "aws-config"
        config.write_text(SSO_CONFIG)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        monkeypatch.setenv("AWS_PROFILE", "ml-sso")
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    result = suite.runpytest("--aws-mode", "live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_xdist_worker_that_cannot_read_stops_with_exit_4(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers read lazily, so the problem surfaces as test errors: still exit 4, one message.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    result = suite.runpytest_subprocess("--aws-mode", "live", "-p", "xdist", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        ["ERROR: target default: sts:GetCallerIdentity: no AWS credentials*"]
    )
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output


def test_next_step_hint_repeats_the_runs_mode_and_env_files(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed()
    moto_server.use(monkeypatch)
    (suite.path / "envs").mkdir()
    (suite.path / "envs" / "prod.env").write_text(f"AWS_ACCOUNT_ID={ACCOUNT}\n")
    result = suite.runpytest("--aws-mode", "live", "--iam-env-file", "envs/prod.env")
    hint = (
        "to add the missing actions to the task policy, run: pytest "
        "tests/test_ecs_task_dynamodb_permissions.py --aws-mode live --iam-env-file "
        "envs/prod.env --fix-dry-run  (then --fix)"
    )
    result.stdout.fnmatch_lines([f"  {hint}"])
    report = json.loads((suite.path / "reports" / "compliance.json").read_text())
    assert report["targets"][0]["next_steps"] == [hint]
    assert hint in (suite.path / "reports" / "compliance.html").read_text()


def test_wrong_account_names_where_the_account_id_came_from(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.use(monkeypatch, account="111122223333")
    result = suite.runpytest("--aws-mode", "live")
    result.stderr.fnmatch_lines(
        ["*belong to account 111122223333, but AWS_ACCOUNT_ID (built-in default) is 6185*"]
    )
    (suite.path / ".env").write_text("AWS_ACCOUNT_ID=444455556666\n")
    result = suite.runpytest("--aws-mode", "live")
    result.stderr.fnmatch_lines(["*but AWS_ACCOUNT_ID (.env) is 444455556666*"])
