"""The organization's guardrails in a run: mock mode seeded from fixtures/guardrails/, live
mode against an organization on the moto server, the three --guardrails modes, and
--cross-check with IAM's simulator answered in recorded shape."""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    LIVE,
    REGION,
    MotoServer,
    action_id,
    compliant_policy,
    failed_ids,
    read_json,
    task_policy,
)

SCAN = "dynamodb:Scan"
DENY_SCANS = task_policy({"Sid": "NoScans", "Effect": "Deny", "Action": SCAN, "Resource": "*"})
ONLY_READS = task_policy(
    {
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
        "Resource": "*",
    }
)
RCP_DENY = task_policy(
    {"Sid": "NoScans", "Effect": "Deny", "Principal": "*", "Action": SCAN, "Resource": "*"}
)


def organization(
    pytester: pytest.Pytester,
    *,
    path: list[str],
    policies: list[dict[str, Any]],
    detach: tuple[str, ...] = (),
    management: str | None = None,
) -> None:
    """Write fixtures/guardrails/ with ``policies`` ({name, type, attach, document})."""
    folder = pytester.path / "fixtures" / "guardrails"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"path = {json.dumps(path)}", f"detach_full_aws_access = {json.dumps(list(detach))}"]
    if management:
        lines.insert(0, f'management_account = "{management}"')
    for policy in policies:
        name = policy["name"]
        (folder / f"{name}.json").write_text(json.dumps(policy["document"]))
        lines += [
            "",
            "[[policy]]",
            f'name = "{name}"',
            f'type = "{policy["type"]}"',
            f'attach = "{policy["attach"]}"',
            f'file = "{name}.json"',
        ]
    (folder / "organization.toml").write_text("\n".join(lines) + "\n")


def compliant(pytester: pytest.Pytester) -> str:
    path = pytester.path / "compliant.json"
    path.write_text(json.dumps(compliant_policy()))
    return "compliant.json"


# ------------------------------------------------------------------------------ mock


@pytest.mark.parametrize(
    ("layout", "failing", "reason"),
    [
        pytest.param(
            {
                "path": ["Workloads", "ML"],
                "policies": [
                    {"name": "DenyScans", "type": "scp", "attach": "root", "document": DENY_SCANS}
                ],
            },
            {SCAN},
            "dynamodb:Scan is explicitly denied by SCP DenyScans attached to the root, "
            'statement "NoScans"*',
            id="scp-deny-at-the-root",
        ),
        pytest.param(
            {
                "path": ["Workloads", "ML"],
                "policies": [
                    {
                        "name": "DenyScans",
                        "type": "scp",
                        "attach": "Workloads",
                        "document": DENY_SCANS,
                    }
                ],
            },
            {SCAN},
            "*explicitly denied by SCP DenyScans attached to OU Workloads*",
            id="scp-deny-at-an-intermediate-ou",
        ),
        pytest.param(
            {
                "path": ["Workloads", "ML"],
                "detach": ["ML"],
                "policies": [
                    {"name": "OnlyReads", "type": "scp", "attach": "ML", "document": ONLY_READS}
                ],
            },
            {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DescribeTable"},
            "*not allowed by the organization's guardrails: none of the SCPs attached to OU ML "
            "allows it*",
            id="no-allow-at-one-level",
        ),
        pytest.param(
            {
                "path": ["Workloads"],
                "policies": [
                    {"name": "NoScans", "type": "rcp", "attach": "account", "document": RCP_DENY}
                ],
            },
            {SCAN},
            f"*explicitly denied by RCP NoScans attached to account {ACCOUNT}*",
            id="rcp-deny",
        ),
    ],
)
def test_guardrails_in_mock_mode(
    suite: pytest.Pytester, layout: dict[str, Any], failing: set[str], reason: str
) -> None:
    organization(
        suite,
        path=layout["path"],
        policies=layout["policies"],
        detach=tuple(layout.get("detach", [])),
    )
    result = suite.runpytest("--iam-policy-file", compliant(suite))

    expected = {action_id(action) for action in failing}
    assert failed_ids(result) == expected | {
        "tests/test_ecs_task_dynamodb_permissions.py::TestECSTaskRoleDynamoDBPermissions::"
        "test_task_role_has_all_required_permissions"
    }
    entry = next(a for a in read_json(suite)["targets"][0]["actions"] if a["action"] in failing)
    assert fnmatch.fnmatch(entry["reason"], reason), entry["reason"]
    result.stdout.fnmatch_lines(["iam-compliance: guardrails: organization o-*, path o-*"])


def test_the_management_account_is_exempt(suite: pytest.Pytester) -> None:
    organization(
        suite,
        path=[],
        management=ACCOUNT,
        policies=[{"name": "DenyScans", "type": "scp", "attach": "root", "document": DENY_SCANS}],
    )
    result = suite.runpytest("--iam-policy-file", compliant(suite))

    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(
        [f"iam-compliance: guardrails: account {ACCOUNT} is the management account of o-*"]
    )
    assert read_json(suite)["targets"][0]["guardrails"]["status"] == "checked"


@pytest.mark.parametrize(
    ("args", "outcome", "line"),
    [
        pytest.param(
            [],
            {"passed": 10},
            "iam-compliance: guardrails (SCPs, RCPs): NOT checked: account 618574523116: the "
            "account is not a member of an AWS Organization",
            id="auto-without-an-organization",
        ),
        pytest.param(
            ["--guardrails", "off"],
            {"passed": 10},
            "iam-compliance: guardrails (SCPs, RCPs): off (--guardrails off)",
            id="off",
        ),
    ],
)
def test_modes_without_an_organization(
    suite: pytest.Pytester, args: list[str], outcome: dict[str, int], line: str
) -> None:
    result = suite.runpytest("--iam-policy-file", compliant(suite), *args)

    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines([line])


def test_off_leaves_a_denying_scp_out(suite: pytest.Pytester) -> None:
    organization(
        suite,
        path=["Workloads"],
        policies=[{"name": "DenyScans", "type": "scp", "attach": "root", "document": DENY_SCANS}],
    )

    suite.runpytest("--iam-policy-file", compliant(suite), "--guardrails", "off").assert_outcomes(
        passed=10
    )


def test_required_without_an_organization_cannot_check(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--guardrails", "required")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: *--guardrails required: the organization's guardrails of target default "
            "could not be read: account 618574523116: the account is not a member of an AWS "
            "Organization"
        ]
    )


def test_a_bad_mode_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-o", "iam_compliance_guardrails=sometimes")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: iam_compliance_guardrails (*) must be one of auto, off, required; got *"]
    )


# ------------------------------------------------------------------------------ live


MANAGEMENT = "000000000001"


@pytest.fixture
def member(moto_server: MotoServer) -> str:
    """An organization on the moto server with DenyScans on OU Workloads, and a member
    account in it holding the role (compliant) and the table; returns the account's id."""
    return moto_server.organization(DENY_SCANS, management=MANAGEMENT)


def env_file(
    pytester: pytest.Pytester,
    live: MotoServer,
    account: str,
    name: str,
    credentials: Any = None,
) -> str:
    """A target's .env file; ``credentials`` (botocore's) default to new ones for ``account``."""
    credentials = credentials or live.session(account).get_credentials()
    assert credentials is not None
    lines = {
        "AWS_ACCOUNT_ID": account,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_SESSION_TOKEN": credentials.token or "",
        "AWS_ENDPOINT_URL": live.url,
        "ORG_READ_ROLE_ARN": f"arn:aws:iam::{MANAGEMENT}:role/guardrails-reader",
    }
    path = pytester.path / f"{name}.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path.name


def test_an_scp_denies_in_live_mode_read_through_the_org_read_role(
    suite: pytest.Pytester, moto_server: MotoServer, member: str
) -> None:
    file = env_file(suite, moto_server, member, "member")
    result = suite.runpytest(*LIVE, "--iam-env-file", file)

    assert action_id(SCAN) in failed_ids(result)
    result.stdout.fnmatch_lines(
        [
            "iam-compliance: guardrails: organization o-*: * (read by arn:aws:sts::"
            f"{MANAGEMENT}:assumed-role/guardrails-reader/iam-compliance-guardrails)"
        ]
    )
    [target] = read_json(suite)["targets"]
    assert target["guardrails"]["read_by"].startswith(f"arn:aws:sts::{MANAGEMENT}:")
    assert [level["name"] for level in target["guardrails"]["levels"]] == [
        "Root",
        "Workloads",
        member,
    ]
    context = {c["key"]: c for c in target["request_context"]}
    assert context["aws:PrincipalOrgID"]["values"][0].startswith("o-")


def test_many_targets_in_one_account_read_the_organization_once(
    suite: pytest.Pytester, moto_server: MotoServer, member: str
) -> None:
    # One identity, three targets: the reader is shared by every target read through it.
    credentials = moto_server.session(member).get_credentials()
    files = [env_file(suite, moto_server, member, f"t{n}", credentials) for n in range(3)]
    args = [arg for name in files for arg in ("--iam-env-file", name)]
    moto_server.call("DELETE", "/_selftest/requests")

    suite.runpytest(*LIVE, *args)

    calls = Counter(a for a in moto_server.requests() if a.startswith("organizations:"))
    assert calls == Counter(
        {
            "organizations:DescribeOrganization": 1,
            "organizations:ListRoots": 1,
            "organizations:ListParents": 2,
            "organizations:DescribeOrganizationalUnit": 1,
            "organizations:ListPoliciesForTarget": 3,
            "organizations:DescribePolicy": 2,
        }
    )


# ----------------------------------------------------------------------- cross-check

#: Replaces the simulator call with answers shaped like IAM's, which moto cannot give.
SIMULATOR_PLUGIN = """
import importlib
from iam_compliance.aws.simulator import read_result

# By module name: pytester's in-process runs can leave a stale module as an attribute of
# the package, which "from package import module" would return.
checker = importlib.import_module("iam_compliance.pytest_plugin.checker")

ANSWERS = {answers!r}

def fake(iam, role_arn, actions, resource, entries):
    assert entries, "the request model's keys are passed"
    return [
        read_result(
            {{"EvalActionName": a, "EvalResourceName": resource,
              "EvalDecision": ANSWERS.get(a, "allowed"), "MatchedStatements": []}},
            resource,
        )
        for a in actions
    ]

def pytest_configure(config):
    original = checker.simulate
    checker.simulate = fake
    config.add_cleanup(lambda: setattr(checker, "simulate", original))
"""


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        pytest.param({}, {"passed": 10}, id="agree"),
        pytest.param({SCAN: "implicitDeny"}, {"passed": 8, "failed": 2}, id="disagree"),
    ],
)
def test_cross_check(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    answers: dict[str, str],
    outcome: dict[str, int],
) -> None:
    moto_server.seed(managed=compliant_policy())
    moto_server.use(monkeypatch)
    # A plugin module of its own name per test: pytester's in-process runs share modules.
    plugin = f"simulator_answers_{len(answers)}"
    (suite.path / f"{plugin}.py").write_text(SIMULATOR_PLUGIN.format(answers=answers))
    suite.syspathinsert()

    result = suite.runpytest(*LIVE, "--cross-check", "-p", plugin)

    result.assert_outcomes(**outcome)
    if answers:
        result.stdout.fnmatch_lines(
            [
                "dynamodb:Scan could not be decided: this suite says allowed (dynamodb:Scan is "
                "allowed by MLPlatformECSTaskPolicy v1, statement #2), IAM's policy simulator "
                "says implicitDeny (matched: no statement)*"
            ]
        )


def test_cross_check_is_live_only(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--cross-check")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --cross-check asks IAM's policy simulator, which exists only in live mode*"]
    )
