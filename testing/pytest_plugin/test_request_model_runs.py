"""Issue 10 in whole runs: fixes that never widen, index fixes, requests, reports, bad input.

Live mode runs against the moto server on 127.0.0.1; mock mode against the embedded account.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from typing import Any

import pytest

from conftest import (
    CLASS,
    LIVE,
    ONE_POLICY,
    ROLE_ARN,
    TABLE_ARN,
    VPC_ENDPOINT,
    MotoServer,
    ServerAccount,
    compliant_policy,
    runbook_policy,
    task_policy,
    write_policy,
)

JOBS = ["dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable"]
BY_STATUS = f"{TABLE_ARN}/index/by-status"


def guarded(condition: dict[str, Any]) -> dict[str, Any]:
    """The runbook's policy plus Scan, Query and DescribeTable on the table under ``condition``."""
    jobs = {
        "Sid": "Jobs",
        "Effect": "Allow",
        "Action": JOBS,
        "Resource": TABLE_ARN,
        "Condition": condition,
    }
    return task_policy(*runbook_policy()["Statement"], jobs)


def read_json(pytester: pytest.Pytester) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (pytester.path / "reports" / "compliance.json").read_text()
    )
    return document


def index_requirements(*resources: str) -> str:
    """required_actions.toml: Query on the table, and on each of ``resources``."""
    entries = ['[[action]]\nname = "dynamodb:Query"\nreason = "Query jobs"\n']
    entries += [
        f'[[action]]\nname = "dynamodb:Query"\nreason = "Query {r}"\nresource = "{r}"\n'
        for r in resources
    ]
    return "\n".join(entries)


# --- --fix never widens a guarded grant --------------------------------------------------

GUARDS = [
    pytest.param(
        {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        "aws:RequestedRegion is eu-west-1; this request's aws:RequestedRegion is us-east-1",
        "aws:RequestedRegion",
        id="region-guard",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        f"aws:SourceVpce is {VPC_ENDPOINT}; this request carries no aws:SourceVpce",
        "aws:SourceVpce",
        id="vpc-endpoint-guard",
    ),
]


def refusal_lines(condition_text: str, key: str) -> list[str]:
    """What the terminal says, for each guarded action, when the fix is refused."""
    return [
        f"  refused: {action} cannot be granted by changing MLPlatformECSTaskPolicy: "
        f'MLPlatformECSTaskPolicy v1, statement "Jobs" grants it only when {condition_text}. '
        "--fix will not add a grant without that condition. If the containers' requests do "
        f"meet it, declare {key} in fixtures/request_context.toml (or --iam-context {key}=...) "
        'and run again; otherwise change statement "Jobs" of MLPlatformECSTaskPolicy v1 yourself'
        for action in JOBS
    ]


@pytest.mark.slow
@pytest.mark.parametrize("option", ["--fix", "--fix-dry-run"])
@pytest.mark.parametrize(("condition", "condition_text", "key"), GUARDS)
def test_live_fix_refuses_to_widen_a_guarded_grant(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    condition: dict[str, Any],
    condition_text: str,
    key: str,
) -> None:
    moto_server.seed(managed=guarded(condition))
    moto_server.use(monkeypatch)
    before = moto_server.versions(), moto_server.default_version()

    result = suite.runpytest(*LIVE, option)

    assert result.ret == 1
    assert (moto_server.versions(), moto_server.default_version()) == before == (["v1"], before[1])
    head = "plan (dry run, nothing written)" if option == "--fix-dry-run" else "fix refused"
    result.stdout.fnmatch_lines([f"target default: {head}*", *refusal_lines(condition_text, key)])
    [target] = read_json(suite)["targets"]
    remediation = target["remediation"]
    assert remediation["status"] == ("dry_run" if option == "--fix-dry-run" else "refused")
    assert [b["action"] for b in remediation["plan"]["blocked"]] == JOBS
    assert remediation["record_path"] is None
    assert not list((suite.path / "reports").glob("remediation-*.json"))


@pytest.mark.parametrize(("condition", "condition_text", "key"), GUARDS)
def test_mock_fix_refuses_to_widen_a_guarded_grant(
    suite: pytest.Pytester, condition: dict[str, Any], condition_text: str, key: str
) -> None:
    path = write_policy(suite, guarded(condition))

    result = suite.runpytest("--iam-policy-file", str(path), "--fix")

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["target default: fix refused, nothing written", *refusal_lines(condition_text, key)]
    )
    assert read_json(suite)["targets"][0]["remediation"]["status"] == "refused"


def test_declaring_the_guarded_key_makes_the_fix_unneeded(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The declared endpoint exists (its policy is then part of the request): moto names it.
    endpoint = ServerAccount(moto_server).endpoint(service="dynamodb")
    moto_server.seed(managed=guarded({"StringEquals": {"aws:SourceVpce": endpoint}}))
    moto_server.use(monkeypatch)

    result = suite.runpytest(*LIVE, "--fix", "--iam-context", f"aws:SourceVpce={endpoint}")

    assert result.ret == 0
    assert moto_server.versions() == ["v1"]
    result.stdout.fnmatch_lines(["target default: nothing to fix*"])


# --- --fix on an index requirement --------------------------------------------------------


@pytest.mark.parametrize("index", ["index/by-status", "index/*"])
def test_live_fix_adds_one_statement_for_exactly_the_index(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, index: str
) -> None:
    write_policy(suite, index_requirements(index), "fixtures/required_actions.toml")
    original = compliant_policy()
    moto_server.seed(managed=original)
    moto_server.use(monkeypatch)

    result = suite.runpytest(*LIVE, "--fix", "-v")

    # the role passes once patched: every test, least privilege included
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [f"*test_required_action_is_allowed[[]dynamodb:Query@{index}] PASSED*"]
    )
    assert moto_server.versions() == ["v1", "v2"]
    version, document = moto_server.default_version()
    assert version == "v2"
    assert document["Statement"][:-1] == original["Statement"]
    assert document["Statement"][-1]["Effect"] == "Allow"
    assert document["Statement"][-1]["Action"] == ["dynamodb:Query"]
    assert document["Statement"][-1]["Resource"] == f"{TABLE_ARN}/{index}"
    assert "Condition" not in document["Statement"][-1]


def test_index_requirements_are_collected_as_action_at_resource(suite: pytest.Pytester) -> None:
    write_policy(
        suite, index_requirements("index/by-status", "index/*"), "fixtures/required_actions.toml"
    )

    result = suite.runpytest("--collect-only", "-q")

    assert [line for line in result.outlines if "test_required_action_is_allowed" in line] == [
        f"{CLASS}::test_required_action_is_allowed[dynamodb:Query]",
        f"{CLASS}::test_required_action_is_allowed[dynamodb:Query@index/by-status]",
        f"{CLASS}::test_required_action_is_allowed[dynamodb:Query@index/*]",
    ]


# --- requests per live target --------------------------------------------------------------


@pytest.mark.parametrize(
    "requirements",
    [
        pytest.param(None, id="the-suite-s-six"),
        pytest.param(index_requirements("index/by-status", "index/*"), id="on-indexes-too"),
    ],
)
def test_a_live_target_costs_exactly_the_table_reads_more(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    requirements: str | None,
) -> None:
    if requirements is not None:
        write_policy(suite, requirements, "fixtures/required_actions.toml")
    moto_server.seed(
        role_tags={"project": "ml-jobs"},
        table_tags={"owner": "ml"},
        table_policy=task_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_ARN},
                "Action": "dynamodb:Scan",
                "Resource": TABLE_ARN,
            }
        ),
    )
    moto_server.use(monkeypatch)
    moto_server.call("DELETE", "/_selftest/requests")

    suite.runpytest(*LIVE)

    assert Counter(moto_server.requests()) == ONE_POLICY
    assert sum(ONE_POLICY.values()) == 10
    moto_server.call("DELETE", "/_selftest/requests")
    suite.runpytest(*LIVE, "--collect-only")
    assert moto_server.requests() == []


# --- every report lists the context keys used ----------------------------------------------


def test_every_report_lists_the_request_context_with_values_and_sources(
    suite: pytest.Pytester,
) -> None:
    write_policy(
        suite, f'[context]\n"aws:SourceVpce" = "{VPC_ENDPOINT}"\n', "fixtures/request_context.toml"
    )
    path = write_policy(suite, guarded({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))

    result = suite.runpytest("--iam-policy-file", str(path))

    region = "aws:RequestedRegion = us-east-1 (target region)"
    result.stdout.fnmatch_lines(["  request context the verdicts used:", f"    {region}"])
    [target] = read_json(suite)["targets"]
    scan = next(a for a in target["actions"] if a["id"] == "dynamodb:Scan")
    assert scan["context"] == [
        {"key": "aws:RequestedRegion", "values": ["us-east-1"], "source": "target region"}
    ]
    declared = {c["key"]: c for c in target["request_context"]}["aws:SourceVpce"]
    assert declared == {
        "key": "aws:SourceVpce",
        "values": [VPC_ENDPOINT],
        "source": str(suite.path / "fixtures" / "request_context.toml"),
    }
    page = (suite.path / "reports" / "compliance.html").read_text()
    found = re.search(r'data-jsonblob="([^"]*)"', page)
    assert found
    rows = json.loads(html.unescape(found.group(1)))["tests"]
    [row] = rows[f"{CLASS}::test_required_action_is_allowed[dynamodb:Scan]"]
    details = html.unescape(
        "".join(x["content"] for x in row["extras"] if x["format_type"] == "html")
    )
    assert f"<p>Request context it used:</p><ul><li>{region}</li></ul>" in details
    summary = html.unescape(page[: page.index("run-count")])
    assert "Request context (" in summary
    assert (
        f"<tr><td><code>aws:PrincipalArn</code></td><td>{ROLE_ARN}</td><td>role ARN</td></tr>"
        in summary
    )
    assert (
        f"<tr><td><code>aws:SourceVpce</code></td><td>{VPC_ENDPOINT}</td>"
        f"<td>{declared['source']}</td></tr>" in summary
    )


# --- input the embedded account or the request model refuses --------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "fixtures/request_context.toml",
            "[context\n",
            "*fixtures/request_context.toml: not valid TOML: *",
            id="context-not-toml",
        ),
        pytest.param(
            "fixtures/request_context.toml",
            '[context]\n"aws:SourceVpce" = 3\n',
            "*fixtures/request_context.toml: [[]context] aws:SourceVpce = 3: expected "
            '"service:Key"*',
            id="context-value-not-a-string",
        ),
        pytest.param(
            "fixtures/tags.toml",
            "[role]\nproject = 1\n",
            '*fixtures/tags.toml: [[]role] must hold key = "value" pairs',
            id="tag-not-a-string",
        ),
        pytest.param(
            "fixtures/resources.toml",
            '[[bucket]]\nname = "${S3_BUCKET_NAME}"\nencryption = "aws:kmz"\n',
            "*fixtures/resources.toml: [[][[]bucket]] #1 (ml-platform-artifacts): encryption "
            'must be "AES256", "aws:kms" or "none", got *aws:kmz*',
            id="resources-layout-invalid",
        ),
        pytest.param(
            "fixtures/table_resource_policy.json",
            json.dumps(
                task_policy(
                    {
                        "Effect": "allow",
                        "Principal": "*",
                        "Action": "dynamodb:Scan",
                        "Resource": TABLE_ARN,
                    }
                )
            ),
            "*fixtures/table_resource_policy.json: statement #1: Effect must be "
            '"Allow" or "Deny", got "allow"',
            id="table-policy-invalid",
        ),
        pytest.param(
            "policy.json",
            json.dumps(
                task_policy(
                    {
                        "Effect": "Allow",
                        "Action": "dynamodb:Scan",
                        "Resource": TABLE_ARN.replace("arn:aws:", "arn:AWS:"),
                    }
                )
            ),
            "target default: --iam-policy-file *policy.json: the mock account refuses it as "
            'IAM would (MalformedPolicyDocument: Partition "AWS" is not valid*); fix the document',
            id="policy-file-iam-refuses",
        ),
    ],
)
def test_mock_input_problems_stop_with_one_message(
    suite: pytest.Pytester, name: str, content: str, message: str
) -> None:
    write_policy(suite, content, name)
    policy = suite.path / "policy.json"
    args = ["--iam-policy-file", str(policy)] if policy.exists() else []

    result = suite.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output


def test_live_table_policy_access_denied_is_exit_4_naming_the_action(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed()
    moto_server.use(monkeypatch)
    moto_server.inject("dynamodb:GetResourcePolicy", "AccessDenied")

    result = suite.runpytest(*LIVE)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: target default: access denied: the identity running the checker needs "
            f"dynamodb:GetResourcePolicy on {TABLE_ARN}*"
        ]
    )


def test_live_table_that_does_not_exist_is_exit_4_naming_it(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The verdicts are for requests to the table: without it there is nothing to judge.
    moto_server.seed(table=False)
    moto_server.use(monkeypatch)

    result = suite.runpytest(*LIVE)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: target default: dynamodb:ListTagsOfResource {TABLE_ARN}: the table does "
            "not exist (*); check DYNAMODB_TABLE_NAME, AWS_REGION and AWS_ACCOUNT_ID"
        ]
    )
