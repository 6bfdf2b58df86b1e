"""Reports that stand in for a run's own: a run that could not start, or has not finished.

A usage error while pytest configures the suite stops the run before pytest-html and
junitxml are set up, so compliance.json, .xml and .html are written here, small, each
with the error. And every run, as it starts, writes the same three saying that it has not
finished, which its own reports replace at its end: a run killed on the way (SIGKILL, a
CI runner's timeout) leaves reports that say so, never the previous run's. Either way the
files an earlier run wrote that this one may not (the SARIF log, a source file's patches)
are removed first: no report of an earlier run survives beside this one's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from .build import report_document, utc_text
from .codec import to_json
from .document import ErrorEntry
from .files import remove_files, write_json, write_text
from .html import stand_in_page
from .junit import ERROR_CASE
from .labels import ErrorKind

JSON_NAME = "compliance.json"


def write_start_reports(
    folder: Path,
    message: str,
    *,
    mode: str,
    html_path: Path | None,
    xml_path: Path | None,
    stale: Iterable[Path] = (),
) -> None:
    """The run could not start (exit code 4): write compliance.json, and the HTML and
    JUnit files at the paths given (None: the user named their own files, which are left
    to pytest-html and junitxml), after removing the ``stale`` files of earlier runs."""
    remove_files(stale)
    _write(folder, ErrorEntry(message), 4, mode, html_path, xml_path)


def write_unfinished_reports(
    folder: Path,
    *,
    mode: str,
    started: datetime,
    html_path: Path | None,
    xml_path: Path | None,
    stale: Iterable[Path] = (),
) -> None:
    """The run starts: remove the ``stale`` files of earlier runs and write reports saying
    that this one has not finished (exit status null), for its own to replace."""
    remove_files(stale)
    message = (
        f"the run that started at {utc_text(started)} has not finished: it is still "
        "running, or it was stopped before it could write its reports (killed, or its CI "
        "job cancelled or timed out)"
    )
    _write(folder, ErrorEntry(message, ErrorKind.DID_NOT_FINISH), None, mode, html_path, xml_path)


def _write(
    folder: Path,
    error: ErrorEntry,
    exit_status: int | None,
    mode: str,
    html_path: Path | None,
    xml_path: Path | None,
) -> None:
    document = report_document(
        generated_at=datetime.now(UTC),
        mode=mode,
        policy_file=None,
        context={},
        exit_status=exit_status,
        sections=(),
        tests=(),
        error=error,
    )
    write_json(folder / JSON_NAME, to_json(document))
    if xml_path is not None:
        write_text(xml_path, _junit(error.message))
    if html_path is not None:
        write_text(html_path, stand_in_page(error.message, mode=mode, exit_status=exit_status))


def _junit(message: str) -> str:
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites, "testsuite", {"name": "pytest", "tests": "1", "errors": "1", "failures": "0"}
    )
    classname, name = ERROR_CASE
    case = ET.SubElement(suite, "testcase", {"classname": classname, "name": name, "time": "0"})
    ET.SubElement(case, "error", {"message": message.splitlines()[0]}).text = message
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(suites, encoding="unicode")
