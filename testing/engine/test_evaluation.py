"""evaluate(): matching, Deny precedence, permissions boundaries, undecided conditions."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.applicability import Evidence
from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.policy import Policy, PolicyKind, RolePolicies, parse_policy

from conftest import TABLE_ARN, VPC_ENDPOINT

ARCHIVE = f"{TABLE_ARN}-archive"
SCAN = "dynamodb:Scan"
GET = "dynamodb:GetItem"
#: A Resource naming the table after the principal's "team" tag.
TEAM_TABLE = "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}"

ALLOWED = Decision.ALLOWED
EXPLICIT_DENY = Decision.EXPLICIT_DENY
IMPLICIT_DENY = Decision.IMPLICIT_DENY
BOUNDARY_DENY = Decision.BOUNDARY_DENY
UNDECIDED = Decision.UNDECIDED


def statement(
    effect: str, action: Any = SCAN, resource: Any = TABLE_ARN, **extra: Any
) -> dict[str, Any]:
    """A statement; ``extra`` may add Sid/Condition or swap in NotAction/NotResource."""
    body: dict[str, Any] = {"Effect": effect}
    if "NotAction" not in extra:
        body["Action"] = action
    if "NotResource" not in extra:
        body["Resource"] = resource
    body.update(extra)
    return body


def allow(action: Any = SCAN, resource: Any = TABLE_ARN, **extra: Any) -> dict[str, Any]:
    return statement("Allow", action, resource, **extra)


def deny(action: Any = SCAN, resource: Any = TABLE_ARN, **extra: Any) -> dict[str, Any]:
    return statement("Deny", action, resource, **extra)


def policy(
    *statements: dict[str, Any],
    name: str = "MLPlatformECSTaskPolicy",
    kind: PolicyKind = "managed",
    version: str | None = "v1",
    single: bool = False,
    document_version: str | None = "2012-10-17",
) -> Policy:
    """A parsed policy; ``single=True`` writes Statement as one object, not a list."""
    document: dict[str, Any] = {"Statement": statements[0] if single else list(statements)}
    if document_version:
        document["Version"] = document_version
    return parse_policy(
        document, name=name, kind=kind, version=None if kind == "inline" else version
    )


def inline(*statements: dict[str, Any], name: str = "jobs-extra") -> Policy:
    return policy(*statements, name=name, kind="inline")


def boundary(*statements: dict[str, Any], name: str = "PlatformBoundary") -> Policy:
    return policy(*statements, name=name, kind="boundary")


def role(*identity: Policy, bounded_by: Policy | None = None) -> RolePolicies:
    return RolePolicies(identity=identity, boundary=bounded_by)


def case(
    policies: RolePolicies,
    expected: Decision,
    *,
    action: str = SCAN,
    resource: str = TABLE_ARN,
    context: dict[str, list[str]] | None = None,
    id: str,
) -> Any:
    """One row of the decision table: by default, dynamodb:Scan on the ml-jobs table."""
    return pytest.param(policies, action, resource, context, expected, id=id)


UNKNOWN_CONDITION = {"StringEqualsX": {"aws:SourceVpce": VPC_ENDPOINT}}
VPC_CONDITION = {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}}
IN_VPC = {"aws:SourceVpce": [VPC_ENDPOINT]}

DECISIONS = [
    # --- shapes of the document ----------------------------------------------------
    case(role(policy(allow(), single=True)), ALLOWED, id="single-statement-object"),
    case(role(policy(allow(SCAN, TABLE_ARN))), ALLOWED, id="action-and-resource-as-strings"),
    case(
        role(policy(allow([GET, SCAN], [ARCHIVE, TABLE_ARN]))),
        ALLOWED,
        id="action-and-resource-as-lists",
    ),
    case(role(policy(allow([GET], [TABLE_ARN]))), IMPLICIT_DENY, id="action-not-in-list"),
    case(role(policy(allow(SCAN, ARCHIVE))), IMPLICIT_DENY, id="resource-not-in-list"),
    case(role(), IMPLICIT_DENY, id="no-identity-policies"),
    # --- action matching -----------------------------------------------------------
    case(
        role(policy(allow())),
        ALLOWED,
        action="DynamoDB:scan",
        id="requested-action-case-is-ignored",
    ),
    case(role(policy(allow("DYNAMODB:SCAN"))), ALLOWED, id="policy-action-case-is-ignored"),
    case(role(policy(allow("dynamodb:*"))), ALLOWED, id="service-wildcard-action"),
    case(role(policy(allow("*"))), ALLOWED, id="star-action"),
    case(
        role(policy(allow("dynamodb:*Item"))),
        ALLOWED,
        action=GET,
        id="infix-wildcard-action-matches",
    ),
    case(
        role(policy(allow("dynamodb:*Item"))),
        IMPLICIT_DENY,
        id="infix-wildcard-action-does-not-match",
    ),
    case(
        role(policy(allow("dynamodb:?etItem"))), ALLOWED, action=GET, id="question-mark-in-action"
    ),
    case(
        role(policy(allow("dynamodb:?can"))),
        IMPLICIT_DENY,
        action="dynamodb:Sscan",
        id="question-mark-in-action-is-one-character",
    ),
    case(role(policy(allow("s3:*"))), IMPLICIT_DENY, id="other-service-wildcard"),
    # --- resource matching ---------------------------------------------------------
    case(
        role(policy(allow(resource=TABLE_ARN.replace("ml-jobs", "ML-JOBS")))),
        IMPLICIT_DENY,
        id="resource-case-matters",
    ),
    case(role(policy(allow(resource="*"))), ALLOWED, id="star-resource"),
    case(
        role(policy(allow(resource="arn:aws:dynamodb:*"))),
        ALLOWED,
        id="resource-star-spans-colons-and-slashes",
    ),
    case(
        role(policy(allow(resource=f"{TABLE_ARN}*"))),
        ALLOWED,
        resource=ARCHIVE,
        id="resource-prefix-wildcard-reaches-other-tables",
    ),
    case(
        role(policy(allow(resource=TABLE_ARN[:-1] + "?"))), ALLOWED, id="question-mark-in-resource"
    ),
    case(
        role(policy(allow(resource=TABLE_ARN + "?"))),
        IMPLICIT_DENY,
        id="question-mark-in-resource-needs-a-character",
    ),
    case(
        role(policy(allow(resource=f"{TABLE_ARN}/index/*"))),
        IMPLICIT_DENY,
        id="index-pattern-does-not-cover-the-table",
    ),
    case(
        role(policy(allow(resource="arn:aws:dynamodb:us-east-1:*:table/ml-jobs${*}"))),
        IMPLICIT_DENY,
        id="escaped-star-in-resource-is-literal",
    ),
    # --- NotAction / NotResource ---------------------------------------------------
    case(
        role(policy(allow(NotAction="dynamodb:DeleteTable"))),
        ALLOWED,
        id="not-action-allow-covers-other-actions",
    ),
    case(
        role(policy(allow(NotAction=["dynamodb:Scan", "dynamodb:Query"]))),
        IMPLICIT_DENY,
        id="not-action-allow-excludes-listed-action",
    ),
    case(
        role(policy(allow("*"), deny(NotAction="dynamodb:GetItem"))),
        EXPLICIT_DENY,
        id="not-action-deny-denies-unlisted-action",
    ),
    case(
        role(policy(allow("*"), deny(NotAction="dynamodb:GetItem"))),
        ALLOWED,
        action=GET,
        id="not-action-deny-spares-listed-action",
    ),
    case(
        role(policy(allow(NotResource=ARCHIVE))),
        ALLOWED,
        id="not-resource-allow-covers-other-resources",
    ),
    case(
        role(policy(allow(NotResource=[ARCHIVE, TABLE_ARN]))),
        IMPLICIT_DENY,
        id="not-resource-allow-excludes-listed-resource",
    ),
    case(
        role(policy(allow(), deny(NotResource=ARCHIVE))),
        EXPLICIT_DENY,
        id="not-resource-deny-denies-unlisted-resource",
    ),
    case(
        role(policy(allow(resource="*"), deny(NotResource=TABLE_ARN))),
        ALLOWED,
        id="not-resource-deny-spares-listed-resource",
    ),
    # --- Deny precedence and combining policies ------------------------------------
    case(role(policy(allow(), deny())), EXPLICIT_DENY, id="deny-wins-in-same-policy"),
    case(
        role(policy(allow("dynamodb:*")), inline(deny(resource="*"))),
        EXPLICIT_DENY,
        id="inline-deny-wins-over-managed-allow",
    ),
    case(
        role(policy(deny()), inline(allow())),
        EXPLICIT_DENY,
        id="managed-deny-wins-over-inline-allow",
    ),
    case(role(policy(allow(GET)), inline(allow(SCAN))), ALLOWED, id="inline-allow-adds-to-managed"),
    case(
        role(policy(allow(GET)), policy(allow(SCAN), name="Other")),
        ALLOWED,
        id="second-managed-policy-allows",
    ),
    case(
        role(policy(deny(GET)), inline(allow(SCAN))),
        ALLOWED,
        id="deny-of-other-action-does-not-matter",
    ),
    # --- permissions boundary ------------------------------------------------------
    case(
        role(policy(allow()), bounded_by=boundary(allow("dynamodb:*", "*"))),
        ALLOWED,
        id="boundary-allows-too",
    ),
    case(
        role(policy(allow()), bounded_by=boundary(allow(GET))),
        BOUNDARY_DENY,
        id="boundary-lacks-an-allow",
    ),
    case(
        role(policy(allow()), bounded_by=boundary(allow("*", "*"), deny())),
        EXPLICIT_DENY,
        id="boundary-deny",
    ),
    case(
        role(policy(allow(GET)), bounded_by=boundary(allow("*", "*"))),
        IMPLICIT_DENY,
        id="boundary-allow-grants-nothing-by-itself",
    ),
    case(
        role(
            policy(allow("dynamodb:*")), inline(allow()), bounded_by=boundary(allow(SCAN, ARCHIVE))
        ),
        BOUNDARY_DENY,
        id="boundary-allows-another-table",
    ),
    # --- conditions ----------------------------------------------------------------
    case(
        role(policy(allow(Condition=VPC_CONDITION))),
        ALLOWED,
        context=IN_VPC,
        id="conditional-allow-holds",
    ),
    case(
        role(policy(allow(Condition=VPC_CONDITION))),
        IMPLICIT_DENY,
        id="conditional-allow-key-absent",
    ),
    case(
        role(policy(allow(), deny(Condition=VPC_CONDITION))),
        EXPLICIT_DENY,
        context=IN_VPC,
        id="conditional-deny-holds",
    ),
    case(
        role(policy(allow(), deny(Condition=VPC_CONDITION))),
        ALLOWED,
        id="conditional-deny-does-not-hold",
    ),
    case(
        role(policy(allow(), deny(Condition={"StringNotEquals": VPC_CONDITION["StringEquals"]}))),
        EXPLICIT_DENY,
        id="negated-deny-condition-holds-when-key-absent",
    ),
    case(
        role(policy(allow(Condition=VPC_CONDITION))),
        ALLOWED,
        context={"AWS:SOURCEVPCE": [VPC_ENDPOINT]},
        id="context-keys-are-case-insensitive",
    ),
    # --- undecided -----------------------------------------------------------------
    case(
        role(policy(allow(Condition=UNKNOWN_CONDITION))),
        UNDECIDED,
        context=IN_VPC,
        id="unknown-operator-allow-alone-is-undecided",
    ),
    case(
        role(policy(allow(Condition=UNKNOWN_CONDITION), allow(Sid="Plain"))),
        ALLOWED,
        id="unknown-operator-allow-beside-plain-allow",
    ),
    case(
        role(policy(allow(), deny(Condition=UNKNOWN_CONDITION))),
        UNDECIDED,
        id="unknown-operator-deny-is-undecided",
    ),
    case(
        role(policy(deny(Condition=UNKNOWN_CONDITION))),
        UNDECIDED,
        id="unknown-operator-deny-without-allow-is-undecided",
    ),
    case(
        role(policy(allow(), deny(Condition=UNKNOWN_CONDITION)), inline(deny())),
        EXPLICIT_DENY,
        id="explicit-deny-beats-undecided-deny",
    ),
    case(
        role(
            policy(
                allow(),
                deny(Condition={**UNKNOWN_CONDITION, **{"Bool": {"aws:SecureTransport": "false"}}}),
            )
        ),
        ALLOWED,
        context={"aws:SecureTransport": ["true"]},
        id="undecided-deny-ruled-out-by-a-false-condition",
    ),
    case(
        role(policy(allow()), bounded_by=boundary(allow(Condition=UNKNOWN_CONDITION))),
        UNDECIDED,
        id="undecided-boundary-allow",
    ),
    case(
        role(policy(allow()), bounded_by=boundary(allow(), deny(Condition=UNKNOWN_CONDITION))),
        UNDECIDED,
        id="undecided-boundary-deny",
    ),
    case(
        role(policy(allow(Condition=UNKNOWN_CONDITION)), bounded_by=boundary(allow(GET))),
        UNDECIDED,
        id="undecided-identity-allow-outranks-boundary-deny",
    ),
    case(
        role(policy(allow(Condition={"NumericLessThan": {"dynamodb:Limit": "x"}}))),
        UNDECIDED,
        context={"dynamodb:Limit": ["5"]},
        id="malformed-number-is-undecided",
    ),
    # --- policy variables in Resource ----------------------------------------------
    case(
        role(policy(allow(resource=TEAM_TABLE))),
        ALLOWED,
        context={"aws:PrincipalTag/team": ["ml-jobs"]},
        id="resource-variable-from-context",
    ),
    case(
        role(policy(allow(resource=TEAM_TABLE))),
        IMPLICIT_DENY,
        context={"aws:PrincipalTag/team": ["web"]},
        id="resource-variable-other-value",
    ),
    case(
        role(policy(allow(resource=TEAM_TABLE))),
        IMPLICIT_DENY,
        id="resource-variable-with-no-value-matches-nothing",
    ),
    case(
        role(
            policy(allow(resource="arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team, 'ml-jobs'}"))
        ),
        ALLOWED,
        id="resource-variable-default",
    ),
    case(
        role(policy(allow(), deny(resource=TEAM_TABLE))),
        ALLOWED,
        id="deny-whose-resource-variable-has-no-value-does-not-apply",
    ),
    case(
        role(
            policy(
                allow(resource=TEAM_TABLE),
                document_version="2008-10-17",
            )
        ),
        IMPLICIT_DENY,
        context={"aws:PrincipalTag/team": ["ml-jobs"]},
        id="no-variables-before-policy-version-2012",
    ),
]


@pytest.mark.parametrize(("policies", "action", "resource", "context", "expected"), DECISIONS)
def test_decision(
    policies: RolePolicies,
    action: str,
    resource: str,
    context: dict[str, list[str]] | None,
    expected: Decision,
) -> None:
    verdict = evaluate(policies, action, resource, context)
    assert verdict.decision is expected
    assert verdict.is_allowed is (expected is ALLOWED)
    assert (verdict.action, verdict.resource) == (action, resource)


@pytest.mark.parametrize(
    "operator",
    [
        pytest.param("StringEqualsX", id="made-up-operator"),
        pytest.param("stringequals", id="wrong-case"),
        pytest.param("ForAllValues:Null", id="set-operator-on-null"),
        pytest.param("NullIfExists", id="if-exists-on-null"),
        pytest.param("ForEveryValue:StringEquals", id="unknown-set-operator"),
    ],
)
def test_unsupported_operator_is_never_allowed(operator: str) -> None:
    condition = {operator: {"aws:SourceVpce": VPC_ENDPOINT}}
    verdict = evaluate(role(policy(allow(Condition=condition))), SCAN, TABLE_ARN, IN_VPC)
    assert verdict.decision is UNDECIDED
    assert not verdict.is_allowed
    assert verdict.undecided_by[0].note is not None
    assert operator in verdict.undecided_by[0].note


# --- reasons -----------------------------------------------------------------------

REASONS = [
    pytest.param(
        role(policy(allow(GET))),
        f"dynamodb:Scan is not allowed: no statement in MLPlatformECSTaskPolicy v1 allows it "
        f"on {TABLE_ARN}",
        id="implicit-deny",
    ),
    pytest.param(
        role(policy(allow(GET)), inline(allow(GET), name="extra")),
        f"dynamodb:Scan is not allowed: no statement in MLPlatformECSTaskPolicy v1 or inline "
        f"policy extra allows it on {TABLE_ARN}",
        id="implicit-deny-several-policies",
    ),
    pytest.param(
        role(),
        f"dynamodb:Scan is not allowed: the role has no identity policies, so nothing allows "
        f"it on {TABLE_ARN}",
        id="implicit-deny-no-policies",
    ),
    pytest.param(
        role(policy(allow(), deny(Sid="NoScan"))),
        'dynamodb:Scan is explicitly denied by MLPlatformECSTaskPolicy v1, statement "NoScan"',
        id="explicit-deny",
    ),
    pytest.param(
        role(policy(allow(Sid="DynamoDBJobs"))),
        'dynamodb:Scan is allowed by MLPlatformECSTaskPolicy v1, statement "DynamoDBJobs"',
        id="allowed",
    ),
    pytest.param(
        role(policy(allow(GET), allow())),
        "dynamodb:Scan is allowed by MLPlatformECSTaskPolicy v1, statement #2",
        id="allowed-by-unnamed-statement",
    ),
    pytest.param(
        role(policy(allow(Sid="Jobs")), bounded_by=boundary(allow("*", "*", Sid="All"))),
        'dynamodb:Scan is allowed by MLPlatformECSTaskPolicy v1, statement "Jobs" and by '
        'permissions boundary PlatformBoundary v1, statement "All"',
        id="allowed-with-boundary",
    ),
    pytest.param(
        role(policy(allow(Sid="Jobs", Condition=VPC_CONDITION))),
        'dynamodb:Scan is allowed by MLPlatformECSTaskPolicy v1, statement "Jobs" (its '
        "conditions on aws:SourceVpce hold)",
        id="allowed-conditionally",
    ),
    pytest.param(
        role(policy(allow()), bounded_by=boundary(allow(GET), name="B")),
        "dynamodb:Scan is allowed by the identity policies but not by permissions boundary "
        f"B v1: none of its statements allows it on {TABLE_ARN}",
        id="boundary-deny",
    ),
    pytest.param(
        role(policy(allow(), deny(Sid="Maybe", Condition=UNKNOWN_CONDITION))),
        "dynamodb:Scan could not be decided: whether the Deny in MLPlatformECSTaskPolicy v1, "
        "statement \"Maybe\" applies cannot be determined ('StringEqualsX' is not a supported "
        "condition operator)",
        id="undecided-deny",
    ),
    pytest.param(
        role(policy(allow(Sid="Maybe", Condition=UNKNOWN_CONDITION))),
        "dynamodb:Scan could not be decided: whether the Allow in MLPlatformECSTaskPolicy v1, "
        "statement \"Maybe\" applies cannot be determined ('StringEqualsX' is not a supported "
        "condition operator)",
        id="undecided-allow",
    ),
    pytest.param(
        role(policy(deny(Sid="Maybe", Condition=UNKNOWN_CONDITION))),
        "dynamodb:Scan could not be decided: whether the Deny in MLPlatformECSTaskPolicy v1, "
        "statement \"Maybe\" applies cannot be determined ('StringEqualsX' is not a supported "
        "condition operator); either way it is not allowed",
        id="undecided-but-denied-either-way",
    ),
]


@pytest.mark.parametrize(("policies", "reason"), REASONS)
def test_reason(policies: RolePolicies, reason: str) -> None:
    context = {"aws:SourceVpce": [VPC_ENDPOINT]}
    assert evaluate(policies, SCAN, TABLE_ARN, context).reason == reason


# --- evidence ----------------------------------------------------------------------


def test_allow_evidence_names_policy_statement_and_condition_keys() -> None:
    policies = role(
        policy(allow(Sid="DynamoDBJobs", Condition=VPC_CONDITION)),
        inline(allow("dynamodb:*")),
    )
    verdict = evaluate(policies, SCAN, TABLE_ARN, IN_VPC)
    assert verdict.allowed_by == (
        Evidence(
            "MLPlatformECSTaskPolicy v1",
            'statement "DynamoDBJobs"',
            "Allow",
            condition_keys=("aws:SourceVpce",),
        ),
        Evidence("inline policy jobs-extra", "statement #1", "Allow"),
    )
    assert not verdict.is_conditional
    assert verdict.deciding == verdict.allowed_by[0]


def test_deny_evidence_lists_identity_then_boundary_denies() -> None:
    policies = role(
        policy(allow(), deny(Sid="NoScan")),
        bounded_by=boundary(allow("*", "*"), deny("dynamodb:*", "*", Sid="ReadOnly")),
    )
    verdict = evaluate(policies, SCAN, TABLE_ARN)
    assert [(e.policy, e.statement, e.effect) for e in verdict.denied_by] == [
        ("MLPlatformECSTaskPolicy v1", 'statement "NoScan"', "Deny"),
        ("permissions boundary PlatformBoundary v1", 'statement "ReadOnly"', "Deny"),
    ]
    assert verdict.deciding == verdict.denied_by[0]
    assert verdict.boundary_allowed_by == (
        Evidence("permissions boundary PlatformBoundary v1", "statement #1", "Allow"),
    )


def test_undecided_evidence_carries_keys_and_note() -> None:
    condition = {**UNKNOWN_CONDITION, "Bool": {"aws:SecureTransport": "true"}}
    policies = role(policy(allow(), deny(Sid="Maybe", Condition=condition)))
    verdict = evaluate(policies, SCAN, TABLE_ARN, {"aws:SecureTransport": ["true"]})
    assert verdict.decision is UNDECIDED
    (evidence,) = verdict.undecided_by
    assert evidence.statement == 'statement "Maybe"'
    assert evidence.effect == "Deny"
    assert evidence.condition_keys == ("aws:SourceVpce", "aws:SecureTransport")
    assert evidence.note == "'StringEqualsX' is not a supported condition operator"
    assert verdict.deciding == evidence
    assert not verdict.denied_by


def test_undecided_allow_is_not_listed_once_another_allow_decides() -> None:
    policies = role(policy(allow(Condition=UNKNOWN_CONDITION), allow(Sid="Plain")))
    verdict = evaluate(policies, SCAN, TABLE_ARN)
    assert verdict.is_allowed
    assert verdict.undecided_by == ()
    assert [e.statement for e in verdict.allowed_by] == ['statement "Plain"']


def test_allowed_only_by_conditional_statements_is_conditional() -> None:
    policies = role(policy(allow(Condition=VPC_CONDITION)))
    verdict = evaluate(policies, SCAN, TABLE_ARN, IN_VPC)
    assert verdict.is_conditional
    assert verdict.allowed_by[0].describe() == (
        "MLPlatformECSTaskPolicy v1, statement #1 (conditions on aws:SourceVpce)"
    )


def test_resource_variable_keys_are_evidence() -> None:
    resource = TEAM_TABLE
    verdict = evaluate(
        role(policy(allow(resource=resource))),
        SCAN,
        TABLE_ARN,
        {"aws:PrincipalTag/team": ["ml-jobs"]},
    )
    assert verdict.allowed_by[0].condition_keys == ("aws:PrincipalTag/team",)


def test_context_value_given_as_a_bare_string() -> None:
    verdict = evaluate(
        role(policy(allow(Condition=VPC_CONDITION))),
        SCAN,
        TABLE_ARN,
        {"aws:SourceVpce": VPC_ENDPOINT},
    )
    assert verdict.is_allowed


def test_evidence_names_statements_by_position_without_sid() -> None:
    verdict = evaluate(role(policy(allow(GET), allow(GET), deny())), SCAN, TABLE_ARN)
    assert verdict.denied_by[0].statement == "statement #3"
