"""The keys of a request signed with the task role's session: known, unknown, absent.

AWS's global condition keys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html),
for an ECS task role's session calling DynamoDB directly: aws:MultiFactorAuthPresent is
there and false, aws:TokenIssueTime is there with a value the account cannot tell,
aws:userid is ``<role id>:<session name>`` with the session name unknown, aws:username
and aws:MultiFactorAuthAge are absent. A key that is there with an unknown value is
never taken as absent.
"""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate import session
from iam_compliance.engine.evaluate.conditions import ConditionState, evaluate_conditions
from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import Verdict, evaluate
from iam_compliance.engine.evaluate.request import (
    ContextEntry,
    RequestContext,
    build_context,
    derive_context,
)
from iam_compliance.engine.policy import Condition, RolePolicies, parse_policy

from conftest import ACCOUNT, NOW, REGION, ROLE_ARN, TABLE_ARN

ROLE_ID = "AROAEXAMPLEROLEID1234"
SCAN = "dynamodb:Scan"
HOLDS, FAILS, UNDECIDED = (
    ConditionState.HOLDS,
    ConditionState.DOES_NOT_HOLD,
    ConditionState.UNDECIDED,
)


def context(role_id: str | None = ROLE_ID, **declared: str) -> RequestContext:
    derived = derive_context(
        role_arn=ROLE_ARN,
        account=ACCOUNT,
        region=REGION,
        now=NOW,
        role_tags={},
        resource_account=ACCOUNT,
        resource_tags={},
        role_id=role_id,
    )
    overrides = {key.replace("_", ":", 1): [value] for key, value in declared.items()}
    return build_context(derived, overrides=overrides)


def judged(*statements: dict[str, Any], request: RequestContext | None = None) -> Verdict:
    """Scan on the table under the modelled request, as a run judges it."""
    request = request or context()
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}, *statements],
    }
    policy = parse_policy(document, name="MLPlatformECSTaskPolicy", version="v1")
    return evaluate(
        RolePolicies((policy,)),
        SCAN,
        TABLE_ARN,
        request.values(),
        assumed_absent=request.assumed_absent(),
        unknown_values=request.unknown(),
    )


def deny_if(operator: str, key: str, *values: str) -> dict[str, Any]:
    return {
        "Sid": "Guard",
        "Effect": "Deny",
        "Action": "dynamodb:*",
        "Resource": "*",
        "Condition": {operator: {key: list(values)}},
    }


# --- the request model --------------------------------------------------------------


def test_mfa_is_present_and_false_for_a_task_role_session() -> None:
    entry = context().entry("aws:MultiFactorAuthPresent")

    assert entry == ContextEntry(
        "aws:MultiFactorAuthPresent", ("false",), "ECS assumes the task role without MFA"
    )


def test_userid_starts_with_the_role_id_and_ends_with_an_unknown_session_name() -> None:
    request = context()
    entry = request.entry("aws:userid")

    assert entry is not None
    assert (entry.values, entry.known_prefix, entry.shown) == (
        (),
        f"{ROLE_ID}:",
        (f"{ROLE_ID}:<unknown>",),
    )
    assert "iam:GetRole" in entry.source
    assert request.unknown()["aws:userid"] == f"{ROLE_ID}:"
    assert "aws:userid" not in request.values()
    assert "aws:userid" not in request.assumed_absent()


def test_userid_without_a_role_id_is_present_and_wholly_unknown() -> None:
    entry = context(role_id=None).entry("aws:userid")

    assert entry is not None
    assert entry.known_prefix == ""
    assert entry.source == session.USERID_WITHOUT_ROLE_ID


def test_token_issue_time_is_present_with_an_unknown_value() -> None:
    request = context()

    assert request.unknown()["aws:tokenissuetime"] == ""
    assert request.describe(["aws:TokenIssueTime"]) == [
        f"aws:TokenIssueTime = <unknown> ({session.UNKNOWN['aws:TokenIssueTime']})"
    ]


@pytest.mark.parametrize("key", sorted(session.ABSENT), ids=str)
def test_a_key_a_role_session_never_carries_is_known_absent(key: str) -> None:
    request = context()
    entry = request.entry(key)

    assert entry is not None
    assert (entry.values, entry.known_prefix) == ((), None)
    assert entry.source == session.ABSENT[key]
    assert key not in request.assumed_absent()
    assert request.describe([key]) == [f"{key}: absent ({entry.source})"]


def test_a_declared_userid_wins_over_the_derived_one() -> None:
    request = context(aws_userid=f"{ROLE_ID}:task-1")

    assert request.values()["aws:userid"] == (f"{ROLE_ID}:task-1",)
    assert "aws:userid" not in request.unknown()


# --- verdicts ----------------------------------------------------------------------


def test_the_classic_deny_without_mfa_denies_a_task_role_session() -> None:
    verdict = judged(deny_if("Bool", "aws:MultiFactorAuthPresent", "false"))

    assert verdict.decision is Decision.EXPLICIT_DENY
    assert verdict.assumed_absent == ()
    assert 'statement "Guard"' in verdict.reason


@pytest.mark.parametrize(
    ("statement", "decision"),
    [
        pytest.param(
            deny_if("BoolIfExists", "aws:MultiFactorAuthPresent", "false"),
            Decision.EXPLICIT_DENY,
            id="bool-if-exists-false",
        ),
        pytest.param(
            deny_if("Null", "aws:MultiFactorAuthPresent", "true"),
            Decision.ALLOWED,
            id="null-true-mfa-is-present",
        ),
        pytest.param(
            deny_if("Bool", "aws:MultiFactorAuthPresent", "true"),
            Decision.ALLOWED,
            id="bool-true",
        ),
        pytest.param(
            deny_if("NumericGreaterThan", "aws:MultiFactorAuthAge", "3600"),
            Decision.ALLOWED,
            id="mfa-age-absent",
        ),
        pytest.param(
            deny_if("NumericGreaterThanIfExists", "aws:MultiFactorAuthAge", "3600"),
            Decision.EXPLICIT_DENY,
            id="mfa-age-if-exists",
        ),
        pytest.param(
            deny_if("DateLessThan", "aws:TokenIssueTime", "2020-01-01T00:00:00Z"),
            Decision.UNDECIDED,
            id="token-issue-time-undecided",
        ),
        pytest.param(
            deny_if("Null", "aws:TokenIssueTime", "true"),
            Decision.ALLOWED,
            id="null-token-issue-time-is-present",
        ),
        pytest.param(
            deny_if("Null", "aws:TokenIssueTime", "false"),
            Decision.EXPLICIT_DENY,
            id="not-null-token-issue-time",
        ),
        pytest.param(
            deny_if("StringLike", "aws:username", "*"),
            Decision.ALLOWED,
            id="no-username-for-a-role",
        ),
        pytest.param(
            deny_if("StringNotLike", "aws:userid", f"{ROLE_ID}:*"),
            Decision.ALLOWED,
            id="userid-of-this-role",
        ),
        pytest.param(
            deny_if("StringNotLike", "aws:userid", "AROAOTHERROLE:*"),
            Decision.EXPLICIT_DENY,
            id="userid-of-another-role",
        ),
        pytest.param(
            deny_if("StringEquals", "aws:userid", f"{ROLE_ID}:task-1"),
            Decision.UNDECIDED,
            id="userid-session-name-undecided",
        ),
        pytest.param(
            deny_if("StringEquals", "aws:UserAgent", "Boto3/1.0"),
            Decision.UNDECIDED,
            id="user-agent-undecided",
        ),
    ],
)
def test_verdicts_on_the_session_keys(statement: dict[str, Any], decision: Decision) -> None:
    verdict = judged(statement)

    assert verdict.decision is decision
    assert verdict.assumed_absent == ()


def test_an_undecided_token_issue_time_says_the_value_is_not_known() -> None:
    verdict = judged(deny_if("DateLessThan", "aws:TokenIssueTime", "2020-01-01T00:00:00Z"))

    assert "the request carries aws:TokenIssueTime, but its value is not known here" in (
        verdict.reason
    )


def test_a_variable_of_an_unknown_key_is_undecided_not_empty() -> None:
    by_user = {
        "Effect": "Deny",
        "Action": "dynamodb:*",
        "NotResource": "arn:aws:dynamodb:*:*:table/${aws:userid}",
    }

    verdict = judged(by_user)

    assert verdict.decision is Decision.UNDECIDED
    assert "aws:userid" in verdict.reason


# --- conditions on a key whose value is unknown --------------------------------------

START = f"{ROLE_ID}:"


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        pytest.param("Null", ["true"], FAILS, id="null-true"),
        pytest.param("Null", ["false"], HOLDS, id="null-false"),
        pytest.param("StringEquals", [f"{START}task-1"], UNDECIDED, id="equals-this-role"),
        pytest.param("StringEquals", ["AIDAUSER"], FAILS, id="equals-a-user-id"),
        pytest.param("StringNotEquals", ["AIDAUSER"], HOLDS, id="not-equals-a-user-id"),
        pytest.param("StringEqualsIfExists", ["AIDAUSER"], FAILS, id="if-exists-compares"),
        pytest.param("StringEqualsIfExists", [f"{START}x"], UNDECIDED, id="if-exists-undecided"),
        pytest.param("StringEqualsIgnoreCase", [START.lower() + "x"], UNDECIDED, id="ignore-case"),
        pytest.param("StringEqualsIgnoreCase", ["aida"], FAILS, id="ignore-case-other"),
        pytest.param("StringLike", [f"{START}*"], HOLDS, id="like-this-role"),
        pytest.param("StringLike", ["AIDA*", f"{START}*"], HOLDS, id="like-any-of-two"),
        pytest.param("StringLike", ["AIDA*"], FAILS, id="like-a-user"),
        pytest.param("StringNotLike", ["AIDA*"], HOLDS, id="not-like-a-user"),
        pytest.param("StringLike", [f"{START}ecs-*"], UNDECIDED, id="like-a-session"),
        pytest.param("ForAnyValue:StringLike", [f"{START}*"], HOLDS, id="for-any-value"),
        pytest.param("ForAllValues:StringLike", ["AIDA*"], FAILS, id="for-all-values"),
        pytest.param("ForAnyValue:StringEquals", ["AIDA"], FAILS, id="for-any-value-present"),
        pytest.param("ArnLike", ["arn:aws:iam::*:role/*"], UNDECIDED, id="other-operator"),
        pytest.param("NumericEquals", ["1"], UNDECIDED, id="numeric"),
    ],
)
def test_a_condition_on_a_value_known_by_its_start(
    operator: str, values: list[str], expected: ConditionState
) -> None:
    result = evaluate_conditions(
        [Condition(operator, "aws:userid", tuple(values))],
        {},
        unknown_values={"aws:userid": START},
    )

    assert result.state is expected


def test_a_failed_condition_on_an_unknown_value_does_not_call_the_key_absent() -> None:
    result = evaluate_conditions(
        [Condition("StringLike", "aws:userid", ("AIDA*",))],
        {},
        unknown_values={"aws:userid": START},
    )

    [failed] = result.failed
    assert failed.found() == f"this request's aws:userid is {START}<unknown>"
