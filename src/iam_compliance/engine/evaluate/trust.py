"""Would IAM let the workload's service assume its role? The trust check, on the evaluator's
verdict.

The service assumes the role by calling ``sts:AssumeRole`` as its service principal: ECS as
``ecs-tasks.amazonaws.com`` for a task role (the default), Lambda as ``lambda.amazonaws.com``
for a function's execution role (``[workload] trusted_service``). The request is judged by
the one evaluator (:func:`.evaluation.evaluate`), as for any other request: the service
principal is the requester, the trust policy is the role's resource policy, and there are
no identity policies (a service principal has none), as IAM's policy evaluation of a role's
trust policy does. So an explicit Deny that applies wins (a Deny to everyone included), a
NotPrincipal, an undecidable condition or a key whose absence is only assumed leave the
answer undecided, which never passes, and a near miss is an Allow whose condition the
service's request does not meet, all as the evaluator decides them.

What is the trust check's own: the service's request context. ECS's carries
``aws:SourceAccount`` (the task's account, which is the role's) and, when the user declares
it, ``aws:SourceArn`` (the task's ARN); see "confused deputy prevention"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html). Whether
another service's request carries ``aws:SourceAccount`` is that service's to say ("This key
is included in the request context only if accessing a resource triggers an AWS service to
call another service on behalf of the resource owner",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount),
so for any other service it is left to the user to declare under ``[assume_role]``: a
condition on it is then undecided, never met by assumption. And the rule that an Allow must
name the service itself: an Allow to everyone lets the service in too, but trusting
everyone is a problem of its own, so it is not accepted as "trusts the service".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..policy import Policy, RolePolicies
from ..requirements import DEFAULT_TRUSTED_SERVICE
from .decision import Decision
from .evaluation import Verdict, evaluate
from .principals import ServicePrincipal
from .request import ContextEntry, RequestContext, build_context

#: The service principal ECS uses to assume a task role.
ECS_TASKS_PRINCIPAL = DEFAULT_TRUSTED_SERVICE
ASSUME_ROLE = "sts:AssumeRole"


@dataclass(frozen=True)
class CheckResult:
    """The answer of one yes/no check with the sentence that explains it."""

    ok: bool
    message: str


def assume_role_context(
    account: str,
    now: datetime,
    declared: Sequence[ContextEntry] = (),
    service: str = ECS_TASKS_PRINCIPAL,
) -> RequestContext:
    """The context of ``service``'s AssumeRole request; ``declared`` adds aws:SourceArn and
    others (and, for a service other than ECS, aws:SourceAccount when it carries it)."""
    moment = now.astimezone(UTC)
    who = _who(service)
    derived = [
        ContextEntry("aws:PrincipalServiceName", (service,), f"{who}'s service principal"),
        ContextEntry("aws:PrincipalIsAWSService", ("true",), f"{who}'s service principal"),
        ContextEntry("aws:SecureTransport", ("true",), "AWS services call over HTTPS"),
        ContextEntry("aws:CurrentTime", (moment.strftime("%Y-%m-%dT%H:%M:%SZ"),), "run time (UTC)"),
        ContextEntry("aws:EpochTime", (str(int(moment.timestamp())),), "run time (UTC)"),
    ]
    if service == ECS_TASKS_PRINCIPAL:
        source = ContextEntry(
            "aws:SourceAccount", (account,), "the task runs in the role's account"
        )
        derived.insert(0, source)
    return build_context(derived, declared)


def check_trust(
    trust_policy: Policy,
    role_name: str,
    context: RequestContext,
    *,
    role_arn: str,
    service: str = ECS_TASKS_PRINCIPAL,
) -> CheckResult:
    """Does the trust policy let ``service`` assume the role ``role_arn``, for its request?"""
    verdict = evaluate(
        RolePolicies(identity=()),
        ASSUME_ROLE,
        role_arn,
        context.values(),
        resource_policy=trust_policy,
        requester=ServicePrincipal(service),
        assumed_absent=context.assumed_absent(),
        unknown_values=context.unknown(),
    )
    ok, message = _answer(verdict, f"trust policy of {role_name}", role_name, service)
    if verdict.assumed_absent:
        message += (
            f"; that assumes {_who(service)}'s request carries no "
            f"{', '.join(verdict.assumed_absent)}: declare it under [assume_role] in "
            "fixtures/request_context.toml if it does"
        )
    return CheckResult(ok, message)


def _who(service: str) -> str:
    """How messages name the service: ``ECS`` for ECS's tasks, else its principal."""
    return "ECS" if service == ECS_TASKS_PRINCIPAL else service


def _answer(verdict: Verdict, where: str, role_name: str, service: str) -> tuple[bool, str]:
    """Whether the verdict trusts the service itself, and the sentence that says why."""
    who = _who(service)
    if verdict.decision is Decision.EXPLICIT_DENY:
        denied = verdict.denied_by[0]
        return False, f"{where}, {denied.statement} denies {service} {ASSUME_ROLE}"
    if verdict.decision is Decision.UNDECIDED:
        first = verdict.undecided_by[0]
        return False, (
            f"whether {who} may assume the role could not be decided: {where}, "
            f"{first.statement}: {first.note}"
        )
    named = [e for e in verdict.resource_allowed_by if e not in verdict.everyone_allowed_by]
    if verdict.is_allowed and named:
        keys = named[0].condition_keys
        suffix = f" (conditions on {', '.join(keys)})" if keys else ""
        return True, f"{service} may assume the role: {where}, {named[0].statement}{suffix}"
    if verdict.near_misses:
        miss = verdict.near_misses[0]
        failed = miss.failed[0]
        found = failed.found(request=f"{who}'s request")
        return False, (
            f"{where}, {miss.statement} lets {service} assume the role only when "
            f"{failed.requirement()}; {found}"
        )
    if verdict.everyone_allowed_by:
        return False, (
            f"{where}, {verdict.everyone_allowed_by[0].statement} lets everyone assume the "
            f"role, not just {service}; name the service principal instead"
        )
    cannot = (
        "ECS cannot start tasks with this role"
        if who == "ECS"
        else (f"{service} cannot assume this role")
    )
    return False, (
        f"the trust policy of {role_name} has no Allow of {ASSUME_ROLE} for the service "
        f"principal {service}, so {cannot}"
    )
