"""Every label, status and id of the reports, defined once, as enums.

:mod:`.model` builds its values from these; import them from here.
"""

from __future__ import annotations

import enum


class Status(enum.Enum):
    """How a cell or line is coloured: fine, worth a look, or a failure."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


class VerdictCode(enum.Enum):
    """A required action's verdict, as compliance.json states it."""

    ALLOWED = "allowed"
    #: Allowed, but every allowing statement has conditions that held in this request.
    CONDITIONAL = "conditional"
    DENIED = "denied"
    UNDECIDED = "undecided"

    @property
    def label(self) -> str:
        """How people read it, in the terminal and the HTML page."""
        return _VERDICT_LABELS[self]

    @property
    def status(self) -> Status:
        return _VERDICT_STATUS[self]

    @property
    def is_allowed(self) -> bool:
        return self in (VerdictCode.ALLOWED, VerdictCode.CONDITIONAL)


_VERDICT_LABELS = {
    VerdictCode.ALLOWED: "allowed",
    VerdictCode.CONDITIONAL: "allowed only under conditions",
    VerdictCode.DENIED: "denied",
    VerdictCode.UNDECIDED: "could not be decided",
}
_VERDICT_STATUS = {
    VerdictCode.ALLOWED: Status.OK,
    VerdictCode.CONDITIONAL: Status.WARN,
    VerdictCode.DENIED: Status.FAIL,
    VerdictCode.UNDECIDED: Status.FAIL,
}


class EvidenceKind(enum.Enum):
    """What part a statement played in a verdict."""

    ALLOWED_BY = "allowed_by"
    DENIED_BY = "denied_by"
    BOUNDARY_ALLOWED_BY = "boundary_allowed_by"
    UNDECIDED_BY = "undecided_by"
    #: The table's resource-based policy grants it to the role, a session or everyone.
    RESOURCE_ALLOWED_BY = "resource_allowed_by"

    @property
    def label(self) -> str:
        return _EVIDENCE_LABELS[self]


_EVIDENCE_LABELS = {
    EvidenceKind.ALLOWED_BY: "allowed by",
    EvidenceKind.DENIED_BY: "denied by",
    EvidenceKind.BOUNDARY_ALLOWED_BY: "allowed by the boundary:",
    EvidenceKind.UNDECIDED_BY: "undecided:",
    EvidenceKind.RESOURCE_ALLOWED_BY: "allowed by",
}


class CheckKind(enum.Enum):
    """What one test of the suite checks: the kind its ``iam_check`` marker names."""

    #: One required action (the parametrized test).
    ACTION = "action"
    ALL_ACTIONS = "all_actions"
    ATTACHED = "attached"
    TRUST = "trust"
    LEAST_PRIVILEGE = "least_privilege"
    #: One forbidden action (the parametrized test of each ``[[forbid]]``).
    FORBIDDEN = "forbidden"


class RemediationStatus(enum.Enum):
    """What --fix or --fix-dry-run did for a target."""

    APPLIED = "applied"
    DRY_RUN = "dry_run"
    REFUSED = "refused"
    NOTHING_TO_FIX = "nothing_to_fix"
    #: No plan could be made (the policy is not attached); ``reason`` says why.
    NOT_PLANNED = "not_planned"
    #: Planned, but this run did not write it (another run's write made it moot).
    NOT_APPLIED = "not_applied"


class ErrorKind(enum.Enum):
    """Why a run's reports are not a verdict: compliance.json's ``error.kind``."""

    #: Exit code 4: a target could not be read, bad options, a failed --fix.
    COULD_NOT_CHECK = "could_not_check"
    #: Exit code 2: interrupted (Ctrl-C, or CI cancelling the job with SIGINT).
    INTERRUPTED = "interrupted"
    #: Exit code 3: an internal error of pytest or a plugin.
    INTERNAL_ERROR = "internal_error"
    #: What a run leaves when it starts, replaced when it ends: killed before it could.
    DID_NOT_FINISH = "did_not_finish"


class Outcome(enum.Enum):
    """A test's outcome as compliance.json states it."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
