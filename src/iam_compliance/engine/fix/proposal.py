"""The one way a fix is planned: :func:`.remediation.plan_fix`, then :mod:`.proof`.

Every caller goes through :func:`plan_and_prove`: the proposed fix of every report,
``--fix-dry-run`` and ``--fix``, and the patch of a source file. So the fix a report
proposes is the document ``--fix-dry-run`` prints, with the same proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ..evaluate.assessment import Assessment
from ..evaluate.evaluation import Judge
from ..policy import PolicyVersion
from .planning import FixPlan, plan_fix
from .proof import check_plan


def plan_and_prove(
    found: Assessment,
    actions: Callable[[str], Sequence[str]],
    *,
    versions: Sequence[PolicyVersion] | None = None,
    judge: Judge | None = None,
    shared_with: Sequence[str] = (),
    allow_shared: bool = False,
) -> FixPlan | None:
    """The smallest fix of ``found``'s task policy, proved to grant only what is required.

    None when the task policy is not attached (there is nothing to add to). ``versions``
    is IAM's listing of the policy's versions; None plans against the default version
    alone, which needs no AWS call: only the version to delete (and the refusal at five
    versions with none to delete) depend on the listing. ``judge`` evaluates a request as
    the run models it (default: ``found.judge``; a source file's unknowns wrap it);
    ``actions(service)`` lists a service's actions for the proof's probes. Raises what
    :func:`.remediation.plan_fix` raises.
    """
    policy = found.target_policy
    if policy is None or policy.version is None:
        return None
    decide = judge or found.judge
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
        shared_with=shared_with,
        allow_shared=allow_shared,
    )
    return check_plan(
        plan,
        found.snapshot.policies,
        policy,
        decide,
        found.needs(),
        actions,
        found.target.table_arn,
    )
