"""Reports never say nothing is wrong when the run did not check everything.

An interrupted run (SIGINT, what CI sends when it cancels a job), an internal error, a run
killed on the way, a run that could not check, and a partial run (``-k``, ``--deselect``)
each say so in compliance.json, the JUnit file and the HTML page; none leaves a SARIF log
(which would close code scanning's open alerts) or an earlier run's files.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import CLASS, TEMPLATE_YAML, read_json

#: Stops the run while the test named by IAM_SELFTEST_STOP_AT runs: a real SIGINT
#: (SIGKILL with IAM_SELFTEST_SIGNAL=KILL), pytest.exit(returncode=0) (EXIT_AT), or an
#: internal error of a plugin (FAIL_AT).
STOPPING = """
import os
import signal

import pytest


@pytest.fixture(autouse=True)
def _stop(request):
    if os.environ.get("IAM_SELFTEST_STOP_AT", "?") in request.node.nodeid:
        # Ctrl-C as a terminal sends it, even where this process was started with SIGINT
        # ignored (as a shell's background job is): Python's own handler.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.kill(os.getpid(), getattr(signal, "SIG" + os.environ["IAM_SELFTEST_SIGNAL"]))
    if os.environ.get("IAM_SELFTEST_EXIT_AT", "?") in request.node.nodeid:
        pytest.exit("a plugin stops the run", returncode=0)
    yield


def pytest_runtest_logreport(report):
    wanted = os.environ.get("IAM_SELFTEST_FAIL_AT", "?")
    if wanted in report.nodeid and report.when == "call":
        raise RuntimeError("a plugin failed")
"""
SCAN = f"{CLASS}::test_required_action_is_allowed[dynamodb:Scan]"


def junit_cases(folder: Path) -> dict[str, ET.Element]:
    suite = ET.parse(folder / "compliance.xml").getroot().find("testsuite")
    assert suite is not None
    return {case.attrib["name"]: case for case in suite.iter("testcase")}


def junit_properties(folder: Path) -> dict[str, str]:
    suite = ET.parse(folder / "compliance.xml").getroot().find("testsuite")
    assert suite is not None
    return {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}


def summary(folder: Path) -> str:
    page = (folder / "compliance.html").read_text(encoding="utf-8")
    return page[page.index('class="additional-summary prefix"') : page.index("run-count")]


def stopping(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    (suite.path / "tests" / "conftest.py").write_text(STOPPING)
    for name, value in env.items():
        monkeypatch.setenv(f"IAM_SELFTEST_{name}", value)


def a_source_run_wrote_sarif(suite: pytest.Pytester) -> Path:
    """A complete run on a template, with --fix-dry-run: SARIF and a patch."""
    suite.runpytest("--iam-policy-file", TEMPLATE_YAML, "--fix-dry-run")
    folder = suite.path / "reports"
    assert (folder / "compliance.sarif").is_file()
    assert list((folder / "fix").glob("*.patch"))
    return folder


@pytest.mark.parametrize(
    ("env", "status", "kind", "why"),
    [
        pytest.param(
            {"STOP_AT": "[dynamodb:Query]", "SIGNAL": "INT"},
            pytest.ExitCode.INTERRUPTED,
            "interrupted",
            "the run was interrupted before it finished (KeyboardInterrupt)",
            id="sigint",
        ),
        pytest.param(
            {"EXIT_AT": "[dynamodb:Query]"},
            pytest.ExitCode.INTERRUPTED,  # not pytest.exit's 0: the run did not finish
            "interrupted",
            "the run was interrupted before it finished (Exit: a plugin stops the run)",
            id="pytest-exit-0",
        ),
        pytest.param(
            {"FAIL_AT": "[dynamodb:Query]"},
            pytest.ExitCode.INTERNAL_ERROR,
            "internal_error",
            "the run stopped on an internal error (RuntimeError: a plugin failed)",
            id="internal-error",
        ),
    ],
)
def test_a_run_that_does_not_finish_says_so_in_every_report(
    suite: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    status: pytest.ExitCode,
    kind: str,
    why: str,
) -> None:
    folder = a_source_run_wrote_sarif(suite)
    stopping(suite, monkeypatch, **env)

    result = suite.runpytest_subprocess("--iam-policy-file", TEMPLATE_YAML, "-p", "no:randomly")

    assert result.ret == status
    document = read_json(suite)
    assert (document["exit_status"], document["compliant"], document["complete"]) == (
        status,
        False,
        False,
    )
    assert document["error"]["kind"] == kind
    assert document["error"]["message"].startswith(why)
    assert 0 < document["checks"]["ran"] < document["checks"]["expected"] == 10
    error = junit_cases(folder)["could not check"].find("error")
    assert error is not None
    assert (error.text or "").startswith(why)
    page = summary(folder)
    assert f"COULD NOT CHECK</span> (exit code {int(status)})" in page
    assert why in page
    # A log without the unchecked problems would close their code scanning alerts.
    assert not (folder / "compliance.sarif").exists()
    assert not list((folder / "fix").glob("*"))


def test_a_killed_run_leaves_reports_saying_it_did_not_finish(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = a_source_run_wrote_sarif(suite)
    stopping(suite, monkeypatch, STOP_AT="[dynamodb:Query]", SIGNAL="KILL")

    result = suite.runpytest_subprocess("--iam-policy-file", TEMPLATE_YAML, "-p", "no:randomly")

    assert result.ret == -9  # nothing of pytest ran after the signal
    document = read_json(suite)
    assert (document["exit_status"], document["compliant"]) == (None, False)
    assert document["error"]["kind"] == "did_not_finish"
    error = junit_cases(folder)["could not check"].find("error")
    assert error is not None
    assert "has not finished" in (error.text or "")
    assert "DID NOT FINISH" in (folder / "compliance.html").read_text()
    assert not (folder / "compliance.sarif").exists()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--iam-policy-file", "missing.json"), id="exit-4-at-start"),
        pytest.param(("--iam-policy-file", TEMPLATE_YAML, "--aws-mode", "live"), id="bad-options"),
        pytest.param((), id="without-a-policy-file"),
    ],
)
def test_no_report_of_an_earlier_run_survives(
    suite: pytest.Pytester, args: tuple[str, ...]
) -> None:
    folder = a_source_run_wrote_sarif(suite)

    suite.runpytest(*args)

    assert not (folder / "compliance.sarif").exists()
    assert not list((folder / "fix").glob("*"))
    document = read_json(suite)
    assert document["compliant"] is False
    assert document["error"] is None if not args else document["exit_status"] == 4


def test_a_partial_run_is_never_a_pass(suite: pytest.Pytester) -> None:
    """Deselecting the failing checks used to exit 0 beside reports saying NOT COMPLIANT."""
    result = suite.runpytest("-k", "not Scan and not Query and not Describe and not all_required")

    result.assert_outcomes(passed=6, deselected=4)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = "partial: 6 of 10 checks ran"
    result.stdout.fnmatch_lines([f"iam-compliance: {line} (*); exit code 4: not a verdict*"])
    document = read_json(suite)
    assert (document["partial"], document["complete"], document["compliant"]) == (
        True,
        False,
        False,
    )
    assert document["checks"] == {"ran": 6, "expected": 10}
    assert document["error"] is None
    folder = suite.path / "reports"
    assert junit_properties(folder)["partial"] == "true"
    assert junit_properties(folder)["checks"] == "6 of 10"
    error = junit_cases(folder)["partial run"].find("error")
    assert error is not None
    assert (error.text or "").startswith(line)
    assert f"NOT A VERDICT</span> {line}" in summary(folder)


@pytest.mark.parametrize(
    ("args", "status", "ran"),
    [
        pytest.param(("--deselect", SCAN), pytest.ExitCode.TESTS_FAILED, 9, id="deselect-one"),
        pytest.param((SCAN,), pytest.ExitCode.TESTS_FAILED, 1, id="one-node-id"),
        pytest.param(("-x",), pytest.ExitCode.TESTS_FAILED, 1, id="exitfirst"),
        pytest.param((), pytest.ExitCode.TESTS_FAILED, 10, id="every-check"),
    ],
)
def test_a_partial_run_with_a_failure_exits_1_and_says_it_is_partial(
    suite: pytest.Pytester, args: tuple[str, ...], status: pytest.ExitCode, ran: int
) -> None:
    result = suite.runpytest(*args)

    assert result.ret == status
    document: dict[str, Any] = read_json(suite)
    assert document["checks"] == {"ran": ran, "expected": 10}
    assert document["partial"] is (ran < 10)
    assert document["complete"] is (ran == 10)
    assert document["compliant"] is False
    text = json.dumps(document)
    assert ("partial:" in result.stdout.str()) is (ran < 10), text
