"""Whether a run checked everything the suite checks: a partial run is never a pass.

The suite's checks are, for each target, one test per required action and the four
whole-role tests. A run that leaves some out (``-k``, ``--deselect``, a node id, ``-x``,
a skip) says so in every report: ``partial: 6 of 10 checks ran``. Its exit code stays
pytest's when that is not 0 (a check that ran and failed is a real failure, exit 1), and
is 4, "could not check", when every check that ran passed: exit code 0 means "compliant",
and the checks that did not run may fail. A gate on 0 therefore never passes a partial
run.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from ..report.document import ChecksEntry, ErrorEntry
from .failures import FailureTracker
from .ledger import VerdictLedger
from .xdist import is_xdist_worker


class Completeness:
    """Counts the suite's checks that ran, and makes a partial run's exit code 4 rather
    than 0. Acts on the controller (or the only process), which sees every report."""

    def __init__(self, ledger: VerdictLedger, failures: FailureTracker, *, expected: int) -> None:
        self.ledger = ledger
        self.failures = failures
        #: The suite's checks for this run's targets.
        self.expected = expected
        #: Set at the end of the run: pytest's exit code once the plugin has decided it.
        self.exit_status: int | None = None
        self._checks: ChecksEntry | None = None

    @property
    def checks(self) -> ChecksEntry | None:
        """How many of the suite's checks ran; None before the run's end or when it stopped
        before its tests."""
        return self._checks

    @property
    def error(self) -> ErrorEntry | None:
        return self.failures.error

    @property
    def complete(self) -> bool:
        """Finished (exit code 0 or 1), with no error, every check run."""
        checks = self._checks
        return (
            self.error is None
            and self.exit_status in (0, 1)
            and checks is not None
            and not checks.partial
        )

    @property
    def partial_line(self) -> str | None:
        """The terminal's and the reports' line for a partial run; None for a full one."""
        checks = self._checks
        if checks is None or not checks.partial or self.error is not None:
            return None
        why = (
            "a check that ran failed"
            if self.exit_status == pytest.ExitCode.TESTS_FAILED
            else "not a verdict on the role: the checks that did not run may fail"
        )
        return (
            f"{checks.text} (the others were deselected, not collected or skipped); "
            f"exit code {self.exit_status}: {why}"
        )

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        """Before any report is written (the last wrapper in, after the failure tracker's
        exit code): count, and never let a partial or unfinished run exit 0."""
        config = session.config
        if not is_xdist_worker(config) and not config.option.collectonly:
            ran = self.ledger.checks_ran()
            stopped_early = self.failures.fatal is not None and not ran
            self._checks = None if stopped_early else ChecksEntry(ran, self.expected)
            if self.failures.unfinished is not None and session.exitstatus == 0:
                # pytest.exit(returncode=0) from a plugin: the run did not finish.
                session.exitstatus = pytest.ExitCode.INTERRUPTED
            if self._checks is not None and self._checks.partial and session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
            self.exit_status = int(session.exitstatus)
        return (yield)
