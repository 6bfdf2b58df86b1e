"""The HTML report's own parts: the summary, each row's details and cells, all escaped."""

from __future__ import annotations

import html
import re

import pytest

from iam_compliance.config import Settings
from iam_compliance.engine.evaluate.assessment import Assessment
from iam_compliance.report import build, fixes
from iam_compliance.report.codec import from_json, to_json
from iam_compliance.report.document import RowPayload
from iam_compliance.report.html import row_cells, row_details_html, summary_html
from iam_compliance.report.labels import CheckKind, Status
from iam_compliance.report.model import TargetSection

from conftest import (
    POLICY_ARN,
    POLICY_NAME,
    ROLE_ARN,
    TABLE_ARN,
    TARGET,
    assessment_of,
    compliant_policy,
    parsed_task_policy,
    report_section,
    runbook_assessment,
    runbook_fix,
    runbook_policy,
    task_policy,
)

SCRIPT = "<script>alert(1)</script>"
MOCK = Settings(mode="mock", targets=(TARGET,))
LIVE = Settings(mode="live", targets=(TARGET,))
#: The line the runbook's proposed fix adds for Scan, as the page shows it.
SCAN_ADDED = '<span class="iamc-add">+                &quot;dynamodb:Scan&quot;,</span>'


def details(assessment: Assessment, check: CheckKind, action: str | None = None) -> str:
    """The details under one test's row, as the plugin renders them."""
    return row_details_html(
        build.row_payload(check, action, assessment), report_section(assessment)
    )


def text_of(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def untrusted() -> Assessment:
    """A role whose policies hold a script in a Resource, a NotResource and a trust Sid."""
    document = runbook_policy()
    document["Statement"][0]["Resource"] = [f"arn:aws:s3:::bucket/{SCRIPT}"]
    document["Statement"].append(
        {
            "Sid": "Elsewhere",
            "Effect": "Allow",
            "Action": "dynamodb:Query",
            "NotResource": f"arn:aws:s3:::{SCRIPT}",
        }
    )
    trust = task_policy(
        {
            "Sid": SCRIPT,
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    return assessment_of(parsed_task_policy(document, "v1"), trust=trust)


# ----------------------------------------------------------------------- summary


def test_summary_of_the_runbook_role() -> None:
    page = summary_html(MOCK, (report_section(runbook_assessment()),))

    assert '<p class="iamc-mode iamc-mode-mock">MOCK: an embedded moto account, NOT a check' in page
    assert '<span class="iamc-badge iamc-badge-fail">NOT COMPLIANT</span>' in page
    assert f"{ROLE_ARN}</h3>" in page
    assert page.count('<span class="iamc-ok">allowed</span>') == 3
    assert page.count('<span class="iamc-fail">denied</span>') == 3
    assert "<h4>What to do next</h4>" in page
    assert "<h4>Proposed fix</h4>" in page
    assert (
        "<p>Add dynamodb:Scan, dynamodb:Query, dynamodb:DescribeTable to statement #2 of "
        f"{POLICY_NAME} (current default v1):</p>"
    ) in page
    assert SCAN_ADDED in page
    assert '<span class="iamc-hunk">@@ ' in page
    assert '<span class="iamc-del">-                &quot;dynamodb:UpdateItem&quot;</span>' in page


def test_summary_of_a_compliant_role_proposes_nothing() -> None:
    section = report_section(assessment_of(parsed_task_policy(compliant_policy(), "v1")))

    page = summary_html(LIVE, (section,))

    assert '<p class="iamc-mode iamc-mode-live">LIVE: ' in page
    assert '<span class="iamc-badge iamc-badge-ok">COMPLIANT</span>' in page
    assert page.count('<span class="iamc-ok">allowed</span>') == 6
    assert "Proposed fix" not in page
    assert "What to do next" not in page


def test_summary_without_sections_says_no_check_ran() -> None:
    page = summary_html(MOCK, ())

    assert "<p>No compliance check ran, so there are no verdicts.</p>" in page
    assert 'class="iamc-target"' not in page


def test_summary_marks_failing_checks_and_lists_findings() -> None:
    wide = task_policy(
        {"Sid": "Wide", "Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN}
    )
    assessment = assessment_of(parsed_task_policy(wide, "v1"), attached=[])

    page = summary_html(MOCK, (report_section(assessment),))

    assert (
        f'<span class="iamc-fail">\u2717</span> {html.escape(assessment.attachment.message)}'
        in (page)
    )
    assert '<span class="iamc-ok">\u2713</span> ecs-tasks.amazonaws.com may assume' in page
    assert "<h4>Least privilege</h4>" in page
    assert '<li><span class="iamc-fail">fail</span> [WILDCARD_ACTION] ' in page


def test_summary_shows_an_applied_fix_instead_of_the_proposal() -> None:
    fix = runbook_fix()
    section = report_section(runbook_assessment(), remediation=fix, fixing=True)
    assert fix.applied is not None

    page = summary_html(MOCK, (section,))

    assert "<h4>Remediation (--fix)</h4>" in page
    assert "Proposed fix" not in page
    assert (
        text_of(page).count(
            f"Fixed {POLICY_ARN}: v2 is now the default version (was v1), adding dynamodb:Scan, "
            "dynamodb:Query, dynamodb:DescribeTable; verified after 1 attempt(s)."
        )
        == 1
    )
    assert f"<p>Record: <code>{fix.applied.record_path}</code></p>" in page
    assert (
        f"<p>To undo: <code>aws iam set-default-policy-version --policy-arn {POLICY_ARN} "
        "--version-id v1</code></p>"
    ) in page
    assert SCAN_ADDED in page


@pytest.mark.parametrize(
    ("versions", "deletes"),
    [
        pytest.param(1, "no version would be deleted", id="room-left"),
        pytest.param(5, "would first delete v2, the oldest non-default version", id="five"),
    ],
)
def test_summary_shows_a_dry_run_plan(versions: int, deletes: str) -> None:
    fix = runbook_fix(dry_run=True, versions=versions)
    section = report_section(runbook_assessment(), remediation=fix, fixing=True)

    page = summary_html(MOCK, (section,))

    assert "<h4>Remediation (--fix-dry-run)</h4>" in page
    assert "<p>Plan only: nothing was written.</p>" in page
    assert deletes in page
    assert "size 528 of 6,144 characters" in page
    assert "<summary>Proposed document</summary>" in page
    assert SCAN_ADDED in page


# ------------------------------------------------------------------------ details


def test_failing_action_details_give_the_reason_the_diff_and_the_document() -> None:
    page = details(runbook_assessment(), CheckKind.ACTION, "dynamodb:Scan")

    assert '<span class="iamc-fail">denied</span>' in page
    assert "<p>Decided by: no statement allows it</p>" in page
    assert (
        f"<p>Reason: dynamodb:Scan is not allowed: no statement in {POLICY_NAME} v1 allows it "
        f"on {TABLE_ARN}</p>"
    ) in page
    assert "<p>Proposed fix (a new default version of MLPlatformECSTaskPolicy): " in page
    # The diff and the document are in the target's summary, once; the row links to them.
    assert SCAN_ADDED not in page
    assert '<a href="#iamc-diff-default">the diff, in the target\'s summary</a>' in page
    assert f'<a href="#iamc-doc-default">Current default version (v1) of {POLICY_ARN}</a>' in page
    assert "&quot;Version&quot;" not in page


def test_allowed_action_details_give_the_evidence_and_no_fix() -> None:
    page = details(runbook_assessment(), CheckKind.ACTION, "dynamodb:GetItem")

    assert '<span class="iamc-ok">allowed</span>' in page
    assert f"<li>allowed by {POLICY_NAME} v1, statement #2</li>" in page
    assert "Proposed fix" not in page
    assert "Current default version" not in page


def test_action_blocked_by_a_deny_says_it_cannot_be_fixed_by_an_allow() -> None:
    document = runbook_policy()
    document["Statement"].append(
        {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}
    )
    assessment = assessment_of(parsed_task_policy(document, "v1"))

    page = text_of(details(assessment, CheckKind.ACTION, "dynamodb:Scan"))

    blocked = "dynamodb:Scan cannot be fixed by adding an Allow: dynamodb:Scan is explicitly"
    assert f'{blocked} denied by {POLICY_NAME}, statement "NoScans"' in page
    assert "Proposed fix" not in page
    # The other missing actions can still be added: their rows show the diff.
    assert "Proposed fix" in text_of(details(assessment, CheckKind.ACTION, "dynamodb:Query"))


def test_all_actions_details_list_what_is_missing_with_the_fix() -> None:
    page = details(runbook_assessment(), CheckKind.ALL_ACTIONS)

    assert "<li><code>dynamodb:Scan</code> (needed to List all jobs): dynamodb:Scan is not" in page
    assert page.count("<li><code>dynamodb:") == 3
    assert 'href="#iamc-diff-default"' in page
    assert 'href="#iamc-doc-default"' in page
    assert SCAN_ADDED not in page


def test_all_actions_details_of_a_compliant_role() -> None:
    compliant = assessment_of(parsed_task_policy(compliant_policy(), "v1"))

    assert "<p>All 6 required actions are allowed.</p>" in details(compliant, CheckKind.ALL_ACTIONS)


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        pytest.param(CheckKind.ATTACHED, f"<p>{POLICY_NAME} is attached to ", id="attached"),
        pytest.param(
            CheckKind.TRUST, "<p>ecs-tasks.amazonaws.com may assume the role: ", id="trust"
        ),
        pytest.param(
            CheckKind.LEAST_PRIVILEGE,
            "<p>No grant is broader than needed.</p>",
            id="least-privilege",
        ),
    ],
)
def test_whole_role_check_details(check: CheckKind, expected: str) -> None:
    assert expected in details(runbook_assessment(), check)


def test_least_privilege_details_list_the_findings_and_the_document() -> None:
    wide = task_policy(
        {"Sid": "Wide", "Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN}
    )

    page = details(assessment_of(parsed_task_policy(wide, "v1")), CheckKind.LEAST_PRIVILEGE)

    assert "[WILDCARD_ACTION] MLPlatformECSTaskPolicy v1, statement &quot;Wide&quot;: " in page
    assert '<a href="#iamc-doc-default">Current default version (v1)' in page


def test_conditionally_allowed_action_does_not_claim_the_policy_is_not_attached() -> None:
    document = compliant_policy()
    document["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceVpc": "vpc-1"}}
    assessment = assessment_of(
        parsed_task_policy(document, "v1"), context={"aws:SourceVpc": ["vpc-1"]}
    )
    assert assessment.attachment.ok

    page = details(assessment, CheckKind.ACTION, "dynamodb:GetItem")

    assert "allowed only under conditions" in page
    assert "not attached" not in page


# -------------------------------------------------------------------------- cells


def test_row_cells_show_the_verdict_and_what_decided_it() -> None:
    payload = build.row_payload(CheckKind.ACTION, "dynamodb:GetItem", runbook_assessment())

    assert row_cells(payload) == [
        '<td class="col-verdict iamc-cell"><span class="iamc-ok">allowed</span></td>',
        f'<td class="col-decided iamc-cell">{POLICY_NAME} v1, statement #2</td>',
    ]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(None, id="not-a-compliance-test"),
        pytest.param(RowPayload("default", None, None, "", Status.OK, ""), id="no-verdict"),
    ],
)
def test_row_cells_are_empty_without_a_verdict(payload: RowPayload | None) -> None:
    assert row_cells(payload) == [
        '<td class="col-verdict iamc-cell"></td>',
        '<td class="col-decided iamc-cell"></td>',
    ]


# ------------------------------------------------------------------------ escaping


def every_part(assessment: Assessment) -> list[str]:
    """The summary, every row's details and cells, for ``assessment``."""
    section = report_section(assessment)
    parts = [summary_html(MOCK, (section,))]
    rows = [(CheckKind.ACTION, action) for action in assessment.verdicts]
    rows += [
        (check, None)
        for check in (
            CheckKind.ALL_ACTIONS,
            CheckKind.ATTACHED,
            CheckKind.TRUST,
            CheckKind.LEAST_PRIVILEGE,
        )
    ]
    for check, action in rows:
        parts.append(details(assessment, check, action))
        parts.extend(row_cells(build.row_payload(check, action, assessment)))
    return parts


def test_script_in_policies_is_escaped_everywhere() -> None:
    assessment = untrusted()

    parts = every_part(assessment)

    assert not [part for part in parts if "<script" in part]
    escaped = html.escape(SCRIPT)
    assert any(escaped in part for part in parts)
    assert any(SCRIPT in text_of(part) for part in parts)


@pytest.mark.parametrize(
    ("where", "check", "action"),
    [
        pytest.param("not-resource", CheckKind.LEAST_PRIVILEGE, None, id="not-resource-in-finding"),
        pytest.param("trust-sid", CheckKind.TRUST, None, id="sid-in-trust-message"),
    ],
)
def test_script_shows_as_text(where: str, check: CheckKind, action: str | None) -> None:
    assessment = untrusted()

    page = details(assessment, check, action)

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert SCRIPT in text_of(page)


def test_script_in_the_summary_shows_as_text() -> None:
    assessment = untrusted()
    policy = assessment.target_policy
    assert policy is not None
    documents = {"default": fixes.plain(policy.document)}

    page = summary_html(MOCK, (report_section(assessment),), documents=documents)

    assert "<script" not in page
    assert f"arn:aws:s3:::bucket/{html.escape(SCRIPT)}" in page  # the document's Resource
    assert f"statement &quot;{html.escape(SCRIPT)}&quot;" in page  # the trust check
    assert f"except &quot;arn:aws:s3:::{html.escape(SCRIPT)}&quot;" in page  # the finding


def test_section_from_json_renders_the_same() -> None:
    section = report_section(untrusted())
    again = from_json(TargetSection, to_json(section))

    assert summary_html(MOCK, (again,)) == summary_html(MOCK, (section,))
