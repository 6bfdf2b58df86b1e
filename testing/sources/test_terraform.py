"""What a plan leaves attached to the role: every resource type that attaches, detaches or
replaces its policies is read, and what cannot be told is open, never dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.sources.model import Source
from iam_compliance.sources.reading import read_text

from conftest import POLICY_ARN, POLICY_NAME, ROLE, TARGET, plan_resource, planned, runbook_plan

DENY_SCANS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}],
}
ROLE_REF = {"role": ["aws_iam_role.task.name", "aws_iam_role.task"]}
READ_ONLY = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"


def read(plan: dict[str, Any]) -> Source:
    return read_text(json.dumps(plan), Path("plan.json"), TARGET)


def names(source: Source) -> list[str]:
    return [policy.name for policy in source.policies]


def opened(source: Source) -> list[tuple[str, str]]:
    return [(unknown.address, unknown.attribute) for unknown in source.unknowns]


def deny_scans(plan: dict[str, Any]) -> None:
    """A new managed policy that denies Scan (its ARN is known only after apply)."""
    plan_resource(
        plan,
        "aws_iam_policy.deny_scans",
        {"name": "DenyScans", "policy": json.dumps(DENY_SCANS)},
        after_unknown={"arn": True, "id": True},
    )


def test_the_runbook_plan_reads_its_one_policy() -> None:
    source = read(runbook_plan())
    assert names(source) == [POLICY_NAME]
    assert source.unknowns == ()


def test_a_policy_attachment_naming_the_role_attaches_its_policy() -> None:
    plan = runbook_plan()
    deny_scans(plan)
    plan_resource(
        plan,
        "aws_iam_policy_attachment.deny_scans",
        {"name": "deny-scans", "roles": [ROLE]},
        {"policy_arn": ["aws_iam_policy.deny_scans.arn", "aws_iam_policy.deny_scans"]},
        after_unknown={"policy_arn": True},
    )
    source = read(plan)
    assert names(source) == [POLICY_NAME, "DenyScans"]
    assert source.unknowns == ()


def test_a_policy_attachment_that_leaves_the_role_out_detaches_its_policy() -> None:
    plan = runbook_plan()
    plan_resource(
        plan,
        "aws_iam_policy_attachment.others",
        {"name": "others", "roles": ["Other"], "policy_arn": POLICY_ARN},
    )
    assert opened(read(plan)) == [
        ("aws_iam_policy_attachment.others", "roles (aws_iam_policy.task)")
    ]


@pytest.mark.parametrize(
    ("listed", "attached_by_resource", "expected", "open_"),
    [
        pytest.param([POLICY_ARN], True, [POLICY_NAME], [], id="lists-the-attached-policy"),
        pytest.param(
            [],
            True,
            [POLICY_NAME],
            [
                (
                    "aws_iam_role_policy_attachments_exclusive.task",
                    "policy_arns (aws_iam_policy.task)",
                )
            ],
            id="leaves-out-what-an-attachment-attaches",
        ),
        pytest.param([], False, [], [], id="detaches-what-the-account-has"),
        pytest.param(
            [POLICY_ARN, READ_ONLY],
            False,
            [POLICY_NAME],
            [("aws_iam_role_policy_attachments_exclusive.task", f"managed policy {READ_ONLY}")],
            id="attaches-a-policy-the-plan-does-not-define",
        ),
    ],
)
def test_exclusive_managed_policies_are_exactly_those_listed(
    listed: list[str],
    attached_by_resource: bool,
    expected: list[str],
    open_: list[tuple[str, str]],
) -> None:
    plan = runbook_plan()
    if not attached_by_resource:  # only the account's state (the role's computed list)
        plan["resource_changes"] = [
            c for c in plan["resource_changes"] if c["type"] != "aws_iam_role_policy_attachment"
        ]
    plan_resource(
        plan,
        "aws_iam_role_policy_attachments_exclusive.task",
        {"role_name": ROLE, "policy_arns": listed},
        {"role_name": ROLE_REF["role"]},
    )
    source = read(plan)
    assert names(source) == expected
    assert opened(source) == open_


def inline(plan: dict[str, Any], name: str) -> None:
    plan_resource(
        plan,
        f"aws_iam_role_policy.{name}",
        {"name": name, "role": ROLE, "policy": json.dumps(DENY_SCANS)},
    )


@pytest.mark.parametrize(
    ("listed", "expected", "open_"),
    [
        pytest.param(["scans"], ["scans"], [], id="lists-it"),
        pytest.param(
            [],
            ["scans"],
            [("aws_iam_role_policies_exclusive.task", "policy_names (scans)")],
            id="leaves-out-a-role-policy",
        ),
        pytest.param(
            ["scans", "legacy"],
            ["scans"],
            [("aws_iam_role_policies_exclusive.task", "inline policy legacy")],
            id="keeps-one-the-plan-does-not-define",
        ),
    ],
)
def test_exclusive_inline_policies_are_exactly_those_listed(
    listed: list[str], expected: list[str], open_: list[tuple[str, str]]
) -> None:
    plan = runbook_plan()
    inline(plan, "scans")
    plan_resource(
        plan,
        "aws_iam_role_policies_exclusive.task",
        {"role_name": ROLE, "policy_names": listed},
    )
    source = read(plan)
    assert [n for n in names(source) if n != POLICY_NAME] == expected
    assert opened(source) == open_


def test_exclusive_inline_policies_delete_what_the_account_has() -> None:
    plan = runbook_plan()
    planned(plan, "aws_iam_role.task")["inline_policy"] = [
        {"name": "legacy", "policy": json.dumps(DENY_SCANS)}
    ]
    assert "legacy" in names(read(plan))
    plan_resource(
        plan, "aws_iam_role_policies_exclusive.task", {"role_name": ROLE, "policy_names": []}
    )
    source = read(plan)
    assert names(source) == [POLICY_NAME]
    assert source.unknowns == ()


def test_an_aws_managed_policy_is_open_not_ignored() -> None:
    plan = runbook_plan()
    plan_resource(
        plan,
        "aws_iam_role_policy_attachment.read_only",
        {"role": ROLE, "policy_arn": READ_ONLY},
    )
    source = read(plan)
    assert opened(source) == [
        ("aws_iam_role_policy_attachment.read_only", f"managed policy {READ_ONLY}")
    ]
    assert "is not in the plan, so its document is not known" in source.unknowns[0].why


def test_an_attachment_the_plan_deletes_no_longer_counts() -> None:
    """The role's computed list still names the policy (the account today); the plan
    deletes the attachment, so after apply the role does not have it."""
    plan = runbook_plan()
    for change in plan["resource_changes"]:
        if change["type"] == "aws_iam_role_policy_attachment":
            change["change"]["actions"] = ["delete"]
            change["change"]["after"] = None
    assert names(read(plan)) == []


def test_an_attachment_to_a_role_known_only_after_apply_is_open() -> None:
    plan = runbook_plan()
    deny_scans(plan)
    plan_resource(
        plan,
        "aws_iam_role_policy_attachment.maybe",
        {},
        {"policy_arn": ["aws_iam_policy.deny_scans.arn"]},
        after_unknown={"role": True, "policy_arn": True},
    )
    assert ("aws_iam_role_policy_attachment.maybe", "role") in opened(read(plan))


def test_a_policy_resource_type_that_is_not_read_is_open() -> None:
    plan = runbook_plan()
    plan_resource(plan, "aws_iam_role_policy_grant.future", {"role_name": ROLE}, after_unknown={})
    assert opened(read(plan)) == [("aws_iam_role_policy_grant.future", "aws_iam_role_policy_grant")]


def test_a_configured_managed_policy_list_is_exclusive() -> None:
    plan = runbook_plan()
    planned(plan, "aws_iam_role.task")["managed_policy_arns"] = []
    plan["configuration"]["root_module"]["resources"].append(
        {"address": "aws_iam_role.task", "expressions": {"managed_policy_arns": {}}}
    )
    assert opened(read(plan)) == [
        ("aws_iam_role.task", "managed_policy_arns (aws_iam_policy.task)")
    ]
