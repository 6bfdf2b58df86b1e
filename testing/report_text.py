"""The reports of a run as text to compare: what changes from run to run normalised.

Shared by the self-tests that hold a report's content to a recorded file
(``testing/report/test_html_visible.py``, ``testing/report/test_report_stability.py``).
A recorded file is rewritten on purpose only: set ``UPDATE_VISIBLE=1`` and review the
diff (:func:`check_or_record`).
"""

from __future__ import annotations

import html
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

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


#: A date and time, as the reports and the request context write them.
_TIME = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"


def normalised(text: str, project: Path) -> str:
    """``text`` (a report file) with what differs between two runs of the same input
    replaced: times, the run's epoch seconds, JUnit's durations, moto's role ids, the moto
    server's port, the host name and the project's temporary folder."""
    text = text.replace(str(project), "<project>")
    text = re.sub(_TIME, "<time>", text)
    # Epoch seconds (aws:EpochTime): ten digits, never part of a 12-digit account id.
    text = re.sub(r"(?<![\d.])1[6-9]\d{8}(?![\d.])", "<epoch>", text)
    text = re.sub(r"\bAROA[A-Z0-9]{12,}\b", "<role id>", text)
    text = re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:<port>", text)
    text = re.sub(r'\btime="[\d.]+"', 'time="<s>"', text)
    return re.sub(r'\bhostname="[^"]*"', 'hostname="<host>"', text)


def reports_text(project: Path) -> str:
    """Every report file a run left, normalised, in one text: a section per file."""
    folder = project / "reports"
    sections = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name == "README.md":
            continue
        text = path.read_text(encoding="utf-8")
        if name.endswith(".html"):
            body = visible_text(text)
        elif name.endswith((".json", ".sarif")):
            body = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        else:
            body = text if text.endswith("\n") else text + "\n"
        sections.append(f"===== {name}\n{normalised(body, project)}")
    return "".join(sections)


def check_or_record(found: str, expected: Path) -> None:
    """Compare the page's text with the recorded file. With ``UPDATE_VISIBLE``, record it
    and fail: a test that compared with what it had just written would pass whatever the
    page said."""
    if os.environ.get("UPDATE_VISIBLE"):
        expected.write_text(found, encoding="utf-8")
        pytest.fail(f"recorded {expected}; review the diff and run again without UPDATE_VISIBLE")
    assert found == expected.read_text(encoding="utf-8")
