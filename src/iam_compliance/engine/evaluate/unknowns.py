"""Values a source file leaves open: known only after apply, or not resolvable.

A Terraform plan marks values that only ``terraform apply`` will know (``after_unknown``:
an ARN of a resource still to be created, a ``jsonencode`` of such an ARN). A
CloudFormation template can use an intrinsic function whose value the configuration
cannot give (``Fn::ImportValue``, a parameter without a default). Such a value may make
any verdict it feeds come out either way, so every verdict it touches is "could not be
decided", naming the resource address and the file: never allowed, never denied.

What a value touches: a policy document, every verdict (an unknown document can allow or
deny anything) and the least-privilege check (it may grant more than needed); tags, the
verdicts whose statements look at the matching condition keys (``aws:PrincipalTag/...``,
``aws:ResourceTag/...``); a trust policy, the trust check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from .applicability import Evidence
from .assessment import Assessment
from .decision import Decision
from .evaluation import Verdict
from .privilege import Finding, FindingKind
from .trust import CheckResult

#: The least-privilege finding of a policy whose document is not known.
UNKNOWN_POLICY = FindingKind(
    "UNKNOWN_POLICY",
    "Policy document not known before apply",
    "fail",
    "The policy's document depends on a value known only after apply (or one the "
    "configuration cannot resolve), so what it grants cannot be checked. Make the value "
    "known in the plan (an existing resource's ARN, a literal) or check after apply.",
)


@dataclass(frozen=True)
class Unknown:
    """One value a source leaves open, and what it feeds."""

    #: The resource address (``aws_iam_policy.task``, ``Resources.TaskPolicy``).
    address: str
    #: The file, as given on the command line.
    path: str
    #: What is open: ``policy``, ``tags``, ``assume_role_policy``, ...
    attribute: str
    #: Why: ``is known only after apply``, ``uses Fn::ImportValue, which ...``.
    why: str
    #: Lower-cased condition-key prefixes the value feeds (``aws:principaltag/``); empty:
    #: every verdict (a policy document).
    keys: tuple[str, ...] = ()
    #: The value is the role's trust policy: it decides the trust check, no verdict.
    trust: bool = False

    @property
    def where(self) -> str:
        return f"{self.address} ({self.path})"

    @property
    def text(self) -> str:
        return f"{self.attribute} of {self.address} in {self.path} {self.why}"

    def touches(self, verdict: Verdict) -> bool:
        """Whether the value can change ``verdict``."""
        if self.trust:
            return False
        if not self.keys:
            return True
        used = [
            *verdict.keys_used,
            *(empty.key for empty in verdict.empty_variables),
            *(failed.key for miss in verdict.near_misses for failed in miss.failed),
        ]
        return any(key.lower().startswith(prefix) for key in used for prefix in self.keys)


def undecided(verdict: Verdict, unknowns: Sequence[Unknown]) -> Verdict:
    """``verdict``, or "could not be decided" when an open value touches it."""
    touching = [unknown for unknown in unknowns if unknown.touches(verdict)]
    if not touching:
        return verdict
    first = touching[0]
    more = f" (and {len(touching) - 1} more open value(s))" if len(touching) > 1 else ""
    return dataclasses.replace(
        verdict,
        decision=Decision.UNDECIDED,
        reason=(
            f"{verdict.action} could not be decided: {first.text}{more}, and it could "
            "allow or deny this request"
        ),
        allowed_by=(),
        resource_allowed_by=(),
        undecided_by=tuple(
            Evidence(u.where, u.attribute, "Allow or Deny", (), f"{u.attribute} {u.why}")
            for u in touching
        ),
    )


def with_unknowns(assessment: Assessment, unknowns: Sequence[Unknown]) -> Assessment:
    """``assessment`` with every verdict and check an open value touches undecided."""
    if not unknowns:
        return assessment
    verdicts = {rid: undecided(v, unknowns) for rid, v in assessment.verdicts.items()}
    # A forbid an open value touches is not proved denied either.
    forbidden = {fid: undecided(v, unknowns) for fid, v in assessment.forbidden_verdicts.items()}
    findings = list(assessment.findings)
    for unknown in unknowns:
        if not unknown.keys and not unknown.trust:
            findings.append(
                Finding(
                    UNKNOWN_POLICY.id,
                    UNKNOWN_POLICY.severity,
                    unknown.where,
                    unknown.attribute,
                    f"{unknown.where}: {unknown.attribute} {unknown.why}, so what it grants "
                    "cannot be checked",
                )
            )
    trust = assessment.trust
    for unknown in unknowns:
        if unknown.trust:
            trust = CheckResult(False, f"could not be decided: {unknown.text}")
            break
    return dataclasses.replace(
        assessment,
        verdicts=verdicts,
        findings=tuple(findings),
        trust=trust,
        forbidden_verdicts=forbidden,
    )
