"""The command a target's hints repeat: this run's way of checking, this target only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from iam_compliance.config import Invocation, Settings, resolve_settings
from iam_compliance.engine.evaluate.guardrails import GuardrailsSetting
from iam_compliance.pytest_plugin.hints import kept_options, rerun_command

SUITE = "pytest tests/test_ecs_task_dynamodb_permissions.py"
#: A run of this repository's suite by its module, with the short option names.
RUN = Invocation(
    ("tests/test_ecs_task_dynamodb_permissions.py",),
    (),
    {"--iam-aws-mode": "--aws-mode", "--iam-guardrails": "--guardrails"},
)
DEV, PROD = "111111111111", "222222222222"


def settings(
    tmp_path: Path,
    *env_files: str,
    aws_mode: str = "mock",
    policy_file: str | None = None,
    context: tuple[str, ...] = (),
    guardrails: GuardrailsSetting = "auto",
    environ: dict[str, str] | None = None,
) -> Settings:
    return resolve_settings(
        aws_mode=aws_mode,
        env_files=list(env_files),
        policy_file=policy_file,
        context=list(context),
        fix=False,
        fix_dry_run=False,
        rootdir=tmp_path,
        environ=environ or {},
        guardrails=guardrails,
    )


@pytest.fixture
def envs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "envs").mkdir()
    for name, account in (("dev", DEV), ("prod", PROD)):
        (tmp_path / "envs" / f"{name}.env").write_text(
            f"AWS_ACCOUNT_ID={account}\nECS_TASK_ROLE_NAME=Role{name}\n"
        )
    return ["envs/dev.env", "envs/prod.env"]


def test_one_target_gets_the_runs_own_command(tmp_path: Path) -> None:
    found = settings(
        tmp_path,
        aws_mode="mock",
        policy_file="plan.json",
        context=("aws:SourceVpc=vpc-1",),
        guardrails="off",
    )

    assert rerun_command(found, found.targets[0], {}, RUN) == (
        f"{SUITE} --aws-mode mock --iam-policy-file plan.json --iam-context "
        "aws:SourceVpc=vpc-1 --guardrails off"
    )


def test_a_target_of_several_gets_its_own_env_file_only(tmp_path: Path, envs: list[str]) -> None:
    """--fix fixes every target of its run: a hint naming every file would change them all."""
    found = settings(tmp_path, *envs, aws_mode="live")

    assert [rerun_command(found, t, {}, RUN) for t in found.targets] == [
        f"{SUITE} --aws-mode live --iam-env-file envs/dev.env",
        f"{SUITE} --aws-mode live --iam-env-file envs/prod.env",
    ]


def test_what_the_environment_would_override_is_unset(tmp_path: Path, envs: list[str]) -> None:
    """Alone, an env file does not override the environment; with several it does."""
    environ = {"AWS_ACCOUNT_ID": DEV, "ECS_TASK_ROLE_NAME": "Other", "AWS_REGION": "eu-west-1"}
    found = settings(tmp_path, *envs, aws_mode="live", environ=environ)
    prod = found.targets[1]
    assert (prod.account_id, prod.role_name, prod.region) == (PROD, "Roleprod", "eu-west-1")

    command = rerun_command(found, prod, environ, RUN)

    assert command == (
        f"env -u AWS_ACCOUNT_ID -u ECS_TASK_ROLE_NAME {SUITE} --aws-mode live "
        "--iam-env-file envs/prod.env"
    )


def test_a_hint_that_cannot_be_made_exact_says_so(tmp_path: Path, envs: list[str]) -> None:
    found = settings(tmp_path, *envs, aws_mode="live")
    gone = dataclasses.replace(found.targets[1], source="envs/gone.env")

    command = rerun_command(found, gone, {}, RUN)

    assert command.startswith(f"{SUITE} --aws-mode live --iam-env-file envs/gone.env  (in an ")
    assert "alone, an env file does not override the environment" in command


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        pytest.param(
            ["tests/test_x.py", "-v", "-x", "--iam-aws-mode", "live"], [], id="paths-and-output"
        ),
        pytest.param(
            ["-c", "ci.ini", "--rootdir=compliance", "-p", "xdist", "-pno:randomly"],
            ["-c", "ci.ini", "--rootdir=compliance"],
            id="configuration-not-plugins",
        ),
        pytest.param(
            ["-o", "iam_compliance_fixtures=other", "--override-ini=python_files=*.py"],
            ["-o", "iam_compliance_fixtures=other", "--override-ini=python_files=*.py"],
            id="ini-values",
        ),
        pytest.param(
            [
                "-o",
                "iam_compliance_reports=shard-1",
                "-oiam_compliance_reports=x",
                "--override-ini=iam_compliance_reports=y",
            ],
            [],
            id="where-the-reports-go-is-not-what-is-checked",
        ),
        pytest.param(["--", "-c", "x.ini"], [], id="nothing-after-a-double-dash"),
    ],
)
def test_the_hint_repeats_the_options_that_choose_what_is_checked(
    args: list[str], kept: list[str]
) -> None:
    assert kept_options(args) == kept


def test_plugins_are_repeated_where_they_do_not_load_by_themselves() -> None:
    args = ["-p", "iam_compliance.pytest_plugin.plugin", "-pxdist", "-c", "ci.ini"]

    assert kept_options(args, plugins=True) == args
