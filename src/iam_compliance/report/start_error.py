"""The reports of a run that could not start: compliance.json, .xml and .html saying why.

A usage error while pytest configures the suite stops the run before pytest-html and
junitxml are set up, so the three reports are written here, small, each with the error:
an earlier run's reports must never stand for this one.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from .build import report_document
from .codec import to_json
from .files import write_json, write_text
from .junit import ERROR_CASE

JSON_NAME = "compliance.json"


def write_start_reports(
    folder: Path,
    message: str,
    *,
    mode: str,
    html_path: Path | None,
    xml_path: Path | None,
) -> None:
    """Write compliance.json, and the HTML and JUnit files at the paths given (None: the
    user named their own files, which are left to pytest-html and junitxml)."""
    document = report_document(
        generated_at=datetime.now(UTC),
        mode=mode,
        policy_file=None,
        context={},
        exit_status=4,
        sections=(),
        tests=(),
        error=message,
    )
    write_json(folder / JSON_NAME, to_json(document))
    if xml_path is not None:
        write_text(xml_path, _junit(message))
    if html_path is not None:
        write_text(html_path, _page(message, mode))


def _junit(message: str) -> str:
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites, "testsuite", {"name": "pytest", "tests": "1", "errors": "1", "failures": "0"}
    )
    classname, name = ERROR_CASE
    case = ET.SubElement(suite, "testcase", {"classname": classname, "name": name, "time": "0"})
    ET.SubElement(case, "error", {"message": message.splitlines()[0]}).text = message
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(suites, encoding="unicode")


def _page(message: str, mode: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"/>'
        "<title>IAM compliance: could not check</title></head><body>"
        "<h1>IAM compliance: COULD NOT CHECK</h1>"
        f"<p>Mode: {html.escape(mode)}. The run stopped before any check (exit code 4), so "
        "this is neither a pass nor a fail:</p>"
        f"<pre>{html.escape(message)}</pre></body></html>\n"
    )
