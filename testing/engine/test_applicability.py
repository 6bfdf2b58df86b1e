"""engine/evaluate/applicability.py and the resource rules of engine/matching.py it relies on.

Which statements apply to a request: a ``*`` inside an ARN segment, matches that hold only
when letter case is ignored, policy variables with no value, and requirements on many
resources at once (``index/*``), where an Allow must cover every one of them and a Deny
needs to reach only one.
"""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.applicability import Request, scan
from iam_compliance.engine.matching import covers_resource, match_resource, overlaps_resource
from iam_compliance.engine.policy import Policy, parse_policy

from conftest import ACCOUNT, REGION, TABLE_ARN, VPC_ENDPOINT

INDEXES = f"{TABLE_ARN}/index/*"
BY_STATUS = f"{TABLE_ARN}/index/by-status"
QUERY = "dynamodb:Query"
#: How conftest's table ARN reads with the region or account in a wildcard.
HEAD = "arn:aws:dynamodb"


# --- Resource patterns against one ARN -----------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param(f"{HEAD}:*:table/ml-jobs", True, id="star-ending-a-segment-expands"),
        pytest.param(
            f"{HEAD}:{REGION}*:table/ml-jobs", True, id="star-last-in-region-segment-expands"
        ),
        pytest.param(f"{HEAD}:us-*6:table/ml-jobs", False, id="mid-segment-star-stops-at-colon"),
        pytest.param(f"{HEAD}:*1:{ACCOUNT}:table/ml-jobs", True, id="mid-segment-star-within"),
        pytest.param(f"{HEAD}:*/ml-jobs", False, id="mid-segment-star-cannot-reach-resource"),
        pytest.param(f"{HEAD}:{REGION}:*:table/*", True, id="star-segments"),
        pytest.param(f"{HEAD}:us-east-?:{ACCOUNT}:table/ml-jobs", True, id="question-mark"),
    ],
)
def test_a_star_inside_a_segment_does_not_cross_a_colon(pattern: str, expected: bool) -> None:
    # AWS, Resource element: "If the * wildcard is the last character of a resource ARN
    # segment, it can expand to match beyond the colon boundaries."
    assert match_resource(pattern, TABLE_ARN) == (expected, None)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        pytest.param(
            f"{HEAD}:US-EAST-1:{ACCOUNT}:table/ml-jobs",
            "only when letter case is ignored in the partition, service, region or account",
            id="region-case",
        ),
        pytest.param(
            f"arn:AWS:dynamodb:{REGION}:{ACCOUNT}:table/ml-jobs",
            "only when letter case is ignored",
            id="partition-case",
        ),
        pytest.param(
            f"arn:aws:DynamoDB:{REGION}:{ACCOUNT}:table/ml-jobs",
            "only when letter case is ignored",
            id="service-case",
        ),
        pytest.param(
            f"{HEAD}:us-east-1?{ACCOUNT}:table/ml-jobs",
            "only if a ? may stand for a colon",
            id="question-mark-for-a-colon",
        ),
    ],
)
def test_undocumented_matches_are_undecided(pattern: str, why: str) -> None:
    found, note = match_resource(pattern, TABLE_ARN)

    assert found is None
    assert note is not None
    assert why in note


def test_case_in_the_resource_part_is_a_plain_mismatch() -> None:
    # The table's name is case-sensitive, as AWS documents for resource names.
    assert match_resource(TABLE_ARN.replace("ml-jobs", "ML-Jobs"), TABLE_ARN) == (False, None)


# --- a requested pattern of resources -------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param(INDEXES, True, id="the-same-pattern"),
        pytest.param(f"{TABLE_ARN}/*", True, id="everything-under-the-table"),
        pytest.param(f"{TABLE_ARN}*", True, id="table-prefix"),
        pytest.param("*", True, id="star"),
        pytest.param(f"{HEAD}:*:table/ml-jobs/index/*", True, id="region-and-account-star"),
        pytest.param(BY_STATUS, False, id="one-index-is-not-every-index"),
        pytest.param(f"{TABLE_ARN}/index/by-*", False, id="some-indexes"),
        pytest.param(TABLE_ARN, False, id="the-table-is-not-its-indexes"),
        pytest.param(f"{TABLE_ARN}/stream/*", False, id="streams"),
        pytest.param(f"{HEAD}:US-EAST-1:{ACCOUNT}:table/ml-jobs/index/*", None, id="case"),
    ],
)
def test_covers_resource(pattern: str, expected: bool | None) -> None:
    assert covers_resource(pattern, INDEXES) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param(BY_STATUS, True, id="one-index"),
        pytest.param(f"{TABLE_ARN}/index/?y-status", True, id="question-mark"),
        pytest.param(f"{TABLE_ARN}/*", True, id="everything-under-the-table"),
        pytest.param(f"{HEAD}:*:table/ml-jobs/index/x", True, id="region-and-account-star"),
        pytest.param(TABLE_ARN, False, id="the-table-alone"),
        pytest.param(f"{TABLE_ARN}/stream/*", False, id="streams"),
        pytest.param(f"{TABLE_ARN}-archive/index/*", False, id="another-table"),
        pytest.param(f"{HEAD}:us-*6:table/ml-jobs/index/x", False, id="mid-segment-star"),
        pytest.param(f"{HEAD}:US-EAST-1:{ACCOUNT}:table/ml-jobs/index/x", None, id="case"),
    ],
)
def test_overlaps_resource(pattern: str, expected: bool | None) -> None:
    assert overlaps_resource(pattern, INDEXES) is expected


# --- scan(): which statements of a policy apply --------------------------------------


def policy(*statements: dict[str, Any], document_version: str = "2012-10-17") -> Policy:
    document = {"Version": document_version, "Statement": list(statements)}
    return parse_policy(document, name="MLPlatformECSTaskPolicy", kind="managed", version="v1")


def statement(effect: str, resource: Any = TABLE_ARN, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": effect, "Action": QUERY, **extra}
    if "NotResource" not in extra:
        body["Resource"] = resource
    return body


def request(
    resource: str = TABLE_ARN, context: dict[str, tuple[str, ...]] | None = None, **extra: Any
) -> Request:
    return Request(QUERY, resource, context or {}, **extra)


@pytest.mark.parametrize(
    ("found", "resource", "applies"),
    [
        pytest.param(statement("Allow", INDEXES), INDEXES, True, id="allow-covering-all"),
        pytest.param(statement("Allow", BY_STATUS), INDEXES, "none", id="allow-covering-one"),
        pytest.param(statement("Deny", BY_STATUS), INDEXES, True, id="deny-reaching-one"),
        pytest.param(statement("Deny", TABLE_ARN), INDEXES, "none", id="deny-reaching-none"),
        pytest.param(
            statement("Allow", NotResource=BY_STATUS), INDEXES, "none", id="allow-excluding-one"
        ),
        pytest.param(
            statement("Allow", NotResource=f"{TABLE_ARN}/stream/*"),
            INDEXES,
            True,
            id="allow-excluding-none",
        ),
        pytest.param(
            statement("Deny", NotResource=BY_STATUS), INDEXES, True, id="deny-excluding-only-one"
        ),
        pytest.param(
            statement("Deny", NotResource=f"{TABLE_ARN}/*"),
            INDEXES,
            "none",
            id="deny-excluding-all",
        ),
        pytest.param(
            statement("Allow", f"{HEAD}:US-EAST-1:{ACCOUNT}:table/ml-jobs"),
            TABLE_ARN,
            None,
            id="allow-matching-only-ignoring-case",
        ),
        pytest.param(
            statement("Deny", f"{HEAD}:US-EAST-1:{ACCOUNT}:table/ml-jobs"),
            TABLE_ARN,
            None,
            id="deny-matching-only-ignoring-case",
        ),
    ],
)
def test_scan_applies_statements_to_a_requested_pattern(
    found: dict[str, Any], resource: str, applies: bool | str | None
) -> None:
    result = scan(policy(found), request(resource))

    if applies == "none":
        assert result.matches == ()
    else:
        assert [match.applies for match in result.matches] == [applies]


def test_an_undecided_resource_match_says_why() -> None:
    result = scan(
        policy(statement("Allow", f"{HEAD}:US-EAST-1:{ACCOUNT}:table/ml-jobs")), request()
    )

    (match,) = result.matches
    assert match.evidence.note is not None
    assert "only when letter case is ignored" in match.evidence.note


def test_a_condition_that_fails_is_a_near_miss_naming_it() -> None:
    guarded = statement(
        "Allow", Sid="Jobs", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    )

    result = scan(policy(guarded), request(context={"aws:requestedregion": (REGION,)}))

    assert result.matches == ()
    (miss,) = result.near_misses
    assert miss.describe() == (
        'MLPlatformECSTaskPolicy v1, statement "Jobs" grants it only when aws:RequestedRegion is '
        "eu-west-1; this request's aws:RequestedRegion is us-east-1"
    )
    assert result.keys == ("aws:RequestedRegion",)


def test_a_deny_whose_condition_fails_is_no_near_miss() -> None:
    guarded = statement("Deny", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})

    result = scan(policy(guarded), request(context={"aws:requestedregion": (REGION,)}))

    assert (result.matches, result.near_misses) == ((), ())


def test_an_allow_on_another_resource_is_no_near_miss() -> None:
    guarded = statement(
        "Allow", f"{TABLE_ARN}-archive", Condition={"StringEquals": {"aws:SourceVpce": "v"}}
    )

    assert scan(policy(guarded), request()).near_misses == ()


def test_a_condition_on_an_assumed_absent_key_is_undecided_and_names_it() -> None:
    guarded = statement("Allow", Condition={"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}})

    result = scan(policy(guarded), request(unknown=frozenset({"aws:sourcevpce"})))

    (match,) = result.matches
    assert match.applies is None
    assert match.assumed == ("aws:SourceVpce",)


@pytest.mark.parametrize(
    ("context", "applies", "empty"),
    [
        pytest.param({}, "none", "aws:PrincipalTag/project", id="no-value-matches-nothing"),
        pytest.param(
            {"aws:principaltag/project": ("ml-jobs",)}, True, None, id="the-tag-names-the-table"
        ),
        pytest.param(
            {"aws:principaltag/project": ("other",)}, "none", None, id="the-tag-names-another"
        ),
    ],
)
def test_a_resource_variable_with_no_value_matches_nothing(
    context: dict[str, tuple[str, ...]], applies: bool | str, empty: str | None
) -> None:
    # AWS: "Policy variables with no value": the ARN matches no resource.
    grant = statement("Allow", f"{HEAD}:{REGION}:{ACCOUNT}:table/${{aws:PrincipalTag/project}}")

    result = scan(policy(grant), request(context=context))

    if applies == "none":
        assert result.matches == ()
    else:
        assert [match.applies for match in result.matches] == [applies]
    assert [e.key for e in result.empty_variables] == ([empty] if empty else [])


def test_a_resource_variable_assumed_absent_is_undecided() -> None:
    grant = statement("Allow", f"{HEAD}:{REGION}:{ACCOUNT}:table/${{aws:userid}}")

    result = scan(policy(grant), request(unknown=frozenset({"aws:userid"})))

    (match,) = result.matches
    assert match.applies is None
    assert result.empty_variables == ()


def test_a_deny_with_an_empty_variable_is_no_empty_grant() -> None:
    # A Deny whose Resource matches nothing denies nothing; only an Allow is reported.
    denial = statement("Deny", f"{HEAD}:{REGION}:{ACCOUNT}:table/${{aws:PrincipalTag/project}}")

    result = scan(policy(denial), request())

    assert (result.matches, result.empty_variables) == ((), ())


def test_variables_are_text_in_an_old_policy() -> None:
    grant = statement("Allow", f"{HEAD}:{REGION}:{ACCOUNT}:table/${{aws:PrincipalTag/project}}")

    result = scan(policy(grant, document_version="2008-10-17"), request())

    assert (result.matches, result.empty_variables) == ((), ())
