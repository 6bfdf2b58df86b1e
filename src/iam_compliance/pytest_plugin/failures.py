"""A target that cannot be read is "could not check" (exit 4), never "not compliant" (1).

Outside xdist such a target stops the run before any test (see :mod:`.checker`). An xdist
worker reads lazily, in the ``iam_assessment`` fixture, so there a target it cannot read
errors that worker's tests instead. These hooks keep the promise of a single run: one
message, and exit code 4.

A run that does not finish (interrupted: exit code 2, what CI sends when it cancels a job;
an internal error: 3) is recorded here too, so that every report says so.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from ..errors import IamComplianceError
from ..report.document import ErrorEntry
from ..report.labels import ErrorKind

#: The test report attribute that carries the error to the xdist controller.
ERROR_ATTRIBUTE = "iam_compliance_error"


class FailureTracker:
    """Collects the targets that could not be read, and turns them into exit code 4.

    It also holds the error that stopped a run (:meth:`stop`), so that the reports written
    at the end of that run say why nothing was checked.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        #: The error that stopped the run before its tests, if one did.
        self.fatal: str | None = None
        #: Why the run did not finish (interrupted, internal error), if it did not.
        self.unfinished: ErrorEntry | None = None
        #: Whether a usage error found while collecting stopped the run (:meth:`refuse`).
        self.refused = False

    def stop(self, message: str) -> pytest.UsageError:
        """Record ``message`` as the error that stops the run; return the error to raise."""
        self.fatal = message
        return pytest.UsageError(message)

    def refuse(self, message: str) -> None:
        """A usage error found while collecting (a collection error, which pytest reports
        itself): the run stops with exit code 4, and the reports say ``message``."""
        self.refused = True
        said = self.fatal.splitlines() if self.fatal is not None else []
        # Each xdist worker collects, and reports the same error.
        self.fatal = "\n".join(dict.fromkeys([*said, *message.splitlines()]))

    @property
    def summary(self) -> str | None:
        """Why the run could not check (all or part of) what it was asked to; None if it could."""
        found = [self.unfinished.message] if self.unfinished else []
        found.extend([self.fatal] if self.fatal else [])
        found.extend(message for message in self.errors if message not in found)
        return "\n".join(found) or None

    @property
    def error(self) -> ErrorEntry | None:
        """compliance.json's ``error``: :attr:`summary`, and whether the run finished."""
        summary = self.summary
        if summary is None:
            return None
        kind = self.unfinished.kind if self.unfinished else ErrorKind.COULD_NOT_CHECK
        return ErrorEntry(summary, kind)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, CI cancelling the job (SIGINT), or pytest.exit(): the run stops here."""
        if self.refused and excinfo.errisinstance(pytest.Session.Interrupted):
            return  # pytest stopping at the collection error :meth:`refuse` was told of
        what = excinfo.typename
        text = str(getattr(excinfo.value, "msg", "") or excinfo.value).strip()
        self.unfinished = ErrorEntry(
            f"the run was interrupted before it finished ({what}{': ' + text if text else ''}); "
            "the checks after that point did not run",
            ErrorKind.INTERRUPTED,
        )

    def pytest_internalerror(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """pytest or a plugin failed: the run stops here."""
        text = str(excinfo.value).strip().splitlines()
        self.unfinished = ErrorEntry(
            f"the run stopped on an internal error ({excinfo.typename}"
            f"{': ' + text[0] if text else ''}); the checks after that point did not run",
            ErrorKind.INTERNAL_ERROR,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """Stop here (not in pytest_sessionstart) so that the reports are still written."""
        if self.fatal is not None:
            raise pytest.UsageError(self.fatal)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(IamComplianceError):
            message = str(call.excinfo.value)
            report.longrepr = f"iam-compliance: {message}"
            setattr(report, ERROR_ATTRIBUTE, message)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        message = getattr(report, ERROR_ATTRIBUTE, None)
        if isinstance(message, str) and message not in self.errors:
            self.errors.append(message)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        if self.errors and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        # pytest says 2 (interrupted) of a collection error, xdist 1; a refused run is 4.
        refused = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED)
        if self.refused and self.unfinished is None and session.exitstatus in refused:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return (yield)
