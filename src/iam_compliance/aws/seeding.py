"""Create a role and its policies in an embedded (moto) account; describe its table.

From a :class:`~iam_compliance.sources.model.Source` (a Terraform plan or a CloudFormation
template): the role with its trust policy and tags, each managed policy (attached), each
inline policy, the boundary; and the table's tags and resource policy. A
document the source leaves open is seeded as a placeholder that grants nothing: the
verdicts it touches are "could not be decided" (:mod:`iam_compliance.engine.evaluate.unknowns`),
whatever the placeholder says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.target import Target

if TYPE_CHECKING:
    from ..sources.model import Source

#: Stands in for a document known only after apply; it matches no real request.
PLACEHOLDER: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "KnownOnlyAfterApply",
            "Effect": "Deny",
            "Action": "iamcompliance:PlaceholderForAnOpenValue",
            "Resource": "*",
        }
    ],
}
#: Stands in for a trust policy known only after apply (the trust check is undecided).
PLACEHOLDER_TRUST: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class TableSeed:
    """The table's tags and resource-based policy (None: it has none)."""

    tags: Mapping[str, str]
    policy: Mapping[str, Any] | None


def create_policy(iam: Any, name: str, document: Mapping[str, Any]) -> str:
    arn: str = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"][
        "Arn"
    ]
    return arn


def seed_from_source(
    iam: Any, target: Target, source: Source, fixture_table: TableSeed
) -> TableSeed:
    """The role and its policies as ``source`` describes them, created through ``iam`` (a
    boto3 IAM client or :class:`~iam_compliance.aws.moto_iam.MotoIam`); returns its table.

    A table the source does not define is as the fixtures describe it.
    """
    role: dict[str, Any] = {
        "RoleName": target.role_name,
        # The path is part of the role's ARN, which IAM (and moto) build from it.
        "Path": source.role_path,
        "AssumeRolePolicyDocument": json.dumps(source.trust or PLACEHOLDER_TRUST),
    }
    for policy in source.policies:
        if policy.kind == "boundary":
            role["PermissionsBoundary"] = create_policy(
                iam, policy.name, policy.document or PLACEHOLDER
            )
    if source.role_tags:
        role["Tags"] = [{"Key": k, "Value": v} for k, v in source.role_tags.items()]
    iam.create_role(**role)
    for policy in source.policies:
        document = policy.document or PLACEHOLDER
        if policy.kind == "managed":
            arn = create_policy(iam, policy.name, document)
            iam.attach_role_policy(RoleName=target.role_name, PolicyArn=arn)
        elif policy.kind == "inline":
            iam.put_role_policy(
                RoleName=target.role_name,
                PolicyName=policy.name,
                PolicyDocument=json.dumps(document),
            )
    if source.table_place is None:
        return fixture_table
    table_policy = source.table_policy.document if source.table_policy else None
    return TableSeed(source.table_tags or {}, table_policy)
