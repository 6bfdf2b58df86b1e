"""Write a merged run's reports by replaying its tests' reports through pytest.

pytest-html builds its page, and junitxml its file, from the test reports of a live
session. A merge has no tests to run, so it starts pytest in this process with only
those two plugins and pytest-metadata, and with :class:`Replay`, which collects nothing
and, instead of running tests, hands each shard's written-down reports
(:func:`.transcript.replayed_reports`) to ``pytest_runtest_logreport``: what
pytest-xdist's controller does with its workers' reports. The plugin's own objects
(:class:`.ledger.VerdictLedger`, :class:`.reports.ReportWriter`,
:class:`.reports.JUnitProperties`, :class:`.completeness.Completeness`,
:class:`.failures.FailureTracker`, :class:`.publishing.Publisher`) then write
compliance.json, .xml and .html as they do at the end of a run: the same templates, the
same code. Only what describes the merge itself is added (``merged``, a note).

The session is kept apart from the project it runs in: its own empty configuration and
rootdir, no conftest, no plugin but the three named (``--disable-plugin-autoload``).
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from pytest_metadata.plugin import metadata_key  # type: ignore[import-untyped]

from ..report.codec import to_json
from ..report.document import ReportDocument, TestEntry
from ..report.merging import MergedRun
from ..report.model import JSON
from ..report.shard_files import MergeError
from ..report.shard_html import parts_html
from .completeness import Completeness
from .failures import FailureTracker
from .fixing import Remediations
from .ledger import ATTRIBUTE, VerdictLedger
from .publishing import Publisher, use_default_paths
from .reports import JSON_NAME, JUnitProperties, ReportWriter
from .transcript import replayed_reports

#: The plugins a merge's session loads: what writes the HTML page (and its Environment).
PLUGINS = ("pytest_metadata.plugin", "pytest_html.plugin")


def write_merged_reports(run: MergedRun, output: Path) -> int:
    """Write compliance.json, .xml and .html of ``run`` into ``output``; return the
    merged run's exit code (as a run's: 0, 1 or 4)."""
    replay = Replay(run, output)
    with tempfile.TemporaryDirectory(prefix="iam-compliance-merge-") as folder:
        ini = Path(folder) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        args = ["-c", str(ini), "--rootdir", folder, "--noconftest", "--disable-plugin-autoload"]
        for plugin in PLUGINS:
            args += ["-p", plugin]
        args += ["-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:warnings"]
        status = pytest.main(args, plugins=[replay])
    if replay.writer is None or replay.writer.written is None:
        raise MergeError(
            f"the merge's pytest session ended with exit code {int(status)} before it wrote "
            "the reports"
        )
    return int(status)


class Replay:
    """The session of a merge: no tests, the shards' reports instead."""

    def __init__(self, run: MergedRun, output: Path) -> None:
        self.run = run
        self.output = output
        self.writer: ReportWriter | None = None
        self.failures: FailureTracker | None = None
        self.ledger: VerdictLedger | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        """Before pytest-html and junitxml open their files: point them at the output
        folder (through a private folder, as a run does) and register what a run's
        controller has."""
        run = self.run
        staged = use_default_paths(config, self.output)
        config.pluginmanager.register(Publisher(config, staged), "iam-compliance-publisher")
        failures = FailureTracker()
        failures.errors.extend(run.problems)
        self.failures = failures
        remediations = Remediations()
        ledger = VerdictLedger(run.settings, remediations, compact=not run.lists_passed)
        self.ledger = ledger
        completeness = Completeness(ledger, failures, expected=run.expected)
        self.writer = ReportWriter(
            config,
            run.settings,
            ledger,
            remediations,
            completeness,
            self.output / JSON_NAME,
            list_passed=run.lists_passed,
            amend=self.amend,
        )
        for name, plugin in (
            ("failures", failures),
            ("ledger", ledger),
            ("completeness", completeness),
            ("writer", self.writer),
        ):
            config.pluginmanager.register(plugin, f"iam-compliance-{name}")
        xml_path = getattr(config.option, "xmlpath", None)
        if xml_path:
            junit = JUnitProperties(run.settings, ledger, Path(xml_path), completeness)
            config.pluginmanager.register(junit, "iam-compliance-junit")

    def amend(self, document: ReportDocument) -> ReportDocument:
        return dataclasses.replace(document, merged=self.run.entry)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """pytest-metadata's Plugins row would list the merge's, not the run's: none."""
        metadata = session.config.stash.get(metadata_key, None)
        if metadata is not None:
            metadata.pop("Plugins", None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        return True  # nothing to collect: the tests ran in the shards

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        for test in self.tests():
            for report in replayed_reports(test):
                session.config.hook.pytest_runtest_logreport(report=report)
        return True

    def tests(self) -> Iterator[TestEntry]:
        """The run's tests, the first of each target carrying its section and policy
        document, as the first report of a target reaches a run's controller."""
        documents = self._documents()
        given: set[str] = set()
        for test in self.run.tests:
            target = test.target
            section = self.run.sections.get(target) if target is not None else None
            if target is None or target in given or section is None:
                yield test
                continue
            phases = list(test.reports)
            for n, phase in enumerate(phases):
                payload = (phase.attributes or {}).get(ATTRIBUTE)
                if isinstance(payload, dict):
                    carried = {**payload, "section": to_json(section)}
                    carried["document"] = documents.get(target)
                    attributes = {**(phase.attributes or {}), ATTRIBUTE: carried}
                    phases[n] = dataclasses.replace(phase, attributes=attributes)
                    given.add(target)
                    break
            yield dataclasses.replace(test, reports=tuple(phases))

    def _documents(self) -> dict[str, JSON]:
        """Each target's task policy document, from whichever of its rows carried it."""
        found: dict[str, JSON] = {}
        for test in self.run.tests:
            for phase in test.reports:
                payload = (phase.attributes or {}).get(ATTRIBUTE)
                if isinstance(payload, dict) and payload.get("document") is not None:
                    found.setdefault(str(payload.get("target")), copy.deepcopy(payload["document"]))
        return found

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        """No test was collected here, on purpose: the status is the replayed tests'. And
        each test's outcome made again must be the one its shard wrote down: a report
        that does not add up (edited, or cut short) is never a pass."""
        if session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK
        if self.ledger is not None and self.failures is not None:
            made = {test.nodeid: test.outcome for test in self.ledger.tests()}
            for test in self.run.tests:
                again = made.get(test.nodeid)
                if again is not test.outcome:
                    self.failures.errors.append(
                        f"test {test.nodeid}: its shard's report says {test.outcome.value}, "
                        f"but the reports written down for it say "
                        f"{again.value if again is not None else 'nothing'}"
                    )
        return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_html_results_summary(self, prefix: list[str]) -> None:
        prefix.append(parts_html(None, self.run.entry, self.run.count))
