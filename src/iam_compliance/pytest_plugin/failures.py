"""A target that cannot be read is "could not check" (exit 4), never "not compliant" (1).

Outside xdist such a target stops the run before any test (see :mod:`.checker`). An xdist
worker reads lazily, in the ``iam_assessment`` fixture, so there a target it cannot read
errors that worker's tests instead. These hooks keep the promise of a single run: one
message, and exit code 4.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from ..errors import IamComplianceError

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

    def stop(self, message: str) -> pytest.UsageError:
        """Record ``message`` as the error that stops the run; return the error to raise."""
        self.fatal = message
        return pytest.UsageError(message)

    @property
    def summary(self) -> str | None:
        """Why the run could not check (all or part of) what it was asked to; None if it could."""
        found = [self.fatal] if self.fatal else []
        found.extend(message for message in self.errors if message not in found)
        return "\n".join(found) or None

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
        return (yield)
