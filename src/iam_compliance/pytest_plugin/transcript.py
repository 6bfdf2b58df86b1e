"""A shard's test reports, written down for a merge, and made again from what was written.

A merged report must be what one run over every target would have written: the same
HTML page (pytest-html), JUnit file (junitxml) and compliance.json. Those are made from
pytest's test reports, so a shard writes down each test's reports (:class:`Transcript`,
into compliance.json's ``tests[].reports``), and a merge makes them again
(:func:`replayed_reports`) and hands them to the same plugins, as pytest-xdist's
controller does with the reports of its workers.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from typing import Literal, cast

import pytest
from _pytest._code.code import ReprFileLocation, TerminalRepr
from _pytest._io import TerminalWriter

from ..report.document import TestEntry
from ..report.model import JSON
from ..report.shard_entries import PhaseEntry, SkipEntry
from .ledger import ATTRIBUTE

#: The report attributes of this plugin (the row's verdict, a target's read error, ...):
#: each one starts with it.
PREFIX = "iam_compliance"
PHASES = ("setup", "call", "teardown")


class Transcript:
    """Writes down the test reports that reach this process (the controller, or the only
    process): every call, and each setup and teardown that has something to say."""

    def __init__(self) -> None:
        self._phases: dict[str, list[PhaseEntry]] = {}
        #: The time of the setups and teardowns left out, by node id.
        self._untold: dict[str, float] = {}
        #: Each test's place in the collection: the order it is written down in, whatever
        #: order pytest-xdist's workers ran the tests in.
        self._order: dict[str, int] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self._order = {item.nodeid: n for n, item in enumerate(session.items)}

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        if not self._order:  # every worker collects the same tests
            self._order = {nodeid: n for n, nodeid in enumerate(ids)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # First: pytest-html rewrites a report's extras when its teardown arrives.
        entry = phase_entry(report)
        if entry is None:
            self._untold[report.nodeid] = self._untold.get(report.nodeid, 0.0) + report.duration
        else:
            self._phases.setdefault(report.nodeid, []).append(entry)

    def with_reports(self, tests: Sequence[TestEntry]) -> tuple[TestEntry, ...]:
        """``tests`` in the order they were collected, each with the reports written down
        for it."""
        last = len(self._order)
        arrival = {test.nodeid: n for n, test in enumerate(tests)}
        found = []
        for test in sorted(
            tests, key=lambda t: self._order.get(t.nodeid, last + arrival[t.nodeid])
        ):
            phases = list(self._phases.get(test.nodeid, ()))
            untold = self._untold.get(test.nodeid, 0.0)
            if phases and untold:
                first = next((i for i, p in enumerate(phases) if p.when == "call"), 0)
                phases[first] = dataclasses.replace(
                    phases[first], duration=phases[first].duration + untold
                )
            found.append(dataclasses.replace(test, reports=tuple(phases)))
        return tuple(found)


def phase_entry(report: pytest.TestReport) -> PhaseEntry | None:
    """What the HTML page and the JUnit file read of one report; None for a setup or
    teardown that passed with nothing to say."""
    attributes = {
        name: _plain(value) for name, value in vars(report).items() if name.startswith(PREFIX)
    }
    extras = getattr(report, "extras", None)
    if (
        report.when != "call"
        and report.passed
        and not report.sections
        and not report.user_properties
        and not attributes
        and not extras
    ):
        return None
    payload = attributes.get(ATTRIBUTE)
    if isinstance(payload, dict) and payload.get("section") is not None:
        # The target's section is compliance.json's ``targets`` entry: not twice.
        attributes[ATTRIBUTE] = {**payload, "section": None}
    longrepr, message, skip = report.longrepr, None, None
    text: str | None = None
    if isinstance(longrepr, tuple):
        path, line, reason = longrepr
        skip = SkipEntry(str(path), int(line), str(reason))
    elif longrepr is not None:
        text = str(longrepr)
        crash = getattr(longrepr, "reprcrash", None)
        message = str(crash.message) if crash is not None else None
    wasxfail = getattr(report, "wasxfail", None)
    return PhaseEntry(
        when=report.when,
        outcome=report.outcome,
        duration=report.duration,
        longrepr=text,
        message=message,
        skip=skip,
        wasxfail=str(wasxfail) if wasxfail is not None else None,
        sections=tuple((str(head), str(body)) for head, body in report.sections),
        properties=tuple((str(name), str(value)) for name, value in report.user_properties),
        extras=_plain(extras) if extras else None,
        attributes=attributes or None,
    )


def _plain(value: object) -> JSON:
    """A JSON copy (bytes as text): the report's own objects change later.

    Lists and dicts of plain values (the payloads, pytest-html's extras) are copied as
    containers, their strings shared (a string does not change): a JSON round trip of
    every report's payload held a second copy of each string, 15 MB in a run of 1,000
    tests. Anything else is copied as JSON reads it.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return cast(JSON, value)
    if kind is list or kind is tuple:
        return [_plain(item) for item in cast("Sequence[object]", value)]
    if kind is dict and all(type(key) is str for key in cast("dict[object, object]", value)):
        return {key: _plain(item) for key, item in cast("dict[str, object]", value).items()}
    return cast(JSON, json.loads(json.dumps(value, default=_text)))


def _text(other: object) -> str:
    if isinstance(other, bytes):
        return other.decode("utf-8", "replace")
    return str(other)


# -- a merge: the reports made again ------------------------------------------------------


@dataclasses.dataclass(eq=False)
class RecordedFailure(TerminalRepr):
    """A failure as it was written down: its text, and its one-line message."""

    text: str
    reprcrash: ReprFileLocation | None

    def toterminal(self, tw: TerminalWriter) -> None:
        tw.line(self.text)

    def __str__(self) -> str:
        return self.text


def replayed_reports(test: TestEntry) -> list[pytest.TestReport]:
    """The reports pytest made for ``test``, made again: its setup, call and teardown, a
    setup or teardown that was left out as one that passed."""
    phases = {phase.when: phase for phase in test.reports}
    reports = []
    for when in PHASES:
        phase = phases.get(when)
        if phase is None:
            if when == "call":
                continue  # its setup failed or skipped: pytest made no call report
            phase = PhaseEntry(when, "passed", 0.0)
        reports.append(_report(test.nodeid, phase))
    return reports


def _report(nodeid: str, phase: PhaseEntry) -> pytest.TestReport:
    path, _, name = nodeid.partition("::")
    longrepr: tuple[str, int, str] | TerminalRepr | None = None
    if phase.skip is not None:
        longrepr = (phase.skip.path, phase.skip.line, phase.skip.reason)
    elif phase.longrepr is not None:
        crash = ReprFileLocation(path, 0, phase.message) if phase.message is not None else None
        longrepr = RecordedFailure(phase.longrepr, crash)
    report = pytest.TestReport(
        nodeid,
        (path, None, name.replace("::", ".")),
        {},
        _outcome(phase.outcome),
        longrepr,
        _when(phase.when),
        sections=phase.sections,
        duration=phase.duration,
        user_properties=phase.properties,
    )
    if phase.wasxfail is not None:
        report.wasxfail = phase.wasxfail
    if phase.extras is not None:
        report.extras = copy.deepcopy(phase.extras)  # type: ignore[attr-defined]
    for attribute, value in (phase.attributes or {}).items():
        setattr(report, attribute, copy.deepcopy(value))
    return report


def _outcome(text: str) -> Literal["passed", "failed", "skipped"]:
    if text not in ("passed", "failed", "skipped"):
        raise ValueError(f"a test report's outcome must be passed, failed or skipped; got {text!r}")
    return cast(Literal["passed", "failed", "skipped"], text)


def _when(text: str) -> Literal["setup", "call", "teardown"]:
    if text not in PHASES:
        raise ValueError(f"a test report's phase must be setup, call or teardown; got {text!r}")
    return cast(Literal["setup", "call", "teardown"], text)
