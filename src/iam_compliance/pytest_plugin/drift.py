"""The drift warning of a live fix: the role or policy is deployed from code."""

from __future__ import annotations

from ..engine.drift import drift_warning
from ..engine.target import Target
from ..errors import IamComplianceError
from .checker import Checker


def drift_notes(checker: Checker, target: Target) -> list[str]:
    """Warnings for a live fix of a role or policy tagged as deployed from code."""
    found = checker.assessment(target)
    notes = []
    role = drift_warning(f"role {target.role_name}", found.snapshot.role_tags)
    if role is not None:
        notes.append(role)
    policy = found.target_policy
    if policy is not None and policy.arn is not None:
        try:
            tags = checker.adapter(target).policy_tags(policy.arn)
        except IamComplianceError as exc:
            notes.append(f"could not tell whether {policy.arn} is managed as code: {exc}")
        else:
            warning = drift_warning(f"policy {target.policy_name}", tags)
            if warning is not None:
                notes.append(warning)
    return notes
