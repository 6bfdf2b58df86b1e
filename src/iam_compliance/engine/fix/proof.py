"""No new access: prove a fix grants exactly the required actions, and nothing else.

Before ``--fix`` writes (and in ``--fix-dry-run``), the current and the proposed document
are compared with the engine itself, over a wide set of probes: every DynamoDB action on
the table, on its indexes, on its stream, on another table and on ``*``, and every action
of every other service either document mentions, on the resources the documents name and
on ``*``. The only verdicts allowed to change are the required (action, resource) pairs;
any other probe whose verdict changes to allowed (or to could-not-be-decided, which might
be allowed) is new access, and the fix is refused with the list. The workload's forbidden
pairs (``[[forbid]]``) are always probed, and one the proposed document would allow, or
leave undecided where it was denied, refuses the fix on its own account: a fix never
grants what the workload must never be able to do.

This is a check of the planner's output, not of IAM: a planner bug that widened a grant
(``Resource: "*"``, ``dynamodb:*``) is caught here before anything is written.

Only the probes that a changed statement can reach are evaluated (:mod:`.reach`): the
others have the same applying statements, and the same verdict, before and after. That
keeps the proof to a few milliseconds per target, so every report's proposed fix can
carry one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..evaluate.decision import Decision
from ..evaluate.evaluation import Judge
from ..matching import has_wildcard, matches_resource
from ..policy import Policy, RolePolicies
from ..requirements import Need
from .planning import FixPlan, with_document
from .reach import ProbeSet, Reach, runs

#: Stands for a name in a probe made from a pattern (``table/*`` -> ``table/probe``).
_NAME = "iam-compliance-probe"


@dataclass(frozen=True)
class Proof:
    """What comparing the current and the proposed document found."""

    #: (action, resource) probes whose verdict the proposed document changes and that are
    #: not required: ``dynamodb:DeleteTable on arn:...:table/ml-jobs (was not allowed, would
    #: be allowed)``.
    new_access: tuple[str, ...]
    #: The required pairs that become allowed.
    granted: tuple[str, ...]
    #: How many probes were compared.
    probes: int
    #: Required (action, resource) pairs the proposed document still does not allow.
    missing: tuple[str, ...] = ()
    #: Forbidden (action, resource) pairs whose verdict the proposed document changes to
    #: allowed or could-not-be-decided (also among ``new_access``).
    forbidden: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return not self.new_access

    @property
    def exact(self) -> bool:
        """Every required pair allowed, and nothing else newly allowed."""
        return self.holds and not self.missing

    def describe(self) -> str:
        if self.holds and not self.missing:
            return (
                f"new access: exactly the {len(self.granted)} required action(s) "
                f"({self.probes:,} requests compared before and after)"
            )
        if self.holds:
            return f"the proposed document would still not allow {', '.join(self.missing)}"
        shown = "; ".join(self.new_access[:5])
        more = f" (and {len(self.new_access) - 5} more)" if len(self.new_access) > 5 else ""
        return f"the proposed document would newly grant {shown}{more}"


def prove_no_new_access(
    before: RolePolicies,
    after: RolePolicies,
    judge: Judge,
    probes: Iterable[tuple[str, str]],
    required: Iterable[tuple[str, str]],
    forbidden: Mapping[tuple[str, str], str] | None = None,
) -> Proof:
    """Compare ``before`` and ``after`` on every probe; only ``required`` may change, and
    never one of the ``forbidden`` pairs, (action, resource) -> the forbid's id, which are
    probed whatever ``probes`` holds. Only the decisions of ``judge``'s verdicts are read."""
    wanted = {(action.lower(), resource) for action, resource in required}
    forbidden = forbidden or {}
    never = {(action.lower(), resource): fid for (action, resource), fid in forbidden.items()}
    reach = Reach(before, after)
    new: list[str] = []
    granted: list[str] = []
    refused: list[str] = []

    def compare(action: str, resource: str) -> None:
        old = judge(before, action, resource).decision
        now = judge(after, action, resource).decision
        if now is old or now not in (Decision.ALLOWED, Decision.UNDECIDED):
            return
        text = f"{action} on {resource} (was {old.value}, would be {now.value})"
        if (action.lower(), resource) in never:
            refused.append(f"{text}, forbidden by {never[action.lower(), resource]}")
            new.append(text)
        elif _required(action, resource, wanted):
            granted.append(text)
        else:
            new.append(text)

    count = 0
    for action, resources in runs(probes, forbidden):
        count += len(resources)
        for resource in reach.reached(action, resources):  # the others keep their verdict
            compare(action, resource)
    return Proof(tuple(new), tuple(granted), count, forbidden=tuple(refused))


def _required(action: str, resource: str, wanted: set[tuple[str, str]]) -> bool:
    """Whether (action, resource) is one of the required pairs, or one of the resources a
    required pattern stands for (``table/ml-jobs/index/*``: every index is required)."""
    return any(
        action.lower() == needed
        and (resource == pattern or (has_wildcard(pattern) and matches_resource(pattern, resource)))
        for needed, pattern in wanted
    )


def probes(
    documents: Sequence[Policy],
    table_arn: str,
    required: Iterable[tuple[str, str]],
    actions: Callable[[str], Sequence[str]],
) -> Sequence[tuple[str, str]]:
    """The probe set for ``documents`` (the current and the proposed version).

    ``actions(service)`` lists a service's actions as AWS spells them (empty for an unknown
    service).
    """
    mentioned = _resources_by_service(documents)
    named = {service: tuple(resources) for service, resources in mentioned.items()}
    return _probes(
        table_arn,
        tuple(required),
        tuple(sorted(named.items())),
        frozenset(_services(documents)),
        actions,
    )


@functools.lru_cache(maxsize=8)  # the targets of one account come one after another
def _probes(
    table_arn: str,
    required: tuple[tuple[str, str], ...],
    named: tuple[tuple[str, tuple[str, ...]], ...],
    services: frozenset[str],
    actions: Callable[[str], Sequence[str]],
) -> ProbeSet:
    """:func:`probes`, once for the targets that share a table, a requirement list and
    what their documents name (thousands of pairs a target)."""
    partition, _, _, region, account = table_arn.split(":", 5)[:5]
    other_table = f"{table_arn.rsplit('/', 1)[0]}/{_NAME}"
    mentioned = dict(named)
    # The DynamoDB resources the documents name too: a grant moved onto another table
    # the policy names (table/ml-jobs-archive) is new access on that table.
    table_resources = [
        table_arn,
        f"{table_arn}/index/{_NAME}",
        f"{table_arn}/stream/2026-01-01T00:00:00.000",
        other_table,
        *mentioned.get("dynamodb", ()),
        "*",
    ]
    found = [(action, resource) for action, resource in required]
    found.extend(
        (f"dynamodb:{action}", resource)
        for action in actions("dynamodb")
        for resource in dict.fromkeys(table_resources)
    )
    for service in sorted(services - {"dynamodb"}):
        resources = [*mentioned.get(service, ()), *mentioned.get("*", ()), "*"]
        resources.append(f"arn:{partition}:{service}:{region}:{account}:{_NAME}")
        found.extend(
            (f"{service}:{action}", resource)
            for action in actions(service)
            for resource in dict.fromkeys(resources)
        )
    return ProbeSet.of(found)


def _services(documents: Sequence[Policy]) -> set[str]:
    found: set[str] = set()
    for policy in documents:
        for statement in policy.statements:
            for pattern in (*(statement.actions or ()), *(statement.not_actions or ())):
                if ":" in pattern:
                    found.add(pattern.split(":", 1)[0].lower())
    return found


def _resources_by_service(documents: Sequence[Policy]) -> Mapping[str, list[str]]:
    """The resources each statement names, made concrete, by the ARN's service."""
    found: dict[str, list[str]] = {}
    for policy in documents:
        for statement in policy.statements:
            for pattern in (*(statement.resources or ()), *(statement.not_resources or ())):
                concrete = re.sub(r"\$\{[^}]*\}|[*?]", _NAME, pattern)
                parts = concrete.split(":")
                service = parts[2] if len(parts) > 2 and parts[0] == "arn" else "*"
                found.setdefault(service, []).append(concrete)
    return found


def prove_document(
    document: Mapping[str, Any],
    policies: RolePolicies,
    target: Policy,
    judge: Judge,
    needs: Sequence[Need],
    actions: Callable[[str], Sequence[str]],
    table_arn: str,
    forbidden: Sequence[Need] = (),
) -> Proof:
    """``document`` in place of ``target``: what it newly grants (a ``forbidden`` pair
    among it is named apart), and which needs it still leaves denied. A fix's proposed
    document, or what a patched file reads as. Only the decisions of ``judge``'s verdicts
    are read."""
    proposed, after = with_document(policies, document, target)
    required = [(need.action, need.resource) for need in needs]
    found = prove_no_new_access(
        policies,
        after,
        judge,
        probes([target, proposed], table_arn, required, actions),
        required,
        {(need.action, need.resource): need.id for need in forbidden},
    )
    missing = tuple(
        need.id for need in needs if not judge(after, need.action, need.resource).is_allowed
    )
    return dataclasses.replace(found, missing=missing)


def check_plan(
    plan: FixPlan,
    policies: RolePolicies,
    target: Policy,
    judge: Judge,
    needs: Sequence[Need],
    actions: Callable[[str], Sequence[str]],
    table_arn: str,
    forbidden: Sequence[Need] = (),
) -> FixPlan:
    """``plan`` with its proof; refused when the proposed document grants anything else,
    and, saying so first, when it would grant a ``forbidden`` pair."""
    if plan.new_document is None:
        return plan
    found = prove_document(
        plan.new_document, policies, target, judge, needs, actions, table_arn, forbidden
    )
    refusals = plan.refusals
    if found.forbidden:
        refusals = (
            *refusals,
            "the proposed document would allow what the workload must never be able to do: "
            f"{'; '.join(found.forbidden)}; a fix never grants a forbidden action",
        )
    if not found.holds:
        refusals = (*refusals, f"{found.describe()}; a fix may add only the required actions")
    # What the plan could not grant (blocked) is refused by the planner already; the proof
    # speaks of what the document adds.
    return dataclasses.replace(
        plan, proof=dataclasses.replace(found, missing=()).describe(), refusals=refusals
    )
