"""Would IAM let ECS assume the task role? The trust check, on the evaluator's verdict.

ECS calls ``sts:AssumeRole`` as the service principal ``ecs-tasks.amazonaws.com``. The
request is judged by the one evaluator (:func:`.evaluation.evaluate`), as for any other
request: the service principal is the requester, the trust policy is the role's resource
policy, and there are no identity policies (a service principal has none), as IAM's policy
evaluation of a role's trust policy does. So an explicit Deny that applies wins (a Deny to
everyone included), a NotPrincipal, an undecidable condition or a key whose absence is
only assumed leave the answer undecided, which never passes, and a near miss is an Allow
whose condition ECS's request does not meet, all as the evaluator decides them.

What is the trust check's own: ECS's request context, which carries ``aws:SourceAccount``
(the task's account, which is the role's) and, when the user declares it,
``aws:SourceArn`` (the task's ARN); see "confused deputy prevention"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html). And the
rule that an Allow must name the service itself: an Allow to everyone lets ECS in too, but
trusting everyone is a problem of its own, so it is not accepted as "trusts ECS tasks".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..policy import Policy, RolePolicies
from .decision import Decision
from .evaluation import Verdict, evaluate
from .principals import ServicePrincipal
from .request import ContextEntry, RequestContext, build_context

#: The service principal ECS uses to assume a task role.
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"
#: How messages name the request the trust check judges.
_ECS_REQUEST = "ECS's request"


@dataclass(frozen=True)
class CheckResult:
    """The answer of one yes/no check with the sentence that explains it."""

    ok: bool
    message: str


def assume_role_context(
    account: str, now: datetime, declared: Sequence[ContextEntry] = ()
) -> RequestContext:
    """The context of ECS's AssumeRole request; ``declared`` adds aws:SourceArn and others."""
    moment = now.astimezone(UTC)
    derived = [
        ContextEntry("aws:SourceAccount", (account,), "the task runs in the role's account"),
        ContextEntry("aws:PrincipalServiceName", (ECS_TASKS_PRINCIPAL,), "ECS's service principal"),
        ContextEntry("aws:PrincipalIsAWSService", ("true",), "ECS's service principal"),
        ContextEntry("aws:SecureTransport", ("true",), "AWS services call over HTTPS"),
        ContextEntry("aws:CurrentTime", (moment.strftime("%Y-%m-%dT%H:%M:%SZ"),), "run time (UTC)"),
        ContextEntry("aws:EpochTime", (str(int(moment.timestamp())),), "run time (UTC)"),
    ]
    return build_context(derived, declared)


def check_trust(
    trust_policy: Policy, role_name: str, context: RequestContext, *, role_arn: str
) -> CheckResult:
    """Does the trust policy let ECS tasks assume the role ``role_arn``, for ECS's request?"""
    verdict = evaluate(
        RolePolicies(identity=()),
        ASSUME_ROLE,
        role_arn,
        context.values(),
        resource_policy=trust_policy,
        requester=ServicePrincipal(ECS_TASKS_PRINCIPAL),
        assumed_absent=context.assumed_absent(),
        unknown_values=context.unknown(),
    )
    ok, message = _answer(verdict, f"trust policy of {role_name}", role_name)
    if verdict.assumed_absent:
        message += (
            f"; that assumes ECS's request carries no {', '.join(verdict.assumed_absent)}: "
            "declare it under [assume_role] in fixtures/request_context.toml if it does"
        )
    return CheckResult(ok, message)


def _answer(verdict: Verdict, where: str, role_name: str) -> tuple[bool, str]:
    """Whether the verdict trusts ECS itself, and the sentence that says why."""
    if verdict.decision is Decision.EXPLICIT_DENY:
        denied = verdict.denied_by[0]
        return False, f"{where}, {denied.statement} denies {ECS_TASKS_PRINCIPAL} {ASSUME_ROLE}"
    if verdict.decision is Decision.UNDECIDED:
        first = verdict.undecided_by[0]
        return False, (
            f"whether ECS may assume the role could not be decided: {where}, "
            f"{first.statement}: {first.note}"
        )
    named = [e for e in verdict.resource_allowed_by if e not in verdict.everyone_allowed_by]
    if verdict.is_allowed and named:
        keys = named[0].condition_keys
        suffix = f" (conditions on {', '.join(keys)})" if keys else ""
        return (
            True,
            f"{ECS_TASKS_PRINCIPAL} may assume the role: {where}, {named[0].statement}{suffix}",
        )
    if verdict.near_misses:
        miss = verdict.near_misses[0]
        failed = miss.failed[0]
        found = failed.found(request=_ECS_REQUEST)
        return False, (
            f"{where}, {miss.statement} lets {ECS_TASKS_PRINCIPAL} assume the role only when "
            f"{failed.requirement()}; {found}"
        )
    if verdict.everyone_allowed_by:
        return False, (
            f"{where}, {verdict.everyone_allowed_by[0].statement} lets everyone assume the "
            f"role, not just {ECS_TASKS_PRINCIPAL}; name the service principal instead"
        )
    return False, (
        f"the trust policy of {role_name} has no Allow of {ASSUME_ROLE} for the service "
        f"principal {ECS_TASKS_PRINCIPAL}, so ECS cannot start tasks with this role"
    )
