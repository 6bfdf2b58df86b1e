"""Fix planning: only what is missing is added, nothing is ever lost."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.fix.documents import copied, document_size
from iam_compliance.engine.fix.planning import MANAGED_POLICY_SIZE_LIMIT, FixPlan, plan_fix
from iam_compliance.engine.policy import Policy, PolicyVersion, RolePolicies, parse_policy
from iam_compliance.errors import ConcurrentChangeError, RemediationError

from conftest import (
    ACCOUNT,
    DYNAMODB_STATEMENT,
    GRANTED,
    LOGS_STATEMENT,
    MISSING,
    NOW,
    POLICY_NAME,
    REQUIRED,
    S3_STATEMENT,
    TABLE_ARN,
    parsed_task_policy,
    runbook_policy,
    task_policy,
    version_listing,
)


def plan(
    document: Mapping[str, Any],
    *,
    others: Sequence[Policy] = (),
    boundary: Policy | None = None,
    versions: Sequence[PolicyVersion] | None = None,
) -> FixPlan:
    target = parsed_task_policy(document)
    policies = RolePolicies(identity=(target, *others), boundary=boundary)
    return plan_fix(
        policies, target, REQUIRED, TABLE_ARN, version_listing(3) if versions is None else versions
    )


def dumps(value: Any) -> str:
    return json.dumps(value, indent=4)


def test_runbook_policy_gets_exactly_the_missing_actions() -> None:
    original = runbook_policy()
    result = plan(original)

    assert result.added_actions == MISSING
    assert result.target_statement == "statement #2"
    assert result.can_apply
    assert not result.nothing_to_fix
    assert result.refusals == ()
    assert result.blocked == ()
    assert result.version_to_delete is None
    assert result.new_document is not None
    new = result.new_document
    assert list(new) == ["Version", "Statement"]
    assert new["Version"] == "2012-10-17"
    assert len(new["Statement"]) == 3
    assert new["Statement"][1] == {
        "Effect": "Allow",
        "Action": list(REQUIRED),
        "Resource": TABLE_ARN,
    }
    assert list(new["Statement"][1]) == ["Effect", "Action", "Resource"]
    # Compared as JSON text so that key order counts as well as content.
    assert dumps(new["Statement"][0]) == dumps(original["Statement"][0])
    assert dumps(new["Statement"][2]) == dumps(original["Statement"][2])


def test_planning_never_mutates_the_input_document() -> None:
    original = runbook_policy()
    target = parsed_task_policy(original)
    result = plan_fix(
        RolePolicies(identity=(target,)), target, REQUIRED, TABLE_ARN, version_listing(3)
    )

    assert dumps(original) == dumps(runbook_policy())
    assert dumps(result.current_document) == dumps(runbook_policy())
    assert result.new_document is not None
    assert result.new_document["Statement"] is not original["Statement"]


_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.tuples(st.text()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=15,
)


@given(document=_DOCUMENTS)
def test_a_copied_document_equals_it_and_shares_nothing_that_can_change(document: Any) -> None:
    copy_ = copied(document)

    assert copy_ == document == copy.deepcopy(document)
    containers = {id(c) for c in _containers(document)}
    assert not containers & {id(c) for c in _containers(copy_)}


def _containers(value: Any) -> list[Any]:
    """Every dict and list of a (JSON-like) value, itself included: what can change."""
    if isinstance(value, dict):
        return [value, *(c for v in value.values() for c in _containers(v))]
    if isinstance(value, (list, tuple)):
        inner = [c for v in value for c in _containers(v)]
        return [value, *inner] if isinstance(value, list) else inner
    return []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN},
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", *REQUIRED[1:]],
                "Resource": TABLE_ARN,
            },
            id="string-action-becomes-list",
        ),
        pytest.param(
            {"Sid": "Jobs", "Effect": "Allow", "Action": list(GRANTED), "Resource": [TABLE_ARN]},
            {"Sid": "Jobs", "Effect": "Allow", "Action": list(REQUIRED), "Resource": [TABLE_ARN]},
            id="one-element-resource-list",
        ),
    ],
)
def test_appends_to_an_unconditional_allow_on_exactly_the_table(
    statement: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = plan(task_policy(S3_STATEMENT, statement))

    assert result.new_document is not None
    assert dumps(result.new_document["Statement"][1]) == dumps(expected)
    assert len(result.new_document["Statement"]) == 2


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            {
                "Effect": "Allow",
                "Action": list(GRANTED),
                "Resource": TABLE_ARN,
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            },
            id="conditional",
        ),
        pytest.param(
            {
                "Effect": "Allow",
                "Action": list(GRANTED),
                "Resource": [TABLE_ARN, f"{TABLE_ARN}/index/*"],
            },
            id="extra-resource",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": list(GRANTED), "Resource": "*"},
            id="wildcard-resource",
        ),
    ],
)
def test_does_not_append_to_a_statement_that_would_change_meaning(
    statement: dict[str, Any],
) -> None:
    original = task_policy(S3_STATEMENT, statement)
    result = plan(original)

    assert result.new_document is not None
    new_statements = result.new_document["Statement"]
    assert dumps(new_statements[:2]) == dumps(original["Statement"])
    assert new_statements[2]["Sid"] == "IamComplianceMlJobsTable"
    assert result.target_statement == 'statement "IamComplianceMlJobsTable"'


def test_no_matching_statement_adds_one_statement_at_the_end() -> None:
    original = task_policy(S3_STATEMENT, LOGS_STATEMENT)
    result = plan(original)

    assert result.added_actions == REQUIRED
    assert result.new_document is not None
    assert dumps(result.new_document["Statement"][:2]) == dumps(original["Statement"])
    assert dumps(result.new_document["Statement"][2]) == dumps(
        {
            "Sid": "IamComplianceMlJobsTable",
            "Effect": "Allow",
            "Action": list(REQUIRED),
            "Resource": TABLE_ARN,
        }
    )


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        pytest.param(["IamComplianceMlJobsTable"], "IamComplianceMlJobsTable2", id="taken-once"),
        pytest.param(
            ["IamComplianceMlJobsTable", "iamcompliancemljobstable2"],
            "IamComplianceMlJobsTable3",
            id="taken-twice-any-case",
        ),
    ],
)
def test_new_statement_sid_is_unique(taken: list[str], expected: str) -> None:
    logs = [dict(LOGS_STATEMENT, Sid=sid) for sid in taken]
    result = plan(task_policy(S3_STATEMENT, *logs))

    assert result.new_document is not None
    assert result.new_document["Statement"][-1]["Sid"] == expected
    assert result.target_statement == f'statement "{expected}"'


def test_single_object_statement_becomes_a_list_when_a_statement_is_added() -> None:
    original = {"Version": "2012-10-17", "Statement": copy.deepcopy(S3_STATEMENT)}
    result = plan(original)

    assert result.new_document is not None
    new_statements = result.new_document["Statement"]
    assert isinstance(new_statements, list)
    assert dumps(new_statements[0]) == dumps(S3_STATEMENT)
    assert new_statements[1]["Sid"] == "IamComplianceMlJobsTable"
    assert original["Statement"] == S3_STATEMENT  # the input stays a single object


def test_single_object_statement_that_matches_is_extended_in_place() -> None:
    result = plan({"Version": "2012-10-17", "Statement": copy.deepcopy(DYNAMODB_STATEMENT)})

    assert result.new_document is not None
    assert result.new_document["Statement"] == dict(DYNAMODB_STATEMENT, Action=list(REQUIRED))
    assert result.target_statement == "statement #1"


def test_compliant_policy_has_nothing_to_fix() -> None:
    result = plan(task_policy(S3_STATEMENT, dict(DYNAMODB_STATEMENT, Action=list(REQUIRED))))

    assert result.nothing_to_fix
    assert not result.can_apply
    assert result.new_document is None
    assert result.added_actions == ()
    assert result.diff == ""
    assert result.size == 0
    assert result.version_to_delete is None


def no_scans() -> Policy:
    """An inline policy that denies dynamodb:Scan on the table."""
    return parse_policy(
        task_policy(
            {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}
        ),
        name="GuardRails",
        kind="inline",
    )


def test_explicit_deny_blocks_and_refuses_the_whole_plan() -> None:
    deny = no_scans()
    result = plan(runbook_policy(), others=[deny])

    assert [item.action for item in result.blocked] == ["dynamodb:Scan"]
    assert 'inline policy GuardRails, statement "NoScans"' in result.blocked[0].reason
    assert not result.can_apply
    assert not result.nothing_to_fix
    assert len(result.refusals) == 1
    assert "dynamodb:Scan" in result.refusals[0]
    assert "NoScans" in result.refusals[0]
    # The document still shows what could be granted, but nothing is added for Scan.
    assert result.added_actions == ("dynamodb:Query", "dynamodb:DescribeTable")
    assert result.new_document is not None
    assert "dynamodb:Scan" not in result.new_document["Statement"][1]["Action"]


@pytest.mark.parametrize(
    ("condition", "context", "blocked"),
    [
        pytest.param(
            {"DateGreaterThan": {"aws:CurrentTime": "not-a-date"}},
            None,
            ["dynamodb:Query"],
            id="undecidable-condition",
        ),
        pytest.param(
            {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            {"aws:RequestedRegion": ["eu-west-1"]},
            ["dynamodb:Query"],
            id="condition-holds-in-context",
        ),
        pytest.param(
            {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            {"aws:RequestedRegion": ["us-east-1"]},
            [],
            id="condition-fails-in-context",
        ),
    ],
)
def test_conditional_deny_blocks_when_it_applies_or_cannot_be_decided(
    condition: dict[str, Any], context: dict[str, list[str]] | None, blocked: list[str]
) -> None:
    deny = parse_policy(
        task_policy(
            {
                "Sid": "MaybeNoQuery",
                "Effect": "Deny",
                "Action": "dynamodb:Query",
                "Resource": TABLE_ARN,
                "Condition": condition,
            }
        ),
        name="GuardRails",
        kind="inline",
    )
    target = parsed_task_policy(runbook_policy())
    policies = RolePolicies(identity=(target, deny))

    result = plan_fix(policies, target, REQUIRED, TABLE_ARN, version_listing(3), context)

    assert [item.action for item in result.blocked] == blocked
    assert result.can_apply == (not blocked)
    for item, refusal in zip(result.blocked, result.refusals, strict=True):
        assert 'statement "MaybeNoQuery"' in item.reason
        assert item.reason in refusal


def test_the_candidate_is_decided_and_only_what_it_does_not_allow_is_worded() -> None:
    deny = no_scans()
    target = parsed_task_policy(runbook_policy())
    policies = RolePolicies(identity=(target, deny))
    worded: list[tuple[RolePolicies, str]] = []
    decided: list[tuple[RolePolicies, str]] = []

    def judge(role: RolePolicies, action: str, resource: str) -> Any:
        worded.append((role, action))
        return evaluate(role, action, resource, {})

    def decisions(role: RolePolicies, action: str, resource: str) -> Any:
        decided.append((role, action))
        return evaluate(role, action, resource, {})

    result = plan_fix(
        policies, target, REQUIRED, TABLE_ARN, version_listing(3), judge=judge, decisions=decisions
    )

    assert [item.action for item in result.blocked] == ["dynamodb:Scan"]
    assert "NoScans" in result.blocked[0].reason
    assert sorted(action for _, action in decided) == sorted(REQUIRED)
    candidate = {id(role) for role, _ in decided}
    assert len(candidate) == 1
    assert [a for role, a in worded if id(role) in candidate] == ["dynamodb:Scan"]


def test_permissions_boundary_blocks_and_refuses_the_whole_plan() -> None:
    boundary = parse_policy(
        task_policy(
            {
                "Effect": "Allow",
                "Action": [*GRANTED, "dynamodb:Scan", "dynamodb:Query"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"},
        ),
        name="PlatformBoundary",
        kind="boundary",
        version="v1",
        arn=f"arn:aws:iam::{ACCOUNT}:policy/PlatformBoundary",
    )
    result = plan(runbook_policy(), boundary=boundary)

    assert [item.action for item in result.blocked] == ["dynamodb:DescribeTable"]
    assert "boundary" in result.blocked[0].reason.lower()
    assert not result.can_apply
    assert "dynamodb:DescribeTable" in result.refusals[0]
    assert "boundary" in result.refusals[0].lower()


def test_every_missing_action_blocked_leaves_no_document() -> None:
    deny = parse_policy(
        task_policy(
            {"Sid": "ReadWriteOnly", "Effect": "Deny", "Action": list(MISSING), "Resource": "*"}
        ),
        name="GuardRails",
        kind="inline",
    )
    result = plan(runbook_policy(), others=[deny])

    assert result.new_document is None
    assert result.added_actions == ()
    assert [item.action for item in result.blocked] == list(MISSING)
    assert len(result.refusals) == 3
    assert not result.nothing_to_fix
    assert not result.can_apply


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param(version_listing(4, default="v3"), None, id="four-versions-room-left"),
        pytest.param(version_listing(5, default="v3"), "v1", id="five-oldest-not-default"),
        pytest.param(version_listing(5, default="v3")[::-1], "v1", id="listing-order-ignored"),
        pytest.param(
            [
                PolicyVersion("v3", True, NOW - timedelta(days=9)),
                PolicyVersion("v4", False, NOW - timedelta(days=2)),
                PolicyVersion("v5", False, NOW - timedelta(days=5)),
                PolicyVersion("v6", False, NOW - timedelta(days=1)),
                PolicyVersion("v7", False, NOW),
            ],
            "v5",
            id="oldest-is-default-and-ids-out-of-date-order",
        ),
    ],
)
def test_version_to_delete_is_the_oldest_non_default(
    versions: list[PolicyVersion], expected: str | None
) -> None:
    result = plan(runbook_policy(), versions=versions)

    assert result.version_to_delete == expected
    assert result.can_apply


def test_listing_with_another_default_is_a_concurrent_change() -> None:
    with pytest.raises(ConcurrentChangeError, match=r"v4.*v3"):
        plan(runbook_policy(), versions=version_listing(4))


def padded_document(padding: str) -> dict[str, Any]:
    """The runbook policy with ``padding`` as a condition value, to control its size."""
    document = runbook_policy()
    document["Statement"][0]["Condition"] = {"StringLike": {"s3:prefix": padding}}
    return document


def test_size_at_the_limit_is_allowed_and_one_over_is_refused() -> None:
    unpadded = plan(padded_document("")).size
    room = MANAGED_POLICY_SIZE_LIMIT - unpadded
    # Spaces inside a string are part of the value, so they count.
    padding = ("x " * room)[:room]

    fits, too_big = plan(padded_document(padding)), plan(padded_document(padding + "y"))

    assert fits.size == MANAGED_POLICY_SIZE_LIMIT
    assert fits.can_apply
    assert too_big.size == MANAGED_POLICY_SIZE_LIMIT + 1
    assert not too_big.can_apply
    assert too_big.refusals == (
        "the proposed document is 6,145 characters (white space not counted); "
        "IAM's limit for a managed policy is 6,144",
    )


def test_size_does_not_count_formatting_white_space() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Sid": "A b"}]}

    assert document_size(document) == len('{"Version":"2012-10-17","Statement":[{"Sid":"A b"}]}')


def test_diff_shows_only_the_added_actions() -> None:
    result = plan(runbook_policy())
    lines = result.diff.splitlines()

    assert lines[0] == f"--- {POLICY_NAME} v3 (current default)"
    assert lines[1] == f"+++ {POLICY_NAME} (proposed new version)"
    removed = [line for line in lines[2:] if line.startswith("-")]
    added = [line for line in lines[2:] if line.startswith("+")]
    assert removed == ['-                "dynamodb:UpdateItem"']
    assert added == [
        '+                "dynamodb:UpdateItem",',
        '+                "dynamodb:Scan",',
        '+                "dynamodb:Query",',
        '+                "dynamodb:DescribeTable"',
    ]


def test_only_a_managed_policy_attached_to_the_role_can_be_fixed() -> None:
    inline = parse_policy(runbook_policy(), name="Inline", kind="inline")
    detached = parsed_task_policy(runbook_policy())

    with pytest.raises(RemediationError, match="customer-managed"):
        plan_fix(RolePolicies(identity=(inline,)), inline, REQUIRED, TABLE_ARN, version_listing(3))
    with pytest.raises(RemediationError, match="not among the role's identity policies"):
        plan_fix(RolePolicies(identity=()), detached, REQUIRED, TABLE_ARN, version_listing(3))
