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
