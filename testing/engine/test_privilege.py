"""find_excess_grants(): what the role may do beyond the six DynamoDB actions it needs."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.privilege import Finding, find_excess_grants
from iam_compliance.engine.policy import Policy, PolicyKind, RolePolicies, parse_policy

from conftest import TABLE_ARN

#: These tests' own required actions: DeleteItem in DescribeTable's place, so that four of
#: the six end in "Item".
REQUIRED_WITH_DELETE = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)


def allow(
    action: Any = REQUIRED_WITH_DELETE, resource: Any = TABLE_ARN, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": "Allow"}
    if "NotAction" not in extra:
        body["Action"] = list(action) if isinstance(action, tuple) else action
    if "NotResource" not in extra:
        body["Resource"] = resource
    body.update(extra)
    return body


def policy(
    *statements: dict[str, Any],
    name: str = "MLPlatformECSTaskPolicy",
    kind: PolicyKind = "managed",
    version: str | None = "v3",
) -> Policy:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return parse_policy(
        document, name=name, kind=kind, version=None if kind == "inline" else version
    )


def findings(*identity: Policy, bounded_by: Policy | None = None) -> list[tuple[str, str]]:
    found = find_excess_grants(RolePolicies(identity, bounded_by), REQUIRED_WITH_DELETE, TABLE_ARN)
    return [(f.id, f.severity) for f in found]


FAIL_WILDCARD = ("WILDCARD_ACTION", "fail")

CASES = [
    pytest.param(policy(allow()), [], id="exactly-the-required-grant"),
    pytest.param(
        policy(allow(REQUIRED_WITH_DELETE[:3]), allow(REQUIRED_WITH_DELETE[3:])),
        [],
        id="required-split-over-statements",
    ),
    pytest.param(policy(allow("dynamodb:*")), [FAIL_WILDCARD], id="service-wildcard"),
    pytest.param(policy(allow("*")), [FAIL_WILDCARD], id="star-action"),
    pytest.param(policy(allow("dynamodb:*Item")), [FAIL_WILDCARD], id="infix-wildcard"),
    pytest.param(
        policy(allow(["dynamodb:Get*", "dynamodb:Scan"])), [FAIL_WILDCARD], id="prefix-wildcard"
    ),
    pytest.param(
        policy(allow(["dynamodb:?etItem", "dynamodb:Scan"])),
        [FAIL_WILDCARD],
        id="question-mark-wildcard",
    ),
    pytest.param(
        policy(allow(NotAction="iam:*")), [("NOT_ACTION_ALLOW", "fail")], id="not-action-allow"
    ),
    pytest.param(policy(allow(resource="*")), [("RESOURCE_STAR", "fail")], id="resource-star"),
    pytest.param(
        policy(allow(resource=f"{TABLE_ARN}*")),
        [("RESOURCE_WILDCARD", "fail")],
        id="resource-prefix-wildcard",
    ),
    pytest.param(
        policy(allow(resource="arn:aws:dynamodb:*:618574523116:table/ml-jobs")),
        [("RESOURCE_WILDCARD", "fail")],
        id="resource-any-region",
    ),
    pytest.param(
        policy(
            allow(resource="arn:aws:dynamodb:us-east-1:618574523116:table/${aws:PrincipalTag/t}")
        ),
        [("RESOURCE_WILDCARD", "fail")],
        id="resource-policy-variable",
    ),
    pytest.param(
        policy(allow(NotResource="arn:aws:dynamodb:*:*:table/prod-*")),
        [("NOT_RESOURCE_ALLOW", "fail")],
        id="not-resource-allow",
    ),
    pytest.param(
        policy(allow([*REQUIRED_WITH_DELETE, "dynamodb:BatchGetItem"])),
        [("EXTRA_ACTION", "info")],
        id="extra-specific-action-is-info",
    ),
    pytest.param(
        policy(allow("dynamodb:*", "*")),
        [FAIL_WILDCARD, ("RESOURCE_STAR", "fail")],
        id="wildcard-action-on-star-resource",
    ),
    pytest.param(
        policy(
            allow(["dynamodb:*", "dynamodb:DescribeTable"], [TABLE_ARN, f"{TABLE_ARN}/index/*"])
        ),
        [FAIL_WILDCARD, ("EXTRA_ACTION", "info")],
        id="fails-before-infos-and-index-pattern-ignored",
    ),
    pytest.param(
        policy(allow("s3:*", "arn:aws:s3:::ml-artifacts/*")),
        [],
        id="statement-without-required-actions-ignored",
    ),
    pytest.param(
        policy(allow("dynamodb:*", "arn:aws:dynamodb:us-east-1:618574523116:table/other")),
        [],
        id="statement-on-another-table-ignored",
    ),
    pytest.param(
        policy(allow(), {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}),
        [],
        id="deny-statements-ignored",
    ),
    pytest.param(
        policy(allow("dynamodb:*", Condition={"Bool": {"aws:SecureTransport": "true"}})),
        [FAIL_WILDCARD],
        id="conditions-do-not-excuse-a-wildcard",
    ),
    pytest.param(
        policy(allow(NotResource=TABLE_ARN)),
        [],
        id="not-resource-excluding-the-table-ignored",
    ),
]


@pytest.mark.parametrize(("identity", "expected"), CASES)
def test_findings(identity: Policy, expected: list[tuple[str, str]]) -> None:
    assert findings(identity) == expected


def test_message_says_where_and_what() -> None:
    found = find_excess_grants(
        RolePolicies((policy(allow("dynamodb:*", Sid="DynamoDBJobs")),)),
        REQUIRED_WITH_DELETE,
        TABLE_ARN,
    )
    assert found == [
        Finding(
            id="WILDCARD_ACTION",
            severity="fail",
            policy="MLPlatformECSTaskPolicy v3",
            statement='statement "DynamoDBJobs"',
            message='MLPlatformECSTaskPolicy v3, statement "DynamoDBJobs": Action "dynamodb:*" '
            "grants every DynamoDB action, not just the six required",
        )
    ]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        pytest.param(
            allow("dynamodb:*Item"),
            'Action "dynamodb:*Item" grants every DynamoDB action it matches, not just the '
            "required dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, "
            "dynamodb:DeleteItem",
            id="infix-wildcard",
        ),
        pytest.param(
            allow("*"), 'Action "*" grants every action of every service', id="star-action"
        ),
        pytest.param(
            allow(resource="*"),
            f'Resource "*" grants on every resource, not just {TABLE_ARN}',
            id="resource-star",
        ),
        pytest.param(
            allow(resource=f"{TABLE_ARN}*"),
            f'Resource "{TABLE_ARN}*" has a wildcard, '
            f"so it can match resources other than {TABLE_ARN}",
            id="resource-wildcard",
        ),
        pytest.param(
            allow([*REQUIRED_WITH_DELETE, "dynamodb:BatchGetItem"]),
            'Action "dynamodb:BatchGetItem" is granted but is not one of the required actions',
            id="extra-action",
        ),
        pytest.param(
            allow(NotAction="iam:*"),
            'an Allow with NotAction grants every action except "iam:*", not just the six required',
            id="not-action",
        ),
    ],
)
def test_message(statement: dict[str, Any], message: str) -> None:
    (finding,) = find_excess_grants(
        RolePolicies((policy(statement),)), REQUIRED_WITH_DELETE, TABLE_ARN
    )
    assert finding.message == f"MLPlatformECSTaskPolicy v3, statement #1: {message}"


def test_order_follows_policies_then_statements() -> None:
    managed = policy(allow(REQUIRED_WITH_DELETE[:3]), allow("dynamodb:*", Sid="Wide"))
    extra = policy(allow(resource="*", Sid="Everywhere"), name="jobs-extra", kind="inline")
    found = find_excess_grants(RolePolicies((managed, extra)), REQUIRED_WITH_DELETE, TABLE_ARN)
    assert [(f.policy, f.statement, f.id) for f in found] == [
        ("MLPlatformECSTaskPolicy v3", 'statement "Wide"', "WILDCARD_ACTION"),
        ("inline policy jobs-extra", 'statement "Everywhere"', "RESOURCE_STAR"),
    ]


def test_boundary_is_not_checked() -> None:
    boundary = policy(allow("*", "*"), name="PlatformBoundary", kind="boundary")
    assert findings(policy(allow()), bounded_by=boundary) == []
