"""iam:SimulatePrincipalPolicy, read page by page (moto has no simulator: botocore's
Stubber answers with responses shaped like IAM's)."""

from __future__ import annotations

import dataclasses

from botocore.stub import Stubber

from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Sessions
from iam_compliance.aws.simulator import simulate
from iam_compliance.engine.target import Credentials

from conftest import ROLE_ARN, TABLE_ARN, TARGET


def result(action: str, decision: str, line: int | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "EvalActionName": action,
        "EvalResourceName": TABLE_ARN,
        "EvalDecision": decision,
        "MatchedStatements": [],
    }
    if line is not None:
        found["MatchedStatements"] = [
            {
                "SourcePolicyId": "MLPlatformECSTaskPolicy",
                "SourcePolicyType": "IAM Policy",
                "StartPosition": {"Line": line, "Column": 9},
                "EndPosition": {"Line": line + 9, "Column": 10},
            }
        ]
    return found


def test_every_page_of_the_simulation_is_read() -> None:
    target = dataclasses.replace(TARGET, credentials=Credentials("AKIDSTUB", "stub-secret"))
    adapter = AwsAdapter(Sessions().live(target))
    entries = [
        {
            "ContextKeyName": "aws:RequestedRegion",
            "ContextKeyValues": ["us-east-1"],
            "ContextKeyType": "string",
        }
    ]
    expected = {
        "PolicySourceArn": ROLE_ARN,
        "ActionNames": ["dynamodb:GetItem", "dynamodb:Scan"],
        "ResourceArns": [TABLE_ARN],
        "ContextEntries": entries,
    }
    with Stubber(adapter.iam) as iam:
        iam.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [result("dynamodb:GetItem", "allowed", 14)],
                "IsTruncated": True,
                "Marker": "m2",
            },
            expected,
        )
        iam.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [result("dynamodb:Scan", "implicitDeny")], "IsTruncated": False},
            {**expected, "Marker": "m2"},
        )
        found = simulate(
            adapter.iam, ROLE_ARN, ["dynamodb:GetItem", "dynamodb:Scan"], TABLE_ARN, entries
        )
        iam.assert_no_pending_responses()

    assert [(s.action, s.decision, s.matched) for s in found] == [
        ("dynamodb:GetItem", "allowed", ("MLPlatformECSTaskPolicy (IAM Policy) line 14",)),
        ("dynamodb:Scan", "implicitDeny", ()),
    ]
