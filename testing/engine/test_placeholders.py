"""The one filler of ``${NAME}`` placeholders: seed documents, policy files, ARNs."""

from __future__ import annotations

import pytest

from iam_compliance.engine.target import fill_placeholders
from iam_compliance.errors import ConfigurationError

from conftest import TARGET


@pytest.mark.parametrize(
    ("text", "filled"),
    [
        pytest.param(
            "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/${DYNAMODB_TABLE_NAME}",
            "arn:aws:dynamodb:us-east-1:618574523116:table/ml-jobs",
            id="table-arn",
        ),
        pytest.param(
            "${S3_BUCKET_NAME} ${ECS_TASK_ROLE_NAME} ${ECS_TASK_POLICY_NAME}",
            "ml-platform-artifacts MLPlatformECSTaskRole MLPlatformECSTaskPolicy",
            id="every-name",
        ),
        pytest.param(
            "table/${aws:PrincipalTag/team} b/${*} ${aws:username, 'x'}",
            "table/${aws:PrincipalTag/team} b/${*} ${aws:username, 'x'}",
            id="policy-variables-stay",
        ),
        pytest.param("cost: $$5", "cost: $5", id="dollar-escape"),
    ],
)
def test_placeholders_are_filled_and_policy_variables_kept(text: str, filled: str) -> None:
    assert fill_placeholders(text, TARGET, "f.json") == filled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "${REGION}",
            "f.json: unknown placeholder 'REGION'; use ${AWS_PARTITION}, ${AWS_REGION}, "
            "${AWS_ACCOUNT_ID}, ${DYNAMODB_TABLE_NAME}, ${S3_BUCKET_NAME}, "
            "${ECS_TASK_ROLE_NAME}, ${ECS_TASK_POLICY_NAME}",
            id="unknown-name",
        ),
        pytest.param(
            "a $b",
            "f.json: unknown placeholder: a '$' at offset 2 starts no ${NAME} (write $$ for a '$')",
            id="stray-dollar",
        ),
    ],
)
def test_a_bad_placeholder_is_named(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        fill_placeholders(text, TARGET, "f.json")
    assert str(caught.value) == message
