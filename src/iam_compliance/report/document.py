"""The report document: the run as a whole, its tests, and what each test's report carries.

compliance.json, schema ``iam-compliance/report/v1``
----------------------------------------------------

Fields keep their names and meanings within v1; new fields may be added. Anything else
is a new schema name. ::

    {
      "schema": "iam-compliance/report/v1",
      "generated_at": "2026-11-27T22:14:05Z",          # UTC
      "tool": {"name": "iam-compliance", "version": "0.1.0"},
      "mode": "mock" | "live",
      "policy_file": "path" | null,                    # mock mode's policy file
      "context": {"aws:SourceVpc": ["vpc-1234"]},      # context given on the command line
      "exit_status": 0,                                # pytest's exit code, docs/exit-codes.md;
                                                       #   null: the run did not finish
      "compliant": true,                               # complete, and every target listed
                                                       #   is compliant
      "complete": true,                                # finished, and every check ran
      "partial": false,                                # some of the suite's checks did not run
      "checks": {"ran": 10, "expected": 10},           # the suite's checks for the targets
      "tests": [TEST],
      "targets": [TARGET],                             # each target a test checked
      "error": null                                    # {"message": ..., "kind": ...}
    }

See :class:`ReportDocument` and the classes it holds for each field. No credentials appear
anywhere: targets are written field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .labels import CheckKind, ErrorKind, Outcome, Status
from .model import JSON, TargetSection
from .shard_entries import MergeEntry, PhaseEntry, ShardEntry

SCHEMA = "iam-compliance/report/v1"


@dataclass(frozen=True)
class ChecksEntry:
    """How many of the suite's checks ran: compliance.json's ``checks``.

    The suite's checks are, for each target, one per required action and the four
    whole-role checks. A check ran when its test reached a verdict (passed or failed);
    a deselected (``-k``, ``--deselect``), uncollected or skipped one did not.
    """

    ran: int
    expected: int

    @property
    def partial(self) -> bool:
        return self.ran < self.expected

    @property
    def text(self) -> str:
        """``partial: 6 of 10 checks ran``, or ``all 10 checks ran``."""
        if self.partial:
            return f"partial: {self.ran:,} of {self.expected:,} checks ran"
        return f"all {self.expected:,} checks ran"


@dataclass(frozen=True)
class TestEntry:
    """One test of the run: an entry of compliance.json's ``tests``."""

    __test__ = False  # not a pytest test class, whatever its name

    nodeid: str
    outcome: Outcome
    #: The target the test checked; None for a test that is not a compliance check.
    target: str | None
    #: The required action of a per-action test.
    action: str | None
    #: A shard's report only: the reports pytest made, for a merge (:mod:`.shard_entries`).
    reports: tuple[PhaseEntry, ...] = ()


@dataclass(frozen=True)
class Tool:
    name: str
    version: str


@dataclass(frozen=True)
class ReportDocument:
    """The whole of compliance.json."""

    schema: str
    generated_at: str
    tool: Tool
    #: ``mock`` or ``live``.
    mode: str
    policy_file: str | None
    context: Mapping[str, tuple[str, ...]]
    #: pytest's exit code; None in the reports a run leaves when it starts, which say it
    #: did not finish until the run replaces them.
    exit_status: int | None
    #: The run is complete and every target listed is compliant: the only ``true`` a gate
    #: may read.
    compliant: bool
    tests: tuple[TestEntry, ...]
    targets: tuple[TargetSection, ...]
    #: Why the run could not check (exit code 4), or did not finish (2, 3); None when it
    #: could.
    error: ErrorEntry | None = None
    #: The run finished (exit code 0 or 1), with no error, and every check ran.
    complete: bool = True
    #: Some of the suite's checks did not run (deselected, not collected, skipped, or the
    #: run stopped): the reports are not a verdict on the role.
    partial: bool = False
    #: How many of the suite's checks ran; None when the run stopped before its tests.
    checks: ChecksEntry | None = None
    #: Which part of a sharded run (``--iam-shard``) this is; None: a whole run.
    shard: ShardEntry | None = None
    #: What ``iam-compliance merge`` merged into this report; None: not a merge.
    merged: MergeEntry | None = None


@dataclass(frozen=True)
class ErrorEntry:
    """Why a run could not check what it was asked to: compliance.json's ``error``."""

    #: The message the terminal shows (one line per target that could not be read).
    message: str
    #: ``could_not_check`` (exit code 4), ``interrupted`` (2), ``internal_error`` (3), or
    #: ``did_not_finish`` (the run never wrote its reports: killed).
    kind: ErrorKind = ErrorKind.COULD_NOT_CHECK


@dataclass(frozen=True)
class RowPayload:
    """What one compliance test's report carries: its check and the row's verdict.

    The first test of a target in each process also carries the whole ``section``, so
    the xdist controller learns every target's verdicts from the reports it receives.
    """

    target: str
    check: CheckKind | None
    action: str | None
    #: The Verdict column: ``allowed``, ``4 of 6 allowed``, ``attached``, ...
    verdict: str
    status: Status
    #: The Decided-by column.
    detail: str
    section: TargetSection | None = None
    #: With ``section``: the task policy's current default document, which the HTML
    #: page shows once per target (None when it is not attached).
    document: JSON = None
