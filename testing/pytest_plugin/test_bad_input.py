"""Every kind of bad input gets one clear message and exit code 4, never 0 or 1."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable

import pytest

Setup = Callable[[pytest.Pytester, pytest.MonkeyPatch], list[str]]


def args(*values: str) -> Setup:
    return lambda pytester, monkeypatch: list(values)


def env(name: str, value: str) -> Setup:
    def setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        monkeypatch.setenv(name, value)
        return []

    return setup


def file(name: str, content: str | bytes, *extra: str, option: str | None = None) -> Setup:
    def setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return [option, str(path), *extra] if option else list(extra)

    return setup


def both(*setups: Setup) -> Setup:
    """Every one of ``setups``, their options in order."""
    return lambda pytester, monkeypatch: [
        option for setup in setups for option in setup(pytester, monkeypatch)
    ]


def policy_file(content: str | bytes) -> Setup:
    return file("proposed.json", content, option="--iam-policy-file")


def policy(*statements: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


def requirements(name: str) -> Setup:
    return file("fixtures/required_actions.toml", f'[[action]]\nname = "{name}"\nreason = "x"\n')


OK_STATEMENT = {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}
#: A statement with a condition operator IAM does not have.
UNKNOWN_OPERATOR = {**OK_STATEMENT, "Condition": {"StringEqualz": {"aws:SourceVpc": "vpc-1"}}}
NO_VERSION = json.dumps({"Statement": [OK_STATEMENT]})
OLD_VERSION = json.dumps({"Version": "2008-10-17", "Statement": [OK_STATEMENT]})

CASES = [
    pytest.param(
        args("--aws-mode", "prod"),
        "--aws-mode must be one of mock, live; got 'prod'",
        id="unknown-aws-mode",
    ),
    pytest.param(
        env("IAM_COMPLIANCE_MODE", "Live"),
        "IAM_COMPLIANCE_MODE must be one of mock, live; got 'Live'",
        id="unknown-mode-env",
    ),
    pytest.param(
        args("--iam-context", "aws:SourceVpc"),
        "--iam-context 'aws:SourceVpc': expected KEY=VALUE*",
        id="context-without-equals",
    ),
    pytest.param(
        file(".env", "AWS_REGION=us-east-1\nthis is not a setting\n"),
        ".env: line 2: expected KEY=VALUE, but it has no '=' (the line is not shown: it may "
        "hold a credential)",
        id="dotenv-malformed",
    ),
    pytest.param(
        args("--iam-env-file", "missing.env"),
        "--iam-env-file missing.env: file not found",
        id="env-file-missing",
    ),
    pytest.param(
        file("envs/keep", "", "--iam-env-file", "envs"),
        "--iam-env-file envs: is not a file",
        id="env-file-directory",
    ),
    pytest.param(
        args("--iam-policy-file", "nope.json"),
        "--iam-policy-file nope.json: file not found",
        id="policy-file-missing",
    ),
    pytest.param(
        policy_file(""),
        "--iam-policy-file */proposed.json: document is empty*",
        id="policy-file-empty",
    ),
    pytest.param(
        policy_file(
            '{\n    "Version": "2012-10-17",\n    "Statement": [\n        {"Effect": "Allow",}\n'
        ),
        # The column differs between Python versions (3.13 points at the comma).
        "--iam-policy-file */proposed.json: line 4 column *: not valid JSON*",
        id="policy-file-not-json",
    ),
    pytest.param(
        policy_file("[1, 2]"),
        "*proposed.json: document must be a JSON object, got an array",
        id="policy-file-array",
    ),
    pytest.param(
        policy_file(" " * 10_000_000 + "{}"),
        "*proposed.json: document is 10,000,002 bytes*",
        id="policy-file-10mb",
    ),
    pytest.param(
        policy_file("[" * 10_000 + "]" * 10_000),
        "*proposed.json: line 1 column 65: nested more than 64 levels deep*",
        id="policy-file-nested-10000",
    ),
    pytest.param(
        policy_file('{"Version": "2012-10-17"}'),
        '*proposed.json: no "Statement"*',
        id="policy-file-no-statement",
    ),
    pytest.param(
        policy_file(policy({**OK_STATEMENT, "Effect": "allow"})),
        '*proposed.json: statement #1: Effect must be "Allow" or "Deny", got "allow"',
        id="effect-lowercase",
    ),
    pytest.param(
        policy_file(policy({**OK_STATEMENT, "NotAction": "s3:*"})),
        "*statement #1: needs exactly one of Action or NotAction",
        id="action-and-notaction",
    ),
    pytest.param(
        policy_file(policy({**OK_STATEMENT, "Action": "Scan"})),
        '*statement #1: action \'Scan\' must be "*" or "service:action"*',
        id="action-without-prefix",
    ),
    pytest.param(
        policy_file(policy({**OK_STATEMENT, "Sid": "Accès"})),
        "*Sid may hold only ASCII letters and digits, got 'Accès'",
        id="non-ascii-sid",
    ),
    pytest.param(policy_file(b"\xff\xfe{}"), "*proposed.json: cannot be read*", id="not-utf8"),
    pytest.param(
        env("ECS_TASK_ROLE_NAME", "ML Platform Role"),
        "environment: ECS_TASK_ROLE_NAME must be 1-64 characters*got 'ML Platform Role'",
        id="role-name-iam-rejects",
    ),
    pytest.param(
        env("ECS_TASK_POLICY_NAME", "Politique-é"),
        "environment: ECS_TASK_POLICY_NAME must be 1-128 characters*got 'Politique-é'",
        id="policy-name-non-ascii",
    ),
    pytest.param(
        env("AWS_ACCOUNT_ID", "61857452311"),
        "environment: AWS_ACCOUNT_ID must be 12 digits; got '61857452311'",
        id="account-short",
    ),
    pytest.param(
        requirements("dynamodb:Scann"),
        "*action #1: 'dynamodb:Scann': dynamodb has no action 'Scann'; did you mean 'Scan'?*",
        id="misspelt-action",
    ),
    pytest.param(
        requirements("dyanmodb:Scan"),
        "*action #1: 'dyanmodb:Scan': unknown service 'dyanmodb'; did you mean 'dynamodb'?",
        id="misspelt-service",
    ),
    pytest.param(
        args("--fix", "--fix-dry-run"), "--fix and --fix-dry-run: choose one", id="fix-and-dry-run"
    ),
    pytest.param(
        file("p.json", policy(OK_STATEMENT), "--aws-mode", "live", "--iam-policy-file", "p.json"),
        "--iam-policy-file seeds the mock account; it cannot be used with --aws-mode live*",
        id="policy-file-in-live-mode",
    ),
    pytest.param(
        args("-o", "iam_compliance_read_concurrency=0"),
        "iam_compliance_read_concurrency (*pyproject.toml): expected a whole number of at "
        "least 1, got '0'",
        id="read-concurrency-zero",
    ),
    pytest.param(
        policy_file(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
            '"Action": "s3:GetObject", "Resource": "*", '
            '"Condition": {"NumericLessThan": {"s3:max-keys": 1e999}}}]}'
        ),
        "*proposed.json: not valid JSON: the number 1e999 is out of range",
        id="policy-file-1e999",
    ),
    pytest.param(
        policy_file(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
            '"Action": "s3:GetObject", "Resource": "*", '
            '"Condition": {"NumericLessThan": {"s3:max-keys": NaN}}}]}'
        ),
        "*proposed.json: not valid JSON: NaN is not a JSON number",
        id="policy-file-nan",
    ),
    pytest.param(
        policy_file(policy({**OK_STATEMENT, "Resource": "arn:aws:s3:::b/\ud800"})),
        "*proposed.json: not valid JSON text: *lone surrogate \\ud800*",
        id="policy-file-lone-surrogate",
    ),
    pytest.param(
        policy_file(policy(UNKNOWN_OPERATOR)),
        "target default: --iam-policy-file */proposed.json: the mock account refuses it as IAM "
        "would (MalformedPolicyDocument: *",
        id="policy-file-unknown-operator",
    ),
    pytest.param(
        policy_file(NO_VERSION),
        "target default: *proposed.json: the mock account refuses it*version 2012-10-17*",
        id="policy-file-no-version",
    ),
    pytest.param(
        policy_file(OLD_VERSION),
        "target default: *proposed.json: the mock account refuses it*version 2012-10-17*",
        id="policy-file-version-2008",
    ),
    pytest.param(
        file("fixtures/policies/managed/Extra.json", policy(UNKNOWN_OPERATOR)),
        "target default: */fixtures/policies/managed/Extra.json: the mock account refuses it*",
        id="fixture-unknown-operator",
    ),
    pytest.param(
        file("fixtures/policies/inline/Old.json", OLD_VERSION),
        "target default: */fixtures/policies/inline/Old.json: the mock account refuses it*",
        id="fixture-version-2008",
    ),
    pytest.param(
        both(env("AWS_ENDPOINT_URL", "not a url"), args("--aws-mode", "live")),
        "target default: AWS_ENDPOINT_URL: Invalid endpoint: not a url",
        id="endpoint-url-invalid",
    ),
    pytest.param(
        both(env("AWS_PROFILE", "no-such-profile"), args("--aws-mode", "live")),
        "target default: AWS_PROFILE 'no-such-profile' is not in the AWS config or "
        "credentials file*",
        id="profile-missing-live",
    ),
    pytest.param(
        file("fixtures/required_actions.toml", 'action = ["dynamodb:Scan"]\n'),
        # ([[ is a character class to fnmatch, so the brackets are matched by ?)
        '*required_actions.toml: action #1: expected an ??action?? table with "name", '
        "got 'dynamodb:Scan'",
        id="requirements-action-list",
    ),
    pytest.param(
        both(file("afile", ""), args("-o", "iam_compliance_reports=afile/reports")),
        "iam_compliance_reports 'afile/reports': cannot write reports in */afile/reports "
        "(Not a directory)*",
        id="reports-under-a-file",
    ),
    pytest.param(
        args("-o", "iam_compliance_reports=/proc/iam-reports"),
        "iam_compliance_reports '/proc/iam-reports': cannot write reports in /proc/iam-reports*",
        id="reports-in-proc",
    ),
    pytest.param(
        env("DYNAMODB_TABLE_NAME", ""),
        "environment: DYNAMODB_TABLE_NAME is set but empty; give it a value, or remove it to "
        "use the default (ml-jobs)",
        id="empty-value-environment",
    ),
    pytest.param(
        file(".env", "DYNAMODB_TABLE_NAME=${STAGING_TABLE}\n"),
        ".env: line 1: DYNAMODB_TABLE_NAME refers to ${STAGING_TABLE}, which is not set in "
        "this file or the environment",
        id="unexpanded-variable",
    ),
    pytest.param(
        file(
            "envs/prod.env",
            "IAM_COMPLIANCE_MODE=live\n",
            "--iam-env-file",
            "envs/prod.env",
            "--aws-mode",
            "mock",
        ),
        "--iam-env-file envs/prod.env: line 1: IAM_COMPLIANCE_MODE=live, but this run is in "
        "mock mode (--aws-mode mock); a target's file cannot change the run's mode*",
        id="env-file-other-mode",
    ),
    pytest.param(
        args("-o", "iam_compliance_read_concurrency=many"),
        "iam_compliance_read_concurrency (*): expected a whole number of at least 1, got 'many'",
        id="read-concurrency-not-a-number",
    ),
]


@pytest.mark.parametrize(("setup", "message"), CASES)
def test_bad_input_gets_one_clear_message(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, setup: Setup, message: str
) -> None:
    extra = setup(suite, monkeypatch)
    result = suite.runpytest(*extra)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert " passed" not in output
    if "iam_compliance_reports" in message:
        return  # the reports folder itself is what is wrong
    # Every report says why, so an earlier run's cannot stand for this one.
    report = json.loads((suite.path / "reports" / "compliance.json").read_text())
    assert (report["exit_status"], report["compliant"]) == (4, False)
    assert fnmatch.fnmatch(report["error"]["message"], message)
    for name in ("compliance.html", "compliance.xml"):
        assert "could not check" in (suite.path / "reports" / name).read_text().lower()


def test_a_requirements_file_given_by_its_path_is_named_once(suite: pytest.Pytester) -> None:
    path = suite.path / "bad.toml"
    path.write_text('[[action]]\nname = "dynamodb:Get*"\n')
    result = suite.runpytest("--iam-requirements", str(path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    [line] = [line for line in result.errlines if line.startswith("ERROR: ")]
    assert line.startswith(f"ERROR: --iam-requirements {path}: action #1: 'dynamodb:Get*': ")
    assert line.count(str(path)) == 1
