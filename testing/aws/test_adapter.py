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

from iam_compliance.aws.adapter import AwsAdapter, Sessions
from iam_compliance.engine.target import Credentials, Target

from conftest import (
    ACCOUNT,
    POLICY_ARN,
    ROLE,
    ROLE_ARN,
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

    snapshot = aws.fetch_role(target_for_stubs())

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
