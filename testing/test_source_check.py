"""``iam-compliance check FILE...`` and the pre-commit hook that runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iam_compliance.cli import main

from conftest import IAC, ROOT, TEMPLATE_JSON, TEMPLATE_YAML, TERRAFORM_PLAN

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
COMMAND = Path(sys.executable).with_name("iam-compliance")


def compliant_template(project: Path) -> str:
    """The runbook's YAML template with the three missing actions added."""
    text = (ROOT / TEMPLATE_YAML).read_text()
    missing = "".join(f"              - dynamodb:{a}\n" for a in ("Scan", "Query", "DescribeTable"))
    added = text.replace(
        "              - dynamodb:UpdateItem\n",
        "              - dynamodb:UpdateItem\n" + missing,
        1,
    )
    assert added != text
    (project / "infra").mkdir(exist_ok=True)
    (project / "infra" / "good.template.yaml").write_text(added)
    return "infra/good.template.yaml"


def check(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "check", *args], cwd=project, capture_output=True, text=True, check=False
    )


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


def test_each_file_gets_a_verdict_and_the_worst_is_the_exit_code(suite: pytest.Pytester) -> None:
    good = compliant_template(suite.path)
    before = tree(suite.path)

    result = check(suite.path, good, TEMPLATE_JSON)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{good}: compliant: all 6 required actions allowed"
    assert lines[1] == f"{TEMPLATE_JSON}: NOT compliant"
    assert re.search(r"^    dynamodb:Scan +denied +no statement allows it$", result.stdout, re.M)
    assert tree(suite.path) == before  # a hook leaves the working tree as it was


def test_every_file_compliant_is_exit_code_0(suite: pytest.Pytester) -> None:
    good = compliant_template(suite.path)
    result = check(suite.path, good)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, "{name}: could not check: no such file", id="missing"),
        pytest.param(
            '{"Resources": ',
            "{name}: could not check (exit code 4): --iam-policy-file {name}: line 1 column 15: "
            "not valid JSON: Expecting value",
            id="not-json",
        ),
    ],
)
def test_a_file_that_cannot_be_checked_is_exit_code_4(
    suite: pytest.Pytester, content: str | None, expected: str
) -> None:
    name = "broken.template.json"
    if content is not None:
        (suite.path / name).write_text(content)

    result = check(suite.path, name)

    assert result.returncode == 4
    assert result.stdout.splitlines()[0] == expected.format(name=name)


def test_without_the_suite_the_configuration_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.template.json").write_text((ROOT / TEMPLATE_JSON).read_text())
    (tmp_path / "pytest.ini").write_text("[pytest]\n")

    result = check(tmp_path, "a.template.json")

    assert result.returncode == 4
    assert (
        "could not check (exit code 4): ERROR: --iam-aws-mode needs the compliance suite, "
        f"but this pytest configuration ({tmp_path / 'pytest.ini'}) does not set "
        "iam_compliance_fixtures"
    ) in result.stdout


def test_reports_are_kept_when_asked(suite: pytest.Pytester) -> None:
    result = check(suite.path, "--reports", "kept", TEMPLATE_JSON)

    assert result.returncode == 1
    folder = suite.path / "kept" / "1-task-role.template.json"
    assert {p.name for p in folder.iterdir()} >= {
        "compliance.json",
        "compliance.html",
        "compliance.xml",
        "compliance.sarif",
    }


def test_the_hook_runs_the_check_on_templates_and_plans() -> None:
    [hook] = HOOKS
    assert (hook["id"], hook["entry"], hook["language"]) == (
        "iam-compliance",
        "iam-compliance check",
        "python",
    )
    assert hook["pass_filenames"] is True
    matches = re.compile(hook["files"]).search
    for name in (TEMPLATE_JSON, TEMPLATE_YAML, TERRAFORM_PLAN, "x/y.template.yml"):
        assert matches(name), name
    for name in (f"{IAC}/terraform/main.tf", "fixtures/policies/task_policy.json", "a.json"):
        assert not matches(name), name


def test_the_hook_manifest_is_valid() -> None:
    result = subprocess.run(
        [
            Path(sys.executable).with_name("pre-commit"),
            "validate-manifest",
            ".pre-commit-hooks.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_usage_error_of_the_command_is_exit_code_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse's own 2 means "interrupted" here; a usage error could not check (4)."""
    with pytest.raises(SystemExit) as raised:
        main(["merge"])
    assert raised.value.code == 4
    assert "error: the following arguments are required: DIR" in capsys.readouterr().err

    assert main(["merge", str(tmp_path), "--output", str(tmp_path)]) == 4
    assert (
        f"iam-compliance merge: error: --output {tmp_path}: is where {tmp_path} is; write the "
        "merged reports to another folder"
    ) in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written over the shard's folder
