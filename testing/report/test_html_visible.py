"""The HTML report shows what it showed before the report layer moved to templates.

Each scenario runs the real suite and compares the page's visible text (the summary, and
every result row's cells and details, tags stripped) with a file recorded from the report
as it was rendered by hand-written HTML. A change in what the page says must show up here
and be recorded on purpose: ``UPDATE_VISIBLE=1 pytest testing/report/test_html_visible.py``.
"""

from __future__ import annotations

import html
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

DATA = Path(__file__).with_name("data")
#: Block-level tags: each starts a new line of visible text.
_BLOCKS = frozenset(
    [
        "p",
        "div",
        "tr",
        "li",
        "h3",
        "h4",
        "br",
        "pre",
        "span",
        "td",
        "th",
        "summary",
        "details",
        "ul",
        "table",
    ]
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def text_of(markup: str) -> list[str]:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(parser.parts).splitlines())
    return [line for line in lines if line]


def visible_text(page: str) -> str:
    """The summary, then each test's first four cells and HTML details, as lines of text."""
    blob = re.search(r'<div id="data-container" data-jsonblob="([^"]*)"', page)
    assert blob, "no data-container in the page"
    data = json.loads(html.unescape(blob.group(1)))
    summary = page[page.index('class="additional-summary prefix"') : page.index("run-count")]
    lines = ["# summary", *text_of(summary.split(">", 1)[1])]
    for nodeid in sorted(data["tests"]):
        for entry in data["tests"][nodeid]:
            lines.append(f"# {nodeid}")
            lines.extend(text_of("".join(entry["resultsTableRow"][:4])))
            details = [x["content"] for x in entry["extras"] if x["format_type"] == "html"]
            lines.extend(text_of("".join(details)))
    text = "\n".join(lines) + "\n"
    # The run's time is part of the modelled request (aws:CurrentTime, aws:EpochTime).
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)
    text = re.sub(r"aws:EpochTime = \d+", "aws:EpochTime = <epoch>", text)
    # The mock account's role id (the start of aws:userid) differs from run to run.
    text = re.sub(r"\bAROA[A-Z0-9]{12,}\b", "<role id>", text)
    return re.sub(r"(?m)^\d{10}$", "<epoch>", text)


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


def check_or_record(found: str, expected: Path) -> None:
    """Compare the page's text with the recorded file. With ``UPDATE_VISIBLE``, record it
    and fail: a test that compared with what it had just written would pass whatever the
    page said."""
    if os.environ.get("UPDATE_VISIBLE"):
        expected.write_text(found, encoding="utf-8")
        pytest.fail(f"recorded {expected}; review the diff and run again without UPDATE_VISIBLE")
    assert found == expected.read_text(encoding="utf-8")


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
