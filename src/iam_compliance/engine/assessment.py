"""Put a role's fetched state together with the requirements: every verdict of one run.

Pure: the AWS adapter produces a :class:`RoleSnapshot`; everything here is computed
from it, so mock mode, a moto server and a real account are judged by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .evaluation import RolePolicies, Verdict, evaluate
from .policy import Policy
from .privilege import Finding, find_excess_grants
from .requirements import RequiredAction
from .target import Target
from .variables import Context

#: The service principal ECS uses to assume a task role.
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"


@dataclass(frozen=True)
class AttachedPolicy:
    name: str
    arn: str


@dataclass(frozen=True)
class RoleSnapshot:
    """What the adapter read about one role, once per process."""

    #: The account of the credentials used (sts:GetCallerIdentity).
    account_id: str
    role_name: str
    role_arn: str
    trust_policy: Policy
    #: Attached managed policies (default versions), inline policies and the boundary.
    policies: RolePolicies
    attached: tuple[AttachedPolicy, ...]
    #: Whether the configured policy exists at all (read only when it is not attached).
    target_policy_exists: bool = True


@dataclass(frozen=True)
class Check:
    """The outcome of one yes/no check with the sentence that explains it."""

    ok: bool
    message: str


@dataclass(frozen=True)
class Assessment:
    """Every verdict about one target."""

    target: Target
    snapshot: RoleSnapshot
    requirements: tuple[RequiredAction, ...]
    #: Required action -> verdict, in the order of the requirements file.
    verdicts: Mapping[str, Verdict]
    findings: tuple[Finding, ...]
    trust: Check
    attachment: Check

    @property
    def target_policy(self) -> Policy | None:
        """The configured managed policy's default version, if it is attached."""
        for policy in self.snapshot.policies.identity:
            if policy.arn == self.target.policy_arn:
                return policy
        return None

    @property
    def missing(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts.values() if not v.is_allowed)

    @property
    def failing_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "fail")

    @property
    def is_compliant(self) -> bool:
        return (
            not self.missing and not self.failing_findings and self.trust.ok and self.attachment.ok
        )

    def reason_for(self, action: str) -> str:
        for required in self.requirements:
            if required.name == action:
                return required.reason
        return ""

    def explain_missing(self) -> str:
        """The all-permissions test's failure message: each missing action with its reason."""
        lines = [
            f"{len(self.missing)} of {len(self.verdicts)} required actions are not allowed "
            f"for {self.target.role_name} on {self.target.table_arn}:"
        ]
        for verdict in self.missing:
            need = self.reason_for(verdict.action)
            lines.append(f"  - {verdict.action} ({need}): {verdict.reason}")
        return "\n".join(lines)


def assess(
    target: Target,
    snapshot: RoleSnapshot,
    requirements: Sequence[RequiredAction],
    context: Context | None = None,
) -> Assessment:
    """Evaluate every requirement, the trust policy, attachment and least privilege."""
    resource = target.table_arn
    verdicts = {
        required.name: evaluate(snapshot.policies, required.name, resource, context)
        for required in requirements
    }
    findings = find_excess_grants(snapshot.policies, [r.name for r in requirements], resource)
    return Assessment(
        target=target,
        snapshot=snapshot,
        requirements=tuple(requirements),
        verdicts=verdicts,
        findings=tuple(findings),
        trust=check_trust(snapshot.trust_policy, snapshot.role_name),
        attachment=check_attachment(target, snapshot),
    )


def check_attachment(target: Target, snapshot: RoleSnapshot) -> Check:
    if any(p.arn == target.policy_arn for p in snapshot.attached):
        return Check(True, f"{target.policy_name} is attached to {target.role_name}")
    attached = ", ".join(p.name for p in snapshot.attached) or "none"
    if not snapshot.target_policy_exists:
        return Check(
            False,
            f"policy {target.policy_arn} does not exist in account {target.account_id} "
            f"(ECS_TASK_POLICY_NAME={target.policy_name}); attached to "
            f"{target.role_name}: {attached}",
        )
    return Check(
        False,
        f"{target.policy_name} ({target.policy_arn}) exists but is not attached to "
        f"{target.role_name}; attached managed policies: {attached}",
    )


def check_trust(trust_policy: Policy, role_name: str) -> Check:
    """Does the trust policy let ECS tasks assume the role?

    An explicit Deny for the service wins. A principal of ``*`` is not accepted as
    trusting ECS tasks: it trusts everyone, which is a finding of its own.
    """
    allowing: list[str] = []
    for statement in trust_policy.statements:
        if not _names_service(statement.principal, ECS_TASKS_PRINCIPAL):
            continue
        if not statement.covers_action("sts:AssumeRole"):
            continue
        where = f"trust policy of {role_name}, {statement.label}"
        if statement.effect == "Deny":
            return Check(False, f"{where} denies {ECS_TASKS_PRINCIPAL} sts:AssumeRole")
        keys = sorted({c.key for c in statement.conditions})
        allowing.append(where + (f" (conditions on {', '.join(keys)})" if keys else ""))
    if allowing:
        return Check(True, f"{ECS_TASKS_PRINCIPAL} may assume the role: {allowing[0]}")
    return Check(
        False,
        f"the trust policy of {role_name} has no Allow of sts:AssumeRole for the service "
        f"principal {ECS_TASKS_PRINCIPAL}, so ECS cannot start tasks with this role",
    )


def _names_service(principal: object, service: str) -> bool:
    if not isinstance(principal, Mapping):
        return False
    value = principal.get("Service")
    values = [value] if isinstance(value, str) else value
    return isinstance(values, list) and service in values
