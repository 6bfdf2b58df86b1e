"""Fix planning for requirements on several resources, and fixes that never widen a grant.

Each resource gets its own statement (or an unconditional Allow already on exactly that
resource); no statement's Resource or Condition is changed. A statement that grants a
missing action under a condition the request does not meet, or on a Resource whose policy
variable has no value, makes the whole fix refuse, naming it and how to proceed.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from iam_compliance.engine.evaluate.assessment import Assessment, assess
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.evaluate.snapshot import TableState
from iam_compliance.engine.fix.planning import FixPlan, plan_fix, widening_reason
from iam_compliance.engine.policy import RolePolicies, parse_policy
from iam_compliance.engine.requirements import Need, RequiredAction

from conftest import (
    ACCOUNT,
    DYNAMODB_STATEMENT,
    NOW,
    REGION,
    REQUIREMENTS,
    TABLE_ARN,
    TARGET,
    VPC_ENDPOINT,
    parsed_task_policy,
    role_snapshot,
    runbook_policy,
    task_policy,
    version_listing,
)

QUERY = "dynamodb:Query"
BY_STATUS = f"{TABLE_ARN}/index/by-status"
INDEXES = f"{TABLE_ARN}/index/*"
ON_INDEXES = (
    RequiredAction(QUERY, "Query jobs by status", "index/by-status"),
    RequiredAction(QUERY, "Query any index", "index/*"),
)


def assessed(
    document: dict[str, Any],
    requirements: tuple[RequiredAction, ...] = REQUIREMENTS + ON_INDEXES,
    *,
    table_policy: dict[str, Any] | None = None,
    role_tags: dict[str, str] | None = None,
) -> Assessment:
    """The default role holding ``document`` as its task policy, judged as a run judges it."""
    snapshot = dataclasses.replace(
        role_snapshot(parsed_task_policy(document)),
        role_tags=role_tags or {},
        table=TableState(
            TABLE_ARN,
            resource_policy=None
            if table_policy is None
            else parse_policy(table_policy, name="table resource policy", kind="resource"),
        ),
    )
    return assess(TARGET, snapshot, requirements, now=NOW)


def planned(assessment: Assessment) -> FixPlan:
    policy = assessment.target_policy
    assert policy is not None
    return plan_fix(
        assessment.snapshot.policies,
        policy,
        assessment.needs(),
        TABLE_ARN,
        version_listing(3),
        judge=assessment.judge,
    )


def allowed_after(assessment: Assessment, plan: FixPlan) -> dict[str, bool]:
    """Every requirement's verdict once the plan's document is the default version."""
    assert plan.new_document is not None
    fixed = assessed(plan.new_document, assessment.requirements)
    return {rid: verdict.is_allowed for rid, verdict in fixed.verdicts.items()}


def test_each_resource_gets_one_statement_of_its_own() -> None:
    found = assessed(runbook_policy())
    plan = planned(found)

    assert plan.added_actions == (
        "dynamodb:Scan",
        "dynamodb:Query",
        "dynamodb:DescribeTable",
        "dynamodb:Query@index/by-status",
        "dynamodb:Query@index/*",
    )
    assert plan.can_apply
    assert plan.new_document is not None
    statements = plan.new_document["Statement"]
    # the table's actions join the unconditional Allow on exactly the table
    assert statements[1]["Action"][-3:] == ["dynamodb:Scan", QUERY, "dynamodb:DescribeTable"]
    assert statements[1]["Resource"] == TABLE_ARN
    # each index resource gets one statement, on exactly that resource, without conditions
    assert statements[3:] == [
        {
            "Sid": "IamComplianceMlJobsTableIndexByStatus",
            "Effect": "Allow",
            "Action": [QUERY],
            "Resource": BY_STATUS,
        },
        {
            "Sid": "IamComplianceMlJobsTableIndex",
            "Effect": "Allow",
            "Action": [QUERY],
            "Resource": INDEXES,
        },
    ]
    assert plan.target_statement == (
        'statement #2 and statement "IamComplianceMlJobsTableIndexByStatus" and '
        'statement "IamComplianceMlJobsTableIndex"'
    )
    assert all(allowed_after(found, plan).values())


def test_a_grant_on_the_table_is_never_widened_to_its_indexes() -> None:
    document = runbook_policy()
    original = copy.deepcopy(document["Statement"])
    plan = planned(assessed(document, ON_INDEXES[:1]))

    assert plan.new_document is not None
    # every statement as it was, and one more
    assert plan.new_document["Statement"][:-1] == original
    assert plan.new_document["Statement"][-1]["Resource"] == BY_STATUS
    assert plan.added_actions == ("dynamodb:Query@index/by-status",)


def test_an_unconditional_allow_on_exactly_the_resource_is_extended() -> None:
    on_index = {"Sid": "Indexes", "Effect": "Allow", "Action": "dynamodb:Scan", "Resource": INDEXES}
    plan = planned(assessed(task_policy(DYNAMODB_STATEMENT, on_index), ON_INDEXES[1:]))

    assert plan.new_document is not None
    assert plan.new_document["Statement"][1] == {**on_index, "Action": ["dynamodb:Scan", QUERY]}
    assert len(plan.new_document["Statement"]) == 2
    assert plan.target_statement == 'statement "Indexes"'


def test_needs_on_one_resource_share_one_new_statement() -> None:
    target = parsed_task_policy(task_policy(DYNAMODB_STATEMENT))
    needs = [Need(QUERY, INDEXES, "q"), Need("dynamodb:Scan", INDEXES, "s")]

    plan = plan_fix(RolePolicies((target,)), target, needs, TABLE_ARN, version_listing(3))

    assert plan.new_document is not None
    assert plan.new_document["Statement"][1:] == [
        {
            "Sid": "IamComplianceMlJobsTableIndex",
            "Effect": "Allow",
            "Action": [QUERY, "dynamodb:Scan"],
            "Resource": INDEXES,
        }
    ]
    assert plan.added_actions == ("q", "s")


def test_a_new_statement_s_sid_does_not_collide() -> None:
    taken = {"Sid": "IamComplianceMlJobsTableIndex", "Effect": "Allow", "Action": "s3:*"}
    taken["Resource"] = "*"
    plan = planned(assessed(task_policy(DYNAMODB_STATEMENT, taken), ON_INDEXES[1:]))

    assert plan.new_document is not None
    assert plan.new_document["Statement"][-1]["Sid"] == "IamComplianceMlJobsTableIndex2"


# --- fixes that never widen ---------------------------------------------------------


def guarded(condition: dict[str, Any], *, resource: str = TABLE_ARN) -> dict[str, Any]:
    return {
        "Sid": "Jobs",
        "Effect": "Allow",
        "Action": ["dynamodb:Scan", QUERY, "dynamodb:DescribeTable"],
        "Resource": resource,
        "Condition": condition,
    }


REGION_GUARD = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
VPCE_GUARD = {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}}


@pytest.mark.parametrize(
    ("condition", "met_when"),
    [
        pytest.param(REGION_GUARD, "aws:RequestedRegion is eu-west-1", id="region-guard"),
        pytest.param(VPCE_GUARD, f"aws:SourceVpce is {VPC_ENDPOINT}", id="vpc-endpoint-guard"),
    ],
)
def test_a_guarded_grant_refuses_the_whole_fix(condition: dict[str, Any], met_when: str) -> None:
    found = assessed(task_policy(*runbook_policy()["Statement"], guarded(condition)))
    plan = planned(found)

    assert not plan.can_apply
    guarded_ids = {b.action for b in plan.blocked}
    assert {"dynamodb:Scan", QUERY, "dynamodb:DescribeTable"} <= guarded_ids
    first = plan.refusals[0]
    assert first.startswith(
        "dynamodb:Scan cannot be granted by changing MLPlatformECSTaskPolicy: "
        f'MLPlatformECSTaskPolicy v3, statement "Jobs" grants it only when {met_when}; '
    )
    key = met_when.split(" ")[0]
    assert first.endswith(
        f". --fix will not add a grant without that condition. If the containers' requests do "
        f"meet it, declare {key} in fixtures/request_context.toml (or --iam-context {key}=...) "
        'and run again; otherwise change statement "Jobs" of MLPlatformECSTaskPolicy v3 yourself'
    )


def test_a_guarded_grant_whose_condition_holds_needs_no_fix() -> None:
    condition = {"StringEquals": {"aws:RequestedRegion": REGION}}
    found = assessed(task_policy(*runbook_policy()["Statement"], guarded(condition)), REQUIREMENTS)

    assert found.missing == ()
    assert planned(found).nothing_to_fix


def test_a_guarded_grant_to_another_account_in_the_table_policy_does_not_refuse() -> None:
    partner = {
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "dynamodb:Scan",
        "Resource": TABLE_ARN,
        "Condition": VPCE_GUARD,
    }
    plan = planned(assessed(runbook_policy(), REQUIREMENTS, table_policy=task_policy(partner)))

    assert plan.can_apply
    assert "dynamodb:Scan" in plan.added_actions


def test_an_empty_policy_variable_refuses_the_fix() -> None:
    by_tag = {
        "Sid": "ByProject",
        "Effect": "Allow",
        "Action": "dynamodb:Scan",
        "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/${{aws:PrincipalTag/project}}",
    }
    found = assessed(task_policy(*runbook_policy()["Statement"], by_tag), REQUIREMENTS)
    plan = planned(found)

    assert not plan.can_apply
    (refusal,) = (r for r in plan.refusals if r.startswith("dynamodb:Scan "))
    assert refusal == (
        "dynamodb:Scan cannot be granted by changing MLPlatformECSTaskPolicy: "
        'MLPlatformECSTaskPolicy v3, statement "ByProject" names ${aws:PrincipalTag/project}, '
        "which has no value in this request, so its Resource matches nothing. --fix will not "
        "add a grant that ignores it: give the role the value it expects (for a tag, tag the "
        'role), or change statement "ByProject" of MLPlatformECSTaskPolicy v3 yourself'
    )
    untagged = assessed(task_policy(*runbook_policy()["Statement"], by_tag), REQUIREMENTS[3:4])
    assert not untagged.verdicts["dynamodb:Scan"].is_allowed
    with_tag = assessed(
        task_policy(*runbook_policy()["Statement"], by_tag),
        REQUIREMENTS[3:4],
        role_tags={"project": "ml-jobs"},
    )
    assert with_tag.verdicts["dynamodb:Scan"].is_allowed


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        pytest.param([], None, id="nothing-grants"),
        pytest.param(
            [guarded(REGION_GUARD)],
            'MLPlatformECSTaskPolicy v1, statement "Jobs" grants it only when '
            "aws:RequestedRegion is eu-west-1; this request's aws:RequestedRegion is us-east-1. "
            "--fix will not add a grant without that condition.",
            id="near-miss",
        ),
        pytest.param(
            [guarded({}, resource="arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/project}")],
            'MLPlatformECSTaskPolicy v1, statement "Jobs" names ${aws:PrincipalTag/project}, '
            "which has no value in this request, so its Resource matches nothing. --fix will "
            "not add a grant that ignores it:",
            id="empty-variable",
        ),
    ],
)
def test_widening_reason(statements: list[dict[str, Any]], expected: str | None) -> None:
    for statement in statements:
        if statement.get("Condition") == {}:
            del statement["Condition"]
    document = task_policy(*statements) if statements else task_policy(DYNAMODB_STATEMENT)
    verdict = evaluate(
        RolePolicies((parsed_task_policy(document, "v1"),)),
        "dynamodb:Scan",
        TABLE_ARN,
        {"aws:RequestedRegion": [REGION]},
    )

    reason = widening_reason(verdict)

    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith(expected)


def test_a_boundary_that_allows_only_elsewhere_blocks_the_fix_naming_it() -> None:
    eu_only = {
        "Sid": "EuOnly",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    }
    snapshot = role_snapshot(
        parsed_task_policy(runbook_policy()),
        boundary=parse_policy(task_policy(eu_only), name="B", kind="boundary", version="v1"),
    )
    found = assess(TARGET, snapshot, REQUIREMENTS[3:4], now=NOW)

    plan = planned(found)

    assert not plan.can_apply
    assert plan.refusals == (
        "dynamodb:Scan cannot be granted by changing MLPlatformECSTaskPolicy: dynamodb:Scan is "
        "allowed by the identity policies but not by permissions boundary B v1: statement "
        '"EuOnly" allows it only when aws:RequestedRegion is eu-west-1; this request\'s '
        "aws:RequestedRegion is us-east-1",
    )
