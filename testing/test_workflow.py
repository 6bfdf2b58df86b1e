"""The example GitHub Actions workflow: pinned actions and packages, an honest summary."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

WORKFLOW = (ROOT / ".github" / "workflows" / "iam-compliance.yml").read_text()


def test_third_party_actions_are_pinned_to_commits() -> None:
    uses = re.findall(r"uses: (\S+)(.*)", WORKFLOW)
    actions = [(ref, rest) for ref, rest in uses if not ref.startswith("./")]
    assert actions
    for ref, rest in actions:
        # owner/repo, or owner/repo/path for an action in a subfolder (codeql-action/...)
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", rest), f"{ref}: no version comment"


def test_the_suite_is_installed_from_the_lock_file() -> None:
    assert "python -m pip install --quiet -r requirements/ci.txt" in WORKFLOW
    assert "python -m pip install --quiet --no-deps -e ." in WORKFLOW
    locked = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements" / "ci.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        assert name in locked, f"{name} is not pinned in requirements/ci.txt"


def test_the_documented_caller_grants_id_token_write() -> None:
    caller = WORKFLOW[WORKFLOW.index("# A deploy workflow gates") : WORKFLOW.index("name:")]
    assert "#         id-token: write" in caller


@pytest.mark.parametrize(
    ("report", "headline"),
    [
        pytest.param(
            {"exit_status": 4, "compliant": False, "targets": [], "error": {"message": "x: y"}},
            "### iam-compliance, live mode: could not check (exit code 4)",
            id="could-not-check",
        ),
        pytest.param(
            {"exit_status": 1, "compliant": False, "targets": [], "error": None},
            "### iam-compliance, live mode: NOT compliant",
            id="not-compliant",
        ),
        pytest.param(
            {
                "exit_status": 4,
                "compliant": False,
                "partial": True,
                "checks": {"ran": 6, "expected": 10},
                "targets": [],
                "error": None,
            },
            "### iam-compliance, live mode: not a verdict, partial: 6 of 10 checks ran "
            "(exit code 4)",
            id="partial",
        ),
        pytest.param(
            {"exit_status": None, "compliant": False, "targets": [], "error": {"message": "x"}},
            "### iam-compliance, live mode: could not check (exit code null)",
            id="did-not-finish",
        ),
    ],
)
def test_the_job_summary_tells_could_not_check_from_not_compliant(
    tmp_path: Path, report: dict[str, object], headline: str
) -> None:
    jq = shutil.which("jq")
    assert jq, "jq (which the workflow's summary uses) is not installed"
    program = WORKFLOW[WORKFLOW.index("jq -r '") + len("jq -r '") :]
    program = program[: program.index("' reports/compliance.json")]
    path = tmp_path / "compliance.json"
    path.write_text(json.dumps({"mode": "live", **report}))
    result = subprocess.run([jq, "-r", program, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == headline
