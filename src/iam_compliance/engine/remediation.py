"""Plan the smallest change to a managed policy that grants what is missing.

Planning is pure: it takes parsed policies and the policy's version listing and returns a
:class:`FixPlan` that says exactly what would change, or why nothing should;
:mod:`.rollout` applies it.

The guiding rule is that a fix must never lose anything: every statement of the current
default version is kept as written, and the plan names the one version IAM's limit of five
forces it to delete.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import ConcurrentChangeError, RemediationError
from .evaluation import RolePolicies, evaluate
from .policy import Policy, parse_policy
from .variables import Context

#: IAM keeps at most this many versions of a managed policy.
MAX_POLICY_VERSIONS = 5
#: IAM's size limit for a managed policy document, white space not counted.
MANAGED_POLICY_SIZE_LIMIT = 6_144


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
    arn, version = _fixable(policies, target)
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
    to_delete = _version_to_delete(target, versions)
    refusals.extend(_limits(target, document, versions, to_delete))
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


def _fixable(policies: RolePolicies, target: Policy) -> tuple[str, str]:
    """The ARN and default version of ``target``, refusing a policy --fix cannot change."""
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
    return arn, version


def _limits(
    target: Policy,
    document: Mapping[str, Any],
    versions: Sequence[PolicyVersion],
    to_delete: str | None,
) -> list[str]:
    """Refusals for IAM's limits: the document's size, and the five versions."""
    refusals = []
    size = document_size(document)
    if size > MANAGED_POLICY_SIZE_LIMIT:
        refusals.append(
            f"the proposed document is {size:,} characters (white space not counted); "
            f"IAM's limit for a managed policy is {MANAGED_POLICY_SIZE_LIMIT:,}"
        )
    if to_delete is None and len(versions) >= MAX_POLICY_VERSIONS:
        refusals.append(
            f"{target.label} has {len(versions)} versions and none that is not the "
            "default could be deleted to make room for a new one"
        )
    return refusals


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
