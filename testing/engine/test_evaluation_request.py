"""evaluate() for the real request: the table's resource policy, the requester, assumptions.

Each decision path of evaluation.py's docstring, with the documented same-account rules
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), the
case AWS leaves open (a grant to ``"*"`` under a boundary that does not allow), and keys
whose absence from the request is only assumed.
"""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import Verdict, evaluate
from iam_compliance.engine.evaluate.principals import Requester, RoleSession
from iam_compliance.engine.evaluate.request import build_context, derive_context
from iam_compliance.engine.policy import Policy, RolePolicies, parse_policy

from conftest import ACCOUNT, NOW, REGION, ROLE, ROLE_ARN, TABLE_ARN, VPC_ENDPOINT

SCAN = "dynamodb:Scan"
REQUESTER = RoleSession(ROLE_ARN, ACCOUNT, "AROAEXAMPLEROLEID1234")
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/ecs-task"
OTHER_ROOT = "arn:aws:iam::111122223333:root"

ALLOWED = Decision.ALLOWED
EXPLICIT_DENY = Decision.EXPLICIT_DENY
IMPLICIT_DENY = Decision.IMPLICIT_DENY
BOUNDARY_DENY = Decision.BOUNDARY_DENY
UNDECIDED = Decision.UNDECIDED


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def identity(*statements: dict[str, Any]) -> Policy:
    return parse_policy(
        document(*statements), name="MLPlatformECSTaskPolicy", kind="managed", version="v1"
    )


def boundary(*statements: dict[str, Any]) -> Policy:
    return parse_policy(document(*statements), name="Boundary", kind="boundary", version="v1")


def table_policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(document(*statements), name="table resource policy", kind="resource")


def allow(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": SCAN, "Resource": TABLE_ARN, **extra}


def deny(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": SCAN, "Resource": TABLE_ARN, **extra}


def to(principal: Any, effect: str = "Allow", sid: str = "Table", **extra: Any) -> dict[str, Any]:
    """A statement of the table's policy for ``principal``."""
    return {"Sid": sid, **(allow if effect == "Allow" else deny)(Principal=principal, **extra)}


GRANTS = identity(allow())
NOTHING = identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
OPEN_BOUNDARY = boundary({"Effect": "Allow", "Action": "*", "Resource": "*"})
CLOSED_BOUNDARY = boundary({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"})


def judged(
    policies: RolePolicies,
    resource_policy: Policy | None,
    requester: Requester | None = REQUESTER,
    context: dict[str, list[str]] | None = None,
) -> Verdict:
    return evaluate(
        policies, SCAN, TABLE_ARN, context, resource_policy=resource_policy, requester=requester
    )


def case(
    own: Policy,
    table: Policy | None,
    expected: Decision,
    *,
    bounded_by: Policy | None = None,
    id: str,
) -> Any:
    return pytest.param(RolePolicies((own,), bounded_by), table, expected, id=id)


DECISIONS = [
    # 1. an explicit Deny wins, wherever it is and however the table's policy names the role
    case(GRANTS, table_policy(to({"AWS": ROLE_ARN}, "Deny")), EXPLICIT_DENY, id="deny-the-role"),
    case(GRANTS, table_policy(to({"AWS": ROOT}, "Deny")), EXPLICIT_DENY, id="deny-account-root"),
    case(GRANTS, table_policy(to({"AWS": ACCOUNT}, "Deny")), EXPLICIT_DENY, id="deny-account-id"),
    case(GRANTS, table_policy(to("*", "Deny")), EXPLICIT_DENY, id="deny-everyone"),
    case(GRANTS, table_policy(to({"AWS": "*"}, "Deny")), EXPLICIT_DENY, id="deny-every-aws"),
    case(
        GRANTS,
        table_policy(to({"AWS": "AROAEXAMPLEROLEID1234"}, "Deny")),
        EXPLICIT_DENY,
        id="deny-the-role-s-unique-id",
    ),
    case(
        GRANTS,
        table_policy(to({"AWS": OTHER_ROOT}, "Deny")),
        ALLOWED,
        id="deny-another-account-does-not-apply",
    ),
    case(
        GRANTS,
        table_policy(to({"Service": "dynamodb.amazonaws.com"}, "Deny")),
        ALLOWED,
        id="deny-a-service-does-not-apply",
    ),
    case(
        identity(allow(), deny()),
        table_policy(to({"AWS": ROLE_ARN})),
        EXPLICIT_DENY,
        id="identity-deny-beats-a-table-grant",
    ),
    case(
        NOTHING,
        table_policy(to({"AWS": ROLE_ARN})),
        EXPLICIT_DENY,
        bounded_by=boundary({"Effect": "Allow", "Action": "*", "Resource": "*"}, deny()),
        id="boundary-deny-beats-a-table-grant",
    ),
    # 2. a Deny that might apply leaves it undecided
    case(GRANTS, table_policy(to({"AWS": SESSION}, "Deny")), UNDECIDED, id="deny-a-session"),
    case(
        GRANTS,
        table_policy(
            {"Sid": "NotUs", "Effect": "Deny", "NotPrincipal": {"AWS": OTHER_ROOT}}
            | {"Action": SCAN, "Resource": TABLE_ARN}
        ),
        UNDECIDED,
        id="deny-with-not-principal",
    ),
    # 3. allowed: by the identity policies, or by the table's grant to the role
    case(GRANTS, None, ALLOWED, id="identity-allow-no-table-policy"),
    case(GRANTS, table_policy(to({"AWS": OTHER_ROOT})), ALLOWED, id="grant-elsewhere-irrelevant"),
    case(NOTHING, table_policy(to({"AWS": ROLE_ARN})), ALLOWED, id="table-grants-the-role"),
    case(NOTHING, table_policy(to("*")), ALLOWED, id="table-grants-everyone"),
    case(NOTHING, table_policy(to({"AWS": "*"})), ALLOWED, id="table-grants-every-aws"),
    case(
        NOTHING,
        table_policy(to({"AWS": ROLE_ARN})),
        ALLOWED,
        bounded_by=OPEN_BOUNDARY,
        id="table-grants-the-role-within-the-boundary",
    ),
    case(
        NOTHING,
        table_policy(to("*")),
        ALLOWED,
        bounded_by=OPEN_BOUNDARY,
        id="table-grants-everyone-within-the-boundary",
    ),
    case(
        GRANTS,
        table_policy(to("*")),
        ALLOWED,
        bounded_by=OPEN_BOUNDARY,
        id="both-grant-within-the-boundary",
    ),
    # 4. undecided: a grant that might apply, or a case AWS does not document
    case(NOTHING, table_policy(to({"AWS": SESSION})), UNDECIDED, id="table-grants-a-session"),
    case(
        NOTHING,
        table_policy(to("*")),
        UNDECIDED,
        bounded_by=CLOSED_BOUNDARY,
        id="table-grants-everyone-outside-the-boundary",
    ),
    case(
        GRANTS,
        table_policy(to("*")),
        UNDECIDED,
        bounded_by=CLOSED_BOUNDARY,
        id="identity-and-everyone-outside-the-boundary",
    ),
    # 5. not allowed
    case(NOTHING, None, IMPLICIT_DENY, id="nothing-grants"),
    case(NOTHING, table_policy(to({"AWS": ROOT})), IMPLICIT_DENY, id="account-root-grants-nothing"),
    case(
        NOTHING, table_policy(to({"AWS": ACCOUNT})), IMPLICIT_DENY, id="account-id-grants-nothing"
    ),
    case(NOTHING, table_policy(to({"AWS": OTHER_ROOT})), IMPLICIT_DENY, id="grant-to-another"),
    case(
        NOTHING,
        table_policy(to({"AWS": ROLE_ARN})),
        BOUNDARY_DENY,
        bounded_by=CLOSED_BOUNDARY,
        id="grant-to-the-role-arn-is-limited-by-the-boundary",
    ),
    case(
        GRANTS,
        table_policy(to({"AWS": ROOT})),
        BOUNDARY_DENY,
        bounded_by=CLOSED_BOUNDARY,
        id="account-grant-delegates-to-the-bounded-role",
    ),
]


@pytest.mark.parametrize(("policies", "table", "expected"), DECISIONS)
def test_decision_with_the_table_s_policy(
    policies: RolePolicies, table: Policy | None, expected: Decision
) -> None:
    verdict = judged(policies, table)

    assert verdict.decision is expected
    assert verdict.is_allowed is (expected is ALLOWED)


def test_a_table_grant_is_evidence_naming_the_table_policy_and_statement() -> None:
    verdict = judged(RolePolicies((NOTHING,)), table_policy(to({"AWS": ROLE_ARN}, sid="Jobs")))

    assert verdict.reason == 'dynamodb:Scan is allowed by table resource policy, statement "Jobs"'
    assert [(e.policy, e.statement, e.effect) for e in verdict.resource_allowed_by] == [
        ("table resource policy", 'statement "Jobs"', "Allow")
    ]
    assert verdict.allowed_by == ()
    assert verdict.deciding is not None
    assert (verdict.deciding.policy, verdict.deciding.statement) == (
        "table resource policy",
        'statement "Jobs"',
    )
    assert not verdict.is_conditional


def test_a_table_deny_is_evidence_naming_the_table_policy_and_statement() -> None:
    verdict = judged(RolePolicies((GRANTS,)), table_policy(to({"AWS": ROOT}, "Deny", sid="No")))

    assert verdict.reason == (
        'dynamodb:Scan is explicitly denied by table resource policy, statement "No"'
    )
    assert [(e.policy, e.statement) for e in verdict.denied_by] == [
        ("table resource policy", 'statement "No"')
    ]


def test_a_conditional_table_grant_makes_a_conditional_verdict() -> None:
    grant = to("*", Condition={"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}})

    verdict = judged(
        RolePolicies((NOTHING,)), table_policy(grant), context={"aws:SourceVpce": [VPC_ENDPOINT]}
    )

    assert verdict.decision is ALLOWED
    assert verdict.is_conditional


def test_a_deny_to_everyone_with_a_condition_applies_only_when_it_holds() -> None:
    outside = to("*", "Deny", Condition={"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}})
    policies = RolePolicies((GRANTS,))

    assert judged(policies, table_policy(outside)).decision is EXPLICIT_DENY
    declared = judged(policies, table_policy(outside), context={"aws:SourceVpce": [VPC_ENDPOINT]})
    assert declared.decision is ALLOWED


def test_grant_to_everyone_outside_the_boundary_says_aws_does_not_document_it() -> None:
    verdict = judged(RolePolicies((NOTHING,), CLOSED_BOUNDARY), table_policy(to("*")))

    assert verdict.reason.startswith(
        "dynamodb:Scan could not be decided: whether the Allow in table resource policy, "
        'statement "Table" applies cannot be determined (it grants to Principal "*", and the '
        "role's permissions boundary does not allow the request; AWS documents"
    )
    assert "but not a grant to everyone" in verdict.reason


def test_grant_to_the_role_outside_the_boundary_names_the_boundary() -> None:
    verdict = judged(RolePolicies((NOTHING,), CLOSED_BOUNDARY), table_policy(to({"AWS": ROLE_ARN})))

    assert verdict.reason == (
        "dynamodb:Scan is allowed by the table resource policy but not by permissions boundary "
        f"Boundary v1: none of its statements allows it on {TABLE_ARN}"
    )


def test_a_session_grant_says_the_session_name_is_not_known() -> None:
    verdict = judged(RolePolicies((NOTHING,)), table_policy(to({"AWS": SESSION})))

    assert "the session name ECS gives the containers' credentials is not known" in verdict.reason


def test_an_undecided_deny_with_nothing_granting_is_not_allowed_either_way() -> None:
    verdict = judged(RolePolicies((NOTHING,)), table_policy(to({"AWS": SESSION}, "Deny")))

    assert verdict.decision is UNDECIDED
    assert verdict.reason.endswith("; either way it is not allowed")


def test_without_a_requester_every_table_statement_only_might_apply() -> None:
    verdict = judged(RolePolicies((GRANTS,)), table_policy(to({"AWS": ROLE_ARN}, "Deny")), None)

    assert verdict.decision is UNDECIDED
    assert "the requester is not known" in verdict.reason


# --- keys assumed absent ------------------------------------------------------------


def modelled(*statements: dict[str, Any], table: Policy | None = None, **declared: str) -> Verdict:
    """Scan on the table, for the request the run models (derived keys, ``declared``)."""
    context = build_context(
        derive_context(
            role_arn=ROLE_ARN,
            account=ACCOUNT,
            region=REGION,
            now=NOW,
            role_tags={},
            resource_account=ACCOUNT,
            resource_tags={},
        ),
        overrides={key.replace("_", ":", 1): [value] for key, value in declared.items()},
    )
    return evaluate(
        RolePolicies((identity(*statements),)),
        SCAN,
        TABLE_ARN,
        context.values(),
        resource_policy=table,
        requester=REQUESTER,
        assumed_absent=context.assumed_absent(),
    )


IN_VPC = {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}}


@pytest.mark.parametrize(
    ("statements", "table", "decision", "assumed"),
    [
        pytest.param(
            [allow(Condition=IN_VPC)],
            None,
            IMPLICIT_DENY,
            ("aws:SourceVpce",),
            id="grant-in-an-undeclared-endpoint",
        ),
        pytest.param(
            [allow(), deny(Condition={"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}})],
            None,
            EXPLICIT_DENY,
            ("aws:SourceVpce",),
            id="deny-outside-an-undeclared-endpoint",
        ),
        pytest.param(
            [allow()],
            table_policy(
                to("*", "Deny", Condition={"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}})
            ),
            EXPLICIT_DENY,
            ("aws:SourceVpce",),
            id="table-deny-outside-an-undeclared-endpoint",
        ),
        pytest.param(
            [allow(Condition={"ForAnyValue:StringLikeIfExists": {"dynamodb:LeadingKeys": "j*"}})],
            None,
            IMPLICIT_DENY,
            ("dynamodb:LeadingKeys",),
            id="for-any-value-if-exists-on-an-undeclared-key",
        ),
        pytest.param(
            [allow(), allow(Condition=IN_VPC)], None, ALLOWED, (), id="allowed-without-the-key"
        ),
        pytest.param(
            [allow(Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})],
            None,
            IMPLICIT_DENY,
            (),
            id="a-derived-key-is-known",
        ),
        pytest.param(
            [allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}})],
            None,
            IMPLICIT_DENY,
            (),
            id="a-tag-the-role-lacks-is-known-absent",
        ),
        pytest.param(
            [allow(Condition={"StringEqualsX": {"aws:SourceVpce": VPC_ENDPOINT}})],
            None,
            UNDECIDED,
            (),
            id="undecided-anyway",
        ),
    ],
)
def test_a_verdict_names_the_assumed_absent_keys_it_depends_on(
    statements: list[dict[str, Any]],
    table: Policy | None,
    decision: Decision,
    assumed: tuple[str, ...],
) -> None:
    verdict = modelled(*statements, table=table)

    assert verdict.decision is decision
    assert verdict.assumed_absent == assumed
    for key in assumed:
        assert key in verdict.reason
    if assumed:
        assert "fixtures/request_context.toml" in verdict.reason
    else:
        assert "fixtures/request_context.toml" not in verdict.reason


def test_a_denial_says_what_it_assumed_about_the_undeclared_key() -> None:
    verdict = modelled(allow(Sid="Vpc", Condition=IN_VPC))

    assert verdict.reason == (
        'dynamodb:Scan is not allowed: MLPlatformECSTaskPolicy v1, statement "Vpc" grants it '
        f"only when aws:SourceVpce is {VPC_ENDPOINT}; this request carries no aws:SourceVpce; "
        "that is assumed: declare aws:SourceVpce in fixtures/request_context.toml if the "
        "containers' requests carry it"
    )


def test_an_explicit_deny_says_it_assumes_the_key_absent() -> None:
    outside = deny(Sid="Outside", Condition={"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}})

    verdict = modelled(allow(), outside)

    assert verdict.reason == (
        'dynamodb:Scan is explicitly denied by MLPlatformECSTaskPolicy v1, statement "Outside"; '
        "this assumes the request carries no aws:SourceVpce (declare it in "
        "fixtures/request_context.toml if the containers' requests do)"
    )


def test_declaring_the_key_removes_the_assumption() -> None:
    verdict = modelled(allow(Condition=IN_VPC), aws_SourceVpce=VPC_ENDPOINT)

    assert verdict.decision is ALLOWED
    assert verdict.assumed_absent == ()
    assert "request_context.toml" not in verdict.reason


def test_every_key_a_verdict_depends_on_is_named() -> None:
    both = {
        "StringEquals": {"aws:SourceVpce": VPC_ENDPOINT},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
    }

    verdict = modelled(allow(Condition=both))

    assert set(verdict.assumed_absent) == {"aws:SourceVpce", "aws:SourceIp"}


# --- what the table's policy says to someone else -----------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param(OTHER_ROOT, id="another-account"),
        pytest.param(ROOT, id="the-account-which-grants-nothing-by-itself"),
    ],
)
def test_a_guarded_table_grant_to_someone_else_is_no_near_miss(principal: str) -> None:
    grant = to(
        {"AWS": principal},
        sid="Partner",
        Condition={"StringEquals": {"aws:SourceVpce": "vpce-partner"}},
    )

    verdict = judged(RolePolicies((NOTHING,)), table_policy(grant))

    assert verdict.decision is IMPLICIT_DENY
    assert verdict.near_misses == ()
    assert verdict.reason == (
        "dynamodb:Scan is not allowed: no statement in MLPlatformECSTaskPolicy v1 allows it "
        f"on {TABLE_ARN}"
    )


def test_a_table_grant_to_someone_else_on_an_empty_variable_is_not_reported() -> None:
    grant = to({"AWS": OTHER_ROOT}, Resource="arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/p}")

    verdict = judged(RolePolicies((NOTHING,)), table_policy(grant))

    assert verdict.empty_variables == ()


def test_a_guarded_table_grant_to_the_role_is_a_near_miss() -> None:
    grant = to(
        {"AWS": ROLE_ARN},
        sid="Jobs",
        Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    )

    verdict = judged(
        RolePolicies((NOTHING,)), table_policy(grant), context={"aws:RequestedRegion": [REGION]}
    )

    assert verdict.decision is IMPLICIT_DENY
    assert verdict.reason == (
        'dynamodb:Scan is not allowed: table resource policy, statement "Jobs" grants it only '
        "when aws:RequestedRegion is eu-west-1; this request's aws:RequestedRegion is us-east-1"
    )


# --- a boundary that allows only under a condition ----------------------------------

EU_ONLY = boundary(
    {
        "Sid": "EuOnly",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    }
)


def test_a_conditional_boundary_is_no_grant_when_nothing_grants() -> None:
    verdict = judged(
        RolePolicies((NOTHING,), EU_ONLY), None, context={"aws:RequestedRegion": [REGION]}
    )

    assert verdict.decision is IMPLICIT_DENY
    assert verdict.near_misses == ()
    assert verdict.deciding is None
    assert verdict.reason == (
        "dynamodb:Scan is not allowed: no statement in MLPlatformECSTaskPolicy v1 allows it "
        f"on {TABLE_ARN}"
    )


def test_a_boundary_denial_names_the_boundary_s_condition() -> None:
    verdict = judged(
        RolePolicies((GRANTS,), EU_ONLY), None, context={"aws:RequestedRegion": [REGION]}
    )

    assert verdict.decision is BOUNDARY_DENY
    assert verdict.reason == (
        "dynamodb:Scan is allowed by the identity policies but not by permissions boundary "
        'Boundary v1: statement "EuOnly" allows it only when aws:RequestedRegion is eu-west-1; '
        "this request's aws:RequestedRegion is us-east-1"
    )
