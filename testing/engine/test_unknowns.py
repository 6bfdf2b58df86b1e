"""Values a source leaves open make the verdicts they touch undecided, never allowed."""

from __future__ import annotations

from iam_compliance.engine.drift import drift_warning, iac_tags
from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.unknowns import UNKNOWN_POLICY, Unknown, with_unknowns

from conftest import (
    GRANTED,
    MISSING,
    TABLE_ARN,
    assessment_of,
    compliant_policy,
    parsed_task_policy,
    runbook_assessment,
    task_policy,
)

POLICY = Unknown("aws_iam_policy.extra", "plan.json", "policy", "is known only after apply")
ROLE_TAGS = Unknown(
    "aws_iam_role.task",
    "plan.json",
    "tag project",
    "is known only after apply",
    keys=("aws:principaltag/",),
)
TRUST = Unknown(
    "aws_iam_role.task",
    "plan.json",
    "assume_role_policy",
    "is known only after apply",
    trust=True,
)


def test_an_open_document_makes_every_verdict_undecided() -> None:
    found = with_unknowns(assessment_of(parsed_task_policy(compliant_policy())), [POLICY])
    assert {v.decision for v in found.verdicts.values()} == {Decision.UNDECIDED}
    verdict = found.verdicts["dynamodb:Scan"]
    assert verdict.reason.startswith(
        "dynamodb:Scan could not be decided: policy of aws_iam_policy.extra in plan.json is "
        "known only after apply"
    )
    assert verdict.deciding is not None
    assert verdict.deciding.policy == "aws_iam_policy.extra (plan.json)"
    assert [f.id for f in found.failing_findings] == [UNKNOWN_POLICY.id]
    assert not found.is_compliant


def test_open_tags_touch_only_verdicts_that_look_at_them() -> None:
    tagged = task_policy(
        {
            "Sid": "ByProject",
            "Effect": "Allow",
            "Action": "dynamodb:Scan",
            "Resource": TABLE_ARN,
            "Condition": {"StringEquals": {"aws:PrincipalTag/project": "ml"}},
        },
        *compliant_policy()["Statement"][1:2],
    )
    plain = assessment_of(parsed_task_policy(tagged))
    found = with_unknowns(plain, [ROLE_TAGS])
    assert found.verdicts["dynamodb:Scan"].decision is Decision.UNDECIDED
    assert "tag project of aws_iam_role.task" in found.verdicts["dynamodb:Scan"].reason
    for action in GRANTED:
        assert found.verdicts[action] == plain.verdicts[action]
    assert found.findings == plain.findings


def test_an_open_trust_policy_leaves_the_trust_check_undecided() -> None:
    found = with_unknowns(runbook_assessment(), [TRUST])
    assert not found.trust.ok
    assert found.trust.message.startswith("could not be decided: assume_role_policy of")
    assert [rid for rid, v in found.verdicts.items() if not v.is_allowed] == list(MISSING)


def test_nothing_open_changes_nothing() -> None:
    found = runbook_assessment()
    assert with_unknowns(found, []) is found


def test_iac_tags_are_recognised_in_any_case() -> None:
    tags = {"ManagedBy": "terraform", "aws:cloudformation:stack-name": "ml", "team": "x"}
    assert iac_tags(tags) == {"ManagedBy": "terraform", "aws:cloudformation:stack-name": "ml"}
    warning = drift_warning("role R", tags)
    assert warning is not None
    assert warning.startswith("role R is managed as code (ManagedBy=terraform, ")
    assert drift_warning("role R", {"team": "x"}) is None
