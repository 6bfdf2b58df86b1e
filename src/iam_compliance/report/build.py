"""Build the report model from what the engine judged.

Pure: an :class:`~iam_compliance.engine.evaluate.assessment.Assessment`, fix plans and what
applying them did in; :mod:`.model` values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from .. import __version__
from ..engine.evaluate.applicability import Evidence
from ..engine.evaluate.assessment import Assessment
from ..engine.evaluate.decision import Decision
from ..engine.evaluate.evaluation import Verdict
from ..engine.evaluate.guardrails import Reading
from ..engine.evaluate.privilege import Finding
from ..engine.evaluate.request import RequestContext
from ..engine.evaluate.trust import CheckResult
from ..engine.fix.planning import FixPlan, widening_reason
from ..engine.fix.rollout import Remediation
from .document import SCHEMA, ChecksEntry, ErrorEntry, ReportDocument, RowPayload, TestEntry, Tool
from .fixes import plan_entry, remediation_entry
from .labels import CheckKind, EvidenceKind, Status, VerdictCode
from .model import (
    ActionEntry,
    CheckEntry,
    Checks,
    ContextValue,
    Deciding,
    EvidenceEntry,
    FindingEntry,
    ForbiddenEntry,
    GuardrailsEntry,
    LevelEntry,
    TargetSection,
)

#: How a hint names --fix-dry-run and --fix when it does not know the run's names.
FIX_OPTIONS = ("--iam-fix-dry-run", "--iam-fix")


def verdict_code(verdict: Verdict) -> VerdictCode:
    if verdict.is_conditional:
        return VerdictCode.CONDITIONAL
    if verdict.is_allowed:
        return VerdictCode.ALLOWED
    if verdict.decision is Decision.UNDECIDED:
        return VerdictCode.UNDECIDED
    return VerdictCode.DENIED


def target_section(
    assessment: Assessment,
    *,
    remediation: Remediation | None,
    proposed: FixPlan | None,
    fixing: bool,
    command: str | None = None,
    live: bool = False,
    fix_options: tuple[str, str] = FIX_OPTIONS,
) -> TargetSection:
    """Everything judged about one target, written field by field: the target may hold
    credentials, which never leave the process. ``proposed`` is the fix planned and
    proved by :func:`iam_compliance.engine.fix.proposal.plan_and_prove`; ``command`` checks
    the target again (the hints repeat it, with ``fix_options``, the run's names for
    ``--iam-fix-dry-run`` and ``--iam-fix``); ``live``: say where and as whom it was read."""
    target, snapshot = assessment.target, assessment.snapshot
    policy = assessment.target_policy
    return TargetSection(
        name=target.name,
        account=snapshot.account_id,
        region=target.region,
        role_arn=snapshot.role_arn,
        policy_arn=assessment.policy_arn,
        table_arn=target.table_arn,
        default_version=policy.version if policy is not None else None,
        compliant=assessment.is_compliant,
        actions=tuple(
            action_entry(
                verdict,
                assessment.reason_for(rid),
                rid,
                # The context of the request as judged: its resource's account and tags.
                assessment.context_for(verdict.action, verdict.resource),
            )
            for rid, verdict in assessment.verdicts.items()
        ),
        checks=Checks(
            attached=check_entry(assessment.attachment),
            trusts_ecs_tasks=check_entry(assessment.trust),
        ),
        findings=tuple(finding_entry(f) for f in assessment.findings),
        next_steps=tuple(
            next_steps(assessment, fixing=fixing, command=command, fix_options=fix_options)
        ),
        proposed_fix=plan_entry(proposed) if proposed is not None else None,
        remediation=remediation_entry(remediation) if remediation is not None else None,
        request_context=tuple(
            ContextValue(entry.key, entry.shown, entry.source)
            for entry in assessment.request_context.entries
        ),
        guardrails=guardrails_entry(assessment.guardrails),
        endpoint_url=snapshot.endpoint_url if live else None,
        caller_arn=snapshot.caller_arn if live else None,
        command=command,
        forbidden=tuple(forbidden_entry(assessment, forbid.id) for forbid in assessment.forbidden),
        trusted_service=assessment.trusted_service,
        fix_options=fix_options,
    )


def forbidden_entry(assessment: Assessment, forbid_id: str) -> ForbiddenEntry:
    """The forbidden check of one ``[[forbid]]`` entry, with its verdict's evidence."""
    verdict = assessment.forbidden_verdicts[forbid_id]
    check = assessment.forbidden_check(forbid_id)
    entry = action_entry(verdict, "", forbid_id)
    return ForbiddenEntry(
        id=forbid_id,
        action=verdict.action,
        resource=verdict.resource,
        forbidden_because=next(f.reason for f in assessment.forbidden if f.id == forbid_id),
        verdict=entry.verdict,
        decision=entry.decision,
        reason=entry.reason,
        deciding=entry.deciding,
        evidence=entry.evidence,
        assumes_absent=entry.assumes_absent,
        ok=check.ok,
        message=check.message,
    )


def guardrails_entry(reading: Reading) -> GuardrailsEntry:
    found = reading.guardrails
    levels: list[LevelEntry] = []
    if found is not None:
        rcps = {level.id: level for level in found.rcps}
        for level in found.scps:
            rcp_level = rcps.get(level.id)
            levels.append(
                LevelEntry(
                    kind=level.kind,
                    id=level.id,
                    name=level.name,
                    scps=tuple(p.name for p in level.policies),
                    rcps=tuple(p.name for p in rcp_level.policies) if rcp_level else (),
                )
            )
    return GuardrailsEntry(
        status=reading.status,
        summary=reading.describe(),
        organization_id=reading.organization_id,
        read_by=found.read_by if found is not None else None,
        levels=tuple(levels),
    )


def action_entry(
    verdict: Verdict,
    needed_for: str,
    requirement_id: str | None = None,
    context: RequestContext | None = None,
) -> ActionEntry:
    deciding = verdict.deciding
    groups: Sequence[tuple[EvidenceKind, Iterable[Evidence]]] = (
        (EvidenceKind.DENIED_BY, verdict.denied_by),
        (EvidenceKind.UNDECIDED_BY, verdict.undecided_by),
        (EvidenceKind.ALLOWED_BY, verdict.allowed_by),
        (EvidenceKind.RESOURCE_ALLOWED_BY, verdict.resource_allowed_by),
        (EvidenceKind.BOUNDARY_ALLOWED_BY, verdict.boundary_allowed_by),
    )
    return ActionEntry(
        action=verdict.action,
        needed_for=needed_for,
        verdict=verdict_code(verdict),
        decision=verdict.decision.value,
        reason=verdict.reason,
        deciding=Deciding(deciding.policy, deciding.statement) if deciding is not None else None,
        evidence=tuple(
            EvidenceEntry(
                kind=kind,
                policy=evidence.policy,
                statement=evidence.statement,
                effect=evidence.effect,
                condition_keys=evidence.condition_keys,
                note=evidence.note,
            )
            for kind, group in groups
            for evidence in group
        ),
        id=requirement_id or verdict.action,
        resource=verdict.resource,
        context=tuple(_context_used(verdict.keys_used, context)),
        assumes_absent=verdict.assumed_absent,
    )


def _context_used(keys: Iterable[str], context: RequestContext | None) -> list[ContextValue]:
    found = []
    for key in keys:
        entry = context.entry(key) if context is not None else None
        if entry is None:
            found.append(ContextValue(key, (), "absent"))
        else:
            found.append(ContextValue(entry.key, entry.shown, entry.source))
    return found


def check_entry(check: CheckResult) -> CheckEntry:
    return CheckEntry(ok=check.ok, message=check.message)


def finding_entry(finding: Finding) -> FindingEntry:
    return FindingEntry(
        id=finding.id,
        severity=finding.severity,
        policy=finding.policy,
        statement=finding.statement,
        message=finding.message,
    )


#: Decisions no Allow in the task policy can change.
_BLOCKED = (Decision.EXPLICIT_DENY, Decision.BOUNDARY_DENY, Decision.GUARDRAIL_DENY)


def next_steps(
    assessment: Assessment,
    *,
    fixing: bool,
    command: str | None = None,
    fix_options: tuple[str, str] = FIX_OPTIONS,
) -> list[str]:
    """What to do about the missing actions: the --fix command, or what keeps --fix out;
    and about a forbidden action that is not proved denied.

    ``command`` is the pytest command of this run (its mode, env files and options), which
    the hint repeats: a hint that dropped ``--aws-mode live`` would "fix" the mock account.
    ``fix_options`` are the run's names for --fix-dry-run and --fix.
    """
    lines: list[str] = []
    dry_run, fix = fix_options
    fixable = 0
    for rid in assessment.missing_ids:
        verdict = assessment.verdicts[rid]
        if verdict.decision in _BLOCKED:
            lines.append(f"{rid} cannot be fixed by adding an Allow: {verdict.reason}")
        elif (why := widening_reason(verdict)) is not None:
            lines.append(f"{rid}: {why}")
        else:
            fixable += 1
    if fixable and not fixing:
        run = command or "pytest"
        lines.append(
            f"to add the missing actions to the task policy, run: {run} {dry_run}  (then {fix})"
        )
    for fid in assessment.forbidden_failures:
        deciding = assessment.forbidden_verdicts[fid].deciding
        if assessment.forbidden_verdicts[fid].is_allowed and deciding is not None:
            lines.append(
                f"{fid} must never be allowed: narrow or remove {deciding.statement} of "
                f"{deciding.policy} yourself ({fix} adds grants, it never removes one)"
            )
    return lines


def row_payload(check: CheckKind | None, action: str | None, assessment: Assessment) -> RowPayload:
    """What one test's report carries: which check, and its verdict for the row's columns."""
    name = assessment.target.name
    if check is CheckKind.ACTION and action is not None:
        verdict = assessment.verdicts[action]  # ``action`` is the requirement's id
        code = verdict_code(verdict)
        deciding = verdict.deciding
        detail = (
            f"{deciding.policy}, {deciding.statement}" if deciding else "no statement allows it"
        )
        return RowPayload(name, check, action, code.label, code.status, detail)
    if check is CheckKind.ALL_ACTIONS:
        total, missing = len(assessment.verdicts), assessment.missing
        return RowPayload(
            name,
            check,
            action,
            f"{total - len(missing)} of {total} allowed",
            Status.FAIL if missing else Status.OK,
            ("missing: " + ", ".join(assessment.missing_ids)) if missing else "",
        )
    if check is CheckKind.FORBIDDEN and action is not None:
        entry = forbidden_entry(assessment, action)  # ``action`` is the forbid's id
        decided = entry.deciding.text if entry.deciding is not None else "no statement allows it"
        return RowPayload(name, check, action, entry.label, entry.status, decided)
    if check in (CheckKind.ATTACHED, CheckKind.TRUST):
        attached = check is CheckKind.ATTACHED
        found = assessment.attachment if attached else assessment.trust
        service = assessment.trusted_service
        who = "ECS tasks" if service == "ecs-tasks.amazonaws.com" else service
        words = (
            ("attached", "not attached")
            if attached
            else (f"{who} may assume it", f"{who} may not assume it")
        )
        return RowPayload(
            name,
            check,
            action,
            words[0] if found.ok else words[1],
            Status.OK if found.ok else Status.FAIL,
            found.message,
        )
    if check is CheckKind.LEAST_PRIVILEGE:
        failing = assessment.failing_findings
        return RowPayload(
            name,
            check,
            action,
            f"{len(failing)} broader grant(s)" if failing else "no broader grants",
            Status.FAIL if failing else Status.OK,
            "; ".join(f"[{f.id}] {f.policy}, {f.statement}" for f in failing),
        )
    return RowPayload(name, check, action, "", Status.OK, "")


def report_document(
    *,
    generated_at: datetime,
    mode: str,
    policy_file: str | None,
    context: Mapping[str, tuple[str, ...]],
    exit_status: int | None,
    sections: Sequence[TargetSection],
    tests: Sequence[TestEntry],
    error: ErrorEntry | None = None,
    checks: ChecksEntry | None = None,
) -> ReportDocument:
    """The whole of compliance.json; ``error`` says why the run could not check or did
    not finish, ``checks`` how many of the suite's checks ran.

    Only a complete run (it finished, exit code 0 or 1, with no error and every check
    run) can say ``compliant``: a partial or unfinished one is never read as a pass.
    """
    partial = checks is None or checks.partial
    complete = error is None and exit_status in (0, 1) and not partial
    return ReportDocument(
        schema=SCHEMA,
        generated_at=utc_text(generated_at),
        tool=Tool("iam-compliance", __version__),
        mode=mode,
        policy_file=policy_file,
        context=dict(context),
        exit_status=exit_status,
        compliant=complete and bool(sections) and all(s.compliant for s in sections),
        tests=tuple(tests),
        targets=tuple(sections),
        error=error,
        complete=complete,
        partial=partial,
        checks=checks,
    )


def utc_text(moment: datetime) -> str:
    """``2026-11-27T22:14:05Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
