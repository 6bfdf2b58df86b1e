"""The botocore hook: every call of every client, under moto's mock and against a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from moto import mock_aws

from iam_compliance.aws.recorder import CallTap, partition_of
from iam_compliance.recording.model import ApiCall

from conftest import MotoServer

REGION = "us-east-1"


class Calls(list[ApiCall]):
    @property
    def names(self) -> list[str]:
        return [call.name for call in self]


@pytest.fixture
def seen() -> Iterator[Calls]:
    calls = Calls()
    tap = CallTap(calls.append)
    tap.install()
    try:
        yield calls
    finally:
        tap.uninstall()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


def make_table(session: boto3.Session) -> None:
    session.client("dynamodb").create_table(
        TableName="ml-jobs",
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.mark.usefixtures("credentials")
def test_client_and_resource_calls_are_seen_with_their_parameters(seen: Calls) -> None:
    with mock_aws():
        session = boto3.Session(region_name="eu-west-1")
        make_table(session)
        table = session.resource("dynamodb").Table("ml-jobs")
        table.put_item(Item={"job_id": "1"})
        assert table.item_count >= 0  # read by a DescribeTable the resource layer makes

    assert seen.names == [
        "dynamodb.CreateTable",
        "dynamodb.PutItem",
        "dynamodb.DescribeTable",
    ]
    put = seen[1]
    assert (put.params["TableName"], put.region, put.partition, put.prefix) == (
        "ml-jobs",
        "eu-west-1",
        "aws",
        "dynamodb",
    )


@pytest.mark.usefixtures("credentials")
def test_calls_from_s3transfer_s_threads_are_seen(seen: Calls, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (6 * 1024 * 1024))
    threaded = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="ml-artifacts")
        s3.upload_file(str(big), "ml-artifacts", "models/big.bin", Config=threaded)

    assert seen.names == [
        "s3.CreateBucket",
        "s3.CreateMultipartUpload",
        "s3.UploadPart",
        "s3.UploadPart",
        "s3.CompleteMultipartUpload",
    ]


@pytest.mark.usefixtures("credentials")
def test_the_default_session_made_before_install_is_seen() -> None:
    calls = Calls()
    tap = CallTap(calls.append)
    with mock_aws():  # moto starts without a default session: make one now
        boto3.setup_default_session(region_name=REGION)
        tap.install()
        try:
            boto3.client("sqs").create_queue(QueueName="jobs")
        finally:
            tap.uninstall()
            boto3.DEFAULT_SESSION = None

    assert calls.names == ["sqs.CreateQueue"]


@pytest.mark.usefixtures("credentials")
def test_nothing_is_seen_once_uninstalled() -> None:
    calls = Calls()
    tap = CallTap(calls.append)
    tap.install()
    with mock_aws():
        session = boto3.Session(region_name=REGION)  # made while installed
        tap.uninstall()
        session.client("sqs").create_queue(QueueName="jobs")
        boto3.Session(region_name=REGION).client("sqs").list_queues()

    assert calls == []


def test_calls_to_a_moto_server_are_seen(seen: Calls, moto_server: MotoServer) -> None:
    session = boto3.Session(
        aws_access_key_id="moto", aws_secret_access_key="moto", region_name=REGION
    )
    sqs = session.client("sqs", endpoint_url=moto_server.url)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="run")

    assert seen.names == ["sqs.CreateQueue", "sqs.SendMessage"]
    assert seen[1].params["QueueUrl"] == url


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        pytest.param("us-east-1", "aws", id="aws"),
        pytest.param("cn-northwest-1", "aws-cn", id="china"),
        pytest.param("us-gov-west-1", "aws-us-gov", id="govcloud"),
        pytest.param("us-isob-east-1", "aws-iso-b", id="iso-b"),
        pytest.param("eu-central-9", "aws", id="a-region-botocore-does-not-list-yet"),
    ],
)
def test_the_partition_of_a_region_is_botocore_s(region: str, partition: str) -> None:
    assert partition_of(region) == partition
