"""Fix planning and application: only what is missing is added, nothing is ever lost."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from iam_compliance.engine.evaluation import Decision, RolePolicies, Verdict
from iam_compliance.engine.policy import Policy, parse_policy
from iam_compliance.engine.remediation import (
    MANAGED_POLICY_SIZE_LIMIT,
    FixPlan,
    PolicyVersion,
    document_size,
    plan_fix,
)
from iam_compliance.engine.rollout import RECORD_SCHEMA, apply_fix, rollback_command
from iam_compliance.errors import ConcurrentChangeError, NotFoundError, RemediationError
from iam_compliance.report.records import record_filename

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/ml-jobs"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/MLPlatformECSTaskPolicy"
POLICY_NAME = "MLPlatformECSTaskPolicy"
BUCKET = "ml-platform-artifacts"
REQUIRED = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:DescribeTable",
)
MISSING = ("dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable")
GRANTED = REQUIRED[:3]
NOW = datetime(2026, 11, 27, 22, 14, 5, tzinfo=UTC)

S3_STATEMENT = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
}
DYNAMODB_STATEMENT = {"Effect": "Allow", "Action": list(GRANTED), "Resource": TABLE_ARN}
LOGS_STATEMENT = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "*",
}


def runbook_document() -> dict[str, Any]:
    """The task policy as the runbook shows it today: three of the six DynamoDB actions."""
    return {
        "Version": "2012-10-17",
        "Statement": copy.deepcopy([S3_STATEMENT, DYNAMODB_STATEMENT, LOGS_STATEMENT]),
    }


def with_statements(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": copy.deepcopy(list(statements))}


def managed(document: Mapping[str, Any], version: str = "v3") -> Policy:
    return parse_policy(document, name=POLICY_NAME, kind="managed", version=version, arn=POLICY_ARN)


def listing(count: int, default: str | None = None) -> list[PolicyVersion]:
    """``count`` versions v1..vN created a day apart; the newest is the default unless named."""
    default = default or f"v{count}"
    return [
        PolicyVersion(f"v{n}", f"v{n}" == default, NOW - timedelta(days=count - n))
        for n in range(1, count + 1)
    ]


def plan(
    document: Mapping[str, Any],
    *,
    others: Sequence[Policy] = (),
    boundary: Policy | None = None,
    versions: Sequence[PolicyVersion] | None = None,
) -> FixPlan:
    target = managed(document)
    policies = RolePolicies(identity=(target, *others), boundary=boundary)
    return plan_fix(
        policies, target, REQUIRED, TABLE_ARN, listing(3) if versions is None else versions
    )


def statements_of(document: Mapping[str, Any]) -> list[Any]:
    body = document["Statement"]
    return [body] if isinstance(body, Mapping) else list(body)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=4)


# --------------------------------------------------------------------------- planning


def test_runbook_policy_gets_exactly_the_missing_actions() -> None:
    original = runbook_document()
    result = plan(original)

    assert result.added_actions == MISSING
    assert result.target_statement == "statement #2"
    assert result.can_apply
    assert not result.nothing_to_fix
    assert result.refusals == ()
    assert result.blocked == ()
    assert result.version_to_delete is None
    assert result.new_document is not None
    new = result.new_document
    assert list(new) == ["Version", "Statement"]
    assert new["Version"] == "2012-10-17"
    assert len(new["Statement"]) == 3
    assert new["Statement"][1] == {
        "Effect": "Allow",
        "Action": list(REQUIRED),
        "Resource": TABLE_ARN,
    }
    assert list(new["Statement"][1]) == ["Effect", "Action", "Resource"]
    # Compared as JSON text so that key order counts as well as content.
    assert dumps(new["Statement"][0]) == dumps(original["Statement"][0])
    assert dumps(new["Statement"][2]) == dumps(original["Statement"][2])


def test_planning_never_mutates_the_input_document() -> None:
    original = runbook_document()
    target = managed(original)
    result = plan_fix(RolePolicies(identity=(target,)), target, REQUIRED, TABLE_ARN, listing(3))

    assert dumps(original) == dumps(runbook_document())
    assert dumps(result.current_document) == dumps(runbook_document())
    assert result.new_document is not None
    assert result.new_document["Statement"] is not original["Statement"]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN},
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", *REQUIRED[1:]],
                "Resource": TABLE_ARN,
            },
            id="string-action-becomes-list",
        ),
        pytest.param(
            {"Sid": "Jobs", "Effect": "Allow", "Action": list(GRANTED), "Resource": [TABLE_ARN]},
            {"Sid": "Jobs", "Effect": "Allow", "Action": list(REQUIRED), "Resource": [TABLE_ARN]},
            id="one-element-resource-list",
        ),
    ],
)
def test_appends_to_an_unconditional_allow_on_exactly_the_table(
    statement: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = plan(with_statements(S3_STATEMENT, statement))

    assert result.new_document is not None
    assert dumps(result.new_document["Statement"][1]) == dumps(expected)
    assert len(result.new_document["Statement"]) == 2


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            {
                "Effect": "Allow",
                "Action": list(GRANTED),
                "Resource": TABLE_ARN,
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            },
            id="conditional",
        ),
        pytest.param(
            {
                "Effect": "Allow",
                "Action": list(GRANTED),
                "Resource": [TABLE_ARN, f"{TABLE_ARN}/index/*"],
            },
            id="extra-resource",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": list(GRANTED), "Resource": "*"},
            id="wildcard-resource",
        ),
    ],
)
def test_does_not_append_to_a_statement_that_would_change_meaning(
    statement: dict[str, Any],
) -> None:
    original = with_statements(S3_STATEMENT, statement)
    result = plan(original)

    assert result.new_document is not None
    new_statements = result.new_document["Statement"]
    assert dumps(new_statements[:2]) == dumps(original["Statement"])
    assert new_statements[2]["Sid"] == "IamComplianceMlJobsTable"
    assert result.target_statement == 'statement "IamComplianceMlJobsTable"'


def test_no_matching_statement_adds_one_statement_at_the_end() -> None:
    original = with_statements(S3_STATEMENT, LOGS_STATEMENT)
    result = plan(original)

    assert result.added_actions == REQUIRED
    assert result.new_document is not None
    assert dumps(result.new_document["Statement"][:2]) == dumps(original["Statement"])
    assert dumps(result.new_document["Statement"][2]) == dumps(
        {
            "Sid": "IamComplianceMlJobsTable",
            "Effect": "Allow",
            "Action": list(REQUIRED),
            "Resource": TABLE_ARN,
        }
    )


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        pytest.param(["IamComplianceMlJobsTable"], "IamComplianceMlJobsTable2", id="taken-once"),
        pytest.param(
            ["IamComplianceMlJobsTable", "iamcompliancemljobstable2"],
            "IamComplianceMlJobsTable3",
            id="taken-twice-any-case",
        ),
    ],
)
def test_new_statement_sid_is_unique(taken: list[str], expected: str) -> None:
    logs = [dict(LOGS_STATEMENT, Sid=sid) for sid in taken]
    result = plan(with_statements(S3_STATEMENT, *logs))

    assert result.new_document is not None
    assert result.new_document["Statement"][-1]["Sid"] == expected
    assert result.target_statement == f'statement "{expected}"'


def test_single_object_statement_becomes_a_list_when_a_statement_is_added() -> None:
    original = {"Version": "2012-10-17", "Statement": copy.deepcopy(S3_STATEMENT)}
    result = plan(original)

    assert result.new_document is not None
    new_statements = result.new_document["Statement"]
    assert isinstance(new_statements, list)
    assert dumps(new_statements[0]) == dumps(S3_STATEMENT)
    assert new_statements[1]["Sid"] == "IamComplianceMlJobsTable"
    assert original["Statement"] == S3_STATEMENT  # the input stays a single object


def test_single_object_statement_that_matches_is_extended_in_place() -> None:
    result = plan({"Version": "2012-10-17", "Statement": copy.deepcopy(DYNAMODB_STATEMENT)})

    assert result.new_document is not None
    assert result.new_document["Statement"] == dict(DYNAMODB_STATEMENT, Action=list(REQUIRED))
    assert result.target_statement == "statement #1"


def test_compliant_policy_has_nothing_to_fix() -> None:
    result = plan(with_statements(S3_STATEMENT, dict(DYNAMODB_STATEMENT, Action=list(REQUIRED))))

    assert result.nothing_to_fix
    assert not result.can_apply
    assert result.new_document is None
    assert result.added_actions == ()
    assert result.diff == ""
    assert result.size == 0
    assert result.version_to_delete is None


def test_explicit_deny_blocks_and_refuses_the_whole_plan() -> None:
    deny = parse_policy(
        with_statements(
            {"Sid": "NoScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}
        ),
        name="GuardRails",
        kind="inline",
    )
    result = plan(runbook_document(), others=[deny])

    assert [item.action for item in result.blocked] == ["dynamodb:Scan"]
    assert 'inline policy GuardRails, statement "NoScans"' in result.blocked[0].reason
    assert not result.can_apply
    assert not result.nothing_to_fix
    assert len(result.refusals) == 1
    assert "dynamodb:Scan" in result.refusals[0]
    assert "NoScans" in result.refusals[0]
    # The document still shows what could be granted, but nothing is added for Scan.
    assert result.added_actions == ("dynamodb:Query", "dynamodb:DescribeTable")
    assert result.new_document is not None
    assert "dynamodb:Scan" not in result.new_document["Statement"][1]["Action"]


@pytest.mark.parametrize(
    ("condition", "context", "blocked"),
    [
        pytest.param(
            {"DateGreaterThan": {"aws:CurrentTime": "not-a-date"}},
            None,
            ["dynamodb:Query"],
            id="undecidable-condition",
        ),
        pytest.param(
            {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            {"aws:RequestedRegion": ["eu-west-1"]},
            ["dynamodb:Query"],
            id="condition-holds-in-context",
        ),
        pytest.param(
            {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            {"aws:RequestedRegion": ["us-east-1"]},
            [],
            id="condition-fails-in-context",
        ),
    ],
)
def test_conditional_deny_blocks_when_it_applies_or_cannot_be_decided(
    condition: dict[str, Any], context: dict[str, list[str]] | None, blocked: list[str]
) -> None:
    deny = parse_policy(
        with_statements(
            {
                "Sid": "MaybeNoQuery",
                "Effect": "Deny",
                "Action": "dynamodb:Query",
                "Resource": TABLE_ARN,
                "Condition": condition,
            }
        ),
        name="GuardRails",
        kind="inline",
    )
    target = managed(runbook_document())
    policies = RolePolicies(identity=(target, deny))

    result = plan_fix(policies, target, REQUIRED, TABLE_ARN, listing(3), context)

    assert [item.action for item in result.blocked] == blocked
    assert result.can_apply == (not blocked)
    for item, refusal in zip(result.blocked, result.refusals, strict=True):
        assert 'statement "MaybeNoQuery"' in item.reason
        assert item.reason in refusal


def test_permissions_boundary_blocks_and_refuses_the_whole_plan() -> None:
    boundary = parse_policy(
        with_statements(
            {
                "Effect": "Allow",
                "Action": [*GRANTED, "dynamodb:Scan", "dynamodb:Query"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"},
        ),
        name="PlatformBoundary",
        kind="boundary",
        version="v1",
        arn=f"arn:aws:iam::{ACCOUNT}:policy/PlatformBoundary",
    )
    result = plan(runbook_document(), boundary=boundary)

    assert [item.action for item in result.blocked] == ["dynamodb:DescribeTable"]
    assert "boundary" in result.blocked[0].reason.lower()
    assert not result.can_apply
    assert "dynamodb:DescribeTable" in result.refusals[0]
    assert "boundary" in result.refusals[0].lower()


def test_every_missing_action_blocked_leaves_no_document() -> None:
    deny = parse_policy(
        with_statements(
            {"Sid": "ReadWriteOnly", "Effect": "Deny", "Action": list(MISSING), "Resource": "*"}
        ),
        name="GuardRails",
        kind="inline",
    )
    result = plan(runbook_document(), others=[deny])

    assert result.new_document is None
    assert result.added_actions == ()
    assert [item.action for item in result.blocked] == list(MISSING)
    assert len(result.refusals) == 3
    assert not result.nothing_to_fix
    assert not result.can_apply


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param(listing(4, default="v3"), None, id="four-versions-room-left"),
        pytest.param(listing(5, default="v3"), "v1", id="five-oldest-not-default"),
        pytest.param(listing(5, default="v3")[::-1], "v1", id="listing-order-ignored"),
        pytest.param(
            [
                PolicyVersion("v3", True, NOW - timedelta(days=9)),
                PolicyVersion("v4", False, NOW - timedelta(days=2)),
                PolicyVersion("v5", False, NOW - timedelta(days=5)),
                PolicyVersion("v6", False, NOW - timedelta(days=1)),
                PolicyVersion("v7", False, NOW),
            ],
            "v5",
            id="oldest-is-default-and-ids-out-of-date-order",
        ),
    ],
)
def test_version_to_delete_is_the_oldest_non_default(
    versions: list[PolicyVersion], expected: str | None
) -> None:
    result = plan(runbook_document(), versions=versions)

    assert result.version_to_delete == expected
    assert result.can_apply


def test_listing_with_another_default_is_a_concurrent_change() -> None:
    with pytest.raises(ConcurrentChangeError, match=r"v4.*v3"):
        plan(runbook_document(), versions=listing(4))


def padded_document(padding: str) -> dict[str, Any]:
    """The runbook policy with ``padding`` as a condition value, to control its size."""
    document = runbook_document()
    document["Statement"][0]["Condition"] = {"StringLike": {"s3:prefix": padding}}
    return document


def test_size_at_the_limit_is_allowed_and_one_over_is_refused() -> None:
    unpadded = plan(padded_document("")).size
    room = MANAGED_POLICY_SIZE_LIMIT - unpadded
    # Spaces inside a string are part of the value, so they count.
    padding = ("x " * room)[:room]

    fits, too_big = plan(padded_document(padding)), plan(padded_document(padding + "y"))

    assert fits.size == MANAGED_POLICY_SIZE_LIMIT
    assert fits.can_apply
    assert too_big.size == MANAGED_POLICY_SIZE_LIMIT + 1
    assert not too_big.can_apply
    assert too_big.refusals == (
        "the proposed document is 6,145 characters (white space not counted); "
        "IAM's limit for a managed policy is 6,144",
    )


def test_size_does_not_count_formatting_white_space() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Sid": "A b"}]}

    assert document_size(document) == len('{"Version":"2012-10-17","Statement":[{"Sid":"A b"}]}')


def test_diff_shows_only_the_added_actions() -> None:
    result = plan(runbook_document())
    lines = result.diff.splitlines()

    assert lines[0] == f"--- {POLICY_NAME} v3 (current default)"
    assert lines[1] == f"+++ {POLICY_NAME} (proposed new version)"
    removed = [line for line in lines[2:] if line.startswith("-")]
    added = [line for line in lines[2:] if line.startswith("+")]
    assert removed == ['-                "dynamodb:UpdateItem"']
    assert added == [
        '+                "dynamodb:UpdateItem",',
        '+                "dynamodb:Scan",',
        '+                "dynamodb:Query",',
        '+                "dynamodb:DescribeTable"',
    ]


def test_only_a_managed_policy_attached_to_the_role_can_be_fixed() -> None:
    inline = parse_policy(runbook_document(), name="Inline", kind="inline")
    detached = managed(runbook_document())

    with pytest.raises(RemediationError, match="customer-managed"):
        plan_fix(RolePolicies(identity=(inline,)), inline, REQUIRED, TABLE_ARN, listing(3))
    with pytest.raises(RemediationError, match="not among the role's identity policies"):
        plan_fix(RolePolicies(identity=()), detached, REQUIRED, TABLE_ARN, listing(3))


# --------------------------------------------------------------------------- applying


class FakeStore:
    """IAM's policy versions in memory; records every call, can be told to fail."""

    def __init__(self, count: int = 3, default: str | None = None) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.created: dict[str, datetime] = {}
        for version in listing(count, default):
            self.documents[version.version_id] = self.document_for(version.version_id)
            self.created[version.version_id] = version.created
        self.default = default or f"v{count}"
        self.documents[self.default] = runbook_document()
        self.next_number = count + 1
        self.calls: list[tuple[str, ...]] = []
        self.fail_create: Exception | None = None
        self.fail_delete: Exception | None = None
        self.fail_set_default: Exception | None = None

    @staticmethod
    def document_for(version_id: str) -> dict[str, Any]:
        return with_statements(dict(LOGS_STATEMENT, Sid=f"Old{version_id}"))

    def list_versions(self, policy_arn: str) -> list[PolicyVersion]:
        self.calls.append(("list_versions", policy_arn))
        return [
            PolicyVersion(vid, vid == self.default, self.created[vid]) for vid in self.documents
        ]

    def get_version_document(self, policy_arn: str, version_id: str) -> dict[str, Any]:
        self.calls.append(("get_version_document", policy_arn, version_id))
        return copy.deepcopy(self.documents[version_id])

    def create_default_version(self, policy_arn: str, document: Mapping[str, Any]) -> str:
        self.calls.append(("create_default_version", policy_arn))
        if self.fail_create:
            raise self.fail_create
        if len(self.documents) >= 5:
            raise RemediationError("LimitExceeded: a managed policy has at most 5 versions")
        version_id = f"v{self.next_number}"
        self.next_number += 1
        self.documents[version_id] = copy.deepcopy(dict(document))
        self.created[version_id] = NOW
        self.default = version_id
        return version_id

    def delete_version(self, policy_arn: str, version_id: str) -> None:
        self.calls.append(("delete_version", policy_arn, version_id))
        assert version_id != self.default, "IAM refuses to delete the default version"
        if self.fail_delete:
            raise self.fail_delete
        del self.documents[version_id]

    def set_default_version(self, policy_arn: str, version_id: str) -> None:
        self.calls.append(("set_default_version", policy_arn, version_id))
        if self.fail_set_default:
            raise self.fail_set_default
        self.default = version_id

    @property
    def writes(self) -> list[str]:
        return [
            call[0]
            for call in self.calls
            if call[0] not in ("list_versions", "get_version_document")
        ]

    def plan(self) -> FixPlan:
        versions = self.list_versions(POLICY_ARN)
        self.calls.clear()
        target = managed(self.documents[self.default], self.default)
        return plan_fix(RolePolicies(identity=(target,)), target, REQUIRED, TABLE_ARN, versions)


class Records:
    """A save_record that keeps a snapshot of every save."""

    def __init__(self, path: str = "reports/remediation-20261127T221405Z.json") -> None:
        self.path = path
        self.saved: list[dict[str, Any]] = []
        self.on_save: Callable[[Mapping[str, Any]], None] | None = None

    def __call__(self, record: Mapping[str, Any]) -> str:
        self.saved.append(json.loads(json.dumps(record)))  # also proves it serialises
        if self.on_save:
            self.on_save(record)
        return self.path

    @property
    def statuses(self) -> list[str]:
        return [record["status"] for record in self.saved]


def verdicts(*denied: str) -> list[Verdict]:
    return [
        Verdict(
            action,
            TABLE_ARN,
            Decision.IMPLICIT_DENY if action in denied else Decision.ALLOWED,
            f"{action} {'is not allowed' if action in denied else 'is allowed'}",
        )
        for action in REQUIRED
    ]


def always(*denied: str) -> Callable[[], list[Verdict]]:
    return lambda: verdicts(*denied)


def apply(
    plan_: FixPlan,
    store: FakeStore,
    records: Records,
    verify: Callable[[], Sequence[Verdict]] | None = None,
    sleeps: list[float] | None = None,
    attempts: int = 5,
) -> Any:
    return apply_fix(
        plan_,
        store,
        account=ACCOUNT,
        verify=verify or always(),
        save_record=records,
        attempts=attempts,
        delay=2.5,
        sleep=(sleeps if sleeps is not None else []).append,
        clock=lambda: NOW,
    )


def test_apply_creates_a_verified_default_and_records_it() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()

    outcome = apply(fix, store, records)

    assert store.default == "v4"
    assert store.documents["v4"] == fix.new_document
    assert store.documents["v3"] == runbook_document()
    assert store.writes == ["create_default_version"]
    assert outcome.new_version == "v4"
    assert outcome.previous_version == "v3"
    assert outcome.deleted_version is None
    assert outcome.verification_attempts == 1
    assert outcome.record_path == records.path
    assert records.statuses == ["creating", "applied"]
    record = records.saved[-1]
    assert list(record) == [
        "schema",
        "status",
        "timestamp",
        "account",
        "policy_arn",
        "previous_version",
        "new_version",
        "deleted_version",
        "added_actions",
        "diff",
        "rollback_command",
        "verification",
        "error",
    ]
    assert record["schema"] == RECORD_SCHEMA
    assert record["timestamp"] == "2026-11-27T22:14:05Z"
    assert record["account"] == ACCOUNT
    assert record["previous_version"] == {"version_id": "v3", "document": runbook_document()}
    assert record["new_version"] == {"version_id": "v4", "document": fix.new_document}
    assert record["deleted_version"] is None
    assert record["added_actions"] == list(MISSING)
    assert record["diff"] == fix.diff
    assert record["rollback_command"] == (
        f"aws iam set-default-policy-version --policy-arn {POLICY_ARN} --version-id v3"
    )
    assert record["verification"]["attempts"] == 1
    assert record["error"] is None
    assert outcome.rollback_command in outcome.describe()


def test_apply_saves_the_deleted_version_before_deleting_it() -> None:
    store, records = FakeStore(count=5), Records()
    fix = store.plan()
    present_at_save: list[bool] = []
    records.on_save = lambda record: present_at_save.append("v1" in store.documents)

    outcome = apply(fix, store, records)

    assert fix.version_to_delete == "v1"
    assert present_at_save[0] is True
    assert records.statuses == ["deleting", "applied"]
    assert records.saved[0]["deleted_version"] == {
        "version_id": "v1",
        "document": FakeStore.document_for("v1"),
    }
    assert store.writes == ["delete_version", "create_default_version"]
    assert outcome.deleted_version == "v1"
    assert store.default == "v6"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda s: setattr(s, "default", "v2"), r"now v2.*planned against v3", id="default"
        ),
        pytest.param(
            lambda s: (s.documents.update(v9={}, v10={}), s.created.update(v9=NOW, v10=NOW)),
            "now has 5 versions",
            id="versions-filled-up",
        ),
    ],
)
def test_concurrent_change_is_refused_before_any_write(
    change: Callable[[FakeStore], object], message: str
) -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()
    change(store)

    with pytest.raises(ConcurrentChangeError, match=message):
        apply(fix, store, records)

    assert store.writes == []
    assert records.saved == []


def test_deleted_version_gone_since_planning_is_refused() -> None:
    store, records = FakeStore(count=5), Records()
    fix = store.plan()
    del store.documents["v1"]

    with pytest.raises(ConcurrentChangeError, match="planned to delete v1"):
        apply(fix, store, records)

    assert store.writes == []


def test_version_deleted_by_someone_else_before_reading_it_is_a_concurrent_change() -> None:
    store, records = FakeStore(count=5), Records()
    fix = store.plan()
    real_get = store.get_version_document

    def get_version_document(policy_arn: str, version_id: str) -> dict[str, Any]:
        del store.documents["v1"]  # deleted right after the listing was checked
        raise NotFoundError(f"iam:GetPolicyVersion {policy_arn}: not found ({version_id})")

    store.get_version_document = get_version_document  # type: ignore[method-assign]
    with pytest.raises(ConcurrentChangeError, match="v1, which the fix was to delete"):
        apply(fix, store, records)
    store.get_version_document = real_get  # type: ignore[method-assign]

    assert store.writes == []
    assert records.saved == []


def test_version_deleted_by_someone_else_before_deleting_it_is_a_concurrent_change() -> None:
    store, records = FakeStore(count=5), Records()
    fix = store.plan()
    store.fail_delete = NotFoundError("iam:DeletePolicyVersion: not found (v1)")

    with pytest.raises(
        ConcurrentChangeError, match=r"deleted by someone else.*nothing was written"
    ):
        apply(fix, store, records)

    assert store.writes == ["delete_version"]
    assert store.default == "v5"
    # The record does not claim a deletion is still under way.
    assert records.statuses == ["deleting", "failed"]
    assert "deleted by someone else" in records.saved[-1]["error"]
    assert records.saved[-1]["new_version"] is None


def test_plan_that_cannot_be_applied_is_refused_without_touching_the_store() -> None:
    store, records = FakeStore(), Records()
    compliant = FakeStore()
    compliant.documents["v3"] = with_statements(dict(DYNAMODB_STATEMENT, Action=list(REQUIRED)))

    with pytest.raises(RemediationError, match="already allowed"):
        apply(compliant.plan(), store, records)

    assert store.calls == []
    assert records.saved == []


def test_create_failing_after_delete_leaves_default_and_saves_the_deleted_document() -> None:
    store, records = FakeStore(count=5), Records()
    fix = store.plan()
    store.fail_create = RemediationError("MalformedPolicyDocument: simulated")

    with pytest.raises(RemediationError) as raised:
        apply(fix, store, records)

    message = str(raised.value)
    assert store.default == "v5"
    assert "v1" not in store.documents
    assert records.statuses == ["deleting", "failed"]
    assert records.saved[-1]["deleted_version"]["document"] == FakeStore.document_for("v1")
    assert records.saved[-1]["new_version"] is None
    assert "MalformedPolicyDocument" in records.saved[-1]["error"]
    assert "default version is unchanged (v5)" in message
    assert records.path in message
    assert f"jq .deleted_version.document {records.path} > {POLICY_NAME}-v1.json" in message
    assert (
        f"aws iam create-policy-version --policy-arn {POLICY_ARN} "
        f"--policy-document file://{POLICY_NAME}-v1.json"
    ) in message
    assert raised.value.record_path == records.path


def test_delete_failing_creates_nothing() -> None:
    store, records = FakeStore(count=5), Records()
    fix = store.plan()
    store.fail_delete = RemediationError("AccessDenied: iam:DeletePolicyVersion")

    with pytest.raises(RemediationError, match=r"default version is unchanged \(v5\)"):
        apply(fix, store, records)

    assert store.writes == ["delete_version"]
    assert store.default == "v5"
    assert sorted(store.documents) == ["v1", "v2", "v3", "v4", "v5"]
    assert records.statuses == ["deleting", "failed"]


def test_create_failing_without_delete_says_nothing_changed() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()
    store.fail_create = RemediationError("Throttling: simulated")

    with pytest.raises(RemediationError, match=r"unchanged \(v3\)"):
        apply(fix, store, records)

    assert store.default == "v3"
    assert records.statuses == ["creating", "failed"]


def test_verification_that_never_passes_rolls_back() -> None:
    store, records = FakeStore(), Records()
    sleeps: list[float] = []
    fix = store.plan()

    with pytest.raises(RemediationError, match=r"rolled back, v3 is the default again") as raised:
        apply(fix, store, records, verify=always("dynamodb:Scan"), sleeps=sleeps, attempts=3)

    assert "dynamodb:Scan" in str(raised.value)
    assert store.default == "v3"
    assert "v4" in store.documents  # kept, not deleted
    assert store.writes == ["create_default_version", "set_default_version"]
    assert sleeps == [2.5, 2.5]
    assert records.statuses == ["creating", "rolled back"]
    assert records.saved[-1]["verification"]["attempts"] == 3


def test_rollback_failing_gives_the_command_to_run() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()
    store.fail_set_default = RemediationError("Throttling: simulated")

    with pytest.raises(RemediationError, match="still the default") as raised:
        apply(fix, store, records, verify=always("dynamodb:Query"), attempts=1)

    assert rollback_command(POLICY_ARN, "v3") in str(raised.value)
    assert records.statuses == ["creating", "failed"]


def test_verification_passing_on_the_third_attempt_keeps_the_fix() -> None:
    store, records = FakeStore(), Records()
    sleeps: list[float] = []
    fix = store.plan()
    answers = iter([verdicts(*MISSING), verdicts("dynamodb:Scan"), verdicts()])

    outcome = apply(fix, store, records, verify=lambda: next(answers), sleeps=sleeps)

    assert outcome.verification_attempts == 3
    assert sleeps == [2.5, 2.5]
    assert store.default == "v4"
    assert records.statuses == ["creating", "applied"]


def test_verification_errors_count_as_failed_attempts() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()
    calls: list[int] = []

    def flaky() -> list[Verdict]:
        calls.append(1)
        if len(calls) == 1:
            raise RemediationError("role not found yet")
        return verdicts()

    outcome = apply(fix, store, records, verify=flaky)

    assert outcome.verification_attempts == 2


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(NOW, "remediation-20261127T221405Z.json", id="utc"),
        pytest.param(
            datetime(2026, 11, 28, 0, 14, 5, tzinfo=timezone(timedelta(hours=2))),
            "remediation-20261127T221405Z.json",
            id="converted-to-utc",
        ),
    ],
)
def test_record_filename(now: datetime, expected: str) -> None:
    assert record_filename(now) == expected


def test_record_filename_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        record_filename(datetime(2026, 11, 27, 22, 14, 5))


def test_rollback_command_is_exact() -> None:
    assert rollback_command(POLICY_ARN, "v3") == (
        "aws iam set-default-policy-version --policy-arn "
        "arn:aws:iam::123456789012:policy/MLPlatformECSTaskPolicy --version-id v3"
    )
