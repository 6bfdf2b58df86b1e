"""engine/evaluate/principals.py: how a resource or trust policy statement names the
requester, a role session or a service principal."""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.principals import (
    Naming,
    RoleSession,
    ServicePrincipal,
    names_requester,
)
from iam_compliance.engine.policy import Statement, parse_policy

from conftest import ACCOUNT, ROLE, ROLE_ARN, TABLE_ARN

ROLE_ID = "AROAEXAMPLEROLEID1234"
REQUESTER = RoleSession(ROLE_ARN, ACCOUNT, ROLE_ID)
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/ecs-task-0123"
OTHER = "111122223333"
ECS = "ecs-tasks.amazonaws.com"


def resource_statement(**principal: Any) -> Statement:
    """One statement of a table resource policy with this Principal (or NotPrincipal)."""
    body = {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN, **principal}
    document = {"Version": "2012-10-17", "Statement": [body]}
    return parse_policy(document, name="table resource policy", kind="resource").statements[0]


def trust_statement(**principal: Any) -> Statement:
    body = {"Effect": "Allow", "Action": "sts:AssumeRole", **principal}
    document = {"Version": "2012-10-17", "Statement": [body]}
    return parse_policy(document, name="trust", trust=True).statements[0]


@pytest.mark.parametrize(
    ("principal", "naming"),
    [
        pytest.param({"AWS": ROLE_ARN}, Naming.REQUESTER, id="role-arn"),
        pytest.param({"AWS": [ROLE_ARN]}, Naming.REQUESTER, id="role-arn-in-a-list"),
        pytest.param({"AWS": ROLE_ID}, Naming.REQUESTER, id="role-unique-id"),
        pytest.param({"AWS": SESSION}, Naming.MAYBE, id="session-of-the-role"),
        pytest.param(
            {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/OtherRole/ecs-task-0123"},
            Naming.NONE,
            id="session-of-another-role",
        ),
        pytest.param(
            {"AWS": f"arn:aws:sts::{OTHER}:assumed-role/{ROLE}/ecs-task-0123"},
            Naming.NONE,
            id="session-of-a-namesake-in-another-account",
        ),
        pytest.param({"AWS": ACCOUNT}, Naming.ACCOUNT, id="account-id"),
        pytest.param({"AWS": ROOT}, Naming.ACCOUNT, id="account-root"),
        pytest.param("*", Naming.EVERYONE, id="star"),
        pytest.param({"AWS": "*"}, Naming.EVERYONE, id="aws-star"),
        pytest.param({"AWS": f"arn:aws:iam::{OTHER}:root"}, Naming.NONE, id="another-account"),
        pytest.param({"AWS": OTHER}, Naming.NONE, id="another-account-id"),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:role/{ROLE}"}, Naming.NONE, id="namesake-role-elsewhere"
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{ACCOUNT}:role/OtherRole"}, Naming.NONE, id="another-role"
        ),
        pytest.param({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}, Naming.NONE, id="a-user"),
        pytest.param({"Service": ECS}, Naming.NONE, id="a-service"),
        pytest.param(
            {"Federated": "cognito-identity.amazonaws.com"}, Naming.NONE, id="a-federated-provider"
        ),
        pytest.param(
            {"AWS": [f"arn:aws:iam::{OTHER}:root", ROOT, ROLE_ARN]},
            Naming.REQUESTER,
            id="strongest-of-several",
        ),
        pytest.param({"AWS": [ROOT, "*"]}, Naming.EVERYONE, id="everyone-beats-the-account"),
        pytest.param({"AWS": [ROOT, SESSION]}, Naming.MAYBE, id="a-session-beats-the-account"),
    ],
)
def test_names_requester(principal: Any, naming: Naming) -> None:
    found, note = names_requester(resource_statement(Principal=principal), REQUESTER)

    assert found is naming
    assert (note is not None) is (naming is Naming.MAYBE)


def test_a_session_arn_might_name_the_requester_and_says_why() -> None:
    _, note = names_requester(resource_statement(Principal={"AWS": SESSION}), REQUESTER)

    assert note == (
        f"the statement names a session of {ROLE}; the session name ECS gives the "
        "containers' credentials is not known here"
    )


def test_not_principal_might_apply_and_is_not_evaluated() -> None:
    statement = resource_statement(NotPrincipal={"AWS": f"arn:aws:iam::{OTHER}:root"})

    assert names_requester(statement, REQUESTER) == (
        Naming.MAYBE,
        "the statement uses NotPrincipal, which is not evaluated",
    )


def test_the_unique_id_names_the_role_only_when_it_is_known() -> None:
    statement = resource_statement(Principal={"AWS": ROLE_ID})

    assert names_requester(statement, RoleSession(ROLE_ARN, ACCOUNT))[0] is Naming.NONE


def test_a_role_with_a_path_is_named_by_its_full_arn_and_its_sessions_by_name() -> None:
    requester = RoleSession(f"arn:aws:iam::{ACCOUNT}:role/ml/platform/{ROLE}", ACCOUNT)

    assert requester.role_name == ROLE
    assert names_requester(resource_statement(Principal={"AWS": ROLE_ARN}), requester)[0] is (
        Naming.NONE
    )
    session = resource_statement(Principal={"AWS": SESSION})
    assert names_requester(session, requester)[0] is Naming.MAYBE


def test_the_account_root_is_in_the_role_s_partition() -> None:
    requester = RoleSession(f"arn:aws-cn:iam::{ACCOUNT}:role/{ROLE}", ACCOUNT)

    assert requester.partition == "aws-cn"
    china_root = resource_statement(Principal={"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"})
    assert names_requester(china_root, requester)[0] is Naming.ACCOUNT
    assert names_requester(resource_statement(Principal={"AWS": ROOT}), requester)[0] is (
        Naming.NONE
    )


ECS_TASKS = ServicePrincipal(ECS)


@pytest.mark.parametrize(
    ("principal", "naming"),
    [
        pytest.param({"Service": ECS}, Naming.REQUESTER, id="the-service"),
        pytest.param(
            {"Service": ["ec2.amazonaws.com", ECS]}, Naming.REQUESTER, id="among-services"
        ),
        pytest.param({"Service": "ec2.amazonaws.com"}, Naming.NONE, id="another-service"),
        pytest.param({"Service": "*"}, Naming.NONE, id="no-wildcard-among-services"),
        pytest.param("*", Naming.EVERYONE, id="star"),
        pytest.param({"AWS": "*"}, Naming.EVERYONE, id="aws-star"),
        pytest.param({"AWS": [ROLE_ARN, "*"]}, Naming.EVERYONE, id="star-among-others"),
        pytest.param({"AWS": "*", "Service": ECS}, Naming.REQUESTER, id="the-service-beats-star"),
        pytest.param({"AWS": ROLE_ARN}, Naming.NONE, id="an-aws-principal"),
        pytest.param({"AWS": ROOT}, Naming.NONE, id="the-account-names-no-service"),
    ],
)
def test_names_a_service_principal(principal: Any, naming: Naming) -> None:
    assert names_requester(trust_statement(Principal=principal), ECS_TASKS) == (naming, None)


def test_not_principal_might_name_a_service_and_is_not_evaluated() -> None:
    statement = trust_statement(NotPrincipal={"Service": ECS})

    assert names_requester(statement, ECS_TASKS) == (
        Naming.MAYBE,
        "the statement uses NotPrincipal, which is not evaluated",
    )
