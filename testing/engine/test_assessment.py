"""assess(): every verdict about one role; the trust and attachment checks; the messages."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.assessment import assess, check_attachment
from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.evaluate.principals import ServicePrincipal
from iam_compliance.engine.evaluate.request import ContextEntry
from iam_compliance.engine.evaluate.snapshot import AttachedPolicy
from iam_compliance.engine.evaluate.trust import (
    ECS_TASKS_PRINCIPAL,
    assume_role_context,
    check_trust,
)
from iam_compliance.engine.policy import Policy, RolePolicies, parse_policy
from iam_compliance.engine.requirements import RequiredAction

from conftest import (
    ACCOUNT,
    MISSING,
    NOW,
    POLICY_ARN,
    POLICY_NAME,
    REQUIRED,
    ROLE,
    ROLE_ARN,
    TABLE_ARN,
    TARGET,
    assessment_of,
    compliant_policy,
    parsed_task_policy,
    role_snapshot,
    runbook_assessment,
    runbook_policy,
    task_policy,
)

ECS = {"Service": ECS_TASKS_PRINCIPAL}
ASSUME = "sts:AssumeRole"


def trust(*statements: dict[str, Any]) -> Policy:
    return parse_policy(task_policy(*statements), name="trust", trust=True)


def trusting(principal: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    """A trust statement; ``extra`` may add a Sid or Condition, or swap in NotAction."""
    body: dict[str, Any] = {"Effect": effect, "Principal": principal}
    if "NotAction" not in extra:
        body["Action"] = ASSUME
    body.update(extra)
    return body


def trust_check(policy: Policy, *declared: ContextEntry) -> Any:
    """The trust check for ECS's AssumeRole in the suite's account, at a fixed time."""
    return check_trust(policy, ROLE, assume_role_context(ACCOUNT, NOW, declared), role_arn=ROLE_ARN)


def inline(*statements: dict[str, Any], name: str = "JobsExtra") -> Policy:
    return parse_policy(task_policy(*statements), name=name, kind="inline")


# --------------------------------------------------------------------------- trust

PASSES = f"{ECS_TASKS_PRINCIPAL} may assume the role: trust policy of {ROLE}, "
NO_ALLOW = (
    f"the trust policy of {ROLE} has no Allow of sts:AssumeRole for the service principal "
    f"{ECS_TASKS_PRINCIPAL}, so ECS cannot start tasks with this role"
)
EVERYONE = (
    f"trust policy of {ROLE}, statement #1 lets everyone assume the role, not just "
    f"{ECS_TASKS_PRINCIPAL}; name the service principal instead"
)
SOURCE_ARN = {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:618574523116:*"}}
#: A condition that cannot be evaluated: its policy value is not a number.
NOT_A_NUMBER = {"NumericLessThan": {"aws:SourceAccount": "abc"}}


@pytest.mark.parametrize(
    ("statements", "ok", "message"),
    [
        pytest.param([trusting(ECS)], True, PASSES + "statement #1", id="allow-ecs-tasks"),
        pytest.param(
            [trusting({"Service": ["ec2.amazonaws.com", ECS_TASKS_PRINCIPAL]}, Sid="Both")],
            True,
            PASSES + 'statement "Both"',
            id="service-list",
        ),
        pytest.param(
            [trusting(ECS, Action="sts:*")], True, PASSES + "statement #1", id="action-wildcard"
        ),
        pytest.param(
            [trusting(ECS, Action="STS:assumerole")],
            True,
            PASSES + "statement #1",
            id="action-any-case",
        ),
        pytest.param(
            [trusting(ECS, NotAction="sts:TagSession")],
            True,
            PASSES + "statement #1",
            id="not-action-leaves-assume-role",
        ),
        pytest.param(
            [trusting(ECS, NotAction=ASSUME)], False, NO_ALLOW, id="not-action-excludes-it"
        ),
        pytest.param(
            [trusting(ECS, Action="sts:AssumeRoleWithWebIdentity")],
            False,
            NO_ALLOW,
            id="another-action",
        ),
        pytest.param(
            [trusting({"Service": "ec2.amazonaws.com"})], False, NO_ALLOW, id="another-service"
        ),
        pytest.param([trusting("*")], False, EVERYONE, id="principal-star"),
        pytest.param([trusting({"AWS": "*"})], False, EVERYONE, id="aws-star"),
        pytest.param([trusting({"Service": "*"})], False, NO_ALLOW, id="service-star"),
        pytest.param(
            [trusting({"AWS": f"arn:aws:iam::123456789012:role/{ROLE}"})],
            False,
            NO_ALLOW,
            id="an-aws-principal",
        ),
        pytest.param(
            [trusting(ECS, "Deny", Sid="NoEcs")],
            False,
            f'trust policy of {ROLE}, statement "NoEcs" denies {ECS_TASKS_PRINCIPAL} '
            "sts:AssumeRole",
            id="deny-for-the-service",
        ),
        pytest.param(
            [trusting(ECS), trusting(ECS, "Deny")],
            False,
            f"trust policy of {ROLE}, statement #2 denies {ECS_TASKS_PRINCIPAL} sts:AssumeRole",
            id="deny-wins-over-an-earlier-allow",
        ),
        pytest.param(
            [trusting(ECS, "Deny"), trusting(ECS)],
            False,
            f"trust policy of {ROLE}, statement #1 denies {ECS_TASKS_PRINCIPAL} sts:AssumeRole",
            id="deny-wins-over-a-later-allow",
        ),
        pytest.param(
            [trusting({"Service": "ec2.amazonaws.com"}, "Deny"), trusting(ECS)],
            True,
            PASSES + "statement #2",
            id="deny-for-another-service-is-irrelevant",
        ),
        pytest.param(
            [
                trusting(
                    ECS,
                    Condition={
                        "StringEquals": {"aws:SourceAccount": "618574523116"},
                        "StringLike": {"aws:PrincipalServiceName": "ecs-*"},
                    },
                )
            ],
            True,
            PASSES + "statement #1 (conditions on aws:SourceAccount, aws:PrincipalServiceName)",
            id="conditions-are-listed",
        ),
        pytest.param(
            [trusting(ECS, Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}})],
            False,
            f"trust policy of {ROLE}, statement #1 lets {ECS_TASKS_PRINCIPAL} assume the role "
            "only when aws:SourceAccount is 111122223333; ECS's request's aws:SourceAccount is "
            "618574523116",
            id="condition-on-another-account",
        ),
        pytest.param(
            [trusting(ECS), trusting("*", "Deny")],
            False,
            f"trust policy of {ROLE}, statement #2 denies {ECS_TASKS_PRINCIPAL} sts:AssumeRole",
            id="deny-to-everyone-wins",
        ),
        pytest.param(
            [trusting(ECS), trusting({"AWS": "*"}, "Deny")],
            False,
            f"trust policy of {ROLE}, statement #2 denies {ECS_TASKS_PRINCIPAL} sts:AssumeRole",
            id="deny-to-every-aws-principal-wins",
        ),
        pytest.param(
            [
                trusting(ECS),
                trusting(
                    ECS,
                    "Deny",
                    Condition={"StringNotEquals": {"aws:SourceAccount": "618574523116"}},
                ),
            ],
            True,
            PASSES + "statement #1",
            id="confused-deputy-deny-does-not-apply-to-the-own-account",
        ),
        pytest.param(
            [{"Effect": "Deny", "NotPrincipal": ECS, "Action": ASSUME}],
            False,
            f"whether ECS may assume the role could not be decided: trust policy of {ROLE}, "
            "statement #1: the statement uses NotPrincipal, which is not evaluated",
            id="not-principal-is-undecided",
        ),
        pytest.param(
            [{"Effect": "Deny", "NotPrincipal": ECS, "Action": ASSUME, "Condition": NOT_A_NUMBER}],
            False,
            f"whether ECS may assume the role could not be decided: trust policy of {ROLE}, "
            "statement #1: NumericLessThan aws:SourceAccount: policy value 'abc' is not a "
            "number; the statement uses NotPrincipal, which is not evaluated",
            id="not-principal-and-an-undecidable-condition-say-both",
        ),
        pytest.param(
            [trusting("*"), trusting(ECS, Condition=NOT_A_NUMBER)],
            False,
            EVERYONE,
            id="everyone-lets-ecs-in-whatever-an-undecided-allow-for-ecs-says",
        ),
    ],
)
def test_check_trust(statements: list[dict[str, Any]], ok: bool, message: str) -> None:
    check = trust_check(trust(*statements))

    assert (check.ok, check.message) == (ok, message)


def test_trust_condition_on_an_undeclared_source_arn_says_what_it_assumed() -> None:
    check = trust_check(trust(trusting(ECS, Condition=SOURCE_ARN)))

    assert not check.ok
    assert check.message == (
        f"trust policy of {ROLE}, statement #1 lets {ECS_TASKS_PRINCIPAL} assume the role only "
        "when aws:SourceArn matches arn:aws:ecs:us-east-1:618574523116:*; ECS's request carries "
        "no aws:SourceArn; that assumes ECS's request carries no aws:SourceArn: declare it "
        "under [assume_role] in fixtures/request_context.toml if it does"
    )


def test_trust_condition_on_a_declared_source_arn_holds() -> None:
    task = "arn:aws:ecs:us-east-1:618574523116:task/ml-platform/0123"
    declared = ContextEntry("aws:SourceArn", (task,), "request_context.toml")

    check = trust_check(trust(trusting(ECS, Condition=SOURCE_ARN)), declared)

    assert (check.ok, check.message) == (
        True,
        PASSES + "statement #1 (conditions on aws:SourceArn)",
    )


@pytest.mark.parametrize(
    ("statements", "decision"),
    [
        pytest.param([trusting(ECS)], Decision.ALLOWED, id="allowed"),
        pytest.param([trusting(ECS), trusting("*", "Deny")], Decision.EXPLICIT_DENY, id="deny"),
        pytest.param(
            [trusting({"Service": "ec2.amazonaws.com"})], Decision.IMPLICIT_DENY, id="none"
        ),
        pytest.param([trusting(ECS, Condition=NOT_A_NUMBER)], Decision.UNDECIDED, id="undecided"),
    ],
)
def test_the_trust_check_is_the_evaluator_s_verdict_with_ecs_as_the_requester(
    statements: list[dict[str, Any]], decision: Decision
) -> None:
    """One evaluator: ECS's sts:AssumeRole, the service principal as the requester, the
    trust policy as the resource policy and no identity policies."""
    context = assume_role_context(ACCOUNT, NOW)

    verdict = evaluate(
        RolePolicies(identity=()),
        ASSUME,
        ROLE_ARN,
        context.values(),
        resource_policy=trust(*statements),
        requester=ServicePrincipal(ECS_TASKS_PRINCIPAL),
    )

    assert verdict.decision is decision
    assert trust_check(trust(*statements)).ok is (decision is Decision.ALLOWED)


def test_check_trust_names_the_first_allowing_statement() -> None:
    check = trust_check(trust(trusting(ECS, Sid="First"), trusting(ECS, Sid="Second")))

    assert check.message == PASSES + 'statement "First"'


# ---------------------------------------------------------------------- attachment


def test_attached_policy_passes() -> None:
    check = check_attachment(TARGET, role_snapshot(parsed_task_policy(runbook_policy())))

    assert check.ok
    assert check.message == f"{POLICY_NAME} is attached to {ROLE}"


def test_policy_that_exists_but_is_not_attached_names_what_is() -> None:
    attached = [AttachedPolicy("JobsRead", "arn:a"), AttachedPolicy("Logs", "arn:b")]

    check = check_attachment(TARGET, role_snapshot(attached=attached))

    assert not check.ok
    assert check.message == (
        f"{POLICY_NAME} ({POLICY_ARN}) exists but is not attached to {ROLE}; "
        "attached managed policies: JobsRead, Logs"
    )


def test_policy_that_does_not_exist_says_so_and_names_the_setting() -> None:
    check = check_attachment(TARGET, role_snapshot(policy_exists=False))

    assert not check.ok
    assert check.message == (
        f"policy {POLICY_ARN} does not exist in account {TARGET.account_id} "
        f"(ECS_TASK_POLICY_NAME={POLICY_NAME}); attached to {ROLE}: none"
    )


def test_a_policy_of_the_same_name_in_another_account_is_not_the_attached_one() -> None:
    other = AttachedPolicy(POLICY_NAME, POLICY_ARN.replace(ACCOUNT, "123456789012"))

    check = check_attachment(TARGET, role_snapshot(attached=[other]))

    assert not check.ok
    assert f"attached managed policies: {POLICY_NAME}" in check.message


# ---------------------------------------------------------------------- assessment


def test_assess_gives_a_verdict_per_requirement_in_file_order() -> None:
    found = runbook_assessment()

    assert tuple(found.verdicts) == REQUIRED
    assert [v.resource for v in found.verdicts.values()] == [TABLE_ARN] * len(REQUIRED)
    assert [v.action for v in found.missing] == list(MISSING)
    assert {v.decision for v in found.missing} == {Decision.IMPLICIT_DENY}
    assert found.trust.ok
    assert found.attachment.ok
    assert found.findings == ()
    assert not found.is_compliant


def test_target_policy_is_the_configured_managed_policy() -> None:
    task = parsed_task_policy(runbook_policy(), "v1")
    extra = inline({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN})

    found = assessment_of(extra, task)

    assert found.target_policy is task
    assert assessment_of(extra).target_policy is None


def test_context_decides_conditions() -> None:
    document = compliant_policy()
    document["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceVpc": "vpc-1"}}
    task = parsed_task_policy(document, "v1")

    without = assessment_of(task)
    inside = assessment_of(task, context={"aws:SourceVpc": ["vpc-1"]})

    assert [v.action for v in without.missing] == list(REQUIRED)
    assert inside.missing == ()
    assert inside.is_compliant


def test_assess_takes_the_requirements_it_is_given() -> None:
    requirements = [RequiredAction("dynamodb:Scan", "list jobs")]
    snapshot = role_snapshot(parsed_task_policy(runbook_policy()))

    found = assess(TARGET, snapshot, requirements)

    assert list(found.verdicts) == ["dynamodb:Scan"]
    assert found.explain_missing().startswith("1 of 1 required actions are not allowed")


@pytest.mark.parametrize(
    ("task", "extra", "snapshot", "compliant"),
    [
        pytest.param(compliant_policy(), None, {}, True, id="compliant"),
        pytest.param(runbook_policy(), None, {}, False, id="actions-missing"),
        pytest.param(
            compliant_policy(),
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {},
            False,
            id="failing-finding",
        ),
        pytest.param(
            compliant_policy(),
            {
                "Effect": "Allow",
                "Action": [*REQUIRED, "dynamodb:BatchGetItem"],
                "Resource": TABLE_ARN,
            },
            {},
            True,
            id="info-finding-only",
        ),
        pytest.param(
            compliant_policy(),
            None,
            {"trust": task_policy(trusting({"Service": "ec2.amazonaws.com"}))},
            False,
            id="trust-fails",
        ),
        pytest.param(compliant_policy(), None, {"attached": []}, False, id="not-attached"),
    ],
)
def test_is_compliant_needs_every_check(
    task: dict[str, Any],
    extra: dict[str, Any] | None,
    snapshot: dict[str, Any],
    compliant: bool,
) -> None:
    policies = [parsed_task_policy(task), *([inline(extra)] if extra else [])]

    found = assessment_of(*policies, **snapshot)

    assert found.is_compliant is compliant


def test_failing_findings_leave_out_the_informational_ones() -> None:
    wide = inline(
        {"Sid": "Wide", "Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN},
        {
            "Sid": "Extra",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem"],
            "Resource": TABLE_ARN,
        },
    )

    found = assessment_of(parsed_task_policy(compliant_policy()), wide)

    assert [(f.id, f.severity) for f in found.findings] == [
        ("WILDCARD_ACTION", "fail"),
        ("EXTRA_ACTION", "info"),
    ]
    assert [f.id for f in found.failing_findings] == ["WILDCARD_ACTION"]


def test_explain_missing_lists_each_missing_action_with_its_reason() -> None:
    found = runbook_assessment()

    lines = found.explain_missing().splitlines()

    assert lines[0] == f"3 of 6 required actions are not allowed for {ROLE} on {TABLE_ARN}:"
    assert lines[1] == (
        "  - dynamodb:Scan (List all jobs): dynamodb:Scan is not allowed: no statement in "
        f"{POLICY_NAME} v1 allows it on {TABLE_ARN}"
    )
    assert lines[2].startswith("  - dynamodb:Query (Query jobs by attributes): ")
    assert lines[3].startswith(
        "  - dynamodb:DescribeTable (Get table metadata for error handling and diagnostics): "
    )
    assert len(lines) == 4


def test_explain_missing_names_the_deny() -> None:
    deny = inline(
        {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"},
        name="GuardRails",
    )

    found = assessment_of(parsed_task_policy(compliant_policy(), "v1"), deny)

    assert [v.action for v in found.missing] == ["dynamodb:Scan"]
    assert found.explain_missing().splitlines()[1] == (
        "  - dynamodb:Scan (List all jobs): dynamodb:Scan is explicitly denied by inline "
        'policy GuardRails, statement "NoScans"'
    )


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        pytest.param("dynamodb:GetItem", "Get job details", id="first"),
        pytest.param(
            "dynamodb:UpdateItem",
            "Update job status; critical for the training container",
            id="with-a-semicolon",
        ),
        pytest.param("dynamodb:DeleteItem", "", id="not-required"),
        pytest.param("DYNAMODB:GETITEM", "", id="names-compare-exactly"),
    ],
)
def test_reason_for(action: str, reason: str) -> None:
    assert runbook_assessment().reason_for(action) == reason
