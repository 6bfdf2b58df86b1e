"""Condition operators: every family, negation, IfExists, Null, set operators, absent keys."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.conditions import (
    ConditionResult,
    ConditionState,
    evaluate_conditions,
)
from iam_compliance.engine.evaluate.variables import substitute_variables
from iam_compliance.engine.policy import Condition, parse_policy

from conftest import VPC_ENDPOINT

HOLDS = ConditionState.HOLDS
FAILS = ConditionState.DOES_NOT_HOLD
UNDECIDED = ConditionState.UNDECIDED

#: A caller's role (not the task role), as an aws:PrincipalArn value.
PRINCIPAL_ARN = "arn:aws:iam::618574523116:role/ml-platform-task"


def conditions(block: dict[str, Any], version: str = "2012-10-17") -> tuple[Condition, ...]:
    """The parsed conditions of a one-statement policy with ``block`` as its Condition."""
    document = {
        "Version": version,
        "Statement": {
            "Effect": "Allow",
            "Action": "dynamodb:Scan",
            "Resource": "*",
            "Condition": block,
        },
    }
    return parse_policy(document, name="Conditions", version="v1").statements[0].conditions


def check(block: dict[str, Any], context: dict[str, list[str]] | None) -> ConditionResult:
    return evaluate_conditions(conditions(block), context)


CASES = [
    # --- String --------------------------------------------------------------------
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"aws:SourceVpce": [VPC_ENDPOINT]},
        HOLDS,
        id="string-equals-match",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"aws:SourceVpce": ["vpce-other"]},
        FAILS,
        id="string-equals-mismatch",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"aws:SourceVpce": [VPC_ENDPOINT.upper()]},
        FAILS,
        id="string-equals-values-are-case-sensitive",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"AWS:SOURCEVPCE": [VPC_ENDPOINT]},
        HOLDS,
        id="condition-keys-are-case-insensitive",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        None,
        FAILS,
        id="string-equals-absent-key-is-false",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}},
        {"aws:SourceVpce": ["vpce-2"]},
        HOLDS,
        id="several-values-are-ored",
    ),
    pytest.param(
        {"StringNotEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}},
        {"aws:SourceVpce": ["vpce-2"]},
        FAILS,
        id="string-not-equals-fails-when-any-value-matches",
    ),
    pytest.param(
        {"StringNotEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}},
        {"aws:SourceVpce": ["vpce-3"]},
        HOLDS,
        id="string-not-equals-holds-when-no-value-matches",
    ),
    pytest.param(
        {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},
        {},
        HOLDS,
        id="string-not-equals-absent-key-is-true",
    ),
    pytest.param(
        {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "ML-Platform"}},
        {"aws:PrincipalTag/team": ["ml-platform"]},
        HOLDS,
        id="string-equals-ignore-case-match",
    ),
    pytest.param(
        {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "ML-Platform"}},
        {"aws:PrincipalTag/team": ["ml-PLATFORM"]},
        FAILS,
        id="string-not-equals-ignore-case-present",
    ),
    pytest.param(
        {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "ML-Platform"}},
        {},
        HOLDS,
        id="string-not-equals-ignore-case-absent-is-true",
    ),
    pytest.param(
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ml-*"}},
        {"aws:PrincipalArn": [PRINCIPAL_ARN]},
        HOLDS,
        id="string-like-star",
    ),
    pytest.param(
        {"StringLike": {"aws:PrincipalTag/env": "pro?"}},
        {"aws:PrincipalTag/env": ["prod"]},
        HOLDS,
        id="string-like-question-mark-matches-one-character",
    ),
    pytest.param(
        {"StringLike": {"aws:PrincipalTag/env": "pro?"}},
        {"aws:PrincipalTag/env": ["production"]},
        FAILS,
        id="string-like-question-mark-matches-only-one-character",
    ),
    pytest.param(
        {"StringLike": {"aws:PrincipalTag/env": "Prod*"}},
        {"aws:PrincipalTag/env": ["production"]},
        FAILS,
        id="string-like-is-case-sensitive",
    ),
    pytest.param(
        {"StringNotLike": {"aws:PrincipalTag/env": ["dev*", "test*"]}},
        {"aws:PrincipalTag/env": ["prod"]},
        HOLDS,
        id="string-not-like-no-pattern-matches",
    ),
    pytest.param(
        {"StringNotLike": {"aws:PrincipalTag/env": ["dev*", "test*"]}},
        {"aws:PrincipalTag/env": ["test-3"]},
        FAILS,
        id="string-not-like-one-pattern-matches",
    ),
    pytest.param(
        {"StringNotLike": {"aws:PrincipalTag/env": "dev*"}},
        {},
        HOLDS,
        id="string-not-like-absent-key-is-true",
    ),
    # --- IfExists ------------------------------------------------------------------
    pytest.param(
        {"StringEqualsIfExists": {"aws:SourceVpce": VPC_ENDPOINT}},
        {},
        HOLDS,
        id="if-exists-absent-key-is-true",
    ),
    pytest.param(
        {"StringEqualsIfExists": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"aws:SourceVpce": ["vpce-other"]},
        FAILS,
        id="if-exists-present-key-is-compared",
    ),
    pytest.param(
        {"NumericLessThanIfExists": {"dynamodb:Limit": "100"}},
        {},
        HOLDS,
        id="numeric-if-exists-absent-key-is-true",
    ),
    # --- Numeric -------------------------------------------------------------------
    pytest.param(
        {"NumericEquals": {"dynamodb:Limit": "10"}},
        {"dynamodb:Limit": ["10.0"]},
        HOLDS,
        id="numeric-equals-compares-numbers-not-text",
    ),
    pytest.param(
        {"NumericEquals": {"dynamodb:Limit": 10}},
        {"dynamodb:Limit": ["11"]},
        FAILS,
        id="numeric-equals-json-number-mismatch",
    ),
    pytest.param(
        {"NumericNotEquals": {"dynamodb:Limit": ["10", "20"]}},
        {"dynamodb:Limit": ["20"]},
        FAILS,
        id="numeric-not-equals-matching-one-value",
    ),
    pytest.param(
        {"NumericNotEquals": {"dynamodb:Limit": "10"}},
        {},
        HOLDS,
        id="numeric-not-equals-absent-key-is-true",
    ),
    pytest.param(
        {"NumericLessThan": {"dynamodb:Limit": "100"}},
        {"dynamodb:Limit": ["99"]},
        HOLDS,
        id="numeric-less-than",
    ),
    pytest.param(
        {"NumericLessThan": {"dynamodb:Limit": "100"}},
        {"dynamodb:Limit": ["100"]},
        FAILS,
        id="numeric-less-than-is-strict",
    ),
    pytest.param(
        {"NumericLessThanEquals": {"dynamodb:Limit": "100"}},
        {"dynamodb:Limit": ["100"]},
        HOLDS,
        id="numeric-less-than-equals",
    ),
    pytest.param(
        {"NumericGreaterThan": {"dynamodb:Limit": "1e2"}},
        {"dynamodb:Limit": ["100.5"]},
        HOLDS,
        id="numeric-greater-than-with-exponent",
    ),
    pytest.param(
        {"NumericGreaterThanEquals": {"dynamodb:Limit": "100"}},
        {"dynamodb:Limit": ["-5"]},
        FAILS,
        id="numeric-greater-than-equals-negative",
    ),
    pytest.param(
        {"NumericLessThan": {"dynamodb:Limit": "100"}},
        None,
        FAILS,
        id="numeric-less-than-absent-key-is-false",
    ),
    pytest.param(
        {"NumericEquals": {"dynamodb:Limit": "ten"}},
        {"dynamodb:Limit": ["10"]},
        UNDECIDED,
        id="numeric-non-numeric-policy-value-is-undecided",
    ),
    pytest.param(
        {"NumericEquals": {"dynamodb:Limit": "10"}},
        {"dynamodb:Limit": ["ten"]},
        UNDECIDED,
        id="numeric-non-numeric-request-value-is-undecided",
    ),
    # --- Date ----------------------------------------------------------------------
    pytest.param(
        {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"aws:CurrentTime": ["2029-12-31T23:59:59Z"]},
        HOLDS,
        id="date-less-than-iso",
    ),
    pytest.param(
        {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01"}},
        {"aws:CurrentTime": ["2029-12-31T23:59:59+00:00"]},
        FAILS,
        id="date-greater-than-date-only",
    ),
    pytest.param(
        {"DateEquals": {"aws:EpochTime": "1700000000"}},
        {"aws:EpochTime": ["2023-11-14T22:13:20Z"]},
        HOLDS,
        id="date-equals-epoch-seconds-against-iso",
    ),
    pytest.param(
        {"DateGreaterThanEquals": {"aws:CurrentTime": "2024-06-01T12:00:00+02:00"}},
        {"aws:CurrentTime": ["2024-06-01T10:00:00Z"]},
        HOLDS,
        id="date-greater-than-equals-across-time-zones",
    ),
    pytest.param(
        {"DateLessThanEquals": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
        {"aws:CurrentTime": ["1704067200"]},
        HOLDS,
        id="date-less-than-equals-epoch-request",
    ),
    pytest.param(
        {"DateNotEquals": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
        {},
        HOLDS,
        id="date-not-equals-absent-key-is-true",
    ),
    pytest.param(
        {"DateLessThan": {"aws:CurrentTime": "2024-13-45"}},
        {"aws:CurrentTime": ["2024-01-01T00:00:00Z"]},
        UNDECIDED,
        id="date-invalid-policy-value-is-undecided",
    ),
    pytest.param(
        {"DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
        {"aws:CurrentTime": ["yesterday"]},
        UNDECIDED,
        id="date-invalid-request-value-is-undecided",
    ),
    # --- Bool and Binary -----------------------------------------------------------
    pytest.param(
        {"Bool": {"aws:SecureTransport": True}},
        {"aws:SecureTransport": ["true"]},
        HOLDS,
        id="bool-json-true-matches-true",
    ),
    pytest.param(
        {"Bool": {"aws:SecureTransport": "false"}},
        {"aws:SecureTransport": ["true"]},
        FAILS,
        id="bool-mismatch",
    ),
    pytest.param(
        {"Bool": {"aws:SecureTransport": "true"}},
        None,
        FAILS,
        id="bool-absent-key-is-false",
    ),
    pytest.param(
        {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
        None,
        HOLDS,
        id="bool-if-exists-absent-key-is-true",
    ),
    pytest.param(
        {"Bool": {"aws:SecureTransport": "yes"}},
        {"aws:SecureTransport": ["true"]},
        UNDECIDED,
        id="bool-invalid-policy-value-is-undecided",
    ),
    pytest.param(
        {"BinaryEquals": {"dynamodb:Key": "QmluYXJ5"}},
        {"dynamodb:Key": ["QmluYXJ5"]},
        HOLDS,
        id="binary-equals-match",
    ),
    pytest.param(
        {"BinaryEquals": {"dynamodb:Key": "QmluYXJ5"}},
        {"dynamodb:Key": ["T3RoZXI="]},
        FAILS,
        id="binary-equals-mismatch",
    ),
    pytest.param(
        {"BinaryEquals": {"dynamodb:Key": "not base64!"}},
        {"dynamodb:Key": ["QmluYXJ5"]},
        UNDECIDED,
        id="binary-invalid-base64-is-undecided",
    ),
    # --- IP addresses --------------------------------------------------------------
    pytest.param(
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceIp": ["10.20.30.40"]},
        HOLDS,
        id="ip-address-inside-cidr",
    ),
    pytest.param(
        {"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "10.0.0.0/8"]}},
        {"aws:SourceIp": ["172.16.0.1"]},
        FAILS,
        id="ip-address-outside-every-cidr",
    ),
    pytest.param(
        {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
        {"aws:SourceIp": ["2001:db8::1"]},
        HOLDS,
        id="ip-address-ipv6",
    ),
    pytest.param(
        {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
        {"aws:SourceIp": ["10.0.0.1"]},
        FAILS,
        id="ip-address-ipv4-never-in-ipv6-block",
    ),
    pytest.param(
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceIp": ["10.1.2.3"]},
        FAILS,
        id="not-ip-address-inside",
    ),
    pytest.param(
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {},
        HOLDS,
        id="not-ip-address-absent-key-is-true",
    ),
    pytest.param(
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}},
        {"aws:SourceIp": ["10.0.0.1"]},
        UNDECIDED,
        id="ip-address-invalid-cidr-is-undecided",
    ),
    pytest.param(
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceIp": ["10.0.0.999"]},
        UNDECIDED,
        id="not-ip-address-invalid-request-ip-is-undecided",
    ),
    # --- ARNs ----------------------------------------------------------------------
    pytest.param(
        {"ArnEquals": {"aws:PrincipalArn": PRINCIPAL_ARN}},
        {"aws:PrincipalArn": [PRINCIPAL_ARN]},
        HOLDS,
        id="arn-equals-exact",
    ),
    pytest.param(
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ml-*"}},
        {"aws:PrincipalArn": [PRINCIPAL_ARN]},
        HOLDS,
        id="arn-like-wildcards-per-part",
    ),
    pytest.param(
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::618574523116:role/ML-*"}},
        {"aws:PrincipalArn": [PRINCIPAL_ARN]},
        FAILS,
        id="arn-like-is-case-sensitive",
    ),
    pytest.param(
        {"ArnLike": {"aws:SourceArn": "arn:aws:*:us-east-1:618574523116:table/x"}},
        {"aws:SourceArn": ["arn:aws:dynamodb:extra:us-east-1:618574523116:table/x"]},
        FAILS,
        id="arn-like-star-does-not-cross-a-colon-between-parts",
    ),
    pytest.param(
        {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"}},
        {"aws:PrincipalArn": [PRINCIPAL_ARN]},
        HOLDS,
        id="arn-not-like-no-match",
    ),
    pytest.param(
        {"ArnNotEquals": {"aws:PrincipalArn": PRINCIPAL_ARN}},
        {},
        HOLDS,
        id="arn-not-equals-absent-key-is-true",
    ),
    pytest.param(
        {"ArnLike": {"aws:PrincipalArn": "role/ml-*"}},
        {"aws:PrincipalArn": [PRINCIPAL_ARN]},
        UNDECIDED,
        id="arn-like-policy-value-not-an-arn-is-undecided",
    ),
    # --- Null ----------------------------------------------------------------------
    pytest.param(
        {"Null": {"aws:PrincipalTag/team": "true"}},
        {},
        HOLDS,
        id="null-true-absent-key-holds",
    ),
    pytest.param(
        {"Null": {"aws:PrincipalTag/team": "true"}},
        {"aws:PrincipalTag/team": ["ml"]},
        FAILS,
        id="null-true-present-key-fails",
    ),
    pytest.param(
        {"Null": {"aws:PrincipalTag/team": False}},
        {"aws:PrincipalTag/team": ["ml"]},
        HOLDS,
        id="null-false-present-key-holds",
    ),
    pytest.param(
        {"Null": {"aws:PrincipalTag/team": "false"}},
        {},
        FAILS,
        id="null-false-absent-key-fails",
    ),
    pytest.param(
        {"Null": {"aws:PrincipalTag/team": "maybe"}},
        {},
        UNDECIDED,
        id="null-invalid-value-is-undecided",
    ),
    # --- ForAllValues / ForAnyValue ------------------------------------------------
    pytest.param(
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {},
        HOLDS,
        id="for-all-values-absent-key-is-true",
    ),
    pytest.param(
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["team", "env"]},
        HOLDS,
        id="for-all-values-every-value-allowed",
    ),
    pytest.param(
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["team", "owner"]},
        FAILS,
        id="for-all-values-one-value-not-allowed",
    ),
    pytest.param(
        {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["admin"]}},
        {"aws:TagKeys": ["team", "env"]},
        HOLDS,
        id="for-all-values-negated-no-value-matches",
    ),
    pytest.param(
        {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}},
        {},
        FAILS,
        id="for-any-value-absent-key-is-false",
    ),
    pytest.param(
        {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}},
        {"aws:TagKeys": ["env", "team"]},
        HOLDS,
        id="for-any-value-one-value-matches",
    ),
    pytest.param(
        {"ForAnyValue:StringLike": {"aws:TagKeys": "cost-*"}},
        {"aws:TagKeys": ["env", "team"]},
        FAILS,
        id="for-any-value-no-value-matches",
    ),
    pytest.param(
        {"ForAnyValue:StringNotEqualsIfExists": {"aws:TagKeys": "team"}},
        {},
        FAILS,
        id="for-any-value-if-exists-absent-key-is-false",
    ),
    # --- several request values without a set operator ------------------------------
    pytest.param(
        {"StringLike": {"aws:TagKeys": "t*"}},
        {"aws:TagKeys": ["team", "tier"]},
        HOLDS,
        id="plain-operator-several-request-values-all-match",
    ),
    pytest.param(
        {"StringLike": {"aws:TagKeys": "t*"}},
        {"aws:TagKeys": ["team", "env"]},
        UNDECIDED,
        id="plain-operator-several-request-values-disagree",
    ),
    # --- combining -----------------------------------------------------------------
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT, "aws:PrincipalTag/team": "ml"}},
        {"aws:SourceVpce": [VPC_ENDPOINT], "aws:PrincipalTag/team": ["ml"]},
        HOLDS,
        id="several-keys-are-anded-all-hold",
    ),
    pytest.param(
        {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT, "aws:PrincipalTag/team": "ml"}},
        {"aws:SourceVpce": [VPC_ENDPOINT], "aws:PrincipalTag/team": ["web"]},
        FAILS,
        id="several-keys-are-anded-one-fails",
    ),
    pytest.param(
        {
            "StringEquals": {"aws:SourceVpce": VPC_ENDPOINT},
            "Bool": {"aws:SecureTransport": "true"},
        },
        {"aws:SourceVpce": [VPC_ENDPOINT], "aws:SecureTransport": ["false"]},
        FAILS,
        id="several-operators-are-anded",
    ),
    # --- what cannot be decided ----------------------------------------------------
    pytest.param(
        {"StringEqualsX": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"aws:SourceVpce": [VPC_ENDPOINT]},
        UNDECIDED,
        id="unknown-operator-is-undecided",
    ),
    pytest.param(
        {"stringequals": {"aws:SourceVpce": VPC_ENDPOINT}},
        {"aws:SourceVpce": [VPC_ENDPOINT]},
        UNDECIDED,
        id="operator-in-wrong-case-is-undecided",
    ),
    pytest.param(
        {"ForAllValues:Null": {"aws:TagKeys": "true"}},
        {},
        UNDECIDED,
        id="for-all-values-null-is-undecided",
    ),
    pytest.param(
        {"NullIfExists": {"aws:TagKeys": "true"}},
        {},
        UNDECIDED,
        id="null-if-exists-is-undecided",
    ),
    pytest.param(
        {
            "StringEqualsX": {"aws:SourceVpce": VPC_ENDPOINT},
            "Bool": {"aws:SecureTransport": "true"},
        },
        {"aws:SecureTransport": ["false"]},
        FAILS,
        id="undecided-and-false-is-false",
    ),
    pytest.param(
        {
            "StringEqualsX": {"aws:SourceVpce": VPC_ENDPOINT},
            "Bool": {"aws:SecureTransport": "true"},
        },
        {"aws:SecureTransport": ["true"]},
        UNDECIDED,
        id="undecided-and-true-is-undecided",
    ),
    # --- policy variables in values ------------------------------------------------
    pytest.param(
        {"StringEquals": {"aws:ResourceTag/owner": "${aws:PrincipalTag/team}"}},
        {"aws:ResourceTag/owner": ["ml"], "aws:PrincipalTag/team": ["ml"]},
        HOLDS,
        id="policy-variable-replaced-from-context",
    ),
    pytest.param(
        {"StringEquals": {"aws:ResourceTag/owner": "${aws:PrincipalTag/team}"}},
        {"aws:ResourceTag/owner": ["ml"]},
        FAILS,
        id="policy-variable-with-no-value-matches-nothing",
    ),
    pytest.param(
        {"StringEquals": {"aws:ResourceTag/owner": "${aws:PrincipalTag/team, 'ml'}"}},
        {"aws:ResourceTag/owner": ["ml"]},
        HOLDS,
        id="policy-variable-default-value",
    ),
    pytest.param(
        {"StringLike": {"aws:ResourceTag/owner": "team-${aws:PrincipalTag/team}"}},
        {"aws:ResourceTag/owner": ["team-mlx"], "aws:PrincipalTag/team": ["ml?"]},
        FAILS,
        id="policy-variable-value-is-literal-in-a-pattern",
    ),
    pytest.param(
        {"StringLike": {"aws:PrincipalTag/label": "a${*}b"}},
        {"aws:PrincipalTag/label": ["axb"]},
        FAILS,
        id="escaped-star-is-a-literal-star",
    ),
]


@pytest.mark.parametrize(("block", "context", "expected"), CASES)
def test_condition_outcome(
    block: dict[str, Any], context: dict[str, list[str]] | None, expected: ConditionState
) -> None:
    assert check(block, context).state is expected


def test_no_conditions_hold() -> None:
    assert evaluate_conditions((), None) == ConditionResult(HOLDS)


def test_unknown_operator_note_names_the_operator() -> None:
    result = check({"StringEqualsX": {"aws:SourceVpce": VPC_ENDPOINT}}, None)
    assert result.undecided
    assert not result.holds
    assert result.note is not None
    assert "StringEqualsX" in result.note


def test_malformed_value_note_names_operator_key_and_value() -> None:
    result = check({"NumericEquals": {"dynamodb:Limit": "ten"}}, {"dynamodb:Limit": ["10"]})
    assert result.note == "NumericEquals dynamodb:Limit: policy value 'ten' is not a number"


def test_keys_are_reported_as_written_once_each() -> None:
    block = {
        "StringEquals": {"aws:SourceVpce": VPC_ENDPOINT},
        "StringEqualsIfExists": {"aws:SourceVpce": VPC_ENDPOINT, "AWS:PrincipalTag/Team": "ml"},
    }
    assert check(block, None).keys == ("aws:SourceVpce", "AWS:PrincipalTag/Team")


def test_keys_include_policy_variable_keys() -> None:
    block = {"StringEquals": {"aws:ResourceTag/owner": "${aws:PrincipalTag/team}"}}
    context = {"aws:ResourceTag/owner": ["ml"], "aws:PrincipalTag/team": ["ml"]}
    assert check(block, context).keys == ("aws:ResourceTag/owner", "aws:PrincipalTag/team")


def test_a_bare_string_context_value_is_one_value() -> None:
    block = {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}}
    result = evaluate_conditions(conditions(block), {"aws:SourceVpce": VPC_ENDPOINT})
    assert result.holds


def test_policy_variables_are_plain_text_in_old_policy_versions() -> None:
    block = {"StringEquals": {"aws:ResourceTag/owner": "${aws:PrincipalTag/team}"}}
    old = conditions(block, version="2008-10-17")
    context = {"aws:ResourceTag/owner": ["${aws:PrincipalTag/team}"]}
    assert evaluate_conditions(old, context, policy_variables=False).holds


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        pytest.param("table/${aws:username}", False, "table/alice", id="plain-text"),
        pytest.param("table/${aws:username}", True, "table/alice", id="pattern"),
        pytest.param("a${*}b${?}c${$}", False, "a*b?c$", id="escapes-as-text"),
        pytest.param("a${*}b", True, "a${*}b", id="escapes-kept-in-pattern"),
        pytest.param("${aws:userid, 'none'}", False, "none", id="default-value"),
    ],
)
def test_substitute_variables(text: str, pattern: bool, expected: str) -> None:
    substitution = substitute_variables(text, {"aws:username": ["alice"]}, pattern=pattern)
    assert substitution.text == expected


def test_substitute_variables_refuses_a_multivalued_key() -> None:
    substitution = substitute_variables(
        "${aws:TagKeys}", {"aws:TagKeys": ["a", "b"]}, pattern=False
    )
    assert substitution.text is None
    assert substitution.note is not None
    assert "2 values" in substitution.note
