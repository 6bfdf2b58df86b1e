"""The organization's SCPs and RCPs in a verdict: the gate and how evaluate() uses it."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from iam_compliance.engine.evaluate.applicability import Request
from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.evaluate.guardrails import Guardrails, Level, Reading, attached, gate
from iam_compliance.engine.policy import Policy, RolePolicies, parse_policy

from conftest import ACCOUNT, TABLE_ARN, compliant_policy, parsed_task_policy, task_policy

SCAN = "dynamodb:Scan"
MANAGEMENT = "000000000001"
FULL_ACCESS = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def scp(name: str, level: str, *statements: dict[str, Any]) -> Policy:
    return parse_policy(task_policy(*statements), name=attached(name, "scp", level))


def rcp(name: str, level: str, *statements: dict[str, Any]) -> Policy:
    body = [{"Principal": "*", **statement} for statement in statements]
    return parse_policy(task_policy(*body), name=attached(name, "rcp", level), kind="resource")


def path(
    root: tuple[Policy, ...], workloads: tuple[Policy, ...], account: tuple[Policy, ...]
) -> tuple[Level, ...]:
    return (
        Level("root", "r-ab12", "Root", root),
        Level("ou", "ou-ab12-1", "Workloads", workloads),
        Level("account", ACCOUNT, ACCOUNT, account),
    )


def full(level: str) -> tuple[Policy, ...]:
    return (scp("FullAWSAccess", level, FULL_ACCESS),)


def guardrails(
    scps: tuple[Level, ...],
    rcps: tuple[Level, ...] = (),
    *,
    management: str = MANAGEMENT,
) -> Guardrails:
    return Guardrails(
        organization_id="o-abc",
        management_account=management,
        account=ACCOUNT,
        scps=scps,
        rcps=rcps,
        path="o-abc/r-ab12/ou-ab12-1/",
        read_by="arn:aws:sts::000000000001:assumed-role/reader/s",
        rcp_services=frozenset({"dynamodb", "s3"}),
    )


ROOT, OU, ACCT = "the root", "OU Workloads", f"account {ACCOUNT}"
DENY_SCANS = {"Sid": "NoScans", "Effect": "Deny", "Action": SCAN, "Resource": "*"}
ALLOWED_PATH = path(full(ROOT), full(OU), full(ACCT))


def verdict(found: Guardrails, action: str = SCAN) -> Any:
    role = RolePolicies((parsed_task_policy(compliant_policy(), "v1"),))
    return evaluate(role, action, TABLE_ARN, {}, guardrails=found)


@pytest.mark.parametrize(
    ("scps", "decision", "reason"),
    [
        pytest.param(
            ALLOWED_PATH, Decision.ALLOWED, "*allowed by MLPlatformECSTaskPolicy*", id="full-access"
        ),
        pytest.param(
            path((*full(ROOT), scp("DenyScans", ROOT, DENY_SCANS)), full(OU), full(ACCT)),
            Decision.EXPLICIT_DENY,
            "dynamodb:Scan is explicitly denied by SCP DenyScans attached to the root, "
            'statement "NoScans"',
            id="deny-at-the-root",
        ),
        pytest.param(
            path(full(ROOT), (*full(OU), scp("DenyScans", OU, DENY_SCANS)), full(ACCT)),
            Decision.EXPLICIT_DENY,
            "dynamodb:Scan is explicitly denied by SCP DenyScans attached to OU Workloads, "
            'statement "NoScans"',
            id="deny-at-an-intermediate-ou",
        ),
        pytest.param(
            path(
                full(ROOT),
                (scp("OnlyS3", OU, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),),
                full(ACCT),
            ),
            Decision.GUARDRAIL_DENY,
            "dynamodb:Scan is not allowed by the organization's guardrails: none of the SCPs "
            "attached to OU Workloads allows it*",
            id="no-allow-at-one-level",
        ),
        pytest.param(
            path(full(ROOT), full(OU), ()),
            Decision.GUARDRAIL_DENY,
            f"*none of the SCPs attached to account {ACCOUNT} allows it*",
            id="no-scp-at-the-account",
        ),
        pytest.param(
            path(
                full(ROOT),
                (
                    scp(
                        "InUsEast1",
                        OU,
                        {
                            "Effect": "Allow",
                            "Action": "*",
                            "Resource": "*",
                            "Condition": {"StringEqualsX": {"aws:RequestedRegion": "us-east-1"}},
                        },
                    ),
                ),
                full(ACCT),
            ),
            Decision.UNDECIDED,
            "*could not be decided*SCP InUsEast1 attached to OU Workloads*",
            id="an-allow-that-might-apply-is-undecided",
        ),
    ],
)
def test_scps_in_the_verdict(scps: tuple[Level, ...], decision: Decision, reason: str) -> None:
    found = verdict(guardrails(scps))

    assert found.decision is decision
    assert fnmatch.fnmatch(found.reason, reason), found.reason


def test_the_management_account_is_not_bound_by_scps_or_rcps() -> None:
    denying = path((*full(ROOT), scp("DenyScans", ROOT, DENY_SCANS)), full(OU), full(ACCT))
    found = guardrails(denying, management=ACCOUNT)

    assert verdict(found).decision is Decision.ALLOWED
    assert gate(found, _request(SCAN)).notes == (
        f"account {ACCOUNT} is the organization's management account: SCPs and RCPs do not "
        "apply to it",
    )
    reading = Reading("checked", guardrails=found, organization_id="o-abc")
    assert "is the management account of o-abc: SCPs and RCPs do not apply" in reading.describe()


def test_an_rcp_deny_denies_a_service_rcps_cover() -> None:
    deny = {"Sid": "OnlyOrg", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}
    rcps = path(
        (rcp("RCPFullAWSAccess", ROOT, FULL_ACCESS), rcp("OnlyOrg", ROOT, deny)),
        (rcp("RCPFullAWSAccess", OU, FULL_ACCESS),),
        (rcp("RCPFullAWSAccess", ACCT, FULL_ACCESS),),
    )
    found = verdict(guardrails(ALLOWED_PATH, rcps))

    assert found.decision is Decision.EXPLICIT_DENY
    assert found.reason.startswith(
        "dynamodb:Scan is explicitly denied by RCP OnlyOrg attached to the root, "
        'statement "OnlyOrg"'
    )


def test_rcps_leave_a_service_they_do_not_cover_alone() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    rcps = path((rcp("DenyAll", ROOT, deny),), (), ())
    found = guardrails(ALLOWED_PATH, rcps)
    role = RolePolicies(
        (
            parsed_task_policy(
                task_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), "v1"
            ),
        )
    )

    verdict_ec2 = evaluate(role, "ec2:DescribeInstances", "*", {}, guardrails=found)

    assert verdict_ec2.decision is Decision.ALLOWED
    assert gate(found, _request("ec2:DescribeInstances")).notes == ("RCPs do not apply to ec2",)


def test_guardrails_cannot_allow_what_the_role_does_not() -> None:
    role = RolePolicies(
        (
            parsed_task_policy(
                task_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), "v1"
            ),
        )
    )

    found = evaluate(role, SCAN, TABLE_ARN, {}, guardrails=guardrails(ALLOWED_PATH))

    assert found.decision is Decision.IMPLICIT_DENY


def test_an_scp_condition_on_the_request_context() -> None:
    outside = {
        "Sid": "OnlyUsEast1",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}},
    }
    found = guardrails(path((*full(ROOT), scp("Regions", ROOT, outside)), full(OU), full(ACCT)))
    role = RolePolicies((parsed_task_policy(compliant_policy(), "v1"),))

    here = evaluate(role, SCAN, TABLE_ARN, {"aws:RequestedRegion": ["us-east-1"]}, guardrails=found)
    there = evaluate(
        role, SCAN, TABLE_ARN, {"aws:RequestedRegion": ["eu-west-1"]}, guardrails=found
    )

    assert (here.decision, there.decision) == (Decision.ALLOWED, Decision.EXPLICIT_DENY)


def _request(action: str) -> Request:
    return Request(action, TABLE_ARN, {})
