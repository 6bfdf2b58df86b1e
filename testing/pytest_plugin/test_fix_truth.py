"""--fix tells the truth about the account: lost answers, another writer, failed runs.

IAM's writes are not idempotent, and an answer can be lost after IAM applied the write
(the ``lost`` fault of testing/moto_server.py lets moto apply the request, then drops the
connection). Whatever happens, the run must not write twice, must not undo someone else's
change, and its messages, exit code, reports and record must state what the account holds.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import LIVE, POLICY_ARN, REQUIRED, MotoServer, compliant_policy, runbook_policy


@pytest.fixture
def live(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto_server.use(monkeypatch)
    return moto_server


def records(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text())
        for path in sorted((pytester.path / "reports").glob("remediation-*.json"))
    ]


def report(pytester: pytest.Pytester) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (pytester.path / "reports" / "compliance.json").read_text()
    )
    return document


def test_lost_answer_to_create_makes_no_second_version(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    live.inject("iam:CreatePolicyVersion", "lost", times=1)
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)
    assert Counter(live.requests())["iam:CreatePolicyVersion"] == 1
    assert live.versions() == ["v1", "v2"]
    assert live.default_version()[0] == "v2"
    [record] = records(suite)
    assert record["status"] == "applied"
    assert record["new_version"]["version_id"] == "v2"
    assert "found v2 holding this run's document" in record["notes"][0]
    result.stdout.fnmatch_lines(["*v2 is now the default (was v1)*", "*note: the answer to*"])
    document = report(suite)
    assert (document["exit_status"], document["compliant"]) == (0, True)
    assert document["targets"][0]["remediation"]["record"]["new_version"]["version_id"] == "v2"


def test_lost_answer_to_delete_is_not_blamed_on_someone_else(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    live.five_versions()
    live.inject("iam:DeletePolicyVersion", "lost", times=1)
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)
    assert "someone else" not in result.stdout.str() + result.stderr.str()
    assert live.versions() == ["v2", "v3", "v4", "v5", "v6"]
    assert live.default_version()[0] == "v6"
    [record] = records(suite)
    assert record["status"] == "applied"
    assert record["deleted_version"]["version_id"] == "v1"
    assert "deleting v1 was lost" in record["notes"][0]


@pytest.mark.slow
def test_lost_answer_to_the_rollback_says_it_rolled_back(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    # Verification cannot read the new version, so the fix is rolled back; the answer to
    # the roll-back is lost, though IAM applied it.
    live.inject("iam:GetPolicyVersion", "AccessDenied", skip=1)
    live.inject("iam:SetDefaultPolicyVersion", "lost", times=1)
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --fix, target default: *rolled back, v1 is the default*"])
    live.call("DELETE", "/_selftest/faults")
    assert live.default_version()[0] == "v1"
    assert Counter(live.requests())["iam:SetDefaultPolicyVersion"] == 1
    [record] = records(suite)
    assert record["status"] == "rolled back"


ANOTHER_WRITER = """
import json

from iam_compliance.aws.adapter import AwsAdapter

original = AwsAdapter.create_default_version


def create_default_version(self, policy_arn, document):
    created = original(self, policy_arn, document)
    # Right after this run's version, a third party makes its own the default.
    theirs = json.loads(json.dumps(document))
    theirs["Statement"].append(
        {"Sid": "TheirOwn", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    )
    self.iam.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(theirs), SetAsDefault=True
    )
    return created


AwsAdapter.create_default_version = create_default_version
"""


@pytest.mark.slow
def test_rollback_never_displaces_another_writers_version(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    live.inject("iam:GetPolicyVersion", "AccessDenied", skip=1)  # verification fails
    suite.makepyfile(another_writer=ANOTHER_WRITER)
    suite.syspathinsert()
    result = suite.runpytest_subprocess(*LIVE, "--fix", "-p", "another_writer")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --fix, target default: *v2 did not verify*not rolled back, because the "
            "default is now v3, not this run's v2*the versions are v1, v2, v3*"
        ]
    )
    live.call("DELETE", "/_selftest/faults")
    version, document = live.default_version()
    assert version == "v3"
    assert document["Statement"][-1]["Sid"] == "TheirOwn"
    assert "iam:SetDefaultPolicyVersion" not in live.requests()
    [record] = records(suite)
    assert record["status"] == "not rolled back"
    assert record["account_state"]["default_version"] == "v3"


def test_failed_fix_after_a_compliant_run_rewrites_every_report(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed(managed=compliant_policy())
    suite.runpytest(*LIVE).assert_outcomes(passed=10)
    assert report(suite)["compliant"] is True
    # The policy loses the actions; then a --fix whose write keeps failing.
    live.iam().create_policy_version(
        PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(runbook_policy()), SetAsDefault=True
    )
    live.inject("iam:CreatePolicyVersion", "InternalError")
    live.call("DELETE", "/_selftest/requests")
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --fix, target default: *creating the new version failed*"])
    # A 500 may hide an applied write: sent once, then read back, never resent.
    assert Counter(live.requests())["iam:CreatePolicyVersion"] == 1
    document = report(suite)
    assert (document["exit_status"], document["compliant"]) == (4, False)
    assert "creating the new version failed" in document["error"]["message"]
    assert "the default version is unchanged (v2)" in document["error"]["message"]
    assert_reports_say_could_not_check(suite, "creating the new version failed")


def assert_reports_say_could_not_check(pytester: pytest.Pytester, why: str) -> None:
    folder = pytester.path / "reports"
    suite = ET.parse(folder / "compliance.xml").getroot().find("testsuite")
    assert suite is not None
    [case] = suite.findall("testcase")
    error = case.find("error")
    assert error is not None
    assert why in (error.text or "")
    assert (suite.attrib["tests"], suite.attrib["errors"]) == ("1", "1")
    page = Path(folder / "compliance.html").read_text()
    assert "COULD NOT CHECK" in page
    assert why in page


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        pytest.param("no-role", "iam:GetRole", id="missing-role"),
        pytest.param("no-credentials", "no AWS credentials found", id="no-credentials"),
    ],
)
def test_could_not_check_reports_say_why(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    why: str,
) -> None:
    if setup == "no-role":
        moto_server.use(monkeypatch)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    result = suite.runpytest(*LIVE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    document = report(suite)
    assert (document["exit_status"], document["compliant"], document["targets"]) == (4, False, [])
    assert why in document["error"]["message"]
    assert_reports_say_could_not_check(suite, why)


def test_shared_policy_is_refused_unless_asked(suite: pytest.Pytester, live: MotoServer) -> None:
    live.seed()
    iam = live.iam()
    iam.create_role(RoleName="OtherRole", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName="OtherRole", PolicyArn=POLICY_ARN)
    iam.create_user(UserName="batch")
    iam.attach_user_policy(UserName="batch", PolicyArn=POLICY_ARN)

    refused = suite.runpytest(*LIVE, "--fix")
    assert refused.ret == pytest.ExitCode.TESTS_FAILED
    refused.stdout.fnmatch_lines(
        [
            "target default: fix refused, nothing written",
            "  refused: MLPlatformECSTaskPolicy is also attached to role/OtherRole, user/batch;*"
            "--fix-shared-policy*",
        ]
    )
    assert live.versions() == ["v1"]
    dry = suite.runpytest(*LIVE, "--fix-dry-run")
    dry.stdout.fnmatch_lines(["  the policy is also attached to: role/OtherRole, user/batch"])
    plan = report(suite)["targets"][0]["remediation"]["plan"]
    assert plan["shared_with"] == ["role/OtherRole", "user/batch"]

    fixed = suite.runpytest(*LIVE, "--fix", "--fix-shared-policy")
    fixed.assert_outcomes(passed=10)
    fixed.stdout.fnmatch_lines(["  also changed for: role/OtherRole, user/batch"])
    assert live.versions() == ["v1", "v2"]
    assert set(REQUIRED) <= set(live.default_version()[1]["Statement"][1]["Action"])


def test_policy_with_a_path_is_found_by_the_arn_the_role_has(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed(attach=False)
    iam = live.iam()
    iam.delete_policy(PolicyArn=POLICY_ARN)
    arn = iam.create_policy(
        PolicyName="MLPlatformECSTaskPolicy",
        Path="/team/",
        PolicyDocument=json.dumps(runbook_policy()),
    )["Policy"]["Arn"]
    assert arn.endswith(":policy/team/MLPlatformECSTaskPolicy")
    iam.attach_role_policy(RoleName="MLPlatformECSTaskRole", PolicyArn=arn)

    checked = suite.runpytest(*LIVE, "-rf")
    checked.assert_outcomes(passed=6, failed=4)  # only the three missing actions fail
    assert report(suite)["targets"][0]["policy_arn"] == arn
    fixed = suite.runpytest(*LIVE, "--fix")
    fixed.assert_outcomes(passed=10)
    fixed.stdout.fnmatch_lines([f"  {arn}: v2 is now the default (was v1)*"])
    [record] = records(suite)
    assert record["policy_arn"] == arn


@pytest.mark.slow
def test_a_fix_left_unverified_as_the_default_is_not_reported_compliant(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    # The five verification reads fail, and so does the roll-back; afterwards the account
    # reads fine, and this run's version, still the default, makes the role compliant.
    live.inject("iam:GetPolicyVersion", "AccessDenied", skip=1, times=5)
    live.inject("iam:SetDefaultPolicyVersion", "AccessDenied", times=1)
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --fix, target default: *v2 is still the default. Run: aws iam "
            "set-default-policy-version *--version-id v1*"
        ]
    )
    assert live.default_version()[0] == "v2"
    document = report(suite)
    assert (document["exit_status"], document["compliant"]) == (4, False)
    assert "v2 is still the default" in document["error"]["message"]


@pytest.mark.slow
def test_a_throttled_write_is_sent_again_and_made_once(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed()
    live.inject("iam:CreatePolicyVersion", "Throttling", times=2)  # refused: nothing applied
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)
    assert Counter(live.requests())["iam:CreatePolicyVersion"] == 3
    assert live.versions() == ["v1", "v2"]
