"""Plan the smallest change to a managed policy that grants what is missing.

Planning is pure: it takes parsed policies and the policy's version listing and returns a
:class:`FixPlan` that says exactly what would change, or why nothing should;
:mod:`.rollout` applies it.

The guiding rule is that a fix must never lose anything: every statement of the current
default version is kept as written, and the plan names the one version IAM's limit of five
forces it to delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ...errors import ConcurrentChangeError, RemediationError
from ..evaluate.evaluation import Judge, Verdict, evaluate
from ..evaluate.variables import Context
from ..policy import Policy, PolicyVersion, RolePolicies, parse_policy
from ..requirements import Need
from .documents import copied, diff_documents, document_size, with_needs

#: IAM keeps at most this many versions of a managed policy.
MAX_POLICY_VERSIONS = 5
#: IAM's size limit for a managed policy document, white space not counted.
MANAGED_POLICY_SIZE_LIMIT = 6_144


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
    #: Requirements added to the document (their ids: ``dynamodb:Scan``,
    #: ``dynamodb:Query@index/*``), in the order they were required.
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
    #: What comparing the current and the proposed document found (:mod:`.proof`); None
    #: when no proof was made.
    proof: str | None = None
    #: The other roles, users and groups the policy is attached to (``role/Other``):
    #: a new default version changes their permissions too.
    shared_with: tuple[str, ...] = ()
    #: Live --fix and --fix-dry-run: IAM Access Analyzer's CheckNoNewAccess on the proposed
    #: document, or why it could not be asked (one line).
    second_opinion: str | None = None

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
    required: Sequence[str | Need],
    resource: str,
    versions: Sequence[PolicyVersion],
    context: Context | None = None,
    *,
    judge: Judge | None = None,
    decisions: Judge | None = None,
    shared_with: Sequence[str] = (),
    allow_shared: bool = False,
) -> FixPlan:
    """Plan the smallest change to ``target`` that allows every ``required`` action.

    ``policies`` is everything that applies to the role, ``target`` among its identity
    policies; ``versions`` is IAM's listing of ``target``'s versions. A required action
    given by name is needed on ``resource``. ``judge`` evaluates a request as the run
    models it; by default with ``context`` alone. ``decisions`` decides as ``judge`` does,
    perhaps with less wording (:meth:`.Assessment.decide`): what the candidate allows is
    asked of it, and ``judge`` words only what it does not. Raises :class:`RemediationError` when
    ``target`` is not an attached customer-managed policy, and
    :class:`~iam_compliance.errors.ConcurrentChangeError` when the listing names another
    default version than the one ``target`` was read from.

    The fix never widens a grant: when a statement already grants a missing action on
    its resource under a condition this request does not meet (or on a Resource whose
    policy variable has no value here), adding an unconditional grant would bypass that
    condition, so the whole fix is refused and says how to proceed.

    ``shared_with`` names the other principals the policy is attached to; the plan names
    them, and refuses to change a shared policy unless ``allow_shared``.
    """
    # Long because each step reads the one before: what is missing, what a grant could
    # not fix, what the candidate really grants, then IAM's limits.
    arn, version = _fixable(policies, target)
    decide = judge or (lambda role, action, where: evaluate(role, action, where, context))
    needs = tuple(
        dict.fromkeys(n if isinstance(n, Need) else Need(n, resource, n) for n in required)
    )
    current = copied(dict(target.document))

    before = {need: decide(policies, need.action, need.resource) for need in needs}
    missing = [need for need in needs if not before[need].is_allowed]
    if not missing:
        return _plan(target, arn, version, current)

    guarded = [
        BlockedAction(need.id, why)
        for need in missing
        if (why := widening_reason(before[need])) is not None
    ]
    # Try every other missing action at once, then see what the candidate really grants:
    # an explicit Deny, the boundary or an undecidable condition can each keep an action
    # refused however the policy is changed, and adding such an action would be noise.
    widening = {b.action for b in guarded}
    open_ = [need for need in missing if need.id not in widening]
    candidate, _ = with_needs(current, open_)
    _, after = with_document(policies, candidate, target)
    blocked = list(guarded)
    quick = decisions or decide
    for need in needs:
        if need.id in widening:
            continue
        if not quick(after, need.action, need.resource).is_allowed:
            blocked.append(BlockedAction(need.id, decide(after, need.action, need.resource).reason))
    refusals = [
        f"{item.action} cannot be granted by changing {target.name}: {item.reason}"
        for item in blocked
    ]
    grantable = [need for need in open_ if need.id not in {b.action for b in blocked}]
    if not grantable:
        return _plan(target, arn, version, current, blocked=blocked, refusals=refusals)

    document, indexes = with_needs(current, grantable)
    reparsed, _ = with_document(policies, document, target)
    label = " and ".join(reparsed.statements[index].label for index in indexes)
    to_delete = _version_to_delete(target, versions)
    refusals.extend(_limits(target, document, versions, to_delete))
    refusals.extend(_shared(target, shared_with, allow_shared))
    plan = _plan(
        target,
        arn,
        version,
        current,
        document=document,
        added=[need.id for need in grantable],
        label=label,
        blocked=blocked,
        to_delete=to_delete,
        refusals=refusals,
    )
    return replace(plan, shared_with=tuple(shared_with))


def widening_reason(verdict: Verdict) -> str | None:
    """Why granting ``verdict``'s action outright would widen a guarded grant, if it would."""
    if verdict.near_misses:
        miss = verdict.near_misses[0]
        first = miss.failed[0]
        return (
            f"{miss.describe()}. --fix will not add a grant without that condition. If the "
            f"containers' requests do meet it, declare {first.key} in "
            f"fixtures/request_context.toml (or --iam-context {first.key}=...) and run "
            f"again; otherwise change {miss.statement} of {miss.policy} yourself"
        )
    if verdict.empty_variables:
        empty = verdict.empty_variables[0]
        return (
            f"{empty.describe()}. --fix will not add a grant that ignores it: give the role "
            f"the value it expects (for a tag, tag the role), or change {empty.statement} of "
            f"{empty.policy} yourself"
        )
    return None


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


def _shared(target: Policy, shared_with: Sequence[str], allow_shared: bool) -> list[str]:
    """A refusal when others have the policy too: a new version would change them."""
    if not shared_with or allow_shared:
        return []
    return [
        f"{target.name} is also attached to {', '.join(shared_with)}; a new default "
        "version would give them the added actions too. Attach a policy of the role's "
        "own instead, or run again with --fix-shared-policy to change it for all of them"
    ]


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
        diff=diff_documents(target.name, version, current, document),
        size=0 if document is None else document_size(document),
        refusals=tuple(refusals),
    )


def reparse(document: Mapping[str, Any], target: Policy) -> Policy:
    return parse_policy(
        document,
        name=target.name,
        kind=target.kind,
        arn=target.arn,
        origin=f"{target.name} (proposed new version)",
    )


def with_document(
    policies: RolePolicies, document: Mapping[str, Any], target: Policy
) -> tuple[Policy, RolePolicies]:
    """``document`` read as ``target``'s new version, and ``policies`` with it in place of
    ``target``: the same two objects for the same policies, target and document text.

    The planner judges its candidate, and the proof then reads the plan's document again
    (a fix is proved on what is written); most often it is the same text. Handing back the
    objects the planner judged lets a judge that remembers verdicts by object answer the
    proof from them: equal text reads as equal policies, whose verdicts are equal. The
    text is the document's ``repr``, which tells a list from a tuple and 1 from 1.0 or
    True, as a parser may."""
    key = (id(policies), id(target), repr(document))
    found = _WITH_DOCUMENT.get(key)
    if found is not None and found[0] is policies and found[1] is target:
        return found[2], found[3]
    if len(_WITH_DOCUMENT) >= 64:  # the last few plans are the ones asked again
        _WITH_DOCUMENT.clear()
    proposed = reparse(document, target)
    after = replacing(policies, proposed)
    _WITH_DOCUMENT[key] = (policies, target, proposed, after)  # held: ids not reused
    return proposed, after


#: :func:`with_document`'s answers, by (id of policies, id of target, document repr).
_WITH_DOCUMENT: dict[tuple[int, int, str], tuple[RolePolicies, Policy, Policy, RolePolicies]] = {}


def replacing(policies: RolePolicies, candidate: Policy) -> RolePolicies:
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
