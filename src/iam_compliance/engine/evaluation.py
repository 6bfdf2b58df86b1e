"""Decide, as IAM does, whether the task role's session may perform an action on a resource.

The policies that take part, for a request in the role's own account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
the role's identity policies (attached managed policies at their default version, and
inline policies), its permissions boundary if it has one, and the resource-based policy
of the resource (the table's), if it has one. Which statements apply is decided by
:mod:`.applicability`. The decision, from the first rule that fits:

1. EXPLICIT_DENY: a Deny applies, in an identity policy, the boundary, or the resource
   policy (a Deny there that names the account applies to every principal in it).
2. UNDECIDED: a Deny might apply. Were it to apply the request would be denied, and
   were it not the outcome could differ, so nothing can be said.
3. ALLOWED: an identity Allow applies and so does a boundary Allow (if there is a
   boundary); or the resource policy grants it, as follows. Within an account "an
   implicit deny in a permissions boundary does not limit the permissions granted by a
   resource-based policy"
   (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html),
   but AWS narrows that for roles: a grant to the role's ARN *is* limited by the
   boundary, a grant to a role session's ARN is not
   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html).
   A grant that names the account only delegates to the role's own policies and grants
   nothing by itself. A grant to everyone (``"*"``) with a boundary that does not allow
   the request is not documented either way: that is UNDECIDED, never allowed.
4. UNDECIDED: no grant certainly applies, but one might.
5. IMPLICIT_DENY: nothing grants it. BOUNDARY_DENY: something grants it, but the
   boundary does not allow it.

The decision is reported only when every way the undecided statements could turn out
leads to it; an undecided verdict's reason says when the request would be refused
either way. Keys the request model only assumes absent (``assumed_absent``) are tried
both ways: when the decision depends on them, the verdict names them.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Container, Sequence
from dataclasses import dataclass

from .applicability import EmptyVariable, Evidence, Match, NearMiss, Request, Scan, scan

__all__ = ["Decision", "Evidence", "NearMiss", "RolePolicies", "Verdict", "evaluate"]
from .policy import Policy
from .principals import Naming, Requester, names_requester
from .variables import Context, normalize_context


class Decision(enum.Enum):
    """The outcome for one (action, resource)."""

    ALLOWED = "allowed"
    #: A policy has a matching Deny whose conditions hold.
    EXPLICIT_DENY = "explicitly denied"
    #: No statement grants it.
    IMPLICIT_DENY = "not allowed"
    #: Something grants it, the permissions boundary does not.
    BOUNDARY_DENY = "not allowed by the permissions boundary"
    #: A statement that could decide it cannot be evaluated, or AWS does not document the
    #: case. Never counts as allowed.
    UNDECIDED = "could not be decided"


@dataclass(frozen=True)
class Verdict:
    """The decision for one action on one resource, with its evidence."""

    action: str
    resource: str
    decision: Decision
    #: One sentence a person can act on, naming policy and statement.
    reason: str
    #: Identity statements whose Allow matched (conditions held).
    allowed_by: tuple[Evidence, ...] = ()
    #: Statements whose Deny matched: identity, boundary or resource policy.
    denied_by: tuple[Evidence, ...] = ()
    #: Boundary statements whose Allow matched.
    boundary_allowed_by: tuple[Evidence, ...] = ()
    #: Statements (or rules) that could not be decided.
    undecided_by: tuple[Evidence, ...] = ()
    #: Resource policy statements whose Allow grants it to the role, a session or everyone.
    resource_allowed_by: tuple[Evidence, ...] = ()
    #: Allows that cover the action and resource but whose conditions fail in this request.
    near_misses: tuple[NearMiss, ...] = ()
    #: Allows that cover the action but whose Resource names a variable with no value.
    empty_variables: tuple[EmptyVariable, ...] = ()
    #: Condition keys the statements covering the action and resource looked at.
    keys_used: tuple[str, ...] = ()
    #: Keys the request model assumes absent and the decision depends on.
    assumed_absent: tuple[str, ...] = ()

    @property
    def is_allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def is_conditional(self) -> bool:
        """Allowed, but only because conditions held (every allowing statement has one)."""
        grants = self.allowed_by + self.resource_allowed_by
        return self.is_allowed and all(e.condition_keys for e in grants)

    @property
    def deciding(self) -> Evidence | None:
        """The statement that decided the verdict, for one-line summaries."""
        for group in (self.denied_by, self.undecided_by, self.allowed_by, self.resource_allowed_by):
            if group:
                return group[0]
        if self.near_misses:  # an Allow whose condition this request does not meet
            miss = self.near_misses[0]
            keys = tuple(failed.key for failed in miss.failed)
            return Evidence(miss.policy, miss.statement, "Allow", keys, miss.describe())
        return None


@dataclass(frozen=True)
class RolePolicies:
    """Every identity-side policy that applies to a role's requests."""

    #: Attached managed policies (default versions) and inline policies.
    identity: tuple[Policy, ...]
    #: The permissions boundary, if the role has one.
    boundary: Policy | None = None


def evaluate(
    policies: RolePolicies,
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    resource_policy: Policy | None = None,
    requester: Requester | None = None,
    assumed_absent: Container[str] = frozenset(),
) -> Verdict:
    """Decide whether ``action`` on ``resource`` is allowed under ``context``.

    ``context`` holds the request's condition keys (in any case) and their values; keys
    it lacks are absent from the request. ``resource_policy`` is the resource's own
    policy, whose Principal is matched against ``requester``. ``assumed_absent`` names
    keys (lower-cased) whose absence is an assumption rather than known (see
    :class:`.request.AssumedAbsent`). Nothing a parsed
    policy can contain makes this raise: what cannot be evaluated is UNDECIDED.
    """
    values = normalize_context(context)
    verdict = _evaluate(policies, Request(action, resource, values), resource_policy, requester)
    unknown = _Unknown(assumed_absent, frozenset(values))
    if verdict.decision is Decision.UNDECIDED or assumed_absent == frozenset():
        return verdict
    probe = _evaluate(
        policies, Request(action, resource, values, unknown), resource_policy, requester
    )
    if probe.decision is not Decision.UNDECIDED:
        return verdict
    keys = tuple(dict.fromkeys(k for e in probe.undecided_by for k in _assumed_in(e, unknown)))
    said = all(f"this request carries no {key}" in verdict.reason for key in keys)
    note = (
        f"; that is assumed: declare {_either(keys, 'and')} in fixtures/request_context.toml "
        "if the containers' requests carry " + ("it" if len(keys) == 1 else "them")
        if said
        else f"; this assumes the request carries no {_either(keys, 'and no')} (declare "
        f"{'it' if len(keys) == 1 else 'them'} in fixtures/request_context.toml if the "
        "containers' requests do)"
    )
    return dataclasses.replace(verdict, reason=verdict.reason + note, assumed_absent=keys)


def _assumed_in(evidence: Evidence, unknown: Container[str]) -> list[str]:
    return [key for key in evidence.condition_keys if key.lower() in unknown]


@dataclass(frozen=True)
class _Unknown:
    """The keys of ``assumed`` that the context does not have (lower-cased)."""

    assumed: Container[str]
    present: frozenset[str]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key not in self.present and key in self.assumed


# --- one evaluation -----------------------------------------------------------------


@dataclass(frozen=True)
class _Tally:
    """The statements that apply (or might), sorted by what they could do."""

    denied: tuple[Evidence, ...]
    maybe_denied: tuple[Evidence, ...]
    allowed: tuple[Evidence, ...]
    maybe_allowed: tuple[Evidence, ...]
    boundary_allowed: tuple[Evidence, ...]
    maybe_boundary_allowed: tuple[Evidence, ...]
    has_boundary: bool
    #: Resource policy grants by how they name the requester: the role (limited by the
    #: boundary), a session of it (not limited), everyone (undocumented with a boundary).
    resource: dict[Naming, tuple[Match, ...]]

    def grants(self, naming: Naming, applies: bool | None) -> tuple[Evidence, ...]:
        return tuple(m.evidence for m in self.resource.get(naming, ()) if m.applies is applies)

    @property
    def boundary_permits(self) -> bool:
        return not self.has_boundary or bool(self.boundary_allowed)

    @property
    def certainly_allowed(self) -> bool:
        resource_grant = bool(self.grants(Naming.ROLE, True) + self.grants(Naming.EVERYONE, True))
        return (bool(self.allowed) or resource_grant) and self.boundary_permits

    @property
    def could_be_allowed(self) -> bool:
        """Whether some way the undecided statements turn out allows the request."""
        identity = bool(self.allowed or self.maybe_allowed)
        role = bool(self.resource.get(Naming.ROLE))
        everyone = bool(self.resource.get(Naming.EVERYONE))
        bounded = not self.has_boundary or bool(
            self.boundary_allowed or self.maybe_boundary_allowed
        )
        return not self.denied and (
            ((identity or role) and bounded) or everyone or bool(self.resource.get(Naming.MAYBE))
        )


def _evaluate(
    policies: RolePolicies,
    request: Request,
    resource_policy: Policy | None,
    requester: Requester | None,
) -> Verdict:
    identity_scans = [scan(policy, request) for policy in policies.identity]
    identity = [m for found in identity_scans for m in found.matches]
    boundary_scan = None if policies.boundary is None else scan(policies.boundary, request)
    boundary = list(boundary_scan.matches) if boundary_scan else []
    resource, resource_denies, resource_scan = _resource_side(resource_policy, request, requester)
    tally = _Tally(
        denied=_pick(identity + boundary + resource_denies, "Deny", True),
        maybe_denied=_pick(identity + boundary + resource_denies, "Deny", None),
        allowed=_pick(identity, "Allow", True),
        maybe_allowed=_pick(identity, "Allow", None),
        boundary_allowed=_pick(boundary, "Allow", True),
        maybe_boundary_allowed=_pick(boundary, "Allow", None),
        has_boundary=policies.boundary is not None,
        resource=resource,
    )
    decision, undecided_by = _decide(tally)
    scans = [*identity_scans, *(s for s in (boundary_scan, resource_scan) if s is not None)]
    misses = tuple(miss for found in scans for miss in found.near_misses)
    # The boundary grants nothing: its near misses explain a boundary denial, no grant.
    near = tuple(m for m in misses if m.policy != _label(policies.boundary))
    empty = tuple(miss for found in scans for miss in found.empty_variables)
    return Verdict(
        action=request.action,
        resource=request.resource,
        decision=decision,
        reason=_reason(decision, tally, undecided_by, policies, request, misses, empty),
        allowed_by=tally.allowed,
        denied_by=tally.denied,
        boundary_allowed_by=tally.boundary_allowed,
        undecided_by=undecided_by,
        resource_allowed_by=tally.grants(Naming.ROLE, True) + tally.grants(Naming.EVERYONE, True),
        near_misses=near,
        empty_variables=empty,
        keys_used=tuple(dict.fromkeys(key for found in scans for key in found.keys)),
    )


def _resource_side(
    policy: Policy | None, request: Request, requester: Requester | None
) -> tuple[dict[Naming, tuple[Match, ...]], list[Match], Scan | None]:
    """The resource policy's grants by naming, its Denies that reach the requester, and
    its near misses and empty variables of statements that could grant to the requester
    (a guarded grant to another principal says nothing about this request)."""
    if policy is None:
        return {}, [], None
    found = scan(policy, request)
    may_grant = (Naming.ROLE, Naming.EVERYONE, Naming.MAYBE)  # not the account: it delegates
    grantors = {
        s.label
        for s in policy.statements
        if requester is None or names_requester(s, requester)[0] in may_grant
    }
    found = dataclasses.replace(
        found,
        near_misses=tuple(m for m in found.near_misses if m.statement in grantors),
        empty_variables=tuple(e for e in found.empty_variables if e.statement in grantors),
    )
    grants: dict[Naming, list[Match]] = {}
    denies: list[Match] = []
    for match in found.matches:
        naming, note = (
            names_requester(match.statement, requester)
            if requester is not None
            else (Naming.MAYBE, "the requester is not known")
        )
        if naming is Naming.NONE:
            continue
        if naming is Naming.MAYBE:
            why = "; ".join(n for n in (match.evidence.note, note) if n)
            match = Match(match.statement, None, _noted(match.evidence, why), match.assumed)
        if match.statement.effect == "Deny":
            denies.append(match)
        elif naming is not Naming.ACCOUNT:  # the account only delegates: no grant
            grants.setdefault(naming, []).append(match)
    return {naming: tuple(matches) for naming, matches in grants.items()}, denies, found


def _label(policy: Policy | None) -> str | None:
    return policy.label if policy is not None else None


def _noted(evidence: Evidence, note: str) -> Evidence:
    return Evidence(
        evidence.policy, evidence.statement, evidence.effect, evidence.condition_keys, note
    )


def _pick(matches: Sequence[Match], effect: str, applies: bool | None) -> tuple[Evidence, ...]:
    return tuple(
        m.evidence for m in matches if m.evidence.effect == effect and m.applies is applies
    )


def _decide(tally: _Tally) -> tuple[Decision, tuple[Evidence, ...]]:
    """Apply the precedence in the module docstring; also return what left it undecided."""
    if tally.denied:
        return Decision.EXPLICIT_DENY, ()
    if tally.maybe_denied:
        return Decision.UNDECIDED, tally.maybe_denied
    if tally.certainly_allowed:
        return Decision.ALLOWED, ()
    still_open: list[Evidence] = []
    if not tally.allowed:
        still_open.extend(tally.maybe_allowed)
    for naming in (Naming.ROLE, Naming.EVERYONE, Naming.MAYBE):
        still_open.extend(tally.grants(naming, None))
    grant_to_limit = bool(tally.allowed) or bool(
        tally.resource.get(Naming.ROLE) or tally.resource.get(Naming.EVERYONE)
    )
    if grant_to_limit and tally.has_boundary and not tally.boundary_allowed:
        still_open.extend(tally.maybe_boundary_allowed)
    for evidence in tally.grants(Naming.EVERYONE, True):
        if tally.has_boundary and not tally.boundary_allowed:
            still_open.append(_noted(evidence, _EVERYONE_WITH_BOUNDARY))
    if still_open:
        return Decision.UNDECIDED, tuple(still_open)
    if not tally.allowed and not tally.maybe_allowed and not tally.resource:
        return Decision.IMPLICIT_DENY, ()
    return Decision.BOUNDARY_DENY, ()


#: Why a grant to everyone in the resource policy leaves a bounded role undecided.
_EVERYONE_WITH_BOUNDARY = (
    'it grants to Principal "*", and the role\'s permissions boundary does not allow the '
    "request; AWS documents how a boundary treats a grant to the role's ARN (limited) and "
    "to a session's ARN (not limited), but not a grant to everyone"
)


def _reason(
    decision: Decision,
    tally: _Tally,
    undecided_by: tuple[Evidence, ...],
    policies: RolePolicies,
    request: Request,
    near: tuple[NearMiss, ...],
    empty: tuple[EmptyVariable, ...],
) -> str:
    """One sentence naming the policy and statement that decided ``decision``."""
    action, resource = request.action, request.resource
    if decision is Decision.EXPLICIT_DENY:
        first = tally.denied[0]
        return f"{action} is explicitly denied by {first.policy}, {first.statement}"
    if decision is Decision.UNDECIDED:
        first = undecided_by[0]
        reason = (
            f"{action} could not be decided: whether the {first.effect} in {first.policy}, "
            f"{first.statement} applies cannot be determined ({first.note})"
        )
        if not tally.could_be_allowed:
            reason += "; either way it is not allowed"
        return reason
    boundary = _label(policies.boundary) or "the permissions boundary"
    grants = [miss for miss in near if miss.policy != boundary]
    if decision is Decision.IMPLICIT_DENY:
        if grants:
            more = f" (and {len(grants) - 1} more statement(s) like it)" if len(grants) > 1 else ""
            return f"{action} is not allowed: {grants[0].describe()}{more}"
        return _nothing_allows(action, resource, policies, empty)
    if decision is Decision.BOUNDARY_DENY:
        granted = "the identity policies" if tally.allowed else "the table resource policy"
        limit = next((miss for miss in near if miss.policy == boundary), None)
        why = (
            f"{limit.statement} allows it only when {limit.failed[0].requirement()}; "
            f"{limit.failed[0].found()}"
            if limit is not None
            else f"none of its statements allows it on {resource}"
        )
        return f"{action} is allowed by {granted} but not by {boundary}: {why}"
    return _allowed_reason(tally, action)


def _nothing_allows(
    action: str, resource: str, policies: RolePolicies, empty: tuple[EmptyVariable, ...]
) -> str:
    if not policies.identity:
        return (
            f"{action} is not allowed: the role has no identity policies, so nothing "
            f"allows it on {resource}"
        )
    names = _either([policy.label for policy in policies.identity], "or")
    reason = f"{action} is not allowed: no statement in {names} allows it on {resource}"
    if empty:
        reason += f" ({empty[0].describe()})"
    return reason


def _allowed_reason(tally: _Tally, action: str) -> str:
    grants = tally.allowed or tally.grants(Naming.ROLE, True) + tally.grants(Naming.EVERYONE, True)
    first = grants[0]
    reason = f"{action} is allowed by {first.policy}, {first.statement}"
    if first.condition_keys:
        reason += f" (its conditions on {', '.join(first.condition_keys)} hold)"
    if tally.allowed and tally.boundary_allowed:
        bound = tally.boundary_allowed[0]
        reason += f" and by {bound.policy}, {bound.statement}"
    return reason


def _either(names: Sequence[str], joiner: str) -> str:
    """``["A", "B", "C"]`` -> ``"A, B or C"``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"
