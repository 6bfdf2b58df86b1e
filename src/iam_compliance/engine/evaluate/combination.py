"""How the resource's own policy combines with the role's: union, key policy, or both.

Within the role's account, "the resulting permissions are the union of the permissions"
of the identity-based and the resource-based policies: an Allow in either is enough
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Two cases differ, and :func:`decide_combined` applies them:

* A KMS key: "Unless the key policy explicitly allows it, you cannot use IAM policies to
  allow access to a KMS key. Without permission from the key policy, IAM policies that
  allow permissions have no effect"
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html). The key
  policy allows either directly (a statement naming the role, or everyone), which needs
  no identity policy, or by enabling IAM policies: a statement whose Principal is the
  account (``arn:aws:iam::<account>:root`` or its id) that applies to the request; then
  an identity policy must allow it too. A grant of the key to the role for the operation
  allows it as well: "the grant allows the grantee principal to call the specified grant
  operations on the KMS key provided that all conditions specified in the grant are met"
  (https://docs.aws.amazon.com/kms/latest/developerguide/grants.html).
* Another account's resource: "To allow cross-account access, you attach a
  resource-based policy to the resource that you want to share. You must also attach an
  identity-based policy to the identity that acts as the principal in the request"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
  an identity Allow (within the boundary) and an Allow of the resource's policy that names
  the role, its account, or everyone (for a key, a grant to the role counts as the
  latter).

A permissions boundary limits a resource policy's grant to the role's ARN, not one to a
session; how it treats a grant to everyone, or a KMS grant, AWS does not document: with a
boundary that does not allow the request, such a grant leaves it undecided. Each part is
True, False or None (undecided), and the decision is the one every undecided part leads
to, else UNDECIDED.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .applicability import Evidence
from .principals import Naming

if TYPE_CHECKING:
    from .decision import Decision, Tally


class Combination(enum.Enum):
    """How the resource's own policy and the role's policies combine."""

    #: Within the role's account: an Allow in either is enough.
    EITHER = "either"
    #: A KMS key in the role's account: the key policy must allow, directly or by
    #: enabling the account's IAM policies (which must then allow too).
    KEY_POLICY = "key policy"
    #: Another account's resource: the role's policies and the resource's must both allow.
    BOTH = "both"


Ternary = bool | None


def _any(*values: Ternary) -> Ternary:
    if any(value is True for value in values):
        return True
    return None if any(value is None for value in values) else False


def _all(*values: Ternary) -> Ternary:
    if any(value is False for value in values):
        return False
    return None if any(value is None for value in values) else True


def _part(certain: Iterable[Evidence], maybe: Iterable[Evidence]) -> Ternary:
    if any(True for _ in certain):
        return True
    return None if any(True for _ in maybe) else False


def outcome(tally: Tally, *, boundary: Ternary | None = None) -> Ternary:
    """Whether the request is allowed, once Denies and guardrails have let it through;
    ``boundary`` overrides what the boundary says (to tell a boundary denial apart)."""
    identity = _part(tally.allowed, tally.maybe_allowed)
    bound = boundary if boundary is not None else tally.boundary_part
    named = _part(tally.grants(Naming.REQUESTER, True), tally.grants(Naming.REQUESTER, None))
    unbounded = _any(
        _part(tally.grants(Naming.EVERYONE, True), tally.grants(Naming.EVERYONE, None)),
        _part(tally.granted, tally.maybe_granted),
    )
    # Undocumented with a boundary that does not allow the request: never certain then.
    if unbounded is True and bound is not True:
        unbounded = None
    session = None if tally.resource.get(Naming.MAYBE) else False
    delegated = _part(tally.grants(Naming.ACCOUNT, True), tally.grants(Naming.ACCOUNT, None))
    if tally.combination is Combination.KEY_POLICY:
        return _any(_all(_any(_all(identity, delegated), named), bound), unbounded, session)
    # Combination.BOTH
    return _all(identity, bound, _any(named, unbounded, session, delegated))


def decide_combined(tally: Tally) -> tuple[Decision, tuple[Evidence, ...]]:
    """The decision of a key-policy or cross-account request that no Deny or guardrail
    decided, and what left it undecided."""
    from .decision import Decision

    found = outcome(tally)
    if found is True:
        return Decision.ALLOWED, ()
    if found is None:
        return Decision.UNDECIDED, _open(tally)
    if tally.boundary_part is False and outcome(tally, boundary=True) is not False:
        return Decision.BOUNDARY_DENY, ()
    return Decision.IMPLICIT_DENY, ()


def _open(tally: Tally) -> tuple[Evidence, ...]:
    """The statements that could still make the request allowed."""
    found: list[Evidence] = [*tally.maybe_allowed, *tally.maybe_granted]
    for naming in (Naming.REQUESTER, Naming.EVERYONE, Naming.MAYBE, Naming.ACCOUNT):
        found.extend(tally.grants(naming, None))
    found.extend(tally.maybe_boundary_allowed)
    if tally.boundary_part is not True:
        found.extend(
            _noted(evidence, _UNBOUNDED)
            for evidence in (*tally.grants(Naming.EVERYONE, True), *tally.granted)
        )
    return tuple(dict.fromkeys(found))


_UNBOUNDED = (
    "the role's permissions boundary does not allow the request, and AWS does not document "
    "how a boundary treats a grant to everyone or a KMS grant"
)


def _noted(evidence: Evidence, note: str) -> Evidence:
    return Evidence(
        evidence.policy, evidence.statement, evidence.effect, evidence.condition_keys, note
    )


def refusal(tally: Tally, action: str) -> str | None:
    """Why a key-policy or cross-account request is not allowed although the role's own
    policies (or the resource's) allow it; None when they do not either."""
    identity = bool(tally.allowed)
    resource = bool(
        tally.grants(Naming.REQUESTER, True)
        or tally.grants(Naming.EVERYONE, True)
        or tally.grants(Naming.ACCOUNT, True)
        or tally.granted
    )
    where = tally.resource_label or "the resource's policy"
    if tally.combination is Combination.KEY_POLICY and identity:
        first = tally.allowed[0]
        return (
            f"{action} is not allowed: {first.policy}, {first.statement} allows it, but "
            f"{where} does not enable IAM policies for it (no statement allows it to the "
            "account, arn:aws:iam::<account>:root) and does not grant it to the role; "
            "without the key policy's permission, IAM policies have no effect on a KMS key"
        )
    if tally.combination is Combination.KEY_POLICY and not resource:
        # Adding the action to the role's policies alone would not help: say so.
        return (
            f"{action} is not allowed: {where} neither allows it to the role nor enables IAM "
            "policies for it (no statement allows it to the account, "
            "arn:aws:iam::<account>:root), and no grant of the key allows it; without the "
            "key policy's permission, IAM policies have no effect on a KMS key"
        )
    if tally.combination is Combination.BOTH and identity and not resource:
        first = tally.allowed[0]
        return (
            f"{action} is not allowed: {first.policy}, {first.statement} allows it, but the "
            f"resource is another account's and {where} does not allow it to the role or its "
            "account; a request to another account's resource needs an Allow in both"
        )
    if tally.combination is Combination.BOTH and resource and not identity:
        return (
            f"{action} is not allowed: {where} allows it, but the resource is another "
            "account's, and no identity policy of the role allows it; a request to another "
            "account's resource needs an Allow in both"
        )
    return None
