"""The writes of a fix, one step at a time, and what to say when one fails.

Each step writes once. When a write fails, whatever the error, the versions are read back
(:mod:`.readback`) before anything is decided or said: a write that IAM applied although
its answer was lost is taken as done, not repeated, and every message and record states
what the account holds.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, Protocol

from ...errors import ConcurrentChangeError, NotFoundError, RemediationError
from ..policy import PolicyVersion
from .planning import FixPlan
from .readback import AccountState, read_state, unknown_state

#: What a mock-mode fix says instead of a roll-back command.
MOCK_UNDO = "nothing to undo: the embedded mock account existed only for this run"


class PolicyStore(Protocol):
    """The writes and reads of a managed policy's versions that applying a fix needs."""

    def list_versions(self, policy_arn: str) -> list[PolicyVersion]: ...

    def get_version_document(self, policy_arn: str, version_id: str) -> dict[str, Any]: ...

    def create_default_version(self, policy_arn: str, document: Mapping[str, Any]) -> str:
        """Create a version from ``document``, make it the default, return its id."""
        ...

    def delete_version(self, policy_arn: str, version_id: str) -> None: ...

    def set_default_version(self, policy_arn: str, version_id: str) -> None: ...


def make_room(
    plan: FixPlan,
    version: str,
    store: PolicyStore,
    record: dict[str, Any],
    save_record: Callable[[Mapping[str, Any]], str],
    path: str,
) -> None:
    """Delete the oldest non-default version (already saved in the record)."""
    arn = plan.policy_arn
    try:
        store.delete_version(arn, version)
    except NotFoundError as exc:  # someone else deleted it since the listing
        gone = gone_meanwhile(plan, exc)
        record.update(status="failed", error=str(gone))
        save_again(save_record, record, path)
        raise gone from exc
    except Exception as exc:  # was it applied all the same? Read back before deciding
        try:
            state = read_state(store, arn)
        except Exception as again:
            state, why = None, unknown_state(arn, again)
        if state is not None:
            record["account_state"] = state.as_record()
            if version not in state.versions:  # deleted: only the answer was lost
                record["notes"].append(
                    f"the answer to deleting {version} was lost ({exc}), but reading back "
                    f"shows it deleted"
                )
                return
            why = f"{default_now(plan, state)}; no new version was created"
        record.update(status="failed", error=f"deleting {version} failed: {exc}; {why}")
        path, note = save_again(save_record, record, path)
        raise RemediationError(
            f"{arn}: deleting {version} to make room failed ({exc}); {why}. {version}'s "
            f"document is saved in {path} under .deleted_version.document{note}",
            record_path=path,
        ) from exc


def create(
    plan: FixPlan,
    document: Mapping[str, Any],
    store: PolicyStore,
    record: dict[str, Any],
    save_record: Callable[[Mapping[str, Any]], str],
    path: str,
    known: Sequence[str],
) -> str:
    """Create the new default version; return its id.

    ``known`` are the versions listed before any write: after a failure, a version outside
    them that holds ``document`` is this run's own, created although the answer was lost.
    """
    arn = plan.policy_arn
    try:
        new_version = store.create_default_version(arn, document)
    except Exception as exc:  # whatever the store raised, find out what IAM holds
        try:
            state = read_state(store, arn, document=document, known=known)
        except Exception as again:
            why = f"creating the new version failed: {exc}; {unknown_state(arn, again)}"
            record.update(status="failed", error=why)
            path, note = save_again(save_record, record, path)
            raise RemediationError(
                f"{arn}: {why} (record: {path}){note}", record_path=path
            ) from exc
        record["account_state"] = state.as_record()
        own = state.own_version
        if own is None:  # not created: say what the default really is
            record.update(status="failed", error=f"creating the new version failed: {exc}")
            path, note = save_again(save_record, record, path)
            message = create_failed(plan, path, exc, state) + note
            raise RemediationError(message, record_path=path) from exc
        record["new_version"] = {"version_id": own, "document": copy.deepcopy(dict(document))}
        if state.default != own:  # created, but someone else's version is the default
            why = (
                f"the answer to creating the new version was lost ({exc}); reading back found "
                f"this run's document as {own}, but the default is {state.default}: someone "
                f"else changed the policy meanwhile, so nothing more was changed; "
                f"{state.describe()}"
            )
            record.update(status="failed", error=why)
            path, note = save_again(save_record, record, path)
            raise RemediationError(
                f"{arn}: {why} (record: {path}){note}", record_path=path
            ) from exc
        record["notes"].append(
            f"the answer to creating the new version was lost ({exc}), but reading back "
            f"found {own} holding this run's document, as the default; it was not created "
            "twice"
        )
        return own
    record["new_version"] = {"version_id": new_version, "document": copy.deepcopy(dict(document))}
    return new_version


def default_now(plan: FixPlan, state: AccountState) -> str:
    """The default version as read back, compared with the one the fix was planned on."""
    if state.default == plan.current_version:
        return f"the default version is unchanged ({plan.current_version})"
    return (
        f"the default version is now {state.default or 'none'} (the fix was planned on "
        f"{plan.current_version}; someone else changed it)"
    )


def gone_meanwhile(plan: FixPlan, exc: Exception) -> ConcurrentChangeError:
    return ConcurrentChangeError(
        f"{plan.policy_arn}: {plan.version_to_delete}, which the fix was to delete to make "
        f"room, was deleted by someone else meanwhile ({exc}); nothing was written"
    )


def create_failed(plan: FixPlan, path: str, exc: Exception, state: AccountState) -> str:
    head = f"{plan.policy_arn}: creating the new version failed ({exc}); {default_now(plan, state)}"
    if not plan.version_to_delete:
        return f"{head}. Record: {path}"
    restored = f"{plan.policy_name}-{plan.version_to_delete}.json"
    return (
        f"{head}, but {plan.version_to_delete} had already been deleted to make room. "
        f"Its document is saved in {path} under .deleted_version.document; to restore it "
        f"as a non-default version run: jq .deleted_version.document {shlex.quote(path)} > "
        f"{shlex.quote(restored)} && aws iam create-policy-version --policy-arn "
        f"{shlex.quote(plan.policy_arn)} --policy-document file://{shlex.quote(restored)}"
    )


def roll_back(
    plan: FixPlan,
    store: PolicyStore,
    record: dict[str, Any],
    new_version: str,
    failure: str,
    save_record: Callable[[Mapping[str, Any]], str],
    path: str,
) -> NoReturn:
    """Make the previous version the default again, while it is this run's own; raise.

    Another writer may have made its own version the default since this run's: that one
    is left alone, and the message says what the account holds.
    """
    # Long because each of its three endings (left alone, rolled back, failed) must save
    # the record and say exactly what the account holds.
    arn, previous = plan.policy_arn, plan.current_version
    unverified = f"{new_version} did not verify after {record['verification']['attempts']} "
    unverified += f"attempt(s) ({failure})"
    try:
        state = read_state(store, arn)
    except Exception as exc:  # without knowing the default, changing it could clobber
        why = f"{unverified}; not rolled back: {unknown_state(arn, exc)}"
        record.update(status="failed", error=why)
        path, note = save_again(save_record, record, path)
        raise RemediationError(f"{arn}: {why} (record: {path}){note}", record_path=path) from exc
    record["account_state"] = state.as_record()
    if state.default != new_version:
        why = (
            f"{unverified}; not rolled back, because the default is now {state.default or 'none'}"
            f", not this run's {new_version}: someone else changed the policy meanwhile, and "
            f"their version is left as it is; {state.describe()}"
        )
        record.update(status="not rolled back", error=why)
        path, note = save_again(save_record, record, path)
        raise RemediationError(f"{arn}: {why} (record: {path}){note}", record_path=path)
    try:
        store.set_default_version(arn, previous)
    except Exception as exc:  # the answer may be lost: read back before saying anything
        after = rolled_back(store, plan, exc)
        if after is not None:
            record["account_state"] = after.as_record()
            record["notes"].append(
                f"the answer to making {previous} the default again was lost ({exc}), but "
                f"reading back shows {previous} is the default"
            )
        else:
            undo = record["rollback_command"] or MOCK_UNDO
            why = f"{unverified}, and making {previous} the default again failed ({exc})"
            record.update(status="failed", error=why)
            path, note = save_again(save_record, record, path)
            raise RemediationError(
                f"{arn}: {why}; {new_version} is still the default. Run: {undo} "
                f"(record: {path}){note}",
                record_path=path,
                own_version_is_default=True,
            ) from exc
    record.update(status="rolled back", error=unverified)
    path, note = save_again(save_record, record, path)
    raise RemediationError(
        f"{arn}: {unverified}; rolled back, {previous} is the default again and "
        f"{new_version} is kept as a non-default version (record: {path}){note}",
        record_path=path,
    )


def rolled_back(store: PolicyStore, plan: FixPlan, exc: Exception) -> AccountState | None:
    """The state read back after a failed roll-back, if it shows the roll-back applied."""
    try:
        state = read_state(store, plan.policy_arn)
    except Exception:  # the roll-back's own failure is the one to report
        return None
    return state if state.default == plan.current_version else None


def save_again(
    save_record: Callable[[Mapping[str, Any]], str], record: Mapping[str, Any], path: str
) -> tuple[str, str]:
    """Save ``record`` while already failing; return its path and a note if saving failed.

    The earlier save at ``path`` still holds every document read so far, so the error
    being raised points there rather than being replaced by the save error.
    """
    try:
        return save_record(record), ""
    except Exception as exc:  # keep the original failure the one that is reported
        return path, f" (saving the updated record failed: {exc}; {path} has the earlier one)"
