"""Each request judged with its resource's own policy, the VPC endpoints it comes through
and the KMS key use it implies (engine/evaluate/judgement.py and its parts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import Verdict
from iam_compliance.engine.evaluate.judgement import Scene, judge_request
from iam_compliance.engine.evaluate.principals import RoleSession
from iam_compliance.engine.evaluate.request import build_context, derive_context
from iam_compliance.engine.policy import Policy, RolePolicies, parse_policy
from iam_compliance.engine.resources import (
    Encryption,
    EndpointState,
    Grant,
    GrantConstraints,
    KeyDetails,
    ResourceState,
)

from conftest import ACCOUNT, NOW, REGION, ROLE_ARN, TABLE_ARN, VPC_ENDPOINT

REQUESTER = RoleSession(ROLE_ARN, ACCOUNT, "AROAEXAMPLEROLEID1234")
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER = "111122223333"
BUCKET = "arn:aws:s3:::ml-platform-artifacts"
OBJECTS = f"{BUCKET}/*"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ml-jobs-queue"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-creds"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/ml-training:*"

ALLOWED = Decision.ALLOWED
EXPLICIT_DENY = Decision.EXPLICIT_DENY
IMPLICIT_DENY = Decision.IMPLICIT_DENY
UNDECIDED = Decision.UNDECIDED


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


#: A statement that grants none of the actions judged here (a policy needs one).
UNRELATED = {"Effect": "Allow", "Action": "logs:CreateLogStream", "Resource": "*"}


def role(*statements: dict[str, Any]) -> RolePolicies:
    policy = parse_policy(
        document(*(statements or (UNRELATED,))), name="MLPlatformECSTaskPolicy", version="v1"
    )
    return RolePolicies((policy,))


def resource_policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(document(*statements), name="policy", kind="resource")


def grant(action: str, resource: str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def state(
    arn: str, service: str, kind: str, *statements: dict[str, Any], **fields: Any
) -> ResourceState:
    policy = resource_policy(*statements) if statements else None
    status = fields.pop("status", "read" if statements else "none")
    return ResourceState(arn, service, kind, status, resource_policy=policy, **fields)


def bucket(*statements: dict[str, Any], **fields: Any) -> ResourceState:
    fields.setdefault("account", ACCOUNT)
    fields.setdefault("cross_account", False)
    return state(BUCKET, "s3", "bucket", *statements, **fields)


def key(*statements: dict[str, Any], grants: tuple[Grant, ...] = ()) -> ResourceState:
    details = KeyDetails("CUSTOMER", "Enabled", grants)
    return state(KEY, "kms", "key", *statements, account=ACCOUNT, key=details)


#: AWS's default key policy: it enables the account's IAM policies.
ENABLES_IAM = {"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*"}
#: The statement AWS documents for DynamoDB's use of a customer managed key.
THROUGH_DYNAMODB = {
    "Sid": "ThroughDynamoDB",
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": ["kms:Decrypt", "kms:DescribeKey"],
    "Resource": "*",
    "Condition": {
        "StringEquals": {
            "kms:CallerAccount": ACCOUNT,
            "kms:ViaService": f"dynamodb.{REGION}.amazonaws.com",
        }
    },
}
IN_VPC_ONLY = {
    "Sid": "OnlyThroughTheEndpoint",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET, OBJECTS],
    "Condition": {"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
}


def judged(
    policies: RolePolicies,
    action: str,
    resource: str,
    resources: Mapping[str, ResourceState] = {},
    *,
    endpoints: Mapping[str, EndpointState] = {},
    table: ResourceState | None = None,
    strict: bool = False,
    **declared: str,
) -> Verdict:
    """``action`` on ``resource`` as the containers' request: the run's derived keys and
    ``declared`` ones (``aws_SourceVpce=...``)."""
    context = build_context(
        derive_context(
            role_arn=ROLE_ARN,
            account=ACCOUNT,
            region=REGION,
            now=NOW,
            role_tags={},
            resource_account=ACCOUNT,
            resource_tags={},
        ),
        overrides={name.replace("_", ":", 1): [value] for name, value in declared.items()},
    )
    found = dict(resources)
    if table is not None:
        found[TABLE_ARN] = table
    scene = Scene(REQUESTER, found, endpoints, TABLE_ARN, None, strict=strict)
    return judge_request(scene, context, policies, action, resource)


# -- S3 bucket policies --------------------------------------------------------------------


def test_a_bucket_deny_unless_the_endpoint_is_not_a_pass_while_the_endpoint_is_undeclared() -> None:
    verdict = judged(
        role(grant("s3:GetObject", OBJECTS)),
        "s3:GetObject",
        f"{BUCKET}/models/v1",
        {BUCKET: bucket(IN_VPC_ONLY)},
    )
    assert not verdict.is_allowed
    assert "bucket policy of ml-platform-artifacts" in verdict.reason


def test_a_bucket_deny_unless_the_endpoint_lets_a_request_through_the_declared_endpoint() -> None:
    verdict = judged(
        role(grant("s3:GetObject", OBJECTS)),
        "s3:GetObject",
        f"{BUCKET}/models/v1",
        {BUCKET: bucket(IN_VPC_ONLY)},
        endpoints={VPC_ENDPOINT: EndpointState(VPC_ENDPOINT, "none")},
        aws_SourceVpce=VPC_ENDPOINT,
    )
    assert verdict.decision is ALLOWED, verdict.reason


def test_a_bucket_policy_grant_to_the_role_is_enough_without_an_identity_grant() -> None:
    to_role = grant("s3:GetObject", OBJECTS, Principal={"AWS": ROLE_ARN}, Sid="ToTheRole")
    verdict = judged(role(), "s3:GetObject", f"{BUCKET}/x", {BUCKET: bucket(to_role)})
    assert verdict.decision is ALLOWED
    assert 'bucket policy of ml-platform-artifacts, statement "ToTheRole"' in verdict.reason


# -- cross-account -------------------------------------------------------------------------


OTHERS_BUCKET = {"account": OTHER, "cross_account": True}
TO_ROLE = grant("s3:GetObject", OBJECTS, Principal={"AWS": ROLE_ARN}, Sid="ToTheRole")


@pytest.mark.parametrize(
    ("own", "theirs", "expected"),
    [
        pytest.param((grant("s3:GetObject", OBJECTS),), (), IMPLICIT_DENY, id="identity-only"),
        pytest.param((), (TO_ROLE,), IMPLICIT_DENY, id="bucket-policy-only"),
        pytest.param((grant("s3:GetObject", OBJECTS),), (TO_ROLE,), ALLOWED, id="both"),
        pytest.param(
            (grant("s3:GetObject", OBJECTS),),
            (grant("s3:GetObject", OBJECTS, Principal={"AWS": ROOT.replace(ACCOUNT, OTHER)}),),
            IMPLICIT_DENY,
            id="bucket-grants-its-own-account",
        ),
    ],
)
def test_another_account_s_bucket_needs_an_allow_on_both_sides(
    own: tuple[dict[str, Any], ...], theirs: tuple[dict[str, Any], ...], expected: Decision
) -> None:
    verdict = judged(
        role(*own), "s3:GetObject", f"{BUCKET}/x", {BUCKET: bucket(*theirs, **OTHERS_BUCKET)}
    )
    assert verdict.decision is expected, verdict.reason


def test_another_account_s_unreadable_bucket_policy_is_undecided_naming_it() -> None:
    unreadable = bucket(
        status="unreadable", missing_action="s3:GetBucketPolicy", detail="access denied"
    )
    verdict = judged(
        role(grant("s3:GetObject", OBJECTS)), "s3:GetObject", f"{BUCKET}/x", {BUCKET: unreadable}
    )
    assert verdict.decision is UNDECIDED
    assert "needs s3:GetBucketPolicy on arn:aws:s3:::ml-platform-artifacts" in verdict.reason


# -- KMS key policies and grants -----------------------------------------------------------


def test_an_identity_grant_is_not_enough_when_the_key_policy_does_not_enable_iam() -> None:
    admins = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"},
        "Action": "kms:*",
        "Resource": "*",
    }
    verdict = judged(role(grant("kms:Decrypt", KEY)), "kms:Decrypt", KEY, {KEY: key(admins)})
    assert verdict.decision is IMPLICIT_DENY
    assert "does not enable IAM policies" in verdict.reason


@pytest.mark.parametrize(
    ("own", "statement", "expected"),
    [
        pytest.param(
            (grant("kms:Decrypt", KEY),),
            {**ENABLES_IAM, "Resource": "*"},
            ALLOWED,
            id="root-enables-the-identity-grant",
        ),
        pytest.param((), {**ENABLES_IAM, "Resource": "*"}, IMPLICIT_DENY, id="root-alone"),
        pytest.param(
            (),
            grant("kms:Decrypt", "*", Principal={"AWS": ROLE_ARN}),
            ALLOWED,
            id="key-policy-names-the-role",
        ),
    ],
)
def test_the_key_policy_allows_directly_or_by_enabling_iam(
    own: tuple[dict[str, Any], ...], statement: dict[str, Any], expected: Decision
) -> None:
    verdict = judged(role(*own), "kms:Decrypt", KEY, {KEY: key(statement)})
    assert verdict.decision is expected, verdict.reason


def test_a_grant_to_the_role_allows_its_operations() -> None:
    to_role = Grant("g-1", ROLE_ARN, ("Decrypt",), name="training")
    nothing = grant("kms:DescribeKey", "*", Principal={"AWS": ROLE_ARN})
    verdict = judged(role(), "kms:Decrypt", KEY, {KEY: key(nothing, grants=(to_role,))})
    assert verdict.decision is ALLOWED
    other = judged(role(), "kms:Encrypt", KEY, {KEY: key(nothing, grants=(to_role,))})
    assert other.decision is IMPLICIT_DENY


def cmk_table(*statements: dict[str, Any], grants: tuple[Grant, ...] = ()) -> dict[str, Any]:
    table = ResourceState(
        TABLE_ARN,
        "dynamodb",
        "table",
        "none",
        tags={},
        encryption=Encryption("customer-managed", KEY),
        account=ACCOUNT,
    )
    return {"resources": {KEY: key(*statements, grants=grants)}, "table": table}


ITEM_READS = role(grant("dynamodb:GetItem", TABLE_ARN), grant("kms:Decrypt", KEY))


def test_a_cmk_table_s_item_action_fails_when_the_key_policy_does_not_allow_use_via_dynamodb() -> (
    None
):
    admins_only = grant("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/Admin"})
    verdict = judged(ITEM_READS, "dynamodb:GetItem", TABLE_ARN, **cmk_table(admins_only))
    assert verdict.decision is IMPLICIT_DENY
    assert "it needs kms:Decrypt on key/1234abcd" in verdict.reason
    (use,) = verdict.implied
    # One-line summaries name the key use, not "no statement allows it".
    assert verdict.deciding is not None
    assert (verdict.deciding.policy, verdict.deciding.statement) == (
        f"needs {use.id}",
        "not allowed",
    )
    assert use.line.startswith(
        "kms:Decrypt on key/1234abcd-12ab-34cd-56ef-1234567890ab via dynamodb, needed by "
        "dynamodb:GetItem: kms:Decrypt is not allowed"
    )


def test_a_cmk_table_s_item_action_passes_with_aws_s_statement_for_dynamodb() -> None:
    verdict = judged(
        role(grant("dynamodb:GetItem", TABLE_ARN)),
        "dynamodb:GetItem",
        TABLE_ARN,
        **cmk_table(THROUGH_DYNAMODB),
    )
    assert verdict.decision is ALLOWED, verdict.reason
    assert [use.verdict.decision for use in verdict.implied] == [ALLOWED]


def test_table_metadata_implies_no_key_use() -> None:
    verdict = judged(
        role(grant("dynamodb:DescribeTable", TABLE_ARN)),
        "dynamodb:DescribeTable",
        TABLE_ARN,
        **cmk_table(),
    )
    assert verdict.decision is ALLOWED
    assert verdict.implied == ()


@pytest.mark.parametrize(
    ("constraints", "expected"),
    [
        pytest.param(
            GrantConstraints(encryption_context_subset={"aws:dynamodb:tableName": "ml-jobs"}),
            ALLOWED,
            id="subset-met",
        ),
        pytest.param(
            GrantConstraints(encryption_context_subset={"aws:dynamodb:tableName": "other"}),
            IMPLICIT_DENY,
            id="subset-not-met",
        ),
    ],
)
def test_a_grant_s_encryption_context_constraints_are_honoured(
    constraints: GrantConstraints, expected: Decision
) -> None:
    grants = (Grant("g-1", ROLE_ARN, ("Decrypt",), constraints=constraints),)
    nothing = grant("kms:DescribeKey", "*", Principal={"AWS": ROLE_ARN})
    verdict = judged(
        role(grant("dynamodb:GetItem", TABLE_ARN)),
        "dynamodb:GetItem",
        TABLE_ARN,
        **cmk_table(nothing, grants=grants),
    )
    assert verdict.decision is expected, verdict.reason


def test_an_aws_managed_key_adds_nothing() -> None:
    table = ResourceState(
        TABLE_ARN,
        "dynamodb",
        "table",
        "none",
        tags={},
        encryption=Encryption("aws-managed", KEY),
        account=ACCOUNT,
    )
    verdict = judged(
        role(grant("dynamodb:GetItem", TABLE_ARN)), "dynamodb:GetItem", TABLE_ARN, table=table
    )
    assert verdict.decision is ALLOWED
    assert verdict.implied == ()


# -- SQS, Secrets Manager, services not read ---------------------------------------------


@pytest.mark.parametrize(
    ("action", "arn", "service", "kind"),
    [
        pytest.param("sqs:SendMessage", QUEUE, "sqs", "queue", id="queue"),
        pytest.param(
            "secretsmanager:GetSecretValue", SECRET, "secretsmanager", "secret", id="secret"
        ),
    ],
)
def test_a_deny_in_the_resource_s_policy_denies(
    action: str, arn: str, service: str, kind: str
) -> None:
    refuse = {
        "Sid": "NoTasks",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": "*",
    }
    resources = {arn: state(arn, service, kind, refuse, account=ACCOUNT, cross_account=False)}
    verdict = judged(role(grant(action, arn)), action, arn, resources)
    assert verdict.decision is EXPLICIT_DENY
    assert f"{kind} policy of" in verdict.reason


def test_a_service_whose_policies_are_not_read_is_noted_and_undecided_when_strict() -> None:
    policies = role(grant("logs:PutLogEvents", LOGS))
    lenient = judged(policies, "logs:PutLogEvents", LOGS)
    assert lenient.decision is ALLOWED
    assert "its own policy was not read" in lenient.not_read
    strict = judged(policies, "logs:PutLogEvents", LOGS, strict=True)
    assert strict.decision is UNDECIDED
    assert "--iam-strict-resources" in strict.reason


# -- VPC endpoint policies ------------------------------------------------------------------


def endpoint(service: str, *statements: dict[str, Any], **fields: Any) -> EndpointState:
    policy = parse_policy(
        document(*statements), name=f"endpoint policy of {VPC_ENDPOINT}", kind="resource"
    )
    return EndpointState(
        VPC_ENDPOINT,
        fields.pop("status", "read"),
        service_name=f"com.amazonaws.{REGION}.{service}",
        endpoint_type="Gateway",
        policy=policy,
        **fields,
    )


EVERYTHING = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
NO_SCAN = endpoint(
    "dynamodb",
    EVERYTHING,
    {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:Scan", "Resource": "*"},
)
TABLE_READS = role(grant(["dynamodb:Scan", "dynamodb:Query"], TABLE_ARN))


@pytest.mark.parametrize(
    ("action", "endpoints", "expected"),
    [
        pytest.param("dynamodb:Scan", {VPC_ENDPOINT: NO_SCAN}, EXPLICIT_DENY, id="denies-scan"),
        pytest.param("dynamodb:Query", {VPC_ENDPOINT: NO_SCAN}, ALLOWED, id="allows-query"),
        pytest.param(
            "dynamodb:Scan",
            {
                VPC_ENDPOINT: endpoint(
                    "s3", {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
                )
            },
            ALLOWED,
            id="another-service-s-endpoint-takes-no-part",
        ),
        pytest.param(
            "dynamodb:Scan",
            {
                VPC_ENDPOINT: EndpointState(
                    VPC_ENDPOINT, "unreadable", missing_action="ec2:DescribeVpcEndpoints"
                )
            },
            UNDECIDED,
            id="unreadable",
        ),
    ],
)
def test_a_declared_endpoint_s_policy_takes_part(
    action: str, endpoints: dict[str, EndpointState], expected: Decision
) -> None:
    verdict = judged(
        TABLE_READS, action, TABLE_ARN, endpoints=endpoints, aws_SourceVpce=VPC_ENDPOINT
    )
    assert verdict.decision is expected, verdict.reason
    if expected is UNDECIDED:
        assert "ec2:DescribeVpcEndpoints" in verdict.reason


def test_a_key_that_enables_nothing_says_the_role_s_policies_alone_would_not_help() -> None:
    """The reason must not send the user to the role's policies: they would have no effect."""
    admins = grant("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"})
    verdict = judged(role(), "kms:Decrypt", KEY, {KEY: key(admins)})
    assert verdict.decision is IMPLICIT_DENY
    assert verdict.reason.startswith(
        "kms:Decrypt is not allowed: the key policy of key/1234abcd-12ab-34cd-56ef-1234567890ab "
        "neither allows it to the role nor enables IAM policies for it"
    )
    enabled = judged(role(), "kms:Decrypt", KEY, {KEY: key({**ENABLES_IAM, "Resource": "*"})})
    assert enabled.reason.startswith("kms:Decrypt is not allowed: no statement in")
