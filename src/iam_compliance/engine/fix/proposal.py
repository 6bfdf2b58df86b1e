"""The one way a fix is planned and proved: :func:`.planning.plan_fix`, then :mod:`.proof`.

Every caller goes through :func:`plan_and_prove`: the proposed fix of every report,
``--fix-dry-run`` and ``--fix``, and the patch of a source file. So the fix a report
proposes is the document ``--fix-dry-run`` prints, with the same proof. A fix written
into a file (a patch) is proved again on what the file reads as once written: what is
applied is what is proved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ...errors import RemediationError
from ..evaluate.assessment import Assessment
from ..evaluate.evaluation import Judge, Verdict
from ..policy import PolicyVersion, RolePolicies
from .planning import FixPlan, plan_fix
from .proof import check_plan, prove_document


class WrittenFix(Protocol):
    """A fix written into a file (a patch of a source file), as the file reads once
    written."""

    @property
    def folder(self) -> Path:
        """The folder the file's path is relative to."""
        ...

    @property
    def name(self) -> str:
        """The file, relative to ``folder``."""
        ...

    @property
    def document(self) -> Mapping[str, Any]:
        """The task policy's document, as the written file makes it."""
        ...

    def reads_as(self, document: Mapping[str, Any]) -> bool:
        """Whether the written file makes ``document``: nothing planned is missing,
        nothing else is lost."""
        ...


def plan_and_prove(
    found: Assessment,
    actions: Callable[[str], Sequence[str]],
    *,
    versions: Sequence[PolicyVersion] | None = None,
    judge: Judge | None = None,
    shared_with: Sequence[str] = (),
    allow_shared: bool = False,
    write: Callable[[FixPlan], WrittenFix | None] | None = None,
) -> FixPlan | None:
    """The smallest fix of ``found``'s task policy, proved to grant only what is required
    and never one of its forbidden pairs.

    None when the task policy is not attached (there is nothing to add to). ``versions``
    is IAM's listing of the policy's versions; None plans against the default version
    alone, which needs no AWS call: only the version to delete (and the refusal at five
    versions with none to delete) depend on the listing. ``judge`` evaluates a request as
    the run models it (default: ``found.judge``; a source file's unknowns wrap it);
    ``actions(service)`` lists a service's actions for the proof's probes.

    ``write(plan)`` writes a plan that can be applied into a file (None: it cannot be
    written there); the plan's proof is then made again on the document the written file
    makes, and a written file that does not make exactly the planned document, granting
    exactly the required actions, raises :class:`~iam_compliance.errors.RemediationError`.
    Raises what :func:`.planning.plan_fix` raises.
    """
    policy = found.target_policy
    if policy is None or policy.version is None:
        return None
    # Judged as the assessment was (a source file's unknowns judge otherwise): its own
    # verdicts are the current policies' answers to the needs, and the proof, which
    # compares decisions alone, needs no wording of them (Assessment.decide).
    as_assessed = judge is None or judge == found.judge
    known = found.verdicts_by_request() if as_assessed else {}
    decide = _Remembered(judge or found.judge, found.snapshot.policies, known)
    prove = decide.deciding(found.decide) if as_assessed else decide
    listing = versions
    if listing is None:
        listing = [PolicyVersion(policy.version, is_default=True, created=datetime.now(UTC))]
    plan = plan_fix(
        found.snapshot.policies,
        policy,
        found.needs(),
        found.target.table_arn,
        listing,
        judge=decide,
        decisions=prove,
        shared_with=shared_with,
        allow_shared=allow_shared,
    )
    plan = check_plan(
        plan,
        found.snapshot.policies,
        policy,
        prove,
        found.needs(),
        actions,
        found.target.table_arn,
        found.forbidden_needs(),
    )
    if write is None or not plan.can_apply or plan.new_document is None:
        return plan
    written = write(plan)
    if written is None:
        return plan
    proof = prove_document(
        written.document,
        found.snapshot.policies,
        policy,
        prove,
        found.needs(),
        actions,
        found.target.table_arn,
        found.forbidden_needs(),
    )
    if not proof.exact or not written.reads_as(plan.new_document):
        why = proof.describe() if not proof.exact else "it is not the planned document"
        raise RemediationError(
            f"the patch of {written.folder / written.name}, as the patched file reads, "
            f"is not the planned fix: {why}; nothing written"
        )
    return dataclasses.replace(
        plan, proof=f"{proof.describe()}, proved on {written.name} as patched"
    )


class _Remembered:
    """A judge deciding each request once: planning and proving ask a third of their
    requests again (the required ones, before and after). A verdict is a pure function of
    the policies (frozen) and the request, so the answer is the same. ``known``: the
    verdicts ``judge`` already gave for ``current``, by (action, resource)."""

    def __init__(
        self, judge: Judge, current: RolePolicies, known: Mapping[tuple[str, str], Verdict]
    ) -> None:
        self._judge = judge
        self._seen: dict[tuple[int, str, str], tuple[RolePolicies, Verdict]] = {
            (id(current), action, resource): (current, verdict)
            for (action, resource), verdict in known.items()
        }

    def __call__(self, policies: RolePolicies, action: str, resource: str) -> Verdict:
        return self._ask(self._seen, self._judge, policies, action, resource)

    def deciding(self, quick: Judge) -> Judge:
        """A judge for what reads decisions alone: this one's verdict when it has one,
        else ``quick``'s (the same decision, remembered apart: its wording may be less)."""
        decided: dict[tuple[int, str, str], tuple[RolePolicies, Verdict]] = {}

        def decide(policies: RolePolicies, action: str, resource: str) -> Verdict:
            found = self._seen.get((id(policies), action, resource))
            if found is not None and found[0] is policies:
                return found[1]
            return self._ask(decided, quick, policies, action, resource)

        return decide

    @staticmethod
    def _ask(
        seen: dict[tuple[int, str, str], tuple[RolePolicies, Verdict]],
        judge: Judge,
        policies: RolePolicies,
        action: str,
        resource: str,
    ) -> Verdict:
        key = (id(policies), action, resource)
        found = seen.get(key)
        if found is None or found[0] is not policies:  # held, so its id is not reused
            found = seen[key] = (policies, judge(policies, action, resource))
        return found[1]
