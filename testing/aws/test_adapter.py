"""Every page of IAM's listings is read (moto answers them in one page; botocore's Stubber
answers here in several).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Sessions
from iam_compliance.engine.target import Credentials, Target
from iam_compliance.errors import AccessDeniedError, IamComplianceError

from conftest import (
    ACCOUNT,
    POLICY_ARN,
    ROLE,
    ROLE_ARN,
    TABLE_ARN,
    TARGET,
    ecs_trust_policy,
    runbook_policy,
    task_policy,
)

OTHER_ARN = f"arn:aws:iam::{ACCOUNT}:policy/Other"
CREATED = datetime(2026, 11, 27, tzinfo=UTC)


def statement(sid: str, action: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": "*"}


INLINE = {
    "InlineOne": task_policy(statement("One", "dynamodb:Scan")),
    "InlineTwo": task_policy(statement("Two", "dynamodb:Query")),
    "InlineThree": task_policy(statement("Three", "dynamodb:DescribeTable")),
}


@pytest.fixture
def adapter() -> Iterator[tuple[AwsAdapter, Stubber, Stubber]]:
    target = target_for_stubs()
    adapter = AwsAdapter(Sessions().live(target))
    with Stubber(adapter.iam) as iam, Stubber(adapter.sts) as sts:
        yield adapter, iam, sts
        iam.assert_no_pending_responses()
        sts.assert_no_pending_responses()


def target_for_stubs() -> Target:
    """The default target, with explicit credentials for the stubbed clients."""
    return dataclasses.replace(TARGET, credentials=Credentials("AKIDSTUBBER", "stubber-secret"))


def managed(iam: Stubber, arn: str, name: str, document: dict[str, Any]) -> None:
    iam.add_response(
        "get_policy",
        {
            "Policy": {
                "PolicyName": name,
                "Arn": arn,
                "DefaultVersionId": "v2",
            }
        },
        {"PolicyArn": arn},
    )
    iam.add_response(
        "get_policy_version",
        {
            "PolicyVersion": {
                "Document": json.dumps(document),
                "VersionId": "v2",
                "IsDefaultVersion": True,
                "CreateDate": CREATED,
            }
        },
        {"PolicyArn": arn, "VersionId": "v2"},
    )


def test_every_page_of_attached_and_inline_policies_is_read(
    adapter: tuple[AwsAdapter, Stubber, Stubber],
) -> None:
    aws, iam, sts = adapter
    sts.add_response(
        "get_caller_identity",
        {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "UserId": "AIDAEXAMPLE"},
        {},
    )
    iam.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": ROLE,
                "RoleId": "AROAEXAMPLEEXAMPLE1",
                "Arn": ROLE_ARN,
                "CreateDate": CREATED,
                "AssumeRolePolicyDocument": json.dumps(ecs_trust_policy()),
            }
        },
        {"RoleName": ROLE},
    )
    iam.add_response(
        "list_attached_role_policies",
        {
            "AttachedPolicies": [
                {"PolicyName": "MLPlatformECSTaskPolicy", "PolicyArn": POLICY_ARN}
            ],
            "IsTruncated": True,
            "Marker": "attached-2",
        },
        {"RoleName": ROLE},
    )
    iam.add_response(
        "list_attached_role_policies",
        {
            "AttachedPolicies": [{"PolicyName": "Other", "PolicyArn": OTHER_ARN}],
            "IsTruncated": False,
        },
        {"RoleName": ROLE, "Marker": "attached-2"},
    )
    managed(iam, POLICY_ARN, "MLPlatformECSTaskPolicy", runbook_policy())
    managed(iam, OTHER_ARN, "Other", task_policy(statement("Other", "dynamodb:BatchGetItem")))
    names = list(INLINE)
    iam.add_response(
        "list_role_policies",
        {"PolicyNames": names[:2], "IsTruncated": True, "Marker": "inline-2"},
        {"RoleName": ROLE},
    )
    iam.add_response(
        "list_role_policies",
        {"PolicyNames": names[2:], "IsTruncated": False},
        {"RoleName": ROLE, "Marker": "inline-2"},
    )
    for name, document in INLINE.items():
        iam.add_response(
            "get_role_policy",
            {"RoleName": ROLE, "PolicyName": name, "PolicyDocument": json.dumps(document)},
            {"RoleName": ROLE, "PolicyName": name},
        )

    with Stubber(aws.dynamodb) as dynamodb:
        table_read(dynamodb, policy=TABLE_POLICY)
        snapshot = aws.fetch_role(target_for_stubs())
        dynamodb.assert_no_pending_responses()

    assert snapshot.table is not None
    assert snapshot.table.tags == {"team": "ml", "env": "prod", "owner": "platform"}
    assert snapshot.table.resource_policy is not None
    assert [s.sid for s in snapshot.table.resource_policy.statements] == ["DenyOthers"]
    assert [p.arn for p in snapshot.attached] == [POLICY_ARN, OTHER_ARN]
    assert [(p.name, p.kind) for p in snapshot.policies.identity] == [
        ("MLPlatformECSTaskPolicy", "managed"),
        ("Other", "managed"),
        ("InlineOne", "inline"),
        ("InlineTwo", "inline"),
        ("InlineThree", "inline"),
    ]
    assert snapshot.policies.boundary is None
    assert snapshot.target_policy_exists


def table_read(dynamodb: Stubber, *, policy: dict[str, Any] | None = None) -> None:
    """The table's tags in two pages, then its resource policy (or none)."""
    dynamodb.add_response(
        "list_tags_of_resource",
        {
            "Tags": [{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": "prod"}],
            "NextToken": "t2",
        },
        {"ResourceArn": TABLE_ARN},
    )
    dynamodb.add_response(
        "list_tags_of_resource",
        {"Tags": [{"Key": "owner", "Value": "platform"}]},
        {"ResourceArn": TABLE_ARN, "NextToken": "t2"},
    )
    if policy is None:
        dynamodb.add_client_error(
            "get_resource_policy",
            service_error_code="PolicyNotFoundException",
            service_message="no policy",
            expected_params={"ResourceArn": TABLE_ARN},
        )
    else:
        dynamodb.add_response(
            "get_resource_policy",
            {"Policy": json.dumps(policy), "RevisionId": "1"},
            {"ResourceArn": TABLE_ARN},
        )


TABLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyOthers",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "dynamodb:*",
            "Resource": TABLE_ARN,
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}},
        }
    ],
}


def test_a_table_without_a_resource_policy_has_none(
    adapter: tuple[AwsAdapter, Stubber, Stubber],
) -> None:
    aws, _, _ = adapter
    with Stubber(aws.dynamodb) as dynamodb:
        table_read(dynamodb)
        table = aws.fetch_table(TABLE_ARN)

    assert (table.arn, table.resource_policy) == (TABLE_ARN, None)
    assert table.account == ACCOUNT


@pytest.mark.parametrize(
    ("operation", "code", "message"),
    [
        pytest.param(
            "list_tags_of_resource",
            "AccessDeniedException",
            "access denied: the identity running the checker needs dynamodb:ListTagsOfResource "
            f"on {TABLE_ARN}",
            id="tags-access-denied",
        ),
        pytest.param(
            "list_tags_of_resource",
            "ResourceNotFoundException",
            f"dynamodb:ListTagsOfResource {TABLE_ARN}: the table does not exist",
            id="no-such-table",
        ),
    ],
)
def test_table_read_failures_name_the_action(
    adapter: tuple[AwsAdapter, Stubber, Stubber], operation: str, code: str, message: str
) -> None:
    aws, _, _ = adapter
    with Stubber(aws.dynamodb) as dynamodb:
        dynamodb.add_client_error(operation, service_error_code=code, service_message="no")
        with pytest.raises(IamComplianceError) as raised:
            aws.fetch_table(TABLE_ARN)

    assert str(raised.value).startswith(message)


def test_resource_policy_access_denied_names_the_action(
    adapter: tuple[AwsAdapter, Stubber, Stubber],
) -> None:
    aws, _, _ = adapter
    with Stubber(aws.dynamodb) as dynamodb:
        dynamodb.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": TABLE_ARN})
        dynamodb.add_client_error(
            "get_resource_policy", service_error_code="AccessDeniedException", service_message="no"
        )
        with pytest.raises(AccessDeniedError) as raised:
            aws.fetch_table(TABLE_ARN)

    assert raised.value.action == "dynamodb:GetResourcePolicy"


def test_every_page_of_policy_versions_is_listed(
    adapter: tuple[AwsAdapter, Stubber, Stubber],
) -> None:
    aws, iam, _ = adapter
    iam.add_response(
        "list_policy_versions",
        {
            "Versions": [
                {"VersionId": "v1", "IsDefaultVersion": False, "CreateDate": CREATED},
                {"VersionId": "v2", "IsDefaultVersion": False, "CreateDate": CREATED},
            ],
            "IsTruncated": True,
            "Marker": "versions-2",
        },
        {"PolicyArn": POLICY_ARN},
    )
    iam.add_response(
        "list_policy_versions",
        {
            "Versions": [{"VersionId": "v3", "IsDefaultVersion": True, "CreateDate": CREATED}],
            "IsTruncated": False,
        },
        {"PolicyArn": POLICY_ARN, "Marker": "versions-2"},
    )

    versions = aws.list_versions(POLICY_ARN)

    assert [(v.version_id, v.is_default) for v in versions] == [
        ("v1", False),
        ("v2", False),
        ("v3", True),
    ]
