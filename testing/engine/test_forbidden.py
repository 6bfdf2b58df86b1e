"""Forbidden actions: a pass only on a proof that the whole engine refuses the request."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from iam_compliance.engine.evaluate.assessment import Assessment, assess
from iam_compliance.engine.evaluate.snapshot import TableState
from iam_compliance.engine.policy import parse_policy
from iam_compliance.engine.requirements import ForbiddenAction
from iam_compliance.engine.resources import EndpointState, ResourceState

from conftest import (
    BUCKET,
    NOW,
    REQUIREMENTS,
    TARGET,
    parsed_task_policy,
    role_snapshot,
    runbook_policy,
    task_policy,
)

OBJECTS = f"arn:aws:s3:::{BUCKET}/*"
DELETE_OBJECT = ForbiddenAction(
    "s3:DeleteObject", "artifacts are kept", "arn:aws:s3:::${S3_BUCKET_NAME}/*"
)
DELETE_TABLE = ForbiddenAction("dynamodb:DeleteTable", "the jobs table is the record")
FORBIDS = (DELETE_OBJECT, DELETE_TABLE)


BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
#: The artifacts bucket as read: the target account's, with no bucket policy.
NO_BUCKET_POLICY = ResourceState(BUCKET_ARN, "s3", "bucket", "none", account=TARGET.account_id)


def judged(
    *statements: dict[str, Any],
    context: dict[str, list[str]] | None = None,
    bucket: ResourceState | None = NO_BUCKET_POLICY,
) -> Assessment:
    """The runbook's role, plus an inline policy of ``statements``, with both forbids;
    ``bucket``: the artifacts bucket as read (None: not read)."""
    extra = (
        [parse_policy(task_policy(*statements), name="Extra", kind="inline")] if statements else []
    )
    snapshot = role_snapshot(parsed_task_policy(runbook_policy(), "v1"), *extra)
    read = {BUCKET_ARN: bucket} if bucket is not None else {}
    # The table as read, without a resource policy.
    # The endpoints a test declares, as read: without a policy (every request through them).
    declared = (context or {}).get("aws:SourceVpce", [])
    endpoints = {vpce: EndpointState(vpce, "none") for vpce in declared}
    snapshot = dataclasses.replace(
        snapshot, resources=read, table=TableState(TARGET.table_arn), endpoints=endpoints
    )
    return assess(TARGET, snapshot, REQUIREMENTS, context, now=NOW, forbidden=FORBIDS)


def allow(action: str, resource: str, **condition: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        body["Condition"] = condition
    return body


IN_ENDPOINT = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}
#: A condition that cannot be evaluated: its policy value is not a number.
NOT_A_NUMBER = {"NumericLessThan": {"aws:SourceAccount": "abc"}}


@pytest.mark.parametrize(
    ("statements", "context", "ok", "said"),
    [
        pytest.param(
            [],
            None,
            True,
            "s3:DeleteObject on arn:aws:s3:::ml-platform-artifacts/* is denied, as "
            "it must be (artifacts are kept): ",
            id="nothing-allows-it",
        ),
        pytest.param(
            [
                allow("s3:*", OBJECTS),
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
            ],
            None,
            True,
            "is denied, as it must be",
            id="explicit-deny-wins",
        ),
        pytest.param(
            [allow("s3:DeleteObject", OBJECTS)],
            None,
            False,
            "must never be allowed (artifacts are kept), but s3:DeleteObject is allowed by "
            "inline policy Extra, statement #1",
            id="granted",
        ),
        pytest.param(
            [allow("s3:DeleteObject", OBJECTS, **NOT_A_NUMBER)],
            None,
            False,
            "could not be decided, so it may be allowed: ",
            id="undecided",
        ),
        pytest.param(
            [allow("s3:DeleteObject", OBJECTS, **IN_ENDPOINT)],
            None,
            False,
            "it is denied only while the request is assumed to carry no aws:SourceVpce",
            id="denied-only-while-an-undeclared-key-is-absent",
        ),
        pytest.param(
            [allow("s3:DeleteObject", OBJECTS, **IN_ENDPOINT)],
            {"aws:SourceVpce": ["vpce-other"]},
            True,
            "is denied, as it must be",
            id="denied-with-the-key-declared",
        ),
        pytest.param(
            [allow("s3:DeleteObject", OBJECTS, **IN_ENDPOINT)],
            {"aws:SourceVpce": ["vpce-1a2b3c"]},
            False,
            "must never be allowed (artifacts are kept), but ",
            id="granted-with-the-key-declared",
        ),
    ],
)
def test_a_forbid_passes_only_on_a_proof_of_denial(
    statements: list[dict[str, Any]], context: dict[str, list[str]] | None, ok: bool, said: str
) -> None:
    found = judged(*statements, context=context)

    check = found.forbidden_check(DELETE_OBJECT.id)

    assert check.ok is ok, check.message
    assert said in check.message
    assert check.message.startswith(f"s3:DeleteObject on {OBJECTS} ")
    assert (DELETE_OBJECT.id in found.forbidden_failures) is not ok
    assert found.forbidden_check(DELETE_TABLE.id).ok  # the other forbid is untouched


def test_an_undecided_forbid_names_the_key_it_depends_on() -> None:
    check = judged(allow("s3:DeleteObject", OBJECTS, **NOT_A_NUMBER)).forbidden_check(
        DELETE_OBJECT.id
    )

    assert check.message.endswith("; it depends on aws:SourceAccount")


def test_a_denial_by_assumption_says_which_key_to_declare() -> None:
    check = judged(allow("s3:DeleteObject", OBJECTS, **IN_ENDPOINT)).forbidden_check(
        DELETE_OBJECT.id
    )

    assert "Declare aws:SourceVpce in fixtures/request_context.toml" in check.message
    assert "--iam-context aws:SourceVpce=VALUE" in check.message


def test_a_granted_forbid_makes_the_role_non_compliant() -> None:
    compliant_but_for = judged(allow("dynamodb:*", TARGET.table_arn))

    assert compliant_but_for.forbidden_failures == (DELETE_TABLE.id,)
    assert not compliant_but_for.is_compliant


GRANTING_BUCKET_POLICY = parse_policy(
    task_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::618574523116:role/MLPlatformECSTaskRole"},
            "Action": "s3:DeleteObject",
            "Resource": OBJECTS,
        }
    ),
    name="bucket policy",
    kind="resource",
)


@pytest.mark.parametrize(
    ("bucket", "said"),
    [
        pytest.param(
            None,
            f"the resource-based policy of {BUCKET_ARN} is not known ({BUCKET_ARN} was not "
            "read in this run)",
            id="bucket-not-read",
        ),
        pytest.param(
            ResourceState(BUCKET_ARN, "s3", "bucket", "unreadable", detail="AccessDenied"),
            "could not be decided: the bucket policy of ml-platform-artifacts could not be "
            "read: AccessDenied",
            id="bucket-policy-unreadable",
        ),
        pytest.param(
            ResourceState(
                BUCKET_ARN, "s3", "bucket", "read", resource_policy=GRANTING_BUCKET_POLICY
            ),
            f"could not be decided: the account that owns {BUCKET_ARN} is not known",
            id="bucket-policy-read-of-a-bucket-whose-owner-is-not-known",
        ),
    ],
)
def test_no_identity_grant_is_no_proof_while_the_resource_s_own_policy_is_unseen(
    bucket: ResourceState | None, said: str
) -> None:
    """In the role's account a bucket policy naming the role grants without any identity
    policy: nothing allowing it among the policies evaluated proves nothing then."""
    check = judged(bucket=bucket).forbidden_check(DELETE_OBJECT.id)

    assert not check.ok
    assert said in check.message


def test_a_bucket_policy_granting_the_role_is_applied_and_fails_the_forbid() -> None:
    """In the role's own account, the bucket policy's grant is enough (no identity grant)."""
    bucket = ResourceState(
        BUCKET_ARN,
        "s3",
        "bucket",
        "read",
        resource_policy=GRANTING_BUCKET_POLICY,
        account=TARGET.account_id,
    )
    check = judged(bucket=bucket).forbidden_check(DELETE_OBJECT.id)

    assert not check.ok
    assert "must never be allowed (artifacts are kept), but s3:DeleteObject is allowed" in (
        check.message
    )


def test_an_explicit_deny_is_a_proof_whatever_the_resource_s_own_policy() -> None:
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}

    assert judged(deny, bucket=None).forbidden_check(DELETE_OBJECT.id).ok


@pytest.mark.parametrize(
    ("statements", "assumed"),
    [
        pytest.param([], (), id="nothing-more"),
        pytest.param(
            [allow("s3:DeleteObject", OBJECTS, **IN_ENDPOINT)],
            ("aws:SourceVpce",),
            id="denied-while-a-key-is-assumed-absent",
        ),
        pytest.param([allow("dynamodb:*", TARGET.table_arn)], (), id="granted"),
        pytest.param([allow("s3:DeleteObject", OBJECTS, **NOT_A_NUMBER)], (), id="undecided"),
        pytest.param(
            [
                allow("s3:*", "*"),
                {
                    "Effect": "Deny",
                    "Action": "s3:DeleteObject",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c"}},
                },
            ],
            ("aws:SourceVpce",),
            id="explicitly-denied-while-a-key-is-assumed-absent",
        ),
    ],
)
def test_what_a_fix_proof_asks_is_decided_as_the_checks_decide(
    statements: list[dict[str, Any]], assumed: tuple[str, ...]
) -> None:
    """A fix's proof reads decisions alone (Assessment.decide, which skips the wording
    of assumptions): each decision is the full verdict's; only the wording differs."""
    found = judged(*statements)
    requests = [
        *found.verdicts_by_request(),
        ("dynamodb:DeleteTable", "*"),
        ("s3:DeleteObject", f"{BUCKET_ARN}/other"),
    ]
    for action, resource in requests:
        full = found.judge(found.snapshot.policies, action, resource)
        quick = found.decide(found.snapshot.policies, action, resource)
        assert quick.decision is full.decision, (action, resource)
        assert quick.assumed_absent == ()
    assert found.forbidden_verdicts[DELETE_OBJECT.id].assumed_absent == assumed
