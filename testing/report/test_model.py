"""The report model and its JSON form: round trips, enum values, one source of labels."""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.report.codec import from_json, to_json
from iam_compliance.report.document import SCHEMA, ReportDocument, RowPayload, TestEntry, Tool
from iam_compliance.report.labels import (
    CheckKind,
    EvidenceKind,
    Outcome,
    RemediationStatus,
    Status,
    VerdictCode,
)
from iam_compliance.report.model import (
    ActionEntry,
    BlockedEntry,
    CheckEntry,
    Checks,
    Deciding,
    EvidenceEntry,
    FindingEntry,
    PlanEntry,
    RemediationEntry,
    TargetSection,
)

from conftest import (
    ACCOUNT,
    CLASS,
    POLICY_ARN,
    POLICY_NAME,
    REGION,
    ROLE_ARN,
    SUITE_FILE,
    TABLE_ARN,
    action_id,
    compliant_policy,
    report_section,
    runbook_assessment,
    runbook_fix,
    runbook_policy,
)

TASK_POLICY = f"{POLICY_NAME} v1"


def evidence(kind: EvidenceKind, statement: str, **extra: Any) -> EvidenceEntry:
    fields: dict[str, Any] = {
        "policy": TASK_POLICY,
        "effect": "Allow",
        "condition_keys": (),
        "note": None,
        **extra,
    }
    return EvidenceEntry(kind=kind, statement=statement, **fields)


def action(name: str, verdict: VerdictCode, *found: EvidenceEntry) -> ActionEntry:
    first = found[0] if found else None
    return ActionEntry(
        action=name,
        needed_for=f"what {name} is for",
        verdict=verdict,
        decision="allowed" if verdict.is_allowed else "not allowed",
        reason=f"{name} is {verdict.label}",
        deciding=Deciding(first.policy, first.statement) if first else None,
        evidence=found,
    )


def plan() -> PlanEntry:
    new_document = compliant_policy()
    return PlanEntry(
        policy_arn=POLICY_ARN,
        policy_name=POLICY_NAME,
        current_version="v1",
        added_actions=("dynamodb:Scan",),
        statement="statement #2",
        blocked=(BlockedEntry("dynamodb:Query", "dynamodb:Query is explicitly denied"),),
        refusals=("dynamodb:Query cannot be fixed by adding an Allow",),
        size=528,
        diff='--- a\n+++ b\n+                "dynamodb:Scan",',
        new_document=new_document,
    )


def full_section() -> TargetSection:
    """A section with every kind of value the model holds."""
    return TargetSection(
        name="prod",
        account=ACCOUNT,
        region=REGION,
        role_arn=ROLE_ARN,
        policy_arn=POLICY_ARN,
        table_arn=TABLE_ARN,
        default_version="v2",
        compliant=False,
        actions=(
            action(
                "dynamodb:GetItem",
                VerdictCode.ALLOWED,
                evidence(EvidenceKind.ALLOWED_BY, "statement #2"),
                evidence(EvidenceKind.BOUNDARY_ALLOWED_BY, "statement #1", policy="B v1"),
            ),
            action(
                "dynamodb:PutItem",
                VerdictCode.CONDITIONAL,
                evidence(
                    EvidenceKind.ALLOWED_BY, 'statement "InVpc"', condition_keys=("aws:SourceVpc",)
                ),
            ),
            action(
                "dynamodb:Query",
                VerdictCode.DENIED,
                evidence(EvidenceKind.DENIED_BY, 'statement "NoQuery"', effect="Deny"),
            ),
            action(
                "dynamodb:Scan",
                VerdictCode.UNDECIDED,
                evidence(
                    EvidenceKind.UNDECIDED_BY,
                    "statement #4",
                    condition_keys=("aws:CurrentTime",),
                    note="DateGreaterThan aws:CurrentTime: 'soon' is not a date",
                ),
            ),
        ),
        checks=Checks(
            attached=CheckEntry(True, f"{POLICY_NAME} is attached"),
            trusts_ecs_tasks=CheckEntry(False, "no Allow of sts:AssumeRole"),
        ),
        findings=(
            FindingEntry("WILDCARD_ACTION", "fail", TASK_POLICY, "statement #2", "too wide"),
            FindingEntry("EXTRA_ACTION", "info", TASK_POLICY, "statement #2", "an extra"),
        ),
        next_steps=("run --fix-dry-run",),
        proposed_fix=plan(),
        remediation=RemediationEntry(
            status=RemediationStatus.APPLIED,
            dry_run=False,
            reason=None,
            plan=plan(),
            version_to_delete="v1",
            record_path="reports/remediation-20261127T221405Z-prod.json",
            record={
                "schema": "iam-compliance/remediation/v1",
                "previous_version": {"version_id": "v1", "document": runbook_policy()},
                "new_version": {"version_id": "v2", "document": compliant_policy()},
                "deleted_version": None,
                "added_actions": ["dynamodb:Scan"],
                "verification": {"attempts": 2},
                "error": None,
            },
        ),
    )


def document(*sections: TargetSection) -> ReportDocument:
    return ReportDocument(
        schema=SCHEMA,
        generated_at="2026-11-27T22:14:05Z",
        tool=Tool("iam-compliance", "0.1.0"),
        mode="live",
        policy_file=None,
        context={"aws:SourceVpc": ("vpc-1", "vpc-2")},
        exit_status=1,
        compliant=False,
        tests=(
            TestEntry(action_id("dynamodb:Scan"), Outcome.FAILED, "prod", "dynamodb:Scan"),
            TestEntry("tests/test_other.py::test_x", Outcome.XPASSED, None, None),
        ),
        targets=sections,
    )


# ----------------------------------------------------------------------- round trips


def through_json(value: Any) -> Any:
    """``value``'s JSON form as a file or an xdist message carries it: text."""
    return json.loads(json.dumps(to_json(value)))


def test_full_target_section_survives_a_round_trip() -> None:
    section = full_section()

    assert from_json(TargetSection, through_json(section)) == section


@pytest.mark.parametrize(
    "fix",
    [
        pytest.param(None, id="proposed-fix"),
        pytest.param({"dry_run": True, "versions": 5}, id="dry-run"),
        pytest.param({}, id="applied-fix-with-its-record"),
    ],
)
def test_section_built_from_an_assessment_survives_a_round_trip(
    fix: dict[str, Any] | None,
) -> None:
    remediation = runbook_fix(**fix) if fix is not None else None
    section = report_section(runbook_assessment(), remediation=remediation, fixing=fix is not None)

    assert section.proposed_fix is not None
    assert (section.remediation is not None) == (fix is not None)
    assert from_json(TargetSection, through_json(section)) == section


@pytest.mark.parametrize(
    "section",
    [pytest.param(None, id="without-section"), pytest.param(full_section(), id="with-section")],
)
def test_row_payload_survives_a_round_trip(section: TargetSection | None) -> None:
    payload = RowPayload(
        target="prod",
        check=CheckKind.ACTION,
        action="dynamodb:Scan",
        verdict="could not be decided",
        status=Status.FAIL,
        detail=f"{TASK_POLICY}, statement #4",
        section=section,
    )

    assert from_json(RowPayload, through_json(payload)) == payload


def test_row_payload_of_a_test_that_is_no_check_survives_a_round_trip() -> None:
    payload = RowPayload("default", None, None, "", Status.OK, "")

    assert from_json(RowPayload, through_json(payload)) == payload


def test_report_document_survives_a_round_trip() -> None:
    report = document(full_section(), report_section(runbook_assessment()))

    assert from_json(ReportDocument, through_json(report)) == report


# ------------------------------------------------------------------- the JSON form


def test_enums_are_written_as_their_values() -> None:
    written = to_json(document(full_section()))

    assert isinstance(written, dict)
    [target] = written["targets"]
    assert [a["verdict"] for a in target["actions"]] == [
        "allowed",
        "conditional",
        "denied",
        "undecided",
    ]
    assert [e["kind"] for a in target["actions"] for e in a["evidence"]] == [
        "allowed_by",
        "boundary_allowed_by",
        "allowed_by",
        "denied_by",
        "undecided_by",
    ]
    assert target["remediation"]["status"] == "applied"
    assert [t["outcome"] for t in written["tests"]] == ["failed", "xpassed"]
    payload = to_json(RowPayload("t", CheckKind.LEAST_PRIVILEGE, None, "", Status.WARN, ""))
    assert isinstance(payload, dict)
    assert (payload["check"], payload["status"]) == ("least_privilege", "warn")


def test_json_form_keeps_field_order_and_writes_tuples_as_lists() -> None:
    written = to_json(full_section())

    assert isinstance(written, dict)
    assert list(written) == [
        "name",
        "account",
        "region",
        "role_arn",
        "policy_arn",
        "table_arn",
        "default_version",
        "compliant",
        "actions",
        "checks",
        "findings",
        "next_steps",
        "proposed_fix",
        "remediation",
        "request_context",
        "guardrails",
        "endpoint_url",
        "caller_arn",
        "command",
        "forbidden",
        "trusted_service",
        "fix_options",
    ]
    assert written["next_steps"] == ["run --fix-dry-run"]
    assert written["actions"][1]["evidence"][0]["condition_keys"] == ["aws:SourceVpc"]
    assert written["actions"][0]["deciding"] == {"policy": TASK_POLICY, "statement": "statement #2"}
    assert written["proposed_fix"]["new_document"] == compliant_policy()


def test_context_is_written_as_lists() -> None:
    written = to_json(document())

    assert isinstance(written, dict)
    assert written["context"] == {"aws:SourceVpc": ["vpc-1", "vpc-2"]}


def test_values_outside_the_model_are_refused() -> None:
    with pytest.raises(TypeError, match="set is not part of the report model"):
        to_json({"actions": {"dynamodb:Scan"}})


def edit(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = through_json(full_section())
    change(data)
    result: dict[str, Any] = data
    return result


def not_a_bool(data: dict[str, Any]) -> None:
    data["checks"]["attached"]["ok"] = 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param([], "TargetSection: expected an object, got list", id="not-an-object"),
        pytest.param(
            edit(lambda d: d.update(actions="dynamodb:Scan")),
            "TargetSection.actions: expected a list, got str",
            id="list-expected",
        ),
        pytest.param(
            edit(lambda d: d.pop("name")),
            "TargetSection.name: expected <class 'str'>, got NoneType",
            id="field-missing",
        ),
        pytest.param(
            edit(lambda d: d.update(compliant="false")),
            "TargetSection.compliant: expected <class 'bool'>, got str",
            id="bool-expected",
        ),
        pytest.param(
            edit(not_a_bool),
            "TargetSection.checks.attached.ok: expected <class 'bool'>, got int",
            id="nested-bool-expected",
        ),
        pytest.param(
            edit(lambda d: d["actions"][0]["evidence"][0].update(condition_keys="aws:SourceVpc")),
            "TargetSection.actions[].evidence[].condition_keys: expected a list, got str",
            id="nested-list-expected",
        ),
        pytest.param(
            edit(lambda d: d["proposed_fix"].update(size="528")),
            "TargetSection.proposed_fix.size: expected <class 'int'>, got str",
            id="int-expected",
        ),
        pytest.param(
            edit(lambda d: d["actions"][0].update(verdict="maybe")),
            "TargetSection.actions[].verdict",
            id="unknown-enum-value",
        ),
        pytest.param(
            edit(lambda d: d["proposed_fix"].update(new_document=["Statement"])),
            "TargetSection.proposed_fix.new_document",
            id="object-expected-for-a-document",
        ),
        pytest.param(
            edit(lambda d: d["proposed_fix"].update(size=True)),
            "TargetSection.proposed_fix.size",
            id="bool-is-not-an-int",
        ),
    ],
)
def test_wrong_shapes_raise_value_error_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        from_json(TargetSection, data)


def test_report_document_context_must_hold_lists() -> None:
    data = through_json(document())
    data["context"] = {"aws:SourceVpc": "vpc-1"}

    with pytest.raises(
        ValueError, match=r"^ReportDocument\.context\.aws:SourceVpc: expected a list"
    ):
        from_json(ReportDocument, data)


def test_from_json_does_not_change_its_input() -> None:
    data = through_json(full_section())
    before = copy.deepcopy(data)

    from_json(TargetSection, data)

    assert data == before


# ------------------------------------------------------------------ labels, statuses

VERDICTS = [
    pytest.param(VerdictCode.ALLOWED, "allowed", Status.OK, True, id="allowed"),
    pytest.param(
        VerdictCode.CONDITIONAL,
        "allowed only under conditions",
        Status.WARN,
        True,
        id="conditional",
    ),
    pytest.param(VerdictCode.DENIED, "denied", Status.FAIL, False, id="denied"),
    pytest.param(VerdictCode.UNDECIDED, "could not be decided", Status.FAIL, False, id="undecided"),
]


@pytest.mark.parametrize(("code", "label", "status", "allowed"), VERDICTS)
def test_verdict_code(code: VerdictCode, label: str, status: Status, allowed: bool) -> None:
    assert (code.label, code.status, code.is_allowed) == (label, status, allowed)


def test_every_verdict_code_is_covered() -> None:
    assert {p.values[0] for p in VERDICTS} == set(VerdictCode)


def test_undecided_reads_the_same_in_the_engine_and_the_report() -> None:
    assert VerdictCode.UNDECIDED.label == Decision.UNDECIDED.value
    assert VerdictCode.ALLOWED.label == Decision.ALLOWED.value


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        pytest.param(EvidenceKind.ALLOWED_BY, "allowed by", id="allowed-by"),
        pytest.param(EvidenceKind.DENIED_BY, "denied by", id="denied-by"),
        pytest.param(
            EvidenceKind.BOUNDARY_ALLOWED_BY, "allowed by the boundary:", id="boundary-allowed-by"
        ),
        pytest.param(EvidenceKind.UNDECIDED_BY, "undecided:", id="undecided-by"),
    ],
)
def test_evidence_kind_label(kind: EvidenceKind, label: str) -> None:
    assert kind.label == label


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        pytest.param(
            evidence(EvidenceKind.DENIED_BY, 'statement "NoQuery"'),
            f'denied by {TASK_POLICY}, statement "NoQuery"',
            id="plain",
        ),
        pytest.param(
            evidence(EvidenceKind.ALLOWED_BY, "statement #2", condition_keys=("a:B", "c:D")),
            f"allowed by {TASK_POLICY}, statement #2 (conditions on a:B, c:D)",
            id="with-condition-keys",
        ),
        pytest.param(
            evidence(EvidenceKind.UNDECIDED_BY, "statement #4", note="no such operator"),
            f"undecided: {TASK_POLICY}, statement #4: no such operator",
            id="with-a-note",
        ),
    ],
)
def test_evidence_entry_text(entry: EvidenceEntry, text: str) -> None:
    assert entry.text == text


def test_deciding_text_names_the_statement_or_says_none_allows() -> None:
    section = full_section()

    assert section.action("dynamodb:GetItem").deciding_text == f"{TASK_POLICY}, statement #2"
    assert action("dynamodb:Scan", VerdictCode.DENIED).deciding_text == "no statement allows it"


@pytest.mark.parametrize(
    ("severity", "status"),
    [pytest.param("fail", Status.FAIL, id="fail"), pytest.param("info", Status.WARN, id="info")],
)
def test_finding_status(severity: str, status: Status) -> None:
    assert FindingEntry("X", severity, "p", "s", "m").status is status


# ------------------------------------------------------------------ target sections


def test_action_finds_an_entry_by_name() -> None:
    section = full_section()

    assert section.action("dynamodb:Query").verdict is VerdictCode.DENIED


def test_action_not_among_the_verdicts_is_a_key_error_naming_target_and_action() -> None:
    with pytest.raises(KeyError, match="action 'dynamodb:DeleteItem' is not among target 'prod'"):
        full_section().action("dynamodb:DeleteItem")


def test_missing_leaves_out_allowed_and_conditional_actions() -> None:
    assert [entry.action for entry in full_section().missing] == [
        "dynamodb:Query",
        "dynamodb:Scan",
    ]


def test_missing_of_a_built_section_is_what_the_assessment_misses() -> None:
    assessment = runbook_assessment()

    section = report_section(assessment)

    assert [e.action for e in section.missing] == [v.action for v in assessment.missing]


# --------------------------------------------------------------- the suite's tests


def suite_test_functions() -> dict[str, tuple[list[str], list[str]]]:
    """The compliance suite's test methods: their arguments, and the kinds their
    ``iam_check`` markers name, read from its source."""
    tree = ast.parse(SUITE_FILE.read_text())
    [suite_class] = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert f"{SUITE_FILE.parent.name}/{SUITE_FILE.name}::{suite_class.name}" == CLASS
    return {
        node.name: ([arg.arg for arg in node.args.args], _iam_checks(node))
        for node in suite_class.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def _iam_checks(node: ast.FunctionDef) -> list[str]:
    return [
        decorator.args[0].value
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
        and ast.unparse(decorator.func) == "pytest.mark.iam_check"
        and isinstance(decorator.args[0], ast.Constant)
    ]


def test_each_suite_test_is_marked_with_what_it_checks() -> None:
    functions = suite_test_functions()

    kinds = [CheckKind(checks[0]) for _, checks in functions.values() if len(checks) == 1]
    assert len(kinds) == len(functions)
    assert sorted(kinds, key=list(CheckKind).index) == list(CheckKind)


def test_the_action_check_is_the_test_that_takes_the_required_action() -> None:
    functions = suite_test_functions()

    per_action = [name for name, (args, _) in functions.items() if "required_action" in args]
    assert per_action == ["test_required_action_is_allowed"]
    assert functions["test_required_action_is_allowed"][1] == [CheckKind.ACTION.value]
