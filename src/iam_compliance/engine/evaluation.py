"""Decide, as IAM does, whether a role may perform an action on a resource.

This is IAM's evaluation logic for a request made with a role's own permissions, with
no resource-based policy, session policy or SCP involved. Two groups of policies take
part: the role's identity policies (attached managed policies at their default version,
and inline policies) and, if the role has one, its permissions boundary. The effective
permissions are their intersection.

A statement *applies* to a request when its Action matches the action (or its
NotAction matches none of the patterns), its Resource matches the resource (or its
NotResource matches none), and its conditions hold. Actions compare case-insensitively,
resources case-sensitively; see :mod:`.matching` and :mod:`.conditions`.

Whether a statement applies can also be *undecided*: a condition the evaluator cannot
evaluate, or a policy variable in Resource the context does not supply. An undecided
statement never counts as allowing, and the verdict is reported as UNDECIDED whenever
the outcome would depend on it. Precisely, from the first rule that fits:

1. EXPLICIT_DENY: a Deny in any identity policy or in the boundary applies.
2. UNDECIDED: a Deny might apply. Were it to apply the request would be denied, and
   were it not the outcome could differ, so nothing can be said.
3. IMPLICIT_DENY: no identity Allow applies or might apply.
4. UNDECIDED: no identity Allow applies, but one might.
5. BOUNDARY_DENY: the role has a boundary, and no boundary Allow applies or might.
6. UNDECIDED: no boundary Allow applies, but one might.
7. ALLOWED: an identity Allow applies, and so does a boundary Allow (if there is a
   boundary).

This is the same as saying: the decision is reported only when every way the undecided
statements could turn out leads to it. An undecided verdict's reason says when the
request would be refused either way, since that is often what the user needs to know.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .conditions import ConditionState, evaluate_conditions
from .matching import matches_resource
from .policy import Policy, Statement
from .variables import Context, normalize_context, substitute_variables


class Decision(enum.Enum):
    """The outcome for one (action, resource)."""

    ALLOWED = "allowed"
    #: An identity policy or the boundary has a matching Deny whose conditions hold.
    EXPLICIT_DENY = "explicitly denied"
    #: No identity policy statement allows it.
    IMPLICIT_DENY = "not allowed"
    #: Identity policies allow it, the permissions boundary does not.
    BOUNDARY_DENY = "not allowed by the permissions boundary"
    #: A statement that could decide it has a condition the evaluator cannot decide
    #: (an unsupported operator, a malformed value). Never counts as allowed.
    UNDECIDED = "could not be decided"


@dataclass(frozen=True)
class Evidence:
    """One statement that took part in a decision."""

    #: The policy's label (``MLPlatformECSTaskPolicy v1``, ``inline policy X``,
    #: ``permissions boundary B v1``).
    policy: str
    #: The statement's label (``statement "DynamoDBJobs"`` or ``statement #2``).
    statement: str
    effect: str
    #: Condition keys the statement's outcome hinged on, as written in the policy.
    condition_keys: tuple[str, ...] = ()
    #: Why a condition could not be decided, for UNDECIDED evidence.
    note: str | None = None

    def describe(self) -> str:
        text = f"{self.policy}, {self.statement}"
        if self.condition_keys:
            text += f" (conditions on {', '.join(self.condition_keys)})"
        if self.note:
            text += f": {self.note}"
        return text


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
    #: Statements whose Deny matched, identity or boundary.
    denied_by: tuple[Evidence, ...] = ()
    #: Boundary statements whose Allow matched.
    boundary_allowed_by: tuple[Evidence, ...] = ()
    #: Statements that could not be decided.
    undecided_by: tuple[Evidence, ...] = ()

    @property
    def is_allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def is_conditional(self) -> bool:
        """Allowed, but only because conditions held (every allowing statement has one)."""
        return self.is_allowed and all(e.condition_keys for e in self.allowed_by)

    @property
    def deciding(self) -> Evidence | None:
        """The statement that decided the verdict, for one-line summaries."""
        for group in (self.denied_by, self.undecided_by, self.allowed_by):
            if group:
                return group[0]
        return None


@dataclass(frozen=True)
class RolePolicies:
    """Every policy that applies to a role's requests."""

    #: Attached managed policies (default versions) and inline policies.
    identity: tuple[Policy, ...]
    #: The permissions boundary, if the role has one.
    boundary: Policy | None = None


def evaluate(
    policies: RolePolicies, action: str, resource: str, context: Context | None = None
) -> Verdict:
    """Decide whether ``policies`` allow ``action`` on ``resource`` under ``context``.

    ``context`` holds the request's condition keys (in any case) and their values;
    keys it lacks are treated as absent from the request. Nothing a parsed policy can
    contain makes this raise: what cannot be evaluated becomes UNDECIDED evidence.
    """
    request = _Request(action, resource, normalize_context(context))
    identity = [m for policy in policies.identity for m in _applicable(policy, request)]
    boundary = [] if policies.boundary is None else _applicable(policies.boundary, request)
    tally = _Tally(
        denied=_pick(identity + boundary, "Deny", True),
        maybe_denied=_pick(identity + boundary, "Deny", None),
        allowed=_pick(identity, "Allow", True),
        maybe_allowed=_pick(identity, "Allow", None),
        boundary_allowed=_pick(boundary, "Allow", True),
        maybe_boundary_allowed=_pick(boundary, "Allow", None),
        has_boundary=policies.boundary is not None,
    )
    decision, undecided_by = _decide(tally)
    return Verdict(
        action=action,
        resource=resource,
        decision=decision,
        reason=_reason(decision, tally, undecided_by, policies, request),
        allowed_by=tally.allowed,
        denied_by=tally.denied,
        boundary_allowed_by=tally.boundary_allowed,
        undecided_by=undecided_by,
    )


# --- which statements apply -------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    """What is being decided."""

    action: str
    resource: str
    #: The context with lower-cased keys (see conditions.normalize_context).
    context: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Match:
    """A statement that applies to the request, or might."""

    #: True when the statement applies, None when that cannot be decided.
    applies: bool | None
    evidence: Evidence


def _applicable(policy: Policy, request: _Request) -> list[_Match]:
    """The statements of ``policy`` that apply to ``request`` or might, in order."""
    variables = policy.has_variables
    found = []
    for statement in policy.statements:
        match = _match_statement(policy, statement, request, variables)
        if match is not None:
            found.append(match)
    return found


def _match_statement(
    policy: Policy, statement: Statement, request: _Request, variables: bool
) -> _Match | None:
    if not statement.covers_action(request.action):
        return None
    resource_applies, resource_keys, resource_note = _resource_matches(
        statement, request, variables
    )
    if resource_applies is False:
        return None
    conditions = evaluate_conditions(
        statement.conditions, request.context, policy_variables=variables
    )
    if conditions.state is ConditionState.DOES_NOT_HOLD:
        return None
    applies = True if resource_applies and conditions.holds else None
    notes = [note for note in (resource_note, conditions.note) if note]
    evidence = Evidence(
        policy=policy.label,
        statement=statement.label,
        effect=statement.effect,
        condition_keys=tuple(dict.fromkeys((*resource_keys, *conditions.keys))),
        note="; ".join(notes) if applies is None else None,
    )
    return _Match(applies, evidence)


def _resource_matches(
    statement: Statement, request: _Request, variables: bool
) -> tuple[bool | None, tuple[str, ...], str | None]:
    """Whether the statement's Resource/NotResource covers the resource (None: unknown).

    Also returns the keys of any policy variables used, and why a variable could not
    be replaced.
    """
    negated = statement.resources is None
    patterns = statement.not_resources if negated else statement.resources
    if patterns is None:
        # Only a trust policy statement lacks both; it says nothing about resources.
        return None, (), "the statement has neither Resource nor NotResource"
    matched: bool | None = False
    keys: list[str] = []
    notes: list[str] = []
    for pattern in patterns:
        substitution = substitute_variables(
            pattern, request.context, pattern=True, enabled=variables
        )
        keys.extend(substitution.keys)
        if substitution.text is None:
            matched = None
            notes.append(
                f"{'NotResource' if negated else 'Resource'} {pattern!r}: {substitution.note}"
            )
        elif matches_resource(substitution.text, request.resource):
            matched = True
            break
    if matched is True:
        notes = []
    if negated and matched is not None:
        matched = not matched
    return matched, tuple(keys), "; ".join(notes) or None


def _pick(matches: Sequence[_Match], effect: str, applies: bool | None) -> tuple[Evidence, ...]:
    return tuple(
        m.evidence for m in matches if m.evidence.effect == effect and m.applies is applies
    )


# --- the decision -----------------------------------------------------------------


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

    @property
    def could_be_allowed(self) -> bool:
        """Whether some way the undecided statements turn out allows the request."""
        return (
            not self.denied
            and bool(self.allowed or self.maybe_allowed)
            and (
                not self.has_boundary or bool(self.boundary_allowed or self.maybe_boundary_allowed)
            )
        )


def _decide(tally: _Tally) -> tuple[Decision, tuple[Evidence, ...]]:
    """Apply the precedence in the module docstring; also return what left it undecided."""
    if tally.denied:
        return Decision.EXPLICIT_DENY, ()
    if tally.maybe_denied:
        return Decision.UNDECIDED, tally.maybe_denied
    if not tally.allowed:
        if tally.maybe_allowed:
            return Decision.UNDECIDED, tally.maybe_allowed
        return Decision.IMPLICIT_DENY, ()
    if tally.has_boundary and not tally.boundary_allowed:
        if tally.maybe_boundary_allowed:
            return Decision.UNDECIDED, tally.maybe_boundary_allowed
        return Decision.BOUNDARY_DENY, ()
    return Decision.ALLOWED, ()


def _reason(
    decision: Decision,
    tally: _Tally,
    undecided_by: tuple[Evidence, ...],
    policies: RolePolicies,
    request: _Request,
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
    if decision is Decision.IMPLICIT_DENY:
        if not policies.identity:
            return (
                f"{action} is not allowed: the role has no identity policies, so nothing "
                f"allows it on {resource}"
            )
        names = _either([policy.label for policy in policies.identity])
        return f"{action} is not allowed: no statement in {names} allows it on {resource}"
    if decision is Decision.BOUNDARY_DENY:
        boundary = policies.boundary.label if policies.boundary else "the permissions boundary"
        return (
            f"{action} is allowed by the identity policies but not by {boundary}: "
            f"none of its statements allows it on {resource}"
        )
    first = tally.allowed[0]
    reason = f"{action} is allowed by {first.policy}, {first.statement}"
    if first.condition_keys:
        reason += f" (its conditions on {', '.join(first.condition_keys)} hold)"
    if tally.boundary_allowed:
        bound = tally.boundary_allowed[0]
        reason += f" and by {bound.policy}, {bound.statement}"
    return reason


def _either(names: Sequence[str]) -> str:
    """``["A", "B", "C"]`` -> ``"A, B or C"``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"
