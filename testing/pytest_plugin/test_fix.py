"""--fix and --fix-dry-run against a moto server on 127.0.0.1 (``--aws-mode live``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    LIVE,
    POLICY_ARN,
    REGION,
    REQUIRED,
    TABLE_ARN,
    MotoServer,
    compliant_policy,
    runbook_policy,
    task_policy,
)


def records(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    folder = pytester.path / "reports"
    paths = sorted(folder.glob("remediation-*.json")) if folder.is_dir() else []
    return [json.loads(Path(p).read_text()) for p in paths]


def dynamodb_actions(document: dict[str, Any]) -> list[str]:
    return [
        action
        for statement in document["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        if action.startswith("dynamodb:")
    ]


@pytest.fixture
def live(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto_server.use(monkeypatch)
    return moto_server


def test_fix_adds_the_missing_actions_and_keeps_everything_else(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)
    # The runbook's own verification: get-policy, then get-policy-version of the default.
    version, document = live.default_version()
    assert version == "v2"
    assert sorted(dynamodb_actions(document)) == sorted(REQUIRED)
    before = runbook_policy()
    assert document["Statement"][0] == before["Statement"][0]  # S3, unchanged
    assert document["Statement"][2] == before["Statement"][2]  # Logs, unchanged
    assert document["Statement"][1]["Resource"] == TABLE_ARN
    [record] = records(suite)
    assert record["status"] == "applied"
    assert record["account"] == ACCOUNT
    assert record["policy_arn"] == POLICY_ARN
    assert record["previous_version"] == {"version_id": "v1", "document": before}
    assert record["new_version"]["version_id"] == "v2"
    assert record["new_version"]["document"] == document
    assert record["deleted_version"] is None
    # A live fix through AWS_ENDPOINT_URL: the record says so, and its command goes there.
    assert (record["mode"], record["region"], record["endpoint_url"]) == ("live", REGION, live.url)
    assert record["rollback_command"] == (
        f"aws iam set-default-policy-version --policy-arn {POLICY_ARN} --version-id v1 "
        f"--endpoint-url {live.url}"
    )
    assert '+                "dynamodb:Scan",' in record["diff"]
    result.stdout.fnmatch_lines(
        [
            "target default: fixed",
            f"  {POLICY_ARN}: v2 is now the default (was v1), adding dynamodb:Scan, "
            "dynamodb:Query, dynamodb:DescribeTable",
            f"  to undo: aws iam set-default-policy-version --policy-arn {POLICY_ARN} "
            f"--version-id v1 --endpoint-url {live.url}",
        ]
    )


def test_five_versions_deletes_the_oldest_non_default_saving_it_first(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    iam = live.iam()
    for sid in ("Two", "Three", "Four", "Five"):
        document = runbook_policy()
        document["Statement"][0]["Sid"] = sid
        iam.create_policy_version(PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(document))
    iam.set_default_policy_version(PolicyArn=POLICY_ARN, VersionId="v3")
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)
    assert live.versions() == ["v2", "v3", "v4", "v5", "v6"]
    assert live.default_version()[0] == "v6"
    [record] = records(suite)
    assert record["deleted_version"] == {"version_id": "v1", "document": runbook_policy()}
    assert record["previous_version"]["version_id"] == "v3"
    assert record["previous_version"]["document"]["Statement"][0]["Sid"] == "Three"
    assert live.default_version()[1]["Statement"][0]["Sid"] == "Three"


def test_compliant_role_gets_no_new_version(suite: pytest.Pytester, live: MotoServer) -> None:
    live.seed(managed=compliant_policy())
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*nothing to fix*"])
    assert live.versions() == ["v1"]
    assert records(suite) == []


def test_second_fix_changes_nothing(suite: pytest.Pytester, live: MotoServer) -> None:
    live.seed()
    suite.runpytest(*LIVE, "--fix").assert_outcomes(passed=10)
    second = suite.runpytest(*LIVE, "--fix")
    second.assert_outcomes(passed=10)
    second.stdout.fnmatch_lines(["*nothing to fix*"])
    assert live.versions() == ["v1", "v2"]
    assert len(records(suite)) == 1


@pytest.mark.parametrize(
    ("deny_in", "blocker"),
    [
        pytest.param(
            "inline", "*dynamodb:Scan*explicitly denied by inline policy NoScan*", id="deny"
        ),
        pytest.param(
            "boundary", "*dynamodb:Scan*permissions boundary MLPlatformBoundary*", id="boundary"
        ),
    ],
)
def test_blocked_action_is_refused_and_nothing_written(
    suite: pytest.Pytester, live: MotoServer, deny_in: str, blocker: str
) -> None:
    no_scan = task_policy({"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"})
    everything_but_scan = task_policy(
        {"Effect": "Allow", "NotAction": "dynamodb:Scan", "Resource": "*"}
    )
    if deny_in == "inline":
        live.seed(inline={"NoScan": no_scan})
    else:
        live.seed(boundary=everything_but_scan)
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["target default: fix refused, nothing written", blocker])
    assert live.versions() == ["v1"]
    assert records(suite) == []


def test_wrong_account_is_refused_and_nothing_written(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed(account="111122223333")
    moto_server.use(monkeypatch, account="111122223333")
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *belong to account 111122223333*refusing*"])
    assert moto_server.versions(
        arn="arn:aws:iam::111122223333:policy/MLPlatformECSTaskPolicy", account="111122223333"
    ) == ["v1"]
    assert records(suite) == []


def test_dry_run_shows_the_plan_and_writes_nothing(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    result = suite.runpytest(*LIVE, "--fix-dry-run")
    result.assert_outcomes(passed=6, failed=4)
    result.stdout.fnmatch_lines(
        [
            "target default: plan (dry run, nothing written)",
            "  would add dynamodb:Scan, dynamodb:Query, dynamodb:DescribeTable to statement #2*",
            "  no version would be deleted",
            "  new document:",
            "  diff:",
            "    --- MLPlatformECSTaskPolicy v1 (current default)",
            "    +++ MLPlatformECSTaskPolicy (proposed new version)",
            '*+                "dynamodb:DescribeTable"*',
        ]
    )
    assert live.versions() == ["v1"]
    assert records(suite) == []


@pytest.mark.slow
def test_failed_verification_rolls_back(suite: pytest.Pytester, live: MotoServer) -> None:
    live.seed()
    # The first read succeeds; every read after the new version is created fails, so the
    # fix cannot be verified.
    live.inject("iam:GetPolicyVersion", "AccessDenied", skip=1)
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --fix, target default: *did not verify*rolled back, v1 is the default again*"]
    )
    live.call("DELETE", "/_selftest/faults")
    assert live.default_version()[0] == "v1"
    [record] = records(suite)
    assert record["status"] == "rolled back"


def test_fix_in_mock_mode_previews_the_fix_end_to_end(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--fix")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["iam-compliance: MOCK mode*", "target default: fixed"])
