"""API calls to IAM actions and resources: the cases where the names differ or the
resource comes from inside the parameters."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.recording.mapping import translate
from iam_compliance.recording.model import ApiCall, Scope

OWN = "123456789012"
SCOPE = Scope(OWN)
P, R, A = "${AWS_PARTITION}", "${AWS_REGION}", "${AWS_ACCOUNT_ID}"
TABLE = f"arn:{P}:dynamodb:{R}:{A}:table"


def call(service: str, operation: str, region: str = "us-east-1", **params: Any) -> ApiCall:
    return ApiCall(service, operation, params, region, "aws", service)


def needs(api_call: ApiCall, scope: Scope = SCOPE) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in translate(api_call, scope)]


def notes(api_call: ApiCall) -> list[str]:
    return [note.id for access in translate(api_call, SCOPE) for note in access.notes]


# --- DynamoDB ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_call", "expected"),
    [
        pytest.param(
            call("dynamodb", "Scan", TableName="ml-jobs"),
            [("dynamodb:Scan", f"{TABLE}/ml-jobs")],
            id="scan",
        ),
        pytest.param(
            call("dynamodb", "Query", TableName="ml-jobs", IndexName="by-status"),
            [("dynamodb:Query", f"{TABLE}/ml-jobs/index/by-status")],
            id="query-on-an-index",
        ),
        pytest.param(
            call("dynamodb", "Scan", TableName="ml-jobs", IndexName="by-owner"),
            [("dynamodb:Scan", f"{TABLE}/ml-jobs/index/by-owner")],
            id="scan-on-an-index",
        ),
        pytest.param(
            call(
                "dynamodb",
                "TransactWriteItems",
                TransactItems=[
                    {"Put": {"TableName": "ml-jobs", "Item": {}}},
                    {"Update": {"TableName": "runs", "Key": {}}},
                    {"Delete": {"TableName": "runs", "Key": {}}},
                    {"ConditionCheck": {"TableName": "quotas", "Key": {}}},
                ],
            ),
            [
                ("dynamodb:PutItem", f"{TABLE}/ml-jobs"),
                ("dynamodb:UpdateItem", f"{TABLE}/runs"),
                ("dynamodb:DeleteItem", f"{TABLE}/runs"),
                ("dynamodb:ConditionCheckItem", f"{TABLE}/quotas"),
            ],
            id="transact-write-items-per-item",
        ),
        pytest.param(
            call(
                "dynamodb",
                "TransactGetItems",
                TransactItems=[{"Get": {"TableName": "a"}}, {"Get": {"TableName": "b"}}],
            ),
            [("dynamodb:GetItem", f"{TABLE}/a"), ("dynamodb:GetItem", f"{TABLE}/b")],
            id="transact-get-items",
        ),
        pytest.param(
            call("dynamodb", "BatchWriteItem", RequestItems={"a": [], "b": []}),
            [("dynamodb:BatchWriteItem", f"{TABLE}/a"), ("dynamodb:BatchWriteItem", f"{TABLE}/b")],
            id="batch-write-item-is-its-own-action",
        ),
        pytest.param(
            call("dynamodb", "BatchGetItem", RequestItems={"a": {"Keys": []}}),
            [("dynamodb:BatchGetItem", f"{TABLE}/a")],
            id="batch-get-item",
        ),
        pytest.param(
            call("dynamodb", "ExecuteStatement", Statement='SELECT * FROM "ml-jobs" WHERE k=?'),
            [("dynamodb:PartiQLSelect", f"{TABLE}/ml-jobs")],
            id="partiql-select",
        ),
        pytest.param(
            call("dynamodb", "ExecuteStatement", Statement='select * from "ml-jobs"."by-status"'),
            [("dynamodb:PartiQLSelect", f"{TABLE}/ml-jobs/index/by-status")],
            id="partiql-select-an-index",
        ),
        pytest.param(
            call("dynamodb", "ExecuteStatement", Statement="INSERT INTO jobs VALUE {'k': ?}"),
            [("dynamodb:PartiQLInsert", f"{TABLE}/jobs")],
            id="partiql-insert-unquoted",
        ),
        pytest.param(
            call(
                "dynamodb",
                "BatchExecuteStatement",
                Statements=[
                    {"Statement": 'UPDATE "a" SET s = ? WHERE k = ?'},
                    {"Statement": 'DELETE FROM "b" WHERE k = ?'},
                ],
            ),
            [("dynamodb:PartiQLUpdate", f"{TABLE}/a"), ("dynamodb:PartiQLDelete", f"{TABLE}/b")],
            id="partiql-batch",
        ),
        pytest.param(
            call(
                "dynamodb",
                "ExecuteTransaction",
                TransactStatements=[{"Statement": 'INSERT INTO "a" VALUE {}'}],
            ),
            [("dynamodb:PartiQLInsert", f"{TABLE}/a")],
            id="partiql-transaction",
        ),
        pytest.param(
            call(
                "dynamodb",
                "GetItem",
                TableName="arn:aws:dynamodb:eu-west-1:111122223333:table/shared",
            ),
            [("dynamodb:GetItem", f"arn:{P}:dynamodb:eu-west-1:111122223333:table/shared")],
            id="a-table-arn-of-another-account",
        ),
        pytest.param(
            call("dynamodb", "DescribeTable", TableName="ml-jobs", region="eu-west-1"),
            [("dynamodb:DescribeTable", f"{TABLE}/ml-jobs")],
            id="the-client-s-region-is-the-run-s-own",
        ),
    ],
)
def test_dynamodb(api_call: ApiCall, expected: list[tuple[str, str]]) -> None:
    assert needs(api_call) == expected


def test_a_region_other_than_the_run_s_own_stays_literal() -> None:
    scope = Scope(OWN, region="us-east-1")

    assert needs(call("dynamodb", "Scan", TableName="t", region="eu-west-1"), scope) == [
        ("dynamodb:Scan", f"arn:{P}:dynamodb:eu-west-1:{A}:table/t")
    ]


def test_a_partiql_statement_that_cannot_be_read_is_unmapped_not_guessed() -> None:
    api_call = call(
        "dynamodb",
        "ExecuteTransaction",
        TransactStatements=[{"Statement": 'EXISTS(SELECT * FROM "a" WHERE k = ?)'}],
    )

    assert needs(api_call) == [("dynamodb:ExecuteTransaction", "*")]
    assert notes(api_call) == ["UNMAPPED"]


# --- S3 ---------------------------------------------------------------------------------

BUCKET = f"arn:{P}:s3:::ml-artifacts"


@pytest.mark.parametrize(
    ("api_call", "expected"),
    [
        pytest.param(
            call("s3", "HeadObject", Bucket="ml-artifacts", Key="models/a.bin"),
            [("s3:GetObject", f"{BUCKET}/models/a.bin")],
            id="head-object-is-get-object",
        ),
        pytest.param(
            call("s3", "GetObject", Bucket="ml-artifacts", Key="a", VersionId="v1"),
            [("s3:GetObjectVersion", f"{BUCKET}/a")],
            id="a-version-is-get-object-version",
        ),
        pytest.param(
            call("s3", "ListObjectsV2", Bucket="ml-artifacts", Prefix="models/"),
            [("s3:ListBucket", BUCKET)],
            id="list-objects-v2-is-list-bucket",
        ),
        pytest.param(
            call("s3", "CreateMultipartUpload", Bucket="ml-artifacts", Key="big"),
            [("s3:PutObject", f"{BUCKET}/big")],
            id="create-multipart-upload",
        ),
        pytest.param(
            call("s3", "UploadPart", Bucket="ml-artifacts", Key="big", PartNumber=1, UploadId="u"),
            [("s3:PutObject", f"{BUCKET}/big")],
            id="upload-part",
        ),
        pytest.param(
            call("s3", "CompleteMultipartUpload", Bucket="ml-artifacts", Key="big", UploadId="u"),
            [("s3:PutObject", f"{BUCKET}/big")],
            id="complete-multipart-upload",
        ),
        pytest.param(
            call("s3", "AbortMultipartUpload", Bucket="ml-artifacts", Key="big", UploadId="u"),
            [("s3:AbortMultipartUpload", f"{BUCKET}/big")],
            id="abort-multipart-upload",
        ),
        pytest.param(
            call(
                "s3",
                "CopyObject",
                Bucket="ml-artifacts",
                Key="copy",
                CopySource={"Bucket": "inbox", "Key": "raw/a b"},
            ),
            [("s3:GetObject", f"arn:{P}:s3:::inbox/raw/a b"), ("s3:PutObject", f"{BUCKET}/copy")],
            id="copy-object-reads-the-source-writes-the-target",
        ),
        pytest.param(
            call(
                "s3",
                "CopyObject",
                Bucket="ml-artifacts",
                Key="copy",
                CopySource="inbox/raw/a%20b?versionId=3",
            ),
            [
                ("s3:GetObjectVersion", f"arn:{P}:s3:::inbox/raw/a b"),
                ("s3:PutObject", f"{BUCKET}/copy"),
            ],
            id="copy-object-from-an-encoded-string-with-a-version",
        ),
        pytest.param(
            call("s3", "PutObject", Bucket="ml-artifacts", Key="a", ACL="private", Tagging="t=1"),
            [
                ("s3:PutObject", f"{BUCKET}/a"),
                ("s3:PutObjectAcl", f"{BUCKET}/a"),
                ("s3:PutObjectTagging", f"{BUCKET}/a"),
            ],
            id="put-object-with-an-acl-and-tags",
        ),
        pytest.param(
            call(
                "s3",
                "DeleteObjects",
                Bucket="ml-artifacts",
                Delete={"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}]},
            ),
            [("s3:DeleteObject", f"{BUCKET}/a"), ("s3:DeleteObjectVersion", f"{BUCKET}/b")],
            id="delete-objects-each-key",
        ),
        pytest.param(
            call("s3", "PutObject", Bucket="ml-artifacts", Key="price-$5"),
            [("s3:PutObject", f"{BUCKET}/price-$$5")],
            id="a-dollar-is-doubled-for-the-template",
        ),
    ],
)
def test_s3(api_call: ApiCall, expected: list[tuple[str, str]]) -> None:
    assert needs(api_call) == expected


# --- SQS, SNS, KMS, Secrets Manager, CloudWatch Logs --------------------------------------


@pytest.mark.parametrize(
    ("api_call", "expected"),
    [
        pytest.param(
            call("sqs", "SendMessage", QueueUrl=f"https://sqs.us-east-1.amazonaws.com/{OWN}/jobs"),
            [("sqs:SendMessage", f"arn:{P}:sqs:{R}:{A}:jobs")],
            id="sqs-send-message",
        ),
        pytest.param(
            call("sqs", "ReceiveMessage", QueueUrl=f"http://127.0.0.1:5000/{OWN}/jobs"),
            [("sqs:ReceiveMessage", f"arn:{P}:sqs:{R}:{A}:jobs")],
            id="sqs-a-moto-server-url",
        ),
        pytest.param(
            call("sqs", "DeleteMessageBatch", QueueUrl=f"https://q/{OWN}/jobs", Entries=[]),
            [("sqs:DeleteMessage", f"arn:{P}:sqs:{R}:{A}:jobs")],
            id="sqs-batch-is-the-single-action",
        ),
        pytest.param(
            call("sqs", "GetQueueUrl", QueueName="jobs"),
            [("sqs:GetQueueUrl", f"arn:{P}:sqs:{R}:{A}:jobs")],
            id="sqs-get-queue-url",
        ),
        pytest.param(
            call("sns", "Publish", TopicArn=f"arn:aws:sns:us-east-1:{OWN}:done", Message="m"),
            [("sns:Publish", f"arn:{P}:sns:{R}:{A}:done")],
            id="sns-publish",
        ),
        pytest.param(
            call(
                "kms", "Decrypt", KeyId=f"arn:aws:kms:us-east-1:{OWN}:key/k-1", CiphertextBlob=b""
            ),
            [("kms:Decrypt", f"arn:{P}:kms:{R}:{A}:key/k-1")],
            id="kms-decrypt-a-key-arn",
        ),
        pytest.param(
            call("kms", "GenerateDataKey", KeyId="1234abcd-12ab"),
            [("kms:GenerateDataKey", f"arn:{P}:kms:{R}:{A}:key/1234abcd-12ab")],
            id="kms-a-key-id",
        ),
        pytest.param(
            call("secretsmanager", "GetSecretValue", SecretId="prod/db"),
            [
                (
                    "secretsmanager:GetSecretValue",
                    f"arn:{P}:secretsmanager:{R}:{A}:secret:prod/db-??????",
                )
            ],
            id="secret-by-name-gets-the-suffix-wildcard",
        ),
        pytest.param(
            call(
                "secretsmanager",
                "GetSecretValue",
                SecretId=f"arn:aws:secretsmanager:us-east-1:{OWN}:secret:prod/db-a1B2c3",
            ),
            [
                (
                    "secretsmanager:GetSecretValue",
                    f"arn:{P}:secretsmanager:{R}:{A}:secret:prod/db-a1B2c3",
                )
            ],
            id="secret-by-complete-arn",
        ),
        pytest.param(
            call(
                "secretsmanager",
                "GetSecretValue",
                SecretId=f"arn:aws:secretsmanager:us-east-1:{OWN}:secret:prod/db",
            ),
            [
                (
                    "secretsmanager:GetSecretValue",
                    f"arn:{P}:secretsmanager:{R}:{A}:secret:prod/db-??????",
                )
            ],
            id="secret-by-partial-arn",
        ),
        pytest.param(
            call("logs", "CreateLogGroup", logGroupName="/ecs/train"),
            [("logs:CreateLogGroup", f"arn:{P}:logs:{R}:{A}:log-group:/ecs/train:*")],
            id="logs-create-log-group",
        ),
        pytest.param(
            call("logs", "CreateLogStream", logGroupName="/ecs/train", logStreamName="ecs/a/1"),
            [
                (
                    "logs:CreateLogStream",
                    f"arn:{P}:logs:{R}:{A}:log-group:/ecs/train:log-stream:ecs/a/1",
                )
            ],
            id="logs-create-log-stream",
        ),
        pytest.param(
            call(
                "logs", "PutLogEvents", logGroupName="/ecs/train", logStreamName="s", logEvents=[]
            ),
            [("logs:PutLogEvents", f"arn:{P}:logs:{R}:{A}:log-group:/ecs/train:log-stream:s")],
            id="logs-put-log-events",
        ),
    ],
)
def test_other_services(api_call: ApiCall, expected: list[tuple[str, str]]) -> None:
    assert needs(api_call) == expected
    assert notes(api_call) == []


@pytest.mark.parametrize(
    ("api_call", "expected", "flags"),
    [
        pytest.param(
            call("kms", "Encrypt", KeyId="alias/ml-jobs", Plaintext=b""),
            [("kms:Encrypt", f"arn:{P}:kms:{R}:{A}:alias/ml-jobs")],
            ["KMS_ALIAS"],
            id="kms-an-alias-name",
        ),
        pytest.param(
            call("kms", "Encrypt", KeyId=f"arn:aws:kms:us-east-1:{OWN}:alias/ml-jobs"),
            [("kms:Encrypt", f"arn:{P}:kms:{R}:{A}:alias/ml-jobs")],
            ["KMS_ALIAS"],
            id="kms-an-alias-arn",
        ),
        pytest.param(
            call("kms", "Decrypt", CiphertextBlob=b"x"),
            [("kms:Decrypt", "*")],
            ["KMS_KEY_IN_CIPHERTEXT"],
            id="kms-decrypt-without-a-key",
        ),
        pytest.param(
            call(
                "sqs", "SendMessage", QueueUrl="https://sqs.us-east-1.amazonaws.com/111122223333/x"
            ),
            [("sqs:SendMessage", f"arn:{P}:sqs:{R}:111122223333:x")],
            ["OTHER_ACCOUNT"],
            id="another-account-s-queue",
        ),
        pytest.param(
            call("ec2", "DescribeInstances"),
            [("ec2:DescribeInstances", "*")],
            ["UNMAPPED"],
            id="an-unknown-service",
        ),
        pytest.param(
            call("dynamodb", "DescribeStream", StreamArn="x"),
            [("dynamodb:DescribeStream", "*")],
            ["UNMAPPED"],
            id="an-unknown-operation",
        ),
        pytest.param(
            call("dynamodb", "GetItem", Key={}),
            [("dynamodb:GetItem", "*")],
            ["UNREADABLE"],
            id="a-call-without-its-resource",
        ),
    ],
)
def test_what_cannot_be_exact_is_flagged(
    api_call: ApiCall, expected: list[tuple[str, str]], flags: list[str]
) -> None:
    assert needs(api_call) == expected
    assert notes(api_call) == flags


def test_an_account_given_as_the_run_s_own_becomes_the_placeholder() -> None:
    scope = Scope("111122223333")

    assert needs(call("sqs", "SendMessage", QueueUrl="https://q/111122223333/x"), scope) == [
        ("sqs:SendMessage", f"arn:{P}:sqs:{R}:{A}:x")
    ]
