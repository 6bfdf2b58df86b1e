"""Every workflow and the action: valid, pinned, and the organization workflow's shards.

The schemas are SchemaStore's, bundled with check-jsonschema (no network). actionlint
checks more (expressions, shell scripts) and runs too where it is installed; without it
the schemas are the check, and a warning says actionlint did not run.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ORG = yaml.safe_load((ROOT / ".github" / "workflows" / "iam-compliance-org.yml").read_text())
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def validate(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", schema, *paths],
        capture_output=True,
        text=True,
        check=False,
    )


@functools.cache
def actionlint() -> str | None:
    found = shutil.which("actionlint")
    if found is None:
        warnings.warn(
            "actionlint is not on PATH: the workflows were checked against SchemaStore's "
            "schema only",
            stacklevel=2,
        )
    return found


@pytest.mark.parametrize("workflow", [pytest.param(p, id=p.name) for p in WORKFLOWS])
def test_the_workflow_is_valid(workflow: Path) -> None:
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        result = validate(schema, workflow)
        assert result.returncode == 0, result.stdout + result.stderr
    binary = actionlint()
    if binary is not None:
        result = subprocess.run([binary, workflow], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    """The check above is worth something: a job without runs-on is refused."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: echo\n")
    assert validate("vendor.github-workflows", broken).returncode != 0


def uses(path: Path) -> list[tuple[str, str, str]]:
    """(action, ref, the rest of the line) of every ``uses:`` of a workflow or action."""
    return [
        (ref.split("@")[0], ref.split("@")[1] if "@" in ref else "", rest)
        for ref, rest in re.findall(r"^[ \t-]*uses: (\S+)(.*)$", path.read_text(), re.MULTILINE)
        if not ref.startswith("./")
    ]


def test_third_party_actions_are_pinned_alike_everywhere() -> None:
    pinned: dict[str, set[str]] = {}
    for path in [*WORKFLOWS, ROOT / "action.yml"]:
        for action, ref, rest in uses(path):
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {action}@{ref}"
            assert re.fullmatch(r" # v\d+\.\d+\.\d+", rest), f"{path.name}: {action}: no version"
            pinned.setdefault(action, set()).add(ref + rest)
    assert {action: refs for action, refs in pinned.items() if len(refs) > 1} == {}
    assert "actions/download-artifact" in pinned


def steps(job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ORG["jobs"][job]["steps"]
    return found


def test_the_shards_are_a_matrix_that_runs_to_the_end() -> None:
    shard = ORG["jobs"]["shard"]
    assert shard["strategy"]["fail-fast"] is False
    assert shard["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    [check] = [s for s in steps("shard") if "--iam-shard" in s.get("run", "")]
    assert check["env"]["SHARD"] == "${{ matrix.shard }}/${{ strategy.job-total }}"
    assert '--iam-shard="$SHARD"' in check["run"]
    [upload] = [s for s in steps("shard") if "upload-artifact" in s.get("uses", "")]
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"


def test_the_merge_job_reads_every_shard_and_gates_on_the_merge() -> None:
    merge = ORG["jobs"]["merge"]
    assert (merge["needs"], merge["if"]) == ("shard", "always()")
    [upload] = [s for s in steps("shard") if "upload-artifact" in s.get("uses", "")]
    [download] = [s for s in steps("merge") if "download-artifact" in s.get("uses", "")]
    pattern = download["with"]["pattern"].replace("*", "1")
    assert upload["with"]["name"].replace("${{ matrix.shard }}", "1") == pattern
    [merging] = [s for s in steps("merge") if "iam-compliance merge" in s.get("run", "")]
    assert "if" not in merging  # its exit code is the job's
    assert "iam-compliance merge shards/* --output reports" in merging["run"]
    assert [s["if"] for s in steps("merge") if "upload-artifact" in s.get("uses", "")] == [
        "always()"
    ]


@pytest.mark.parametrize(
    ("report", "headline", "line"),
    [
        pytest.param(
            {
                "exit_status": 4,
                "compliant": False,
                "error": {"message": "shard 2 of 4 missing"},
                "targets": [],
                "merged": {"shards": [{}, {}, {}], "missing": [2]},
            },
            "### iam-compliance (organization), live mode: could not check (exit code 4)",
            "0 target(s) checked from 3 shard(s); missing: shard 2",
            id="missing-shard",
        ),
        pytest.param(
            {
                "exit_status": 4,
                "compliant": False,
                "error": {"message": "these reports are not shards of one run"},
                "targets": [],
                "merged": None,
            },
            "### iam-compliance (organization), live mode: could not check (exit code 4)",
            "0 target(s) checked from 0 shard(s)",
            id="not-merged",
        ),
        pytest.param(
            {
                "exit_status": 0,
                "compliant": True,
                "error": None,
                "targets": [{"name": "prod", "account": "1", "compliant": True, "actions": []}],
                "merged": {"shards": [{}], "missing": []},
            },
            "### iam-compliance (organization), live mode: compliant",
            "1 target(s) checked from 1 shard(s)",
            id="compliant",
        ),
    ],
)
def test_the_merge_summary_says_could_not_check(
    tmp_path: Path, report: dict[str, Any], headline: str, line: str
) -> None:
    jq = shutil.which("jq")
    assert jq, "jq (which the workflow's summary uses) is not installed"
    [summary] = [s for s in steps("merge") if s.get("name") == "Summarise"]
    program = summary["run"][summary["run"].index("jq -r '") + len("jq -r '") :]
    program = program[: program.index("' reports/compliance.json")]
    path = tmp_path / "compliance.json"
    path.write_text(json.dumps({"mode": "live", **report}))
    result = subprocess.run([jq, "-r", program, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (lines[0], lines[2]) == (headline, line)


def test_ci_runs_the_readmes_test_command_the_slow_self_tests_and_the_static_checks() -> None:
    """.ci/run is the README's second command, plus what the everyday run leaves out."""
    readme = (ROOT / "README.md").read_text()
    [command] = re.findall(r"^python3 -m venv \.venv && .*pytest testing.*$", readme, re.M)
    pytest_part = command.split(" && ")[-1]
    steps = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    assert pytest_part in steps
    assert f"{pytest_part} -m slow" in steps
    assert ".ci/lint" in steps
    markers = (ROOT / "testing" / "pytest.ini").read_text()
    assert '-m "not slow"' in markers
