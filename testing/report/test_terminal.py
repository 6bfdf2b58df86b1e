"""The terminal summary: the verdict table, failing checks, findings, next steps and fixes."""

from __future__ import annotations

import dataclasses
import json

import pytest

from iam_compliance.engine.fix.planning import plan_fix
from iam_compliance.engine.fix.rollout import Remediation
from iam_compliance.engine.policy import RolePolicies
from iam_compliance.report.model import TargetSection
from iam_compliance.report.terminal import remediation_lines, summary_lines, verdict_table

from conftest import (
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
    report_section,
    runbook_assessment,
    runbook_fix,
    task_policy,
    version_listing,
)

TASK = f"{POLICY_NAME} v1"
HEADER = f"{ROLE_ARN} on {TABLE_ARN}"
#: Without the run's command (a section built outside a run), the hint names no path and
#: the options by their --iam- names, which work in any project.
NEXT_STEP = (
    "  to add the missing actions to the task policy, run: pytest --iam-fix-dry-run  "
    "(then --iam-fix)"
)
#: A context in which the "InVpc" statement's condition holds.
IN_VPC = {"aws:SourceVpc": ["vpc-1"]}


def every_verdict() -> TargetSection:
    """A role with each verdict: allowed, allowed under conditions, undecided, denied."""
    document = task_policy(
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": TABLE_ARN,
        },
        {
            "Sid": "InVpc",
            "Effect": "Allow",
            "Action": "dynamodb:Scan",
            "Resource": TABLE_ARN,
            "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
        },
        {
            "Sid": "Someday",
            "Effect": "Allow",
            "Action": "dynamodb:Query",
            "Resource": TABLE_ARN,
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "soon"}},
        },
    )
    assessment = assessment_of(parsed_task_policy(document, "v1"), context=IN_VPC)
    return report_section(assessment, context=IN_VPC)


# --------------------------------------------------------------------- verdict table


def test_verdict_table_has_a_line_per_action_in_order() -> None:
    lines = verdict_table(report_section(runbook_assessment()))

    assert lines == [
        HEADER,
        f"  dynamodb:GetItem        allowed                        {TASK}, statement #2",
        f"  dynamodb:PutItem        allowed                        {TASK}, statement #2",
        f"  dynamodb:UpdateItem     allowed                        {TASK}, statement #2",
        "  dynamodb:Scan           denied                         no statement allows it",
        "  dynamodb:Query          denied                         no statement allows it",
        "  dynamodb:DescribeTable  denied                         no statement allows it",
    ]


def test_verdict_table_labels_every_verdict_as_the_model_does_in_aligned_columns() -> None:
    section = every_verdict()
    label_at = 2 + len("dynamodb:DescribeTable") + 2
    decided_at = label_at + len("allowed only under conditions") + 2

    lines = verdict_table(section)[1 : 1 + len(section.actions)]

    assert [line[label_at:decided_at].rstrip() for line in lines] == [
        "allowed",
        "allowed",
        "allowed",
        "allowed only under conditions",
        "could not be decided",
        "denied",
    ]
    for entry, line in zip(section.actions, lines, strict=True):
        assert line[:label_at].rstrip() == f"  {entry.action}"
        assert line[label_at:decided_at].rstrip() == entry.verdict.label
        assert line[decided_at:] == entry.deciding_text
    assert lines[3].endswith(f'{TASK}, statement "InVpc"')
    assert lines[4].endswith(f'{TASK}, statement "Someday"')


def test_verdict_table_names_a_target_other_than_the_default() -> None:
    section = dataclasses.replace(report_section(runbook_assessment()), name="prod")

    assert verdict_table(section)[0] == f"{HEADER} (target prod)"


# ----------------------------------------------------------------------- summary


def test_summary_of_the_runbook_role_ends_with_the_next_step() -> None:
    section = report_section(runbook_assessment())

    lines = summary_lines([section], [])

    assert lines == [*verdict_table(section), NEXT_STEP]


def test_summary_of_a_compliant_role_is_its_verdict_table() -> None:
    section = report_section(assessment_of(parsed_task_policy(compliant_policy(), "v1")))

    assert summary_lines([section], []) == verdict_table(section)


def test_summary_flags_failing_checks_and_lists_findings() -> None:
    wide = task_policy(
        {"Sid": "Wide", "Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN}
    )
    trust = task_policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    assessment = assessment_of(parsed_task_policy(wide, "v1"), trust=trust, attached=[])

    lines = summary_lines([report_section(assessment)], [])

    assert lines[7:] == [
        f"  ! {assessment.attachment.message}",
        f"  ! {assessment.trust.message}",
        f'  fail: [WILDCARD_ACTION] {TASK}, statement "Wide": Action "dynamodb:*" grants '
        "every DynamoDB action, not just the six required",
    ]
    assert "is not attached to" in lines[7]
    assert f"the trust policy of {ROLE} has no Allow" in lines[8]


def test_summary_names_what_blocks_a_fix() -> None:
    document = compliant_policy()
    document["Statement"].append(
        {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}
    )

    lines = summary_lines([report_section(assessment_of(parsed_task_policy(document, "v1")))], [])

    assert lines[-1] == (
        "  dynamodb:Scan cannot be fixed by adding an Allow: dynamodb:Scan is explicitly denied "
        f'by {TASK}, statement "NoScans"'
    )
    assert NEXT_STEP not in lines


def test_summary_leaves_out_the_fix_command_when_fixing() -> None:
    section = report_section(runbook_assessment(), fixing=True)

    lines = summary_lines([section], [])

    # The verdicts, and nothing after them (not fixing, the next step follows them).
    assert lines == verdict_table(section)
    assert NEXT_STEP not in lines


def test_summary_covers_every_target_then_every_fix() -> None:
    default = report_section(runbook_assessment())
    prod = dataclasses.replace(default, name="prod")
    fix = runbook_fix()

    lines = summary_lines([default, prod], [fix])

    assert lines == [
        *verdict_table(default),
        NEXT_STEP,
        *verdict_table(prod),
        NEXT_STEP,
        *remediation_lines(fix),
        "2 targets: 0 compliant, 2 not compliant",
    ]


# ------------------------------------------------------------------------- fixes


def test_dry_run_shows_the_plan_the_document_and_the_diff() -> None:
    fix = runbook_fix(dry_run=True)
    assert not isinstance(fix.plan, str)
    assert fix.plan.new_document is not None

    lines = remediation_lines(fix)

    assert lines[:5] == [
        "target default: plan (dry run, nothing written)",
        "  would add dynamodb:Scan, dynamodb:Query, dynamodb:DescribeTable to statement #2 of "
        f"{POLICY_NAME} (current default v1)",
        "  no version would be deleted",
        f"  size: {fix.plan.size} of 6,144 characters",
        "  new document:",
    ]
    document_end = lines.index("  diff:")
    shown = "\n".join(line.removeprefix("    ") for line in lines[5:document_end])
    assert json.loads(shown) == fix.plan.new_document
    assert lines[document_end + 1 :] == ["    " + line for line in fix.plan.diff.splitlines()]


def test_dry_run_names_the_version_it_would_delete() -> None:
    lines = remediation_lines(runbook_fix(dry_run=True, versions=5))

    assert lines[2] == (
        "  would first delete v2, the oldest non-default version (IAM keeps at most 5), "
        "saving its document in the record"
    )


def test_applied_fix_says_what_changed_and_how_to_undo_it() -> None:
    fix = runbook_fix()
    assert fix.applied is not None

    lines = remediation_lines(fix)

    assert lines == [
        "target default: fixed",
        f"  {POLICY_ARN}: v2 is now the default (was v1), adding dynamodb:Scan, "
        "dynamodb:Query, dynamodb:DescribeTable",
        "  verified after 1 attempt(s)",
        f"  record: {fix.applied.record_path}",
        f"  to undo: aws iam set-default-policy-version --policy-arn {POLICY_ARN} --version-id v1",
    ]


def refused() -> Remediation:
    """--fix of a role whose Deny blocks Scan: refused, nothing written."""
    document = task_policy(
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN},
        {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"},
    )
    task = parsed_task_policy(document, "v1")
    plan = plan_fix(
        RolePolicies((task,)), task, REQUIRED, TABLE_ARN, version_listing(1, default="v1")
    )
    return Remediation(TARGET, plan, None, dry_run=False)


@pytest.mark.parametrize(
    ("remediation", "expected"),
    [
        pytest.param(
            Remediation(TARGET, "the task policy is not attached", None, dry_run=False),
            ["target default: no fix planned: the task policy is not attached"],
            id="not-planned",
        ),
        pytest.param(
            Remediation(
                TARGET,
                "the task policy is not attached",
                None,
                dry_run=True,
                notes=("planned again after a concurrent change",),
            ),
            [
                "target default: note: planned again after a concurrent change",
                "target default: no fix planned: the task policy is not attached",
            ],
            id="notes-come-first",
        ),
    ],
)
def test_remediation_without_a_plan(remediation: Remediation, expected: list[str]) -> None:
    assert remediation_lines(remediation) == expected


def test_nothing_to_fix() -> None:
    fix = runbook_fix(dry_run=True)
    assert not isinstance(fix.plan, str)
    compliant = dataclasses.replace(fix.plan, added_actions=(), blocked=(), new_document=None)

    lines = remediation_lines(Remediation(TARGET, compliant, None, dry_run=False))

    assert lines == ["target default: nothing to fix: every required action is already allowed"]


def test_plan_not_applied_by_this_run_points_at_the_note() -> None:
    fix = runbook_fix(dry_run=True)
    not_applied = Remediation(
        TARGET, fix.plan, None, dry_run=False, notes=("another run's write made it moot",)
    )

    assert remediation_lines(not_applied) == [
        "target default: note: another run's write made it moot",
        "target default: not applied by this run; see the note above",
    ]


def test_refused_fix_lists_the_refusals_and_no_document() -> None:
    fix = refused()
    assert not isinstance(fix.plan, str)

    lines = remediation_lines(fix)

    assert lines[0] == "target default: fix refused, nothing written"
    assert lines[1 : 1 + len(fix.plan.refusals)] == [
        f"  refused: {refusal}" for refusal in fix.plan.refusals
    ]
    assert any('statement "NoScans"' in line for line in lines)
    assert "  new document:" not in lines


def test_many_targets_compliant_ones_take_one_line_each() -> None:
    compliant = report_section(assessment_of(parsed_task_policy(compliant_policy(), "v1")))
    failing = report_section(runbook_assessment())
    sections = [
        dataclasses.replace(failing if n % 10 == 0 else compliant, name=f"t{n:04}")
        for n in range(1000)
    ]

    lines = summary_lines(sections, [])

    one = [line for line in lines if line.startswith("target t0001:")]
    assert one == [f"target t0001: compliant: all 6 required actions allowed ({ROLE_ARN})"]
    # The non-compliant ones keep their verdict table and next steps.
    detailed = summary_lines([failing], [])
    assert lines[: len(detailed)] == [f"{detailed[0]} (target t0000)", *detailed[1:]]
    assert len(lines) == 900 + 100 * len(detailed) + 1
    assert lines[-1] == "1,000 targets: 900 compliant, 100 not compliant"


def test_one_compliant_target_keeps_its_verdict_table() -> None:
    section = report_section(assessment_of(parsed_task_policy(compliant_policy(), "v1")))

    assert summary_lines([section], []) == verdict_table(section)
