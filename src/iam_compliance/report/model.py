"""The report model: everything a run tells people and tools, as typed values.

One model feeds every output: compliance.json is its JSON form (:func:`.codec.to_json`), the HTML
page and the terminal summary render it, the JUnit properties read it. Under pytest-xdist
a worker's target sections travel to the controller as JSON and come back through
:func:`.codec.from_json`, so the controller renders exactly what the worker judged.

Every label, status and id is defined once, as an enum, in :mod:`.labels`.

The run as a whole (compliance.json itself, its tests, the payload each test's report
carries) is in :mod:`.document`; the target sections and their parts are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .labels import (
    EvidenceKind,
    RemediationStatus,
    Status,
    VerdictCode,
)

#: A JSON value: what policy documents and remediation records are.
JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
#: A JSON object.
JSONObject: TypeAlias = dict[str, JSON]

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
        # A key use the request needs ("needs kms:Decrypt on key/..."; IAM names have no
        # spaces) says all there is; else an Allow whose condition is not met.
        if self.deciding.policy.startswith("needs "):
            return self.deciding.text
        if self.decision == "not allowed":
            return f"{self.deciding.text}: its condition is not met"
        if self.decision == "not allowed by the organization's guardrails":
            return f"{self.deciding.policy}: {self.deciding.statement}"
        return self.deciding.text


@dataclass(frozen=True)
class ForbiddenEntry:
    """The forbidden check of one ``[[forbid]]`` entry: its verdict, and whether that proves
    the request refused."""

    #: The requirement file's id: the action, or ``action@resource`` for one not on the table.
    id: str
    action: str
    #: The resource (ARN or ARN pattern) the verdict is for.
    resource: str
    #: Why the workload must never be able to do it (the entry's ``reason``).
    forbidden_because: str
    #: The verdict on the request, as for a required action (``denied`` passes only when
    #: nothing is assumed: ``ok``).
    verdict: VerdictCode
    #: The evaluator's decision, in words.
    decision: str
    #: The verdict's sentence, naming the statement that decided it.
    reason: str
    deciding: Deciding | None
    evidence: tuple[EvidenceEntry, ...]
    #: Keys assumed absent that the denial depends on (then it is no proof).
    assumes_absent: tuple[str, ...]
    #: Whether the request is proved refused: the check passes.
    ok: bool
    #: The check's sentence, as the test's failure says it.
    message: str

    @property
    def status(self) -> Status:
        return Status.OK if self.ok else Status.FAIL

    @property
    def label(self) -> str:
        """The Verdict column: ``denied`` for a proof, else what it is."""
        if self.ok:
            return "denied"
        if self.verdict is VerdictCode.DENIED:
            return "denied only by assumption"
        return self.verdict.label


@dataclass(frozen=True)
class CheckEntry:
    """A yes/no check with the sentence that explains it."""

    ok: bool
    message: str


@dataclass(frozen=True)
class Checks:
    attached: CheckEntry
    #: The trust check: the role's trust policy lets the workload's service assume it
    #: (``TargetSection.trusted_service``; the name is the schema's, from when that was
    #: always ECS's tasks).
    trusts_ecs_tasks: CheckEntry


@dataclass(frozen=True)
class FindingEntry:
    """A least-privilege finding (see :data:`...engine.evaluate.privilege.FINDING_KINDS`)."""

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
    #: The workload's forbidden actions (``[[forbid]]``), in the file's order.
    forbidden: tuple[ForbiddenEntry, ...] = ()
    #: The service principal the trust check lets assume the role (``[workload]``).
    trusted_service: str = "ecs-tasks.amazonaws.com"
    #: The run's names for --iam-fix-dry-run and --iam-fix, as the hints write them.
    fix_options: tuple[str, str] = ("--iam-fix-dry-run", "--iam-fix")

    def action(self, name: str) -> ActionEntry:
        """The entry of a requirement, by id (or by action name for one on the table)."""
        for entry in self.actions:
            if name in (entry.id, entry.action):
                return entry
        raise KeyError(f"action {name!r} is not among target {self.name!r}'s verdicts")

    @property
    def missing(self) -> tuple[ActionEntry, ...]:
        return tuple(entry for entry in self.actions if not entry.verdict.is_allowed)

    def forbid(self, forbid_id: str) -> ForbiddenEntry:
        """The entry of a forbid, by id."""
        for entry in self.forbidden:
            if entry.id == forbid_id:
                return entry
        raise KeyError(f"forbid {forbid_id!r} is not among target {self.name!r}'s verdicts")

    @property
    def not_denied(self) -> tuple[ForbiddenEntry, ...]:
        """The forbids not proved refused: each a failure."""
        return tuple(entry for entry in self.forbidden if not entry.ok)

    @property
    def resource_text(self) -> str:
        """`` on <table ARN>`` when every required action is on the table or under it (an
        id names any other resource), else nothing: how a verdict table's heading names
        what it is about."""
        table = self.table_arn
        if all(e.resource == table or e.resource.startswith(f"{table}/") for e in self.actions):
            return f" on {table}"
        return ""
