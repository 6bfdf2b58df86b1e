"""Reports for people and for CI: a self-contained HTML page, JUnit XML and compliance.json.

A run of the compliance suite writes, unless ``--html`` or ``--junitxml`` name other files,
into the reports folder (ini ``iam_compliance_reports``, default ``reports/``):

* ``compliance.html``: pytest-html's self-contained report. The title names the role and
  account; the verdict table comes first, then the Environment (mode, account, region,
  ARNs, the policy's default version, time, tool version) and one row per test with its
  verdict and deciding statement. A failing row carries the reason, the current default
  policy document and the proposed fix as a diff.
* ``compliance.xml``: JUnit XML, with the target as suite properties (see
  :func:`junit_properties`) and each action test's verdict as test case properties.
* ``compliance.json``: the verdicts for dashboards and other tools, in the schema below.

Everything read from a policy is untrusted input: every string is escaped with
:func:`html.escape` before it reaches the HTML, including the Environment values, which
pytest-html inserts as markup.

Under pytest-xdist only the controller writes, and it has no assessments of its own: the
workers judge the role. So everything the reports need travels on the test reports
(the ``iam_compliance`` attribute of each compliance test's call report, which xdist
transfers with the report), and the controller builds the files from what it receives.
A run without xdist goes through exactly the same path.

compliance.json, schema ``iam-compliance/report/v1``
----------------------------------------------------

Fields keep their names and meanings within v1; new fields may be added. Anything else
is a new schema name. ::

    {
      "schema": "iam-compliance/report/v1",
      "generated_at": "2026-11-27T22:14:05Z",          # UTC
      "tool": {"name": "iam-compliance", "version": "0.1.0"},
      "mode": "mock" | "live",
      "policy_file": "path" | null,                    # mock mode's --policy-file
      "context": {"aws:SourceVpc": ["vpc-1234"]},      # --context, for conditions
      "exit_status": 0,                                # pytest's exit code, see README
      "compliant": true,                               # every target listed is compliant
      "tests": [{"nodeid": "...", "outcome": "passed" | "failed" | "skipped" | "error"
                 | "xfailed" | "xpassed", "target": "default" | null,
                 "action": "dynamodb:Scan" | null}],
      "targets": [{                                    # each target a test checked
        "name": "default",
        "account": "618574523116", "region": "us-east-1",
        "role_arn": "...", "policy_arn": "...", "table_arn": "...",
        "default_version": "v1" | null,                # null: policy not attached
        "compliant": false,
        "actions": [{
          "action": "dynamodb:Scan",
          "needed_for": "List all jobs",
          "verdict": "allowed" | "denied" | "conditional" | "undecided",
          "decision": "allowed" | "explicitly denied" | "not allowed"
                      | "not allowed by the permissions boundary" | "could not be decided",
          "reason": "one sentence naming the policy and statement",
          "deciding": {"policy": "...", "statement": "..."} | null,
          "evidence": [{"kind": "allowed_by" | "denied_by" | "boundary_allowed_by"
                                | "undecided_by",
                        "policy": "...", "statement": "...", "effect": "Allow" | "Deny",
                        "condition_keys": ["..."], "note": "..." | null}]
        }],
        "checks": {"attached": {"ok": true, "message": "..."},
                   "trusts_ecs_tasks": {"ok": true, "message": "..."}},
        "findings": [{"id": "WILDCARD_ACTION", "severity": "fail" | "info",
                      "policy": "...", "statement": "...", "message": "..."}],
        "next_steps": ["..."],                         # what to do, as the terminal says
        "proposed_fix": PLAN | null,                   # what --fix would change; null
                                                       # when nothing is missing
        "remediation": {                               # null unless --fix/--fix-dry-run
          "status": "applied" | "dry_run" | "refused" | "nothing_to_fix"
                    | "not_planned" | "not_applied",
          "dry_run": false,
          "reason": "..." | null,                      # not_planned: why
          "plan": PLAN | null,
          "version_to_delete": "v1" | null,
          "record_path": "..." | null,                 # applied: the remediation record
          "record": {...} | null                       # ... and its content
        }
      }]
    }

    PLAN = {"policy_arn": "...", "policy_name": "...", "current_version": "v1",
            "added_actions": ["..."], "statement": "..." | null,
            "blocked": [{"action": "...", "reason": "..."}], "refusals": ["..."],
            "size": 512, "diff": "unified diff", "new_document": {...} | null}

``proposed_fix`` is planned from the documents already read, without listing the policy's
versions, so it never says whether a version would have to be deleted; ``--fix-dry-run``
does. No credentials appear anywhere: targets are written field by field.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Generator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest import junitxml
from pytest_html import extras  # type: ignore[import-untyped]
from pytest_metadata.plugin import metadata_key  # type: ignore[import-untyped]

from . import __version__
from .assessment import Assessment, Check
from .config import Settings
from .errors import IamComplianceError
from .evaluation import Context, Decision, Verdict
from .privilege import Finding
from .remediation import MANAGED_POLICY_SIZE_LIMIT, FixPlan, PolicyVersion, plan_fix
from .reporting import Remediation, next_steps

if TYPE_CHECKING:
    from .plugin import ComplianceRun

SCHEMA = "iam-compliance/report/v1"
HTML_NAME = "compliance.html"
XML_NAME = "compliance.xml"
JSON_NAME = "compliance.json"
#: The test report attribute that carries a test's verdict data to the xdist controller.
ATTRIBUTE = "iam_compliance"

#: The suite's whole-role tests by function name, and the part of the assessment each one
#: reports on; the per-action test is recognised by its ``required_action`` argument.
CHECK_TESTS: Mapping[str, str] = {
    "test_task_role_has_all_required_permissions": "all_actions",
    "test_policy_is_attached_to_task_role": "attached",
    "test_task_role_trusts_ecs_tasks": "trust",
    "test_dynamodb_access_is_least_privilege": "least_privilege",
}
#: How each verdict code reads; the same words as the terminal summary.
VERDICT_LABELS: Mapping[str, str] = {
    "allowed": "allowed",
    "conditional": "allowed only under conditions",
    "denied": "denied",
    "undecided": "undecided",
}
#: The colour class of each verdict code.
_VERDICT_STATUS: Mapping[str, str] = {
    "allowed": "ok",
    "conditional": "warn",
    "denied": "fail",
    "undecided": "fail",
}


def use_default_paths(config: pytest.Config, folder: Path) -> None:
    """Point pytest-html and junitxml at ``folder`` unless the user named files.

    Called from the plugin's ``pytest_configure``, which runs before theirs. A
    ``--collect-only`` or ``--help`` run checks nothing, so it must not replace the last
    real reports.
    """
    option = config.option
    if option.collectonly or getattr(option, "help", False):
        return
    if hasattr(option, "htmlpath") and not option.htmlpath:
        option.htmlpath = str(folder / HTML_NAME)
        option.self_contained_html = True
    if hasattr(option, "xmlpath") and not option.xmlpath:
        option.xmlpath = str(folder / XML_NAME)


# ------------------------------------------------------------------ compliance.json


def verdict_code(verdict: Verdict) -> str:
    """allowed / conditional / denied / undecided: the verdict as the JSON states it."""
    if verdict.is_conditional:
        return "conditional"
    if verdict.is_allowed:
        return "allowed"
    if verdict.decision is Decision.UNDECIDED:
        return "undecided"
    return "denied"


def target_section(
    assessment: Assessment,
    *,
    remediation: Remediation | None,
    proposed: FixPlan | None,
    fixing: bool,
) -> dict[str, Any]:
    """One entry of ``targets``: everything judged about one target.

    The target is written field by field: it may hold credentials, which never leave
    the process.
    """
    target, snapshot = assessment.target, assessment.snapshot
    policy = assessment.target_policy
    return {
        "name": target.name,
        "account": snapshot.account_id,
        "region": target.region,
        "role_arn": snapshot.role_arn,
        "policy_arn": target.policy_arn,
        "table_arn": target.table_arn,
        "default_version": policy.version if policy is not None else None,
        "compliant": assessment.is_compliant,
        "actions": [
            action_entry(verdict, assessment.reason_for(action))
            for action, verdict in assessment.verdicts.items()
        ],
        "checks": {
            "attached": check_entry(assessment.attachment),
            "trusts_ecs_tasks": check_entry(assessment.trust),
        },
        "findings": [finding_entry(f) for f in assessment.findings],
        "next_steps": [line.strip() for line in next_steps(assessment, fixing=fixing)],
        "proposed_fix": plan_entry(proposed) if proposed is not None else None,
        "remediation": remediation_entry(remediation) if remediation is not None else None,
    }


def action_entry(verdict: Verdict, needed_for: str) -> dict[str, Any]:
    deciding = verdict.deciding
    groups = (
        ("denied_by", verdict.denied_by),
        ("undecided_by", verdict.undecided_by),
        ("allowed_by", verdict.allowed_by),
        ("boundary_allowed_by", verdict.boundary_allowed_by),
    )
    return {
        "action": verdict.action,
        "needed_for": needed_for,
        "verdict": verdict_code(verdict),
        "decision": verdict.decision.value,
        "reason": verdict.reason,
        "deciding": (
            {"policy": deciding.policy, "statement": deciding.statement}
            if deciding is not None
            else None
        ),
        "evidence": [
            {
                "kind": kind,
                "policy": evidence.policy,
                "statement": evidence.statement,
                "effect": evidence.effect,
                "condition_keys": list(evidence.condition_keys),
                "note": evidence.note,
            }
            for kind, group in groups
            for evidence in group
        ],
    }


def check_entry(check: Check) -> dict[str, Any]:
    return {"ok": check.ok, "message": check.message}


def finding_entry(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "severity": finding.severity,
        "policy": finding.policy,
        "statement": finding.statement,
        "message": finding.message,
    }


def plan_entry(plan: FixPlan) -> dict[str, Any]:
    return {
        "policy_arn": plan.policy_arn,
        "policy_name": plan.policy_name,
        "current_version": plan.current_version,
        "added_actions": list(plan.added_actions),
        "statement": plan.target_statement,
        "blocked": [{"action": b.action, "reason": b.reason} for b in plan.blocked],
        "refusals": list(plan.refusals),
        "size": plan.size,
        "diff": plan.diff,
        "new_document": _plain(plan.new_document),
    }


def remediation_entry(result: Remediation) -> dict[str, Any]:
    """What --fix or --fix-dry-run did: the record when a fix was applied, else the plan."""
    entry: dict[str, Any] = {
        "status": "",
        "dry_run": result.dry_run,
        "reason": None,
        "plan": None,
        "version_to_delete": None,
        "record_path": None,
        "record": None,
    }
    plan = result.plan
    if isinstance(plan, str):
        return {**entry, "status": "not_planned", "reason": plan}
    entry.update(plan=plan_entry(plan), version_to_delete=plan.version_to_delete)
    if plan.nothing_to_fix:
        status = "nothing_to_fix"
    elif result.outcome is not None:
        status = "applied"
        entry.update(record_path=result.outcome.record_path, record=_plain(result.outcome.record))
    elif result.dry_run:
        status = "dry_run"
    elif plan.can_apply:
        status = "not_applied"  # planned, but this run did not write it
    else:
        status = "refused"
    return {**entry, "status": status}


def proposed_fix(assessment: Assessment, context: Context) -> FixPlan | None:
    """What --fix would add to the task policy, planned from what was already read.

    Only the version to delete depends on the policy's version listing, and reports do
    not say which; planning against the default version alone needs no extra AWS call
    (nor the permission to list versions).
    """
    policy = assessment.target_policy
    if not assessment.missing or policy is None or policy.version is None:
        return None
    listing = [PolicyVersion(policy.version, is_default=True, created=datetime.now(UTC))]
    try:
        return plan_fix(
            assessment.snapshot.policies,
            policy,
            [r.name for r in assessment.requirements],
            assessment.target.table_arn,
            listing,
            context,
        )
    except IamComplianceError:
        return None  # a policy that cannot be fixed by --fix has no proposal to show


def report_document(
    *,
    generated_at: datetime,
    settings: Settings,
    exit_status: int,
    sections: Sequence[Mapping[str, Any]],
    tests: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The whole of compliance.json."""
    return {
        "schema": SCHEMA,
        "generated_at": _utc(generated_at),
        "tool": {"name": "iam-compliance", "version": __version__},
        "mode": settings.mode,
        "policy_file": str(settings.policy_file) if settings.policy_file else None,
        "context": {key: list(values) for key, values in settings.context.items()},
        "exit_status": exit_status,
        "compliant": bool(sections) and all(s["compliant"] for s in sections),
        "tests": list(tests),
        "targets": list(sections),
    }


def _plain(value: Any) -> Any:
    """A JSON-only copy (dicts, lists, strings, numbers), safe to send between processes."""
    return None if value is None else json.loads(json.dumps(value))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------- JUnit, title, environment


def junit_properties(
    settings: Settings, sections: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """Suite properties: mode, then each target's account, role, policy and version.

    With several targets each name is prefixed with the target's (``prod.account``).
    ``sections`` maps target names to what was judged; a target no test checked still
    gets its configuration, with ``policy_version`` ``unknown``.
    """
    properties = [("mode", settings.mode), ("iam_compliance_version", __version__)]
    several = len(settings.targets) > 1
    for target in settings.targets:
        prefix = f"{target.name}." if several else ""
        section = sections.get(target.name)
        version = "unknown"
        if section is not None:
            version = section["default_version"] or "not attached"
        values = [
            ("account", target.account_id),
            ("region", target.region),
            ("role", target.role_arn),
            ("policy", target.policy_arn),
            ("policy_version", version),
            ("table", target.table_arn),
        ]
        if section is not None:
            values.append(("compliant", "true" if section["compliant"] else "false"))
        properties.extend((prefix + name, value) for name, value in values)
    return properties


def report_title(settings: Settings) -> str:
    """``IAM compliance: MLPlatformECSTaskRole in account 618574523116 (MOCK)``.

    Plain text: pytest-html's template escapes the title itself.
    """
    roles = list(dict.fromkeys(t.role_name for t in settings.targets))
    accounts = list(dict.fromkeys(t.account_id for t in settings.targets))
    where = f"account{'s' if len(accounts) > 1 else ''} {', '.join(accounts)}"
    return f"IAM compliance: {', '.join(roles)} in {where} ({settings.mode.upper()})"


def mode_description(settings: Settings) -> str:
    if settings.mode == "mock":
        return "MOCK: an embedded moto account, NOT a check of a real AWS account"
    return "LIVE: the account behind boto3's default credential chain"


def environment(settings: Settings, started: datetime) -> dict[str, str]:
    """The rows iam-compliance adds to pytest-html's Environment table, escaped.

    pytest-html inserts the values as markup, so they are escaped here. The default
    versions are only known once the role is read; :func:`version_key` names the row
    that is filled in then.
    """
    rows = {"Mode": mode_description(settings)}
    for target in settings.targets:
        suffix = _target_suffix(settings, target.name)
        rows[f"Account{suffix}"] = target.account_id
        rows[f"Region{suffix}"] = target.region
        rows[f"Role ARN{suffix}"] = target.role_arn
        rows[f"Policy ARN{suffix}"] = target.policy_arn
        rows[version_key(settings, target.name)] = "not read (no check ran)"
        rows[f"Table ARN{suffix}"] = target.table_arn
    if settings.policy_file is not None:
        rows["Policy file"] = str(settings.policy_file)
    if settings.context:
        rows["Request context"] = ", ".join(
            f"{key}={value}" for key, values in settings.context.items() for value in values
        )
    rows["Time (UTC)"] = _utc(started)
    rows["iam-compliance version"] = __version__
    return {key: html.escape(value) for key, value in rows.items()}


def version_key(settings: Settings, name: str) -> str:
    return f"Policy default version{_target_suffix(settings, name)}"


def _target_suffix(settings: Settings, name: str) -> str:
    return f" ({name})" if len(settings.targets) > 1 else ""


# --------------------------------------------------------------------------- HTML

#: Styles for the verdict summary and the rows' details. The summary (where the verdict
#: table is) is moved above the Environment table: it is what a reader opens the page for.
STYLE = """<style>
body { display: flex; flex-direction: column; }
#title { order: -3; }
body > p { order: -2; }
.summary { order: -1; }
.iamc { color: #222; font-size: 13px; line-height: 1.4; }
.iamc p { margin: 4px 0; }
.iamc-mode { padding: 8px 12px; margin: 6px 0 10px; border-radius: 4px; font-weight: bold;
  font-size: 14px; }
.iamc-mode-mock { background: #fff3cd; border: 2px solid #d39e00; color: #5c4300; }
.iamc-mode-live { background: #e7f1ff; border: 1px solid #6ea8fe; color: #084298; }
.iamc h3 { font-size: 15px; color: #000; margin: 12px 0 2px; }
.iamc h4 { font-size: 13px; color: #000; margin: 10px 0 4px; }
.iamc-meta { color: #555; }
.iamc-badge { display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 3px;
  color: #fff; font-size: 12px; vertical-align: middle; }
.iamc-badge-ok { background: #2e7d32; }
.iamc-badge-fail { background: #c62828; }
table.iamc-table { border-collapse: collapse; margin: 6px 0; }
table.iamc-table th, table.iamc-table td { border: 1px solid #ddd; padding: 4px 8px;
  text-align: left; vertical-align: top; color: #222; }
table.iamc-table th { background: #f3f3f3; color: #000; }
.iamc-ok { color: #2e7d32; font-weight: bold; }
.iamc-warn { color: #a05a00; font-weight: bold; }
.iamc-fail { color: #c62828; font-weight: bold; }
.iamc-reason { color: #555; font-size: 12px; }
.iamc ul { margin: 4px 0; padding-left: 20px; }
.iamc code, .iamc-cell code { background: #f3f3f3; padding: 0 3px; }
.iamc-diff, .iamc-doc { background: #f8f8f8; border: 1px solid #ddd; padding: 6px;
  margin: 4px 0; overflow: auto; max-height: 420px; font-size: 12px; color: #222; }
.iamc-diff span { display: block; white-space: pre; }
.iamc-add { background: #e6ffec; color: #116329; }
.iamc-del { background: #ffebe9; color: #82071e; }
.iamc-hunk { color: #0550ae; }
.iamc summary { cursor: pointer; font-weight: bold; color: #000; }
.iamc-cell, #environment td { color: #222; }
</style>"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def summary_html(settings: Settings, sections: Sequence[Mapping[str, Any]]) -> str:
    """The top of the report: the mode, then each target's verdicts and what to do."""
    mode_class = "iamc-mode-mock" if settings.mode == "mock" else "iamc-mode-live"
    parts = [
        STYLE,
        '<div class="iamc">',
        f'<p class="iamc-mode {mode_class}">{_e(mode_description(settings))}</p>',
    ]
    if not sections:
        parts.append("<p>No compliance check ran, so there are no verdicts.</p>")
    for section in sections:
        parts.append(target_html(section))
    parts.append("</div>")
    return "\n".join(parts)


def target_html(section: Mapping[str, Any]) -> str:
    ok = bool(section["compliant"])
    badge = (
        '<span class="iamc-badge iamc-badge-ok">COMPLIANT</span>'
        if ok
        else '<span class="iamc-badge iamc-badge-fail">NOT COMPLIANT</span>'
    )
    version = section["default_version"] or "not attached"
    parts = [
        f"<h3>{badge}{_e(section['role_arn'])}</h3>",
        f'<p class="iamc-meta">target {_e(section["name"])}: account {_e(section["account"])}, '
        f"region {_e(section['region'])}; policy {_e(section['policy_arn'])} (default "
        f"version {_e(version)}); table {_e(section['table_arn'])}</p>",
        verdict_table_html(section["actions"]),
        "<ul>",
    ]
    checks = section["checks"]
    for check in (checks["attached"], checks["trusts_ecs_tasks"]):
        status = "ok" if check["ok"] else "fail"
        mark = "&#10003;" if check["ok"] else "&#10007;"
        parts.append(f'<li><span class="iamc-{status}">{mark}</span> {_e(check["message"])}</li>')
    parts.append("</ul>")
    parts.append(findings_html(section["findings"]))
    if section["next_steps"]:
        parts.append("<h4>What to do next</h4><ul>")
        parts.extend(f"<li>{_e(step)}</li>" for step in section["next_steps"])
        parts.append("</ul>")
    proposed = section["proposed_fix"]
    if proposed is not None and section["remediation"] is None:
        parts.append(proposal_html(proposed))
    if section["remediation"] is not None:
        parts.append(remediation_html(section["remediation"]))
    return '<div class="iamc-target">' + "\n".join(parts) + "</div>"


def verdict_table_html(actions: Iterable[Mapping[str, Any]]) -> str:
    rows = [
        '<table class="iamc-table iamc-verdicts"><thead><tr><th>Required action</th>'
        "<th>Needed to</th><th>Verdict</th><th>Decided by</th></tr></thead><tbody>"
    ]
    for entry in actions:
        decided = _e(deciding_text(entry))
        if entry["verdict"] != "allowed":
            decided += f'<br><span class="iamc-reason">{_e(entry["reason"])}</span>'
        rows.append(
            f"<tr><td><code>{_e(entry['action'])}</code></td><td>{_e(entry['needed_for'])}</td>"
            f"<td>{verdict_span(entry['verdict'])}</td><td>{decided}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def deciding_text(entry: Mapping[str, Any]) -> str:
    deciding = entry["deciding"]
    if deciding is None:
        return "no statement allows it"
    return f"{deciding['policy']}, {deciding['statement']}"


def verdict_span(code: str) -> str:
    label = VERDICT_LABELS.get(code, code)
    return f'<span class="iamc-{_VERDICT_STATUS.get(code, "fail")}">{_e(label)}</span>'


def findings_html(findings: Sequence[Mapping[str, Any]]) -> str:
    if not findings:
        return ""
    items = "".join(
        f'<li><span class="iamc-{"fail" if f["severity"] == "fail" else "warn"}">'
        f"{_e(f['severity'])}</span> [{_e(f['id'])}] {_e(f['message'])}</li>"
        for f in findings
    )
    return f"<h4>Least privilege</h4><ul>{items}</ul>"


def diff_html(diff: str) -> str:
    """A unified diff, one escaped line per block so added and removed lines are coloured."""
    lines = []
    for line in diff.splitlines():
        kind = "ctx"
        if line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+") and not line.startswith("+++"):
            kind = "add"
        elif line.startswith("-") and not line.startswith("---"):
            kind = "del"
        lines.append(f'<span class="iamc-{kind}">{_e(line) or " "}</span>')
    return '<pre class="iamc-diff">' + "".join(lines) + "</pre>"


def document_html(document: Mapping[str, Any] | None, label: str, *, open_: bool) -> str:
    if document is None:
        return ""
    text = json.dumps(document, indent=4, ensure_ascii=False)
    opened = " open" if open_ else ""
    return (
        f"<details{opened}><summary>{_e(label)}</summary>"
        f'<pre class="iamc-doc">{_e(text)}</pre></details>'
    )


def proposal_html(plan: Mapping[str, Any]) -> str:
    """The fix --fix would make: what it adds, what blocks it, and the diff."""
    parts = ["<h4>Proposed fix</h4>"]
    if plan["added_actions"]:
        parts.append(
            f"<p>Add {_e(', '.join(plan['added_actions']))} to {_e(plan['statement'])} of "
            f"{_e(plan['policy_name'])} (current default {_e(plan['current_version'])}):</p>"
        )
    if plan["refusals"]:
        parts.append("<p>--fix would refuse:</p>")
    parts.extend(refusals_and_diff_html(plan))
    return "\n".join(parts)


def refusals_and_diff_html(plan: Mapping[str, Any]) -> list[str]:
    """A plan's refusals as a list, then its diff: shared by the proposal and the record."""
    parts: list[str] = []
    if plan["refusals"]:
        parts.append("<ul>")
        parts.extend(f"<li>{_e(refusal)}</li>" for refusal in plan["refusals"])
        parts.append("</ul>")
    if plan["diff"]:
        parts.append(diff_html(plan["diff"]))
    return parts


def remediation_html(entry: Mapping[str, Any]) -> str:
    """The record of --fix, or the plan of --fix-dry-run."""
    status = entry["status"]
    plan = entry["plan"]
    parts = [f"<h4>Remediation ({'--fix-dry-run' if entry['dry_run'] else '--fix'})</h4>"]
    if status == "not_planned":
        parts.append(f"<p>No fix planned: {_e(entry['reason'])}</p>")
    elif status == "nothing_to_fix":
        parts.append("<p>Nothing to fix: every required action is already allowed.</p>")
    elif status == "applied":
        record = entry["record"]
        previous = record["previous_version"]["version_id"]
        new = record["new_version"]["version_id"]
        deleted = record["deleted_version"]
        verification = record["verification"] or {}
        parts.append(
            f"<p>Fixed {_e(record['policy_arn'])}: {_e(new)} is now the default version "
            f"(was {_e(previous)}), adding {_e(', '.join(record['added_actions']))}; "
            f"verified after {_e(verification.get('attempts', '?'))} attempt(s).</p>"
        )
        if deleted:
            parts.append(
                f"<p>Deleted {_e(deleted['version_id'])} to stay within IAM's five versions; "
                "its document is in the record.</p>"
            )
        parts.append(f"<p>Record: <code>{_e(entry['record_path'])}</code></p>")
        parts.append(f"<p>To undo: <code>{_e(record['rollback_command'])}</code></p>")
        parts.append(diff_html(record["diff"]))
    elif plan is not None:
        if status == "dry_run":
            parts.append("<p>Plan only: nothing was written.</p>")
        elif status == "not_applied":
            parts.append("<p>Planned, but not applied by this run.</p>")
        else:
            parts.append("<p>Fix refused: nothing was written.</p>")
        if plan["added_actions"]:
            delete = entry["version_to_delete"]
            parts.append(
                f"<p>Would add {_e(', '.join(plan['added_actions']))} to "
                f"{_e(plan['statement'])} of {_e(plan['policy_name'])} (current default "
                f"{_e(plan['current_version'])}); "
                + (
                    f"would first delete {_e(delete)}, the oldest non-default version"
                    if delete
                    else "no version would be deleted"
                )
                + f"; size {plan['size']:,} of {MANAGED_POLICY_SIZE_LIMIT:,} characters.</p>"
            )
        parts.extend(refusals_and_diff_html(plan))
        parts.append(document_html(plan["new_document"], "Proposed document", open_=False))
    return "\n".join(parts)


def row_details_html(
    payload: Mapping[str, Any],
    section: Mapping[str, Any],
    document: Mapping[str, Any] | None,
) -> str:
    """The details shown under one test's row: its verdict, and for a failure the fix."""
    check = payload["check"]
    label = f"Current default version ({section['default_version']}) of {section['policy_arn']}"
    parts: list[str] = []
    if check == "action":
        entry = _action(section, payload["action"])
        parts.append(
            f"<p><code>{_e(entry['action'])}</code>, needed to {_e(entry['needed_for'])}: "
            f"{verdict_span(entry['verdict'])}</p>"
            f"<p>Decided by: {_e(deciding_text(entry))}</p>"
            f"<p>Reason: {_e(entry['reason'])}</p>"
        )
        parts.append(evidence_html(entry["evidence"]))
        if entry["verdict"] != "allowed":
            parts.append(_fix_for(section, [entry["action"]]))
            parts.append(document_html(document, label, open_=False))
    elif check == "all_actions":
        missing = [e for e in section["actions"] if e["verdict"] not in ("allowed", "conditional")]
        if missing:
            parts.append("<p>Not allowed:</p><ul>")
            parts.extend(
                f"<li><code>{_e(e['action'])}</code> (needed to {_e(e['needed_for'])}): "
                f"{_e(e['reason'])}</li>"
                for e in missing
            )
            parts.append("</ul>")
            parts.append(_fix_for(section, [e["action"] for e in missing]))
            parts.append(document_html(document, label, open_=True))
        else:
            parts.append(f"<p>All {len(section['actions'])} required actions are allowed.</p>")
    elif check in ("attached", "trust"):
        name = "attached" if check == "attached" else "trusts_ecs_tasks"
        parts.append(f"<p>{_e(section['checks'][name]['message'])}</p>")
    elif check == "least_privilege":
        parts.append(
            findings_html(section["findings"]) or "<p>No grant is broader than needed.</p>"
        )
        if any(f["severity"] == "fail" for f in section["findings"]):
            parts.append(document_html(document, label, open_=False))
    return '<div class="iamc">' + "\n".join(p for p in parts if p) + "</div>"


def evidence_html(evidence: Sequence[Mapping[str, Any]]) -> str:
    if not evidence:
        return ""
    names = {
        "allowed_by": "allowed by",
        "denied_by": "denied by",
        "boundary_allowed_by": "allowed by the boundary:",
        "undecided_by": "undecided:",
    }
    items = []
    for item in evidence:
        text = f"{names.get(item['kind'], item['kind'])} {item['policy']}, {item['statement']}"
        if item["condition_keys"]:
            text += f" (conditions on {', '.join(item['condition_keys'])})"
        if item["note"]:
            text += f": {item['note']}"
        items.append(f"<li>{_e(text)}</li>")
    return "<p>Evidence:</p><ul>" + "".join(items) + "</ul>"


def _fix_for(section: Mapping[str, Any], actions: Sequence[str]) -> str:
    """The proposed fix as it concerns ``actions``: the diff, or what blocks them."""
    plan = section["proposed_fix"]
    if plan is None:
        return "<p>No fix can be proposed: the task policy is not attached to the role.</p>"
    blocked = [b for b in plan["blocked"] if b["action"] in actions]
    parts = [
        f"<p>{_e(b['action'])} cannot be fixed by adding an Allow: {_e(b['reason'])}</p>"
        for b in blocked
    ]
    if plan["diff"] and len(blocked) < len(actions):
        parts.append(
            f"<p>Proposed fix (a new default version of {_e(plan['policy_name'])}; "
            "run with --fix-dry-run, then --fix):</p>"
        )
        parts.append(diff_html(plan["diff"]))
    return "\n".join(parts)


def _action(section: Mapping[str, Any], action: str) -> Mapping[str, Any]:
    for entry in section["actions"]:
        if entry["action"] == action:
            return dict(entry)
    raise KeyError(f"action {action!r} is not among target {section['name']!r}'s verdicts")


# --------------------------------------------------------------------- test payloads


def row_payload(check: str, action: str | None, assessment: Assessment) -> dict[str, Any]:
    """What one test's report carries: which check, and its verdict for the row's columns."""
    payload: dict[str, Any] = {
        "target": assessment.target.name,
        "check": check,
        "action": action,
        "verdict": "",
        "status": "ok",
        "detail": "",
        "section": None,
    }
    if check == "action" and action is not None:
        verdict = assessment.verdicts[action]
        code = verdict_code(verdict)
        deciding = verdict.deciding
        detail = (
            f"{deciding.policy}, {deciding.statement}" if deciding else "no statement allows it"
        )
        payload.update(verdict=VERDICT_LABELS[code], status=_VERDICT_STATUS[code], detail=detail)
    elif check == "all_actions":
        total, missing = len(assessment.verdicts), assessment.missing
        payload.update(
            verdict=f"{total - len(missing)} of {total} allowed",
            status="fail" if missing else "ok",
            detail=("missing: " + ", ".join(v.action for v in missing)) if missing else "",
        )
    elif check in ("attached", "trust"):
        found = assessment.attachment if check == "attached" else assessment.trust
        words = {
            ("attached", True): "attached",
            ("attached", False): "not attached",
            ("trust", True): "ECS tasks may assume it",
            ("trust", False): "ECS tasks may not assume it",
        }
        payload.update(
            verdict=words[check, found.ok],
            status="ok" if found.ok else "fail",
            detail=found.message,
        )
    elif check == "least_privilege":
        failing = assessment.failing_findings
        payload.update(
            verdict=f"{len(failing)} broader grant(s)" if failing else "no broader grants",
            status="fail" if failing else "ok",
            detail="; ".join(f"[{f.id}] {f.policy}, {f.statement}" for f in failing),
        )
    return payload


# --------------------------------------------------------------------------- hooks


class ReportWriter:
    """Attaches each compliance test's verdict to its report, and writes the reports.

    Registered on every process of a run (xdist workers too): every process attaches,
    only the controller (or the only process) writes.
    """

    def __init__(self, config: pytest.Config, run: ComplianceRun) -> None:
        self.config = config
        self.run = run
        self.controller = not hasattr(config, "workerinput")
        self.json_path = run.reports_dir / JSON_NAME
        self.started = datetime.now(UTC)
        self.written: Path | None = None
        # This process: what its tests of a target share, built once.
        self._built: dict[str, tuple[dict[str, Any], Mapping[str, Any] | None]] = {}
        # What reached this process on reports (the controller's view): target -> section.
        self._sections: dict[str, dict[str, Any]] = {}
        # node id -> its entry in compliance.json's "tests".
        self._tests: dict[str, dict[str, Any]] = {}

    @property
    def settings(self) -> Settings:
        return self.run.settings

    # -- every process: attach ---------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        funcargs = getattr(item, "funcargs", {})
        assessment = funcargs.get("iam_assessment")
        if report.when == "call" and isinstance(assessment, Assessment):
            required = funcargs.get("required_action")
            action = required if isinstance(required, str) else None
            name = getattr(item, "originalname", item.name)
            check = "action" if action is not None else CHECK_TESTS.get(name, "")
            self._attach(item, report, assessment, check, action)
        return report

    def _attach(
        self,
        item: pytest.Item,
        report: pytest.TestReport,
        assessment: Assessment,
        check: str,
        action: str | None,
    ) -> None:
        name = assessment.target.name
        first = name not in self._built
        if first:
            fixing = self.settings.fix or self.settings.fix_dry_run
            section = target_section(
                assessment,
                remediation=self._remediation(name),
                proposed=proposed_fix(assessment, self.settings.context),
                fixing=fixing,
            )
            policy = assessment.target_policy
            self._built[name] = (section, policy.document if policy is not None else None)
        section, document = self._built[name]
        payload = row_payload(check, action, assessment)
        if first:
            # Once per process and target is enough: the controller keeps the first.
            payload["section"] = section
        setattr(report, ATTRIBUTE, payload)
        if not check:
            return
        found = extras.html(row_details_html(payload, section, document))
        report_extras = [*getattr(report, "extras", []), found]
        if check == "action" and action is not None:
            report_extras.append(extras.json(dict(_action(section, action)), name="verdict"))
            # On the item: junitxml writes a test case's properties from its last report.
            item.user_properties.extend(
                [
                    ("action", action),
                    ("verdict", payload["verdict"]),
                    ("decided_by", payload["detail"]),
                ]
            )
        failed = payload["status"] == "fail"
        proposed = section["proposed_fix"]
        if failed and check in ("action", "all_actions") and proposed and proposed["diff"]:
            report_extras.append(extras.text(proposed["diff"], name="proposed fix (diff)"))
        report.extras = report_extras  # type: ignore[attr-defined]  # pytest-html's field

    def _remediation(self, name: str) -> Remediation | None:
        found = [r for r in self.run.remediations if r.target.name == name]
        return found[-1] if found else None

    # -- the controller: collect -------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, ATTRIBUTE, None)
        entry = self._tests.setdefault(
            report.nodeid,
            {"nodeid": report.nodeid, "outcome": None, "target": None, "action": None},
        )
        if isinstance(payload, Mapping):
            entry.update(target=payload["target"], action=payload["action"])
            section = payload.get("section")
            if isinstance(section, Mapping) and payload["target"] not in self._sections:
                self._sections[payload["target"]] = dict(section)
                self._show_version(payload["target"], section["default_version"])
        outcome = _outcome(report)
        if outcome is not None and (entry["outcome"] in (None, "passed") or outcome == "error"):
            entry["outcome"] = outcome

    def _show_version(self, name: str, version: str | None) -> None:
        """Fill in the Environment row that could not be known at the start."""
        metadata = self.config.stash.get(metadata_key, None)
        if self.controller and metadata is not None:
            metadata[version_key(self.settings, name)] = html.escape(version or "not attached")

    def sections(self) -> list[dict[str, Any]]:
        """What was judged about each target, in the configuration's order.

        A live run fixes from the controller alone, so the controller's own remediation
        fills in what the workers' reports could not know.
        """
        found = []
        for target in self.settings.targets:
            section = self._sections.get(target.name)
            if section is None:
                continue
            remediation = self._remediation(target.name)
            if section["remediation"] is None and remediation is not None:
                section = {**section, "remediation": remediation_entry(remediation)}
            found.append(section)
        return found

    # -- the controller: write ---------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Put iam-compliance's rows first in the Environment, which pytest-html reads next."""
        metadata = self.config.stash.get(metadata_key, None)
        if not self.controller or metadata is None:
            return
        others = dict(metadata)
        metadata.clear()
        metadata.update(environment(self.settings, self.started))
        metadata.update({k: v for k, v in others.items() if k not in metadata})

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = report_title(self.settings)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = ["<th>Verdict</th>", "<th>Decided by</th>"]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        if not cells:
            return  # another plugin removed the row
        payload = getattr(report, ATTRIBUTE, None)
        verdict = detail = ""
        if isinstance(payload, Mapping) and payload.get("verdict"):
            verdict = f'<span class="iamc-{_e(payload["status"])}">{_e(payload["verdict"])}</span>'
            detail = _e(payload["detail"])
        cells[2:2] = [
            f'<td class="col-verdict iamc-cell">{verdict}</td>',
            f'<td class="col-decided iamc-cell">{detail}</td>',
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], session: pytest.Session) -> None:
        prefix.append(summary_html(self.settings, self.sections()))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Add the JUnit properties and write compliance.json.

        First, so junitxml (whose own hook writes its file) sees the properties.
        """
        if not self.controller or self.config.option.collectonly:
            return
        sections = self.sections()
        xml = self.config.stash.get(junitxml.xml_key, None)
        if xml is not None:
            by_name = {s["name"]: s for s in sections}
            for name, value in junit_properties(self.settings, by_name):
                xml.add_global_property(name, value)
        document = report_document(
            generated_at=datetime.now(UTC),
            settings=self.settings,
            exit_status=int(session.exitstatus),
            sections=sections,
            tests=[t for t in self._tests.values() if t["outcome"] is not None],
        )
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        # Two runs may finish at once (two CI jobs in one checkout): each writes its own
        # temporary file, and a dashboard never reads half a report.
        temporary = self.json_path.with_name(f".{JSON_NAME}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        temporary.replace(self.json_path)
        self.written = self.json_path

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            terminalreporter.write_sep("-", f"compliance report (JSON): {self.written}")


def _outcome(report: pytest.TestReport) -> str | None:
    """A test's outcome as compliance.json states it, from one of its reports."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"
    return None
