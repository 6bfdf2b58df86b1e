"""What a run tells people: the terminal summary's verdict table and fix plan.

Pure text built from the report's target sections (see :mod:`.reports`) and the fixes;
the plugin decides where it goes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .assessment import Assessment
from .config import Target
from .evaluation import Decision
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


#: How the terminal names each verdict of compliance.json.
VERDICT_LABELS = {
    "allowed": "allowed",
    "conditional": "allowed only under conditions",
    "denied": "denied",
    "undecided": "could not be decided",
}


def verdict_table(section: Mapping[str, Any]) -> list[str]:
    """One line per required action: verdict and the statement that decided it.

    ``section`` is a target's entry of compliance.json: under xdist the controller only
    has what the workers' reports carried, so the terminal reads the same data.
    """
    actions = section["actions"]
    width = max((len(a["action"]) for a in actions), default=0)
    name = section["name"]
    lines = [
        f"{section['role_arn']} on {section['table_arn']}"
        + (f" (target {name})" if name != "default" else "")
    ]
    for entry in actions:
        deciding = entry["deciding"]
        statement = (
            f"{deciding['policy']}, {deciding['statement']}"
            if deciding
            else "no statement allows it"
        )
        label = VERDICT_LABELS.get(entry["verdict"], entry["verdict"])
        lines.append(f"  {entry['action']:<{width}}  {label:<29}  {statement}")
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
    sections: Sequence[Mapping[str, Any]], remediations: Sequence[Remediation]
) -> list[str]:
    """The terminal summary: each target's verdict table, problems and next steps, then fixes."""
    lines: list[str] = []
    for section in sections:
        lines.extend(verdict_table(section))
        for check in section["checks"].values():
            if not check["ok"]:
                lines.append(f"  ! {check['message']}")
        for finding in section["findings"]:
            lines.append(f"  {finding['severity']}: [{finding['id']}] {finding['message']}")
        lines.extend(f"  {step}" for step in section["next_steps"])
    for result in remediations:
        lines.extend(remediation_lines(result))
    return lines
