"""JUnit XML suite properties: the mode, and each target's account, role, policy and version.

pytest's junitxml plugin has no public way to add suite properties once the session is
over (its ``record_testsuite_property`` fixture does nothing under xdist), so the file it
wrote is read back and the properties added: :func:`add_suite_properties`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import __version__
from ..config import Settings
from .document import ChecksEntry
from .files import write_text
from .model import TargetSection


def junit_properties(
    settings: Settings,
    sections: Mapping[str, TargetSection],
    checks: ChecksEntry | None = None,
) -> list[tuple[str, str]]:
    """Suite properties: mode, how many of the suite's checks ran (``checks``, with
    ``partial`` true when some did not), then each target's account, role, policy and
    version.

    With several targets each name is prefixed with the target's (``prod.account``).
    ``sections`` maps target names to what was judged; a target no test checked still
    gets its configuration, with ``policy_version`` ``unknown``.
    """
    properties = [("mode", settings.mode), ("iam_compliance_version", __version__)]
    if checks is not None:
        properties.extend(
            [
                ("checks", f"{checks.ran} of {checks.expected}"),
                ("partial", "true" if checks.partial else "false"),
            ]
        )
    several = len(settings.targets) > 1
    for target in settings.targets:
        prefix = f"{target.name}." if several else ""
        section = sections.get(target.name)
        version = "unknown"
        if section is not None:
            version = section.default_version or "not attached"
        values = [
            ("account", target.account_id),
            ("region", target.region),
            ("role", target.role_arn),
            ("policy", target.policy_arn),
            ("policy_version", version),
            ("table", target.table_arn),
        ]
        if section is not None:
            values.append(("compliant", "true" if section.compliant else "false"))
            if section.endpoint_url is not None:  # live mode: where, and as whom
                values.append(("endpoint", section.endpoint_url))
            if section.caller_arn is not None:
                values.append(("caller", section.caller_arn))
        properties.extend((prefix + name, value) for name, value in values)
    return properties


#: The test case that carries why a run could not check (a CI system shows it as an error).
ERROR_CASE = ("iam-compliance", "could not check")
#: The test case that says a run was partial: its passes are not a verdict on the role.
PARTIAL_CASE = ("iam-compliance", "partial run")


def add_suite_properties(
    path: Path,
    properties: Sequence[tuple[str, str]],
    *,
    error: str | None = None,
    partial: str | None = None,
    destination: Path | None = None,
) -> None:
    """Add ``properties`` to every ``<testsuite>`` of the JUnit file at ``path``, and, when
    the run could not check or did not finish, a test case in error that says why
    (``error``); when it was partial, one that says so (``partial``).

    The result is written to ``destination`` (default: ``path``), as a new file.
    """
    written = None
    if error is None and partial is None:
        written = _inserted(path.read_text(encoding="utf-8"), properties)
    if written is None:
        written = _parsed_then_written(path, properties, error=error, partial=partial)
    write_text(destination or path, written)


def _parsed_then_written(
    path: Path,
    properties: Sequence[tuple[str, str]],
    *,
    error: str | None = None,
    partial: str | None = None,
) -> str:
    """What :func:`add_suite_properties` writes, by parsing the file and writing it again."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        found = suite.find("properties")
        if found is None:
            found = ET.Element("properties")
            suite.insert(0, found)
        for name, value in properties:
            ET.SubElement(found, "property", {"name": name, "value": value})
    if error is not None and suites:
        _add_error_case(suites[0], error, ERROR_CASE)
    if partial is not None and suites:
        _add_error_case(suites[0], partial, PARTIAL_CASE)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="utf-8"?>' + text


#: The head of a file as pytest's junitxml writes it: its one suite's start tag, then
#: perhaps the suite's own properties (``record_testsuite_property``).
_PYTEST_HEAD = re.compile(
    r'<\?xml version="1\.0" encoding="utf-8"\?><testsuites\b[^<>]*>'
    r"(?P<suite><testsuite\b[^<>]*>)(?P<properties><properties>)?"
)
#: A suite's start tag: XML escapes ``<`` in text and attributes, so each ``<`` is a tag's.
_SUITE_TAG = re.compile(r"<testsuite[\s>/]")


def _inserted(text: str, properties: Sequence[tuple[str, str]]) -> str | None:
    """``text`` with ``properties`` added to its suite, written into the text itself; None
    unless it holds one suite, where pytest's junitxml puts it.

    What :func:`_parsed_then_written` writes, without parsing the file and writing it again
    (a quarter of a second at 10,000 tests).
    """
    head = _PYTEST_HEAD.match(text)
    if head is None or head.group("suite").endswith("/>"):  # a suite of no tests: empty
        return None
    if _SUITE_TAG.search(text, head.end("suite")) is not None:
        return None
    element = ET.Element("properties")
    for name, value in properties:
        ET.SubElement(element, "property", {"name": name, "value": value})
    written = ET.tostring(element, encoding="unicode")
    if head.group("properties") is None:
        if text.startswith("<properties", head.end()):
            return None  # an empty ``<properties />`` of its own
        return text[: head.end()] + written + text[head.end() :]
    # After the suite's own properties, as ElementTree appends them.
    at = text.find("</properties>", head.end())
    if at < 0 or not properties:
        return None if at < 0 else text
    return text[:at] + written[len("<properties>") : -len("</properties>")] + text[at:]


def _add_error_case(suite: ET.Element, error: str, which: tuple[str, str]) -> None:
    classname, name = which
    case = ET.SubElement(suite, "testcase", {"classname": classname, "name": name, "time": "0"})
    ET.SubElement(case, "error", {"message": error.splitlines()[0]}).text = error
    for counter in ("tests", "errors"):
        suite.set(counter, str(int(suite.get(counter, "0")) + 1))
