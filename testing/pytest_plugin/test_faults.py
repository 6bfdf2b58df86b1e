"""Transient faults, refused calls and failures half-way through a fix.

Faults come from the self-test layer in front of the moto server (testing/moto_server.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from conftest import EXPECTED, LIVE, POLICY_ARN, REQUIRED, ROLE, MotoServer, runbook_policy

#: The reads a run cannot do without: refused, the run stops (exit 4). The organization is
#: read only when it can be (--guardrails auto), and the table's encryption is then not
#: known (the table's state says why), so they are not among them.
READ_ACTIONS = sorted(
    action
    for action in EXPECTED
    if not action.startswith("organizations:") and action != "dynamodb:DescribeTable"
)


@pytest.fixture
def live(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto_server.seed()
    moto_server.use(monkeypatch)
    return moto_server


def outcome(result: pytest.RunResult) -> list[str]:
    """Each test's outcome and id from the short summary (-rA), without the message that
    pytest adds when it runs in CI (where it does not truncate the summary)."""
    return sorted(
        line.split(" - ", 1)[0] for line in result.outlines if line.startswith(("PASSED", "FAILED"))
    )


@pytest.mark.slow
def test_verdicts_survive_every_call_being_throttled_twice(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    baseline = suite.runpytest(*LIVE, "-rA")
    for action in (
        "sts:GetCallerIdentity",
        "iam:GetRole",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "dynamodb:ListTagsOfResource",
        "dynamodb:GetResourcePolicy",
        "dynamodb:DescribeTable",
        "organizations:DescribeOrganization",
    ):
        live.inject(action, "Throttling", times=2)
    live.call("DELETE", "/_selftest/requests")
    throttled = suite.runpytest(*LIVE, "-rA")
    assert outcome(throttled) == outcome(baseline)
    assert throttled.ret == baseline.ret == 1
    # each of the 10 reads was answered Throttling twice, then served
    assert len(live.requests()) == 3 * 10


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        pytest.param(
            "Throttling",
            "*iam:GetRole on *MLPlatformECSTaskRole failed after 5 attempt(s): Throttling: Rate*",
            id="throttled-always",
        ),
        pytest.param(
            "InternalError",
            "*iam:GetRole on *failed after 5 attempt(s): InternalError*",
            id="server-error-always",
        ),
        pytest.param(
            "drop",
            "*iam:GetRole: could not reach AWS after 5 attempt(s)*",
            id="connection-dropped-always",
        ),
    ],
)
def test_a_service_that_keeps_failing_ends_with_one_message(
    suite: pytest.Pytester, live: MotoServer, fault: str, message: str
) -> None:
    live.inject("iam:GetRole", fault)
    result = suite.runpytest(*LIVE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: target default: {message}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert Counter(live.requests())["iam:GetRole"] == 5


@pytest.mark.slow
@pytest.mark.parametrize("action", [pytest.param(a, id=a) for a in READ_ACTIONS])
def test_access_denied_names_the_action_the_checker_needs(
    suite: pytest.Pytester, live: MotoServer, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    # An inline policy, so that GetRolePolicy is called too.
    live.iam().put_role_policy(
        RoleName=ROLE,
        PolicyName="Extra",
        PolicyDocument=json.dumps(runbook_policy()),
    )
    live.inject(action, "AccessDenied")
    result = suite.runpytest(*LIVE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: target default: access denied: the identity running the checker needs "
            f"{action} on *"
        ]
    )


def test_a_refused_table_description_leaves_the_data_actions_undecided(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    """The table's encryption is then not known: whether its item actions need a customer
    managed key cannot be told, so they are undecided, naming the read; the run goes on,
    and DescribeTable's own verdict (it needs no key) stays as it was."""
    baseline = suite.runpytest(*LIVE, "-rA")
    live.inject("dynamodb:DescribeTable", "AccessDenied")
    live.call("DELETE", "/_selftest/requests")
    refused = suite.runpytest(*LIVE, "-rA")
    assert "dynamodb:DescribeTable" in live.requests()  # asked, and refused
    granted = ("GetItem", "PutItem", "UpdateItem")
    for name in granted:
        refused.stdout.fnmatch_lines(
            [
                f"*dynamodb:{name} could not be decided: whether dynamodb:{name} needs a KMS "
                "key cannot be told: the table's encryption is not known (access denied: the "
                "identity running the checker needs dynamodb:DescribeTable on *"
            ]
        )
    now_failing = {f"[dynamodb:{name}]" for name in granted}
    assert sorted(
        line.replace("PASSED", "FAILED") if line.endswith(tuple(now_failing)) else line
        for line in outcome(baseline)
    ) == outcome(refused)
    assert refused.ret == baseline.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize(
    ("mode", "exit_code", "line"),
    [
        pytest.param(
            "auto",
            pytest.ExitCode.TESTS_FAILED,
            "iam-compliance: guardrails (SCPs, RCPs): NOT checked: access denied: the identity "
            "running the checker needs organizations:DescribeOrganization on *",
            id="auto-says-not-checked",
        ),
        pytest.param(
            "required",
            pytest.ExitCode.USAGE_ERROR,
            "ERROR: target default: --guardrails required: the organization's guardrails of "
            "target default could not be read: access denied: the identity running the checker "
            "needs organizations:DescribeOrganization on *",
            id="required-stops-the-run",
        ),
    ],
)
def test_an_organization_that_cannot_be_read(
    suite: pytest.Pytester, live: MotoServer, mode: str, exit_code: int, line: str
) -> None:
    live.inject("organizations:DescribeOrganization", "AccessDenied")
    result = suite.runpytest(*LIVE, "--guardrails", mode)
    assert result.ret == exit_code
    (result.stderr if mode == "required" else result.stdout).fnmatch_lines([line + "*"])


def test_create_failing_after_delete_keeps_default_and_saves_deleted_document(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.five_versions()
    live.inject("iam:CreatePolicyVersion", "InternalError")
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --fix, target default: *creating the new version failed*the default "
            "version is unchanged (v5), but v1 had already been deleted to make room. Its "
            "document is saved in *remediation-*.json under .deleted_version.document; to "
            "restore it*aws iam create-policy-version --policy-arn " + POLICY_ARN + "*"
        ]
    )
    assert live.default_version()[0] == "v5"
    assert live.versions() == ["v2", "v3", "v4", "v5"]
    [path] = (suite.path / "reports").glob("remediation-*.json")
    record = json.loads(path.read_text())
    assert record["status"] == "failed"
    assert record["deleted_version"] == {"version_id": "v1", "document": runbook_policy()}


CHANGE_WHILE_PLANNING = """
import json

import pytest

from iam_compliance.aws.adapter import AwsAdapter

listed = []
original = AwsAdapter.list_versions


def list_versions(self, policy_arn):
    # The first listing, made while planning, comes right after another writer made a
    # new default version: the document this run read is no longer the default.
    if not listed:
        listed.append(policy_arn)
        arn = policy_arn
        document = json.loads(json.dumps(%s))
        self.iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )
    return original(self, policy_arn)


AwsAdapter.list_versions = list_versions
"""


def test_default_changed_between_reading_and_planning_is_planned_again(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    other = runbook_policy()
    other["Statement"].append(
        {"Sid": "AddedMeanwhile", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    )
    suite.makepyfile(change_while_planning=CHANGE_WHILE_PLANNING % repr(other))
    suite.syspathinsert()
    result = suite.runpytest_subprocess(*LIVE, "--fix", "-p", "change_while_planning")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "*note: planned again after a concurrent change: *the version listing names v2 "
            "as the default, but the document read is v1*",
            "*v3 is now the default (was v2)*",
        ]
    )
    version, document = live.default_version()
    assert version == "v3"
    # The fix was planned on the other writer's version, so its statement is kept.
    assert document["Statement"][:1] + document["Statement"][2:] == [
        other["Statement"][0],
        *other["Statement"][2:],
    ]
    assert set(REQUIRED) <= set(document["Statement"][1]["Action"])


def test_two_fixes_at_once_lose_nothing(suite: pytest.Pytester, live: MotoServer) -> None:
    live.five_versions()
    original = live.default_version()[1]
    command = [sys.executable, "-m", "pytest", *LIVE, "--fix", "-p", "no:cacheprovider"]
    runs = [
        subprocess.Popen(
            command, cwd=suite.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n\n".join(outputs)
    versions = live.versions()
    assert len(versions) <= 5
    _, document = live.default_version()
    # The default keeps every original statement, plus the fix.
    assert document["Statement"][0] == original["Statement"][0]
    assert document["Statement"][2] == original["Statement"][2]
    assert set(REQUIRED) <= set(document["Statement"][1]["Action"])
    # Every version that is gone was saved by a run before it was deleted.
    saved: dict[str, Any] = {}
    for path in (suite.path / "reports").glob("remediation-*.json"):
        deleted = json.loads(path.read_text())["deleted_version"]
        if deleted:
            saved[deleted["version_id"]] = deleted["document"]
    for gone in {"v1", "v2", "v3", "v4", "v5"} - set(versions):
        assert gone in saved
