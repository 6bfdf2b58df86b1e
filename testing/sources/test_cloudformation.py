"""A template's Conditions: what CloudFormation would create is what is read.

A resource whose ``Condition`` is false is not read; ``Fn::If`` takes its branch;
``AWS::NoValue`` removes what it stands for; a condition the file cannot decide leaves
what it touches open (an :class:`~iam_compliance.engine.evaluate.unknowns.Unknown`), never true or
false by guess.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.sources.intrinsics import Resolver, Undecidable
from iam_compliance.sources.model import Source
from iam_compliance.sources.reading import read_text

from conftest import ACCOUNT, ROLE, TABLE_ARN, TARGET

#: The parameters the conditions below read: one with a Default, one without.
PARAMETERS = {"Env": {"Type": "String", "Default": "prod"}, "Tier": {"Type": "String"}}


def truth(condition: Any, **conditions: Any) -> bool | None:
    """``condition`` evaluated for the default target (None: undecidable)."""
    resolver = Resolver(TARGET, {}, PARAMETERS, lambda _: None, {"It": condition, **conditions})
    try:
        return resolver.condition("It", "test")
    except Undecidable:
        return None


def equals(left: Any, right: Any) -> dict[str, Any]:
    return {"Fn::Equals": [left, right]}


ENV_DEV = equals({"Ref": "Env"}, "dev")
TIER_GOLD = equals({"Ref": "Tier"}, "gold")  # Tier has no Default: undecidable


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(ENV_DEV, False, id="parameter-default"),
        pytest.param(equals({"Ref": "Env"}, "prod"), True, id="parameter-default-equal"),
        pytest.param(equals({"Ref": "AWS::Region"}, "us-east-1"), True, id="pseudo-region"),
        pytest.param(equals({"Ref": "AWS::AccountId"}, ACCOUNT), True, id="pseudo-account"),
        pytest.param(equals({"Ref": "AWS::StackName"}, "x"), None, id="stack-name-open"),
        pytest.param(TIER_GOLD, None, id="parameter-without-default"),
        pytest.param({"Fn::Not": [ENV_DEV]}, True, id="not"),
        pytest.param({"Fn::Not": [TIER_GOLD]}, None, id="not-open"),
        pytest.param({"Fn::And": [ENV_DEV, TIER_GOLD]}, False, id="and-false-decides"),
        pytest.param({"Fn::And": [{"Fn::Not": [ENV_DEV]}, TIER_GOLD]}, None, id="and-open"),
        pytest.param({"Fn::Or": [{"Fn::Not": [ENV_DEV]}, TIER_GOLD]}, True, id="or-true-decides"),
        pytest.param({"Fn::Or": [ENV_DEV, TIER_GOLD]}, None, id="or-open"),
        pytest.param({"Condition": "Other"}, False, id="condition-reference"),
        pytest.param({"Condition": "Missing"}, None, id="unknown-condition"),
        pytest.param({"Condition": "It"}, None, id="refers-to-itself"),
        pytest.param(equals(True, "true"), True, id="yaml-true-is-the-string-true"),
        pytest.param("dev", None, id="not-a-condition-function"),
    ],
)
def test_a_condition_is_true_false_or_open(condition: Any, expected: bool | None) -> None:
    assert truth(condition, Other=ENV_DEV) is expected


# ------------------------------------------------------------ templates, as read

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env:
    Type: String
    Default: prod
  Tier:
    Type: String
Conditions:
  IsDev: !Equals [!Ref Env, dev]
  IsProd: !Not [!Condition IsDev]
  IsGold: !Equals [!Ref Tier, gold]
Resources:
  JobsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: ml-jobs
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: MLPlatformECSTaskRole
      Path: /ml-platform/
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Ref TaskPolicy
  TaskPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: MLPlatformECSTaskPolicy
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: Jobs
            Effect: Allow
            Action: [dynamodb:GetItem]
            Resource: !GetAtt JobsTable.Arn
"""
#: A policy that grants the missing actions: when is it the role's?
EXTRA = """\
  DevScans:
    Type: AWS::IAM::Policy
    Condition: {condition}
    Properties:
      PolicyName: DevScans
      Roles: [!Ref TaskRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: [dynamodb:Scan, dynamodb:Query, dynamodb:DescribeTable]
            Resource: !GetAtt JobsTable.Arn
"""


def read(text: str) -> Source:
    return read_text(text, Path("t.yaml"), TARGET)


def names(source: Source) -> list[str]:
    return [policy.name for policy in source.policies]


def test_a_resource_whose_condition_is_false_is_not_read() -> None:
    source = read(TEMPLATE + EXTRA.format(condition="IsDev"))
    assert names(source) == ["MLPlatformECSTaskPolicy"]
    assert source.unknowns == ()


def test_a_resource_whose_condition_is_true_is_read() -> None:
    source = read(TEMPLATE + EXTRA.format(condition="IsProd"))
    assert names(source) == ["MLPlatformECSTaskPolicy", "DevScans"]
    assert source.unknowns == ()


def test_a_resource_whose_condition_is_open_leaves_every_verdict_open() -> None:
    source = read(TEMPLATE + EXTRA.format(condition="IsGold"))
    [unknown] = source.unknowns
    where = (unknown.address, unknown.attribute, unknown.keys)
    assert where == ("Resources.DevScans", "Condition", ())
    assert "parameter Tier has no Default" in unknown.why
    assert "condition IsGold cannot be decided" in unknown.why
    assert "whether it is created" in unknown.why


def test_a_role_whose_condition_is_open_leaves_its_trust_open_too() -> None:
    text = TEMPLATE.replace(
        "    Type: AWS::IAM::Role\n", "    Type: AWS::IAM::Role\n    Condition: IsGold\n"
    )
    kinds = {(u.address, u.trust) for u in read(text).unknowns}
    assert kinds == {("Resources.TaskRole", False), ("Resources.TaskRole", True)}


def test_two_roles_of_one_name_the_one_created_is_read() -> None:
    text = TEMPLATE.replace(
        "Resources:\n",
        "Resources:\n"
        "  DevRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Condition: IsDev\n"
        "    Properties:\n"
        "      RoleName: MLPlatformECSTaskRole\n"
        "      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n",
    )
    source = read(text)
    assert source.role_place is not None
    assert source.role_place.address == "Resources.TaskRole"


def test_fn_if_takes_its_branch_and_no_value_removes_an_item() -> None:
    text = TEMPLATE.replace(
        "            Resource: !GetAtt JobsTable.Arn\n",
        "            Resource: !If [IsDev, '*', !GetAtt JobsTable.Arn]\n"
        "          - !If\n"
        "            - IsDev\n"
        "            - {Effect: Allow, Action: 'dynamodb:*', Resource: '*'}\n"
        "            - !Ref AWS::NoValue\n",
    )
    [policy] = read(text).policies
    assert policy.document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Jobs",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": TABLE_ARN,
            }
        ],
    }


def test_fn_if_on_an_open_condition_leaves_the_document_open() -> None:
    text = TEMPLATE.replace(
        "            Resource: !GetAtt JobsTable.Arn\n",
        "            Resource: !If [IsGold, '*', !GetAtt JobsTable.Arn]\n",
    )
    source = read(text)
    [policy] = source.policies
    assert policy.document is None
    [unknown] = source.unknowns
    assert "condition IsGold cannot be decided" in unknown.why


def test_an_attachment_under_an_open_fn_if_is_open() -> None:
    text = TEMPLATE.replace(
        "        - !Ref TaskPolicy\n",
        "        - !Ref TaskPolicy\n        - !If [IsGold, !Ref TaskPolicy, !Ref AWS::NoValue]\n",
    )
    source = read(text)
    assert names(source) == ["MLPlatformECSTaskPolicy"]
    [unknown] = source.unknowns
    assert unknown.attribute.startswith("ManagedPolicyArns (Resources.TaskRole")


def test_the_role_arn_carries_its_path() -> None:
    text = TEMPLATE.replace("Action: [dynamodb:GetItem]", "Action: [iam:PassRole]").replace(
        "Resource: !GetAtt JobsTable.Arn", "Resource: !GetAtt TaskRole.Arn"
    )
    source = read(text)
    assert source.role_path == "/ml-platform/"
    [policy] = source.policies
    assert policy.document is not None
    resource = policy.document["Statement"][0]["Resource"]
    assert resource == f"arn:aws:iam::{ACCOUNT}:role/ml-platform/{ROLE}"


def test_the_conditions_follow_the_target() -> None:
    """AWS::Region is the target's: the same template reads differently per region."""
    text = (TEMPLATE + EXTRA.format(condition="InEu")).replace(
        "Conditions:\n", "Conditions:\n  InEu: !Equals [!Ref 'AWS::Region', eu-west-1]\n"
    )
    eu = dataclasses.replace(TARGET, region="eu-west-1")
    assert names(read(text)) == ["MLPlatformECSTaskPolicy"]
    assert names(read_text(text, Path("t.yaml"), eu)) == ["MLPlatformECSTaskPolicy", "DevScans"]
