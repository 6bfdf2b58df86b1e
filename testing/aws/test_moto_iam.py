"""The seed written straight into moto's IAM backend (here of the account a plain client
reaches) reads back through boto3 as a seed through boto3 does, and moto's refusals reach
the seed as boto3 raises them."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from iam_compliance.aws.moto_iam import MotoIam

from conftest import ROLE, ecs_trust_policy, runbook_policy


@pytest.fixture
def iam() -> object:
    with mock_aws():
        yield boto3.client(
            "iam",
            region_name="us-east-1",
            aws_access_key_id="mock-access-key-id",
            aws_secret_access_key="mock-secret-access-key",
        )


def test_what_is_seeded_is_what_boto3_reads(iam: object) -> None:
    seed = MotoIam(DEFAULT_ACCOUNT_ID, "aws")
    seed.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(ecs_trust_policy()),
        Path="/service/",
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    arn = seed.create_policy(PolicyName="Task", PolicyDocument=json.dumps(runbook_policy()))[
        "Policy"
    ]["Arn"]
    seed.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
    seed.put_role_policy(
        RoleName=ROLE, PolicyName="Inline", PolicyDocument=json.dumps(runbook_policy())
    )

    role = iam.get_role(RoleName=ROLE)["Role"]  # type: ignore[attr-defined]
    assert role["Arn"] == f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/service/{ROLE}"
    assert role["Tags"] == [{"Key": "team", "Value": "ml"}]
    attached = iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]  # type: ignore[attr-defined]
    assert attached == [{"PolicyName": "Task", "PolicyArn": arn}]
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["Inline"]  # type: ignore[attr-defined]
    assert seed.policy_arn("Task") == arn
    assert seed.policy_arn("Other") is None


@pytest.mark.parametrize(
    ("call", "code"),
    [
        pytest.param(
            lambda seed: seed.create_policy(
                PolicyName="Bad",
                PolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}
                ),
            ),
            "MalformedPolicyDocument",
            id="a-document-moto-refuses",
        ),
        pytest.param(
            lambda seed: seed.create_role(
                RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(ecs_trust_policy())
            ),
            "EntityAlreadyExists",
            id="a-role-twice",
        ),
        pytest.param(
            lambda seed: seed.attach_role_policy(
                RoleName="NoSuchRole", PolicyArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/Nope"
            ),
            "NoSuchEntity",
            id="attaching-what-does-not-exist",
        ),
    ],
)
def test_moto_refusals_are_client_errors_with_iams_code(
    iam: object, call: object, code: str
) -> None:
    seed = MotoIam(DEFAULT_ACCOUNT_ID, "aws")
    seed.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(ecs_trust_policy()))
    with pytest.raises(ClientError) as raised:
        call(seed)  # type: ignore[operator]
    error = raised.value.response["Error"]
    assert error["Code"] == code
    assert error["Message"]


def test_an_error_that_is_no_refusal_is_not_dressed_as_one(
    iam: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = MotoIam(DEFAULT_ACCOUNT_ID, "aws")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug, not IAM's answer")

    monkeypatch.setattr(type(seed._backend), "create_role", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        seed.create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")
