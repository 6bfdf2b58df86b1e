"""Judge one request of the containers as AWS would: the role's policies, the policy of
the resource it names, the VPC endpoints it comes through, and the KMS key use it implies.

:func:`judge` puts together for :func:`.evaluation.evaluate`, which decides:

* the resource's side (:mod:`.resource_side`): the governing resource's policy and how it
  combines with the role's (same account, a KMS key, another account), or why it cannot
  be known (its verdict is then undecided) or is not read (a note);
* the request's context for that resource (:meth:`.request.RequestContext.for_resource`:
  its account and tags);
* the declared VPC endpoints that serve the request's service (:mod:`.endpoints`);
* for a KMS key, its grants to the role and its state (:mod:`.keys`).

Then the key use the request implies (:mod:`.keys`: a customer managed key of the table
or bucket) is judged as its own request and kept with the verdict (``Verdict.implied``):
a key use that is not allowed makes the request that needs it not allowed (or undecided),
since DynamoDB and S3 refuse a request whose key they cannot use for the requester.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ..policy import Policy, RolePolicies
from ..resources import EndpointState, ResourceState, account_in, endpoint_ids, kind_of
from ..resources import governing_resource as governing_of
from .applicability import Evidence
from .decision import Decision
from .endpoints import EndpointPolicy, endpoints_for
from .evaluation import ImpliedUse, Verdict, evaluate, short_key
from .guardrails import Guardrails
from .keys import (
    Via,
    direct_context,
    dynamodb_via,
    grant_evidence,
    implied_context,
    key_uses,
    refuses,
    s3_via,
)
from .principals import RoleSession
from .request import RequestContext
from .resource_side import ResourceSide, side_of

#: The key that declares the VPC endpoints a request comes through, as folded.
_VPCE = "aws:sourcevpce"

#: Decisions a resource's policy cannot turn into allowed.
_REFUSED = (Decision.EXPLICIT_DENY, Decision.GUARDRAIL_DENY)


class Scene:
    """What a request is judged against besides the role's policies: the resources and
    endpoints the run read, the target's table, the requester."""

    def __init__(
        self,
        requester: RoleSession,
        resources: Mapping[str, ResourceState],
        endpoints: Mapping[str, EndpointState],
        table_arn: str | None,
        table_policy: Policy | None,
        *,
        strict: bool = False,
    ) -> None:
        self.requester = requester
        self.resources = resources
        self.endpoints = endpoints
        self.table_arn = table_arn
        self.table_policy = table_policy
        self.strict = strict

    def side(self, resource: str) -> ResourceSide:
        return side_of(
            resource,
            self.resources,
            role_account=self.requester.account,
            table_arn=self.table_arn,
            table_policy=self.table_policy,
            strict=self.strict,
        )


def judge_request(
    scene: Scene,
    request: RequestContext,
    policies: RolePolicies,
    action: str,
    resource: str,
    guardrails: Guardrails | None = None,
    *,
    explain: bool = True,
) -> Verdict:
    """Evaluate ``action`` on ``resource`` as the containers' request, with what
    ``scene`` holds; its implied key use judged too.

    ``explain=False`` decides the same and skips what only words the verdict: the second
    evaluation that finds whether the decision hinges on a key whose absence is assumed
    (:func:`.evaluation.evaluate`'s ``assumed_absent``), so the verdict's reason does not
    say so and its ``assumed_absent`` is empty. For what compares decisions alone (a
    fix's proof)."""
    side = scene.side(resource)
    context = context_for(scene, request, side, action, resource)
    service = action.partition(":")[0]
    folded = context.folded_values()  # lower-cased keys: look the one key up
    declared = endpoint_ids({_VPCE: folded[_VPCE]} if _VPCE in folded else {})
    endpoints, unknown_endpoint = endpoints_for(declared, scene.endpoints, service)
    verdict = _evaluated(
        scene, context, policies, action, resource, side, guardrails, None, endpoints, explain
    )
    if unknown_endpoint and verdict.decision not in _REFUSED:
        verdict = undecided(verdict, unknown_endpoint, "the VPC endpoint's policy")
    if side.not_read:
        verdict = dataclasses.replace(
            verdict, reason=f"{verdict.reason}; note: {side.not_read}", not_read=side.not_read
        )
    if side.blocked or verdict.decision in _REFUSED:
        return verdict
    return fold(verdict, implied_uses(scene, request, policies, action, side, guardrails, explain))


def context_for(
    scene: Scene, request: RequestContext, side: ResourceSide, action: str, resource: str
) -> RequestContext:
    """The containers' request context for ``resource``: its own account and tags."""
    if not side.is_target_table and resource != "*":
        state = side.state
        account = side.account or account_in(resource)
        kind = kind_of(governing) if (governing := governing_of(resource)) else "resource"
        tags = state.tags if state is not None else None
        request = request.for_resource(account, f"{kind}'s account", tags, kind)
    if action.lower().startswith("kms:"):
        request = direct_context(request, scene.requester)
    return request


def _evaluated(
    scene: Scene,
    context: RequestContext,
    policies: RolePolicies,
    action: str,
    resource: str,
    side: ResourceSide,
    guardrails: Guardrails | None,
    via: Via | None,
    endpoints: Sequence[EndpointPolicy] = (),
    explain: bool = True,
) -> Verdict:
    """One evaluation, the resource's side settled: undecided when its policy is not
    known (unless the role's side already refuses), refused by a key that is not enabled."""
    state = side.state
    key = state.key if state is not None and state.service == "kms" else None
    verdict = evaluate(
        policies,
        action,
        resource,
        context.folded_values(),
        resource_policy=side.policy,
        requester=scene.requester,
        assumed_absent=context.assumed_absent() if explain else frozenset(),
        guardrails=guardrails,
        unknown_values=context.unknown(),
        combination=side.combination,
        resource_label=side.label,
        key_grants=grant_evidence(key, state.arn, scene.requester, action, via)
        if key is not None and state is not None
        else (),
        endpoints=endpoints,
    )
    if side.blocked:
        if verdict.decision in _REFUSED:
            return verdict
        return undecided(verdict, side.blocked, side.label or "the resource's own policy")
    refused = refuses(key, action)
    if refused is not None and verdict.decision is not Decision.EXPLICIT_DENY:
        return dataclasses.replace(
            verdict,
            decision=Decision.IMPLICIT_DENY,
            reason=f"{action} is not allowed: {refused}",
            allowed_by=(),
            resource_allowed_by=(),
            everyone_allowed_by=(),
        )
    return verdict


def undecided(verdict: Verdict, why: str, where: str, status: str = "could not be read") -> Verdict:
    """``verdict`` made undecided because ``why`` keeps ``where`` (a policy, an encryption)
    from being known; the evidence reads ``where, status``."""
    evidence = Evidence(where, status, "Allow", (), why)
    return dataclasses.replace(
        verdict,
        decision=Decision.UNDECIDED,
        reason=f"{verdict.action} could not be decided: {why}",
        undecided_by=(evidence, *verdict.undecided_by),
    )


def implied_uses(
    scene: Scene,
    request: RequestContext,
    policies: RolePolicies,
    action: str,
    side: ResourceSide,
    guardrails: Guardrails | None,
    explain: bool = True,
) -> tuple[ImpliedUse, ...] | str:
    """The key uses ``action`` on ``side``'s resource implies, each judged; or why it
    cannot be told whether it implies any."""
    uses = key_uses(action)
    state = side.state
    if not uses or state is None or state.encryption is None:
        return ()
    encryption = state.encryption
    if not encryption.is_known:
        return (
            f"whether {action} needs a KMS key cannot be told: the {state.kind}'s "
            f"encryption is not known ({encryption.detail or 'not read'})"
        )
    key_arn = encryption.customer_key
    if key_arn is None:  # no key, the service's own, or an AWS managed one
        return ()
    if state.service == "dynamodb":
        via = dynamodb_via(state.arn)
    else:
        region = state.region or next(iter(request.values().get("aws:RequestedRegion", ())), "")
        via = s3_via(state.arn, region)
    key_side = scene.side(key_arn)
    context = implied_context(request, via, scene.requester, key_side.account)
    found = []
    for use in uses:
        verdict = _evaluated(
            scene, context, policies, use.action, key_arn, key_side, guardrails, via, (), explain
        )
        found.append(ImpliedUse(use.action, key_arn, via.service, action, verdict, use.only_for))
    return tuple(found)


def fold(verdict: Verdict, uses: tuple[ImpliedUse, ...] | str) -> Verdict:
    """``verdict`` with the key uses it implies: not allowed (or undecided) when one of
    them is not allowed."""
    if isinstance(uses, str):
        if not verdict.is_allowed:
            return verdict
        return undecided(verdict, uses, "the resource's encryption", "not known")
    if not uses and not verdict.implied:  # most requests imply no key use
        return verdict
    verdict = dataclasses.replace(verdict, implied=uses)
    if not verdict.is_allowed:
        return verdict
    for use in uses:
        if use.verdict.is_allowed:
            continue
        needs = (
            f"{verdict.reason}, but it needs {use.action} on {short_key(use.key)}, which "
            f"{_SERVICES.get(use.via, use.via)} asks for on the role's behalf"
        )
        if use.only_for or use.verdict.decision is Decision.UNDECIDED:
            when = (
                f" for {use.only_for} (whether the containers make them is not known here)"
                if use.only_for
                else ""
            )
            return dataclasses.replace(
                verdict,
                decision=Decision.UNDECIDED,
                reason=f"{needs}{when}: {use.verdict.reason}",
                undecided_by=use.verdict.undecided_by or use.verdict.denied_by,
                blocked_by_use=use,
            )
        return dataclasses.replace(
            verdict,
            decision=use.verdict.decision,
            reason=f"{needs}: {use.verdict.reason}",
            allowed_by=(),
            resource_allowed_by=(),
            everyone_allowed_by=(),
            boundary_allowed_by=(),
            denied_by=use.verdict.denied_by,
            near_misses=(),
            blocked_by_use=use,
        )
    return verdict


_SERVICES = {"dynamodb": "DynamoDB", "s3": "S3"}
