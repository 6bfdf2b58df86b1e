"""The HTML report's parts stay proportional with many targets and many missing actions.

Sizes are asserted as structure (each document once per target, a row's details bounded,
the title and the Environment independent of the number of targets), never as times.
"""

from __future__ import annotations

import dataclasses
import html
import re

from iam_compliance.config import Settings
from iam_compliance.engine.evaluate.assessment import Assessment, assess
from iam_compliance.engine.requirements import RequiredAction
from iam_compliance.engine.target import Target
from iam_compliance.report import build, fixes
from iam_compliance.report.codec import to_json
from iam_compliance.report.html import (
    TITLE_LENGTH,
    environment,
    report_title,
    row_details_html,
    summary_html,
)
from iam_compliance.report.labels import CheckKind
from iam_compliance.report.model import TargetSection

from conftest import (
    NOW,
    TARGET,
    parsed_task_policy,
    report_section,
    role_snapshot,
    runbook_assessment,
    runbook_policy,
)

#: A marker of the runbook policy's text: it appears once in each copy of the document.
DOCUMENT_MARK = "&quot;Version&quot;: &quot;2012-10-17&quot;"
#: A marker of the proposed diff: its header line.
DIFF_MARK = "(proposed new version)"


def targets(count: int) -> tuple[Target, ...]:
    return tuple(
        dataclasses.replace(
            TARGET, name=f"t{n:04}", account_id=f"{100000000000 + n}", role_name=f"Role{n}"
        )
        for n in range(count)
    )


def sections(count: int) -> tuple[TargetSection, ...]:
    """``count`` copies of the runbook role's section, each named as a target."""
    section = report_section(runbook_assessment())
    return tuple(dataclasses.replace(section, name=f"t{n:04}") for n in range(count))


def documents(count: int) -> dict[str, object]:
    return {f"t{n:04}": runbook_policy() for n in range(count)}


def missing_many(count: int) -> Assessment:
    """The runbook role with ``count`` required actions it does not allow."""
    required = tuple(RequiredAction(f"dynamodb:Action{n:03}", f"need {n}") for n in range(count))
    snapshot = role_snapshot(parsed_task_policy(runbook_policy(), "v1"))
    return assess(TARGET, snapshot, required, None, now=NOW)


def test_title_stays_short_with_a_thousand_targets() -> None:
    title = report_title(Settings(mode="live", targets=targets(1000)))

    assert len(title) <= TITLE_LENGTH
    assert title == "IAM compliance: 1,000 targets, 1,000 roles in 1,000 accounts (LIVE)"


def test_environment_sums_up_many_targets() -> None:
    few = environment(Settings(mode="mock", targets=targets(3)), NOW)
    many = environment(Settings(mode="mock", targets=targets(1000)), NOW)
    more = environment(Settings(mode="mock", targets=targets(2000)), NOW)

    assert "Role ARN (t0002)" in few
    assert list(many) == list(more)  # the same rows however many targets
    assert many["Targets"].startswith("1,000; ")
    assert many["Accounts"].endswith(" and 995 more")
    assert many["Regions"] == "1: us-east-1"
    assert sum(len(value) for value in more.values()) < 1_000


def test_grid_lists_every_target_with_a_working_link() -> None:
    settings = Settings(mode="mock", targets=targets(60))
    page = summary_html(settings, sections(50), documents=documents(50))

    grid = page[page.index('<table class="iamc-table iamc-grid">') : page.index("</table>")]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', grid)
    assert [name for _, name in links] == [f"t{n:04}" for n in range(50)]
    for element_id, _ in links:
        assert page.count(f'id="{element_id}"') == 1
    # The grid comes before the first target's section.
    assert page.index("iamc-grid") < page.index('class="iamc-target"')
    # Targets that were not judged are in the grid too, without a link.
    assert grid.count("COULD NOT CHECK") == 10
    tally = "60 targets: 0 compliant, 50 not compliant, 10 could not be checked"
    assert f'<p class="iamc-meta">{tally}</p>' in page
    assert "<td>t0059</td>" in grid


def test_one_target_has_no_grid() -> None:
    section = report_section(runbook_assessment())

    page = summary_html(Settings(mode="mock", targets=(TARGET,)), (section,))

    assert page.count('class="iamc-target"') == 1
    assert "iamc-grid" not in page


def test_document_and_diff_once_per_target() -> None:
    settings = Settings(mode="mock", targets=targets(20))

    page = summary_html(settings, sections(20), documents=documents(20))

    assert page.count(DOCUMENT_MARK) == 20
    assert page.count(DIFF_MARK) == 20
    for n in range(20):
        assert page.count(f'id="iamc-doc-t{n:04}"') == 1
        assert page.count(f'id="iamc-diff-t{n:04}"') == 1


def test_300_missing_actions_stay_small() -> None:
    assessment = missing_many(300)
    section = report_section(assessment)
    policy = assessment.target_policy
    assert policy is not None
    settings = Settings(mode="mock", targets=(TARGET,))

    summary = summary_html(
        settings, (section,), documents={"default": fixes.plain(policy.document)}
    )
    rows = []
    for entry in section.actions:
        payload = build.row_payload(CheckKind.ACTION, entry.id, assessment)
        rows.append(row_details_html(payload, section, to_json(entry)))
    whole = row_details_html(build.row_payload(CheckKind.ALL_ACTIONS, None, assessment), section)

    # The document and the diff are in the summary once, in no row.
    assert summary.count(DOCUMENT_MARK) == 1
    assert summary.count(DIFF_MARK) == 1
    assert not [row for row in [*rows, whole] if DOCUMENT_MARK in row or DIFF_MARK in row]
    # Each row links to them, and stays small however many actions are missing.
    assert len(rows) == len(assessment.verdicts) >= 300
    assert all('href="#iamc-diff-default"' in row for row in rows)
    assert all('href="#iamc-doc-default"' in row for row in rows)
    assert max(len(row) for row in rows) < 3_000
    assert len(summary) + sum(map(len, rows)) + len(whole) < 2_000_000
    assert html.escape("dynamodb:Action299") in summary
