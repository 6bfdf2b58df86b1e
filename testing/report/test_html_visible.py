"""The HTML report shows what it showed before the report layer moved to templates.

Each scenario runs the real suite and compares the page's visible text (the summary, and
every result row's cells and details, tags stripped) with a file recorded from the report
as it was rendered by hand-written HTML. A change in what the page says must show up here
and be recorded on purpose: ``UPDATE_VISIBLE=1 pytest testing/report/test_html_visible.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from report_text import check_or_record, visible_text

DATA = Path(__file__).with_name("data")


@pytest.mark.parametrize(
    ("scenario", "args", "failed"),
    [
        pytest.param("default", [], 4, id="not-compliant"),
        pytest.param("dryrun", ["--fix-dry-run"], 4, id="fix-dry-run"),
        pytest.param(
            "findings",
            [
                "--iam-policy-file",
                "findings-policy.json",
                "--iam-context",
                "aws:SourceVpc=vpc-1234",
            ],
            3,
            id="findings-conditions-and-escaping",
        ),
    ],
)
def test_page_says_what_it_said(
    suite: pytest.Pytester, scenario: str, args: list[str], failed: int
) -> None:
    (suite.path / "findings-policy.json").write_text((DATA / "findings-policy.json").read_text())
    result = suite.runpytest(*args)

    result.assert_outcomes(passed=10 - failed, failed=failed)
    page = (suite.path / "reports" / "compliance.html").read_text(encoding="utf-8")
    check_or_record(visible_text(page), DATA / f"visible-{scenario}.txt")


def test_recording_fails_the_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = tmp_path / "visible-new.txt"
    monkeypatch.setenv("UPDATE_VISIBLE", "1")

    with pytest.raises(pytest.fail.Exception, match="review the diff and run again without"):
        check_or_record("# summary\n", recorded)

    assert recorded.read_text(encoding="utf-8") == "# summary\n"
    monkeypatch.delenv("UPDATE_VISIBLE")
    check_or_record("# summary\n", recorded)
    with pytest.raises(AssertionError):
        check_or_record("# summary, changed\n", recorded)
