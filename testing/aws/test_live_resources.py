"""Live resource reads moto cannot show (botocore's Stubber answers as AWS would): every page
of a key's grants, AWS managed keys, streams' policies, another account's queue."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Sessions
from iam_compliance.aws.live_resources import LiveResources
from iam_compliance.engine.resources import Governing, ResourceNeeds
from iam_compliance.engine.target import Credentials

from conftest import ACCOUNT, REGION, ROLE_ARN, TABLE_ARN, TARGET

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AWS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1a5c7e-aws0-0000-0000-000000000000"
STREAM = f"{TABLE_ARN}/stream/2026-11-27T22:14:05.000"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Role",
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_ARN},
                "Action": "*",
                "Resource": "*",
            }
        ],
    }
)


@pytest.fixture
def adapter() -> AwsAdapter:
    target = dataclasses.replace(TARGET, credentials=Credentials("AKIDSTUBBER", "stubber-secret"))
    adapter = AwsAdapter(Sessions().live(target))
    with Stubber(adapter.sts) as sts:
        sts.add_response(
            "get_caller_identity", {"Account": ACCOUNT, "Arn": ROLE_ARN, "UserId": "AROAX"}, {}
        )
        adapter.caller_account()
    return adapter


def stub(adapter: AwsAdapter, service: str) -> Stubber:
    source = adapter.resources.source
    assert isinstance(source, LiveResources)
    return Stubber(source.client(service))


def describe_key(kms: Stubber, arn: str, manager: str) -> None:
    kms.add_response(
        "describe_key",
        {
            "KeyMetadata": {
                "KeyId": arn.rsplit("/", 1)[1],
                "Arn": arn,
                "KeyManager": manager,
                "KeyState": "Enabled",
            }
        },
        {"KeyId": arn},
    )


def grant(number: int) -> dict[str, Any]:
    return {"GrantId": f"g{number}", "GranteePrincipal": ROLE_ARN, "Operations": ["Decrypt"]}


def test_every_page_of_a_keys_grants_is_read(adapter: AwsAdapter) -> None:
    with stub(adapter, "kms") as kms:
        describe_key(kms, KEY, "CUSTOMER")
        kms.add_response(
            "list_grants",
            {"Grants": [grant(1), grant(2)], "Truncated": True, "NextMarker": "m2"},
            {"KeyId": KEY},
        )
        kms.add_response(
            "list_grants",
            {"Grants": [grant(3)], "Truncated": False},
            {"KeyId": KEY, "Marker": "m2"},
        )
        kms.add_response(
            "get_key_policy", {"Policy": POLICY}, {"KeyId": KEY, "PolicyName": "default"}
        )
        state = adapter.resources.state(Governing("kms", KEY))
        kms.assert_no_pending_responses()

    assert state.key is not None
    assert [g.grant_id for g in state.key.grants_to(ROLE_ARN) or ()] == ["g1", "g2", "g3"]
    assert state.status == "read"


def table_reads(dynamodb: Stubber, sse: dict[str, Any] | None) -> None:
    dynamodb.add_response("list_tags_of_resource", {"Tags": []}, {"ResourceArn": TABLE_ARN})
    dynamodb.add_client_error("get_resource_policy", "PolicyNotFoundException", "none")
    table: dict[str, Any] = {"TableName": "ml-jobs", "TableArn": TABLE_ARN}
    if sse is not None:
        table["SSEDescription"] = sse
    dynamodb.add_response("describe_table", {"Table": table}, {"TableName": TABLE_ARN})


@pytest.mark.parametrize(
    ("manager", "kind", "customer_key"),
    [
        pytest.param("AWS", "aws-managed", None, id="aws-managed-dynamodb-key"),
        pytest.param("CUSTOMER", "customer-managed", AWS_KEY, id="customer-managed"),
    ],
)
def test_a_table_encrypted_with_a_kms_key_implies_it_only_when_it_is_the_customers(
    adapter: AwsAdapter, manager: str, kind: str, customer_key: str | None
) -> None:
    with Stubber(adapter.dynamodb) as dynamodb, stub(adapter, "kms") as kms:
        table_reads(dynamodb, {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": AWS_KEY})
        describe_key(kms, AWS_KEY, manager)
        if manager == "CUSTOMER":
            kms.add_response("list_grants", {"Grants": [], "Truncated": False}, {"KeyId": AWS_KEY})
            kms.add_response(
                "get_key_policy", {"Policy": POLICY}, {"KeyId": AWS_KEY, "PolicyName": "default"}
            )
        resources, _ = adapter.read_resources(TARGET, ResourceNeeds())
        # An AWS managed key is described, and nothing more is asked of it.
        kms.assert_no_pending_responses()

    encryption = resources[TABLE_ARN].encryption
    assert encryption is not None
    assert (encryption.kind, encryption.customer_key) == (kind, customer_key)
    assert resources[AWS_KEY].status == ("unsupported" if manager == "AWS" else "read")


def test_a_table_without_sse_uses_dynamodbs_own_key(adapter: AwsAdapter) -> None:
    with Stubber(adapter.dynamodb) as dynamodb:
        table_reads(dynamodb, None)
        resources, _ = adapter.read_resources(TARGET, ResourceNeeds())
    assert resources[TABLE_ARN].encryption is not None
    assert resources[TABLE_ARN].encryption.kind == "service"
    assert list(resources) == [TABLE_ARN]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        pytest.param({"Policy": POLICY, "RevisionId": "1"}, "read", id="policy"),
        pytest.param("PolicyNotFoundException", "none", id="no-policy"),
        pytest.param("ResourceNotFoundException", "not-found", id="no-stream"),
    ],
)
def test_a_stream_is_governed_by_its_own_policy(
    adapter: AwsAdapter, answer: Any, status: str
) -> None:
    with Stubber(adapter.dynamodb) as dynamodb:
        if isinstance(answer, dict):
            dynamodb.add_response("get_resource_policy", answer, {"ResourceArn": STREAM})
        else:
            dynamodb.add_client_error("get_resource_policy", answer, "no")
        state = adapter.resources.state(Governing("dynamodb", STREAM))
    assert (state.kind, state.status) == ("stream", status)


def test_a_queue_in_another_account_is_asked_of_its_owner_in_its_region(
    adapter: AwsAdapter,
) -> None:
    queue = "arn:aws:sqs:eu-west-1:210987654321:shared-jobs"
    url = "https://sqs.eu-west-1.amazonaws.com/210987654321/shared-jobs"
    source = adapter.resources.source
    assert isinstance(source, LiveResources)
    with Stubber(source.client("sqs", "eu-west-1")) as sqs:
        sqs.add_response(
            "get_queue_url",
            {"QueueUrl": url},
            {"QueueName": "shared-jobs", "QueueOwnerAWSAccountId": "210987654321"},
        )
        sqs.add_response(
            "get_queue_attributes",
            {"Attributes": {"Policy": POLICY, "KmsMasterKeyId": "alias/aws/sqs"}},
            {
                "QueueUrl": url,
                "AttributeNames": ["Policy", "KmsMasterKeyId", "SqsManagedSseEnabled"],
            },
        )
        state = adapter.resources.state(Governing("sqs", queue))
    assert (state.status, state.account, state.region) == ("read", "210987654321", "eu-west-1")
    assert state.encryption is not None
    assert state.encryption.kind == "aws-managed"


@pytest.mark.parametrize(
    ("default", "kind", "key"),
    [
        pytest.param({"SSEAlgorithm": "AES256"}, "service", None, id="sse-s3"),
        pytest.param({"SSEAlgorithm": "aws:kms"}, "aws-managed", None, id="aws-s3-key"),
        pytest.param(
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"},
            "aws-managed",
            "alias/aws/s3",
            id="aws-s3-alias",
        ),
        pytest.param(
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "1234abcd-12ab-34cd-56ef-1234567890ab"},
            "kms",
            KEY.replace(REGION, "eu-west-1"),
            id="key-id-in-the-requesters-account-and-the-buckets-region",
        ),
    ],
)
def test_a_buckets_default_encryption(
    adapter: AwsAdapter, default: dict[str, str], kind: str, key: str | None
) -> None:
    source = adapter.resources.source
    assert isinstance(source, LiveResources)
    encryption = {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}
    with Stubber(source.client("s3")) as s3:
        s3.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", "none", 404)
        s3.add_response("get_bucket_location", {"LocationConstraint": "eu-west-1"})
        s3.add_response("get_bucket_encryption", {"ServerSideEncryptionConfiguration": encryption})
        state = adapter.resources.state(Governing("s3", "arn:aws:s3:::b"))
    found = state.encryption
    assert found is not None
    assert (state.status, state.region) == ("none", "eu-west-1")
    assert (found.kind, found.key_arn) == (kind, key)


def test_a_topic_sns_refuses_names_the_action(adapter: AwsAdapter) -> None:
    """SNS refuses with AuthorizationError, not AccessDenied."""
    topic = f"arn:aws:sns:{REGION}:210987654321:shared-events"
    source = adapter.resources.source
    assert isinstance(source, LiveResources)
    with Stubber(source.client("sns")) as sns:
        sns.add_client_error("get_topic_attributes", "AuthorizationError", "not yours", 403)
        state = adapter.resources.state(Governing("sns", topic))
    assert (state.status, state.missing_action) == ("unreadable", "sns:GetTopicAttributes")
    assert f"needs sns:GetTopicAttributes on {topic}" in state.detail
