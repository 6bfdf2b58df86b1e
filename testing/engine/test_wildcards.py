"""engine/wildcards.py: one linear-time matcher, checked against a plain reference.

The reference is the regular-expression translation the engine used before (exact, but
exponential on some patterns), run here on small patterns only, and the product walk it
used for overlaps. Hostile patterns that stalled that translation for minutes are
decided here; their time is measured in benchmarks/wildcards.py, not asserted.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iam_compliance.engine import matching
from iam_compliance.engine.evaluate.conditions import ConditionState, evaluate_conditions
from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.matching import (
    covers_resource,
    match_like_prefix,
    match_resource,
    matches_action,
    matches_arn,
    matches_like,
    overlaps_resource,
)
from iam_compliance.engine.policy import Condition, RolePolicies, parse_policy

from conftest import ACCOUNT, ROLE_ARN, TABLE_ARN

# --- the reference -----------------------------------------------------------------

_TOKEN = re.compile(r"\$\{[*?$]\}|[*?]")
_ESCAPED = {"${*}": "*", "${?}": "?", "${$}": "$"}


def reference_regex(pattern: str, *, segments: bool, loose: bool) -> re.Pattern[str]:
    """``pattern`` as a regular expression: ``segments`` keeps a ``*`` in its segment
    unless it ends one; ``loose`` lets a ``?`` match a colon there."""
    parts: list[str] = []
    position = 0
    for token in _TOKEN.finditer(pattern):
        parts.append(re.escape(pattern[position : token.start()]))
        text = token.group()
        last = token.end() == len(pattern) or pattern[token.end()] == ":"
        if text == "*":
            parts.append(".*" if last or not segments else "[^:]*")
        elif text == "?":
            parts.append("." if loose or not segments else "[^:]")
        else:
            parts.append(re.escape(_ESCAPED[text]))
        position = token.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts), re.DOTALL)


def reference_action(pattern: str, action: str) -> bool:
    regex = reference_regex(pattern, segments=False, loose=True)
    return re.fullmatch(regex.pattern, action, re.DOTALL | re.IGNORECASE | re.ASCII) is not None


def reference_resource(pattern: str, arn: str) -> bool | None:
    def fits(p: str, t: str, *, loose: bool) -> bool:
        return reference_regex(p, segments=True, loose=loose).fullmatch(t) is not None

    folded = matching._fold_head(pattern), matching._fold_head(arn)
    if fits(pattern, arn, loose=False):
        return True
    if fits(pattern, arn, loose=True) or (folded != (pattern, arn) and fits(*folded, loose=True)):
        return None
    return False


def reference_like(pattern: str, value: str) -> bool:
    return reference_regex(pattern, segments=False, loose=True).fullmatch(value) is not None


def reference_overlap(first: str, second: str) -> bool:
    """The product walk: a set of (position, position) pairs over a small alphabet."""
    a, b = _reference_tokens(first), _reference_tokens(second)
    alphabet = {str(v) for kind, v in (*a, *b) if kind == "lit"} | {":", "\ue000"}

    def step(tokens: list[tuple[str, object]], i: int, char: str) -> set[int]:
        if i >= len(tokens):
            return set()
        kind, value = tokens[i]
        if kind == "lit":
            return {i + 1} if value == char else set()
        if char == ":" and not value:
            return set()
        return {i + 1} if kind == "one" else {i}

    def close(states: set[tuple[int, int]]) -> set[tuple[int, int]]:
        found, todo = set(states), list(states)
        while todo:
            i, j = todo.pop()
            for state in (
                (i + 1, j) if i < len(a) and a[i][0] == "any" else None,
                (i, j + 1) if j < len(b) and b[j][0] == "any" else None,
            ):
                if state is not None and state not in found:
                    found.add(state)
                    todo.append(state)
        return found

    seen = close({(0, 0)})
    todo = list(seen)
    while todo:
        i, j = todo.pop()
        if (i, j) == (len(a), len(b)):
            return True
        for char in alphabet:
            after = close({(x, y) for x in step(a, i, char) for y in step(b, j, char)}) - seen
            seen |= after
            todo.extend(after)
    return False


def _reference_tokens(pattern: str) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    position = 0
    for token in _TOKEN.finditer(pattern):
        found.extend(("lit", c) for c in pattern[position : token.start()])
        text = token.group()
        if text == "*":
            found.append(("any", token.end() == len(pattern) or pattern[token.end()] == ":"))
        elif text == "?":
            found.append(("one", True))
        else:
            found.append(("lit", _ESCAPED[text]))
        position = token.end()
    found.extend(("lit", c) for c in pattern[position:])
    return found


# --- the matcher agrees with the reference ------------------------------------------

PATTERN = st.text("aAbB:/*?-$", max_size=12) | st.lists(
    st.sampled_from(["a", "B", ":", "/", "*", "?", "${*}", "${?}", "${$}", "$", "{", "}"]),
    max_size=10,
).map("".join)
TEXT = st.text("aAbB:/-*?${}", max_size=12)
#: How many examples: the profile's (testing/conftest.py: "dev" by default, "ci" under CI).
MANY = settings(deadline=None)


@MANY
@given(pattern=PATTERN, text=TEXT)
def test_actions_agree_with_the_reference(pattern: str, text: str) -> None:
    assert matches_action(pattern, text) is reference_action(pattern, text)


@MANY
@given(pattern=PATTERN, text=TEXT)
def test_resources_agree_with_the_reference(pattern: str, text: str) -> None:
    assert match_resource(pattern, text)[0] is reference_resource(pattern, text)


@MANY
@given(pattern=PATTERN.map(lambda p: "arn:" + p), text=TEXT.map(lambda t: "arn:" + t))
def test_arn_heads_fold_as_the_reference_does(pattern: str, text: str) -> None:
    assert match_resource(pattern, text)[0] is reference_resource(pattern, text)


@MANY
@given(pattern=PATTERN, text=TEXT)
def test_string_like_agrees_with_the_reference(pattern: str, text: str) -> None:
    assert matches_like(pattern, text) is reference_like(pattern, text)


@MANY
@given(
    parts=st.lists(st.text("aB*?", max_size=3), min_size=6, max_size=6),
    values=st.lists(st.text("aB", max_size=3), min_size=5, max_size=5),
    last=st.text("aB:", max_size=4),
)
def test_arn_like_agrees_with_the_reference_part_by_part(
    parts: list[str], values: list[str], last: str
) -> None:
    # only the last part of an ARN may hold colons
    pattern, arn = ":".join(parts), ":".join([*values, last])
    expected = all(reference_like(p, v) for p, v in zip(parts, [*values, last], strict=True))
    assert matches_arn(pattern, arn) is expected


@MANY
@given(first=PATTERN, second=PATTERN)
def test_overlaps_agree_with_the_product_walk(first: str, second: str) -> None:
    folded = matching._fold_head(first), matching._fold_head(second)
    expected = (
        True if reference_overlap(first, second) else None if reference_overlap(*folded) else False
    )
    assert overlaps_resource(first, second) is expected


@MANY
@given(pattern=PATTERN, requested=PATTERN)
def test_covering_agrees_with_the_reference(pattern: str, requested: str) -> None:
    # covers_resource checks three instances of the requested pattern: every wildcard
    # standing for nothing (each ? for one character), for a run no policy names, and for
    # such a run across a colon where the requested * may cross one
    results = [
        reference_resource(pattern, _reference_instance(requested, filler))
        for filler in ("", matching._STAND_IN, matching._ACROSS)
    ]
    expected = (
        True
        if all(r is True for r in results)
        else False
        if any(r is False for r in results)
        else None
    )
    assert covers_resource(pattern, requested) is expected


def _reference_instance(requested: str, filler: str) -> str:
    def instance(token: re.Match[str]) -> str:
        if token.group() != "*":
            return _ESCAPED.get(token.group(), matching._STAND_IN[0])
        last_of_segment = token.end() == len(requested) or requested[token.end()] == ":"
        return filler if last_of_segment or filler != matching._ACROSS else matching._STAND_IN

    return _TOKEN.sub(instance, requested)


def test_a_star_within_a_segment_does_not_cover_one_that_crosses_a_colon() -> None:
    # "?*" stands for "aa:b" too (its * ends the ARN, so it may cross a colon); "*?" cannot
    # match a colon: its * is followed by a ?, and a ? standing for a colon is undocumented.
    assert covers_resource("*?", "?*") is False
    assert covers_resource("?*", "?*") is True


# --- hostile patterns: decided, not stalled ------------------------------------------

LONG_ARN = "arn:aws:s3:::" + "a" * 1987


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("dynamodb:" + "*" * 24 + "x", "dynamodb:DescribeTable", False, id="stars-x"),
        pytest.param("dynamodb:" + "*" * 24 + "e", "dynamodb:DescribeTable", True, id="stars-e"),
        pytest.param("dynamodb:" + "*?" * 20 + "*b", "dynamodb:DescribeTable", False, id="star-q"),
        pytest.param("dynamodb:" + "*?" * 5 + "*e", "dynamodb:DescribeTable", True, id="fits"),
    ],
)
def test_hostile_action_patterns_are_decided(pattern: str, text: str, expected: bool) -> None:
    assert matches_action(pattern, text) is expected


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("*" * 50 + "x", LONG_ARN, (False, None), id="stars-x-long-arn"),
        # these stars are not last in their segment: they do not reach across a colon
        pytest.param("*" * 50 + "a", LONG_ARN, (False, None), id="stars-stay-in-segment"),
        pytest.param("arn:aws:s3:::" + "*" * 50 + "a", LONG_ARN, (True, None), id="stars-a"),
        pytest.param("arn:" + "*?" * 30 + "*x", TABLE_ARN, (False, None), id="star-q-arn"),
    ],
)
def test_hostile_resource_patterns_are_decided(
    pattern: str, text: str, expected: tuple[bool | None, str | None]
) -> None:
    assert match_resource(pattern, text) == expected


def test_a_hostile_overlap_is_decided() -> None:
    pattern = "arn:" + "*?" * 500 + "b"
    assert overlaps_resource(pattern, f"{TABLE_ARN}/index/*") is True
    # the pattern's 500 ? need 500 characters; one index name of one character has not
    assert overlaps_resource(pattern, f"{TABLE_ARN}/index/?") is False


def test_a_deny_with_a_hostile_action_pattern_is_decided() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN},
                {"Effect": "Deny", "Action": "dynamodb:" + "*" * 24 + "x", "Resource": "*"},
                {"Effect": "Deny", "Action": "dynamodb:" + "*?" * 20 + "*n", "Resource": "*"},
            ],
        },
        name="p",
    )
    policies = RolePolicies(identity=(policy,))

    # the first Deny needs a final "x", the second 21 characters or more and a final "n"
    for action in ("dynamodb:GetItem", "dynamodb:DescribeContributorInsights"):
        assert evaluate(policies, action, TABLE_ARN).decision is Decision.ALLOWED
    denied = evaluate(policies, "dynamodb:DescribeKinesisStreamingDestination", TABLE_ARN)
    assert denied.decision is Decision.EXPLICIT_DENY


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(ROLE_ARN, ConditionState.DOES_NOT_HOLD, id="no-match"),
        pytest.param(ROLE_ARN + "x", ConditionState.HOLDS, id="match"),
    ],
)
def test_a_hostile_string_like_condition_is_decided(value: str, expected: ConditionState) -> None:
    condition = Condition("StringLike", "aws:PrincipalArn", ("arn:" + "*" * 12 + "x",))

    assert evaluate_conditions([condition], {"aws:PrincipalArn": [value]}).state is expected


# --- a value known only by how it starts --------------------------------------------

ROLE_ID = "AROAEXAMPLEID"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("*", True, id="anything"),
        pytest.param(f"{ROLE_ID}:*", True, id="the-role-s-sessions"),
        pytest.param("AROA*", True, id="any-role"),
        pytest.param("AIDA*", False, id="a-user"),
        pytest.param(f"{ROLE_ID}X:*", False, id="another-role"),
        pytest.param(f"{ROLE_ID}:task-*", None, id="depends-on-the-session-name"),
        pytest.param(f"{ROLE_ID}:", None, id="no-session-name-is-not-known-absent"),
        pytest.param(f"*:{ACCOUNT}", None, id="depends-on-the-end"),
    ],
)
def test_match_like_prefix(pattern: str, expected: bool | None) -> None:
    assert match_like_prefix(pattern, f"{ROLE_ID}:") is expected


@MANY
@given(pattern=PATTERN, prefix=st.text("aB:", max_size=4), rests=st.lists(TEXT, max_size=6))
def test_a_decided_prefix_holds_for_every_rest(pattern: str, prefix: str, rests: list[str]) -> None:
    decided = match_like_prefix(pattern, prefix)
    if decided is None:
        return
    for rest in rests:
        assert reference_like(pattern, prefix + rest) is decided
