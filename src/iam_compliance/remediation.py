"""Plan and apply the smallest change to a managed policy that grants what is missing.

Planning is pure: it takes parsed policies and the policy's version listing and returns a
:class:`FixPlan` that says exactly what would change, or why nothing should. Applying goes
through :class:`PolicyStore`, a protocol the AWS adapter and in-memory test doubles both
implement, so the code that writes to IAM is the code the tests exercise.

The guiding rule is that a fix must never lose anything: every statement of the current
default version is kept as written, a version is only deleted when IAM's limit of five
forces it (and only after its document has been saved), and a new default that cannot be
verified is rolled back to the previous one.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

from .errors import ConcurrentChangeError, IamComplianceError, NotFoundError
from .evaluation import Context, RolePolicies, Verdict, evaluate
from .policy import Policy, parse_policy

#: IAM keeps at most this many versions of a managed policy.
MAX_POLICY_VERSIONS = 5
#: IAM's size limit for a managed policy document, white space not counted.
MANAGED_POLICY_SIZE_LIMIT = 6_144
#: Identifies the layout of the records :func:`apply_fix` saves.
RECORD_SCHEMA = "iam-compliance/remediation/v1"


class RemediationError(IamComplianceError):
    """A fix was refused, or applying it failed part-way.

    ``record_path`` is where the record of the attempt was saved, when one was.
    """

    def __init__(self, message: str, *, record_path: str | None = None) -> None:
        self.record_path = record_path
        super().__init__(message)


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a managed policy, as IAM lists it."""

    #: The version id, ``v3``.
    version_id: str
    is_default: bool
    #: IAM's CreateDate; decides which version is the oldest.
    created: datetime


@dataclass(frozen=True)
class BlockedAction:
    """A required action that adding an Allow to the policy would not grant."""

    action: str
    #: The verdict's reason, naming the Deny statement or boundary that blocks it.
    reason: str


@dataclass(frozen=True)
class FixPlan:
    """What a fix would change in one managed policy, and whether it may be applied."""

    policy_arn: str
    policy_name: str
    #: The default version the plan was made from, ``v3``.
    current_version: str
    #: A copy of that version's document, kept for the record and for the diff.
    current_document: Mapping[str, Any]
    #: The proposed document; None when nothing can be added.
    new_document: dict[str, Any] | None
    #: Actions added to the document, in the order they were required.
    added_actions: tuple[str, ...]
    #: Label of the statement appended to, or of the new statement.
    target_statement: str | None
    #: Required actions the proposed document still would not allow.
    blocked: tuple[BlockedAction, ...]
    #: The oldest non-default version, to delete when IAM's five versions already exist.
    version_to_delete: str | None
    #: Unified diff of the current and the proposed document (empty when nothing changes).
    diff: str
    #: Characters of the proposed document, white space not counted (0 when there is none).
    size: int
    #: Why the plan cannot be applied: blocked actions, a document over the size limit.
    refusals: tuple[str, ...]

    @property
    def nothing_to_fix(self) -> bool:
        """True when every required action is already allowed."""
        return not self.added_actions and not self.blocked

    @property
    def can_apply(self) -> bool:
        """True when there is a new document and nothing stands in the way of writing it."""
        return self.new_document is not None and not self.refusals


def plan_fix(
    policies: RolePolicies,
    target: Policy,
    required: Sequence[str],
    resource: str,
    versions: Sequence[PolicyVersion],
    context: Context | None = None,
) -> FixPlan:
    """Plan the smallest change to ``target`` that allows every ``required`` action.

    ``policies`` is everything that applies to the role, ``target`` among its identity
    policies; ``versions`` is IAM's listing of ``target``'s versions. Raises
    :class:`RemediationError` when ``target`` is not an attached customer-managed policy,
    and :class:`~iam_compliance.errors.ConcurrentChangeError` when the listing names another
    default version than the one ``target`` was read from.
    """
    arn, version = target.arn, target.version
    if target.kind != "managed" or arn is None or version is None:
        raise RemediationError(
            f"{target.label}: only a customer-managed policy with an ARN and a default "
            f"version can be fixed; got a {target.kind} policy"
        )
    if not any(policy.arn == target.arn for policy in policies.identity):
        raise RemediationError(
            f"{target.label} ({target.arn}) is not among the role's identity policies; "
            "expected the policy to fix to be attached to the role"
        )
    wanted = tuple(dict.fromkeys(required))
    current = copy.deepcopy(dict(target.document))

    before = {action: evaluate(policies, action, resource, context) for action in wanted}
    missing = [action for action in wanted if not before[action].is_allowed]
    if not missing:
        return _plan(target, arn, version, current)

    # Try every missing action at once, then see what the candidate really grants: an
    # explicit Deny, the boundary or an undecidable condition can each keep an action
    # refused however the policy is changed, and adding such an action would be noise.
    candidate, _ = _with_actions(current, missing, resource)
    after_policies = _replacing(policies, _reparse(candidate, target))
    blocked: list[BlockedAction] = []
    for action in wanted:
        verdict = evaluate(after_policies, action, resource, context)
        if not verdict.is_allowed:
            blocked.append(BlockedAction(action, verdict.reason))
    refusals = [
        f"{item.action} cannot be granted by changing {target.name}: {item.reason}"
        for item in blocked
    ]

    grantable = tuple(a for a in missing if a not in {item.action for item in blocked})
    if not grantable:
        return _plan(target, arn, version, current, blocked=blocked, refusals=refusals)

    document, index = _with_actions(current, grantable, resource)
    label = _reparse(document, target).statements[index].label
    size = document_size(document)
    if size > MANAGED_POLICY_SIZE_LIMIT:
        refusals.append(
            f"the proposed document is {size:,} characters (white space not counted); "
            f"IAM's limit for a managed policy is {MANAGED_POLICY_SIZE_LIMIT:,}"
        )
    to_delete = _version_to_delete(target, versions)
    if to_delete is None and len(versions) >= MAX_POLICY_VERSIONS:
        refusals.append(
            f"{target.label} has {len(versions)} versions and none that is not the "
            "default could be deleted to make room for a new one"
        )
    return _plan(
        target,
        arn,
        version,
        current,
        document=document,
        added=grantable,
        label=label,
        blocked=blocked,
        to_delete=to_delete,
        refusals=refusals,
    )


def document_size(document: Mapping[str, Any]) -> int:
    """Characters of ``document`` as IAM counts them against its limits.

    Compact JSON has no white space outside strings, so its length is the size.
    """
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def _plan(
    target: Policy,
    arn: str,
    version: str,
    current: dict[str, Any],
    *,
    document: dict[str, Any] | None = None,
    added: Sequence[str] = (),
    label: str | None = None,
    blocked: Sequence[BlockedAction] = (),
    to_delete: str | None = None,
    refusals: Sequence[str] = (),
) -> FixPlan:
    return FixPlan(
        policy_arn=arn,
        policy_name=target.name,
        current_version=version,
        current_document=current,
        new_document=document,
        added_actions=tuple(added),
        target_statement=label,
        blocked=tuple(blocked),
        version_to_delete=to_delete,
        diff=_diff(target.name, version, current, document),
        size=0 if document is None else document_size(document),
        refusals=tuple(refusals),
    )


def _with_actions(
    current: Mapping[str, Any], actions: Sequence[str], resource: str
) -> tuple[dict[str, Any], int]:
    """Return a copy of ``current`` that also allows ``actions`` on ``resource``.

    The second value is the index of the statement that now carries them.
    """
    document = copy.deepcopy(dict(current))
    body = document["Statement"]
    statements: list[Any] = [body] if isinstance(body, Mapping) else body
    for index, statement in enumerate(statements):
        if _can_extend(statement, resource):
            granted = statement["Action"]
            granted = [granted] if isinstance(granted, str) else granted
            statement["Action"] = granted + [a for a in actions if a not in granted]
            return document, index
    statements = [*statements, _new_statement(statements, actions, resource)]
    document["Statement"] = statements
    return document, len(statements) - 1


def _can_extend(statement: Any, resource: str) -> bool:
    """True for an unconditional Allow of ``Action`` on exactly ``resource``.

    Appending to anything looser or narrower would change what its other actions mean
    (a condition would start to govern the new actions, an extra resource would be granted
    them too), so only this exact shape is extended.
    """
    return (
        isinstance(statement, Mapping)
        and statement.get("Effect") == "Allow"
        and "Action" in statement
        and "NotAction" not in statement
        and "Condition" not in statement
        and statement.get("Resource") in (resource, [resource])
    )


def _new_statement(
    statements: Sequence[Any], actions: Sequence[str], resource: str
) -> dict[str, Any]:
    taken = {
        s["Sid"].lower()
        for s in statements
        if isinstance(s, Mapping) and isinstance(s.get("Sid"), str)
    }
    base = _sid_for(resource)
    sid, number = base, 1
    while sid.lower() in taken:
        number += 1
        sid = f"{base}{number}"
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}


def _sid_for(resource: str) -> str:
    """``arn:...:table/ml-jobs`` -> ``IamComplianceMlJobsTable`` (Sids are alphanumeric)."""
    path = resource.split(":", 5)[-1]
    kind, _, name = path.partition("/")
    if not name:
        kind, name = "", kind
    words = re.findall(r"[A-Za-z0-9]+", name.split("/")[0]) + re.findall(r"[A-Za-z0-9]+", kind)
    return "IamCompliance" + ("".join(w[:1].upper() + w[1:] for w in words) or "Grant")


def _reparse(document: Mapping[str, Any], target: Policy) -> Policy:
    return parse_policy(
        document,
        name=target.name,
        kind=target.kind,
        arn=target.arn,
        origin=f"{target.name} (proposed new version)",
    )


def _replacing(policies: RolePolicies, candidate: Policy) -> RolePolicies:
    identity = tuple(
        candidate if policy.arn == candidate.arn else policy for policy in policies.identity
    )
    return RolePolicies(identity=identity, boundary=policies.boundary)


def _version_to_delete(target: Policy, versions: Sequence[PolicyVersion]) -> str | None:
    default = next((v.version_id for v in versions if v.is_default), None)
    if default != target.version:
        raise ConcurrentChangeError(
            f"{target.name} ({target.arn}): the version listing names "
            f"{default or 'no version'} as the default, but the document read is "
            f"{target.version}; re-read the policy and plan again"
        )
    if len(versions) < MAX_POLICY_VERSIONS:
        return None
    spare = [v for v in versions if not v.is_default]
    return min(spare, key=lambda v: v.created).version_id if spare else None


def _diff(
    name: str, version: str, current: Mapping[str, Any], proposed: Mapping[str, Any] | None
) -> str:
    if proposed is None:
        return ""
    lines = difflib.unified_diff(
        _pretty(current).splitlines(keepends=True),
        _pretty(proposed).splitlines(keepends=True),
        fromfile=f"{name} {version} (current default)",
        tofile=f"{name} (proposed new version)",
    )
    return "".join(lines)


def _pretty(document: Mapping[str, Any]) -> str:
    # Key order is kept, not sorted, so the diff shows the document as IAM stores it.
    return json.dumps(document, indent=4, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- applying


class PolicyStore(Protocol):
    """The writes and reads of a managed policy's versions that applying a fix needs."""

    def list_versions(self, policy_arn: str) -> list[PolicyVersion]: ...

    def get_version_document(self, policy_arn: str, version_id: str) -> dict[str, Any]: ...

    def create_default_version(self, policy_arn: str, document: Mapping[str, Any]) -> str:
        """Create a version from ``document``, make it the default, return its id."""
        ...

    def delete_version(self, policy_arn: str, version_id: str) -> None: ...

    def set_default_version(self, policy_arn: str, version_id: str) -> None: ...


@dataclass(frozen=True)
class FixOutcome:
    """What applying a fix did, for the terminal and the record."""

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
    def rollback_command(self) -> str:
        """The aws CLI command that makes the previous version the default again."""
        return rollback_command(self.policy_arn, self.previous_version)

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"{self.policy_arn}: {self.new_version} is now the default "
            f"(was {self.previous_version}), adding {', '.join(self.added_actions)}",
        ]
        if self.deleted_version:
            lines.append(
                f"deleted {self.deleted_version} to stay within IAM's "
                f"{MAX_POLICY_VERSIONS} versions; its document is in the record"
            )
        lines.append(f"verified after {self.verification_attempts} attempt(s)")
        lines.append(f"record: {self.record_path}")
        lines.append(f"to undo: {self.rollback_command}")
        return "\n".join(lines)


def rollback_command(policy_arn: str, version_id: str) -> str:
    """The aws CLI command that makes ``version_id`` the default version again."""
    return (
        f"aws iam set-default-policy-version --policy-arn {shlex.quote(policy_arn)} "
        f"--version-id {shlex.quote(version_id)}"
    )


def record_filename(now: datetime) -> str:
    """``remediation-20261127T221405Z.json`` for a timezone-aware ``now``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(
            f"record_filename needs a timezone-aware datetime, got naive {now.isoformat()}"
        )
    return f"remediation-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"


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
) -> FixOutcome:
    """Make ``plan.new_document`` the default version of the policy, safely.

    ``verify`` re-reads the role and evaluates the required actions; it is called up to
    ``attempts`` times, ``delay`` seconds apart, because IAM is eventually consistent.
    ``save_record`` is called with the growing record before anything is deleted and
    after every outcome; it returns where the record was saved.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if not plan.can_apply or plan.new_document is None:
        why = "; ".join(plan.refusals) or "every required action is already allowed"
        raise RemediationError(f"refusing to change {plan.policy_arn}: {why}")
    arn = plan.policy_arn
    _check_unchanged(plan, store.list_versions(arn))

    now = (clock or _utc_now)()
    record: dict[str, Any] = {
        "schema": RECORD_SCHEMA,
        "status": "deleting" if plan.version_to_delete else "creating",
        "timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "account": account,
        "policy_arn": arn,
        "previous_version": {
            "version_id": plan.current_version,
            "document": copy.deepcopy(dict(plan.current_document)),
        },
        "new_version": None,
        "deleted_version": None,
        "added_actions": list(plan.added_actions),
        "diff": plan.diff,
        "rollback_command": rollback_command(arn, plan.current_version),
        "verification": None,
        "error": None,
    }
    if plan.version_to_delete:
        try:
            deleted = store.get_version_document(arn, plan.version_to_delete)
        except NotFoundError as exc:
            raise _gone_meanwhile(plan, exc) from exc
        record["deleted_version"] = {"version_id": plan.version_to_delete, "document": deleted}
    # Saved before any write, so the deleted version's document is on disk before IAM
    # forgets it; if this save fails nothing has been written.
    path = save_record(record)
    if plan.version_to_delete:
        try:
            store.delete_version(arn, plan.version_to_delete)
        except NotFoundError as exc:  # someone else deleted it since the listing
            gone = _gone_meanwhile(plan, exc)
            record.update(status="failed", error=str(gone))
            _save_again(save_record, record, path)
            raise gone from exc
        except Exception as exc:  # the record says "deleting": correct it before raising
            record.update(status="failed", error=f"deleting {plan.version_to_delete} failed: {exc}")
            path, note = _save_again(save_record, record, path)
            raise RemediationError(
                f"{arn}: deleting {plan.version_to_delete} to make room failed ({exc}); no new "
                f"version was created and the default version is unchanged "
                f"({plan.current_version}). {plan.version_to_delete}'s document is saved in "
                f"{path} under .deleted_version.document{note}",
                record_path=path,
            ) from exc

    try:
        new_version = store.create_default_version(arn, plan.new_document)
    except Exception as exc:  # whatever the store raised, the record must say so
        record.update(status="failed", error=f"creating the new version failed: {exc}")
        path, note = _save_again(save_record, record, path)
        raise RemediationError(_create_failed(plan, path, exc) + note, record_path=path) from exc
    record["new_version"] = {
        "version_id": new_version,
        "document": copy.deepcopy(plan.new_document),
    }

    verdicts, used, failure = _verify(verify, attempts, delay, sleep)
    record["verification"] = {
        "attempts": used,
        "verdicts": [
            {"action": v.action, "decision": v.decision.value, "reason": v.reason} for v in verdicts
        ],
    }
    if failure is not None:
        _roll_back(plan, store, record, new_version, failure, save_record, path)

    record["status"] = "applied"
    try:
        path = save_record(record)
    except Exception as exc:  # the change stands, so say how to undo it
        raise RemediationError(
            f"{arn}: {new_version} is now the default, but saving the record failed "
            f"({exc}); to undo: {rollback_command(arn, plan.current_version)}"
        ) from exc
    return FixOutcome(
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


def _gone_meanwhile(plan: FixPlan, exc: Exception) -> ConcurrentChangeError:
    return ConcurrentChangeError(
        f"{plan.policy_arn}: {plan.version_to_delete}, which the fix was to delete to make "
        f"room, was deleted by someone else meanwhile ({exc}); nothing was written"
    )


def _create_failed(plan: FixPlan, path: str, exc: Exception) -> str:
    head = (
        f"{plan.policy_arn}: creating the new version failed ({exc}); the default version "
        f"is unchanged ({plan.current_version})"
    )
    if not plan.version_to_delete:
        return f"{head}. Record: {path}"
    restored = f"{plan.policy_name}-{plan.version_to_delete}.json"
    return (
        f"{head}, but {plan.version_to_delete} had already been deleted to make room. "
        f"Its document is saved in {path} under .deleted_version.document; to restore it "
        f"as a non-default version run: jq .deleted_version.document {shlex.quote(path)} > "
        f"{shlex.quote(restored)} && aws iam create-policy-version --policy-arn "
        f"{shlex.quote(plan.policy_arn)} --policy-document file://{shlex.quote(restored)}"
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


def _roll_back(
    plan: FixPlan,
    store: PolicyStore,
    record: dict[str, Any],
    new_version: str,
    failure: str,
    save_record: Callable[[Mapping[str, Any]], str],
    path: str,
) -> NoReturn:
    """Make the previous version the default again, record it, and raise."""
    arn, previous = plan.policy_arn, plan.current_version
    unverified = f"{new_version} did not verify after {record['verification']['attempts']} "
    unverified += f"attempt(s) ({failure})"
    try:
        store.set_default_version(arn, previous)
    except Exception as exc:  # the unverified version is still the default: say so
        record.update(status="failed", error=f"{unverified}; rolling back failed: {exc}")
        path, note = _save_again(save_record, record, path)
        raise RemediationError(
            f"{arn}: {unverified}, and making {previous} the default again failed ({exc}); "
            f"{new_version} is still the default. Run: {rollback_command(arn, previous)} "
            f"(record: {path}){note}",
            record_path=path,
        ) from exc
    record.update(status="rolled back", error=unverified)
    path, note = _save_again(save_record, record, path)
    raise RemediationError(
        f"{arn}: {unverified}; rolled back, {previous} is the default again and "
        f"{new_version} is kept as a non-default version (record: {path}){note}",
        record_path=path,
    )


def _save_again(
    save_record: Callable[[Mapping[str, Any]], str], record: Mapping[str, Any], path: str
) -> tuple[str, str]:
    """Save ``record`` while already failing; return its path and a note if saving failed.

    The earlier save at ``path`` still holds every document read so far, so the error
    being raised points there rather than being replaced by the save error.
    """
    try:
        return save_record(record), ""
    except Exception as exc:  # keep the original failure the one that is reported
        return path, f" (saving the updated record failed: {exc}; {path} has the earlier one)"
