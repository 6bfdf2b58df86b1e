"""The trust check for the workload's own service: Lambda's, not only ECS's tasks'."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.request import ContextEntry
from iam_compliance.engine.evaluate.trust import assume_role_context, check_trust
from iam_compliance.engine.policy import parse_policy

from conftest import ACCOUNT, NOW, ROLE, ROLE_ARN, ecs_trust_policy, task_policy

LAMBDA = "lambda.amazonaws.com"
IN_ACCOUNT = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def lambda_check(*statements: dict[str, Any], declared: tuple[ContextEntry, ...] = ()) -> Any:
    policy = parse_policy(task_policy(*statements), name="trust", trust=True)
    context = assume_role_context(ACCOUNT, NOW, declared, LAMBDA)
    return check_trust(policy, ROLE, context, role_arn=ROLE_ARN, service=LAMBDA)


def trusting(service: str, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        **extra,
    }


def test_a_lambda_role_trusts_lambda() -> None:
    check = lambda_check(trusting(LAMBDA))

    assert (check.ok, check.message) == (
        True,
        f"{LAMBDA} may assume the role: trust policy of {ROLE}, statement #1",
    )


def test_an_ecs_trust_policy_does_not_let_lambda_in() -> None:
    check = lambda_check(*ecs_trust_policy()["Statement"])

    assert (check.ok, check.message) == (
        False,
        f"the trust policy of {ROLE} has no Allow of sts:AssumeRole for the service principal "
        f"{LAMBDA}, so {LAMBDA} cannot assume this role",
    )


@pytest.mark.parametrize(
    ("declared", "ok"),
    [
        # Whether Lambda's request carries aws:SourceAccount is not assumed: ECS's does.
        pytest.param((), False, id="undeclared-is-not-met-by-assumption"),
        pytest.param(
            (ContextEntry("aws:SourceAccount", (ACCOUNT,), "declared"),), True, id="declared"
        ),
    ],
)
def test_a_source_account_condition_holds_for_lambda_only_when_declared(
    declared: tuple[ContextEntry, ...], ok: bool
) -> None:
    check = lambda_check(trusting(LAMBDA, Condition=IN_ACCOUNT), declared=declared)

    assert check.ok is ok, check.message
    if not ok:
        assert "aws:SourceAccount" in check.message
        assert f"{LAMBDA}'s request" in check.message
