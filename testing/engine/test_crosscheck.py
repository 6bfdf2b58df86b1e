"""The cross-check with IAM's policy simulator: agreement keeps a verdict, disagreement
makes it undecided with both answers."""

from __future__ import annotations

import pytest

from iam_compliance.engine.evaluate.crosscheck import Simulated, compare, context_entries
from iam_compliance.engine.evaluate.decision import Decision

from conftest import TABLE_ARN, runbook_assessment

SCAN = "dynamodb:Scan"
GET = "dynamodb:GetItem"


@pytest.mark.parametrize(
    ("action", "decision", "changed"),
    [
        pytest.param(GET, "allowed", False, id="both-allowed"),
        pytest.param(SCAN, "implicitDeny", False, id="both-implicit-deny"),
        pytest.param(GET, "implicitDeny", True, id="suite-allows-simulator-denies"),
        pytest.param(SCAN, "allowed", True, id="suite-denies-simulator-allows"),
        pytest.param(SCAN, "explicitDeny", True, id="implicit-against-explicit"),
    ],
)
def test_compare(action: str, decision: str, changed: bool) -> None:
    found = runbook_assessment()
    answer = Simulated(
        action, TABLE_ARN, decision, ("MLPlatformECSTaskPolicy (IAM Policy) line 14",)
    )

    compared = compare(found.verdicts, [answer], guardrails_read=True)

    before, after = found.verdicts[action], compared[action]
    if not changed:
        assert after == before
        return
    assert after.decision is Decision.UNDECIDED
    assert after.reason.startswith(
        f"{action} could not be decided: this suite says {before.decision.value} ("
    )
    assert f"IAM's policy simulator says {decision} (matched: MLPlatformECSTaskPolicy" in (
        after.reason
    )
    assert [(e.policy, e.statement) for e in after.undecided_by] == [
        ("IAM policy simulator", f"decision {decision}")
    ]
    # The other verdicts are untouched.
    assert {k: v for k, v in compared.items() if k != action} == {
        k: v for k, v in found.verdicts.items() if k != action
    }


def test_a_difference_the_simulator_is_known_for_is_explained() -> None:
    found = runbook_assessment()
    answer = Simulated(SCAN, TABLE_ARN, "allowed", (), organizations_allowed=False)

    [reason] = [
        v.reason
        for k, v in compare(found.verdicts, [answer], guardrails_read=False).items()
        if k == SCAN
    ]

    assert reason.endswith(
        "they may legitimately differ: the simulator includes the organization's SCPs, "
        "which this run did not read"
    )


def test_context_entries_carry_the_request_model_with_types() -> None:
    entries = {
        e["ContextKeyName"]: e for e in context_entries(runbook_assessment().request_context)
    }

    assert entries["aws:RequestedRegion"]["ContextKeyType"] == "string"
    assert entries["aws:CurrentTime"]["ContextKeyType"] == "date"
    assert entries["aws:EpochTime"]["ContextKeyType"] == "numeric"
    assert entries["aws:SecureTransport"] == {
        "ContextKeyName": "aws:SecureTransport",
        "ContextKeyValues": ["true"],
        "ContextKeyType": "boolean",
    }
