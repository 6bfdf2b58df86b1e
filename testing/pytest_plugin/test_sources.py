"""Source files end to end: a Terraform plan, CloudFormation JSON and YAML, a bare policy.

Each reproduces the runbook's state; the suite fails on exactly Scan, Query and
DescribeTable; ``--fix-dry-run`` writes a patch that ``git apply`` accepts; the patched
input passes. The SARIF log validates against the official schema and points at the
statements.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import (
    CLASS,
    MISSING,
    POLICY_NAME,
    ROOT,
    TEMPLATE_JSON,
    TEMPLATE_YAML,
    TERRAFORM_DIR,
    TERRAFORM_PLAN,
    action_id,
    apply_as_told,
    failed_ids,
    runbook_policy,
    write_policy,
)

SCHEMA = json.loads((ROOT / "testing" / "sources" / "data" / "sarif-schema-2.1.0.json").read_text())
#: The suite's failures in the runbook's state.
RUNBOOK_FAILURES = {
    f"{CLASS}::test_task_role_has_all_required_permissions",
    *(action_id(a) for a in MISSING),
}
SOURCES = [TERRAFORM_PLAN, TEMPLATE_JSON, TEMPLATE_YAML, "proposed.json"]


def source_path(suite: pytest.Pytester, name: str) -> str:
    if name == "proposed.json":  # a bare policy document, the runbook's
        write_policy(suite, runbook_policy(), name)
    return name


def sarif(suite: pytest.Pytester) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((suite.path / "reports" / "compliance.sarif").read_text())
    return document


def replan(suite: pytest.Pytester, document_file: Path) -> None:
    """What ``terraform plan`` would say after the patch: the policy becomes the new
    document (the patched .tf is checked separately)."""
    plan_file = suite.path / TERRAFORM_PLAN
    plan = json.loads(plan_file.read_text())
    new = json.dumps(json.loads(document_file.read_text()), separators=(",", ":"))
    for change in plan["resource_changes"]:
        if change["address"] == "aws_iam_policy.task":
            change["change"]["after"]["policy"] = new
    plan_file.write_text(json.dumps(plan, indent=2))


@pytest.mark.slow
@pytest.mark.parametrize("name", SOURCES)
def test_source_fails_on_the_missing_actions_and_its_patch_fixes_it(
    suite: pytest.Pytester, name: str
) -> None:
    path = source_path(suite, name)
    result = suite.runpytest("--iam-policy-file", path)
    assert failed_ids(result) == RUNBOOK_FAILURES
    result.assert_outcomes(passed=6, failed=4)
    extra = ["--terraform-dir", TERRAFORM_DIR] if path == TERRAFORM_PLAN else []
    before = (suite.path / path).read_text()
    dry = suite.runpytest("--iam-policy-file", path, "--fix-dry-run", *extra)
    dry.assert_outcomes(passed=6, failed=4)  # nothing but the patch was written
    assert (suite.path / path).read_text() == before
    dry.stdout.fnmatch_lines(["*new access: exactly the 3 required action(s)*"])
    patch = suite.path / "reports" / "fix" / f"{Path(path).name}.patch"
    lines = patch.read_text().splitlines()
    added = [line[1:].strip().rstrip(",") for line in lines if line.startswith("+")][1:]
    removed = [line[1:].strip().rstrip(",") for line in lines if line.startswith("-")][1:]
    assert all(any(action in line for line in added) for action in MISSING)
    assert all(line in added for line in removed)  # at most a comma added to a line
    apply_as_told(dry, suite.path)
    if path == TERRAFORM_PLAN:
        config = (suite.path / TERRAFORM_DIR / "main.tf").read_text()
        jobs = config[config.index('Sid    = "Jobs"') : config.index('Sid      = "Logs"')]
        assert all(f'"{action}"' in jobs for action in MISSING)
        replan(suite, suite.path / "reports" / "fix" / f"{Path(path).name}.policy.json")
    else:
        assert (suite.path / path).read_text() != before
    suite.runpytest("--iam-policy-file", path).assert_outcomes(passed=10)


@pytest.mark.parametrize("name", SOURCES)
def test_sarif_validates_and_points_at_the_statement_to_extend(
    suite: pytest.Pytester, name: str
) -> None:
    path = source_path(suite, name)
    suite.runpytest("--iam-policy-file", path).assert_outcomes(passed=6, failed=4)
    log = sarif(suite)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [run] = log["runs"]
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert {"MISSING_ACTION", "ECS_TASKS_TRUST", "WILDCARD_ACTION", "RESOURCE_STAR"} <= rule_ids
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["MISSING_ACTION"] * 3
    assert [r["message"]["text"].split(" ")[0] for r in results] == list(MISSING)
    lines = (suite.path / path).read_text().splitlines()
    expected = statement_line(lines, path)
    for result in results:
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == path
        assert physical["region"]["startLine"] == expected
        assert result["partialFingerprints"]["iamCompliance/v1"]
    assert len({r["partialFingerprints"]["iamCompliance/v1"] for r in results}) == 3


def statement_line(lines: list[str], path: str) -> int:
    """The 1-based line where the statement granting GetItem on the table starts."""
    if path == TERRAFORM_PLAN:
        # The policy is one JSON string: the line of the planned one (the last of
        # planned_values, the change's before and its after).
        index = max(
            i
            for i, line in enumerate(lines)
            if '"policy": "{' in line and "dynamodb:GetItem" in line
        )
        return index + 1
    if path == TEMPLATE_YAML:
        return lines.index("          - Sid: Jobs") + 1
    getitem = next(i for i, line in enumerate(lines) if '"dynamodb:GetItem"' in line)
    opening = max(i for i in range(getitem) if lines[i].strip() == "{")
    return opening + 1


def test_sarif_points_at_a_denying_statement(suite: pytest.Pytester) -> None:
    template = (suite.path / TEMPLATE_YAML).read_text()
    deny = (
        "          - Sid: NoScans\n"
        "            Effect: Deny\n"
        "            Action: dynamodb:Scan\n"
        '            Resource: "*"\n'
    )
    (suite.path / TEMPLATE_YAML).write_text(template + deny)
    result = suite.runpytest("--iam-policy-file", TEMPLATE_YAML, "-rf")
    result.stdout.fnmatch_lines(
        [f'*explicitly denied by {POLICY_NAME} v1, statement "NoScans" [{TEMPLATE_YAML} line *']
    )
    [scan] = [
        r for r in sarif(suite)["runs"][0]["results"] if "dynamodb:Scan" in r["message"]["text"]
    ]
    start = scan["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert (template + deny).splitlines()[start - 1] == "          - Sid: NoScans"


def plan_with(changes: dict[str, Any]) -> dict[str, Any]:
    """The runbook plan with ``changes`` made to aws_iam_policy.task's change."""
    plan: dict[str, Any] = json.loads((ROOT / TERRAFORM_PLAN).read_text())
    for change in plan["resource_changes"]:
        if change["address"] == "aws_iam_policy.task":
            change["change"].update(changes)
    return plan


def test_a_policy_known_only_after_apply_is_never_a_pass(suite: pytest.Pytester) -> None:
    plan = plan_with({})
    policy = next(c for c in plan["resource_changes"] if c["address"] == "aws_iam_policy.task")
    policy["change"]["actions"] = ["update"]
    del policy["change"]["after"]["policy"]
    policy["change"]["after_unknown"] = {"policy": True}
    write_policy(suite, plan, "unknown.tfplan.json")
    result = suite.runpytest("--iam-policy-file", "unknown.tfplan.json", "-rf")
    assert {action_id(a) for a in ("dynamodb:GetItem", *MISSING)} <= failed_ids(result)
    assert f"{CLASS}::test_dynamodb_access_is_least_privilege" in failed_ids(result)
    result.stdout.fnmatch_lines(
        [
            "*dynamodb:GetItem could not be decided: policy of aws_iam_policy.task in "
            "unknown.tfplan.json is known only after apply*"
        ]
    )
    # Only what the plan does know passes: the policy is attached, ECS may assume the role.
    result.assert_outcomes(passed=2, failed=8)


def test_an_unresolvable_value_in_a_policy_makes_its_verdicts_undecided(
    suite: pytest.Pytester,
) -> None:
    text = (
        (suite.path / TEMPLATE_YAML)
        .read_text()
        .replace("Resource: !GetAtt JobsTable.Arn", "Resource: !ImportValue shared-jobs-table-arn")
    )
    (suite.path / "imported.yaml").write_text(text)
    result = suite.runpytest("--iam-policy-file", "imported.yaml", "-rf")
    assert action_id("dynamodb:GetItem") in failed_ids(result)
    result.stdout.fnmatch_lines(
        [
            "*could not be decided: PolicyDocument of Resources.TaskPolicy in imported.yaml "
            "cannot be resolved*Fn::ImportValue*"
        ]
    )


BAD = [
    pytest.param(
        "state.json",
        json.dumps({"format_version": "1.0", "terraform_version": "1.9.8", "values": {}}),
        "--iam-policy-file state.json: a Terraform state: expected the JSON of a saved plan*",
        id="terraform-state-not-a-plan",
    ),
    pytest.param(
        "other.tfplan.json",
        (ROOT / TERRAFORM_PLAN)
        .read_text()
        .replace('"name": "MLPlatformECSTaskRole"', '"name": "Other"'),
        "--iam-policy-file other.tfplan.json: no aws_iam_role named MLPlatformECSTaskRole "
        "(ECS_TASK_ROLE_NAME) in the plan; its roles: aws_iam_role.task (name Other)",
        id="plan-without-the-role",
    ),
    pytest.param(
        "other.yaml",
        (ROOT / TEMPLATE_YAML)
        .read_text()
        .replace("RoleName: MLPlatformECSTaskRole", "RoleName: Other"),
        "--iam-policy-file other.yaml: no AWS::IAM::Role with RoleName MLPlatformECSTaskRole "
        "(ECS_TASK_ROLE_NAME); the template's roles: TaskRole (RoleName Other)",
        id="template-without-the-role",
    ),
    pytest.param(
        "imported.yaml",
        (ROOT / TEMPLATE_YAML)
        .read_text()
        .replace("- !Ref TaskPolicy", "- !ImportValue shared-policy"),
        "--iam-policy-file imported.yaml: Resources.TaskRole.Properties.ManagedPolicyArns[[]0[]]: "
        "Fn::ImportValue cannot be resolved from the configuration*",
        id="unresolvable-intrinsic",
    ),
    pytest.param(
        "broken.yaml",
        "Resources:\n  TaskRole:\n    Type: AWS::IAM::Role\n   Properties: {}\n",
        "--iam-policy-file broken.yaml: line 4 column *: not valid YAML*",
        id="yaml-syntax",
    ),
    pytest.param(
        "notes.yaml",
        "just: some yaml\n",
        "--iam-policy-file notes.yaml: not a policy document (JSON), a Terraform plan*",
        id="yaml-not-a-template",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD)
def test_bad_source_gets_one_clear_message(
    suite: pytest.Pytester, name: str, content: str, message: str
) -> None:
    (suite.path / name).write_text(content)
    result = suite.runpytest("--iam-policy-file", name)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert " passed" not in output


def test_source_options_need_a_source_file(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--sarif", "out.sarif")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --sarif needs --iam-policy-file (a source file)"])
    result = suite.runpytest("--iam-policy-file", TEMPLATE_YAML, "--terraform-dir", TERRAFORM_DIR)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --terraform-dir needs a Terraform plan as --iam-policy-file"]
    )


def test_the_readme_policy_example_passes_in_any_account(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README ("Two modes"): the compliant policy fixture names no account of its own."""
    monkeypatch.setenv("AWS_ACCOUNT_ID", "111122223333")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    result = suite.runpytest("--iam-policy-file", "fixtures/policies/compliant_task_policy.json")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*arn:aws:dynamodb:eu-west-1:111122223333:table/ml-jobs*"])


@pytest.mark.parametrize("repository", [True, False], ids=["in-a-git-checkout", "in-a-folder"])
def test_sarif_of_a_template_outside_the_project_is_relative_to_its_repository(
    suite: pytest.Pytester, tmp_path: Path, repository: bool
) -> None:
    """Code scanning places a result by its path relative to the checkout it uploads from:
    an absolute path is never placed, so the log names its base (``%SRCROOT%``)."""
    root = tmp_path / "infra-repo"
    template = root / "stacks" / "task-role.template.yaml"
    template.parent.mkdir(parents=True)
    shutil.copy(suite.path / TEMPLATE_YAML, template)
    if repository:
        (root / ".git").mkdir()
    base = root if repository else template.parent
    result = suite.runpytest(f"--iam-policy-file={template}")
    result.assert_outcomes(passed=6, failed=4)
    result.stdout.fnmatch_lines([f"*SARIF log's paths are relative to {base}*checkout_path*"])
    log = sarif(suite)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [run] = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": base.as_uri() + "/"}}
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in run["results"]
        for location in result["locations"]
    }
    assert uris == {template.relative_to(base).as_posix()}
