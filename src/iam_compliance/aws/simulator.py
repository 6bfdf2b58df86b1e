"""IAM's policy simulator, for ``--cross-check``: iam:SimulatePrincipalPolicy, one call per
resource with every required action, read page by page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..engine.evaluate.crosscheck import Simulated
from .adapter import calling


def simulate(
    iam: Any,
    role_arn: str,
    actions: Sequence[str],
    resource: str,
    context_entries: Sequence[Mapping[str, object]],
) -> list[Simulated]:
    """The simulator's decision for each of ``actions`` on ``resource``."""
    found: list[Simulated] = []
    with calling("iam:SimulatePrincipalPolicy", role_arn):
        for page in iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=role_arn,
            ActionNames=list(dict.fromkeys(actions)),
            ResourceArns=[resource],
            ContextEntries=list(context_entries),
        ):
            found.extend(read_result(result, resource) for result in page["EvaluationResults"])
    return found


def read_result(result: Mapping[str, Any], resource: str) -> Simulated:
    """One ``EvaluationResults`` entry, with the statements it matched named."""
    matched = tuple(
        f"{statement.get('SourcePolicyId', '?')} ({statement.get('SourcePolicyType', '?')}) "
        f"line {statement.get('StartPosition', {}).get('Line', '?')}"
        for statement in result.get("MatchedStatements", [])
    )
    organizations = result.get("OrganizationsDecisionDetail", {})
    return Simulated(
        action=result["EvalActionName"],
        resource=result.get("EvalResourceName", resource),
        decision=result["EvalDecision"],
        matched=matched,
        organizations_allowed=organizations.get("AllowedByOrganizations"),
    )
