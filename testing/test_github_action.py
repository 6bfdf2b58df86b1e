"""The composite GitHub Action (action.yml) and its step, iam_compliance.github_action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iam_compliance.github_action import InputError, Inputs, outputs, pytest_command, read_inputs

from conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def outputs_of(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def run_step(
    project: Path, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The action's step, as GitHub runs it: its inputs as INPUT_* variables."""
    github_output = project / "github-output.txt"
    github_output.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "PYTEST_"))}
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    env.update(GITHUB_OUTPUT=str(github_output), PYTEST_ADDOPTS="-p no:hypothesispytest")
    result = subprocess.run(
        [sys.executable, "-m", "iam_compliance.github_action"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result, outputs_of(github_output)


def test_action_yml_is_a_valid_action() -> None:
    result = subprocess.run(
        [
            Path(sys.executable).with_name("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-actions",
            ROOT / "action.yml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_input_reaches_the_step_under_the_name_it_reads() -> None:
    [check] = [step for step in ACTION["runs"]["steps"] if step.get("id") == "check"]
    passed = dict(check["env"])
    own = {"working-directory", "install", "upload-sarif"}  # used by action.yml itself
    expected = {
        f"INPUT_{name.upper().replace('-', '_')}": "${{ inputs." + name + " }}"
        for name in ACTION["inputs"]
        if name not in own
    }
    assert passed == expected
    source = (ROOT / "src" / "iam_compliance" / "github_action.py").read_text()
    read = {name for name in expected if f'value("{name.removeprefix("INPUT_")}")' in source}
    assert read == set(expected)


def test_every_output_is_one_the_step_writes(tmp_path: Path) -> None:
    inputs = read_inputs({}, tmp_path)
    written = outputs(inputs, 0)
    for name, output in ACTION["outputs"].items():
        assert output["value"] == "${{ steps.check.outputs." + name + " }}"
        assert name in written


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        pytest.param(
            {"INPUT_MODE": "prod"}, "input mode: expected one of mock, live; got 'prod'", id="mode"
        ),
        pytest.param(
            {"INPUT_ENV_FILES": "accounts/*.env"},
            "input env-files: 'accounts/*.env' matches no file",
            id="glob-matches-nothing",
        ),
        pytest.param({"INPUT_ARGS": "-k 'unclosed"}, "input args: No closing quotation", id="args"),
    ],
)
def test_a_wrong_input_is_named(tmp_path: Path, environ: dict[str, str], error: str) -> None:
    with pytest.raises(InputError) as raised:
        read_inputs(environ, tmp_path)
    assert str(raised.value).startswith(error)


def test_the_command_from_globs_lists_and_a_shard(tmp_path: Path) -> None:
    (tmp_path / "accounts").mkdir()
    for name in ("prod", "dev", "qa"):
        (tmp_path / "accounts" / f"{name}.env").write_text("AWS_ACCOUNT_ID=111111111111\n")
    environ = {
        "INPUT_MODE": "live",
        "INPUT_ENV_FILES": "accounts/*.env\n# a comment\n\nextra/one.env\naccounts/dev.env\n",
        "INPUT_SHARD": "2/3",
        "INPUT_ARGS": "-k 'not Scan' --tb=line",
        "INPUT_SUITE": "compliance",
    }
    inputs = read_inputs(environ, tmp_path)

    assert inputs == Inputs(
        mode="live",
        env_files=("accounts/dev.env", "accounts/prod.env", "accounts/qa.env", "extra/one.env"),
        policy_file=None,
        shard="2/3",
        reports=tmp_path / "reports",
        suite="compliance",
        args=("-k", "not Scan", "--tb=line"),
    )
    assert pytest_command(inputs, python="python") == [
        *("python", "-m", "pytest", "compliance", "--iam-aws-mode=live"),
        *("--iam-env-file=accounts/dev.env", "--iam-env-file=accounts/prod.env"),
        *("--iam-env-file=accounts/qa.env", "--iam-env-file=extra/one.env"),
        *("--iam-shard=2/3", "-o", f"iam_compliance_reports={tmp_path / 'reports'}", "-v"),
        *("-k", "not Scan", "--tb=line"),
    ]


def test_the_step_checks_a_template_and_gives_its_reports(suite: pytest.Pytester) -> None:
    result, found = run_step(
        suite.path, policy_file="fixtures/iac/task-role.template.json", reports="out"
    )

    assert result.returncode == 1, result.stdout + result.stderr
    reports = suite.path / "out"
    assert (
        f"iam-compliance: {sys.executable} -m pytest --iam-aws-mode=mock --iam-policy-file="
        f"fixtures/iac/task-role.template.json -o iam_compliance_reports={reports} -v"
    ) in result.stdout
    assert found == {
        "exit-code": "1",
        "reports": str(reports),
        "json": str(reports / "compliance.json"),
        "html": str(reports / "compliance.html"),
        "xml": str(reports / "compliance.xml"),
        "sarif": str(reports / "compliance.sarif"),
        "sarif-category": "iam-compliance",
    }
    for name in ("json", "html", "xml", "sarif"):
        assert Path(found[name]).is_file(), name
    assert json.loads(Path(found["json"]).read_text())["exit_status"] == 1
    assert "::error title=iam-compliance::not compliant" in result.stdout


def test_the_step_runs_a_shard_of_env_files(suite: pytest.Pytester) -> None:
    (suite.path / "accounts").mkdir()
    for name, account in (("dev", "111111111111"), ("prod", "222222222222")):
        (suite.path / "accounts" / f"{name}.env").write_text(f"AWS_ACCOUNT_ID={account}\n")

    result, found = run_step(suite.path, env_files="accounts/*.env", shard="2/2")

    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads(Path(found["json"]).read_text())
    assert (document["shard"]["index"], document["shard"]["targets"]) == (2, ["prod"])
    assert (found["sarif"], found["sarif-category"]) == ("", "iam-compliance-shard-2-of-2")


def test_a_wrong_input_stops_the_step_with_exit_code_4(tmp_path: Path) -> None:
    result, found = run_step(tmp_path, env_files="accounts/*.env")

    assert result.returncode == 4
    assert found == {"exit-code": "4"}
    assert result.stdout.startswith(
        "::error title=iam-compliance::input env-files: 'accounts/*.env' matches no file"
    )
