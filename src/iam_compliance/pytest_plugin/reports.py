"""The report hooks: write the files, add to pytest-html's page and junitxml's properties.

A run of the compliance suite writes, unless ``--html`` or ``--junitxml`` name other files,
into the reports folder (ini ``iam_compliance_reports``, default ``reports/``):
``compliance.html`` (pytest-html, self-contained), ``compliance.xml`` (JUnit, with the target
as suite properties) and ``compliance.json`` (schema in :mod:`iam_compliance.report.model`).

Under pytest-xdist only the controller writes, from what the test reports carry
(:mod:`.ledger`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_metadata.plugin import metadata_key  # type: ignore[import-untyped]

from ..config import Settings
from ..report import build, html
from ..report.codec import to_json
from ..report.document import ReportDocument
from ..report.files import write_json
from ..report.junit import add_suite_properties, junit_properties
from ..report.terminal import summary_lines
from .completeness import Completeness
from .fixing import Remediations
from .ledger import LISTED_BY_ALL_ACTIONS, VerdictLedger

JSON_NAME = "compliance.json"


class ReportWriter:
    """Writes compliance.json, adds to pytest-html's page and junitxml's properties, and
    prints the terminal summary. Registered on the controller (or the only process)."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        ledger: VerdictLedger,
        remediations: Remediations,
        completeness: Completeness,
        json_path: Path,
        *,
        list_passed: bool = True,
        amend: Callable[[ReportDocument], ReportDocument] | None = None,
    ) -> None:
        self.config = config
        #: What a shard or a merge adds to compliance.json (``shard``, ``merged``).
        self.amend = amend
        #: False: the page's results table leaves out the tests that passed.
        self.list_passed = list_passed
        self.unlisted_passed = 0
        self.unlisted_failed = 0
        self.settings = settings
        self.ledger = ledger
        self.remediations = remediations
        #: Whether the run finished and checked everything, and why not.
        self.completeness = completeness
        self.json_path = json_path
        self.started = datetime.now(UTC)
        self.written: Path | None = None

    # -- pytest-html -------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Put iam-compliance's rows first in the Environment, which pytest-html reads next."""
        metadata = self.config.stash.get(metadata_key, None)
        if metadata is None:
            return
        others = dict(metadata)
        metadata.clear()
        metadata.update(html.environment(self.settings, self.started))
        metadata.update({k: v for k, v in others.items() if k not in metadata})

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fill in the Environment rows that could not be known at the start."""
        metadata = self.config.stash.get(metadata_key, None)
        for section in self.ledger.new_sections:
            if metadata is not None and html.lists_targets(self.settings):
                key = html.version_key(self.settings, section.name)
                metadata[key] = html.escape(section.default_version or "not attached")
        self.ledger.new_sections.clear()

    @pytest.hookimpl(wrapper=True)
    def pytest_report_header(
        self, config: pytest.Config
    ) -> Generator[None, list[str | list[str]], list[str | list[str]]]:
        """Drop pytest-metadata's ``-v`` line, a raw dict of the Environment rows as
        escaped for the HTML page; the checker's own header lines say the same, readably."""
        lines = yield
        return [line for line in lines if not str(line).startswith("metadata: {")]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: object) -> None:
        report.title = html.report_title(self.settings)  # type: ignore[attr-defined]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = html.header_cells()

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        if not self.list_passed and report.passed:
            # pytest-html's documented way to leave a result out: no cells.
            self.unlisted_passed += report.when == "call"
            cells.clear()
        elif not self.list_passed and getattr(report, LISTED_BY_ALL_ACTIONS, False):
            self.unlisted_failed += 1
            cells.clear()
        if cells:  # else another plugin removed the row
            cells[-1] = html.links_cell(cells[-1], getattr(report, "extras", []))
            cells[2:2] = html.row_cells(self.ledger.payload_of(report))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """Many targets: a failed check's log keeps its message's first line (its target's
        section has the rest, and compliance.xml the whole message)."""
        if self.list_passed or not report.failed or self.ledger.payload_of(report) is None:
            return
        lines = [line for text in data for line in text.splitlines() if line.strip()]
        if lines:
            data[:] = [f"{lines[0]}\n(the rest: the target's section above, compliance.xml)"]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], session: pytest.Session) -> None:
        prefix.append(
            html.summary_html(
                self.settings,
                self.ledger.sections(),
                error=self.completeness.error,
                exit_status=int(session.exitstatus),
                partial=self.completeness.partial_line,
                checks=self.completeness.checks,
                documents=self.ledger.documents,
                unlisted=None if self.list_passed else (self.unlisted_passed, self.unlisted_failed),
            )
        )

    # -- JUnit and JSON ----------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write compliance.json."""
        if self.config.option.collectonly:
            return
        document = build.report_document(
            generated_at=datetime.now(UTC),
            mode=self.settings.mode,
            policy_file=str(self.settings.policy_file) if self.settings.policy_file else None,
            context=self.settings.context,
            exit_status=int(session.exitstatus),
            sections=self.ledger.sections(),
            tests=self.ledger.tests(),
            error=self.completeness.error,
            checks=self.completeness.checks,
        )
        if self.amend is not None:
            document = self.amend(document)
        write_json(self.json_path, to_json(document))
        self.written = self.json_path

    # -- terminal ----------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        lines = summary_lines(self.ledger.sections(), self.remediations.all)
        if lines:
            terminalreporter.write_sep("=", "iam-compliance")
            for line in lines:
                terminalreporter.write_line(line)
        failures = self.completeness.failures
        for message in failures.errors:
            terminalreporter.write_line(f"ERROR: {message}", red=True)
        if failures.unfinished is not None:
            terminalreporter.write_line(
                f"iam-compliance: COULD NOT CHECK: {failures.unfinished.message}; every "
                "report says so",
                red=True,
            )
        partial = self.completeness.partial_line
        if partial is not None:
            terminalreporter.write_line(f"iam-compliance: {partial}", yellow=True)
        if self.written is not None:
            terminalreporter.write_sep("-", f"compliance report (JSON): {self.written}")


class JUnitProperties:
    """Adds the mode and each target's account, role, policy and version to the JUnit file,
    and, for a run that is not a verdict, a test case in error saying why.

    Last, after junitxml's own ``pytest_sessionfinish`` has written the file.
    """

    def __init__(
        self,
        settings: Settings,
        ledger: VerdictLedger,
        xml_path: Path,
        completeness: Completeness,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.xml_path = xml_path
        self.completeness = completeness

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly or not self.xml_path.is_file():
            return
        by_name = {s.name: s for s in self.ledger.sections()}
        completeness = self.completeness
        error = completeness.error
        add_suite_properties(
            self.xml_path,
            junit_properties(self.settings, by_name, completeness.checks),
            error=error.message if error is not None else None,
            partial=completeness.partial_line,
        )
