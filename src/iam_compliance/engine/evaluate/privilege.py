"""Find grants wider than a workload needs: the least-privilege half of the check.

Only identity Allow statements that grant at least one required action on the table
are looked at; conditions are ignored, because a condition narrows when a grant
applies but not what it grants. Within those statements:

* ``fail`` findings are grants that reach beyond the required actions or the table:
  a wildcard action pattern matching a required action (``WILDCARD_ACTION``), an
  Allow with NotAction (``NOT_ACTION_ALLOW``), ``Resource: "*"`` (``RESOURCE_STAR``),
  any other resource pattern with a wildcard or policy variable that matches the table
  and so may match other tables too (``RESOURCE_WILDCARD``), and an Allow with
  NotResource (``NOT_RESOURCE_ALLOW``);
* ``info`` findings list specific extra actions granted alongside the required ones
  (``EXTRA_ACTION``): worth a look, but often deliberate.

Findings come in policy order, then statement order; within a statement the fails
come first, each group in the order of the patterns in the statement. Reports and
tests can rely on that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..matching import covers_resource, has_wildcard, matches_action, matches_resource
from ..policy import Policy, RolePolicies, Statement
from .variables import widen_variables

Severity = Literal["fail", "info"]


@dataclass(frozen=True)
class FindingKind:
    """One kind of finding: its stable id, a title, how bad it is, and what to do."""

    id: str
    title: str
    severity: Severity
    #: What the finding means and how to narrow the grant (reports' help text).
    help: str


#: Every kind of finding, in one table (reports, SARIF rules and docs read it from here).
FINDING_KINDS: Mapping[str, FindingKind] = {
    kind.id: kind
    for kind in (
        FindingKind(
            "WILDCARD_ACTION",
            "Wildcard action grants more than the required actions",
            "fail",
            "An Action pattern with * or ? that matches a required action also matches "
            "actions the workload does not need. List the required actions by name.",
        ),
        FindingKind(
            "NOT_ACTION_ALLOW",
            "Allow with NotAction",
            "fail",
            "An Allow with NotAction grants every action except the ones listed, including "
            "actions of services the workload never uses. Use Action with the required "
            "actions instead.",
        ),
        FindingKind(
            "RESOURCE_STAR",
            'Resource "*" grants on every resource',
            "fail",
            'Resource "*" grants the required actions on every table in every account the '
            "role can reach. Name the table's ARN.",
        ),
        FindingKind(
            "RESOURCE_WILDCARD",
            "Resource pattern can match other resources",
            "fail",
            "A Resource pattern with a wildcard or a policy variable matches the table and "
            "may match other tables too. Name the table's ARN.",
        ),
        FindingKind(
            "NOT_RESOURCE_ALLOW",
            "Allow with NotResource",
            "fail",
            "An Allow with NotResource grants on every resource except the ones listed. "
            "Use Resource with the table's ARN instead.",
        ),
        FindingKind(
            "EXTRA_ACTION",
            "Action granted that is not required",
            "info",
            "A specific action is granted alongside the required ones. Often deliberate; "
            "worth a look when reviewing the policy.",
        ),
    )
}

#: How messages name a service, by its action prefix; other prefixes are shown as is.
_SERVICE_NAMES = {
    "dynamodb": "DynamoDB",
    "ec2": "EC2",
    "ecr": "ECR",
    "ecs": "ECS",
    "iam": "IAM",
    "kms": "KMS",
    "lambda": "Lambda",
    "logs": "CloudWatch Logs",
    "s3": "S3",
    "sns": "SNS",
    "sqs": "SQS",
    "sts": "STS",
}
_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


@dataclass(frozen=True)
class Finding:
    """One grant in a policy that is wider than the workload needs."""

    #: What kind of excess this is: a key of :data:`FINDING_KINDS`.
    id: str
    #: ``fail`` for grants that must be narrowed, ``info`` for ones worth a look.
    severity: Severity
    #: The policy's label (``MLPlatformECSTaskPolicy v3``, ``inline policy X``).
    policy: str
    #: The statement's label (``statement "DynamoDBJobs"`` or ``statement #2``).
    statement: str
    #: One sentence that starts by saying where: policy, statement, then the problem.
    message: str


def find_excess_grants(
    policies: RolePolicies,
    required: Sequence[str],
    resource: str,
    *,
    required_on: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """List what the identity policies grant beyond ``required`` actions on ``resource``.

    ``required_on`` maps each required action to every resource (or pattern of
    resources, ``.../index/*``) the workload needs it on: a Resource pattern that one of
    those covers, for each action the statement grants, is exactly what is needed.
    """
    needed = {action: tuple(found) for action, found in (required_on or {}).items()}
    wanted = tuple(dict.fromkeys(required))
    findings: list[Finding] = []
    for policy in policies.identity:
        variables = policy.has_variables
        for statement in policy.statements:
            if statement.effect != "Allow":
                continue
            granted = [a for a in wanted if statement.covers_action(a)]
            if granted and _may_grant_resource(statement, resource, variables):
                needs = _Needs(resource, granted, needed)
                findings.extend(_statement_findings(policy, statement, wanted, needs, variables))
    return findings


def _may_grant_resource(statement: Statement, resource: str, variables: bool) -> bool:
    """Whether the statement can grant on ``resource`` for some request."""
    if statement.resources is not None:
        return any(
            matches_resource(_widened(p, variables)[0], resource) for p in statement.resources
        )
    # A NotResource pattern with a policy variable excludes the resource only for
    # some requests, so only patterns without one rule the statement out.
    return not any(
        matches_resource(widened, resource)
        for widened, has_variable in (_widened(p, variables) for p in statement.not_resources or ())
        if not has_variable
    )


def _widened(pattern: str, variables: bool) -> tuple[str, bool]:
    """``pattern`` with each policy variable widened to ``*``, and whether it had any."""
    widened = widen_variables(pattern, enabled=variables)
    return widened, variables and widened != pattern


@dataclass(frozen=True)
class _Needs:
    """What a statement is looked at for: the resource, and where its actions are needed."""

    resource: str
    #: The required actions the statement grants.
    granted: Sequence[str]
    #: Action -> every resource (pattern) the workload needs it on.
    required_on: Mapping[str, tuple[str, ...]]

    def covers(self, pattern: str) -> bool:
        """Whether each granted action is needed on everything ``pattern`` can match."""
        return all(
            any(covers_resource(needed, pattern) is True for needed in self.required_on.get(a, ()))
            for a in self.granted
        )


def _statement_findings(
    policy: Policy,
    statement: Statement,
    wanted: Sequence[str],
    needs: _Needs,
    variables: bool,
) -> list[Finding]:
    where = f"{policy.label}, {statement.label}"
    action_fails, extras = _action_problems(statement, wanted, needs.granted, needs.required_on)
    problems = action_fails + _resource_problems(statement, needs, variables) + extras
    return [
        Finding(
            finding_id,
            FINDING_KINDS[finding_id].severity,
            policy.label,
            statement.label,
            f"{where}: {problem}",
        )
        for finding_id, problem in problems
    ]


def _action_problems(
    statement: Statement,
    wanted: Sequence[str],
    granted: Sequence[str],
    elsewhere: Iterable[str] = (),
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The statement's action grants beyond ``wanted``: fails, then extras (id, problem).
    An action required on another resource (``elsewhere``: s3:ListBucket on the bucket,
    beside s3:GetObject on its objects) is one of the required actions, not an extra."""
    required = (*wanted, *elsewhere)
    fails: list[tuple[str, str]] = []
    extras: list[tuple[str, str]] = []
    if statement.not_actions is not None:
        excluded = ", ".join(f'"{p}"' for p in statement.not_actions)
        fails.append(
            (
                "NOT_ACTION_ALLOW",
                f"an Allow with NotAction grants every action except {excluded}, "
                f"not just the {_count(len(wanted))} required",
            )
        )
    for pattern in dict.fromkeys(statement.actions or ()):
        matched = [a for a in granted if matches_action(pattern, a)]
        if has_wildcard(pattern) and matched:
            fails.append(("WILDCARD_ACTION", _wildcard_problem(pattern, matched)))
        elif not has_wildcard(pattern) and not any(matches_action(pattern, a) for a in required):
            problem = f'Action "{pattern}" is granted but is not one of the required actions'
            extras.append(("EXTRA_ACTION", problem))
    return fails, extras


def _resource_problems(
    statement: Statement, needs: _Needs, variables: bool
) -> list[tuple[str, str]]:
    """The statement's resource grants beyond what is needed, as (id, problem)."""
    resource = needs.resource
    fails: list[tuple[str, str]] = []
    if statement.not_resources is not None:
        excluded = ", ".join(f'"{p}"' for p in statement.not_resources)
        fails.append(
            (
                "NOT_RESOURCE_ALLOW",
                f"an Allow with NotResource grants on every resource except {excluded}, "
                f"not just {resource}",
            )
        )
    for pattern in dict.fromkeys(statement.resources or ()):
        if needs.covers(_widened(pattern, variables)[0]):
            continue  # e.g. index/* where the workload needs every index
        if pattern == "*":
            problem = f'Resource "*" grants on every resource, not just {resource}'
            fails.append(("RESOURCE_STAR", problem))
            continue
        widened, has_variable = _widened(pattern, variables)
        if has_wildcard(widened) and matches_resource(widened, resource):
            kind = (
                "a wildcard" if has_wildcard(pattern) or not has_variable else "a policy variable"
            )
            problem = (
                f'Resource "{pattern}" has {kind}, so it can match resources other than {resource}'
            )
            fails.append(("RESOURCE_WILDCARD", problem))
    return fails


def _wildcard_problem(pattern: str, matched: Sequence[str]) -> str:
    if pattern == "*":
        return 'Action "*" grants every action of every service'
    service, _, name = pattern.partition(":")
    label = _SERVICE_NAMES.get(service.lower(), service)
    if name == "*":
        return (
            f'Action "{pattern}" grants every {label} action, '
            f"not just the {_count(len(matched))} required"
        )
    return (
        f'Action "{pattern}" grants every {label} action it matches, '
        f"not just the required {', '.join(matched)}"
    )


def _count(number: int) -> str:
    return _NUMBER_WORDS[number] if number < len(_NUMBER_WORDS) else str(number)
