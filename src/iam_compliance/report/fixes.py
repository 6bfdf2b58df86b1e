"""The report's entries of a fix: the plan (proposed, or what --fix-dry-run and --fix
planned) and what applying it did."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import cast

from ..engine.fix.planning import FixPlan
from ..engine.fix.rollout import Remediation
from .labels import RemediationStatus
from .model import BlockedEntry, JSONObject, PlanEntry, RemediationEntry


def plan_entry(plan: FixPlan) -> PlanEntry:
    return PlanEntry(
        policy_arn=plan.policy_arn,
        policy_name=plan.policy_name,
        current_version=plan.current_version,
        added_actions=plan.added_actions,
        statement=plan.target_statement,
        blocked=tuple(BlockedEntry(b.action, b.reason) for b in plan.blocked),
        refusals=plan.refusals,
        size=plan.size,
        diff=plan.diff,
        new_document=plain(plan.new_document),
        proof=plan.proof,
        shared_with=plan.shared_with,
        second_opinion=plan.second_opinion,
    )


def remediation_entry(result: Remediation) -> RemediationEntry:
    """What --fix or --fix-dry-run did: the record when a fix was applied, else the plan."""
    plan = result.plan
    if isinstance(plan, str):
        return RemediationEntry(
            status=RemediationStatus.NOT_PLANNED,
            dry_run=result.dry_run,
            reason=plan,
            plan=None,
            version_to_delete=None,
            record_path=None,
            record=None,
            notes=result.notes,
        )
    record_path, record = None, None
    if plan.nothing_to_fix:
        status = RemediationStatus.NOTHING_TO_FIX
    elif result.applied is not None:
        status = RemediationStatus.APPLIED
        record_path, record = result.applied.record_path, plain(result.applied.record)
    elif result.dry_run:
        status = RemediationStatus.DRY_RUN
    elif plan.can_apply:
        status = RemediationStatus.NOT_APPLIED
    else:
        status = RemediationStatus.REFUSED
    return RemediationEntry(
        status=status,
        dry_run=result.dry_run,
        reason=None,
        plan=plan_entry(plan),
        version_to_delete=plan.version_to_delete,
        record_path=record_path,
        record=record,
        notes=result.notes,
    )


def plain(value: Mapping[str, object] | None) -> JSONObject | None:
    """A JSON-only copy of a document or record (dicts, lists, strings, numbers)."""
    return None if value is None else cast(JSONObject, json.loads(json.dumps(value)))
