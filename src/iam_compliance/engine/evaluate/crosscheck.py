"""A second opinion: compare each verdict with IAM's policy simulator.

``--cross-check`` (live mode) asks ``iam:SimulatePrincipalPolicy`` about the role, with the
same context keys as the request model, one call per resource. Where the simulator and this
suite disagree, neither answer can be claimed: the verdict becomes "could not be decided",
with both answers, the statements the simulator matched, and what may legitimately explain
the difference. The simulator does not evaluate a resource-based policy's grants when it
is not given the policy, and it includes the organization's SCPs even when this run does
not read them (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .applicability import Evidence
from .decision import Decision
from .evaluation import Verdict
from .request import RequestContext

#: The simulator's decisions, and the decisions of this suite each corresponds to.
_SAME = {
    "allowed": {Decision.ALLOWED},
    "explicitDeny": {Decision.EXPLICIT_DENY},
    "implicitDeny": {Decision.IMPLICIT_DENY, Decision.BOUNDARY_DENY, Decision.GUARDRAIL_DENY},
}
#: Context keys whose values are not strings, by the simulator's ContextKeyType.
_TYPES = {
    "aws:currenttime": "date",
    "aws:epochtime": "numeric",
    "aws:securetransport": "boolean",
    "aws:viaawsservice": "boolean",
    "aws:principalisawsservice": "boolean",
    "aws:multifactorauthpresent": "boolean",
    "aws:sourceip": "ip",
}


@dataclass(frozen=True)
class Simulated:
    """The simulator's answer for one action on one resource."""

    action: str
    resource: str
    #: ``allowed``, ``explicitDeny`` or ``implicitDeny``.
    decision: str
    #: The statements it matched: ``MLPlatformECSTaskPolicy (IAM Policy) line 14``.
    matched: tuple[str, ...] = ()
    #: Whether the organization's SCPs allowed it, when the simulator says.
    organizations_allowed: bool | None = None


def context_entries(context: RequestContext) -> list[dict[str, object]]:
    """The request model's keys as the simulator's ``ContextEntries``."""
    entries: list[dict[str, object]] = []
    for entry in context.entries:
        if not entry.values:
            continue  # known to be absent, or carried with a value not known here
        kind = _TYPES.get(entry.key.lower(), "string")
        if len(entry.values) > 1:
            kind += "List"
        entries.append(
            {
                "ContextKeyName": entry.key,
                "ContextKeyValues": list(entry.values),
                "ContextKeyType": kind,
            }
        )
    return entries


def compare(
    verdicts: Mapping[str, Verdict],
    simulated: Sequence[Simulated],
    *,
    guardrails_read: bool,
) -> dict[str, Verdict]:
    """``verdicts`` with each disagreement with the simulator made undecided.

    ``guardrails_read`` says whether this run's verdicts include the organization's SCPs.
    """
    answers = {(s.action.lower(), s.resource): s for s in simulated}
    found: dict[str, Verdict] = {}
    for requirement, verdict in verdicts.items():
        answer = answers.get((verdict.action.lower(), verdict.resource))
        if (
            answer is None
            or verdict.decision is Decision.UNDECIDED
            or verdict.decision in _SAME.get(answer.decision, set())
        ):
            found[requirement] = verdict
        else:
            found[requirement] = _disagreement(verdict, answer, guardrails_read)
    return found


def _disagreement(verdict: Verdict, answer: Simulated, guardrails_read: bool) -> Verdict:
    matched = "; ".join(answer.matched) or "no statement"
    why: list[str] = []
    if verdict.resource_allowed_by and answer.decision == "implicitDeny":
        why.append("the simulator does not evaluate the table resource policy's grants")
    if answer.organizations_allowed is False and not guardrails_read:
        why.append("the simulator includes the organization's SCPs, which this run did not read")
    if verdict.assumed_absent:
        why.append(f"this run assumes the request carries no {', '.join(verdict.assumed_absent)}")
    explained = f"; they may legitimately differ: {'; '.join(why)}" if why else ""
    reason = (
        f"{verdict.action} could not be decided: this suite says {verdict.decision.value} "
        f"({verdict.reason}), IAM's policy simulator says {answer.decision} (matched: "
        f"{matched}){explained}"
    )
    evidence = Evidence(
        "IAM policy simulator",
        f"decision {answer.decision}",
        "Deny" if answer.decision != "allowed" else "Allow",
        note=f"this suite: {verdict.decision.value}",
    )
    return dataclasses.replace(
        verdict, decision=Decision.UNDECIDED, reason=reason, undecided_by=(evidence,)
    )
