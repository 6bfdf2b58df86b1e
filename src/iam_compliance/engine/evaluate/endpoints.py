"""The policies of the VPC endpoints a request comes through.

"An endpoint policy is a resource-based policy that you attach to a VPC endpoint to
control which AWS principals can use the endpoint to access an AWS service. An endpoint
policy does not override or replace identity-based policies or resource-based policies"
(https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html). So for a
request through an endpoint, besides everything else, its policy must have an Allow that
applies, and a Deny in it that applies denies the request. An endpoint created without a
policy has AWS's default one, full access.

Which endpoints a request comes through is what the user declares as ``aws:SourceVpce``
(:func:`~iam_compliance.engine.resources.endpoint_ids`); an endpoint serves one service
(its ``ServiceName``, ``com.amazonaws.us-east-1.dynamodb``), and only that service's
requests go through it: a DynamoDB gateway endpoint takes no part in an S3 request.

Whom a statement names (:mod:`.principals`) depends on the kind of endpoint. The same
page, for gateway endpoints: the principal is to be given with the ``aws:PrincipalArn``
condition key and ``"Principal": "*"``; a statement whose Principal is the account
(``"AWS": "<account>"`` or ``arn:aws:iam::<account>:root``) grants "only to the AWS
account root user", not to the account's roles; what a role's ARN as Principal does there
is not documented, so such a statement only might apply. For an interface endpoint, the
Principal element works as in any resource-based policy: the role, or its account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..policy import Policy, Statement
from ..resources import EndpointState
from .applicability import Evidence, Request, scan
from .guardrails import Gate
from .principals import Naming, Requester, names_requester


@dataclass(frozen=True)
class EndpointPolicy:
    """The policy of one VPC endpoint a request comes through."""

    #: ``vpce-0a1b2c3d``.
    id: str
    policy: Policy
    #: A gateway endpoint (S3, DynamoDB), where an account Principal is its root user only.
    gateway: bool


def endpoint_gate(
    endpoints: Sequence[EndpointPolicy], request: Request, requester: Requester | None
) -> Gate:
    """What the endpoints' policies say about ``request``: each must allow it, none deny."""
    denied: list[Evidence] = []
    maybe_denied: list[Evidence] = []
    blocked: list[str] = []
    maybe_allowed: list[Evidence] = []
    for endpoint in endpoints:
        allowed = False
        might: list[Evidence] = []
        for match in scan(endpoint.policy, request).matches:
            naming, why = _naming(endpoint, match.statement, requester)
            if naming is False:
                continue
            applies = match.applies if naming is True else None
            evidence = match.evidence
            if naming is None:
                evidence = Evidence(
                    evidence.policy,
                    evidence.statement,
                    evidence.effect,
                    evidence.condition_keys,
                    "; ".join(n for n in (evidence.note, why) if n),
                )
            if evidence.effect == "Deny":
                (denied if applies else maybe_denied).append(evidence)
            elif applies:
                allowed = True
            else:
                might.append(evidence)
        if not allowed and might:
            maybe_allowed.extend(might)
        elif not allowed:
            blocked.append(endpoint.policy.label)
    return Gate(tuple(denied), tuple(maybe_denied), tuple(blocked), tuple(maybe_allowed))


_MAYBE_NAMED = (
    "whether the statement names the role cannot be decided: a gateway endpoint's policy "
    "names principals with the aws:PrincipalArn condition key, and what a role as its "
    "Principal does there is not documented"
)


def _naming(
    endpoint: EndpointPolicy, statement: Statement, requester: Requester | None
) -> tuple[bool | None, str | None]:
    """Whether the statement names the requester: True, False, or None (it might, and why)."""
    if requester is None:
        return None, "the requester is not known"
    naming, note = names_requester(statement, requester)
    if naming is Naming.EVERYONE:
        return True, None
    if naming is Naming.ACCOUNT:
        return not endpoint.gateway, None
    if naming is Naming.REQUESTER:
        return (None, _MAYBE_NAMED) if endpoint.gateway else (True, None)
    if naming is Naming.MAYBE:
        return None, note
    return False, None


def endpoints_for(
    declared: Sequence[str], states: Mapping[str, EndpointState], service: str
) -> tuple[tuple[EndpointPolicy, ...], str]:
    """The policies of the ``declared`` endpoints that serve ``service``, and why one of
    them is not known (its verdict is then undecided); an endpoint with no policy has
    AWS's default, full access, and takes no part."""
    found: list[EndpointPolicy] = []
    for endpoint_id in declared:
        state = states.get(endpoint_id)
        if state is None:
            return (), (
                f"VPC endpoint {endpoint_id} (declared as aws:SourceVpce) was not read in this run"
            )
        if state.service_name is not None and not serves(state.service_name, service):
            continue
        if state.status == "not-found":
            return (), f"VPC endpoint {endpoint_id}, declared as aws:SourceVpce, was not found"
        if state.status == "unreadable":
            needs = (
                f"the identity running the checker needs {state.missing_action}"
                if state.missing_action
                else state.detail
            )
            return (), f"the policy of VPC endpoint {endpoint_id} could not be read: {needs}"
        if state.policy is not None:
            # Only an Interface endpoint's Principal names principals as elsewhere.
            gateway = state.endpoint_type != "Interface"
            found.append(EndpointPolicy(endpoint_id, state.policy, gateway))
    return tuple(found), ""


def serves(service_name: str, service: str) -> bool:
    """Whether an endpoint of ``service_name`` (``com.amazonaws.us-east-1.s3``) carries
    requests of ``service`` (an action's prefix, ``s3``)."""
    return service_name.rsplit(".", 1)[-1].lower() == service.lower()
