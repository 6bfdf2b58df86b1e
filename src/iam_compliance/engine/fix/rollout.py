"""Apply a :class:`~.planning.FixPlan`: write the new default version safely.

Writing goes through :class:`PolicyStore`, a protocol the AWS adapter and in-memory test
doubles both implement, so the code that writes to IAM is the code the tests exercise.
A version is only deleted when IAM's limit of five forces it, and only after its document
has been saved in the record; a new default that cannot be verified is rolled back.
"""

from __future__ import annotations

import copy
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...errors import ConcurrentChangeError, NotFoundError, RemediationError
from ..evaluate.evaluation import Verdict
from ..policy import PolicyVersion
from ..target import Target
from .planning import MAX_POLICY_VERSIONS, FixPlan
from .steps import (
    MOCK_UNDO,
    PolicyStore,
    create,
    gone_meanwhile,
    make_room,
    roll_back,
)

#: Identifies the layout of the records :func:`apply_fix` saves.
RECORD_SCHEMA = "iam-compliance/remediation/v1"


@dataclass(frozen=True)
class AppliedFix:
    """What applying a fix did: the versions written and deleted, the verification, the
    record; for the terminal and the record."""

    policy_arn: str
    #: The default version before the fix, ``v3``.
    previous_version: str
    #: The new default version.
    new_version: str
    #: The version deleted to make room, if any; its document is in the record.
    deleted_version: str | None
    added_actions: tuple[str, ...]
    #: How many times the new default was checked before every action was allowed.
    verification_attempts: int
    #: The verdicts of the check that passed.
    verdicts: tuple[Verdict, ...]
    #: Where the record was saved, as ``save_record`` reported it.
    record_path: str
    #: The record as saved.
    record: Mapping[str, Any]

    @property
    def rollback_command(self) -> str | None:
        """The aws CLI command that makes the previous version the default again; None in
        mock mode, whose account ends with the run."""
        command = self.record.get("rollback_command")
        return command if isinstance(command, str) else None

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"{self.policy_arn}: {self.new_version} is now the default "
            f"(was {self.previous_version}), adding {', '.join(self.added_actions)}",
        ]
        lines.extend(f"note: {note}" for note in self.record.get("notes") or ())
        if self.deleted_version:
            lines.append(
                f"deleted {self.deleted_version} to stay within IAM's "
                f"{MAX_POLICY_VERSIONS} versions; its document is in the record"
            )
        lines.append(f"verified after {self.verification_attempts} attempt(s)")
        lines.append(f"record: {self.record_path}")
        lines.append(f"to undo: {self.rollback_command or MOCK_UNDO}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Remediation:
    """What --fix or --fix-dry-run did for one target."""

    target: Target
    #: The plan, or why none could be made.
    plan: FixPlan | str
    #: What applying it did; None for a dry run, a refusal or nothing to fix.
    applied: AppliedFix | None
    dry_run: bool
    #: What else happened on the way: concurrent changes, a write another run made moot.
    notes: tuple[str, ...] = ()
    #: Why applying it failed (the run then stops with exit code 4).
    error: str | None = None


def rollback_command(policy_arn: str, version_id: str, endpoint_url: str | None = None) -> str:
    """The aws CLI command that makes ``version_id`` the default version again (at
    ``endpoint_url``, for an account behind AWS_ENDPOINT_URL)."""
    command = (
        f"aws iam set-default-policy-version --policy-arn {shlex.quote(policy_arn)} "
        f"--version-id {shlex.quote(version_id)}"
    )
    if endpoint_url:
        command += f" --endpoint-url {shlex.quote(endpoint_url)}"
    return command


@dataclass(frozen=True)
class FixDestination:
    """Where a fix is applied, as its record states it: a mock fix is not a real one."""

    #: ``mock`` or ``live``.
    mode: str = "live"
    region: str | None = None
    #: The endpoint the writes go to (live mode: the IAM client's, AWS_ENDPOINT_URL or
    #: AWS's own); None in mock mode.
    endpoint_url: str | None = None
    #: Who applies the fix: sts:GetCallerIdentity's Arn (live mode).
    caller_arn: str | None = None


def apply_fix(
    plan: FixPlan,
    store: PolicyStore,
    *,
    account: str,
    verify: Callable[[], Sequence[Verdict]],
    save_record: Callable[[Mapping[str, Any]], str],
    attempts: int = 5,
    delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] | None = None,
    where: FixDestination | None = None,
) -> AppliedFix:
    """Make ``plan.new_document`` the default version of the policy, safely.

    ``verify`` re-reads the role and evaluates the required actions; it is called up to
    ``attempts`` times, ``delay`` seconds apart, because IAM is eventually consistent.
    ``save_record`` is called with the growing record before anything is deleted and
    after every ending; it returns where the record was saved. ``where`` (mode, region,
    endpoint) goes into the record.

    Every write is sent once. When one fails, whatever the error, the versions are read
    back and this run's own document recognised by its content before anything is decided
    or said (:mod:`.readback`): a write IAM applied whose answer was lost is not repeated,
    and every message states what the account holds.
    """
    # Long only because of its docstring: the steps themselves live in .steps.
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if not plan.can_apply or plan.new_document is None:
        why = "; ".join(plan.refusals) or "every required action is already allowed"
        raise RemediationError(f"refusing to change {plan.policy_arn}: {why}")
    arn = plan.policy_arn
    listed = store.list_versions(arn)
    _check_unchanged(plan, listed)
    known = tuple(v.version_id for v in listed)

    record = _new_record(plan, account, (clock or _utc_now)(), where or FixDestination())
    if plan.version_to_delete:
        try:
            deleted = store.get_version_document(arn, plan.version_to_delete)
        except NotFoundError as exc:
            raise gone_meanwhile(plan, exc) from exc
        record["deleted_version"] = {"version_id": plan.version_to_delete, "document": deleted}
    # Saved before any write, so the deleted version's document is on disk before IAM
    # forgets it; if this save fails nothing has been written.
    path = save_record(record)
    if plan.version_to_delete:
        make_room(plan, plan.version_to_delete, store, record, save_record, path)
    new_version = create(plan, plan.new_document, store, record, save_record, path, known)

    verdicts, used, failure = _verify(verify, attempts, delay, sleep)
    record["verification"] = {
        "attempts": used,
        "verdicts": [
            {"action": v.action, "decision": v.decision.value, "reason": v.reason} for v in verdicts
        ],
    }
    if failure is not None:
        roll_back(plan, store, record, new_version, failure, save_record, path)
    path = _save_applied(plan, new_version, record, save_record)
    return AppliedFix(
        policy_arn=arn,
        previous_version=plan.current_version,
        new_version=new_version,
        deleted_version=plan.version_to_delete,
        added_actions=plan.added_actions,
        verification_attempts=used,
        verdicts=tuple(verdicts),
        record_path=path,
        record=record,
    )


def _save_applied(
    plan: FixPlan,
    new_version: str,
    record: dict[str, Any],
    save_record: Callable[[Mapping[str, Any]], str],
) -> str:
    record["status"] = "applied"
    try:
        return save_record(record)
    except Exception as exc:  # the change stands, so say how to undo it
        undo = record["rollback_command"] or MOCK_UNDO
        raise RemediationError(
            f"{plan.policy_arn}: {new_version} is now the default, but saving the record "
            f"failed ({exc}); to undo: {undo}",
            own_version_is_default=True,
        ) from exc


def _new_record(
    plan: FixPlan, account: str, now: datetime, where: FixDestination
) -> dict[str, Any]:
    """The record of a fix about to be applied; it grows as the fix goes on."""
    undo = None
    if where.mode != "mock":
        undo = rollback_command(plan.policy_arn, plan.current_version, where.endpoint_url)
    return {
        "schema": RECORD_SCHEMA,
        "status": "deleting" if plan.version_to_delete else "creating",
        "timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "account": account,
        "mode": where.mode,
        "region": where.region,
        "endpoint_url": where.endpoint_url,
        "caller_arn": where.caller_arn,
        "policy_arn": plan.policy_arn,
        "previous_version": {
            "version_id": plan.current_version,
            "document": copy.deepcopy(dict(plan.current_document)),
        },
        "new_version": None,
        "deleted_version": None,
        "added_actions": list(plan.added_actions),
        "diff": plan.diff,
        "rollback_command": undo,
        "verification": None,
        "error": None,
        # What happened on the way: a write whose answer was lost, found applied.
        "notes": [],
        # The versions as read back after a write failed: what the account really holds.
        "account_state": None,
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_unchanged(plan: FixPlan, versions: Sequence[PolicyVersion]) -> None:
    """Refuse to write when the versions differ from what the plan was made against."""
    default = next((v.version_id for v in versions if v.is_default), None)
    if default != plan.current_version:
        raise ConcurrentChangeError(
            f"{plan.policy_arn}: the default version is now {default or 'missing'}, but "
            f"the fix was planned against {plan.current_version}; nothing was written, "
            "run the check again to plan against the current default"
        )
    ids = {v.version_id for v in versions}
    full = len(versions) >= MAX_POLICY_VERSIONS
    if plan.version_to_delete is None and full:
        raise ConcurrentChangeError(
            f"{plan.policy_arn}: now has {len(versions)} versions, but the fix was planned "
            "without deleting one; nothing was written, run the check again"
        )
    if plan.version_to_delete is not None and (plan.version_to_delete not in ids or not full):
        raise ConcurrentChangeError(
            f"{plan.policy_arn}: the fix was planned to delete {plan.version_to_delete} "
            f"to make room, but the versions are now {', '.join(sorted(ids))}; nothing "
            "was written, run the check again"
        )


def _verify(
    verify: Callable[[], Sequence[Verdict]],
    attempts: int,
    delay: float,
    sleep: Callable[[float], None],
) -> tuple[Sequence[Verdict], int, str | None]:
    """Check the new default until it allows everything; return the last result.

    The third value is None on success, else why the last attempt failed.
    """
    verdicts: Sequence[Verdict] = ()
    failure: str | None = None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(delay)
        try:
            verdicts = verify()
        except Exception as exc:  # an unreadable role is an unverified fix, not a crash
            verdicts, failure = (), f"verification failed: {exc}"
            continue
        refused = [v for v in verdicts if not v.is_allowed]
        if verdicts and not refused:
            return verdicts, attempt, None
        failure = (
            "; ".join(f"{v.action} {v.decision.value}: {v.reason}" for v in refused)
            or "verification returned no verdicts"
        )
    return verdicts, attempts, failure
