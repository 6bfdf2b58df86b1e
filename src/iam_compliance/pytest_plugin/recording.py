"""``--iam-record``: the AWS calls a project's own tests make, as requirements.

Imported only when a recording option is given (see :func:`.plugin.pytest_load_initial_conftests`),
which is early enough to see the clients a ``conftest.py`` makes. The botocore hook is
:class:`~iam_compliance.aws.recorder.CallTap`; what it sees goes to a
:class:`~iam_compliance.recording.ledger.Ledger` while a test body runs (its setup and
teardown too with ``--iam-record-fixtures``). xdist workers send their ledgers to the
controller through ``workeroutput``; only the controller (or the only process) writes
the file, compares it with ``--iam-record-check`` and reports.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..aws.recorder import CallTap
from ..engine.requirements import RequiredAction, load_requirements
from ..engine.target import Target
from ..errors import IamComplianceError
from ..recording.ledger import Entry, Ledger, TestRef
from ..recording.model import Scope
from ..recording.writer import reason, render
from ..targets import resolve_targets
from .xdist import is_xdist_worker

if TYPE_CHECKING:
    from ..recording.comparison import Drift

#: The key of a worker's ledger in xdist's ``workeroutput``.
WORKER_OUTPUT = "iam_compliance_recording"
#: moto's default account (moto.core.DEFAULT_ACCOUNT_ID), unless MOTO_ACCOUNT_ID says
#: otherwise: the account a moto-backed test run is in.
MOTO_ACCOUNT = "123456789012"
_ACCOUNT_RE = re.compile(r"\d{12}")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


@dataclass(frozen=True)
class RecordCheck:
    """``--iam-record-check``: the requirements, read as the suite reads them."""

    #: As given, for messages.
    label: str
    requirements: tuple[RequiredAction, ...]
    #: The suite's default target: whose partition, region, account and table fill the
    #: placeholders of both sides.
    target: Target
    #: ``--iam-record-strict``: a requirement no test exercised fails the run too.
    strict: bool


def start_recording(config: pytest.Config, options: argparse.Namespace) -> None:
    """Check the options, then see every AWS call from now on."""
    output, check, scope = _settings(config, options)
    ledger = Ledger(scope)
    tap = CallTap(ledger.record)
    recorder = CallRecorder(
        ledger,
        tap,
        output=output,
        check=check,
        fixtures=bool(options.iam_record_fixtures),
    )
    tap.install()
    config.add_cleanup(tap.uninstall)
    config.pluginmanager.register(recorder, "iam-compliance-recorder")


def _settings(
    config: pytest.Config, options: argparse.Namespace
) -> tuple[Path | None, RecordCheck | None, Scope]:
    record, check_path = options.iam_record, options.iam_record_check
    if not record and not check_path:
        used = next(
            flag
            for flag, value in (
                ("--iam-record-fixtures", options.iam_record_fixtures),
                ("--iam-record-strict", options.iam_record_strict),
                ("--iam-record-account", options.iam_record_account),
                ("--iam-record-region", options.iam_record_region),
            )
            if value
        )
        raise pytest.UsageError(f"{used} needs --iam-record=PATH or --iam-record-check=PATH")
    if options.iam_record_strict and not check_path:
        raise pytest.UsageError("--iam-record-strict needs --iam-record-check=PATH")
    here = config.invocation_params.dir
    output = here / record if record else None
    if output is not None:
        if output.is_dir():
            raise pytest.UsageError(f"--iam-record {record}: is a folder; expected a file path")
        if not output.parent.is_dir():
            raise pytest.UsageError(f"--iam-record {record}: folder {output.parent} does not exist")
    account = options.iam_record_account or os.environ.get("MOTO_ACCOUNT_ID") or MOTO_ACCOUNT
    if not _ACCOUNT_RE.fullmatch(account):
        raise pytest.UsageError(f"--iam-record-account must be 12 digits; got {account!r}")
    region = options.iam_record_region
    if region is not None and not _REGION_RE.fullmatch(region):
        raise pytest.UsageError(
            f"--iam-record-region must be a region such as us-east-1; got {region!r}"
        )
    check = None
    if check_path:
        from ..aws.catalog import IamActionCatalog  # AWS's action data: only for a check

        try:
            requirements = load_requirements(here / check_path, IamActionCatalog())
            target = resolve_targets((), rootdir=config.rootpath, environ=os.environ)[0]
        except IamComplianceError as exc:
            raise pytest.UsageError(f"--iam-record-check {check_path}: {exc}") from None
        check = RecordCheck(check_path, requirements, target, bool(options.iam_record_strict))
    return output, check, Scope(account, region)


def _test_of(item: pytest.Item) -> TestRef:
    path, line, _ = item.location
    return (path, line if line is not None else -1, item.nodeid)


class CallRecorder:
    """The pytest side of a recording: which test is current, the merge, the outputs."""

    def __init__(
        self,
        ledger: Ledger,
        tap: CallTap,
        *,
        output: Path | None,
        check: RecordCheck | None,
        fixtures: bool,
    ) -> None:
        self.ledger = ledger
        self.tap = tap
        self.output = output
        self.check = check
        self.fixtures = fixtures
        #: Known once configured: xdist names its workers after the options are read.
        self.worker = False
        self.drift: Drift | None = None
        self.written: tuple[Entry, ...] | None = None

    # -- every process: which test the calls belong to ---------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._during(item, self.fixtures))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._during(item, True))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._during(item, self.fixtures))

    def _during(self, item: pytest.Item, recorded: bool) -> Generator[None, None, None]:
        self.ledger.test = _test_of(item) if recorded else None
        try:
            return (yield)
        finally:
            self.ledger.test = None

    # -- the end of the run ---------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """xdist's controller: a worker finished (or died); take its ledger."""
        payload = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if payload is None:
            name = getattr(getattr(node, "gateway", None), "id", "?")
            self.ledger.gaps.append(
                f"xdist worker {name} sent no recording ({error or 'no output'})"
            )
        else:
            self.ledger.merge(payload)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.tap.uninstall()
        config = session.config
        if self.worker:
            config.workeroutput[WORKER_OUTPUT] = self.ledger.payload()  # type: ignore[attr-defined]
            return
        if config.option.collectonly:
            return
        gaps = self.ledger.gaps
        if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop:
            gaps.append(f"the run stopped early ({session.shouldstop or 'interrupted'})")
        elif session.shouldfail:
            gaps.append(f"the run stopped early ({session.shouldfail})")
        if session.testsfailed:
            gaps.append(
                f"{session.testsfailed} test(s) failed: calls they would have made after "
                "failing are missing"
            )
        entries = self.ledger.entries()
        # Imported here: only the process that writes or compares pays for them.
        if self.output is not None:
            from ..report.files import write_text

            write_text(self.output, render(entries, gaps))
            self.written = entries
        if self.check is not None:
            from ..recording.comparison import compare

            self.drift = compare(entries, self.check.requirements, self.check.target)
            failed = bool(self.drift.uncovered) or bool(gaps)
            failed |= self.check.strict and bool(self.drift.unexercised)
            if failed and session.exitstatus in (
                pytest.ExitCode.OK,
                pytest.ExitCode.NO_TESTS_COLLECTED,
            ):
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        self.worker = is_xdist_worker(config)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.tap.uninstall()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.worker or (self.written is None and self.drift is None):
            return
        write = terminalreporter.write_line
        terminalreporter.section("iam-compliance: recorded AWS calls")
        entries = self.ledger.entries()
        write(
            f"{self.ledger.calls} AWS call(s) in {self.ledger.tests} test(s): "
            f"{len(entries)} requirement(s)"
            + (f", written to {self.output}" if self.written is not None else "")
        )
        for gap in self.ledger.gaps:
            write(f"INCOMPLETE: {gap}", red=True)
        for entry in entries:
            for note in entry.notes:
                detail = f" ({note.detail})" if note.detail else ""
                write(
                    f"{note.id}{detail}: {entry.action} on {entry.resource}, {reason(entry)}",
                    yellow=True,
                )
        if self.drift is not None and self.check is not None:
            self._drift_summary(terminalreporter, self.check, self.drift)

    def _drift_summary(self, terminalreporter: Any, check: RecordCheck, drift: Drift) -> None:
        write = terminalreporter.write_line
        terminalreporter.section(f"iam-compliance: recorded calls against {check.label}")
        for item in drift.uncovered:
            write(
                f"FAILED {item.entry.test[2]}: {item.entry.operation} needs "
                f"{item.entry.action} on {item.arn}, which {check.label} does not require "
                f"({item.why})",
                red=True,
            )
        if self.ledger.gaps:
            write("FAILED the recording is incomplete (above), so this comparison is too", red=True)
        word = "FAILED" if check.strict else "WARNING"
        for required in drift.unexercised:
            write(
                f"{word} {required.id} ({required.reason or 'no reason given'}) is required "
                "but no test exercised it",
                red=check.strict,
                yellow=not check.strict,
            )
        if not drift.uncovered and not drift.unexercised and not self.ledger.gaps:
            write(
                f"every recorded call is covered by {check.label}, and every requirement exercised",
                green=True,
            )
