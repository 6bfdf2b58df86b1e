"""The reports a run writes: compliance.html, compliance.xml and compliance.json."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    CLASS,
    MISSING,
    POLICY_ARN,
    REGION,
    REQUIRED,
    ROLE,
    ROLE_ARN,
    TABLE_ARN,
    action_id,
    compliant_policy,
    read_json,
    runbook_policy,
    write_policy,
)

REPORTS = ("compliance.html", "compliance.xml", "compliance.json")
SCRIPT = "<script>alert(1)</script>"
#: The line the proposed fix adds for Scan, as the diff shows it.
SCAN_ADDED = '+                "dynamodb:Scan",'


def html_report(path: Path) -> tuple[str, dict[str, Any]]:
    """The page's text, and the results pytest-html keeps as JSON in data-jsonblob."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<div id="data-container" data-jsonblob="([^"]*)"', text)
    assert found, f"{path}: no data-container"
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return text, data


def row(data: dict[str, Any], nodeid: str) -> dict[str, Any]:
    [entry] = data["tests"][nodeid]
    result: dict[str, Any] = entry
    return result


def extra_html(entry: dict[str, Any]) -> str:
    """The row's HTML details, unescaped to the text a reader sees."""
    return html.unescape(
        "".join(x["content"] for x in entry["extras"] if x["format_type"] == "html")
    )


def extra_link(entry: dict[str, Any], name: str) -> str:
    """Where a link of the row's Links column points."""
    [href] = [x["content"] for x in entry["extras"] if x["name"] == name]
    return str(href)


def element(page: str, element_id: str) -> str:
    """The text of the element with ``element_id``, from the page or a row's details."""
    text = html.unescape(page)
    start = text.index(f'id="{element_id}"')  # the element, or an anchor right before it
    return text[start : text.index("</details>" if "json" in element_id else "</div>", start)]


def junit(path: Path) -> ET.Element:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    return suite


def properties(element: ET.Element) -> dict[str, str]:
    found = element.find("properties")
    assert found is not None
    return {p.attrib["name"]: p.attrib["value"] for p in found.findall("property")}


# --------------------------------------------------------------------------- files


def test_default_run_writes_the_three_reports(suite: pytest.Pytester) -> None:
    result = suite.runpytest()
    result.assert_outcomes(passed=6, failed=4)
    folder = suite.path / "reports"
    assert sorted(p.name for p in folder.iterdir()) == sorted(REPORTS)
    result.stdout.fnmatch_lines(
        [f"*compliance report (JSON): {folder / 'compliance.json'}*", "*Generated html report*"]
    )
    text, _ = html_report(folder / "compliance.html")
    # Self-contained: the styles are inline and nothing is written next to the page.
    assert '<link href="assets/style.css"' not in text


@pytest.mark.parametrize(
    ("option", "written", "not_written"),
    [
        pytest.param("--html=x.html", "x.html", "reports/compliance.html", id="html"),
        pytest.param("--junitxml=y.xml", "y.xml", "reports/compliance.xml", id="junitxml"),
    ],
)
def test_user_paths_replace_the_defaults(
    suite: pytest.Pytester, option: str, written: str, not_written: str
) -> None:
    suite.runpytest(option).assert_outcomes(passed=6, failed=4)
    assert (suite.path / written).is_file()
    assert not (suite.path / not_written).exists()
    assert (suite.path / "reports" / "compliance.json").is_file()
    others = set(REPORTS) - {Path(not_written).name, "compliance.json"}
    assert all((suite.path / "reports" / name).is_file() for name in others)


def test_collect_only_writes_no_reports(suite: pytest.Pytester) -> None:
    suite.runpytest("--collect-only", "-q")
    assert not (suite.path / "reports").exists()


# ---------------------------------------------------------------------------- HTML


def test_html_rows_carry_verdicts_reasons_and_the_proposed_diff(suite: pytest.Pytester) -> None:
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    text, data = html_report(suite.path / "reports" / "compliance.html")
    expected = {
        f"{CLASS}::test_task_role_has_all_required_permissions": "Failed",
        **{action_id(a): "Failed" if a in MISSING else "Passed" for a in REQUIRED},
        f"{CLASS}::test_policy_is_attached_to_task_role": "Passed",
        f"{CLASS}::test_task_role_trusts_ecs_tasks": "Passed",
        f"{CLASS}::test_dynamodb_access_is_least_privilege": "Passed",
    }
    assert {nodeid: row(data, nodeid)["result"] for nodeid in data["tests"]} == expected

    allowed = row(data, action_id("dynamodb:GetItem"))
    assert ">allowed<" in allowed["resultsTableRow"][2]
    assert "MLPlatformECSTaskPolicy v1, statement #2" in allowed["resultsTableRow"][3]
    for action in MISSING:
        entry = row(data, action_id(action))
        assert ">denied<" in entry["resultsTableRow"][2]
        assert "no statement allows it" in entry["resultsTableRow"][3]
        details = extra_html(entry)
        assert f"Reason: {action} is not allowed: no statement in MLPlatformECSTaskPolicy v1" in (
            details
        )
        # The proposed diff and the current default document: linked, shown once above.
        assert SCAN_ADDED not in details
        assert '"dynamodb:UpdateItem"' not in details
        assert 'href="#iamc-diff-default"' in details
        assert 'href="#iamc-doc-default"' in details
        # In-page anchors, not data: URLs (which a browser does not open from a click).
        assert extra_link(entry, "proposed fix (diff)") == "#iamc-diff-default"
        json_link = extra_link(entry, "verdict (JSON)")
        assert json_link == "#iamc-json-default-" + action.replace(":", "-")
        assert f'href="{json_link}"' in entry["resultsTableRow"][-1]
        assert 'target="_blank"' not in entry["resultsTableRow"][-1]
        verdict = element(extra_html(entry), json_link[1:])
        assert json.loads(verdict[verdict.index("{") : verdict.rindex("}") + 1])["verdict"] == (
            "denied"
        )
        assert SCAN_ADDED in element(text, "iamc-diff-default")
        assert '"dynamodb:UpdateItem"' in element(text, "iamc-doc-default")
    assert not [
        x
        for entries in data["tests"].values()
        for entry in entries
        for x in entry["extras"]
        if str(x["content"]).startswith("data:")
    ]

    everything = extra_html(row(data, f"{CLASS}::test_task_role_has_all_required_permissions"))
    for action in MISSING:
        assert f"<code>{action}</code> (needed to " in everything
    assert 'href="#iamc-diff-default"' in everything


def test_html_title_environment_and_verdict_summary(suite: pytest.Pytester) -> None:
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    text, data = html_report(suite.path / "reports" / "compliance.html")
    title = f"IAM compliance: {ROLE} in account {ACCOUNT} (MOCK)"
    assert data["title"] == title
    assert f'<h1 id="title">{title}</h1>' in text
    environment = data["environment"]
    assert list(environment)[:10] == [
        "Mode",
        "Account",
        "Region",
        "Role ARN",
        "Policy ARN",
        "Policy default version",
        "Table ARN",
        "Time (UTC)",
        "iam-compliance version",
        "Python",
    ]
    assert environment["Mode"].startswith("MOCK: an embedded moto account, NOT a check")
    assert environment["Account"] == ACCOUNT
    assert environment["Region"] == REGION
    assert environment["Role ARN"] == ROLE_ARN
    assert environment["Policy ARN"] == POLICY_ARN
    assert environment["Policy default version"] == "v1"
    assert environment["Table ARN"] == TABLE_ARN
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", environment["Time (UTC)"])
    # The verdict table is in the summary, above pytest-html's own counts.
    summary = text[text.index('class="additional-summary prefix"') : text.index("run-count")]
    assert "iamc-mode-mock" in summary
    assert "NOT COMPLIANT" in summary
    for action in REQUIRED:
        assert f"<code>{action}</code>" in summary
    assert summary.count('<span class="iamc-fail">denied</span>') == len(MISSING)
    assert "--fix-dry-run" in summary
    assert html.escape(SCAN_ADDED) in summary


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("resource", id="resource"),
        pytest.param("condition", id="condition-value"),
    ],
)
def test_policy_strings_are_escaped(suite: pytest.Pytester, where: str) -> None:
    document = runbook_policy()
    if where == "resource":
        document["Statement"][1]["Resource"] = [TABLE_ARN, f"arn:aws:s3:::b/{SCRIPT}"]
    else:
        document["Statement"][0]["Condition"] = {"StringNotEquals": {"aws:SourceVpc": SCRIPT}}
    path = write_policy(suite, document)
    suite.runpytest("--iam-policy-file", str(path)).assert_outcomes(passed=6, failed=4)
    text, data = html_report(suite.path / "reports" / "compliance.html")
    assert "<script>alert" not in text
    # pytest-html inserts extras, cells and Environment values as markup: each one must
    # hold the escaped form, which a browser shows as text.
    markup = [str(value) for value in data["environment"].values()]
    markup.append(text[text.index('class="additional-summary prefix"') : text.index("run-count")])
    for entries in data["tests"].values():
        for entry in entries:
            markup.extend(entry["resultsTableRow"])
            markup.extend(x["content"] for x in entry["extras"] if x["format_type"] == "html")
    assert not [m for m in markup if "<script>alert" in m]
    assert any(html.escape(SCRIPT) in m for m in markup)
    assert read_json(suite)["targets"][0]["proposed_fix"]["new_document"] is not None


# --------------------------------------------------------------------------- JUnit


def test_junit_names_the_target_in_properties(suite: pytest.Pytester) -> None:
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    found = junit(suite.path / "reports" / "compliance.xml")
    assert found.attrib["tests"] == "10"
    assert found.attrib["failures"] == "4"
    assert properties(found) == {
        "mode": "mock",
        "iam_compliance_version": properties(found)["iam_compliance_version"],
        "checks": "10 of 10",
        "partial": "false",
        "account": ACCOUNT,
        "region": REGION,
        "role": ROLE_ARN,
        "policy": POLICY_ARN,
        "policy_version": "v1",
        "table": TABLE_ARN,
        "compliant": "false",
    }
    [scan] = [c for c in found.iter("testcase") if c.attrib["name"].endswith("[dynamodb:Scan]")]
    assert properties(scan) == {
        "action": "dynamodb:Scan",
        "verdict": "denied",
        "decided_by": "no statement allows it",
    }


# ---------------------------------------------------------------------------- JSON

#: The keys of schema iam-compliance/report/v1, level by level.
TOP_KEYS = {
    "schema",
    "generated_at",
    "tool",
    "mode",
    "policy_file",
    "context",
    "exit_status",
    "compliant",
    "tests",
    "targets",
    "error",
    "complete",
    "partial",
    "checks",
    # A shard's and a merge's (docs/organizations.md); null in any other run.
    "shard",
    "merged",
}
TARGET_KEYS = {
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
    # The workload's forbidden actions ([[forbid]]) and trusted service ([workload]).
    "forbidden",
    "trusted_service",
    # The run's names for --iam-fix-dry-run and --iam-fix.
    "fix_options",
}
ACTION_KEYS = {
    "action",
    "needed_for",
    "verdict",
    "decision",
    "reason",
    "deciding",
    "evidence",
    "id",
    "resource",
    "context",
    "assumes_absent",
}
EVIDENCE_KEYS = {"kind", "policy", "statement", "effect", "condition_keys", "note"}
FINDING_KEYS = {"id", "severity", "policy", "statement", "message"}
PLAN_KEYS = {
    "policy_arn",
    "policy_name",
    "current_version",
    "added_actions",
    "statement",
    "blocked",
    "refusals",
    "size",
    "diff",
    "new_document",
    "proof",
    "shared_with",
    "second_opinion",
}
REMEDIATION_KEYS = {
    "status",
    "dry_run",
    "reason",
    "plan",
    "version_to_delete",
    "record_path",
    "record",
    "notes",
}


def check_schema(document: dict[str, Any]) -> None:
    assert set(document) == TOP_KEYS
    assert document["schema"] == "iam-compliance/report/v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generated_at"])
    assert set(document["tool"]) == {"name", "version"}
    assert (document["shard"], document["merged"]) == (None, None)
    for test in document["tests"]:
        assert set(test) == {"nodeid", "outcome", "target", "action", "reports"}
        assert test["reports"] == []  # a shard's only
    for target in document["targets"]:
        assert set(target) == TARGET_KEYS
        assert [a["action"] for a in target["actions"]] == list(REQUIRED)
        for action in target["actions"]:
            assert set(action) == ACTION_KEYS
            assert action["verdict"] in {"allowed", "denied", "conditional", "undecided"}
            for evidence in action["evidence"]:
                assert set(evidence) == EVIDENCE_KEYS
        assert set(target["checks"]) == {"attached", "trusts_ecs_tasks"}
        for check in target["checks"].values():
            assert set(check) == {"ok", "message"}
        for finding in target["findings"]:
            assert set(finding) == FINDING_KEYS
        if target["proposed_fix"] is not None:
            assert set(target["proposed_fix"]) == PLAN_KEYS
        if target["remediation"] is not None:
            assert set(target["remediation"]) == REMEDIATION_KEYS


def test_json_states_each_verdict_with_its_evidence(suite: pytest.Pytester) -> None:
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    document = read_json(suite)
    check_schema(document)
    assert document["mode"] == "mock"
    assert document["exit_status"] == 1
    assert document["compliant"] is False
    assert len(document["tests"]) == 10
    [target] = document["targets"]
    assert {k: target[k] for k in ("name", "account", "region", "default_version")} == {
        "name": "default",
        "account": ACCOUNT,
        "region": REGION,
        "default_version": "v1",
    }
    assert (target["role_arn"], target["policy_arn"], target["table_arn"]) == (
        ROLE_ARN,
        POLICY_ARN,
        TABLE_ARN,
    )
    verdicts = {a["action"]: a for a in target["actions"]}
    get = verdicts["dynamodb:GetItem"]
    assert get["verdict"] == "allowed"
    assert get["needed_for"] == "Get job details"
    assert get["deciding"] == {"policy": "MLPlatformECSTaskPolicy v1", "statement": "statement #2"}
    assert get["evidence"][0]["kind"] == "allowed_by"
    scan = verdicts["dynamodb:Scan"]
    assert (scan["verdict"], scan["decision"], scan["deciding"]) == ("denied", "not allowed", None)
    assert target["checks"]["attached"]["ok"] is True
    assert target["findings"] == []
    assert target["proposed_fix"]["added_actions"] == list(MISSING)
    assert SCAN_ADDED in target["proposed_fix"]["diff"]
    assert target["remediation"] is None


def test_json_has_findings_and_conditional_verdicts(suite: pytest.Pytester) -> None:
    document = compliant_policy()
    document["Statement"][1]["Action"] = "dynamodb:*"
    document["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceVpc": "vpc-1234"}}
    path = write_policy(suite, document)
    result = suite.runpytest(
        "--iam-policy-file", str(path), "--iam-context", "aws:SourceVpc=vpc-1234"
    )
    result.assert_outcomes(passed=9, failed=1)
    report = read_json(suite)
    check_schema(report)
    assert report["policy_file"] == str(path)
    assert report["context"] == {"aws:SourceVpc": ["vpc-1234"]}
    [target] = report["targets"]
    assert {a["verdict"] for a in target["actions"]} == {"conditional"}
    assert target["actions"][0]["evidence"][0]["condition_keys"] == ["aws:SourceVpc"]
    [finding] = target["findings"]
    assert finding["id"] == "WILDCARD_ACTION"
    assert finding["severity"] == "fail"
    assert finding["statement"] == "statement #2"
    assert target["compliant"] is False
    assert target["proposed_fix"] is None


# ---------------------------------------------------------------------- remediation


def test_fix_run_reports_the_remediation_record(suite: pytest.Pytester) -> None:
    suite.runpytest("--fix").assert_outcomes(passed=10)
    document = read_json(suite)
    check_schema(document)
    assert document["compliant"] is True
    [target] = document["targets"]
    assert target["default_version"] == "v2"
    remediation = target["remediation"]
    assert remediation["status"] == "applied"
    record = remediation["record"]
    assert record["previous_version"]["version_id"] == "v1"
    assert record["new_version"]["version_id"] == "v2"
    # A mock fix says so: its account is gone after the run, so nothing is to be undone.
    assert (record["mode"], record["region"], record["endpoint_url"]) == ("mock", REGION, None)
    assert record["rollback_command"] is None
    assert Path(remediation["record_path"]).parent == suite.path / "reports"
    assert json.loads(Path(remediation["record_path"]).read_text()) == record

    text, _ = html_report(suite.path / "reports" / "compliance.html")
    summary = html.unescape(text[: text.index("run-count")])
    assert "Remediation (--fix)" in summary
    assert "v2 is now the default version (was v1)" in summary
    assert "To undo: nothing to undo: the embedded mock account existed only" in summary
    assert remediation["record_path"] in summary
    assert SCAN_ADDED in summary


def test_dry_run_reports_the_plan(suite: pytest.Pytester) -> None:
    suite.runpytest("--fix-dry-run").assert_outcomes(passed=6, failed=4)
    [target] = read_json(suite)["targets"]
    remediation = target["remediation"]
    assert (remediation["status"], remediation["dry_run"]) == ("dry_run", True)
    assert remediation["plan"]["added_actions"] == list(MISSING)
    assert remediation["record"] is None
    text, _ = html_report(suite.path / "reports" / "compliance.html")
    summary = html.unescape(text[: text.index("run-count")])
    assert "Remediation (--fix-dry-run)" in summary
    assert "Plan only: nothing was written." in summary
    assert "no version would be deleted" in summary


# --------------------------------------------------------------------------- xdist


def test_xdist_controller_writes_each_report_once_with_every_result(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_subprocess("-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=6, failed=4)
    folder = suite.path / "reports"
    assert sorted(p.name for p in folder.iterdir()) == sorted(REPORTS)
    document = read_json(suite)
    check_schema(document)
    assert len({t["nodeid"] for t in document["tests"]}) == 10
    assert {t["target"] for t in document["tests"]} == {"default"}
    [target] = document["targets"]
    assert [a["verdict"] for a in target["actions"]] == ["allowed"] * 3 + ["denied"] * 3
    text, data = html_report(folder / "compliance.html")
    assert len(data["tests"]) == 10
    assert data["environment"]["Policy default version"] == "v1"
    # The document travels from a worker with the target's first report.
    page = html.unescape(text)
    assert SCAN_ADDED in element(page, "iamc-diff-default")
    assert '"dynamodb:UpdateItem"' in element(page, "iamc-doc-default")
    found = junit(folder / "compliance.xml")
    assert found.attrib["tests"] == "10"
    assert properties(found)["policy_version"] == "v1"


# ------------------------------------------------------------------------ targets


def test_several_targets_are_reported_apart_and_without_credentials(
    suite: pytest.Pytester,
) -> None:
    secrets = {"AWS_ACCESS_KEY_ID": "AKIAREPORTLEAKCHECK1", "AWS_SECRET_ACCESS_KEY": "s3cr3t-leak"}
    folder = suite.mkdir("envs")
    for name, account in (("dev", "111111111111"), ("prod", "222222222222")):
        lines = {"AWS_ACCOUNT_ID": account, **secrets}
        (folder / f"{name}.env").write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    result = suite.runpytest("--iam-env-file", "envs/dev.env", "--iam-env-file", "envs/prod.env")
    result.assert_outcomes(passed=12, failed=8)
    reports = suite.path / "reports"
    for name in REPORTS:
        text = (reports / name).read_text(encoding="utf-8")
        assert not [s for s in secrets.values() if s in text], name
    assert [t["name"] for t in read_json(suite)["targets"]] == ["dev", "prod"]
    found = properties(junit(reports / "compliance.xml"))
    assert (found["dev.account"], found["prod.account"]) == ("111111111111", "222222222222")
    assert found["prod.policy_version"] == "v1"
    text, data = html_report(reports / "compliance.html")
    assert data["title"] == f"IAM compliance: {ROLE} in accounts 111111111111, 222222222222 (MOCK)"
    assert data["environment"]["Policy default version (prod)"] == "v1"
    assert text.count("NOT COMPLIANT") == 4  # in the grid, and above each target's table


def test_verdict_column_sorts(suite: pytest.Pytester) -> None:
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    text, data = html_report(suite.path / "reports" / "compliance.html")
    # pytest-html sorts a "sortable" header's column by the row cell of class col-<type>
    # at the same position, read from one line of markup.
    assert '<th class="sortable" data-column-type="verdict">Verdict</th>' in text
    header = re.findall(r"<th[^>]*>", text[text.index('id="results-table-head"') :])
    position = header.index('<th class="sortable" data-column-type="verdict">')
    for entries in data["tests"].values():
        cell = entries[0]["resultsTableRow"][position]
        assert cell.startswith('<td class="col-verdict')
        assert "\n" not in cell
    # ... and keeps the sort key in each row's data.
    assert {entries[0].get("verdict") is not None for entries in data["tests"].values()} == {True}


def test_verbose_header_is_readable_lines(suite: pytest.Pytester) -> None:
    # Live mode's description says "boto3's", which the Environment rows hold escaped.
    result = suite.runpytest("-v", "--aws-mode", "live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # no credentials: could not check
    header = result.stdout.str()[: result.stdout.str().index("rootdir:")]
    assert "metadata: {" not in header
    assert "&#x27;" not in header
    assert "iam-compliance: LIVE mode: the account behind boto3's credential chain" in header
