"""The real suite's reports with more targets than the Environment lists: each file grows
by the same amount per target, with no part repeated per row or per target pair."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.report.html import lists_passed_tests

from conftest import ACCOUNT, CLASS, read_json

TARGETS = 5


def run(suite: pytest.Pytester, count: int, *options: str) -> tuple[str, dict[str, Any]]:
    """The suite against ``count`` targets in the mock account: the page and its data."""
    folder = suite.mkdir("envs")
    args = []
    for n in range(count):
        path = folder / f"t{n}.env"
        path.write_text(f"AWS_ACCOUNT_ID={ACCOUNT}\nECS_TASK_ROLE_NAME=Role{n}\n")
        args += ["--iam-env-file", f"envs/t{n}.env"]
    suite.runpytest(*args, *options).assert_outcomes(passed=6 * count, failed=4 * count)
    text = (suite.path / "reports" / "compliance.html").read_text(encoding="utf-8")
    found = re.search(r'<div id="data-container" data-jsonblob="([^"]*)"', text)
    assert found
    return text, json.loads(html.unescape(found.group(1)))


def test_many_targets_page_and_json(suite: pytest.Pytester) -> None:
    text, data = run(suite, TARGETS)

    roles = ", ".join(f"Role{n}" for n in range(TARGETS))
    assert data["title"] == f"IAM compliance: {roles} in account {ACCOUNT} (MOCK)"
    environment = data["environment"]
    assert environment["Targets"].startswith(f"{TARGETS}; ")
    assert not [key for key in environment if "(t" in key]  # no row per target
    page = html.unescape(text)
    summary = page[page.index('class="additional-summary prefix"') : page.index("run-count")]
    # The grid links each target to its section, which holds its document once.
    links = re.findall(r'<a href="#(iamc-target-t\d)">t\d</a>', summary)
    assert links == [f"iamc-target-t{n}" for n in range(TARGETS)]
    for n, element_id in enumerate(links):
        assert summary.count(f'id="{element_id}"') == 1
        assert summary.count(f'id="iamc-doc-t{n}"') == 1
    assert summary.count('"Version": "2012-10-17"') == TARGETS
    # No row repeats a document or a diff; rows link to them.
    extras = [
        html.unescape(str(x["content"]))
        for entries in data["tests"].values()
        for entry in entries
        for x in entry["extras"]
    ]
    assert not [x for x in extras if '"Version"' in x or "(proposed new version)" in x]
    assert sum('href="#iamc-doc-t' in x for x in extras) == 4 * TARGETS
    # The next-step hint names the target's own env file, not every one in every target.
    document = read_json(suite)
    [hint] = document["targets"][0]["next_steps"]
    assert "--iam-env-file envs/t0.env --fix-dry-run" in hint
    assert "t4.env" not in hint


def test_report_size_grows_linearly_with_targets(suite: pytest.Pytester) -> None:
    """Twice the targets, twice the bytes, give or take the parts written once."""
    sizes = {}
    for count in (4, 8):
        for name in ("envs", "reports"):
            path = suite.path / name
            if path.exists():
                for child in path.iterdir():
                    child.unlink()
                path.rmdir()
        run(suite, count)
        folder: Path = suite.path / "reports"
        sizes[count] = {p.name: p.stat().st_size for p in folder.iterdir()}
    for name in ("compliance.html", "compliance.json", "compliance.xml"):
        ratio = sizes[8][name] / sizes[4][name]
        assert 1.5 < ratio < 2.05, (name, sizes)


def rows(data: dict[str, Any]) -> dict[str, str]:
    """The results table's rows: node id -> result."""
    return {nodeid: entry["result"] for nodeid, found in data["tests"].items() for entry in found}


def test_with_many_targets_the_table_lists_what_did_not_pass_once(
    suite: pytest.Pytester,
) -> None:
    """``failures`` is what ``auto`` does beyond 100 targets: no passed rows, a target's
    failed actions in its one "all required permissions" row, the counts said."""
    text, data = run(suite, 3, "-o", "iam_compliance_html_rows=failures")

    listed = rows(data)
    assert set(listed.values()) == {"Failed"}
    assert sorted(listed) == sorted(
        f"{CLASS}::test_task_role_has_all_required_permissions[t{n}]" for n in range(3)
    )
    page = html.unescape(text)
    assert "Not listed there, nor counted in its filters: 18 passed tests and 9 failed" in page
    assert "Request context (" not in page  # compliance.json has each target's
    # Each row links to its target's section, which explains it.
    for n in range(3):
        assert f'<a href="#iamc-target-t{n}"' in page
    assert len(read_json(suite)["tests"]) == 30


def test_failed_actions_are_listed_when_no_row_lists_them(suite: pytest.Pytester) -> None:
    """Without the "all required permissions" test (deselected), each failed action has
    a row of its own."""
    _, data = run_selected(suite)
    failed = {nodeid for nodeid, result in rows(data).items() if result == "Failed"}
    assert len(failed) == 6
    assert all("test_required_action_is_allowed" in nodeid for nodeid in failed)


def run_selected(suite: pytest.Pytester) -> tuple[str, dict[str, Any]]:
    folder = suite.mkdir("envs")
    args = []
    for n in range(2):
        (folder / f"t{n}.env").write_text(f"AWS_ACCOUNT_ID={ACCOUNT}\nECS_TASK_ROLE_NAME=Role{n}\n")
        args += ["--iam-env-file", f"envs/t{n}.env"]
    result = suite.runpytest(
        *args, "-o", "iam_compliance_html_rows=failures", "-k", "not all_required"
    )
    result.assert_outcomes(passed=12, failed=6)
    text = (suite.path / "reports" / "compliance.html").read_text(encoding="utf-8")
    found = re.search(r'<div id="data-container" data-jsonblob="([^"]*)"', text)
    assert found
    return text, json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize(
    ("setting", "targets", "listed"),
    [("", 100, True), ("auto", 101, False), ("all", 1000, True), ("failures", 1, False)],
)
def test_which_rows_the_page_lists(setting: str, targets: int, listed: bool) -> None:
    assert lists_passed_tests(setting, targets, where="pytest.ini") is listed


def test_a_bad_rows_setting_names_the_setting_and_the_values(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-o", "iam_compliance_html_rows=some")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        [
            "*iam_compliance_html_rows (*): expected one of auto, all, failures, got 'some'*",
        ]
    )
