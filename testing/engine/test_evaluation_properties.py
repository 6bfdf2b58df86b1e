"""Properties of parse_policy and evaluate that must hold for every input."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.policy import Policy, PolicyKind, RolePolicies, parse_policy
from iam_compliance.errors import PolicyError

from conftest import TABLE_ARN

#: How many examples: the profile's (testing/conftest.py: "dev" by default, "ci" under CI).
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = [
    "dynamodb:Scan",
    "dynamodb:GetItem",
    "DynamoDB:SCAN",
    "dynamodb:*",
    "dynamodb:*Item",
    "dynamodb:?etItem",
    "dynamodb:Get*",
    "s3:GetObject",
    "*",
]
RESOURCES = [
    TABLE_ARN,
    f"{TABLE_ARN}*",
    f"{TABLE_ARN}/index/*",
    "arn:aws:dynamodb:us-east-1:618574523116:table/ml-jobs-archive",
    "arn:aws:dynamodb:*:*:table/ml-job?",
    "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}",
    "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team, 'ml-jobs'}",
    "arn:aws:s3:::bucket/*",
    "*",
]
OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "StringEqualsIfExists",
    "NumericLessThan",
    "NumericNotEquals",
    "DateGreaterThan",
    "DateNotEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnLike",
    "ArnNotEquals",
    "Null",
    "ForAllValues:StringEquals",
    "ForAnyValue:StringLike",
    "ForAnyValue:NumericEqualsIfExists",
    "ForAllValues:Null",
    "NullIfExists",
    "StringEqualsX",
]
KEYS = [
    "aws:SourceVpce",
    "AWS:sourcevpce",
    "aws:TagKeys",
    "aws:CurrentTime",
    "aws:SourceIp",
    "aws:SecureTransport",
    "aws:PrincipalArn",
    "aws:PrincipalTag/team",
    "dynamodb:Limit",
]
VALUES = [
    "vpce-1",
    "ml-jobs",
    "team",
    "10",
    "1e3",
    "ten",
    "true",
    "false",
    "2024-01-01T00:00:00Z",
    "1700000000",
    "10.0.0.0/8",
    "10.1.2.3",
    "not-an-ip",
    "arn:aws:iam::618574523116:role/ml-*",
    "QmluYXJ5",
    "${aws:PrincipalTag/team}",
    "a${*}b",
]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
condition_values = st.one_of(
    st.sampled_from(VALUES), st.integers(), st.booleans(), st.floats(), st.text(max_size=8)
)


def one_or_many(options: list[str]) -> st.SearchStrategy[Any]:
    """A string-or-list field, as documents may write it."""
    return st.sampled_from(options) | st.lists(st.sampled_from(options), min_size=1, max_size=3)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    body[draw(st.sampled_from(["Action", "NotAction"]))] = draw(one_or_many(ACTIONS))
    body[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(one_or_many(RESOURCES))
    # Most statements have no condition, so that many requests get a clear decision.
    if draw(st.integers(0, 2)) == 0:
        body["Condition"] = draw(
            st.dictionaries(
                st.sampled_from(OPERATORS),
                st.dictionaries(
                    st.sampled_from(KEYS),
                    condition_values | st.lists(condition_values, min_size=1, max_size=3),
                    min_size=1,
                    max_size=2,
                ),
                min_size=1,
                max_size=2,
            )
        )
    if draw(st.booleans()):
        body["Sid"] = draw(st.sampled_from(["Jobs", "NoScan", "Boundary1", "x"]))
    return body


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    items = draw(st.lists(statements(), min_size=1, max_size=3))
    if draw(st.booleans()):
        # A plain grant of the table, so that plenty of roles are allowed something.
        items.insert(0, {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN})
    document: dict[str, Any] = {
        "Statement": items[0] if len(items) == 1 and draw(st.booleans()) else items
    }
    version = draw(st.sampled_from(["2012-10-17", "2008-10-17", None]))
    if version:
        document["Version"] = version
    return document


def build(document: dict[str, Any], name: str, kind: PolicyKind) -> Policy:
    return parse_policy(document, name=name, kind=kind, version=None if kind == "inline" else "v1")


@st.composite
def roles(draw: st.DrawFn) -> RolePolicies:
    """Up to three identity policies and maybe a boundary, all valid."""
    kinds: list[PolicyKind] = draw(st.lists(st.sampled_from(["managed", "inline"]), max_size=2))
    identity = tuple(
        build(draw(documents()), f"P{index}", kind) for index, kind in enumerate(kinds)
    )
    boundary = build(draw(documents()), "B", "boundary") if draw(st.booleans()) else None
    return RolePolicies(identity, boundary)


contexts = st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=6),
    st.lists(st.sampled_from(VALUES) | st.text(max_size=6), max_size=3),
    max_size=4,
)
actions = st.sampled_from(["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem"])


def decide(policies: RolePolicies, action: str, context: dict[str, list[str]]) -> Decision:
    return evaluate(policies, action, TABLE_ARN, context).decision


def with_statement(policies: RolePolicies, statement: dict[str, Any], where: int) -> RolePolicies:
    """``policies`` plus ``statement``: in a new inline policy, an existing one, or the boundary."""
    if where == 0 or (where == 2 and policies.boundary is None) or not policies.identity:
        extra = build({"Version": "2012-10-17", "Statement": [statement]}, "Added", "inline")
        return RolePolicies((*policies.identity, extra), policies.boundary)
    if where == 2 and policies.boundary is not None:
        return RolePolicies(policies.identity, _extended(policies.boundary, statement))
    first, *rest = policies.identity
    return RolePolicies((_extended(first, statement), *rest), policies.boundary)


def _extended(policy: Policy, statement: dict[str, Any]) -> Policy:
    body = policy.document["Statement"]
    items = [body] if isinstance(body, dict) else list(body)
    document = {**policy.document, "Statement": [*items, statement]}
    return parse_policy(document, name=policy.name, kind=policy.kind, version=policy.version)


@FAST
@given(value=json_values)
def test_parse_policy_on_any_json_returns_a_policy_or_raises_policy_error(value: Any) -> None:
    for document in (value, json.dumps(value), {"Statement": value}):
        try:
            result = parse_policy(document, name="Fuzz")
        except PolicyError:
            continue
        assert isinstance(result, Policy)


@FAST
@given(text=st.text(max_size=60))
def test_parse_policy_on_any_text_returns_a_policy_or_raises_policy_error(text: str) -> None:
    try:
        result = parse_policy(text, name="Fuzz")
    except PolicyError:
        return
    assert isinstance(result, Policy)


@FAST
@given(
    document=documents(),
    context=contexts,
    action=actions | st.text(max_size=20),
    resource=st.sampled_from([TABLE_ARN, ""]) | st.text(max_size=20),
)
def test_evaluate_never_raises(
    document: dict[str, Any], context: dict[str, list[str]], action: str, resource: str
) -> None:
    policies = RolePolicies((build(document, "P", "managed"),))
    verdict = evaluate(policies, action, resource, context)
    assert verdict.reason
    if verdict.is_allowed:
        assert verdict.allowed_by
        assert not verdict.denied_by
        assert not verdict.undecided_by


@FAST
@given(
    policies=roles(),
    deny=statements(effect="Deny"),
    where=st.integers(0, 2),
    context=contexts,
    action=actions,
)
def test_adding_a_deny_never_allows_more(
    policies: RolePolicies,
    deny: dict[str, Any],
    where: int,
    context: dict[str, list[str]],
    action: str,
) -> None:
    if decide(policies, action, context) is not Decision.ALLOWED:
        assert (
            decide(with_statement(policies, deny, where), action, context) is not Decision.ALLOWED
        )


@FAST
@given(
    policies=roles(),
    allow=statements(effect="Allow"),
    where=st.integers(0, 2),
    context=contexts,
    action=actions,
)
def test_adding_an_allow_never_allows_less(
    policies: RolePolicies,
    allow: dict[str, Any],
    where: int,
    context: dict[str, list[str]],
    action: str,
) -> None:
    if decide(policies, action, context) is Decision.ALLOWED:
        assert decide(with_statement(policies, allow, where), action, context) is Decision.ALLOWED


@FAST
@given(policies=roles(), context=contexts, action=actions, data=st.data())
def test_order_of_statements_and_policies_does_not_matter(
    policies: RolePolicies, context: dict[str, list[str]], action: str, data: st.DataObject
) -> None:
    def shuffled(policy: Policy) -> Policy:
        body = policy.document["Statement"]
        items = [body] if isinstance(body, dict) else list(body)
        document = {**policy.document, "Statement": data.draw(st.permutations(items))}
        return parse_policy(document, name=policy.name, kind=policy.kind, version=policy.version)

    reordered = RolePolicies(
        tuple(shuffled(p) for p in data.draw(st.permutations(policies.identity))),
        None if policies.boundary is None else shuffled(policies.boundary),
    )
    assert decide(reordered, action, context) is decide(policies, action, context)


@FAST
@given(
    policies=roles(),
    context=contexts,
    action=st.from_regex(r"(dynamodb|s3):[A-Za-z]{1,12}", fullmatch=True),
    recase=st.sampled_from([str.upper, str.lower, str.swapcase, str.title]),
)
def test_case_of_the_action_does_not_matter(
    policies: RolePolicies, context: dict[str, list[str]], action: str, recase: Any
) -> None:
    assert decide(policies, recase(action), context) is decide(policies, action, context)
