"""A live run reads each IAM entity once, however many tests run.

Requests are counted where they arrive: the self-test layer of the moto server.
"""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import EXPECTED, LIVE, TABLE_ARN, MotoServer, runbook_policy, task_policy


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
