"""Would IAM let ECS assume the task role? The trust policy, evaluated for that request.

ECS calls ``sts:AssumeRole`` as the service principal ``ecs-tasks.amazonaws.com``. A trust
policy statement takes part when its Principal names that service (or everyone), its
Action covers ``sts:AssumeRole`` and its conditions hold for ECS's request, whose context
carries ``aws:SourceAccount`` (the task's account, which is the role's) and, when the
user declares it, ``aws:SourceArn`` (the task's ARN); see "confused deputy prevention"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).

An explicit Deny that applies wins, a Deny to everyone included. An Allow must name the
service itself: an Allow to everyone lets ECS in too, but trusting everyone is a problem
of its own, so it is not accepted as "trusts ECS tasks". A NotPrincipal, an undecidable
condition, or a key whose absence is only assumed leave the answer undecided, which
never passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..policy import Policy, Statement
from .conditions import ConditionState, FailedCondition, evaluate_conditions
from .principals import names_everyone, names_service
from .request import ContextEntry, RequestContext, build_context

#: The service principal ECS uses to assume a task role.
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"


@dataclass(frozen=True)
class Check:
    """The outcome of one yes/no check with the sentence that explains it."""

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


def check_trust(trust_policy: Policy, role_name: str, context: RequestContext) -> Check:
    """Does the trust policy let ECS tasks assume the role, for ECS's request?"""
    where = f"trust policy of {role_name}"
    outcome = _evaluate(trust_policy, context, probe=False)
    if outcome.undecided is None:
        probe = _evaluate(trust_policy, context, probe=True)
        if probe.undecided is not None:
            keys = ", ".join(probe.assumed)
            return Check(
                outcome.ok,
                f"{outcome.message(where, role_name)}; that assumes ECS's request carries "
                f"no {keys}: declare it under [assume_role] in fixtures/request_context.toml "
                "if it does",
            )
    return Check(outcome.ok, outcome.message(where, role_name))


@dataclass(frozen=True)
class _Outcome:
    denied_by: Statement | None = None
    allowed_by: tuple[tuple[Statement, tuple[str, ...]], ...] = ()
    undecided: tuple[Statement, str] | None = None
    everyone: Statement | None = None
    assumed: tuple[str, ...] = ()
    #: An Allow for ECS whose condition ECS's request does not meet, and that condition.
    near: tuple[Statement, FailedCondition] | None = None

    @property
    def ok(self) -> bool:
        return self.denied_by is None and self.undecided is None and bool(self.allowed_by)

    def message(self, where: str, role_name: str) -> str:
        if self.denied_by is not None:
            return f"{where}, {self.denied_by.label} denies {ECS_TASKS_PRINCIPAL} {ASSUME_ROLE}"
        if self.undecided is not None:
            statement, note = self.undecided
            return (
                f"whether ECS may assume the role could not be decided: {where}, "
                f"{statement.label}: {note}"
            )
        if self.allowed_by:
            statement, keys = self.allowed_by[0]
            suffix = f" (conditions on {', '.join(keys)})" if keys else ""
            return f"{ECS_TASKS_PRINCIPAL} may assume the role: {where}, {statement.label}{suffix}"
        if self.near is not None:
            statement, failed = self.near
            found = failed.found().replace("this request", "ECS's request")
            return (
                f"{where}, {statement.label} lets {ECS_TASKS_PRINCIPAL} assume the role only "
                f"when {failed.requirement()}; {found}"
            )
        if self.everyone is not None:
            return (
                f"{where}, {self.everyone.label} lets everyone assume the role, not just "
                f"{ECS_TASKS_PRINCIPAL}; name the service principal instead"
            )
        return (
            f"the trust policy of {role_name} has no Allow of {ASSUME_ROLE} for the service "
            f"principal {ECS_TASKS_PRINCIPAL}, so ECS cannot start tasks with this role"
        )


def _evaluate(policy: Policy, context: RequestContext, *, probe: bool) -> _Outcome:
    values = context.values()
    unknown = context.assumed_absent() if probe else frozenset[str]()
    denied: list[Statement] = []
    maybe_denied: list[tuple[Statement, str]] = []
    allowed: list[tuple[Statement, tuple[str, ...]]] = []
    maybe_allowed: list[tuple[Statement, str]] = []
    everyone: list[Statement] = []
    near: list[tuple[Statement, FailedCondition]] = []
    keys_assumed: list[str] = []
    for statement in policy.statements:
        named = names_service(statement, ECS_TASKS_PRINCIPAL)
        if named is False or not statement.covers_action(ASSUME_ROLE):
            continue
        result = evaluate_conditions(
            statement.conditions,
            values,
            policy_variables=policy.has_variables,
            unknown=unknown,
            unknown_values=context.unknown(),
        )
        if result.state is ConditionState.DOES_NOT_HOLD:
            if statement.effect == "Allow" and named and result.failed:
                near.append((statement, result.failed[0]))
            continue
        keys_assumed.extend(result.assumed)
        deny = statement.effect == "Deny"
        if named is None or result.state is ConditionState.UNDECIDED:
            note = result.note or "the statement uses NotPrincipal, which is not evaluated"
            (maybe_denied if deny else maybe_allowed).append((statement, note))
        elif deny:
            denied.append(statement)
        elif names_everyone(statement) and not _names_ecs(statement):
            everyone.append(statement)
        else:
            allowed.append((statement, result.keys))
    assumed = tuple(dict.fromkeys(keys_assumed))
    if denied:
        return _Outcome(denied_by=denied[0])
    undecided = maybe_denied[0] if maybe_denied else None
    if undecided is None and not allowed and maybe_allowed:
        undecided = maybe_allowed[0]
    return _Outcome(
        None,
        tuple(allowed),
        undecided,
        everyone[0] if everyone else None,
        assumed,
        near[0] if near else None,
    )


def _names_ecs(statement: Statement) -> bool:
    principal = statement.principal
    if not isinstance(principal, dict):
        return False
    service = principal.get("Service")
    services = [service] if isinstance(service, str) else service
    return isinstance(services, list) and ECS_TASKS_PRINCIPAL in services
