"""What a run tells people: the terminal summary's verdict table and fix plan.

Pure text built from assessments and remediation results; the plugin decides where
it goes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .assessment import Assessment
from .config import Target
from .evaluation import Decision, Verdict
from .remediation import FixOutcome, FixPlan


@dataclass(frozen=True)
class Remediation:
    """What --fix or --fix-dry-run did for one target."""

    target: Target
    #: The plan, or why none could be made.
    plan: FixPlan | str
    #: What applying it did; None for a dry run, a refusal or nothing to fix.
    outcome: FixOutcome | None
    dry_run: bool
    #: What else happened on the way: concurrent changes, a write another run made moot.
    notes: tuple[str, ...] = ()


def verdict_label(verdict: Verdict) -> str:
    """allowed / allowed only under conditions / denied / undecided."""
    if verdict.is_conditional:
        return "allowed only under conditions"
    if verdict.is_allowed:
        return "allowed"
    if verdict.decision is Decision.UNDECIDED:
        return "undecided"
    return "denied"


def deciding_statement(verdict: Verdict) -> str:
    evidence = verdict.deciding
    if evidence is not None:
        return f"{evidence.policy}, {evidence.statement}"
    return "no statement allows it"


def verdict_table(assessment: Assessment) -> list[str]:
    """One line per required action: verdict and the statement that decided it."""
    width = max(len(a) for a in assessment.verdicts)
    lines = [
        f"{assessment.target.role_arn} on {assessment.target.table_arn}"
        + (f" (target {assessment.target.name})" if assessment.target.name != "default" else "")
    ]
    for action, verdict in assessment.verdicts.items():
        label = verdict_label(verdict)
        lines.append(f"  {action:<{width}}  {label:<30}  {deciding_statement(verdict)}")
    return lines


def next_steps(assessment: Assessment, *, fixing: bool) -> list[str]:
    """What to do about the missing actions: the --fix command, or what blocks a fix."""
    missing = assessment.missing
    if not missing:
        return []
    blocked = [v for v in missing if v.decision in (Decision.EXPLICIT_DENY, Decision.BOUNDARY_DENY)]
    lines: list[str] = []
    for verdict in blocked:
        lines.append(f"  {verdict.action} cannot be fixed by adding an Allow: {verdict.reason}")
    if len(blocked) < len(missing) and not fixing:
        lines.append(
            "  to add the missing actions to the task policy, run: pytest "
            "tests/test_ecs_task_dynamodb_permissions.py --fix-dry-run  (then --fix)"
        )
    return lines


def remediation_lines(result: Remediation) -> list[str]:
    """The fix plan or outcome, in short."""
    name = result.target.name
    notes = [f"target {name}: note: {note}" for note in result.notes]
    return notes + _plan_lines(result, name)


def _plan_lines(result: Remediation, name: str) -> list[str]:
    plan = result.plan
    if isinstance(plan, str):
        return [f"target {name}: no fix planned: {plan}"]
    if plan.nothing_to_fix:
        return [f"target {name}: nothing to fix: every required action is already allowed"]
    if result.outcome is not None:
        return [f"target {name}: fixed"] + [
            f"  {line}" for line in result.outcome.describe().splitlines()
        ]
    if not result.dry_run and plan.can_apply:
        return [f"target {name}: not applied by this run; see the note above"]
    head = f"target {name}: " + ("plan (dry run, nothing written)" if result.dry_run else "")
    lines = [head if result.dry_run else f"target {name}: fix refused, nothing written"]
    for refusal in plan.refusals:
        lines.append(f"  refused: {refusal}")
    if plan.new_document is not None and plan.added_actions:
        lines.append(
            f"  would add {', '.join(plan.added_actions)} to {plan.target_statement} of "
            f"{plan.policy_name} (current default {plan.current_version})"
        )
        if plan.version_to_delete:
            lines.append(
                f"  would first delete {plan.version_to_delete}, the oldest non-default "
                "version (IAM keeps at most 5), saving its document in the record"
            )
        else:
            lines.append("  no version would be deleted")
        lines.append(f"  size: {plan.size} of 6,144 characters")
        if result.dry_run:
            lines.append("  new document:")
            lines.extend(
                "    " + line
                for line in json.dumps(plan.new_document, indent=4, ensure_ascii=False).splitlines()
            )
            lines.append("  diff:")
            lines.extend("    " + line for line in plan.diff.splitlines())
    return lines


def summary_lines(
    assessments: Sequence[Assessment], remediations: Sequence[Remediation], *, fixing: bool
) -> list[str]:
    lines: list[str] = []
    for assessment in assessments:
        lines.extend(verdict_table(assessment))
        for check in (assessment.attachment, assessment.trust):
            if not check.ok:
                lines.append(f"  ! {check.message}")
        for finding in assessment.findings:
            lines.append(f"  {finding.severity}: [{finding.id}] {finding.message}")
        lines.extend(next_steps(assessment, fixing=fixing))
    for result in remediations:
        lines.extend(remediation_lines(result))
    return lines
