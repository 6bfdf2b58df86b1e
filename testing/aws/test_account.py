"""Whole accounts from one GetAccountAuthorizationDetails sweep: every page followed (moto
answers in one page; botocore's Stubber here in several), the same snapshot as the per-role
path, and what the sweep leaves out read once per account."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from iam_compliance.aws.account import AccountReads, Sweep, read_mode, sweep
from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Connection
from iam_compliance.engine.evaluate.snapshot import TableState
from iam_compliance.engine.policy import Policy, PolicyKind, parse_policy
from iam_compliance.engine.target import Credentials
from iam_compliance.errors import AccessDeniedError, AwsError, NotFoundError

from conftest import (
    ACCOUNT,
    POLICY_ARN,
    ROLE,
    ROLE_ARN,
    TABLE_ARN,
    TARGET,
    ecs_trust_policy,
    runbook_policy,
    task_policy,
)

CREATED = datetime(2026, 11, 27, tzinfo=UTC)
READ_ONLY = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/Boundary"
SCANS = task_policy({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"})


def role_detail(name: str, *, attached: list[str], inline: dict[str, Any] | None = None) -> Any:
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": f"AROA{name.upper()[:12]:X<12}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "CreateDate": CREATED,
        "AssumeRolePolicyDocument": json.dumps(ecs_trust_policy()),
        "RolePolicyList": [
            {"PolicyName": k, "PolicyDocument": json.dumps(v)} for k, v in (inline or {}).items()
        ],
        "AttachedManagedPolicies": [
            {"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in attached
        ],
        "PermissionsBoundary": {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": BOUNDARY_ARN,
        },
        "Tags": [{"Key": "team", "Value": "ml"}],
    }


def policy_detail(arn: str, document: dict[str, Any], *, default: str = "v2") -> Any:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "PolicyId": "ANPAEXAMPLEEXAMPLE1",
        "Arn": arn,
        "DefaultVersionId": default,
        "PolicyVersionList": [
            {"Document": json.dumps(task_policy()), "VersionId": "v1", "IsDefaultVersion": False},
            {
                "Document": json.dumps(document),
                "VersionId": "v2",
                "IsDefaultVersion": default == "v2",
            },
        ],
    }


FIRST = {
    "RoleDetailList": [role_detail("Other", attached=[READ_ONLY])],
    "Policies": [policy_detail(BOUNDARY_ARN, SCANS)],
    "IsTruncated": True,
    "Marker": "page-2",
}
SECOND = {
    "RoleDetailList": [role_detail(ROLE, attached=[POLICY_ARN, READ_ONLY], inline={"Logs": SCANS})],
    "Policies": [policy_detail(POLICY_ARN, runbook_policy())],
    "IsTruncated": False,
}
FILTER = ["Role", "LocalManagedPolicy"]


def stubbed_iam() -> Any:
    return boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )


def two_pages(stub: Stubber) -> None:
    # Copies: botocore decodes the documents of an answer in place.
    stub.add_response("get_account_authorization_details", copy.deepcopy(FIRST), {"Filter": FILTER})
    stub.add_response(
        "get_account_authorization_details",
        copy.deepcopy(SECOND),
        {"Filter": FILTER, "Marker": "page-2"},
    )


class Reads:
    """AccountReads over a stubbed sweep, counting the reads it delegates."""

    def __init__(self, found: Sweep) -> None:
        self.calls: Counter[str] = Counter()
        self.reads = AccountReads(ACCOUNT, self.sweep, self.managed, self.table)
        self.found = found

    def sweep(self) -> Sweep:
        self.calls["sweep"] += 1
        return self.found

    def managed(self, arn: str, kind: PolicyKind) -> Policy:
        self.calls[f"managed {arn}"] += 1
        return parse_policy(SCANS, name=arn.rsplit("/", 1)[-1], kind=kind, version="v7", arn=arn)

    def table(self, arn: str) -> TableState:
        self.calls[f"table {arn}"] += 1
        return TableState(arn, {"env": "prod"})


@pytest.fixture
def found() -> Sweep:
    iam = stubbed_iam()
    with Stubber(iam) as stub:
        two_pages(stub)
        result = sweep(iam, ACCOUNT)
        stub.assert_no_pending_responses()
    return result


def test_the_sweep_follows_every_page(found: Sweep) -> None:
    assert found.pages == 2
    assert sorted(found.roles) == ["mlplatformecstaskrole", "other"]
    assert sorted(found.policies) == [BOUNDARY_ARN, POLICY_ARN]


def test_a_role_is_read_from_the_sweep(found: Sweep) -> None:
    reads = Reads(found)

    snapshot = reads.reads.snapshot(TARGET)

    assert (snapshot.role_arn, snapshot.role_id) == (ROLE_ARN, "AROAMLPLATFORMEC")
    assert [(p.name, p.kind, p.version) for p in snapshot.policies.identity] == [
        ("AmazonDynamoDBReadOnlyAccess", "managed", "v7"),
        ("MLPlatformECSTaskPolicy", "managed", "v2"),
        ("Logs", "inline", None),
    ]
    assert snapshot.policies.identity[1].document == runbook_policy()
    assert snapshot.policies.boundary is not None
    assert snapshot.policies.boundary.document == SCANS
    assert snapshot.role_tags == {"team": "ml"}
    assert snapshot.target_policy_exists
    assert snapshot.table == TableState(TABLE_ARN, {"env": "prod"})


def test_what_the_sweep_leaves_out_is_read_once_per_account(found: Sweep) -> None:
    reads = Reads(found)
    other = dataclasses.replace(TARGET, name="other", role_name="Other")

    for target in (TARGET, other, TARGET):
        reads.reads.snapshot(target)

    assert reads.calls == Counter({"sweep": 1, f"managed {READ_ONLY}": 1, f"table {TABLE_ARN}": 1})


def test_role_names_are_matched_ignoring_case(found: Sweep) -> None:
    target = dataclasses.replace(TARGET, role_name=ROLE.lower())
    assert Reads(found).reads.snapshot(target).role_name == ROLE


def test_a_missing_role_names_the_sweep(found: Sweep) -> None:
    target = dataclasses.replace(TARGET, role_name="Gone")
    with pytest.raises(NotFoundError) as caught:
        Reads(found).reads.snapshot(target)
    assert str(caught.value) == (
        f"iam:GetAccountAuthorizationDetails arn:aws:iam::{ACCOUNT}:role/Gone: not found "
        f"(the 2 page(s) of account {ACCOUNT}'s roles hold no role named Gone)"
    )


def test_a_policy_without_a_default_version_cannot_be_checked() -> None:
    broken = Sweep(
        {"mlplatformecstaskrole": role_detail(ROLE, attached=[POLICY_ARN])},
        {
            POLICY_ARN: policy_detail(POLICY_ARN, runbook_policy(), default="v3"),
            BOUNDARY_ARN: policy_detail(BOUNDARY_ARN, SCANS),
        },
        1,
    )
    with pytest.raises(AwsError, match=r"holds no default version of .*MLPlatformECSTaskPolicy"):
        Reads(broken).reads.snapshot(TARGET)


def test_a_denied_sweep_names_the_action() -> None:
    iam = stubbed_iam()
    with Stubber(iam) as stub:
        stub.add_client_error(
            "get_account_authorization_details",
            service_error_code="AccessDenied",
            service_message="not authorized",
            expected_params={"Filter": FILTER},
        )
        with pytest.raises(AccessDeniedError) as caught:
            sweep(iam, ACCOUNT)
    assert "iam:GetAccountAuthorizationDetails" in str(caught.value)


@pytest.mark.parametrize(("targets", "mode"), [(1, "per-role"), (2, "account"), (50, "account")])
def test_the_read_mode(targets: int, mode: str) -> None:
    assert read_mode(targets) == mode


def test_the_sweep_reads_what_the_per_role_path_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """On moto: the same role (with a path), attached (own and AWS managed), inline and
    boundary policies, read both ways, make equal snapshots."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        connection = Connection(session, "us-east-1", Credentials("a", "b"))
        iam = connection.client("iam")
        boundary = iam.create_policy(PolicyName="Boundary", PolicyDocument=json.dumps(SCANS))
        iam.create_role(
            RoleName=ROLE,
            Path="/ml-platform/",
            AssumeRolePolicyDocument=json.dumps(ecs_trust_policy()),
            PermissionsBoundary=boundary["Policy"]["Arn"],
            Tags=[{"Key": "team", "Value": "ml"}],
        )
        task = iam.create_policy(
            PolicyName="MLPlatformECSTaskPolicy", PolicyDocument=json.dumps(runbook_policy())
        )
        iam.create_policy_version(
            PolicyArn=task["Policy"]["Arn"],
            PolicyDocument=json.dumps(SCANS),
            SetAsDefault=True,
        )
        for arn in (task["Policy"]["Arn"], READ_ONLY):
            iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
        iam.put_role_policy(RoleName=ROLE, PolicyName="Logs", PolicyDocument=json.dumps(SCANS))
        connection.client("dynamodb").create_table(
            TableName="ml-jobs",
            KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        adapter = AwsAdapter(connection)
        account = adapter.caller_account()
        target = dataclasses.replace(
            TARGET,
            account_id=account,
            credentials=Credentials("a", "b"),
        )
        per_role = adapter.fetch_role(target)
        reads = AccountReads(
            account,
            lambda: sweep(adapter.iam, account),
            adapter.managed_policy,
            adapter.fetch_table,
        )
        swept = reads.snapshot(target)
        assert swept.attached == per_role.attached
        assert swept.policies.identity == per_role.policies.identity
        assert swept == per_role
        # IAM's own ARN, the path included, is what aws:PrincipalArn is judged with.
        assert per_role.role_arn == f"arn:aws:iam::{account}:role/ml-platform/{ROLE}"
