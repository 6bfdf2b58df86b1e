"""Decide, as IAM does, whether a requester may perform an action on a resource.

The requester is the task role's session (the containers' requests), or ECS's service
principal when it assumes the task role, whose trust policy is then the resource policy
(:mod:`.trust`): one evaluator for identity, boundary, resource, guardrail and trust
policies (:mod:`.principals` says whom a Principal names).

The policies that take part, for a request in the role's own account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
the role's identity policies (attached managed policies at their default version, and
inline policies), its permissions boundary if it has one, and the resource-based policy
of the resource (the table's), if it has one. Which statements apply is decided by
:mod:`.applicability`. The decision, from the first rule that fits:

1. EXPLICIT_DENY: a Deny applies, in an identity policy, the boundary, the resource
   policy (a Deny there that names the account applies to every principal in it), or an
   SCP or RCP of the organization (:mod:`.guardrails`).
2. UNDECIDED: a Deny might apply. Were it to apply the request would be denied, and
   were it not the decision could differ, so nothing can be said.
2a. GUARDRAIL_DENY: a level of the organization's SCPs (or, for a service they cover,
   RCPs) has no Allow that applies; UNDECIDED if one might.
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
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass

from ..policy import Policy, RolePolicies
from .applicability import EmptyVariable, Evidence, Match, NearMiss, Request, Scan, scan
from .combination import Combination
from .decision import Decision, Reason, Tally, decide, either, noted, reason
from .endpoints import EndpointPolicy, endpoint_gate
from .guardrails import Guardrails, gate
from .principals import Naming, Requester, names_requester
from .variables import Context, UnknownValues, normalize_context


@dataclass(frozen=True)
class Verdict:
    """A decision with its reason and evidence: for one requirement (or any request the
    run evaluates: a probe of a proof, a fix's verification)."""

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
    #: Resource policy statements whose Allow grants it to the requester itself (the role,
    #: a session of it, or the service) or to everyone.
    resource_allowed_by: tuple[Evidence, ...] = ()
    #: Of ``resource_allowed_by``, the statements that grant it to everyone (``"*"``).
    everyone_allowed_by: tuple[Evidence, ...] = ()
    #: Allows that cover the action and resource but whose conditions fail in this request.
    near_misses: tuple[NearMiss, ...] = ()
    #: Allows that cover the action but whose Resource names a variable with no value.
    empty_variables: tuple[EmptyVariable, ...] = ()
    #: Condition keys the statements covering the action and resource looked at.
    keys_used: tuple[str, ...] = ()
    #: Keys the request model assumes absent and the decision depends on.
    assumed_absent: tuple[str, ...] = ()
    #: The levels of the organization's SCPs/RCPs where no Allow applies.
    guardrails_without_allow: tuple[str, ...] = ()
    #: Why the resource's own policy takes no part in the verdict (a service or a pattern
    #: whose policy is not read); empty when it does, or the resource has none.
    not_read: str = ""
    #: The KMS key uses the request implies (a table or bucket encrypted with a customer
    #: managed key), each with its own verdict (:mod:`.keys`).
    implied: tuple[ImpliedUse, ...] = ()
    #: The key use that keeps an otherwise allowed request from being allowed, if one does.
    blocked_by_use: ImpliedUse | None = None

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
        if self.decision is Decision.GUARDRAIL_DENY and self.guardrails_without_allow:
            where = self.guardrails_without_allow[0]
            return Evidence(where, "none of them allows it", "Allow")
        for group in (self.denied_by, self.undecided_by, self.allowed_by, self.resource_allowed_by):
            if group:
                return group[0]
        if self.blocked_by_use is not None:
            # ``needs kms:Decrypt on key/... via dynamodb, not allowed``
            return Evidence(f"needs {self.blocked_by_use.id}", "not allowed", "Allow")
        if self.near_misses:  # an Allow whose condition this request does not meet
            miss = self.near_misses[0]
            keys = tuple(failed.key for failed in miss.failed)
            return Evidence(miss.policy, miss.statement, "Allow", keys, miss.describe())
        return None


@dataclass(frozen=True)
class ImpliedUse:
    """A request AWS makes on the requester's behalf to serve another: DynamoDB's or S3's
    use of the KMS key a table or bucket is encrypted with."""

    #: ``kms:Decrypt``.
    action: str
    #: The key's ARN.
    key: str
    #: The service that uses the key on the requester's behalf (``dynamodb``, ``s3``).
    via: str
    #: The request that implies it (``dynamodb:GetItem``).
    needed_by: str
    verdict: Verdict
    #: When only some of the implying requests need it (``uploads in several parts``);
    #: empty when every one does.
    only_for: str = ""

    @property
    def id(self) -> str:
        """``kms:Decrypt on key/1234... via dynamodb``."""
        return f"{self.action} on {short_key(self.key)} via {self.via}"

    @property
    def line(self) -> str:
        """Its own line in a report: ``kms:Decrypt on key/1234... via dynamodb, needed by
        dynamodb:GetItem: <its verdict's reason>``."""
        when = f" (for {self.only_for})" if self.only_for else ""
        return f"{self.id}, needed by {self.needed_by}{when}: {self.verdict.reason}"


def short_key(arn: str) -> str:
    """``key/1234abcd-...`` of a key's ARN."""
    return arn.rsplit(":", 1)[-1]


#: Evaluates an action on a resource for a set of role policies, with the run's request
#: model (context, resource policy, requester, guardrails) bound: what fix planning and
#: proving ask (:meth:`.assessment.Assessment.judge`).
Judge = Callable[[RolePolicies, str, str], Verdict]


def evaluate(
    policies: RolePolicies,
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    resource_policy: Policy | None = None,
    requester: Requester | None = None,
    assumed_absent: Container[str] = frozenset(),
    guardrails: Guardrails | None = None,
    unknown_values: UnknownValues | None = None,
    combination: Combination = Combination.EITHER,
    resource_label: str | None = None,
    key_grants: Sequence[tuple[Evidence, bool | None]] = (),
    endpoints: Sequence[EndpointPolicy] = (),
) -> Verdict:
    """Decide whether ``action`` on ``resource`` is allowed under ``context``.

    ``context`` holds the request's condition keys (in any case) and their values; keys
    it lacks are absent from the request. ``resource_policy`` is the resource's own
    policy, whose Principal is matched against ``requester``; ``guardrails`` the
    organization's SCPs and RCPs for the target, when they were read. ``assumed_absent`` names
    keys (lower-cased) whose absence is an assumption rather than known (see
    :class:`.request.AssumedAbsent`). ``unknown_values`` names keys (lower-cased) the
    request carries with a value not known here, each with the known start of its value
    (:meth:`.request.RequestContext.unknown`). ``combination`` says how the resource
    policy combines with the role's (:mod:`.combination`), ``resource_label`` how sentences
    name it; ``key_grants`` are a KMS key's grants to the requester for the action, each
    with whether it applies (None: it might); ``endpoints`` the policies of the VPC
    endpoints the request comes through (:mod:`.endpoints`). Nothing a parsed policy can
    contain makes this raise: what cannot be evaluated is UNDECIDED.
    """
    values = normalize_context(context)
    carried = {key.lower(): start for key, start in (unknown_values or {}).items()}
    model = _Model(
        resource_policy,
        requester,
        guardrails,
        combination,
        resource_label,
        tuple(key_grants),
        tuple(endpoints),
    )
    verdict, stated = _evaluate(
        policies, Request(action, resource, values, unknown_values=carried), model
    )
    unknown = _Unknown(assumed_absent, frozenset(values) | frozenset(carried))
    if verdict.decision is Decision.UNDECIDED or assumed_absent == frozenset():
        return verdict
    probe, _ = _evaluate(policies, Request(action, resource, values, unknown, carried), model)
    if probe.decision is not Decision.UNDECIDED:
        return verdict
    keys = tuple(dict.fromkeys(k for e in probe.undecided_by for k in _assumed_in(e, unknown)))
    # Whether the reason already says the request carries none of them.
    said = all(key in stated.absent for key in keys)
    note = (
        f"; that is assumed: declare {either(keys, 'and')} in fixtures/request_context.toml "
        "if the containers' requests carry " + ("it" if len(keys) == 1 else "them")
        if said
        else f"; this assumes the request carries no {either(keys, 'and no')} (declare "
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
class _Model:
    """The parts of the request model besides the role's own policies."""

    resource_policy: Policy | None
    requester: Requester | None
    guardrails: Guardrails | None
    combination: Combination = Combination.EITHER
    resource_label: str | None = None
    key_grants: tuple[tuple[Evidence, bool | None], ...] = ()
    endpoints: tuple[EndpointPolicy, ...] = ()


def _evaluate(policies: RolePolicies, request: Request, model: _Model) -> tuple[Verdict, Reason]:
    identity_scans = [scan(policy, request) for policy in policies.identity]
    identity = [m for found in identity_scans for m in found.matches]
    boundary_scan = None if policies.boundary is None else scan(policies.boundary, request)
    boundary = list(boundary_scan.matches) if boundary_scan else []
    resource, resource_denies, resource_scan = _resource_side(
        model.resource_policy, request, model.requester
    )
    guard = gate(model.guardrails, request) if model.guardrails is not None else None
    through = endpoint_gate(model.endpoints, request, model.requester) if model.endpoints else None
    tally = Tally(
        denied=_pick(identity + boundary + resource_denies, "Deny", True)
        + (guard.denied if guard else ())
        + (through.denied if through else ()),
        maybe_denied=_pick(identity + boundary + resource_denies, "Deny", None)
        + (guard.maybe_denied if guard else ())
        + (through.maybe_denied if through else ()),
        allowed=_pick(identity, "Allow", True),
        maybe_allowed=_pick(identity, "Allow", None),
        boundary_allowed=_pick(boundary, "Allow", True),
        maybe_boundary_allowed=_pick(boundary, "Allow", None),
        has_boundary=policies.boundary is not None,
        gate=guard,
        resource=resource,
        combination=model.combination,
        granted=tuple(e for e, applies in model.key_grants if applies),
        maybe_granted=tuple(e for e, applies in model.key_grants if applies is None),
        endpoint=through,
        resource_label=model.resource_label,
    )
    decision, undecided_by = decide(tally)
    scans = [*identity_scans, *(s for s in (boundary_scan, resource_scan) if s is not None)]
    misses = tuple(miss for found in scans for miss in found.near_misses)
    # The boundary grants nothing: its near misses explain a boundary denial, no grant.
    near = tuple(m for m in misses if m.policy != _label(policies.boundary))
    empty = tuple(miss for found in scans for miss in found.empty_variables)
    stated = reason(decision, tally, undecided_by, policies, request, misses, empty)
    everyone = tally.grants(Naming.EVERYONE, True)
    # Outside the account's union, a KMS grant or the account's delegation takes part too.
    combined = (
        tally.granted + tally.grants(Naming.ACCOUNT, True)
        if model.combination is not Combination.EITHER
        else ()
    )
    verdict = Verdict(
        action=request.action,
        resource=request.resource,
        decision=decision,
        reason=stated.text,
        allowed_by=tally.allowed,
        denied_by=tally.denied,
        boundary_allowed_by=tally.boundary_allowed,
        undecided_by=undecided_by,
        resource_allowed_by=tally.grants(Naming.REQUESTER, True) + everyone + combined,
        everyone_allowed_by=everyone,
        near_misses=near,
        empty_variables=empty,
        guardrails_without_allow=guard.blocked_at if guard else (),
        keys_used=tuple(dict.fromkeys(key for found in scans for key in found.keys)),
    )
    return verdict, stated


def _resource_side(
    policy: Policy | None, request: Request, requester: Requester | None
) -> tuple[dict[Naming, tuple[Match, ...]], list[Match], Scan | None]:
    """The resource policy's grants by naming, its Denies that reach the requester, and
    its near misses and empty variables of statements that could grant to the requester
    (a guarded grant to another principal says nothing about this request)."""
    if policy is None:
        return {}, [], None
    found = scan(policy, request)
    may_grant = (Naming.REQUESTER, Naming.EVERYONE, Naming.MAYBE)  # not the account: it delegates
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
            match = Match(match.statement, None, noted(match.evidence, why), match.assumed)
        if match.statement.effect == "Deny":
            denies.append(match)
        else:  # the account's only delegates: no grant by itself (see .combination)
            grants.setdefault(naming, []).append(match)
    return {naming: tuple(matches) for naming, matches in grants.items()}, denies, found


def _label(policy: Policy | None) -> str | None:
    return policy.label if policy is not None else None


def _pick(matches: Sequence[Match], effect: str, applies: bool | None) -> tuple[Evidence, ...]:
    return tuple(
        m.evidence for m in matches if m.evidence.effect == effect and m.applies is applies
    )
