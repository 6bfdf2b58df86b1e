"""The real compliance suite, run through pytester against the embedded moto account."""

from __future__ import annotations

import pytest

from conftest import (
    CLASS,
    MISSING,
    TABLE_ARN,
    compliant_policy,
    failed_ids,
    runbook_policy,
    task_policy,
    write_policy,
)


def test_default_run_fails_exactly_the_three_missing_actions(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-v", "-rf")
    result.assert_outcomes(passed=6, failed=4)
    assert failed_ids(result) == {
        f"{CLASS}::test_task_role_has_all_required_permissions",
        *(f"{CLASS}::test_required_action_is_allowed[{a}]" for a in MISSING),
    }
    result.stdout.fnmatch_lines(
        [
            f"*3 of 6 required actions are not allowed for MLPlatformECSTaskRole on {TABLE_ARN}:",
            "*- dynamodb:Scan (List all jobs): dynamodb:Scan is not allowed*",
            "*- dynamodb:Query (Query jobs by attributes): dynamodb:Query is not allowed*",
            "*- dynamodb:DescribeTable (Get table metadata*): dynamodb:DescribeTable is not*",
        ]
    )
    assert result.ret == 1


def test_node_ids_are_the_ones_the_runbook_names(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--collect-only", "-q")
    expected = [
        f"{CLASS}::test_task_role_has_all_required_permissions",
        *(
            f"{CLASS}::test_required_action_is_allowed[dynamodb:{a}]"
            for a in ("GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable")
        ),
        f"{CLASS}::test_policy_is_attached_to_task_role",
        f"{CLASS}::test_task_role_trusts_ecs_tasks",
        f"{CLASS}::test_dynamodb_access_is_least_privilege",
    ]
    assert [line for line in result.outlines if "::" in line] == expected


def test_header_makes_mock_mode_unmistakable(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-v")
    result.stdout.fnmatch_lines(
        [
            "iam-compliance: MOCK mode*NOT a check of a real AWS account",
            "  target default: account 618574523116, region us-east-1, role "
            "arn:aws:iam::618574523116:role/MLPlatformECSTaskRole, policy "
            "arn:aws:iam::618574523116:policy/MLPlatformECSTaskPolicy, table "
            f"{TABLE_ARN}",
            "iam-compliance: mock account 618574523116: *"
            "MLPlatformECSTaskPolicy default version v1",
        ]
    )


def test_compliant_policy_file_passes(suite: pytest.Pytester) -> None:
    path = write_policy(suite, compliant_policy())
    result = suite.runpytest("--iam-policy-file", str(path))
    result.assert_outcomes(passed=10)
    assert result.ret == 0


@pytest.mark.parametrize(
    ("extra", "failing"),
    [
        pytest.param(
            {"Sid": "NoScan", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"},
            ["dynamodb:Scan"],
            id="deny-one-action",
        ),
        pytest.param(
            {"Sid": "NoDynamo", "Effect": "Deny", "Action": "DynamoDB:*", "Resource": TABLE_ARN},
            [*MISSING, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            id="deny-service-wildcard-any-case",
        ),
    ],
)
def test_deny_turns_passes_into_failures(
    suite: pytest.Pytester, extra: dict[str, object], failing: list[str]
) -> None:
    document = compliant_policy()
    document["Statement"].append(extra)
    path = write_policy(suite, document)
    result = suite.runpytest("--iam-policy-file", str(path), "-rf")
    assert failed_ids(result) == {
        f"{CLASS}::test_task_role_has_all_required_permissions",
        *(f"{CLASS}::test_required_action_is_allowed[{a}]" for a in failing),
    }
    result.stdout.fnmatch_lines(
        [f'*explicitly denied by MLPlatformECSTaskPolicy v1, statement "{extra["Sid"]}"*']
    )


def test_boundary_turns_passes_into_failures(suite: pytest.Pytester) -> None:
    boundary = task_policy(
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": "*",
        }
    )
    write_policy(suite, boundary, "fixtures/policies/boundary.json")
    path = write_policy(suite, compliant_policy())
    result = suite.runpytest("--iam-policy-file", str(path), "-rf")
    assert failed_ids(result) == {
        f"{CLASS}::test_task_role_has_all_required_permissions",
        *(f"{CLASS}::test_required_action_is_allowed[{a}]" for a in MISSING),
    }
    result.stdout.fnmatch_lines(["*not by permissions boundary MLPlatformPermissionsBoundary v1*"])


def test_wildcard_grant_fails_least_privilege_only(suite: pytest.Pytester) -> None:
    document = runbook_policy()
    document["Statement"][1] = {
        "Sid": "AllDynamo",
        "Effect": "Allow",
        "Action": "dynamodb:*",
        "Resource": TABLE_ARN,
    }
    path = write_policy(suite, document)
    result = suite.runpytest("--iam-policy-file", str(path), "-rf")
    assert failed_ids(result) == {f"{CLASS}::test_dynamodb_access_is_least_privilege"}
    result.stdout.fnmatch_lines(
        ['*WILDCARD_ACTION*MLPlatformECSTaskPolicy v1, statement "AllDynamo"*']
    )


def test_trust_policy_without_ecs_tasks_fails(suite: pytest.Pytester) -> None:
    trust = task_policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    write_policy(suite, trust, "fixtures/policies/ecs_tasks_trust_policy.json")
    result = suite.runpytest("-rf", "-k", "trusts")
    result.assert_outcomes(failed=1, deselected=9)
    result.stdout.fnmatch_lines(
        ["*no Allow of sts:AssumeRole for the service principal ecs-tasks*"]
    )


def test_inline_and_extra_managed_policies_count(suite: pytest.Pytester) -> None:
    write_policy(
        suite,
        task_policy({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}),
        "fixtures/policies/inline/ScanJobs.json",
    )
    suite.mkdir("fixtures/policies/managed")
    write_policy(
        suite,
        task_policy(
            {
                "Effect": "Allow",
                "Action": ["dynamodb:Query", "dynamodb:DescribeTable"],
                "Resource": TABLE_ARN,
            }
        ),
        "fixtures/policies/managed/QueryJobs.json",
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=10)


@pytest.mark.parametrize(
    ("context", "outcome"),
    [
        pytest.param([], {"failed": 1}, id="key-absent"),
        pytest.param(["aws:SourceVpc=vpc-1234"], {"passed": 1}, id="key-matches"),
        pytest.param(["aws:sourcevpc=vpc-9999"], {"failed": 1}, id="key-differs"),
    ],
)
def test_context_decides_conditions(
    suite: pytest.Pytester, context: list[str], outcome: dict[str, int]
) -> None:
    document = compliant_policy()
    document["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceVpc": "vpc-1234"}}
    path = write_policy(suite, document)
    args = [arg for item in context for arg in ("--iam-context", item)]
    result = suite.runpytest("--iam-policy-file", str(path), *args, "-k", "Scan")
    result.assert_outcomes(**outcome, deselected=9)


@pytest.mark.parametrize(
    "args",
    [pytest.param((), id="one-process"), pytest.param(("-p", "xdist", "-n", "2"), id="xdist")],
)
def test_terminal_summary_ends_with_the_verdict_table(
    suite: pytest.Pytester, args: tuple[str, ...]
) -> None:
    result = suite.runpytest_subprocess(*args)
    result.stdout.fnmatch_lines(
        [
            "*= iam-compliance =*",
            f"arn:aws:iam::618574523116:role/MLPlatformECSTaskRole on {TABLE_ARN}",
            "  dynamodb:GetItem * allowed * MLPlatformECSTaskPolicy v1, statement #2",
            "  dynamodb:PutItem * allowed *",
            "  dynamodb:UpdateItem * allowed *",
            "  dynamodb:Scan * denied * no statement allows it",
            "  dynamodb:Query * denied *",
            "  dynamodb:DescribeTable * denied *",
            "  to add the missing actions to the task policy, run: pytest *--fix-dry-run*",
        ]
    )
