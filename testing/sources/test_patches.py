"""Patches of source files: the edited text reads back as exactly the planned document."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.sources.patches import (
    apply_edits,
    cloudformation_arn,
    source_edits,
    unified_diff,
)
from iam_compliance.sources.reading import read_text, tree_of

from conftest import ACCOUNT, ROOT, TABLE_ARN, TARGET, TEMPLATE_YAML

NEW_STATEMENT = {
    "Sid": "IamComplianceMlJobsTable",
    "Effect": "Allow",
    "Action": ["dynamodb:Scan", "dynamodb:Query"],
    "Resource": TABLE_ARN,
}


def patched(text: str, name: str, proposed: dict[str, Any]) -> str:
    source = read_text(text, Path(name), TARGET)
    [policy] = [p for p in source.policies if p.kind == "managed"]
    new = apply_edits(text, source_edits(source, tree_of(source), policy, proposed, TARGET))
    again = read_text(new, Path(name), TARGET)
    [policy] = [p for p in again.policies if p.kind == "managed"]
    assert policy.document == proposed
    return new


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


JOBS = {"Sid": "Jobs", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE_ARN}


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_json_list_extended_in_its_own_layout(indent: int | None) -> None:
    text = json.dumps(document(JOBS), indent=indent)
    proposed = document({**JOBS, "Action": ["dynamodb:GetItem", "dynamodb:Scan"]})
    new = patched(text, "p.json", proposed)
    assert len(new.splitlines()) == len(text.splitlines()) + (0 if indent is None else 1)


def test_json_string_action_becomes_a_list() -> None:
    text = json.dumps(document({**JOBS, "Action": "dynamodb:GetItem"}), indent=4)
    proposed = document({**JOBS, "Action": ["dynamodb:GetItem", "dynamodb:Scan"]})
    new = patched(text, "p.json", proposed)
    assert '"Action": ["dynamodb:GetItem", "dynamodb:Scan"]' in new


def test_json_new_statement_after_the_last() -> None:
    guarded = {**JOBS, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    text = json.dumps(document(guarded), indent=4) + "\n"
    new = patched(text, "p.json", document(guarded, NEW_STATEMENT))
    assert new.endswith("\n    ]\n}\n")
    assert '        {\n            "Sid": "IamComplianceMlJobsTable",' in new


def test_yaml_new_statement_and_flow_list() -> None:
    text = (
        (ROOT / TEMPLATE_YAML)
        .read_text()
        .replace(
            "            Action:\n"
            "              - dynamodb:GetItem\n"
            "              - dynamodb:PutItem\n"
            "              - dynamodb:UpdateItem\n",
            "            Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem]\n",
        )
    )
    source = read_text(text, Path("t.yaml"), TARGET)
    [policy] = source.policies
    assert policy.document is not None
    proposed = copy.deepcopy(dict(policy.document))
    proposed["Statement"][1]["Action"].append("dynamodb:Scan")
    proposed["Statement"].append(NEW_STATEMENT)
    new = patched(text, "t.yaml", proposed)
    assert "Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Scan]" in new
    assert "          - Sid: IamComplianceMlJobsTable\n            Effect: Allow\n" in new


def test_unified_diff_marks_a_last_line_without_newline() -> None:
    diff = unified_diff("a\nb", "a\nc", "x.json")
    assert diff.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")


#: The account, region and partition as a template writes them.
PSEUDO = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"


@pytest.mark.parametrize(
    ("arn", "table", "written"),
    [
        pytest.param(TABLE_ARN, "JobsTable", {"Fn::GetAtt": ["JobsTable", "Arn"]}, id="table"),
        pytest.param(
            f"{TABLE_ARN}/index/by-status",
            "JobsTable",
            {"Fn::Sub": "${JobsTable.Arn}/index/by-status"},
            id="index",
        ),
        pytest.param(
            TABLE_ARN,
            None,
            {"Fn::Sub": f"{PSEUDO}:table/ml-jobs"},
            id="table-not-in-the-template",
        ),
        pytest.param(
            f"{TABLE_ARN}/index/${{aws:PrincipalTag/team}}",
            "JobsTable",
            {"Fn::Sub": "${JobsTable.Arn}/index/${!aws:PrincipalTag/team}"},
            id="policy-variable-kept-literal",
        ),
        pytest.param("*", "JobsTable", "*", id="no-arn"),
    ],
)
def test_a_template_names_its_resources_not_the_account(
    arn: str, table: str | None, written: Any
) -> None:
    assert cloudformation_arn(arn, TARGET, table) == written


def test_a_policy_file_with_placeholders_gets_placeholders() -> None:
    text = (ROOT / "fixtures" / "policies" / "task_policy.json").read_text()
    source = read_text(text, Path("p.json"), TARGET)
    [policy] = source.policies
    assert policy.document is not None
    guarded = copy.deepcopy(dict(policy.document))
    guarded["Statement"][1]["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
    proposed = copy.deepcopy(guarded)
    proposed["Statement"].append(NEW_STATEMENT)
    written = json.dumps(guarded, indent=4)
    raw = written.replace('"ml-platform-artifacts', '"${S3_BUCKET_NAME}').replace(
        TABLE_ARN, "arn:aws:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/${DYNAMODB_TABLE_NAME}"
    )
    new = patched(raw, "p.json", proposed)
    assert ACCOUNT not in new
    assert new.count("table/${DYNAMODB_TABLE_NAME}") == 2
