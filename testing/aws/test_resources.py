"""The resources requirements name, read live against the moto server: each kind with its
policy, without one, missing, refused, and in another account; each read once."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Connection
from iam_compliance.engine.resources import ResourceNeeds, ResourceState
from iam_compliance.engine.target import Target

from conftest import (
    ACCOUNT,
    REGION,
    ROLE_ARN,
    TABLE_ARN,
    TARGET,
    MotoServer,
    ServerAccount,
    allow_role,
)

OTHER = "210987654321"
BUCKET = "arn:aws:s3:::ml-platform-artifacts"


@pytest.fixture
def account(moto_server: MotoServer) -> ServerAccount:
    moto_server.seed_table()
    return ServerAccount(moto_server)


def adapter_for(server: MotoServer, account: str = ACCOUNT) -> AwsAdapter:
    return AwsAdapter(Connection(server.session(account), REGION, endpoint_url=server.url))


def read(
    server: MotoServer, *arns: str, endpoints: tuple[str, ...] = ()
) -> tuple[dict[str, ResourceState], Mapping[str, Any]]:
    """What the adapter reads for the default target naming ``arns``, and the requests."""
    server.call("DELETE", "/_selftest/requests")
    target: Target = dataclasses.replace(TARGET, endpoint_url=server.url)
    resources, found = adapter_for(server).read_resources(target, ResourceNeeds(arns, endpoints))
    return resources, {"endpoints": found, "requests": Counter(server.requests())}


def sids(state: ResourceState) -> list[str | None]:
    assert state.resource_policy is not None, state
    return [s.sid for s in state.resource_policy.statements]


def test_each_kind_of_resource_is_read_with_its_policy(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    key = account.key(policy=allow_role("KeyUse", "kms:*"), grant_to=ROLE_ARN)
    bucket = account.bucket(policy=allow_role("Objects", "s3:GetObject", f"{BUCKET}/*"), key=key)
    queue = account.queue(policy=allow_role("Send", "sqs:SendMessage"))
    topic = account.topic(policy=allow_role("Publish", "sns:Publish"))
    secret = account.secret(policy=allow_role("Read", "secretsmanager:GetSecretValue"))
    endpoint = account.endpoint(policy=allow_role("Through", "s3:*"))

    resources, seen = read(
        moto_server,
        f"{bucket}/models/*",
        key,
        queue,
        topic,
        secret.rsplit("-", 1)[0] + "-??????",
        endpoints=(endpoint,),
    )

    assert sids(resources[bucket]) == ["Objects"]
    assert resources[bucket].encryption is not None
    assert resources[bucket].encryption.customer_key == key
    assert (resources[bucket].account, resources[bucket].cross_account) == (ACCOUNT, False)
    assert resources[bucket].region == REGION
    assert sids(resources[key]) == ["KeyUse"]
    details = resources[key].key
    assert details is not None
    assert (details.manager, details.state) == ("CUSTOMER", "Enabled")
    [grant] = details.grants_to(ROLE_ARN) or ()
    assert grant.operations == ("Decrypt", "GenerateDataKey")
    assert grant.constraints is not None
    assert grant.constraints.encryption_context_subset == {"team": "ml"}
    assert sids(resources[queue]) == ["Send"]
    assert sids(resources[topic]) == ["Publish"]
    assert sids(resources[secret.rsplit("-", 1)[0]]) == ["Read"]
    assert resources[TABLE_ARN].status == "none"  # the target's table is always read
    assert resources[TABLE_ARN].encryption is not None
    assert resources[TABLE_ARN].encryption.kind == "service"  # DynamoDB's AWS owned key
    state = seen["endpoints"][endpoint]
    assert (state.status, state.service_name) == ("read", f"com.amazonaws.{REGION}.s3")
    assert state.policy is not None
    assert [s.sid for s in state.policy.statements] == ["Through"]
    assert seen["requests"]["ec2:DescribeVpcEndpoints"] == 1


def test_resources_without_a_policy_have_none(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    bucket, queue, secret = account.bucket(), account.queue(), account.secret()

    resources, _ = read(moto_server, bucket, queue, secret)

    for arn in (bucket, queue, secret):
        assert (resources[arn].status, resources[arn].resource_policy) == ("none", None), arn
    assert resources[bucket].encryption is not None
    # moto keeps no default encryption; AWS answers SSE-S3 for every bucket since 2023.
    assert resources[bucket].encryption.kind in ("none", "service")
    assert resources[queue].encryption is not None
    assert resources[queue].encryption.kind == "service"  # SSE-SQS


@pytest.mark.slow
@pytest.mark.parametrize(
    "arn",
    [
        pytest.param("arn:aws:s3:::no-such-bucket", id="bucket"),
        pytest.param(
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1a5c7e-0000-0000-0000-000000000000", id="key"
        ),
        pytest.param(f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue", id="queue"),
        pytest.param(f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic", id="topic"),
        pytest.param(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:nope", id="secret"),
    ],
)
def test_a_resource_that_does_not_exist_is_not_found(
    moto_server: MotoServer, account: ServerAccount, arn: str
) -> None:
    resources, _ = read(moto_server, arn)
    assert resources[arn].status == "not-found"
    assert arn in resources[arn].detail


def test_an_endpoint_that_does_not_exist_is_not_found_and_the_others_are_read(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    endpoint = account.endpoint()
    _, seen = read(moto_server, endpoints=(endpoint, "vpce-0000000000000dead"))
    found = seen["endpoints"]
    assert found["vpce-0000000000000dead"].status == "not-found"
    assert found[endpoint].status == "read"  # AWS's default policy: full access
    # One request for both, which the unknown id fails; then one each.
    assert seen["requests"]["ec2:DescribeVpcEndpoints"] == 3


def key_arn_of(resources: Mapping[str, ResourceState]) -> str:
    [arn] = [arn for arn, state in resources.items() if state.kind == "key"]
    return arn


@pytest.mark.slow
@pytest.mark.parametrize(
    ("refused", "kind", "needed", "where"),
    [
        pytest.param("s3:GetBucketPolicy", "bucket", "s3:GetBucketPolicy", "status", id="bucket"),
        pytest.param(
            "s3:GetBucketEncryption",
            "bucket",
            "s3:GetEncryptionConfiguration",
            "encryption",
            id="bucket-encryption",
        ),
        pytest.param("kms:GetKeyPolicy", "key", "kms:GetKeyPolicy", "status", id="key-policy"),
        pytest.param("kms:ListGrants", "key", "kms:ListGrants", "key", id="key-grants"),
        pytest.param("kms:DescribeKey", "key", "kms:DescribeKey", "key", id="key-description"),
        pytest.param("sqs:GetQueueUrl", "queue", "sqs:GetQueueUrl", "status", id="queue-url"),
        pytest.param(
            "sqs:GetQueueAttributes", "queue", "sqs:GetQueueAttributes", "status", id="queue"
        ),
        pytest.param(
            "sns:GetTopicAttributes", "topic", "sns:GetTopicAttributes", "status", id="topic"
        ),
        pytest.param(
            "secretsmanager:GetResourcePolicy",
            "secret",
            "secretsmanager:GetResourcePolicy",
            "status",
            id="secret",
        ),
        pytest.param(
            "dynamodb:DescribeTable", "table", "dynamodb:DescribeTable", "encryption", id="table"
        ),
    ],
)
def test_a_refused_read_is_the_resources_state_naming_the_action(
    moto_server: MotoServer,
    account: ServerAccount,
    refused: str,
    kind: str,
    needed: str,
    where: str,
) -> None:
    make = {
        "bucket": lambda: account.bucket(key=account.key()),
        "key": account.key,
        "queue": account.queue,
        "topic": account.topic,
        "secret": account.secret,
        "table": lambda: TABLE_ARN,
    }
    arn = make[kind]()
    moto_server.inject(refused, "AccessDenied")

    resources, _ = read(moto_server, arn)

    state = resources[arn]
    message = f"the identity running the checker needs {needed} on "
    if where == "status":
        assert (state.status, state.missing_action, state.resource_policy) == (
            "unreadable",
            needed,
            None,
        )
        assert message in state.detail
    elif where == "encryption":
        assert state.status == "none"  # its policy was read all the same
        assert state.encryption is not None
        assert state.encryption.kind == "unknown"
        assert message in state.encryption.detail
    else:
        assert state.status == "read"
        assert state.key is not None
        assert message in state.key.detail
    # Nothing else is touched by one refusal (the target's table is read in every run).
    assert all(s.status in ("read", "none") for a, s in resources.items() if a != arn)
    assert len(resources) > 1 or kind == "table"


def test_whose_key_a_bucket_uses_is_unknown_when_the_key_cannot_be_described(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    bucket = account.bucket(key=account.key())
    moto_server.inject("kms:DescribeKey", "AccessDenied")
    resources, _ = read(moto_server, bucket)
    encryption = resources[bucket].encryption
    assert encryption is not None
    assert (encryption.kind, encryption.customer_key) == ("unknown", None)
    assert "kms:DescribeKey" in encryption.detail


def test_an_endpoint_read_refused_names_the_action(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    endpoint = account.endpoint()
    moto_server.inject("ec2:DescribeVpcEndpoints", "AccessDenied")
    _, seen = read(moto_server, endpoints=(endpoint,))
    state = seen["endpoints"][endpoint]
    assert (state.status, state.missing_action) == ("unreadable", "ec2:DescribeVpcEndpoints")


def test_a_bucket_in_another_account_is_read_by_its_name(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    """S3 refuses GetBucketPolicy with the target's account as ExpectedBucketOwner, and
    answers it without: another account's bucket, whose policy lets the checker read it."""
    bucket = ServerAccount(moto_server, OTHER).bucket(
        "other-accounts-artifacts", policy=allow_role("Objects", "s3:GetObject")
    )
    resources, seen = read(moto_server, f"{bucket}/*")
    state = resources[bucket]
    assert sids(state) == ["Objects"]
    assert (state.account, state.cross_account) == (None, True)
    assert seen["requests"]["s3:GetBucketPolicy"] == 2


def test_a_bucket_in_another_account_that_refuses_the_checker_cannot_be_read(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    bucket = ServerAccount(moto_server, OTHER).bucket("other-accounts-artifacts")
    # The first refusal is S3's ExpectedBucketOwner check; the second, the bucket's.
    moto_server.inject("s3:GetBucketPolicy", "AccessDenied", skip=1)
    resources, _ = read(moto_server, bucket)
    assert (resources[bucket].status, resources[bucket].missing_action) == (
        "unreadable",
        "s3:GetBucketPolicy",
    )
    assert resources[bucket].cross_account is None  # not known: nothing was answered


def test_resources_in_another_account_are_read_by_arn(
    moto_server: MotoServer, account: ServerAccount
) -> None:
    """A topic by its ARN; a queue's URL is asked with its owner's account
    (QueueOwnerAWSAccountId), which moto ignores: see test_live_resources.py."""
    topic = ServerAccount(moto_server, OTHER).topic(policy=allow_role("Publish", "sns:Publish"))
    resources, _ = read(moto_server, topic)
    assert sids(resources[topic]) == ["Publish"]
    assert (resources[topic].account, resources[topic].cross_account) == (OTHER, True)


def test_the_targets_table_is_read_once_and_its_policy_named_as_verdicts_name_it(
    moto_server: MotoServer,
) -> None:
    """Its reasons say "allowed by table resource policy, statement ...", live as in mock."""
    moto_server.seed_table(policy=allow_role("Jobs", "dynamodb:Scan", TABLE_ARN))
    adapter = adapter_for(moto_server)
    moto_server.call("DELETE", "/_selftest/requests")
    table = adapter.fetch_table(TABLE_ARN)
    resources, _ = adapter.read_resources(TARGET, ResourceNeeds((f"{TABLE_ARN}/index/x",)))
    assert table.resource_policy is not None
    assert table.resource_policy.name == "table resource policy"
    assert resources[TABLE_ARN].resource_policy is table.resource_policy
    assert Counter(moto_server.requests()) == Counter(
        {
            "dynamodb:ListTagsOfResource": 1,
            "dynamodb:GetResourcePolicy": 1,
            "dynamodb:DescribeTable": 1,
        }
    )
