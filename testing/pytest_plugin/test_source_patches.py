"""Patches of source files, end to end: the statement the plan chose, proved as written,
applicable where the file is, naming the template's own resources.

Each writes a file, runs ``--fix-dry-run``, applies the patch with the command the
terminal prints, and checks the patched file (and that the suite then passes).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.engine.fix.planning import FixPlan
from iam_compliance.engine.fix.proposal import plan_and_prove
from iam_compliance.errors import RemediationError
from iam_compliance.sources.fixes import Patch

from conftest import (
    ACCOUNT,
    ARCHIVE_ARN,
    ARCHIVE_FIRST,
    MISSING,
    TABLE_ARN,
    TEMPLATE_JSON,
    TEMPLATE_YAML,
    TERRAFORM_DIR,
    TERRAFORM_PLAN,
    TERRAFORM_STYLES,
    TERRAFORM_TABLE,
    apply_as_told,
    planned,
    runbook_assessment,
    runbook_plan,
    write_policy,
)


def archive_first_plan(document: dict[str, Any] = ARCHIVE_FIRST) -> dict[str, Any]:
    plan = runbook_plan()
    planned(plan, "aws_iam_policy.task")["policy"] = json.dumps(document)
    return plan


def sections(text: str, *markers: str) -> list[str]:
    """``text`` cut at each marker, in order: the part before the first, then each."""
    found, rest = [], text
    for marker in markers:
        head, _, rest = rest.partition(marker)
        found.append(head)
    return [*found, rest]


def replanned(suite: pytest.Pytester, plan: dict[str, Any], name: str) -> None:
    """The plan as Terraform would make it from the patched configuration."""
    fixed = json.loads((suite.path / "reports" / "fix" / f"{name}.policy.json").read_text())
    planned(plan, "aws_iam_policy.task")["policy"] = json.dumps(fixed)
    write_policy(suite, plan, name)


# ---------------------------------- the statement the plan chose, proved as written


@pytest.mark.parametrize("style", list(TERRAFORM_STYLES))
def test_a_terraform_patch_extends_the_statement_the_plan_chose(
    suite: pytest.Pytester, style: str
) -> None:
    """Archive lists the same actions before Jobs: only Jobs, on the table, may grow."""
    (suite.path / "tf").mkdir()
    (suite.path / "tf" / "main.tf").write_text(TERRAFORM_TABLE + TERRAFORM_STYLES[style])
    plan = archive_first_plan()
    write_policy(suite, plan, "plan.json")
    dry = suite.runpytest(
        "--iam-policy-file", "plan.json", "--terraform-dir", "tf", "--fix-dry-run"
    )
    dry.stdout.fnmatch_lines(
        ["*new access: exactly the 3 required action(s)*, proved on main.tf as patched"]
    )
    apply_as_told(dry, suite.path)
    patched = (suite.path / "tf" / "main.tf").read_text()
    untouched, jobs = sections(patched, '"Jobs"')
    assert (
        untouched == sections(TERRAFORM_TABLE + TERRAFORM_STYLES[style], '"Jobs"')[0]
    )  # Archive as it was
    assert all(f'"{action}"' in jobs for action in MISSING)
    replanned(suite, plan, "plan.json")
    suite.runpytest("--iam-policy-file", "plan.json").assert_outcomes(passed=10)


def test_a_configuration_that_is_not_the_plan_gets_no_patch(suite: pytest.Pytester) -> None:
    """The .tf grants Jobs on the archive too (the plan is older): nothing is written,
    as the patched file would not be what was proved."""
    (suite.path / "tf").mkdir()
    stale = TERRAFORM_STYLES["jsonencode"].replace(
        "Resource = aws_dynamodb_table.jobs.arn",
        f'Resource = [aws_dynamodb_table.jobs.arn, "{ARCHIVE_ARN}"]',
    )
    (suite.path / "tf" / "main.tf").write_text(TERRAFORM_TABLE + stale)
    write_policy(suite, archive_first_plan(), "plan.json")
    result = suite.runpytest(
        "--iam-policy-file", "plan.json", "--terraform-dir", "tf", "--fix-dry-run"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --fix, target default: --terraform-dir: tf/main.tf (aws_iam_policy.task): "
            "its policy does not read as the plan's aws_iam_policy.task*"
        ]
    )
    assert not (suite.path / "reports" / "fix" / "plan.json.patch").exists()
    assert (suite.path / "tf" / "main.tf").read_text() == TERRAFORM_TABLE + stale


# ------------------------------------------------------ patches outside the project


def test_a_template_outside_the_project_is_patched_where_it_is(
    suite: pytest.Pytester, tmp_path: Path
) -> None:
    template = tmp_path / "infra" / "task-role.template.yaml"
    template.parent.mkdir()
    shutil.copy(suite.path / TEMPLATE_YAML, template)
    dry = suite.runpytest(f"--iam-policy-file={template}", "--fix-dry-run")
    patch = suite.path / "reports" / "fix" / "task-role.template.yaml.patch"
    assert patch.read_text().startswith(
        "--- a/task-role.template.yaml\n+++ b/task-role.template.yaml\n"
    )
    command = apply_as_told(dry, suite.path)
    assert command[2] == str(template.parent)
    assert "dynamodb:DescribeTable" in template.read_text()
    suite.runpytest(f"--iam-policy-file={template}").assert_outcomes(passed=10)


def test_a_terraform_dir_outside_the_project_is_patched_where_it_is(
    suite: pytest.Pytester, tmp_path: Path
) -> None:
    directory = tmp_path / "terraform"
    shutil.copytree(suite.path / TERRAFORM_DIR, directory)
    dry = suite.runpytest(
        "--iam-policy-file", TERRAFORM_PLAN, f"--terraform-dir={directory}", "--fix-dry-run"
    )
    patch = suite.path / "reports" / "fix" / "task-role.tfplan.json.patch"
    assert patch.read_text().startswith("--- a/main.tf\n+++ b/main.tf\n")
    apply_as_told(dry, suite.path)
    jobs = sections((directory / "main.tf").read_text(), 'Sid    = "Jobs"', 'Sid      = "Logs"')[1]
    assert all(f'"{action}"' in jobs for action in MISSING)


# -------------------------------------------- a template's patch names its resources


def with_indexes(name: str, text: str) -> str:
    """The template with its Jobs statement granting the table's indexes too."""
    if name == TEMPLATE_YAML:
        old = "            Resource: !GetAtt JobsTable.Arn\n"
        assert old in text
        return text.replace(
            old,
            "            Resource:\n"
            "              - !GetAtt JobsTable.Arn\n"
            '              - !Sub "${JobsTable.Arn}/index/*"\n',
        )
    template = json.loads(text)
    jobs = template["Resources"]["TaskPolicy"]["Properties"]["PolicyDocument"]["Statement"][1]
    jobs["Resource"] = [jobs["Resource"], {"Fn::Sub": "${JobsTable.Arn}/index/*"}]
    return json.dumps(template, indent=2) + "\n"


@pytest.mark.parametrize(
    ("name", "written"),
    [
        pytest.param(TEMPLATE_YAML, "Resource: !GetAtt JobsTable.Arn", id="yaml-short-form"),
        pytest.param(TEMPLATE_JSON, '"Resource": {\n', id="json"),
    ],
)
def test_a_new_statement_names_the_table_the_template_defines(
    suite: pytest.Pytester, name: str, written: str
) -> None:
    """The Jobs statement also grants the indexes, so the fix is a statement of its own:
    it names JobsTable as the template does, never the account id written out."""
    path = suite.path / name
    path.write_text(with_indexes(name, path.read_text()))
    dry = suite.runpytest("--iam-policy-file", name, "--fix-dry-run")
    apply_as_told(dry, suite.path)
    patched = path.read_text()
    added = patched[patched.index("IamComplianceMlJobsTable") :]
    assert written in added
    assert "JobsTable" in added.split("Resource", 1)[1].split("}", 1)[0]
    assert ACCOUNT not in patched
    suite.runpytest("--iam-policy-file", name).assert_outcomes(passed=10)


# ------------------------------------------------------ what a patch will not write


@pytest.mark.parametrize(
    ("change", "why"),
    [
        pytest.param(
            lambda s: s[1].update(Resource=[TABLE_ARN, ARCHIVE_ARN]),
            "would newly grant dynamodb:*on " + ARCHIVE_ARN,
            id="wider",
        ),
        pytest.param(
            lambda s: s[1].update(Action=s[1]["Action"][:-1]),
            "would still not allow dynamodb:DescribeTable",
            id="short",
        ),
        pytest.param(lambda s: s.pop(), "it is not the planned document", id="loses-a-statement"),
    ],
)
def test_a_patch_that_reads_as_another_document_is_not_written(
    tmp_path: Path, change: Any, why: str
) -> None:
    """Whatever the patch would make, it is judged on the file as patched."""
    found = runbook_assessment()

    def actions(service: str) -> list[str]:
        return ["GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable"]

    def changed(plan: FixPlan) -> Patch:
        document = copy.deepcopy(plan.new_document)
        assert document is not None
        change(document["Statement"])
        return Patch(tmp_path, "p.json", "", "", document)

    with pytest.raises(RemediationError) as caught:
        plan_and_prove(found, actions, write=changed)
    assert fnmatch.fnmatch(str(caught.value), f"*is not the planned fix: *{why}*; nothing written")
    # As planned, it is proved and says so.
    proved = plan_and_prove(
        found, actions, write=lambda plan: Patch(tmp_path, "p.json", "", "", plan.new_document)
    )
    assert proved is not None
    assert proved.proof is not None
    assert proved.proof.endswith("proved on p.json as patched")


def test_a_statement_written_as_fn_if_gets_no_patch(suite: pytest.Pytester) -> None:
    """An Fn::If in place of a statement: the statements read are not the ones written,
    so no edit can be placed by position; the run says so, nothing crashes."""
    path = suite.path / TEMPLATE_YAML
    text = path.read_text().replace(
        "        Statement:\n          - Sid: Artifacts\n",
        "        Statement:\n"
        "          - !If [IsLegacy, {Effect: Allow, Action: 's3:*', Resource: '*'},"
        " !Ref AWS::NoValue]\n"
        "          - Sid: Artifacts\n",
    )
    path.write_text(
        text.replace("Parameters:\n", "Conditions:\n  IsLegacy: !Equals [a, b]\nParameters:\n")
    )
    result = suite.runpytest("--iam-policy-file", TEMPLATE_YAML, "--fix-dry-run")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --fix, target default: --iam-policy-file fixtures/iac/task-role.template.yaml: "
            "the statements of Resources.TaskPolicy are not written one for one*"
        ]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
