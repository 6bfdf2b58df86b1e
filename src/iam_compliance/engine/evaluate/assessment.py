"""Put a role's fetched state together with the requirements: every verdict of one run.

Pure: the AWS adapter produces a :class:`RoleSnapshot`; everything here is computed
from it, so mock mode, a moto server and a real account are judged by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..policy import Policy, RolePolicies
from ..requirements import DEFAULT_TRUSTED_SERVICE, ForbiddenAction, Need, RequiredAction
from ..target import Target
from .evaluation import Verdict
from .forbidden import check_forbidden, unseen_policy
from .guardrails import Guardrails, Reading
from .judgement import Scene, context_for, judge_request
from .privilege import Finding, find_excess_grants
from .request import (
    ContextEntry,
    Declared,
    RequestContext,
    build_context,
    derive_context,
)
from .snapshot import RoleSnapshot
from .trust import CheckResult, assume_role_context, check_trust
from .variables import Context

#: No declarations: every key that is not derived is absent.
NOTHING_DECLARED = Declared()
#: Guardrails that were not read (the engine used on its own, or --guardrails off).
NOT_READ = Reading("off", "not read")


@dataclass(frozen=True)
class Assessment:
    """Every verdict about one target."""

    target: Target
    snapshot: RoleSnapshot
    requirements: tuple[RequiredAction, ...]
    #: Requirement id (``dynamodb:Scan``, ``dynamodb:Query@index/*``) -> verdict, in the
    #: order of the requirements file.
    verdicts: Mapping[str, Verdict]
    findings: tuple[Finding, ...]
    trust: CheckResult
    attachment: CheckResult
    #: The context of the containers' requests the verdicts are for.
    request_context: RequestContext = field(default_factory=lambda: RequestContext(()))
    #: The organization's guardrails, as read (or why they were not).
    guardrails: Reading = NOT_READ
    #: --iam-strict-resources: a resource whose policy is not read makes its verdicts
    #: undecided instead of carrying a note.
    strict_resources: bool = False
    #: What the workload's role must never be able to do, in the file's order.
    forbidden: tuple[ForbiddenAction, ...] = ()
    #: Forbid id -> verdict on its request (the same evaluation as a requirement's).
    forbidden_verdicts: Mapping[str, Verdict] = field(default_factory=dict)
    #: The service principal the trust check lets assume the role.
    trusted_service: str = DEFAULT_TRUSTED_SERVICE

    def judge(
        self, policies: RolePolicies, action: str, resource: str, *, explain: bool = True
    ) -> Verdict:
        """Evaluate ``action`` on ``resource`` for ``policies``, as this target's requests
        are modelled (context, the resource's policy, the endpoints, the requester,
        guardrails, the key use it implies); ``explain``: see
        :func:`.judgement.judge_request`."""
        return judge(
            self.snapshot,
            self.request_context,
            policies,
            action,
            resource,
            self.guardrails.guardrails,
            table_arn=self.target.table_arn,
            strict=self.strict_resources,
            explain=explain,
        )

    def decide(self, policies: RolePolicies, action: str, resource: str) -> Verdict:
        """:meth:`judge`'s decision, for what compares decisions alone: the verdict's
        reason leaves out whether it hinges on a key whose absence is assumed."""
        return self.judge(policies, action, resource, explain=False)

    def verdicts_by_request(self) -> dict[tuple[str, str], Verdict]:
        """The verdicts of the requirements and forbids, by (action, resource): what
        :meth:`judge` answers for the snapshot's own policies."""
        found = {(r.name, r.arn(self.target)): self.verdicts[r.id] for r in self.requirements}
        for forbid in self.forbidden:
            found[forbid.name, forbid.arn(self.target)] = self.forbidden_verdicts[forbid.id]
        return found

    def context_for(self, action: str, resource: str) -> RequestContext:
        """The context of the containers' request of ``action`` on ``resource`` (its own
        account and tags when it is not the target's table)."""
        scene = scene_of(self.snapshot, self.target.table_arn, strict=self.strict_resources)
        return context_for(scene, self.request_context, scene.side(resource), action, resource)

    def needs(self) -> list[Need]:
        """Each requirement as a fix plans it: action, resource, id."""
        return [Need(r.name, r.arn(self.target), r.id) for r in self.requirements]

    def forbidden_needs(self) -> list[Need]:
        """Each forbid as a fix must leave it: action, resource, id."""
        return [Need(f.name, f.arn(self.target), f.id) for f in self.forbidden]

    def forbidden_check(self, forbid_id: str) -> CheckResult:
        """The forbidden check of one ``[[forbid]]`` entry, by id."""
        verdict = self.forbidden_verdicts[forbid_id]
        why = next((f.reason for f in self.forbidden if f.id == forbid_id), "")
        # What judge() applied: the target table's policy as read, or another resource's
        # policy (or its absence) as read, neither left out nor unreadable.
        scene = scene_of(self.snapshot, self.target.table_arn, strict=self.strict_resources)
        side = scene.side(verdict.resource)
        applied = side.is_target_table or (
            side.state is not None and not side.not_read and not side.blocked
        )
        unseen = unseen_policy(verdict.resource, applied, self.snapshot.resources)
        return check_forbidden(verdict, why, unseen)

    @property
    def forbidden_failures(self) -> tuple[str, ...]:
        """The ids of the forbids not proved denied, in order."""
        return tuple(fid for fid in self.forbidden_verdicts if not self.forbidden_check(fid).ok)

    @property
    def policy_arn(self) -> str:
        """The configured policy's ARN: as attached to the role (with its path), else the
        one the configuration names."""
        return self.snapshot.policy_arn or self.target.policy_arn

    @property
    def target_policy(self) -> Policy | None:
        """The configured managed policy's default version, if it is attached."""
        for policy in self.snapshot.policies.identity:
            if policy.arn == self.policy_arn:
                return policy
        return None

    @property
    def missing(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts.values() if not v.is_allowed)

    @property
    def missing_ids(self) -> tuple[str, ...]:
        """The ids of the requirements that are not allowed, in order."""
        return tuple(rid for rid, v in self.verdicts.items() if not v.is_allowed)

    @property
    def failing_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "fail")

    @property
    def is_compliant(self) -> bool:
        return (
            not self.missing
            and not self.failing_findings
            and self.trust.ok
            and self.attachment.ok
            and not self.forbidden_failures
        )

    def reason_for(self, requirement: str) -> str:
        """Why the workload needs a requirement (by id, or by action name)."""
        for required in self.requirements:
            if requirement in (required.id, required.name):
                return required.reason
        return ""

    def explain_missing(self) -> str:
        """The all-permissions test's failure message: each missing action with its reason,
        on its own resource (named once when they share one)."""
        resources = {v.resource for v in self.missing}
        on = f" on {next(iter(resources))}" if len(resources) == 1 else ""
        lines = [
            f"{len(self.missing)} of {len(self.verdicts)} required actions are not allowed "
            f"for {self.target.role_name}{on}:"
        ]
        for rid in self.missing_ids:
            verdict = self.verdicts[rid]
            where = "" if on else f" on {verdict.resource}"
            lines.append(f"  - {rid}{where} ({self.reason_for(rid)}): {verdict.reason}")
            # The key use it implies, each on its own line (only those that fail it).
            lines.extend(
                f"    - {use.line}" for use in verdict.implied if not use.verdict.is_allowed
            )
        return "\n".join(lines)


def assess(
    target: Target,
    snapshot: RoleSnapshot,
    requirements: Sequence[RequiredAction],
    context: Context | None = None,
    *,
    declared: Declared = NOTHING_DECLARED,
    now: datetime | None = None,
    guardrails: Reading | None = None,
    strict_resources: bool = False,
    forbidden: Sequence[ForbiddenAction] = (),
    trusted_service: str = DEFAULT_TRUSTED_SERVICE,
) -> Assessment:
    """Evaluate every requirement and forbid, the trust policy, attachment and least
    privilege.

    The requests are modelled from the snapshot (role, tags, table, the resources and
    endpoints read), the user's ``declared`` keys and the command line's ``context``, at
    ``now`` (the run's time); the trust check is for ``trusted_service``'s request.
    ``strict_resources``: see :attr:`Assessment.strict_resources`.
    """
    moment = now or datetime.now(UTC)
    reading = guardrails or NOT_READ
    request = request_context(target, snapshot, declared, context, moment, reading)
    verdicts = {
        required.id: judge(
            snapshot,
            request,
            snapshot.policies,
            required.name,
            required.arn(target),
            reading.guardrails,
            table_arn=target.table_arn,
            strict=strict_resources,
        )
        for required in requirements
    }
    forbidden_verdicts = {
        forbid.id: judge(
            snapshot,
            request,
            snapshot.policies,
            forbid.name,
            forbid.arn(target),
            reading.guardrails,
            table_arn=target.table_arn,
            strict=strict_resources,
        )
        for forbid in forbidden
    }
    by_resource: dict[str, list[str]] = {}
    required_on: dict[str, list[str]] = {}
    for required in requirements:
        by_resource.setdefault(required.arn(target), []).append(required.name)
        required_on.setdefault(required.name, []).append(required.arn(target))
    findings = dict.fromkeys(
        finding
        for resource, actions in by_resource.items()
        for finding in find_excess_grants(
            snapshot.policies, actions, resource, required_on=required_on
        )
    )
    trust_context = assume_role_context(
        snapshot.account_id, moment, declared.assume_role, trusted_service
    )
    return Assessment(
        target=target,
        snapshot=snapshot,
        requirements=tuple(requirements),
        verdicts=verdicts,
        findings=tuple(findings),
        trust=check_trust(
            snapshot.trust_policy,
            snapshot.role_name,
            trust_context,
            role_arn=snapshot.role_arn,
            service=trusted_service,
        ),
        attachment=check_attachment(target, snapshot),
        request_context=request,
        guardrails=reading,
        strict_resources=strict_resources,
        forbidden=tuple(forbidden),
        forbidden_verdicts=forbidden_verdicts,
        trusted_service=trusted_service,
    )


def judge(
    snapshot: RoleSnapshot,
    request: RequestContext,
    policies: RolePolicies,
    action: str,
    resource: str,
    guardrails: Guardrails | None = None,
    *,
    table_arn: str | None = None,
    strict: bool = False,
    explain: bool = True,
) -> Verdict:
    """Evaluate ``action`` on ``resource`` with the request model of ``snapshot``'s target
    (whose table is ``table_arn``; default: the snapshot's table), as
    :func:`.judgement.judge_request` does (``explain`` too)."""
    scene = scene_of(snapshot, table_arn, strict=strict)
    return judge_request(scene, request, policies, action, resource, guardrails, explain=explain)


def scene_of(snapshot: RoleSnapshot, table_arn: str | None, *, strict: bool = False) -> Scene:
    """What the requests of ``snapshot``'s role are judged against besides its policies."""
    table = snapshot.table
    return Scene(
        snapshot.requester,
        snapshot.resources,
        snapshot.endpoints,
        table_arn or (table.arn if table is not None else None),
        table.resource_policy if table is not None else None,
        strict=strict,
    )


def request_context(
    target: Target,
    snapshot: RoleSnapshot,
    declared: Declared,
    overrides: Context | None,
    now: datetime,
    guardrails: Reading | None = None,
) -> RequestContext:
    """The context of the containers' requests to ``target``'s table."""
    table = snapshot.table
    derived = derive_context(
        role_arn=snapshot.role_arn,
        account=snapshot.account_id,
        region=target.region,
        now=now,
        role_tags=snapshot.role_tags,
        resource_account=table.account if table is not None else target.account_id,
        resource_tags=table.tags if table is not None else {},
        role_id=snapshot.role_id,
    )
    if guardrails is not None:
        derived.extend(organization_context(guardrails))
    return build_context(derived, declared.request, _as_lists(overrides))


def organization_context(reading: Reading) -> list[ContextEntry]:
    """aws:PrincipalOrgID and aws:ResourceOrgID (the table is in the role's account), and
    their org paths, as far as the organization could be read."""
    if reading.organization_id is None:
        return []
    source = "the account's organization"
    entries = [
        ContextEntry("aws:PrincipalOrgID", (reading.organization_id,), source),
        ContextEntry("aws:ResourceOrgID", (reading.organization_id,), source),
    ]
    if reading.guardrails is not None:
        path = (reading.guardrails.path,)
        entries += [
            ContextEntry("aws:PrincipalOrgPaths", path, source),
            ContextEntry("aws:ResourceOrgPaths", path, source),
        ]
    return entries


def _as_lists(context: Context | None) -> dict[str, list[str]]:
    return {
        key: [values] if isinstance(values, str) else list(values)
        for key, values in (context or {}).items()
    }


def check_attachment(target: Target, snapshot: RoleSnapshot) -> CheckResult:
    arn = snapshot.policy_arn or target.policy_arn
    if any(p.arn == arn for p in snapshot.attached):
        return CheckResult(True, f"{target.policy_name} is attached to {target.role_name}")
    attached = ", ".join(p.name for p in snapshot.attached) or "none"
    if not snapshot.target_policy_exists:
        return CheckResult(
            False,
            f"policy {target.policy_arn} does not exist in account {target.account_id} "
            f"(ECS_TASK_POLICY_NAME={target.policy_name}); attached to "
            f"{target.role_name}: {attached}",
        )
    return CheckResult(
        False,
        f"{target.policy_name} ({target.policy_arn}) exists but is not attached to "
        f"{target.role_name}; attached managed policies: {attached}",
    )
