"""Terraform configuration read as Terraform would build its policy, and patched by the
place of the statement the plan chose."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.errors import ConfigurationError
from iam_compliance.sources.hcl import patched, policy_in, reread
from iam_compliance.sources.hcl_documents import Unreadable, canonical, policy_document
from iam_compliance.sources.plan import plan_values

from conftest import (
    ARCHIVE_FIRST,
    MISSING,
    TABLE_ARN,
    TERRAFORM_STYLES,
    TERRAFORM_TABLE,
    runbook_plan,
)

VALUES = plan_values(runbook_plan())


def block(style: str, text: str | None = None) -> Any:
    text = TERRAFORM_TABLE + TERRAFORM_STYLES[style] if text is None else text
    found = policy_in(Path("main.tf"), text, "aws_iam_policy.task")
    assert found is not None
    return found


def with_jobs_grown() -> dict[str, Any]:
    document = copy.deepcopy(ARCHIVE_FIRST)
    document["Statement"][1]["Action"].extend(MISSING)
    return document


@pytest.mark.parametrize("style", list(TERRAFORM_STYLES))
def test_each_style_reads_as_the_plan_document(style: str) -> None:
    assert canonical(policy_document(block(style), VALUES)) == canonical(ARCHIVE_FIRST)


@pytest.mark.parametrize("style", list(TERRAFORM_STYLES))
def test_each_style_is_patched_at_the_statement_the_plan_chose(style: str) -> None:
    found = block(style)
    new = patched(found, ARCHIVE_FIRST, with_jobs_grown())
    assert canonical(policy_document(reread(found, new), VALUES)) == canonical(with_jobs_grown())


def test_statements_that_are_not_the_plan_are_refused() -> None:
    swapped = copy.deepcopy(ARCHIVE_FIRST)
    swapped["Statement"].reverse()
    with pytest.raises(ConfigurationError, match=r"its statements \(2: \['Archive', 'Jobs'\]\)"):
        patched(block("jsonencode"), swapped, with_jobs_grown())


@pytest.mark.parametrize(
    ("reference", "value"),
    [
        pytest.param("aws_dynamodb_table.jobs.arn", TABLE_ARN, id="resource-attribute"),
        pytest.param("aws_dynamodb_table.jobs.tags.team", "ml-platform", id="nested"),
        pytest.param("aws_dynamodb_table.jobs.attribute[0].name", "job_id", id="index"),
    ],
)
def test_plan_values_of_references(reference: str, value: Any) -> None:
    assert VALUES(reference) == value


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("local.arn", id="local"),
        pytest.param("aws_dynamodb_table.other.arn", id="not-in-the-plan"),
        pytest.param("var.missing", id="no-such-variable"),
        pytest.param("aws_iam_policy.new.arn", id="known-only-after-apply"),
    ],
)
def test_what_the_plan_does_not_hold_is_no_value(reference: str) -> None:
    plan = runbook_plan()
    plan["resource_changes"].append(
        {
            "address": "aws_iam_policy.new",
            "type": "aws_iam_policy",
            "change": {"actions": ["create"], "after": {}, "after_unknown": {"arn": True}},
        }
    )
    with pytest.raises(KeyError):
        plan_values(plan)(reference)


def test_a_variable_takes_the_plan_value() -> None:
    plan = runbook_plan()
    plan["variables"] = {"table_arn": {"value": TABLE_ARN}}
    assert plan_values(plan)("var.table_arn") == TABLE_ARN


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        pytest.param(
            "Resource = aws_dynamodb_table.jobs.arn",
            "Resource = local.jobs_arn",
            "local.jobs_arn has no value in the plan",
            id="local-value",
        ),
        pytest.param(
            "Resource = aws_dynamodb_table.jobs.arn",
            'Resource = format("%s", aws_dynamodb_table.jobs.arn)',
            "is not evaluated without Terraform",
            id="function-call",
        ),
    ],
)
def test_what_is_not_evaluated_here_is_unreadable(old: str, new: str, why: str) -> None:
    text = TERRAFORM_TABLE + TERRAFORM_STYLES["jsonencode"].replace(old, new)
    with pytest.raises(Unreadable, match=why):
        policy_document(block("jsonencode", text), VALUES)


def test_a_heredoc_interpolation_and_escape() -> None:
    text = TERRAFORM_TABLE + TERRAFORM_STYLES["heredoc"].replace(
        '"Sid": "Jobs"',
        '"Sid": "Jobs", "Condition": {"StringLike": {"s3:prefix": "$${aws:username}"}}',
    )
    document = policy_document(block("heredoc", text), VALUES)
    jobs = document["Statement"][1]
    assert jobs["Resource"] == TABLE_ARN
    assert jobs["Condition"] == {"StringLike": {"s3:prefix": "${aws:username}"}}


def test_canonical_ignores_only_spelling() -> None:
    one = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "a:B", "Resource": "*", "Sid": ""},
    }
    two = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["a:B"], "Resource": ["*"]}],
    }
    assert canonical(one) == canonical(two)
    assert canonical(one) != canonical(
        {**two, "Statement": [{"Effect": "Deny", "Action": "a:B", "Resource": "*"}]}
    )
