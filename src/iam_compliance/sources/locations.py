"""Point from a verdict's evidence back into the source file: line and resource address.

Evidence names a policy by its label (``MLPlatformECSTaskPolicy v1``, ``inline policy
X``, ``permissions boundary B v1``, ``table resource policy``) and a statement by its Sid
or position; the source knows where each is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..engine.evaluate.assessment import Assessment
from ..engine.evaluate.evaluation import Verdict
from ..engine.policy import labelled_statement, labels_policy
from .model import Source, SourcePolicy


@dataclass(frozen=True)
class Where:
    """A line of the source file and the resource that holds it."""

    path: str
    line: int
    address: str

    @property
    def text(self) -> str:
        return f"{self.path} line {self.line}, {self.address}"


def policy_of(source: Source, label: str) -> SourcePolicy | None:
    """The source's policy that a label names."""
    for policy in (*source.policies, *([source.table_policy] if source.table_policy else [])):
        if labels_policy(label, policy.name, policy.kind):
            return policy
    return None


def statement_index(policy: SourcePolicy, label: str) -> int | None:
    """The position of the statement a label names in ``policy``'s document."""
    named = labelled_statement(label)
    if not isinstance(named, str):
        return named
    if policy.document is not None:
        body = policy.document.get("Statement")
        items = body if isinstance(body, list) else [body]
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("Sid") == named:
                return index
    return None


def locate(source: Source, policy_label: str, statement_label: str | None = None) -> Where | None:
    """Where the statement (or, without one, the policy) is written."""
    policy = policy_of(source, policy_label)
    if policy is None:
        return None
    index = statement_index(policy, statement_label) if statement_label else None
    line = policy.statement_line(index) if index is not None else policy.place.line
    return Where(str(source.path), line, policy.place.address)


def where_decided(source: Source, verdict: Verdict, policy_name: str) -> Where | None:
    """The deciding statement of ``verdict``; without one, the task policy."""
    deciding = verdict.deciding
    if deciding is not None:
        found = locate(source, deciding.policy, deciding.statement)
        if found is not None:
            return found
    return locate(source, policy_name)


def annotate(assessment: Assessment, source: Source) -> Assessment:
    """Each verdict's reason (a forbid's too) followed by where its deciding statement is
    written."""
    return dataclasses.replace(
        assessment,
        verdicts=_annotated(assessment.verdicts, source, assessment.target.policy_name),
        forbidden_verdicts=_annotated(
            assessment.forbidden_verdicts, source, assessment.target.policy_name
        ),
    )


def _annotated(
    verdicts: Mapping[str, Verdict], source: Source, policy_name: str
) -> dict[str, Verdict]:
    found = {}
    for rid, verdict in verdicts.items():
        where = where_decided(source, verdict, policy_name)
        if where is not None:
            verdict = dataclasses.replace(verdict, reason=f"{verdict.reason} [{where.text}]")
        found[rid] = verdict
    return found
