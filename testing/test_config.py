"""Where settings come from: options, environment, env files, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from iam_compliance.config import (
    Invocation,
    Settings,
    parse_context,
    resolve_mode,
    resolve_run_mode,
)
from iam_compliance.envfile import read_env_file
from iam_compliance.errors import ConfigurationError
from iam_compliance.targets import DEFAULTS, resolve_targets

from conftest import TARGET


def env_file(folder: Path, name: str, **values: str) -> Path:
    path = folder / name
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def test_defaults_reproduce_the_runbook(tmp_path: Path) -> None:
    [target] = resolve_targets([], rootdir=tmp_path, environ={})
    assert target.name == "default"
    assert target.table_arn == "arn:aws:dynamodb:us-east-1:618574523116:table/ml-jobs"
    assert target.role_arn == "arn:aws:iam::618574523116:role/MLPlatformECSTaskRole"
    assert target.policy_arn == "arn:aws:iam::618574523116:policy/MLPlatformECSTaskPolicy"
    assert target.source is None


@pytest.mark.parametrize(
    ("environ", "dotenv", "expected"),
    [
        pytest.param({}, {}, DEFAULTS["AWS_ACCOUNT_ID"], id="default"),
        pytest.param({}, {"AWS_ACCOUNT_ID": "111111111111"}, "111111111111", id="dotenv"),
        pytest.param(
            {"AWS_ACCOUNT_ID": "222222222222"},
            {"AWS_ACCOUNT_ID": "111111111111"},
            "222222222222",
            id="environment-over-dotenv",
        ),
    ],
)
def test_environment_over_dotenv_over_defaults(
    tmp_path: Path, environ: dict[str, str], dotenv: dict[str, str], expected: str
) -> None:
    if dotenv:
        env_file(tmp_path, ".env", **dotenv)
    [target] = resolve_targets([], rootdir=tmp_path, environ=environ)
    assert target.account_id == expected


def test_env_file_replaces_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env_file(tmp_path, ".env", DYNAMODB_TABLE_NAME="from-dotenv")
    env_file(tmp_path, "staging.env", DYNAMODB_TABLE_NAME="from-env-file")
    [target] = resolve_targets(["staging.env"], rootdir=tmp_path, environ={})
    assert target.table_name == "from-env-file"
    assert target.name == "staging"


def test_several_env_files_each_describe_their_own_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env_file(tmp_path, "dev.env", AWS_ACCOUNT_ID="111111111111", AWS_PROFILE="dev")
    env_file(tmp_path, "prod.env", AWS_ACCOUNT_ID="222222222222")
    dev, prod = resolve_targets(
        ["dev.env", "prod.env"],
        rootdir=tmp_path,
        environ={"AWS_ACCOUNT_ID": "999999999999", "AWS_PROFILE": "ambient"},
    )
    assert (dev.account_id, dev.profile) == ("111111111111", "dev")
    # With several targets, a file's own values win and ambient credentials do not leak in.
    assert (prod.account_id, prod.profile) == ("222222222222", None)


def test_the_organization_reader_may_be_given_for_the_run_or_per_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    own = "arn:aws:iam::000000000001:role/own-reader"
    run = "arn:aws:iam::000000000001:role/run-reader"
    env_file(tmp_path, "dev.env", AWS_ACCOUNT_ID="111111111111", ORG_READ_ROLE_ARN=own)
    env_file(tmp_path, "prod.env", AWS_ACCOUNT_ID="222222222222")
    dev, prod = resolve_targets(
        ["dev.env", "prod.env"],
        rootdir=tmp_path,
        environ={"ORG_READ_ROLE_ARN": run, "ORG_READ_PROFILE": "org"},
    )
    assert (dev.org_read_role_arn, dev.org_read_profile) == (own, "org")
    assert (prod.org_read_role_arn, prod.org_read_profile) == (run, "org")


def test_dotenv_credentials_never_override_the_environment(tmp_path: Path) -> None:
    env_file(tmp_path, ".env", AWS_ACCESS_KEY_ID="FILEKEY", AWS_SECRET_ACCESS_KEY="FILESECRET")
    [target] = resolve_targets([], rootdir=tmp_path, environ={"AWS_ACCESS_KEY_ID": "ENVKEY"})
    assert target.credentials is None
    [target] = resolve_targets([], rootdir=tmp_path, environ={})
    assert target.credentials is not None
    assert "FILESECRET" not in repr(target)
    assert "FILEKEY" not in repr(target)


def test_two_files_with_one_name_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    env_file(tmp_path / "a", "prod.env")
    env_file(tmp_path, "prod.env")
    with pytest.raises(ConfigurationError, match="two files are both named 'prod'"):
        resolve_targets(["prod.env", "a/prod.env"], rootdir=tmp_path, environ={})


def test_env_file_expands_variables(tmp_path: Path) -> None:
    path = env_file(tmp_path, "x.env", TABLE="jobs", DYNAMODB_TABLE_NAME="ml-${TABLE}")
    assert read_env_file(path, label="x.env")["DYNAMODB_TABLE_NAME"] == "ml-jobs"


def test_an_env_file_read_again_is_read_as_it_is_now(tmp_path: Path) -> None:
    path = env_file(tmp_path, "x.env", DYNAMODB_TABLE_NAME="ml-jobs")
    first = read_env_file(path, label="x.env")
    first["DYNAMODB_TABLE_NAME"] = "changed by its reader"
    first.lines.clear()
    assert read_env_file(path, label="x.env") == {"DYNAMODB_TABLE_NAME": "ml-jobs"}
    assert read_env_file(path, label="x.env").lines == {"DYNAMODB_TABLE_NAME": 1}

    path.write_text("\nDYNAMODB_TABLE_NAME=ml-jobs-v2\n", encoding="utf-8")
    again = read_env_file(path, label="x.env")
    assert again == {"DYNAMODB_TABLE_NAME": "ml-jobs-v2"}
    assert again.lines == {"DYNAMODB_TABLE_NAME": 2}

    path.write_text("DYNAMODB_TABLE_NAME='ml-jobs\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"x\.env: line 1: .*quoted value is not closed"):
        read_env_file(path, label="x.env")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(["TABLE=file", "NAME=${TABLE}"], "file", id="the-file-before-the-environment"),
        pytest.param(["NAME=${TABLE}"], "environment", id="the-environment"),
        pytest.param(["NAME=${TABLE}", "TABLE=file"], "environment", id="only-earlier-lines"),
        pytest.param(["NAME=${UNSET_HERE:-fallback}"], "fallback", id="the-default"),
    ],
)
def test_env_file_variables_resolve_as_python_dotenv_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str], expected: str
) -> None:
    monkeypatch.setenv("TABLE", "environment")
    monkeypatch.delenv("UNSET_HERE", raising=False)
    path = tmp_path / "x.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert read_env_file(path, label="x.env")["NAME"] == expected


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        pytest.param(None, {}, "mock", id="default-mock"),
        pytest.param(None, {"IAM_COMPLIANCE_MODE": "live"}, "live", id="environment"),
        pytest.param("mock", {"IAM_COMPLIANCE_MODE": "live"}, "mock", id="option-wins"),
    ],
)
def test_mode(option: str | None, environ: dict[str, str], expected: str) -> None:
    assert resolve_mode(option, environ) == expected


def test_context_collects_repeated_keys() -> None:
    assert parse_context(["aws:SourceVpc=vpc-1", "aws:SourceVpc=vpc-2", "k=a=b"]) == {
        "aws:SourceVpc": ("vpc-1", "vpc-2"),
        "k": ("a=b",),
    }


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        pytest.param("us-east-1", "aws", id="commercial"),
        pytest.param("cn-north-1", "aws-cn", id="china"),
        pytest.param("us-gov-west-1", "aws-us-gov", id="govcloud"),
    ],
)
def test_arns_use_the_region_partition(tmp_path: Path, region: str, partition: str) -> None:
    [target] = resolve_targets([], rootdir=tmp_path, environ={"AWS_REGION": region})
    assert target.table_arn.startswith(f"arn:{partition}:dynamodb:{region}:")
    assert target.role_arn.startswith(f"arn:{partition}:iam::")


def test_dotenv_is_used_by_the_suite(suite: pytest.Pytester) -> None:
    (suite.path / ".env").write_text("AWS_ACCOUNT_ID=123412341234\nDYNAMODB_TABLE_NAME=jobs\n")
    result = suite.runpytest()
    result.stdout.fnmatch_lines(
        ["*account 123412341234*table arn:aws:dynamodb:us-east-1:123412341234:table/jobs"]
    )
    result.assert_outcomes(passed=6, failed=4)


def test_mode_in_dotenv_is_honoured(tmp_path: Path) -> None:
    env_file(tmp_path, ".env", IAM_COMPLIANCE_MODE="live")
    assert resolve_run_mode(None, {}, [], tmp_path) == "live"
    # The command line and the environment still come first.
    assert resolve_run_mode("mock", {}, [], tmp_path) == "mock"
    assert resolve_run_mode(None, {"IAM_COMPLIANCE_MODE": "mock"}, [], tmp_path) == "mock"


def test_an_env_file_that_sets_another_mode_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env_file(tmp_path, "dev.env", IAM_COMPLIANCE_MODE="live")
    env_file(tmp_path, "prod.env", IAM_COMPLIANCE_MODE="mock")
    assert resolve_run_mode(None, {}, ["dev.env"], tmp_path) == "live"
    with pytest.raises(
        ConfigurationError, match=r"prod.env: line 1: IAM_COMPLIANCE_MODE=mock, but this"
    ):
        resolve_run_mode(None, {}, ["dev.env", "prod.env"], tmp_path)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1", id="default-region"),
        pytest.param(
            {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-west-1"},
            "eu-central-1",
            id="region-first",
        ),
    ],
)
def test_aws_default_region_is_read_after_aws_region(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    [target] = resolve_targets([], rootdir=tmp_path, environ=environ)
    assert target.region == expected


@pytest.mark.parametrize(
    ("environ", "dotenv", "origin"),
    [
        pytest.param({}, {}, "built-in default", id="default"),
        pytest.param({"AWS_ACCOUNT_ID": "111111111111"}, {}, "environment", id="environment"),
        pytest.param({}, {"AWS_ACCOUNT_ID": "111111111111"}, ".env", id="dotenv"),
    ],
)
def test_where_the_account_id_came_from_is_kept(
    tmp_path: Path, environ: dict[str, str], dotenv: dict[str, str], origin: str
) -> None:
    if dotenv:
        env_file(tmp_path, ".env", **dotenv)
    [target] = resolve_targets([], rootdir=tmp_path, environ=environ)
    assert target.account_origin == origin


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "DYNAMODB_TABLE_NAME=\n",
            ".env: line 1: DYNAMODB_TABLE_NAME is set but empty",
            id="empty",
        ),
        pytest.param(
            "DYNAMODB_TABLE_NAME=${STAGING_TABLE}\n",
            r"\.env: line 1: DYNAMODB_TABLE_NAME refers to \$\{STAGING_TABLE\}",
            id="unexpanded",
        ),
    ],
)
def test_empty_values_are_refused_not_defaulted(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / ".env").write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        resolve_targets([], rootdir=tmp_path, environ={})


def test_mock_mode_ignores_a_missing_ambient_profile(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    result = suite.runpytest()
    result.assert_outcomes(passed=6, failed=4)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_dotenv_live_mode_runs_live(suite: pytest.Pytester) -> None:
    (suite.path / ".env").write_text("IAM_COMPLIANCE_MODE=live\n")
    result = suite.runpytest()
    result.stdout.fnmatch_lines(["iam-compliance: LIVE mode*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # no credentials here: could not check


#: A secret access key in the shape of AWS's (its documentation's example).
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def pieces(secret: str, size: int = 8) -> list[str]:
    """Every run of ``size`` characters of ``secret``: a quoted line cut short still leaks."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            f"AWS_SECRET_ACCESS_KEY {SECRET}",
            "line 2: expected AWS_SECRET_ACCESS_KEY=VALUE, but it has no '='",
            id="no-equals",
        ),
        pytest.param(
            f'AWS_SECRET_ACCESS_KEY="{SECRET}',
            "line 2: expected AWS_SECRET_ACCESS_KEY=VALUE, but the quoted value is not closed",
            id="unclosed-quote",
        ),
        pytest.param(
            f"export AWS_SECRET_ACCESS_KEY='{SECRET}' rotated",
            "line 2: expected AWS_SECRET_ACCESS_KEY=VALUE, but the value has text after its "
            "closing quote",
            id="text-after-quote",
        ),
        # Pasted without its name: python-dotenv takes the secret for a name.
        pytest.param(SECRET, "line 2: expected KEY=VALUE, but it has no '='", id="pasted"),
        pytest.param(
            SECRET.replace("/", ""),
            "line 2: expected KEY=VALUE, but it has no '='",
            id="pasted-alphanumeric",
        ),
        pytest.param(
            f"AWS_SECRET_ACCESS_KEY={SECRET}${{ROTATED}}",
            "line 2: AWS_SECRET_ACCESS_KEY refers to ${ROTATED}, which is not set",
            id="unset-variable",
        ),
    ],
)
def test_env_file_errors_name_the_file_line_and_key_never_a_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, line: str, expected: str
) -> None:
    path = tmp_path / "prod.env"
    path.write_text(f"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n{line}\nAWS_REGION=us-east-1\n")
    caplog.set_level("DEBUG")
    with pytest.raises(ConfigurationError) as raised:
        resolve_targets([str(path)], rootdir=tmp_path, environ={})
    message = str(raised.value)
    assert message.startswith(f"--iam-env-file {path}: {expected}")
    assert not [piece for piece in pieces(SECRET) if piece in message]
    # python-dotenv's own warning about a bad line ("could not parse statement") never runs.
    assert caplog.records == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "AWS_ACCOUNT_ID=111111111111\nAWS_REGION=moon-1\n",
            "line 2: AWS_REGION must be a region such as us-east-1; got 'moon-1'",
            id="region",
        ),
        pytest.param(
            "AWS_DEFAULT_REGION=moon-1\n",
            "line 1: AWS_DEFAULT_REGION must be a region such as us-east-1; got 'moon-1'",
            id="region-as-boto3-reads-it",
        ),
        pytest.param(
            "\nAWS_ACCOUNT_ID=61857452311\n",
            "line 2: AWS_ACCOUNT_ID must be 12 digits; got '61857452311'",
            id="account",
        ),
        pytest.param(b"AWS_REGION=us-east-1\nA=\xff\n", "line 2: not UTF-8 text", id="not-utf8"),
    ],
)
def test_an_invalid_setting_in_an_env_file_names_its_line(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    path = tmp_path / ".env"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigurationError) as raised:
        resolve_targets([], rootdir=tmp_path, environ={})
    assert str(raised.value) == f".env: {expected}"


def test_the_command_to_run_again_keeps_the_requirements_file() -> None:
    """A hint to run again (--fix-dry-run) must check what this run checked."""
    settings = Settings(mode="mock", targets=(TARGET,), requirements_file="out/recorded.toml")
    ran = Invocation(("tests/test_ecs_task_dynamodb_permissions.py",), (), SHORT)

    assert settings.command(ran) == (
        "pytest tests/test_ecs_task_dynamodb_permissions.py --aws-mode mock "
        "--iam-requirements out/recorded.toml"
    )


#: The short names a run of this repository's suite registers.
SHORT = {"--iam-aws-mode": "--aws-mode", "--iam-fix": "--fix"}


@pytest.mark.parametrize(
    ("invocation", "expected"),
    [
        pytest.param(
            Invocation(), "pytest --iam-aws-mode live --iam-env-file envs/prod.env", id="unknown"
        ),
        pytest.param(
            Invocation(
                ("fixtures/required_actions.toml",), ("-o", "iam_compliance_fixtures=fixtures")
            ),
            "pytest fixtures/required_actions.toml -o iam_compliance_fixtures=fixtures "
            "--iam-aws-mode live --iam-env-file envs/prod.env",
            id="the-requirements-file-and-an-ini-value",
        ),
        pytest.param(
            Invocation(("compliance",), ("-p", "no:randomly"), SHORT),
            "pytest compliance -p no:randomly --aws-mode live --iam-env-file envs/prod.env",
            id="short-names-where-the-run-has-them",
        ),
    ],
)
def test_the_command_repeats_what_pytest_was_given(invocation: Invocation, expected: str) -> None:
    settings = Settings(mode="live", targets=(TARGET,), env_files=("envs/prod.env",))

    assert settings.command(invocation) == expected
