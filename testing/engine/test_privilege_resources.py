"""Least privilege when requirements name several resources (the table and its indexes).

A Resource pattern is wider than needed only when it reaches beyond every resource the
actions it grants are required on: a grant on ``index/*`` is exactly what a requirement on
``index/*`` needs, but wider than one on ``index/by-status`` alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from iam_compliance.engine.evaluate.assessment import assess
from iam_compliance.engine.requirements import RequiredAction

from conftest import NOW, TABLE_ARN, TARGET, parsed_task_policy, role_snapshot, task_policy

QUERY = "dynamodb:Query"
INDEXES = f"{TABLE_ARN}/index/*"
ON_TABLE = RequiredAction(QUERY, "Query jobs")
ON_BY_STATUS = RequiredAction(QUERY, "Query jobs by status", "index/by-status")
ON_INDEXES = RequiredAction(QUERY, "Query any index", "index/*")


def findings(resources: Any, *requirements: RequiredAction, actions: Any = QUERY) -> list[str]:
    document = task_policy({"Effect": "Allow", "Action": actions, "Resource": resources})
    snapshot = role_snapshot(parsed_task_policy(document))
    found = assess(TARGET, snapshot, requirements, now=NOW)
    return [f"{f.id}: {f.message}" for f in found.findings if f.severity == "fail"]


@pytest.mark.parametrize(
    ("resources", "requirements"),
    [
        pytest.param(
            [TABLE_ARN, INDEXES], (ON_TABLE, ON_BY_STATUS, ON_INDEXES), id="every-index-needed"
        ),
        pytest.param([TABLE_ARN, INDEXES], (ON_TABLE, ON_INDEXES), id="table-and-every-index"),
        pytest.param(INDEXES, (ON_INDEXES,), id="every-index-alone"),
        pytest.param(
            [TABLE_ARN, f"{TABLE_ARN}/index/by-status"], (ON_TABLE, ON_BY_STATUS), id="exact"
        ),
    ],
)
def test_a_grant_on_exactly_the_required_resources_is_least_privilege(
    resources: Any, requirements: tuple[RequiredAction, ...]
) -> None:
    assert findings(resources, *requirements) == []


@pytest.mark.parametrize(
    ("resources", "requirements", "pattern"),
    [
        pytest.param(
            [TABLE_ARN, INDEXES], (ON_TABLE, ON_BY_STATUS), INDEXES, id="every-index-for-one"
        ),
        pytest.param(
            [TABLE_ARN, f"{TABLE_ARN}/*"],
            (ON_TABLE, ON_INDEXES),
            f"{TABLE_ARN}/*",
            id="streams-too",
        ),
        pytest.param(f"{TABLE_ARN}*", (ON_TABLE, ON_INDEXES), f"{TABLE_ARN}*", id="other-tables"),
    ],
)
def test_a_grant_wider_than_every_required_resource_is_reported(
    resources: Any, requirements: tuple[RequiredAction, ...], pattern: str
) -> None:
    found = findings(resources, *requirements)

    assert found
    prefix = f'RESOURCE_WILDCARD: MLPlatformECSTaskPolicy v3, statement #1: Resource "{pattern}"'
    assert all(f.startswith(prefix) for f in found)


def test_an_action_required_on_another_resource_of_the_statement_is_no_extra() -> None:
    """The runbook's S3 statement grants ListBucket (on the bucket) and GetObject and
    PutObject (on its objects) in one statement: each is required, on its own resource."""
    bucket, objects = "arn:aws:s3:::ml-platform-artifacts", "arn:aws:s3:::ml-platform-artifacts/*"
    document = task_policy(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"],
            "Resource": [bucket, objects],
        }
    )
    requirements = (
        RequiredAction("s3:GetObject", "read", objects),
        RequiredAction("s3:PutObject", "write", objects),
        RequiredAction("s3:ListBucket", "list", bucket),
    )

    found = assess(TARGET, role_snapshot(parsed_task_policy(document)), requirements, now=NOW)

    extras = {f.message.split('"')[1] for f in found.findings if f.id == "EXTRA_ACTION"}
    assert extras == {"s3:DeleteObject"}
