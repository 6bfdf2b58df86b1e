"""A live run reads each IAM entity once, however many tests run.

Requests are counted where they arrive: the self-test layer of the moto server.
"""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import (
    EXPECTED,
    LIVE,
    ONE_POLICY,
    TABLE_ARN,
    MotoServer,
    ServerAccount,
    runbook_policy,
    task_policy,
)


@pytest.fixture
def seeded(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The role ``EXPECTED`` counts the reads of: two managed policies, one inline, a boundary."""
    moto_server.seed(
        managed=runbook_policy(),
        extra_managed={
            "JobsQuery": task_policy(
                {"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": TABLE_ARN}
            )
        },
        inline={
            "JobsScan": task_policy(
                {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}
            )
        },
        boundary=task_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    moto_server.use(monkeypatch)
    moto_server.call("DELETE", "/_selftest/requests")
    return moto_server


@pytest.mark.slow
@pytest.mark.parametrize(
    "selection",
    [
        pytest.param((), id="all-tests"),
        pytest.param(("-k", "Scan"), id="one-test"),
        pytest.param(("-p", "xdist", "-n", "2"), id="xdist-two-workers-one-target"),
    ],
)
def test_each_entity_is_read_once(
    suite: pytest.Pytester, seeded: MotoServer, selection: tuple[str, ...]
) -> None:
    if "-n" in selection:
        suite.runpytest_subprocess(*LIVE, *selection)
        # Two workers each check the one target: each reads it once, the controller never.
        assert Counter(seeded.requests()) == Counter({k: 2 * v for k, v in EXPECTED.items()})
        return
    suite.runpytest(*LIVE, *selection)
    assert Counter(seeded.requests()) == EXPECTED


def test_collect_only_makes_no_calls(suite: pytest.Pytester, seeded: MotoServer) -> None:
    suite.runpytest(*LIVE, "--collect-only")
    assert seeded.requests() == []


def test_more_required_actions_make_no_more_calls(
    suite: pytest.Pytester, seeded: MotoServer
) -> None:
    many = [
        "GetItem",
        "PutItem",
        "UpdateItem",
        "Scan",
        "Query",
        "DescribeTable",
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "DescribeTimeToLive",
    ]
    (suite.path / "fixtures" / "required_actions.toml").write_text(
        "".join(f'[[action]]\nname = "dynamodb:{a}"\nreason = "r"\n\n' for a in many)
    )
    suite.runpytest(*LIVE)
    assert Counter(seeded.requests()) == EXPECTED


@pytest.mark.slow
def test_attached_policies_are_paginated(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto answers ListAttachedRolePolicies 100 at a time: 101 policies take two pages,
    # and the one that grants Scan comes last.
    filler = task_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    extra = {f"Filler{n:03}": filler for n in range(99)}
    extra["ZZJobsScan"] = task_policy(
        {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}
    )
    moto_server.seed(extra_managed=extra)
    moto_server.use(monkeypatch)
    moto_server.call("DELETE", "/_selftest/requests")
    result = suite.runpytest(*LIVE, "-k", "Scan]")
    result.assert_outcomes(passed=1, deselected=9)
    assert Counter(moto_server.requests())["iam:ListAttachedRolePolicies"] == 2


#: What a bucket (its objects), a KMS key and a queue cost, read once each: the bucket's
#: policy, region and encryption (which names the key, read once all the same), the key's
#: description, policy and grants, the queue's URL and attributes.
RESOURCE_READS = Counter(
    {
        "s3:GetBucketPolicy": 1,
        "s3:GetBucketLocation": 1,
        "s3:GetBucketEncryption": 1,
        "kms:DescribeKey": 1,
        "kms:GetKeyPolicy": 1,
        "kms:ListGrants": 1,
        "sqs:GetQueueUrl": 1,
        "sqs:GetQueueAttributes": 1,
    }
)
#: Up to four actions on each of the three resources.
ON_EACH = {
    "arn:aws:s3:::${S3_BUCKET_NAME}/*": ("GetObject", "PutObject", "DeleteObject", "GetObjectAcl"),
    "KEY": ("Decrypt", "Encrypt", "GenerateDataKey", "ReEncryptFrom"),
    "arn:aws:sqs:${AWS_REGION}:${AWS_ACCOUNT_ID}:ml-jobs-queue": (
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
    ),
}


def requirements_on_three_resources(per_resource: int, key: str) -> str:
    service = {"KEY": "kms", "arn:aws:s3": "s3", "arn:aws:sqs": "sqs"}
    lines = []
    for resource, actions in ON_EACH.items():
        prefix = next(v for k, v in service.items() if resource.startswith(k))
        for action in actions[:per_resource]:
            arn = key if resource == "KEY" else resource
            lines.append(
                f'[[action]]\nname = "{prefix}:{action}"\nreason = "r"\nresource = "{arn}"\n'
            )
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("per_resource", "targets"),
    [
        pytest.param(1, 1, id="3-requirements"),
        pytest.param(4, 1, id="12-requirements"),
        pytest.param(4, 2, id="12-requirements-2-targets-one-account"),
    ],
)
def test_each_resource_the_requirements_name_is_read_once(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    per_resource: int,
    targets: int,
) -> None:
    moto_server.seed()
    account = ServerAccount(moto_server)
    key = account.key()
    account.bucket(key=key)  # encrypted with the key the requirements name too
    account.queue()
    moto_server.use(monkeypatch)
    (suite.path / "fixtures" / "required_actions.toml").write_text(
        requirements_on_three_resources(per_resource, key)
    )
    envs = []
    for n in range(targets if targets > 1 else 0):
        (suite.path / f"t{n}.env").write_text("AWS_ACCOUNT_ID=618574523116\n")
        envs += ["--iam-env-file", f"t{n}.env"]
    moto_server.call("DELETE", "/_selftest/requests")

    result = suite.runpytest(*LIVE, *envs)

    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    found = Counter(moto_server.requests())
    assert Counter({k: v for k, v in found.items() if k in RESOURCE_READS}) == RESOURCE_READS
    if targets == 1:
        assert found == ONE_POLICY + RESOURCE_READS
