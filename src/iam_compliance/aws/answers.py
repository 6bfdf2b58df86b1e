"""What services answer about resources, in the model's terms: error codes that mean "no
policy" or "no such resource", KMS key references, grants, and VPC endpoints."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from ..engine.resources import Encryption, EndpointState, Grant, GrantConstraints, ReadStatus
from ..errors import AccessDeniedError, AwsError, NotFoundError, PolicyError
from .resources import resource_policy
from .translate import _calling as calling

#: How AWS names its own key of a service (``alias/aws/s3``).
AWS_ALIAS = "alias/aws/"
#: EC2's answers when an endpoint id does not exist (or cannot): it fails the whole request.
_NO_ENDPOINT = frozenset({"InvalidVpcEndpointId.NotFound", "InvalidVpcEndpointId.Malformed"})


def ask(
    action: str,
    resource: str,
    call: Callable[[], Any],
    *,
    none: Collection[str] = (),
    missing: Collection[str] = (),
) -> Any:
    """``call()``, its errors translated (naming ``action`` on ``resource``): an error code
    of ``none`` answers None (the resource has no policy), one of ``missing`` raises
    :class:`NotFoundError` (there is no such resource)."""
    with calling(action, resource), _codes(action, resource, none, missing) as answer:
        answer.append(call())
    return answer[0] if answer else None


@contextmanager
def _codes(
    action: str, resource: str, none: Collection[str], missing: Collection[str]
) -> Iterator[list[Any]]:
    answer: list[Any] = []
    try:
        yield answer
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in none:
            return
        if code in missing:
            raise NotFoundError(
                f"{action} {resource}: not found ({code}: {error.get('Message', '')})"
            ) from None
        raise


def text_or_none(value: Any) -> str | None:
    """A policy document as answered (text), or None."""
    return None if value is None else str(value)


def is_aws_key(key: str, service: str) -> bool:
    """Whether ``key`` names the service's AWS managed key (``alias/aws/s3``, as a name or
    an alias ARN)."""
    return key == f"{AWS_ALIAS}{service}" or key.endswith(f":{AWS_ALIAS}{service}")


def kms_encryption(key: str, service: str, partition: str, region: str, account: str) -> Encryption:
    """Encryption with ``key`` as a queue or topic names it (an id or alias in its own
    account and region, or an ARN)."""
    if is_aws_key(key, service):
        return Encryption("aws-managed", key)
    return Encryption("kms", key_arn(key, partition, region, account))


def key_arn(key: str, partition: str, region: str, account: str) -> str:
    """A KMS key named by ARN, key id or alias name, as an ARN (of the key or the alias)."""
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:{partition}:kms:{region}:{account}:{key}"
    return f"arn:{partition}:kms:{region}:{account}:key/{key}"


def grant_of(grant: dict[str, Any]) -> Grant:
    """One of ListGrants' grants."""
    constraints = grant.get("Constraints")
    return Grant(
        grant_id=str(grant.get("GrantId", "")),
        grantee_principal=str(grant.get("GranteePrincipal", "")),
        operations=tuple(grant.get("Operations", ())),
        name=grant.get("Name") or None,
        constraints=GrantConstraints(
            constraints.get("EncryptionContextEquals"),
            constraints.get("EncryptionContextSubset"),
        )
        if constraints
        else None,
    )


def read_endpoints(ec2: Any, ids: Sequence[str]) -> dict[str, EndpointState]:
    """The VPC endpoints ``ids``, in one DescribeVpcEndpoints; one each only when an id is
    not found, which fails the whole request."""
    try:
        found = ask(
            "ec2:DescribeVpcEndpoints",
            ", ".join(ids),
            lambda: [
                endpoint
                for page in ec2.get_paginator("describe_vpc_endpoints").paginate(
                    VpcEndpointIds=list(ids)
                )
                for endpoint in page.get("VpcEndpoints", [])
            ],
            missing=_NO_ENDPOINT,
        )
    except NotFoundError as exc:
        if len(ids) > 1:
            return {i: read_endpoints(ec2, [i])[i] for i in ids}
        return {ids[0]: EndpointState(ids[0], "not-found", detail=str(exc))}
    except AwsError as exc:
        action = exc.action if isinstance(exc, AccessDeniedError) else None
        return {
            i: EndpointState(i, "unreadable", detail=str(exc), missing_action=action) for i in ids
        }
    by_id = {str(e.get("VpcEndpointId")): e for e in found}
    return {i: endpoint_state(i, by_id.get(i)) for i in ids}


def endpoint_state(endpoint_id: str, found: dict[str, Any] | None) -> EndpointState:
    """A DescribeVpcEndpoints entry as the model has it; its policy parsed."""
    if found is None:
        return EndpointState(endpoint_id, "not-found", detail=f"no VPC endpoint {endpoint_id}")
    text = found.get("PolicyDocument")
    policy = None
    status: ReadStatus = "none"
    detail = ""
    if text:
        try:
            policy = resource_policy(text, endpoint_id, f"endpoint policy of {endpoint_id}")
            status = "read"
        except PolicyError as exc:
            status, detail = "unreadable", str(exc)
    return EndpointState(
        endpoint_id,
        status,
        service_name=found.get("ServiceName"),
        endpoint_type=found.get("VpcEndpointType"),
        account=found.get("OwnerId"),
        policy=policy,
        detail=detail,
    )
