"""What a plan or template really leaves the role with, end to end: no false passes.

A resource CloudFormation will not create (its Condition is false), a policy Terraform
attaches or removes through another resource type, and the role's path (part of its ARN,
so of ``aws:PrincipalArn``): each changes the verdicts, as it would in AWS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import (
    MISSING,
    REQUIRED,
    TEMPLATE_YAML,
    action_id,
    compliant_policy,
    failed_ids,
    plan_resource,
    planned,
    runbook_plan,
    write_policy,
)

#: The runbook template, with the Jobs statement granting every required action.
COMPLIANT_YAML = (
    "            Action:\n"
    "              - dynamodb:GetItem\n"
    "              - dynamodb:PutItem\n"
    "              - dynamodb:UpdateItem\n"
    + "".join(f"              - {action}\n" for action in MISSING)
)
#: Only roles named MLPlatform* (right after ``role/``) may use the table.
ONLY_PLATFORM_ROLES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyPlatformRoles",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/MLPlatform*"}},
        }
    ],
}


def compliant_template(suite: pytest.Pytester) -> str:
    text = (suite.path / TEMPLATE_YAML).read_text()
    granted = text.replace(
        "            Action:\n"
        "              - dynamodb:GetItem\n"
        "              - dynamodb:PutItem\n"
        "              - dynamodb:UpdateItem\n",
        COMPLIANT_YAML,
    )
    assert granted != text
    return granted


def compliant_plan() -> dict[str, Any]:
    plan = runbook_plan()
    planned(plan, "aws_iam_policy.task")["policy"] = json.dumps(compliant_policy())
    return plan


def test_the_compliant_sources_pass(suite: pytest.Pytester) -> None:
    """The baseline the tests below change one thing of."""
    (suite.path / "t.yaml").write_text(compliant_template(suite))
    suite.runpytest("--iam-policy-file", "t.yaml").assert_outcomes(passed=10)
    write_policy(suite, compliant_plan(), "plan.json")
    suite.runpytest("--iam-policy-file", "plan.json").assert_outcomes(passed=10)


# ----------------------------------------------------------------- the role's path


def test_a_template_role_path_is_in_the_principal_arn(suite: pytest.Pytester) -> None:
    text = compliant_template(suite).replace(
        "      RoleName: MLPlatformECSTaskRole\n",
        "      RoleName: MLPlatformECSTaskRole\n      Path: /ml-platform/\n",
    )
    policy = json.dumps(ONLY_PLATFORM_ROLES)
    text = text.replace(
        "      BillingMode: PAY_PER_REQUEST\n",
        "      BillingMode: PAY_PER_REQUEST\n"
        f"      ResourcePolicy:\n        PolicyDocument: {policy}\n",
    )
    (suite.path / "t.yaml").write_text(text)
    result = suite.runpytest("--iam-policy-file", "t.yaml", "-rf")
    # role/ml-platform/MLPlatformECSTaskRole is not role/MLPlatform*: the table denies it.
    assert {action_id(a) for a in REQUIRED} <= failed_ids(result)
    result.stdout.fnmatch_lines(
        ['*dynamodb:Scan*denied by table resource policy, statement "OnlyPlatformRoles"*']
    )


def test_a_plan_role_path_is_in_the_principal_arn(suite: pytest.Pytester) -> None:
    plan = compliant_plan()
    role = planned(plan, "aws_iam_role.task")
    role["path"] = "/ml-platform/"
    role["arn"] = "arn:aws:iam::618574523116:role/ml-platform/MLPlatformECSTaskRole"
    plan_resource(
        plan,
        "aws_dynamodb_resource_policy.jobs",
        {
            "resource_arn": planned(plan, "aws_dynamodb_table.jobs")["arn"],
            "policy": json.dumps(ONLY_PLATFORM_ROLES),
        },
        {"resource_arn": ["aws_dynamodb_table.jobs.arn", "aws_dynamodb_table.jobs"]},
    )
    write_policy(suite, plan, "plan.json")
    result = suite.runpytest("--iam-policy-file", "plan.json", "-rf")
    assert {action_id(a) for a in REQUIRED} <= failed_ids(result)


def test_a_role_path_iam_would_refuse_is_bad_input(suite: pytest.Pytester) -> None:
    plan = compliant_plan()
    planned(plan, "aws_iam_role.task")["path"] = "ml-platform"
    write_policy(suite, plan, "plan.json")
    result = suite.runpytest("--iam-policy-file", "plan.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --iam-policy-file plan.json: aws_iam_role.task: path: a role's path must "
            "begin and end with /, got 'ml-platform'"
        ]
    )


# ------------------------------------------------------- CloudFormation conditions

#: The runbook template with a policy that grants the missing actions, created only when
#: Env is dev (its Default is prod); ``{parameter}`` is Env's declaration.
CONDITIONAL = """\
Conditions:
  IsDev: !Equals [!Ref Env, dev]

{parameter}
  DevScans:
    Type: AWS::IAM::Policy
    Condition: IsDev
    Properties:
      PolicyName: DevScans
      Roles: [!Ref TaskRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: [dynamodb:Scan, dynamodb:Query, dynamodb:DescribeTable]
            Resource: !GetAtt JobsTable.Arn
"""


def conditional_template(suite: pytest.Pytester, env: str) -> str:
    text = (suite.path / TEMPLATE_YAML).read_text()
    head, resources = text.split("Resources:\n", 1)
    parameters, tail = CONDITIONAL.split("\n\n", 1)
    head = head.replace("Parameters:\n", f"Parameters:\n  Env:\n{env}")
    return f"{head}{parameters}\n\nResources:\n{resources}\n" + tail.format(parameter="")


def test_a_resource_cloudformation_will_not_create_grants_nothing(
    suite: pytest.Pytester,
) -> None:
    text = conditional_template(suite, "    Type: String\n    Default: prod\n")
    (suite.path / "t.yaml").write_text(text)
    result = suite.runpytest("--iam-policy-file", "t.yaml")
    assert {action_id(a) for a in MISSING} <= failed_ids(result)
    result.assert_outcomes(passed=6, failed=4)


def test_a_condition_the_template_cannot_decide_is_never_a_pass(suite: pytest.Pytester) -> None:
    text = conditional_template(suite, "    Type: String\n")  # no Default
    (suite.path / "t.yaml").write_text(text)
    result = suite.runpytest("--iam-policy-file", "t.yaml", "-rf")
    assert {action_id(a) for a in REQUIRED} <= failed_ids(result)
    result.stdout.fnmatch_lines(
        [
            "*dynamodb:Scan could not be decided: Condition of Resources.DevScans in t.yaml "
            "cannot be decided, so neither can whether it is created: condition IsDev cannot "
            "be decided (*parameter Env has no Default*"
        ]
    )


# ------------------------------------------------------------ Terraform attachments


def test_a_policy_attachment_of_a_deny_is_read(suite: pytest.Pytester) -> None:
    plan = compliant_plan()
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}
        ],
    }
    plan_resource(
        plan,
        "aws_iam_policy.no_scans",
        {"name": "NoScans", "policy": json.dumps(deny)},
        after_unknown={"arn": True},
    )
    plan_resource(
        plan,
        "aws_iam_policy_attachment.no_scans",
        {"name": "no-scans", "roles": ["MLPlatformECSTaskRole"]},
        {"policy_arn": ["aws_iam_policy.no_scans.arn", "aws_iam_policy.no_scans"]},
        after_unknown={"policy_arn": True},
    )
    write_policy(suite, plan, "plan.json")
    result = suite.runpytest("--iam-policy-file", "plan.json", "-rf")
    assert action_id("dynamodb:Scan") in failed_ids(result)
    result.stdout.fnmatch_lines(['*dynamodb:Scan*denied by NoScans v1, statement "NoScans"*'])


def test_an_exclusive_list_that_drops_the_task_policy_is_never_a_pass(
    suite: pytest.Pytester,
) -> None:
    plan = compliant_plan()
    plan_resource(
        plan,
        "aws_iam_role_policy_attachments_exclusive.task",
        {"role_name": "MLPlatformECSTaskRole", "policy_arns": []},
    )
    write_policy(suite, plan, "plan.json")
    result = suite.runpytest("--iam-policy-file", "plan.json", "-rf")
    assert {action_id(a) for a in REQUIRED} <= failed_ids(result)
    result.stdout.fnmatch_lines(
        [
            "*dynamodb:GetItem could not be decided: policy_arns (aws_iam_policy.task) of "
            "aws_iam_role_policy_attachments_exclusive.task in plan.json does not list "
            "aws_iam_policy.task, which aws_iam_role_policy_attachment.task gives the role*"
        ]
    )


def test_the_header_names_the_role_arn_with_its_path(suite: pytest.Pytester) -> None:
    plan = compliant_plan()
    planned(plan, "aws_iam_role.task")["path"] = "/ml-platform/"
    write_policy(suite, plan, "plan.json")
    result = suite.runpytest("--iam-policy-file", "plan.json")
    result.stdout.fnmatch_lines(
        [
            "*role path /ml-platform/: the role's ARN is "
            "arn:aws:iam::618574523116:role/ml-platform/MLPlatformECSTaskRole",
            "*mock account 618574523116: arn:aws:iam::618574523116:role/ml-platform/"
            "MLPlatformECSTaskRole with MLPlatformECSTaskPolicy*",
        ]
    )
