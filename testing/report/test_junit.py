"""JUnit suite properties added to the file pytest's junitxml wrote."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from iam_compliance.report.junit import _parsed_then_written, add_suite_properties

#: Values XML must escape, in names and values alike.
PROPERTIES = [
    ("mode", "mock"),
    ("prod.role", 'arn:aws:iam::111122223333:role/a"b<c>&d'),
    ("multi\nline", "tab\there"),
]

MODULE = """
import pytest

def test_passes():
    pass

@pytest.mark.parametrize("text", ["<testsuite name='x'>", "a & b", "quote \\" and >"])
def test_fails(text):
    pytest.fail(text, pytrace=False)
"""


def junit_of(pytester: pytest.Pytester, module: str) -> Path:
    pytester.makepyfile(test_module=module)
    pytester.runpytest_inprocess("--junitxml=out.xml", "-p", "no:iam_compliance")
    return pytester.path / "out.xml"


@pytest.mark.parametrize("properties", [PROPERTIES, []], ids=["properties", "no properties"])
@pytest.mark.parametrize(
    "module",
    [
        MODULE,
        MODULE + "\ndef test_records(record_testsuite_property):\n"
        "    record_testsuite_property('own', '<1>')\n",
        "",
    ],
    ids=["pytest's file", "with its own suite property", "no tests"],
)
def test_properties_are_written_into_pytests_file_as_parsing_it_would(
    pytester: pytest.Pytester, properties: list[tuple[str, str]], module: str
) -> None:
    path = junit_of(pytester, module)
    expected = _parsed_then_written(path, properties)

    add_suite_properties(path, properties)

    assert path.read_text(encoding="utf-8") == expected
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    written = [(p.get("name"), p.get("value")) for p in suite.iter("property")]
    assert written[len(written) - len(properties) :] == properties


@pytest.mark.parametrize(
    "text",
    [
        # Two suites (not what pytest writes): each gets the properties.
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="t">'
        '<testsuite name="a" tests="0" /><testsuite name="b" tests="0" /></testsuites>',
        # A suite as the root, with an empty properties element of its own.
        '<testsuite name="a" tests="0"><properties /></testsuite>',
    ],
    ids=["two suites", "suite root"],
)
def test_files_pytest_did_not_write_get_the_properties_too(tmp_path: Path, text: str) -> None:
    path = tmp_path / "out.xml"
    path.write_text(text, encoding="utf-8")

    add_suite_properties(path, PROPERTIES)

    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert suites
    for suite in suites:
        assert len(suite.findall("properties")) == 1
        assert [(p.get("name"), p.get("value")) for p in suite.iter("property")] == PROPERTIES
