"""IAM wildcard patterns: actions, resource ARNs, ArnLike part by part, escapes."""

from __future__ import annotations

import pytest

from iam_compliance.engine.matching import (
    has_wildcard,
    is_arn_shaped,
    matches_action,
    matches_arn,
    matches_like,
    matches_resource,
)

from conftest import ACCOUNT, TABLE_ARN

KELVIN = "\u212a"  # KELVIN SIGN, which Unicode case folding turns into "k"
LONG_S = "\u017f"  # LATIN SMALL LETTER LONG S, which Unicode case folding turns into "s"


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        pytest.param("dynamodb:Scan", "dynamodb:Scan", True, id="exact"),
        pytest.param("dynamodb:Scan", "DynamoDB:SCAN", True, id="case-insensitive"),
        pytest.param("DYNAMODB:scan", "dynamodb:Scan", True, id="pattern-case-insensitive"),
        pytest.param("dynamodb:*", "dynamodb:Scan", True, id="service-wildcard"),
        pytest.param("*", "s3:GetObject", True, id="star"),
        pytest.param("dynamodb:*Item", "dynamodb:GetItem", True, id="infix-star"),
        pytest.param("dynamodb:*Item", "dynamodb:Scan", False, id="infix-star-no-match"),
        pytest.param("dynamodb:?etItem", "dynamodb:GetItem", True, id="question-mark"),
        pytest.param("dynamodb:?etItem", "dynamodb:etItem", False, id="question-mark-needs-one"),
        pytest.param("dynamodb:Get", "dynamodb:GetItem", False, id="whole-name-only"),
        pytest.param("dynamodb:Scan", "s3:Scan", False, id="other-service"),
        pytest.param("s3:Get.bject", "s3:GetObject", False, id="dot-is-literal"),
        pytest.param("s3:getkey", f"s3:Get{KELVIN}ey", False, id="kelvin-sign-is-not-k"),
        pytest.param(f"s3:Get{KELVIN}ey", "s3:getkey", False, id="k-is-not-kelvin-sign"),
        pytest.param("s3:GetObject", f"{LONG_S}3:GetObject", False, id="long-s-is-not-s"),
    ],
)
def test_matches_action(pattern: str, action: str, expected: bool) -> None:
    assert matches_action(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        pytest.param(TABLE_ARN, TABLE_ARN, True, id="exact"),
        pytest.param(TABLE_ARN, TABLE_ARN.replace("ml-jobs", "ML-JOBS"), False, id="case-counts"),
        pytest.param(TABLE_ARN.upper(), TABLE_ARN, False, id="pattern-case-counts"),
        pytest.param("*", TABLE_ARN, True, id="star"),
        pytest.param(f"{TABLE_ARN}*", f"{TABLE_ARN}-archive", True, id="prefix"),
        pytest.param(f"{TABLE_ARN}*", TABLE_ARN, True, id="star-matches-nothing"),
        pytest.param("arn:aws:dynamodb:*:table/ml-jobs", TABLE_ARN, True, id="star-crosses-colons"),
        pytest.param(
            "arn:aws:dynamodb:*/ml-jobs", TABLE_ARN, False, id="mid-segment-star-stops-at-colon"
        ),
        pytest.param(
            f"{TABLE_ARN}/*", f"{TABLE_ARN}/index/by-status", True, id="star-crosses-slashes"
        ),
        pytest.param(f"{TABLE_ARN[:-1]}?", TABLE_ARN, True, id="question-mark-one-char"),
        pytest.param(f"{TABLE_ARN}?", TABLE_ARN, False, id="question-mark-not-zero-chars"),
        pytest.param(f"{TABLE_ARN[:-2]}?", TABLE_ARN, False, id="question-mark-not-two-chars"),
        pytest.param("arn:aws:s3:::b/a*", "arn:aws:s3:::b/a\nb", True, id="star-matches-newline"),
        pytest.param("arn:aws:s3:::b/a?b", "arn:aws:s3:::b/a\nb", True, id="question-newline"),
        pytest.param("arn:aws:s3:::b/a.b", "arn:aws:s3:::b/axb", False, id="dot-is-literal"),
        pytest.param("arn:aws:s3:::b/[ab]", "arn:aws:s3:::b/a", False, id="brackets-literal"),
        pytest.param("arn:aws:s3:::b/(x)+", "arn:aws:s3:::b/(x)+", True, id="regex-chars-literal"),
        pytest.param(TABLE_ARN, f"{TABLE_ARN}\n", False, id="no-trailing-newline"),
    ],
)
def test_matches_resource(pattern: str, arn: str, expected: bool) -> None:
    assert matches_resource(pattern, arn) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        pytest.param("a${*}", "a*", True, id="escaped-star-is-a-star"),
        pytest.param("a${*}", "ab", False, id="escaped-star-is-no-wildcard"),
        pytest.param("a${?}", "a?", True, id="escaped-question-mark"),
        pytest.param("a${?}", "ab", False, id="escaped-question-mark-is-no-wildcard"),
        pytest.param("a${$}", "a$", True, id="escaped-dollar"),
        pytest.param("a${$}b", "a${$}b", False, id="escaped-dollar-is-one-char"),
        pytest.param("${*}*", "*anything", True, id="escape-then-wildcard"),
        pytest.param("a${aws:username}", "a${aws:username}", True, id="variable-compared-as-text"),
        pytest.param("a${aws:username}", "abob", False, id="variable-is-not-substituted"),
    ],
)
def test_escapes_are_literals(pattern: str, value: str, expected: bool) -> None:
    assert matches_resource(pattern, value) is expected
    assert matches_like(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        pytest.param("vpc-*", "vpc-1234", True, id="prefix"),
        pytest.param("vpc-*", "VPC-1234", False, id="case-counts"),
        pytest.param("vpc-????", "vpc-1234", True, id="question-marks"),
    ],
)
def test_matches_like_follows_the_resource_rules(pattern: str, value: str, expected: bool) -> None:
    assert matches_like(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        pytest.param(TABLE_ARN, TABLE_ARN, True, id="exact"),
        pytest.param(f"arn:aws:dynamodb:*:{ACCOUNT}:table/ml-jobs", TABLE_ARN, True, id="region"),
        pytest.param("arn:aws:dynamodb:*:*:table/*", TABLE_ARN, True, id="several-parts"),
        pytest.param(
            f"arn:aws:*:us-east-1:{ACCOUNT}:table/x",
            f"arn:aws:dynamodb:extra:us-east-1:{ACCOUNT}:table/x",
            False,
            id="star-stays-in-its-part",
        ),
        pytest.param(
            f"arn:aws:dynamodb:us-east-?:{ACCOUNT}:table/ml-jobs", TABLE_ARN, True, id="question"
        ),
        pytest.param(
            f"arn:aws:iam::{ACCOUNT}:role/*",
            f"arn:aws:iam::{ACCOUNT}:role/path:with:colons",
            True,
            id="last-part-holds-colons",
        ),
        pytest.param(
            f"arn:aws:iam::{ACCOUNT}:role/ml-*",
            f"arn:aws:iam::{ACCOUNT}:role/ML-jobs",
            False,
            id="case-counts",
        ),
        pytest.param("arn:aws:iam", "arn:aws:iam", False, id="pattern-not-an-arn"),
        pytest.param("*:*:*:*:*:*", "not-an-arn", False, id="value-not-an-arn"),
    ],
)
def test_matches_arn_part_by_part(pattern: str, arn: str, expected: bool) -> None:
    assert matches_arn(pattern, arn) is expected


def test_a_resource_star_reaches_where_an_arn_star_does_not() -> None:
    pattern = f"arn:aws:*:us-east-1:{ACCOUNT}:table/x"
    arn = f"arn:aws:dynamodb:extra:us-east-1:{ACCOUNT}:table/x"

    assert matches_resource(pattern, arn)
    assert not matches_arn(pattern, arn)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(TABLE_ARN, True, id="table"),
        pytest.param(f"arn:aws:iam::{ACCOUNT}:role/MLPlatformECSTaskRole", True, id="empty-region"),
        pytest.param("arn:aws:iam::role/x:y", True, id="six-parts-counting-the-last"),
        pytest.param("a:b:c:d:e:f:g", True, id="colons-in-the-last-part"),
        pytest.param("arn:aws:iam::role", False, id="five-parts"),
        pytest.param("vpc-1234", False, id="no-colons"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_arn_shaped(text: str, expected: bool) -> None:
    assert is_arn_shaped(text) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param(TABLE_ARN, False, id="plain"),
        pytest.param(f"{TABLE_ARN}*", True, id="star"),
        pytest.param(f"{TABLE_ARN[:-1]}?", True, id="question-mark"),
        pytest.param("arn:aws:s3:::b/${*}", False, id="escaped-star"),
        pytest.param("arn:aws:s3:::b/${?}", False, id="escaped-question-mark"),
        pytest.param("arn:aws:s3:::b/${$}", False, id="escaped-dollar"),
        pytest.param("arn:aws:s3:::b/${*}*", True, id="escaped-star-then-star"),
        pytest.param("arn:aws:s3:::b/${aws:username}", False, id="policy-variable"),
    ],
)
def test_has_wildcard(pattern: str, expected: bool) -> None:
    assert has_wildcard(pattern) is expected


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        pytest.param("s3:Get?bject", "dynamodb:GetItem", False, id="other-service-wildcard"),
        pytest.param("S3:Get?bject", "s3:GetObject", True, id="service-case"),
        pytest.param("s?:GetObject", "s3:GetObject", True, id="wildcard-in-service"),
        pytest.param("dynamodb:Get*", "DYNAMODB:getitem", True, id="prefix-case"),
        pytest.param("dynamodb:Get*", "dynamodb:Ge", False, id="prefix-longer-than-action"),
    ],
)
def test_action_shortcuts(pattern: str, action: str, expected: bool) -> None:
    assert matches_action(pattern, action) is expected
