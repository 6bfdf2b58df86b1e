"""Applying a fix through an injected policy store: verified, recorded, rolled back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import Verdict
from iam_compliance.engine.fix.planning import FixPlan
from iam_compliance.engine.fix.rollout import (
    RECORD_SCHEMA,
    FixDestination,
    apply_fix,
    rollback_command,
)
from iam_compliance.errors import ConcurrentChangeError, NotFoundError, RemediationError

from conftest import (
    ACCOUNT,
    DYNAMODB_STATEMENT,
    MISSING,
    NOW,
    POLICY_ARN,
    POLICY_NAME,
    REGION,
    REQUIRED,
    TABLE_ARN,
    FakeStore,
    Records,
    runbook_policy,
    task_policy,
)

#: A policy in another account than the suite's: the command names the ARN it is given.
OTHER_ACCOUNT_POLICY_ARN = "arn:aws:iam::123456789012:policy/MLPlatformECSTaskPolicy"


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
    where: FixDestination | None = None,
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
        where=where,
    )


def test_apply_creates_a_verified_default_and_records_it() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()

    outcome = apply(fix, store, records)

    assert store.default == "v4"
    assert store.documents["v4"] == fix.new_document
    assert store.documents["v3"] == runbook_policy()
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
        "mode",
        "region",
        "endpoint_url",
        "caller_arn",
        "policy_arn",
        "previous_version",
        "new_version",
        "deleted_version",
        "added_actions",
        "diff",
        "rollback_command",
        "verification",
        "error",
        "notes",
        "account_state",
    ]
    assert record["schema"] == RECORD_SCHEMA
    assert record["timestamp"] == "2026-11-27T22:14:05Z"
    assert record["account"] == ACCOUNT
    assert record["previous_version"] == {"version_id": "v3", "document": runbook_policy()}
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
    compliant.documents["v3"] = task_policy(dict(DYNAMODB_STATEMENT, Action=list(REQUIRED)))

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


def test_rollback_command_is_exact() -> None:
    assert rollback_command(OTHER_ACCOUNT_POLICY_ARN, "v3") == (
        "aws iam set-default-policy-version --policy-arn "
        "arn:aws:iam::123456789012:policy/MLPlatformECSTaskPolicy --version-id v3"
    )


# ------------------------------------------------ another writer, and lost answers


def test_rollback_leaves_another_writers_default_alone() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()

    def someone_else_then_fail() -> list[Verdict]:
        # Right after this run's v4, a third party makes its own v5 the default.
        store.documents["v5"] = task_policy(dict(DYNAMODB_STATEMENT, Sid="TheirOwn"))
        store.created["v5"] = NOW
        store.default = "v5"
        return verdicts("dynamodb:Scan")

    with pytest.raises(RemediationError) as raised:
        apply(fix, store, records, verify=someone_else_then_fail, attempts=1)

    assert store.default == "v5"  # not displaced
    assert "set_default_version" not in store.writes
    message = str(raised.value)
    assert "not rolled back, because the default is now v5, not this run's v4" in message
    assert "the versions are v1, v2, v3, v4, v5" in message
    assert records.statuses == ["creating", "not rolled back"]
    assert records.saved[-1]["account_state"]["default_version"] == "v5"


class LostAnswers(FakeStore):
    """IAM applies the write, then the answer is lost on the way back."""

    def __init__(self, count: int = 3, *, lose: str) -> None:
        super().__init__(count)
        self.lose = lose

    def _lost(self, call: str) -> None:
        if call == self.lose:
            raise ConnectionResetError(f"{call}: connection reset after the request was sent")

    def create_default_version(self, policy_arn: str, document: Any) -> str:
        super().create_default_version(policy_arn, document)
        self._lost("create")
        raise AssertionError("unreachable")  # pragma: no cover

    def delete_version(self, policy_arn: str, version_id: str) -> None:
        super().delete_version(policy_arn, version_id)
        self._lost("delete")

    def set_default_version(self, policy_arn: str, version_id: str) -> None:
        super().set_default_version(policy_arn, version_id)
        self._lost("set_default")


def test_lost_answer_to_create_is_recognised_by_content_and_not_repeated() -> None:
    store, records = LostAnswers(lose="create"), Records()
    fix = store.plan()

    outcome = apply(fix, store, records)

    assert store.writes == ["create_default_version"]
    assert sorted(store.documents) == ["v1", "v2", "v3", "v4"]
    assert (outcome.new_version, store.default) == ("v4", "v4")
    assert records.statuses == ["creating", "applied"]
    assert records.saved[-1]["new_version"]["version_id"] == "v4"
    [note] = records.saved[-1]["notes"]
    assert "answer to creating the new version was lost" in note
    assert "found v4 holding this run's document" in note
    assert note in outcome.describe()


def test_lost_answer_to_delete_goes_on_instead_of_blaming_someone_else() -> None:
    store, records = LostAnswers(5, lose="delete"), Records()
    fix = store.plan()

    outcome = apply(fix, store, records)

    assert outcome.deleted_version == "v1"
    assert store.default == "v6"
    assert sorted(store.documents) == ["v2", "v3", "v4", "v5", "v6"]
    assert "deleting v1 was lost" in records.saved[-1]["notes"][0]


def test_lost_answer_to_rollback_says_it_is_rolled_back() -> None:
    store, records = LostAnswers(lose="set_default"), Records()
    fix = store.plan()

    with pytest.raises(RemediationError, match="rolled back, v3 is the default again") as raised:
        apply(fix, store, records, verify=always("dynamodb:Scan"), attempts=1)

    assert store.default == "v3"
    assert not raised.value.own_version_is_default
    assert records.statuses == ["creating", "rolled back"]


def test_create_that_failed_states_the_default_as_read_back() -> None:
    store, records = FakeStore(), Records()
    fix = store.plan()

    def create_then_someone_else(policy_arn: str, document: Any) -> str:
        store.default = "v2"  # another writer, just before this run's write failed
        raise RemediationError("Throttling: simulated")

    store.create_default_version = create_then_someone_else  # type: ignore[method-assign]
    with pytest.raises(RemediationError) as raised:
        apply(fix, store, records)

    assert "the default version is now v2 (the fix was planned on v3" in str(raised.value)
    assert records.saved[-1]["account_state"]["default_version"] == "v2"


@pytest.mark.parametrize(
    ("where", "command"),
    [
        pytest.param(
            FixDestination("live", REGION, None),
            f"aws iam set-default-policy-version --policy-arn {POLICY_ARN} --version-id v3",
            id="live",
        ),
        pytest.param(
            FixDestination(
                "live", REGION, "http://127.0.0.1:5000", "arn:aws:iam::618574523116:user/ci"
            ),
            f"aws iam set-default-policy-version --policy-arn {POLICY_ARN} --version-id v3 "
            "--endpoint-url http://127.0.0.1:5000",
            id="endpoint",
        ),
        pytest.param(FixDestination("mock", REGION, None), None, id="mock"),
    ],
)
def test_record_says_where_the_fix_was_applied(where: FixDestination, command: str | None) -> None:
    store, records = FakeStore(), Records()
    outcome = apply(store.plan(), store, records, where=where)
    record = records.saved[-1]
    assert (record["mode"], record["region"], record["endpoint_url"], record["caller_arn"]) == (
        where.mode,
        REGION,
        where.endpoint_url,
        where.caller_arn,
    )
    assert record["rollback_command"] == command
    assert outcome.rollback_command == command
    if command is None:
        assert "to undo: nothing to undo: the embedded mock account" in outcome.describe()
