"""The decision for one request, once the statements that apply are known; and its reason.

The precedence of the rules is in :mod:`.evaluation`'s docstring; this module applies it
(:func:`decide`) and says what decided it in one sentence (:func:`reason`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import RolePolicies
from .applicability import EmptyVariable, Evidence, Match, NearMiss, Request
from .combination import Combination, decide_combined, outcome, refusal
from .conditions import FailedCondition
from .guardrails import Gate
from .principals import Naming


class Decision(enum.Enum):
    """IAM's answer for one request: an action on a resource, by a requester."""

    ALLOWED = "allowed"
    #: A policy has a matching Deny whose conditions hold.
    EXPLICIT_DENY = "explicitly denied"
    #: No statement grants it.
    IMPLICIT_DENY = "not allowed"
    #: Something grants it, the permissions boundary does not.
    BOUNDARY_DENY = "not allowed by the permissions boundary"
    #: A level of the organization's SCPs or RCPs has no Allow for it.
    GUARDRAIL_DENY = "not allowed by the organization's guardrails"
    #: A statement that could decide it cannot be evaluated, or AWS does not document the
    #: case. Never counts as allowed.
    UNDECIDED = "could not be decided"


@dataclass(frozen=True)
class Tally:
    """The statements that apply (or might), sorted by what they could do."""

    denied: tuple[Evidence, ...]
    maybe_denied: tuple[Evidence, ...]
    allowed: tuple[Evidence, ...]
    maybe_allowed: tuple[Evidence, ...]
    boundary_allowed: tuple[Evidence, ...]
    maybe_boundary_allowed: tuple[Evidence, ...]
    has_boundary: bool
    #: What the organization's SCPs and RCPs say; None when they were not read.
    gate: Gate | None
    #: Resource policy Allows by how they name the requester: the role itself (limited by
    #: the boundary) or the service, a session of the role (not limited), everyone
    #: (undocumented with a boundary), the account (a delegation: no grant by itself).
    resource: dict[Naming, tuple[Match, ...]]
    #: How the resource's policy combines with the role's (:mod:`.combination`).
    combination: Combination = Combination.EITHER
    #: KMS grants of the key to the requester for the operation that apply, or might.
    granted: tuple[Evidence, ...] = ()
    maybe_granted: tuple[Evidence, ...] = ()
    #: What the policies of the VPC endpoints the request comes through say; None: none.
    endpoint: Gate | None = None
    #: How sentences name the resource's side (``key policy of key/1234...``).
    resource_label: str | None = None

    def grants(self, naming: Naming, applies: bool | None) -> tuple[Evidence, ...]:
        found = self.resource.get(naming)
        if not found:  # most requests: no resource policy, asked nine times an evaluation
            return ()
        return tuple(m.evidence for m in found if m.applies is applies)

    @property
    def boundary_permits(self) -> bool:
        return not self.has_boundary or bool(self.boundary_allowed)

    @property
    def boundary_part(self) -> bool | None:
        """Whether the boundary allows the request (True without one); None: it might."""
        if self.boundary_permits:
            return True
        return None if self.maybe_boundary_allowed else False

    @property
    def grants_anything(self) -> bool:
        """Whether any resource policy statement that could grant applies, or might."""
        return any(self.resource.get(n) for n in (Naming.REQUESTER, Naming.EVERYONE, Naming.MAYBE))

    @property
    def certainly_allowed(self) -> bool:
        resource_grant = bool(
            self.grants(Naming.REQUESTER, True) + self.grants(Naming.EVERYONE, True)
        )
        return (bool(self.allowed) or resource_grant) and self.boundary_permits

    @property
    def could_be_allowed(self) -> bool:
        """Whether some way the undecided statements turn out allows the request."""
        if self.combination is not Combination.EITHER:
            return not self.denied and outcome(self) is not False
        identity = bool(self.allowed or self.maybe_allowed)
        named = bool(self.resource.get(Naming.REQUESTER))
        everyone = bool(self.resource.get(Naming.EVERYONE))
        bounded = not self.has_boundary or bool(
            self.boundary_allowed or self.maybe_boundary_allowed
        )
        return not self.denied and (
            ((identity or named) and bounded) or everyone or bool(self.resource.get(Naming.MAYBE))
        )


def noted(evidence: Evidence, note: str) -> Evidence:
    return Evidence(
        evidence.policy, evidence.statement, evidence.effect, evidence.condition_keys, note
    )


def decide(tally: Tally) -> tuple[Decision, tuple[Evidence, ...]]:
    """Apply the precedence in the module docstring; also return what left it undecided."""
    if tally.denied:
        return Decision.EXPLICIT_DENY, ()
    if tally.maybe_denied:
        return Decision.UNDECIDED, tally.maybe_denied
    if tally.gate is not None and tally.gate.blocked_at:
        return Decision.GUARDRAIL_DENY, ()
    if tally.gate is not None and tally.gate.maybe_allowed:
        return Decision.UNDECIDED, tally.gate.maybe_allowed
    if tally.endpoint is not None and tally.endpoint.blocked_at:
        return Decision.IMPLICIT_DENY, ()
    if tally.endpoint is not None and tally.endpoint.maybe_allowed:
        return Decision.UNDECIDED, tally.endpoint.maybe_allowed
    if tally.combination is not Combination.EITHER:
        return decide_combined(tally)
    if tally.certainly_allowed:
        return Decision.ALLOWED, ()
    still_open: list[Evidence] = []
    if not tally.allowed:
        still_open.extend(tally.maybe_allowed)
    for naming in (Naming.REQUESTER, Naming.EVERYONE, Naming.MAYBE):
        still_open.extend(tally.grants(naming, None))
    grant_to_limit = bool(tally.allowed) or bool(
        tally.resource.get(Naming.REQUESTER) or tally.resource.get(Naming.EVERYONE)
    )
    if grant_to_limit and tally.has_boundary and not tally.boundary_allowed:
        still_open.extend(tally.maybe_boundary_allowed)
    for evidence in tally.grants(Naming.EVERYONE, True):
        if tally.has_boundary and not tally.boundary_allowed:
            still_open.append(noted(evidence, _EVERYONE_WITH_BOUNDARY))
    if still_open:
        return Decision.UNDECIDED, tuple(still_open)
    if not tally.allowed and not tally.maybe_allowed and not tally.grants_anything:
        return Decision.IMPLICIT_DENY, ()
    return Decision.BOUNDARY_DENY, ()


#: Why a grant to everyone in the resource policy leaves a bounded role undecided.
_EVERYONE_WITH_BOUNDARY = (
    'it grants to Principal "*", and the role\'s permissions boundary does not allow the '
    "request; AWS documents how a boundary treats a grant to the role's ARN (limited) and "
    "to a session's ARN (not limited), but not a grant to everyone"
)


@dataclass(frozen=True)
class Reason:
    """The sentence that says what decided a request, and what it states as data."""

    text: str
    #: Condition keys the sentence states the request does not carry (as written in the
    #: policy): the failed condition it quotes is on a key the request lacks.
    absent: tuple[str, ...] = ()


def reason(
    decision: Decision,
    tally: Tally,
    undecided_by: tuple[Evidence, ...],
    policies: RolePolicies,
    request: Request,
    near: tuple[NearMiss, ...],
    empty: tuple[EmptyVariable, ...],
) -> Reason:
    """One sentence naming the policy and statement that decided ``decision``."""
    action, resource = request.action, request.resource
    if decision is Decision.EXPLICIT_DENY:
        first = tally.denied[0]
        return Reason(f"{action} is explicitly denied by {first.policy}, {first.statement}")
    if decision is Decision.UNDECIDED:
        first = undecided_by[0]
        text = (
            f"{action} could not be decided: whether the {first.effect} in {first.policy}, "
            f"{first.statement} applies cannot be determined ({first.note})"
        )
        if not tally.could_be_allowed:
            text += "; either way it is not allowed"
        return Reason(text)
    boundary = policies.boundary.label if policies.boundary else "the permissions boundary"
    grants = [miss for miss in near if miss.policy != boundary]
    if decision is Decision.IMPLICIT_DENY and tally.endpoint and tally.endpoint.blocked_at:
        where = either(list(tally.endpoint.blocked_at), "and")
        return Reason(f"{action} is not allowed by the {where}: none of its statements allows it")
    if decision is Decision.IMPLICIT_DENY and (refused := refusal(tally, action)) is not None:
        return Reason(refused)
    if decision is Decision.IMPLICIT_DENY:
        if grants:
            more = f" (and {len(grants) - 1} more statement(s) like it)" if len(grants) > 1 else ""
            text = f"{action} is not allowed: {grants[0].describe()}{more}"
            return Reason(text, _absent(grants[0].failed[0]))
        return Reason(_nothing_allows(action, resource, policies, empty))
    if decision is Decision.GUARDRAIL_DENY and tally.gate is not None:
        where = either(list(tally.gate.blocked_at), "and")
        return Reason(
            f"{action} is not allowed by the organization's guardrails: none of the {where} "
            "allows it (an Allow is needed at every level from the root to the account)"
        )
    if decision is Decision.BOUNDARY_DENY:
        granted = (
            "the identity policies"
            if tally.allowed
            else (tally.resource_label or "the table resource policy")
        )
        limit = next((miss for miss in near if miss.policy == boundary), None)
        if limit is None:
            why = f"none of its statements allows it on {resource}"
            return Reason(f"{action} is allowed by {granted} but not by {boundary}: {why}")
        failed = limit.failed[0]
        why = f"{limit.statement} allows it only when {failed.requirement()}; {failed.found()}"
        text = f"{action} is allowed by {granted} but not by {boundary}: {why}"
        return Reason(text, _absent(failed))
    return Reason(_allowed_reason(tally, action))


def _absent(failed: FailedCondition) -> tuple[str, ...]:
    """The key of ``failed`` when the sentence quoting it says the request lacks it."""
    return () if failed.request else (failed.key,)


def _nothing_allows(
    action: str, resource: str, policies: RolePolicies, empty: tuple[EmptyVariable, ...]
) -> str:
    if not policies.identity:
        return (
            f"{action} is not allowed: the role has no identity policies, so nothing "
            f"allows it on {resource}"
        )
    names = either([policy.label for policy in policies.identity], "or")
    reason = f"{action} is not allowed: no statement in {names} allows it on {resource}"
    if empty:
        reason += f" ({empty[0].describe()})"
    return reason


def _allowed_reason(tally: Tally, action: str) -> str:
    direct = tally.grants(Naming.REQUESTER, True) + tally.grants(Naming.EVERYONE, True)
    delegated = tally.grants(Naming.ACCOUNT, True)
    if tally.combination is Combination.EITHER:
        grants = tally.allowed or direct
    elif tally.combination is Combination.KEY_POLICY:
        # Directly, or by a grant, the key's policy is enough; else IAM policies it enables.
        grants = direct or tally.granted or tally.allowed
    else:
        grants = tally.allowed
    first = grants[0]
    reason = f"{action} is allowed by {first.policy}, {first.statement}"
    if first.condition_keys:
        reason += f" (its conditions on {', '.join(first.condition_keys)} hold)"
    if grants is tally.allowed and tally.combination is not Combination.EITHER:
        # The resource's side that let the identity policy count.
        side = direct or tally.granted or delegated
        if side:
            reason += f" and by {side[0].policy}, {side[0].statement}"
    if grants is tally.allowed and tally.boundary_allowed:
        bound = tally.boundary_allowed[0]
        reason += f" and by {bound.policy}, {bound.statement}"
    return reason


def either(names: Sequence[str], joiner: str) -> str:
    """``["A", "B", "C"]`` -> ``"A, B or C"``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"
