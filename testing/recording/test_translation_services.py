"""API calls to IAM actions and resources: SQS, SNS, KMS, Secrets Manager, CloudWatch Logs,
and what cannot be exact (flagged, never guessed)."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.recording.mapping import translate
from iam_compliance.recording.model import ApiCall, Scope

OWN = "123456789012"
SCOPE = Scope(OWN)
P, R, A = "${AWS_PARTITION}", "${AWS_REGION}", "${AWS_ACCOUNT_ID}"


def call(service: str, operation: str, region: str = "us-east-1", **params: Any) -> ApiCall:
    return ApiCall(service, operation, params, region, "aws", service)


def needs(api_call: ApiCall, scope: Scope = SCOPE) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in translate(api_call, scope)]


def notes(api_call: ApiCall) -> list[str]:
    return [note.id for access in translate(api_call, SCOPE) for note in access.notes]


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
