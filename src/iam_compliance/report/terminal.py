"""What a run tells people in the terminal: the verdict table and the fix plan.

Plain text built from the report model's target sections (see :mod:`.model`) and the
fixes; the pytest plugin decides where it goes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..engine.fix.planning import MANAGED_POLICY_SIZE_LIMIT, MAX_POLICY_VERSIONS
from ..engine.fix.rollout import Remediation
from .model import TargetSection

#: Wide enough for the longest verdict label.
_LABEL_WIDTH = 29


def verdict_table(section: TargetSection) -> list[str]:
    """One line per required action: verdict and the statement that decided it; then one
    per forbidden action: whether it is proved denied."""
    ids = [entry.id for entry in section.actions] + [entry.id for entry in section.forbidden]
    width = max(map(len, ids), default=0)
    lines = [
        f"{section.role_arn}{section.resource_text}"
        + (f" (target {section.name})" if section.name != "default" else "")
    ]
    for entry in section.actions:
        label = entry.verdict.label
        lines.append(f"  {entry.id:<{width}}  {label:<{_LABEL_WIDTH}}  {entry.deciding_text}")
    if section.forbidden:
        lines.append("  forbidden (must never be allowed):")
    for forbid in section.forbidden:
        decided = forbid.deciding.text if forbid.deciding is not None else "no statement allows it"
        lines.append(f"  {forbid.id:<{width}}  {forbid.label:<{_LABEL_WIDTH}}  {decided}")
    if section.guardrails is not None and section.guardrails.status != "off":
        lines.append(f"  {section.guardrails.summary}")
    used = {value.key: value for entry in section.actions for value in entry.context}
    if used:
        lines.append("  request context the verdicts used:")
        lines.extend(f"    {value.text}" for value in used.values())
    return lines


def remediation_lines(result: Remediation) -> list[str]:
    """The fix plan, or what applying it did, in short."""
    name = result.target.name
    notes = [f"target {name}: note: {note}" for note in result.notes]
    return notes + _plan_lines(result, name)


def _plan_lines(result: Remediation, name: str) -> list[str]:
    plan = result.plan
    if isinstance(plan, str):
        return [f"target {name}: no fix planned: {plan}"]
    if plan.nothing_to_fix:
        return [f"target {name}: nothing to fix: every required action is already allowed"]
    if result.applied is not None:
        shared = [f"  also changed for: {', '.join(plan.shared_with)}"] if plan.shared_with else []
        return (
            [f"target {name}: fixed"]
            + [f"  {line}" for line in result.applied.describe().splitlines()]
            + shared
        )
    if not result.dry_run and plan.can_apply:
        return [f"target {name}: not applied by this run; see the note above"]
    head = "plan (dry run, nothing written)" if result.dry_run else "fix refused, nothing written"
    lines = [f"target {name}: {head}"]
    lines.extend(f"  refused: {refusal}" for refusal in plan.refusals)
    if plan.new_document is None or not plan.added_actions:
        return lines
    lines.append(
        f"  would add {', '.join(plan.added_actions)} to {plan.target_statement} of "
        f"{plan.policy_name} (current default {plan.current_version})"
    )
    if plan.version_to_delete:
        lines.append(
            f"  would first delete {plan.version_to_delete}, the oldest non-default "
            f"version (IAM keeps at most {MAX_POLICY_VERSIONS}), saving its document in "
            "the record"
        )
    else:
        lines.append("  no version would be deleted")
    if plan.shared_with:
        lines.append(f"  the policy is also attached to: {', '.join(plan.shared_with)}")
    lines.append(f"  size: {plan.size} of {MANAGED_POLICY_SIZE_LIMIT:,} characters")
    if plan.proof:
        lines.append(f"  {plan.proof}")
    if plan.second_opinion:
        lines.append(f"  {plan.second_opinion}")
    if result.dry_run:
        lines.append("  new document:")
        document = json.dumps(plan.new_document, indent=4, ensure_ascii=False)
        lines.extend("    " + line for line in document.splitlines())
        lines.append("  diff:")
        lines.extend("    " + line for line in plan.diff.splitlines())
    return lines


def summary_lines(
    sections: Sequence[TargetSection], remediations: Sequence[Remediation]
) -> list[str]:
    """The terminal summary: each target's verdict table, problems and next steps, then fixes.

    With several targets, one that is compliant and has nothing to report takes one line
    (see :func:`one_line`), and a last line counts them: a thousand targets stay readable.
    """
    lines: list[str] = []
    several = len(sections) > 1
    for section in sections:
        if several and _nothing_to_report(section):
            lines.append(one_line(section))
            continue
        lines.extend(verdict_table(section))
        for check in (section.checks.attached, section.checks.trusts_ecs_tasks):
            if not check.ok:
                lines.append(f"  ! {check.message}")
        for forbid in section.not_denied:
            lines.append(f"  ! {forbid.message}")
        for finding in section.findings:
            lines.append(f"  {finding.severity}: [{finding.id}] {finding.message}")
        lines.extend(f"  {step}" for step in section.next_steps)
    for result in remediations:
        lines.extend(remediation_lines(result))
    if several:
        compliant = sum(1 for section in sections if section.compliant)
        lines.append(
            f"{len(sections):,} targets: {compliant:,} compliant, "
            f"{len(sections) - compliant:,} not compliant"
        )
    return lines


def one_line(section: TargetSection) -> str:
    """``target prod: compliant: all 6 required actions allowed (arn:...:role/R)``, and
    when the organization's guardrails could not be read, that they were not checked (the
    header says why, once)."""
    line = (
        f"target {section.name}: compliant: all {len(section.actions)} required actions "
        f"allowed ({section.role_arn})"
    )
    guardrails = section.guardrails
    if guardrails is not None and guardrails.status not in ("off", "checked"):
        line += f"; guardrails (SCPs, RCPs) {guardrails.status.upper()}"
    return line


def _nothing_to_report(section: TargetSection) -> bool:
    return (
        section.compliant
        and not section.findings
        and not section.next_steps
        and all(entry.verdict.value == "allowed" for entry in section.actions)
        and not section.not_denied
    )
