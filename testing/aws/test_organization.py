"""Reading the organization: the path from the root to the account, the SCPs and RCPs at
each level, each read once however many targets ask (moto's Organizations backend)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from iam_compliance.aws.connection import Connection
from iam_compliance.aws.mock_organization import seed_organization
from iam_compliance.aws.organization import NotInOrganizationError, OrganizationReader
from iam_compliance.engine.target import Credentials

from conftest import TARGET

MANAGEMENT = "000000000001"
DENY_SCANS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}],
}


def connection_into(account: str) -> Connection:
    sts = boto3.client(
        "sts", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    answer = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/reader", RoleSessionName="reader"
    )["Credentials"]
    return Connection(
        boto3.Session(),
        "us-east-1",
        Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"]),
    )


@pytest.fixture
def organization() -> Iterator[dict[str, Any]]:
    """An organization: root > Workloads > ML > a member account, DenyScans on Workloads."""
    with mock_aws():
        client = connection_into(MANAGEMENT).client("organizations")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            client.enable_policy_type(RootId=root, PolicyType=kind)
        workloads = client.create_organizational_unit(ParentId=root, Name="Workloads")
        ml = client.create_organizational_unit(
            ParentId=workloads["OrganizationalUnit"]["Id"], Name="ML"
        )
        status = client.create_account(AccountName="ml", Email="ml@example.com")
        account = status["CreateAccountStatus"]["AccountId"]
        client.move_account(
            AccountId=account,
            SourceParentId=root,
            DestinationParentId=ml["OrganizationalUnit"]["Id"],
        )
        policy = client.create_policy(
            Name="DenyScans",
            Description="no scans",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(DENY_SCANS),
        )["Policy"]["PolicySummary"]["Id"]
        client.attach_policy(PolicyId=policy, TargetId=workloads["OrganizationalUnit"]["Id"])
        yield {"account": account, "root": root}


def counted(reader: OrganizationReader) -> Counter[str]:
    calls: Counter[str] = Counter()
    reader._client.meta.events.register(
        "before-call.organizations.*",
        lambda model, **_: calls.update([model.name]),
    )
    return calls


def test_the_path_and_its_policies(organization: dict[str, Any]) -> None:
    reader = OrganizationReader(connection_into(MANAGEMENT), rcp_services=frozenset({"dynamodb"}))

    found = reader.guardrails(organization["account"], organization["account"])

    assert [(level.kind, level.name) for level in found.scps] == [
        ("root", "Root"),
        ("ou", "Workloads"),
        ("ou", "ML"),
        ("account", organization["account"]),
    ]
    assert [[p.name for p in level.policies] for level in found.scps] == [
        ["SCP FullAWSAccess attached to the root"],
        ["SCP FullAWSAccess attached to OU Workloads", "SCP DenyScans attached to OU Workloads"],
        ["SCP FullAWSAccess attached to OU ML"],
        [f"SCP FullAWSAccess attached to account {organization['account']}"],
    ]
    assert [[p.kind for p in level.policies] for level in found.rcps] == [["resource"]] * 4
    assert found.management_account == MANAGEMENT
    assert found.path.startswith(found.organization_id + "/" + organization["root"] + "/ou-")
    assert found.read_by == f"arn:aws:sts::{MANAGEMENT}:assumed-role/reader/reader"


def test_each_level_and_policy_is_read_once_for_many_targets(organization: dict[str, Any]) -> None:
    reader = OrganizationReader(connection_into(MANAGEMENT))
    calls = counted(reader)

    for _ in range(100):
        reader.guardrails(organization["account"], organization["account"])

    assert calls == Counter(
        {
            "DescribeOrganization": 1,
            "ListRoots": 1,
            "ListParents": 3,  # account -> ML -> Workloads -> root
            "DescribeOrganizationalUnit": 2,
            "ListPoliciesForTarget": 8,  # 4 levels x (SCPs, RCPs)
            "DescribePolicy": 3,  # FullAWSAccess, DenyScans, RCPFullAWSAccess
        }
    )


def test_an_account_outside_any_organization() -> None:
    with mock_aws():
        reader = OrganizationReader(connection_into("111122223333"))
        with pytest.raises(NotInOrganizationError, match="not a member of an AWS Organization"):
            reader.guardrails("111122223333", "111122223333")


def test_an_account_once_a_member_can_manage_a_new_organization() -> None:
    """moto remembers memberships across resets of its backends; seeding forgets stale ones."""
    target = TARGET
    with mock_aws():
        client = connection_into(MANAGEMENT).client("organizations")
        client.create_organization(FeatureSet="ALL")
        with mock.patch(
            "moto.organizations.utils.make_random_account_id", return_value=target.account_id
        ):
            client.create_account(AccountName="old", Email="old@example.com")
    with mock_aws():
        client = connection_into(target.account_id).client("organizations")
        seed_organization(
            {"management_account": target.account_id, "path": []},
            Path("."),
            target,
            client,
            lambda text, _: text,
        )
        assert client.describe_organization()["Organization"]["MasterAccountId"] == (
            target.account_id
        )
