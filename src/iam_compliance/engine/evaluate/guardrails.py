"""The organization's guardrails: service control policies and resource control policies.

In an AWS Organization, SCPs limit what the principals of a member account may do and
RCPs limit what may be done to its resources, whatever the account's own policies say
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html,
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html):

* An explicit Deny in any SCP or RCP that applies denies the request.
* "For a permission to be allowed for a specific account, there must be an explicit
  Allow statement at every level from the root through each OU in the direct path to the
  account (including the target account itself)". Each level is all the policies of that
  kind attached there: one Allow that applies, in any of them, is enough for the level.
* SCPs do not affect the management account's principals, and RCPs do not affect its
  resources.
* RCPs apply only to the services AWS lists as supporting them; for any other service
  they are not part of the decision.

:func:`gate` applies these rules to one request; :mod:`.evaluation` combines the result
with the account's own policies. Policy statements are matched as everywhere else
(:mod:`.applicability`), so what cannot be decided stays undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..policy import Policy
from .applicability import Evidence, Request, scan

Kind = Literal["scp", "rcp"]
#: ``--guardrails``: read them when possible, never, or fail when they cannot be read.
GuardrailsSetting = Literal["auto", "off", "required"]
LevelKind = Literal["root", "ou", "account"]


@dataclass(frozen=True)
class Level:
    """One level of the path from the organization's root to an account."""

    kind: LevelKind
    id: str
    name: str
    #: The policies of one kind attached here, each parsed with a label that says where
    #: (``SCP DenyRegions attached to OU Workloads``).
    policies: tuple[Policy, ...]

    @property
    def label(self) -> str:
        return {"root": "the root", "ou": f"OU {self.name}", "account": f"account {self.name}"}[
            self.kind
        ]


@dataclass(frozen=True)
class Guardrails:
    """What the organization says about one target: its SCP and RCP paths."""

    organization_id: str
    management_account: str
    #: The account whose principals make the request (the role's), and its path.
    account: str
    scps: tuple[Level, ...]
    #: The resource's account's path with its RCPs (empty: RCPs not enabled).
    rcps: tuple[Level, ...]
    #: ``o-abc/r-ab12/ou-ab12-1111/``: aws:PrincipalOrgPaths and aws:ResourceOrgPaths.
    path: str
    #: Who read them (the identity's ARN), for the reports.
    read_by: str
    #: Services whose resources RCPs apply to (AWS's list), lower-case prefixes.
    rcp_services: frozenset[str] = frozenset()

    @property
    def is_management_account(self) -> bool:
        return self.account == self.management_account


#: Whether a target's guardrails were read: ``checked``, ``not checked`` (an error) or
#: ``off`` (the option).
GuardrailsState = Literal["checked", "not checked", "off"]


@dataclass(frozen=True)
class Reading:
    """Whether the guardrails of a target were read, and what was found."""

    status: GuardrailsState
    #: Why they were not checked (``off``: the option; ``not checked``: the error).
    reason: str | None = None
    guardrails: Guardrails | None = None
    #: The organization's id, when at least that much could be read.
    organization_id: str | None = None

    def describe(self) -> str:
        """One line for the header and the reports."""
        if self.status == "off":
            return "guardrails (SCPs, RCPs): off (--guardrails off)"
        if self.guardrails is None:
            return f"guardrails (SCPs, RCPs): NOT checked: {self.reason}"
        found = self.guardrails
        if found.is_management_account:
            return (
                f"guardrails: account {found.account} is the management account of "
                f"{found.organization_id}: SCPs and RCPs do not apply (read by {found.read_by})"
            )
        scps = sum(len(level.policies) for level in found.scps)
        rcps = sum(len(level.policies) for level in found.rcps)
        return (
            f"guardrails: organization {found.organization_id}, path {found.path}: "
            f"{scps} SCP attachment(s), {rcps} RCP attachment(s) (read by {found.read_by})"
        )


def attached(name: str, kind: Kind, level_label: str) -> str:
    """How evidence names a guardrail: ``SCP DenyRegions attached to OU Workloads``."""
    return f"{kind.upper()} {name} attached to {level_label}"


@dataclass(frozen=True)
class Gate:
    """What the guardrails say about one request."""

    #: Deny statements that apply.
    denied: tuple[Evidence, ...] = ()
    #: Deny statements that might apply.
    maybe_denied: tuple[Evidence, ...] = ()
    #: Levels where no Allow applies or might: the request is not allowed.
    blocked_at: tuple[str, ...] = ()
    #: Allows that might apply at levels that have no Allow that certainly does.
    maybe_allowed: tuple[Evidence, ...] = ()
    #: Why some guardrails do not take part (the management account, a service RCPs do
    #: not cover); for the reports.
    notes: tuple[str, ...] = ()

    @property
    def blocks(self) -> bool:
        return bool(self.denied or self.blocked_at)


def gate(guardrails: Guardrails, request: Request) -> Gate:
    """Apply the SCPs and RCPs of ``guardrails`` to ``request``."""
    notes: list[str] = []
    layers: list[tuple[Kind, tuple[Level, ...]]] = []
    if guardrails.is_management_account:
        notes.append(
            f"account {guardrails.account} is the organization's management account: "
            "SCPs and RCPs do not apply to it"
        )
    else:
        layers.append(("scp", guardrails.scps))
        service = request.action.partition(":")[0].lower()
        if guardrails.rcps and service in guardrails.rcp_services:
            layers.append(("rcp", guardrails.rcps))
        elif guardrails.rcps:
            notes.append(f"RCPs do not apply to {service}")
    denied: list[Evidence] = []
    maybe_denied: list[Evidence] = []
    blocked: list[str] = []
    maybe_allowed: list[Evidence] = []
    for kind, levels in layers:
        for level in levels:
            matches = [m for policy in level.policies for m in scan(policy, request).matches]
            denied.extend(m.evidence for m in matches if m.evidence.effect == "Deny" and m.applies)
            maybe_denied.extend(
                m.evidence for m in matches if m.evidence.effect == "Deny" and m.applies is None
            )
            allows = [m for m in matches if m.evidence.effect == "Allow"]
            if any(m.applies for m in allows):
                continue
            if allows:
                maybe_allowed.extend(m.evidence for m in allows)
            else:
                blocked.append(f"{kind.upper()}s attached to {level.label}")
    return Gate(
        tuple(denied), tuple(maybe_denied), tuple(blocked), tuple(maybe_allowed), tuple(notes)
    )
