"""What a compliance test checks is its ``iam_check`` marker, never its name.

Renaming the suite's tests changes nothing in any report; a compliance test without a
right marker is a usage error at collection, naming the test and the marker to add.
"""

from __future__ import annotations

import json
import re

import pytest

from iam_compliance.pytest_plugin.plugin import ICHECK_MARKER_HELP
from iam_compliance.report.labels import CheckKind

from conftest import CLASS, SUITE_FILE, read_json
from report_text import reports_text

#: Each of the suite's tests, and a name that says nothing of what it checks (in the same
#: order: the HTML page lists its rows by node id).
RENAMED = {
    "test_dynamodb_access_is_least_privilege": "test_check_a",
    "test_policy_is_attached_to_task_role": "test_check_b",
    "test_required_action_is_allowed": "test_check_c",
    "test_task_role_has_all_required_permissions": "test_check_d",
    "test_task_role_trusts_ecs_tasks": "test_check_e",
}
KINDS = '"action", "all_actions", "attached", "trust", "least_privilege", "forbidden"'


def edit_suite(suite: pytest.Pytester, old: str, new: str) -> None:
    path = suite.path / "tests" / SUITE_FILE.name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_renamed_tests_report_what_they_reported(suite: pytest.Pytester) -> None:
    """Every report of a run whose tests have other names is the same, names aside: each
    row is classified by its marker (under the names, 6 of the 10 checks would be seen)."""
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    before = reports_text(suite.path)
    for old, new in RENAMED.items():
        edit_suite(suite, f"def {old}(", f"def {new}(")

    result = suite.runpytest()

    result.assert_outcomes(passed=6, failed=4)
    assert read_json(suite)["checks"] == {"ran": 10, "expected": 10}
    after = reports_text(suite.path)
    for old, new in RENAMED.items():
        after = re.sub(rf"\b{new}\b", old, after)
    assert after == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            '    @pytest.mark.iam_check("trust")\n',
            "",
            "::test_task_role_trusts_ecs_tasks: uses the iam_assessment fixture but has no "
            "iam_check marker; add @pytest.mark.iam_check(KIND) with KIND one of "
            f"{KINDS}, to say what it checks",
            id="missing",
        ),
        pytest.param(
            'iam_check("trust")',
            'iam_check("trusts")',
            "::test_task_role_trusts_ecs_tasks: @pytest.mark.iam_check('trusts') names no "
            f"check; expected one argument, one of {KINDS}",
            id="unknown-kind",
        ),
        pytest.param(
            'iam_check("trust")',
            'iam_check("action")',
            '::test_task_role_trusts_ecs_tasks: is marked @pytest.mark.iam_check("action") '
            "but does not take the required_action fixture, which names the action it checks",
            id="action-without-an-action",
        ),
        pytest.param(
            'iam_check("action")',
            'iam_check("trust")',
            "::test_required_action_is_allowed[[]dynamodb:GetItem[]]: takes the "
            'required_action fixture; mark it @pytest.mark.iam_check("action")',
            id="an-action-test-marked-otherwise",
        ),
    ],
)
def test_a_compliance_test_without_its_marker_is_a_usage_error(
    suite: pytest.Pytester, old: str, new: str, message: str
) -> None:
    edit_suite(suite, old, new)

    result = suite.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"{CLASS}{message}"])
    report = read_json(suite)
    assert report["error"]["kind"] == "could_not_check"
    assert report["checks"] is None or report["checks"]["ran"] == 0
    unescaped = message.replace("[[]", "[").replace("[]]", "]")
    assert f"{CLASS}{unescaped}" in report["error"]["message"].splitlines()


def test_the_usage_error_is_the_same_under_xdist(suite: pytest.Pytester) -> None:
    """xdist's controller collects nothing: its workers' collection reports carry it."""
    edit_suite(suite, '    @pytest.mark.iam_check("trust")\n', "")

    result = suite.runpytest("-n", "2")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"{CLASS}::test_task_role_trusts_ecs_tasks: uses the *"])
    message = read_json(suite)["error"]["message"]
    assert message.splitlines() == [
        f"{CLASS}::test_task_role_trusts_ecs_tasks: uses the iam_assessment fixture but has "
        f"no iam_check marker; add @pytest.mark.iam_check(KIND) with KIND one of {KINDS}, to "
        "say what it checks"
    ]


def test_the_marker_is_registered_with_a_help_line_naming_every_kind(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest("--markers")

    result.stdout.fnmatch_lines([f"@pytest.mark.{ICHECK_MARKER_HELP}"])
    assert [kind for kind in json.loads(f"[{KINDS}]")] == [kind.value for kind in CheckKind]
    assert all(f'"{kind.value}"' in ICHECK_MARKER_HELP for kind in CheckKind)
