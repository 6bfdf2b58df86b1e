"""The report model: everything a run tells people and tools, as typed values.

One model feeds every output: compliance.json is its JSON form (:func:`.codec.to_json`), the HTML
page and the terminal summary render it, the JUnit properties read it. Under pytest-xdist
a worker's target sections travel to the controller as JSON and come back through
:func:`.codec.from_json`, so the controller renders exactly what the worker judged.

Every label, status and id is defined once, as an enum, in :mod:`.labels`.

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
from typing import TypeAlias

from .labels import CHECK_TESTS as CHECK_TESTS
from .labels import CheckKind as CheckKind
from .labels import ErrorKind as ErrorKind
from .labels import EvidenceKind as EvidenceKind
from .labels import Outcome as Outcome
from .labels import RemediationStatus as RemediationStatus
from .labels import Status as Status
from .labels import VerdictCode as VerdictCode
from .shard_entries import MergeEntry, PhaseEntry, ShardEntry

#: A JSON value: what policy documents and remediation records are.
JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
#: A JSON object.
JSONObject: TypeAlias = dict[str, JSON]

SCHEMA = "iam-compliance/report/v1"


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Deciding:
    """The statement that decided a verdict."""

    policy: str
    statement: str

    @property
    def text(self) -> str:
        return f"{self.policy}, {self.statement}"


@dataclass(frozen=True)
class EvidenceEntry:
    """One statement that took part in a verdict."""

    kind: EvidenceKind
    policy: str
    statement: str
    #: ``Allow`` or ``Deny``.
    effect: str
    condition_keys: tuple[str, ...]
    note: str | None

    @property
    def text(self) -> str:
        text = f"{self.kind.label} {self.policy}, {self.statement}"
        if self.condition_keys:
            text += f" (conditions on {', '.join(self.condition_keys)})"
        if self.note:
            text += f": {self.note}"
        return text


@dataclass(frozen=True)
class ContextValue:
    """One key of the request the verdicts are for, its values and where they came from."""

    key: str
    #: Empty: the request does not carry the key.
    values: tuple[str, ...]
    #: ``role ARN``, ``target region``, ``table tag``, the declaring file, ``--iam-context``,
    #: or ``absent``.
    source: str

    @property
    def text(self) -> str:
        if not self.values:
            return f"{self.key}: absent"
        return f"{self.key} = {', '.join(self.values)} ({self.source})"


@dataclass(frozen=True)
class ActionEntry:
    """The verdict on one required action (on one resource)."""

    action: str
    #: Why the workload needs it (the requirements file's ``reason``).
    needed_for: str
    verdict: VerdictCode
    #: The evaluator's decision, in words (``not allowed``, ``explicitly denied``, ...).
    decision: str
    #: One sentence naming the policy and statement that decided it.
    reason: str
    deciding: Deciding | None
    evidence: tuple[EvidenceEntry, ...]
    #: The requirement's id: the action, or ``action@resource`` for one not on the table.
    id: str = ""
    #: The resource (ARN or ARN pattern) the verdict is for.
    resource: str = ""
    #: The context keys the deciding statements looked at, with their values and sources.
    context: tuple[ContextValue, ...] = ()
    #: Keys assumed absent that the verdict depends on (declare them if requests carry them).
    assumes_absent: tuple[str, ...] = ()

    @property
    def deciding_text(self) -> str:
        if self.deciding is None:
            return "no statement allows it"
        if self.decision == "not allowed":  # an Allow whose condition is not met
            return f"{self.deciding.text}: its condition is not met"
        if self.decision == "not allowed by the organization's guardrails":
            return f"{self.deciding.policy}: {self.deciding.statement}"
        return self.deciding.text


@dataclass(frozen=True)
class CheckEntry:
    """A yes/no check with the sentence that explains it."""

    ok: bool
    message: str


@dataclass(frozen=True)
class Checks:
    attached: CheckEntry
    trusts_ecs_tasks: CheckEntry


@dataclass(frozen=True)
class FindingEntry:
    """A least-privilege finding (see :data:`iam_compliance.engine.privilege.FINDING_KINDS`)."""

    id: str
    #: ``fail`` or ``info``.
    severity: str
    policy: str
    statement: str
    message: str

    @property
    def status(self) -> Status:
        return Status.FAIL if self.severity == "fail" else Status.WARN


@dataclass(frozen=True)
class BlockedEntry:
    """A required action that adding an Allow would not grant, and why."""

    action: str
    reason: str


@dataclass(frozen=True)
class PlanEntry:
    """What a fix changes (or would change) in the task policy."""

    policy_arn: str
    policy_name: str
    current_version: str
    added_actions: tuple[str, ...]
    #: The statement the actions are added to, or the new statement.
    statement: str | None
    blocked: tuple[BlockedEntry, ...]
    refusals: tuple[str, ...]
    #: Characters of the proposed document, white space not counted.
    size: int
    #: Unified diff of the current and the proposed document.
    diff: str
    new_document: JSONObject | None
    #: What comparing the current and the proposed document found (no new access).
    proof: str | None = None
    #: The other roles, users and groups the policy is attached to (``role/Other``).
    shared_with: tuple[str, ...] = ()
    #: Live --fix and --fix-dry-run: IAM Access Analyzer's CheckNoNewAccess on the proposed
    #: document, or why it could not be asked.
    second_opinion: str | None = None


@dataclass(frozen=True)
class RemediationEntry:
    """What --fix or --fix-dry-run did: the record when a fix was applied, else the plan."""

    status: RemediationStatus
    dry_run: bool
    #: Why no fix was planned (``not_planned``).
    reason: str | None
    plan: PlanEntry | None
    version_to_delete: str | None
    #: An applied fix's remediation record, and where it was saved.
    record_path: str | None
    record: JSONObject | None
    #: What else happened on the way (a concurrent change, a drift warning), as the
    #: terminal says it.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelEntry:
    """One level of the organization from the root down to the account, with what is
    attached there."""

    #: ``root``, ``ou`` or ``account``.
    kind: str
    id: str
    name: str
    #: The names of the SCPs attached there.
    scps: tuple[str, ...]
    #: The names of the RCPs attached there.
    rcps: tuple[str, ...]


@dataclass(frozen=True)
class GuardrailsEntry:
    """Whether the organization's SCPs and RCPs took part in the verdicts, and which."""

    #: ``checked``, ``not checked`` or ``off``.
    status: str
    #: One line for people (the header says the same).
    summary: str
    organization_id: str | None
    #: The identity that read them.
    read_by: str | None
    levels: tuple[LevelEntry, ...]


@dataclass(frozen=True)
class TargetSection:
    """Everything judged about one target: an entry of compliance.json's ``targets``."""

    name: str
    account: str
    region: str
    role_arn: str
    policy_arn: str
    table_arn: str
    #: The task policy's default version; None when it is not attached.
    default_version: str | None
    compliant: bool
    actions: tuple[ActionEntry, ...]
    checks: Checks
    findings: tuple[FindingEntry, ...]
    #: What to do next, as the terminal says it.
    next_steps: tuple[str, ...]
    #: What --fix would change; None when nothing is missing.
    proposed_fix: PlanEntry | None
    #: None unless --fix or --fix-dry-run ran.
    remediation: RemediationEntry | None
    #: Every key of the modelled request: derived, declared or given on the command line.
    request_context: tuple[ContextValue, ...] = ()
    #: The organization's guardrails; None when the engine ran without them.
    guardrails: GuardrailsEntry | None = None
    #: Live mode: the endpoint the account was read through (the IAM client's, from
    #: AWS_ENDPOINT_URL or AWS's own); None in mock mode.
    endpoint_url: str | None = None
    #: Live mode: who read it, sts:GetCallerIdentity's Arn; None in mock mode.
    caller_arn: str | None = None
    #: The pytest command that checks this target again, the same way: its mode, its own
    #: env file, the policy file and the request context (the hints' command).
    command: str | None = None

    def action(self, name: str) -> ActionEntry:
        """The entry of a requirement, by id (or by action name for one on the table)."""
        for entry in self.actions:
            if name in (entry.id, entry.action):
                return entry
        raise KeyError(f"action {name!r} is not among target {self.name!r}'s verdicts")

    @property
    def missing(self) -> tuple[ActionEntry, ...]:
        return tuple(entry for entry in self.actions if not entry.verdict.is_allowed)


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
