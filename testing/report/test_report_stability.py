"""The reports say what they said: compliance.json, compliance.xml, the HTML page's visible
text, the SARIF log and the patches, for the runs the runbook's fixtures allow.

A change in the code's layout must not change a word of what a run reports. Each scenario
runs the real suite and compares every report file, normalised (times, durations, moto's
role ids, the moto server's port, the temporary folder: :func:`report_text.normalised`),
with a file recorded under ``data/reports/``. A change in what a report says must show up
here and be recorded on purpose:
``UPDATE_VISIBLE=1 pytest testing/report/test_report_stability.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LIVE, TEMPLATE_YAML, TERRAFORM_PLAN, MotoServer
from report_text import check_or_record, reports_text

DATA = Path(__file__).with_name("data") / "reports"
#: The trust policy of the runbook's template, with a condition ECS's request does not
#: meet (another account): the trust check's near miss.
TRUST_NEAR_MISS = """\
            Action: sts:AssumeRole
            Condition:
              StringEquals:
                aws:SourceAccount: "111122223333"
"""


@pytest.mark.parametrize(
    ("scenario", "args"),
    [
        pytest.param("mock", [], id="mock"),
        pytest.param("mock-dry-run", ["--fix-dry-run"], id="mock-fix-dry-run"),
        pytest.param("template", ["--iam-policy-file", TEMPLATE_YAML], id="template"),
        pytest.param(
            "template-dry-run",
            ["--iam-policy-file", TEMPLATE_YAML, "--fix-dry-run"],
            id="template-fix-dry-run",
        ),
        pytest.param(
            "plan-dry-run",
            ["--iam-policy-file", TERRAFORM_PLAN, "--fix-dry-run"],
            id="plan-fix-dry-run",
        ),
        pytest.param(
            "trust-near-miss",
            ["--iam-policy-file", "trust-near-miss.template.yaml"],
            id="trust-near-miss",
        ),
    ],
)
def test_reports_say_what_they_said(suite: pytest.Pytester, scenario: str, args: list[str]) -> None:
    template = (suite.path / TEMPLATE_YAML).read_text(encoding="utf-8")
    changed = template.replace("            Action: sts:AssumeRole\n", TRUST_NEAR_MISS)
    assert changed != template
    (suite.path / "trust-near-miss.template.yaml").write_text(changed, encoding="utf-8")

    suite.runpytest(*args)

    check_or_record(reports_text(suite.path), DATA / f"{scenario}.txt")


def test_live_reports_say_what_they_said(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed()
    moto_server.use(monkeypatch)

    suite.runpytest(*LIVE, "--fix-dry-run")

    check_or_record(reports_text(suite.path), DATA / "live-dry-run.txt")
