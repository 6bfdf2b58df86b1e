"""Least privilege for the checker itself, and no credential in any output."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Sessions
from iam_compliance.engine.resources import ResourceNeeds

from conftest import (
    LIVE,
    REGION,
    ROLE_ARN,
    ROOT,
    TABLE_ARN,
    TARGET,
    MotoServer,
    ServerAccount,
    allow_role,
)


def documented_policy(name: str) -> dict[str, Any]:
    """The policy docs/permissions.md documents under ``<!-- policy: NAME -->``."""
    text = (ROOT / "docs" / "permissions.md").read_text()
    match = re.search(rf"<!-- policy: {name} -->\s*```json\n(.*?)```", text, re.S)
    assert match, f"docs/permissions.md has no policy block {name!r}"
    document: dict[str, Any] = json.loads(match.group(1))
    return document


def checker(server: MotoServer, monkeypatch: pytest.MonkeyPatch, *policies: str) -> dict[str, str]:
    """An IAM user holding exactly the documented ``policies``; live mode runs as it."""
    iam = server.iam()
    iam.create_user(UserName="checker")
    for name in policies:
        iam.put_user_policy(
            UserName="checker", PolicyName=name, PolicyDocument=json.dumps(documented_policy(name))
        )
    key = iam.create_access_key(UserName="checker")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_REGION", REGION)
    server.call("POST", "/_selftest/auth")  # from here on, moto enforces IAM policies
    return {"access key id": key["AccessKeyId"], "secret access key": key["SecretAccessKey"]}


def test_read_only_policy_is_enough_to_check(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed(
        inline={
            "Extra": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        }
    )
    checker(moto_server, monkeypatch, "read-only")
    result = suite.runpytest(*LIVE)
    result.assert_outcomes(passed=6, failed=4)


def test_read_only_policy_cannot_fix_and_says_what_is_missing(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed()
    checker(moto_server, monkeypatch, "read-only")
    result = suite.runpytest(*LIVE, "--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --fix, target default: access denied: the identity running the checker "
            "needs iam:ListPolicyVersions on arn:aws:iam::618574523116:policy/"
            "MLPlatformECSTaskPolicy*"
        ]
    )


def test_fix_policy_is_enough_to_fix(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed()
    checker(moto_server, monkeypatch, "read-only", "fix")
    result = suite.runpytest(*LIVE, "--fix")
    result.assert_outcomes(passed=10)


#: botocore's DEBUG log, shown in the terminal as it is written: the read and the fix run
#: before the tests, so a log captured per test would hold none of it.
DEBUG_LOG = ("-o", "log_level=DEBUG", "-o", "log_cli=true", "-o", "log_cli_level=DEBUG")


@pytest.mark.parametrize(
    ("args", "status"),
    [
        pytest.param(LIVE, pytest.ExitCode.TESTS_FAILED, id="failing-check"),
        pytest.param((*LIVE, "--fix"), pytest.ExitCode.OK, id="fix"),
        pytest.param(
            (*LIVE, "--fix-dry-run", "-v", "-l"),
            pytest.ExitCode.TESTS_FAILED,
            id="dry-run-verbose-locals",
        ),
        pytest.param(
            (*LIVE, "--iam-env-file", "missing.env"), pytest.ExitCode.USAGE_ERROR, id="usage-error"
        ),
        pytest.param((*LIVE, *DEBUG_LOG), pytest.ExitCode.TESTS_FAILED, id="debug-log"),
        pytest.param((*LIVE, "--fix", *DEBUG_LOG), pytest.ExitCode.OK, id="debug-log-fix"),
    ],
)
def test_no_credential_appears_in_any_output(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    status: pytest.ExitCode,
) -> None:
    moto_server.seed()
    secrets = checker(moto_server, monkeypatch, "read-only", "fix")
    result = suite.runpytest(*args, "-rA")
    assert result.ret == status
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for path in (suite.path / "reports").rglob("*"):
        outputs[str(path.relative_to(suite.path))] = Path(path).read_text(errors="replace")
    # Every run leaves its reports, the usage error's included: each one is checked.
    assert {"reports/compliance.json", "reports/compliance.xml", "reports/compliance.html"} <= set(
        outputs
    )
    if DEBUG_LOG[-1] in args:
        # botocore's DEBUG lines were shown, signed requests among them, the key redacted:
        # so the check below is about a log that carried the credentials.
        assert re.search(
            r"(?m)^DEBUG +botocore\.endpoint:.*Credential=\[redacted\]/", outputs["stdout"]
        )
        if "--fix" in args:
            assert "CreatePolicyVersion" in outputs["stdout"]
    for where, text in outputs.items():
        for what, secret in secrets.items():
            assert secret not in text, f"the {what} appears in {where}"


#: A secret access key in the shape of AWS's (its documentation's example).
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        pytest.param(".env", (), id="dotenv"),
        pytest.param("prod.env", ("--iam-env-file=prod.env",), id="iam-env-file"),
    ],
)
def test_a_malformed_env_file_line_is_named_never_quoted(
    suite: pytest.Pytester, name: str, args: tuple[str, ...]
) -> None:
    """The line with the secret key is malformed (its quote is not closed): the run stops
    naming the file, the line and the key, and no report or output holds the value."""
    (suite.path / name).write_text(
        f'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY="{SECRET}\n'
    )

    result = suite.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for report in ("compliance.json", "compliance.xml", "compliance.html"):
        outputs[report] = (suite.path / "reports" / report).read_text()
    label = ".env" if name == ".env" else "--iam-env-file prod.env"
    named = f"{label}: line 2: expected AWS_SECRET_ACCESS_KEY=VALUE"
    for where, text in outputs.items():
        leaked = [SECRET[i : i + 8] for i in range(len(SECRET) - 7) if SECRET[i : i + 8] in text]
        assert not leaked, f"{where} holds the secret access key: {leaked}"
        if where != "stdout":
            assert html.unescape(text).count(named) >= 1, f"{where} does not say where"


@pytest.mark.parametrize(
    ("options", "shown_in"),
    [
        # One process reads before the tests: the live log shows it in the terminal.
        pytest.param(("-o", "log_cli=true", "-o", "log_cli_level=DEBUG"), "stdout", id="live-log"),
        # An xdist worker reads in its first test: the captured log goes into the report.
        pytest.param(("-p", "xdist", "-n", "1"), "compliance.html", id="xdist"),
    ],
)
def test_debug_logs_of_a_session_keep_its_credentials_out(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    options: tuple[str, ...],
    shown_in: str,
) -> None:
    """Role-session credentials (with a session token) and botocore's DEBUG log, shown in
    the terminal or captured into the HTML report."""
    moto_server.seed()
    moto_server.use(monkeypatch)
    secrets = {
        name: value
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        if (value := os.environ[name])
    }
    assert len(secrets) == 3
    result = suite.runpytest_subprocess(*LIVE, "-o", "log_level=DEBUG", "-rA", *options)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for path in (suite.path / "reports").iterdir():
        outputs[path.name] = path.read_text(errors="replace")
    # The log was captured (so the check means something), with the credentials redacted.
    assert "botocore" in outputs[shown_in]
    assert "[redacted]" in outputs[shown_in]
    for where, text in outputs.items():
        for name, secret in secrets.items():
            assert secret not in text, f"{name} appears in {where}"


def test_no_report_or_record_is_written_through_a_planted_link(suite: pytest.Pytester) -> None:
    victims = suite.mkdir("victims")
    reports = suite.mkdir("reports")
    planted = {}
    names = ["compliance.html", "compliance.xml", "compliance.json"]
    # The record's name is its UTC time to the second: plant one for each second around now.
    now = datetime.now(UTC)
    names += [
        f"remediation-{now + timedelta(seconds=s):%Y%m%dT%H%M%SZ}.json" for s in range(-5, 120)
    ]
    for name in names:
        victim = victims / name
        victim.write_text("precious\n")
        (reports / name).symlink_to(victim)
        planted[name] = victim
    result = suite.runpytest("--fix")
    result.assert_outcomes(passed=10)
    for name, victim in planted.items():
        assert victim.read_text() == "precious\n", f"{name} was written through its link"
    for name in ("compliance.html", "compliance.xml", "compliance.json"):
        assert not (reports / name).is_symlink()
        assert (reports / name).stat().st_size > 100
    [record] = [p for p in reports.glob("remediation-*.json") if not p.is_symlink()]
    assert json.loads(record.read_text())["status"] == "applied"
    assert not list(reports.glob(".iam-compliance-*"))  # no staging folder left behind
    result.stdout.fnmatch_lines(
        [f"*Generated html report: {(reports / 'compliance.html').as_uri()}*"]
    )


@pytest.mark.parametrize(
    ("policies", "read"),
    [
        pytest.param(("read-only", "account-sweep"), "read one *sweep, 1 page(s)", id="sweep"),
        pytest.param(("read-only",), "read role by role (*was denied: *", id="denied"),
    ],
)
def test_the_account_sweep_policy_is_what_several_targets_of_an_account_need(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    policies: tuple[str, ...],
    read: str,
) -> None:
    """Two targets in one account, read as IAM enforces the documented policies: with the
    sweep's, one sweep; without it, role by role; the same verdicts either way."""
    moto_server.seed()
    checker(moto_server, monkeypatch, *policies)
    envs = []
    for name in ("blue", "green"):
        (suite.path / f"{name}.env").write_text("AWS_ACCOUNT_ID=618574523116\n")
        envs += ["--iam-env-file", f"{name}.env"]
    result = suite.runpytest(*LIVE, *envs)
    result.assert_outcomes(passed=12, failed=8)
    result.stdout.fnmatch_lines([f"iam-compliance: live account 618574523116: 2 target(s), {read}"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policies", "readable"),
    [
        pytest.param(("read-only", "resources"), True, id="documented"),
        pytest.param(("read-only",), False, id="without-it"),
    ],
)
def test_the_resources_policy_is_what_reading_every_kind_of_resource_needs(
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    policies: tuple[str, ...],
    readable: bool,
) -> None:
    """A bucket (its objects) encrypted with a customer managed key, the key, a queue, a
    topic, a secret and a VPC endpoint, read as IAM enforces the documented policies."""
    moto_server.seed()
    account = ServerAccount(moto_server)
    key = account.key(grant_to=ROLE_ARN)
    bucket = account.bucket(policy=allow_role("Objects", "s3:GetObject"), key=key)
    others = [key, account.queue(), account.topic(), account.secret()]
    endpoint = account.endpoint()
    checker(moto_server, monkeypatch, *policies)
    target = dataclasses.replace(TARGET, endpoint_url=moto_server.url)

    resources, endpoints = AwsAdapter(Sessions().live(target)).read_resources(
        target, ResourceNeeds((f"{bucket}/*", *others), (endpoint,))
    )

    assert resources[TABLE_ARN].is_read  # read-only's own
    for arn in (bucket, *others):
        state = resources[arn]
        if readable:
            assert state.is_read, state.detail
        else:
            assert state.status == "unreadable"
            assert state.missing_action is not None, state
            assert f"needs {state.missing_action} on {arn}" in state.detail
    if readable:
        encryption, details = resources[bucket].encryption, resources[key].key
        assert encryption is not None
        assert encryption.customer_key == key
        assert details is not None
        assert details.grants_to(ROLE_ARN)
        assert endpoints[endpoint].status == "read"
    else:
        assert endpoints[endpoint].missing_action == "ec2:DescribeVpcEndpoints"
