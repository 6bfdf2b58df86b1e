"""After a write whose answer did not arrive, find out what the account really holds.

IAM writes are not idempotent: a CreatePolicyVersion whose response was lost (a timeout, a
reset connection) may well have been applied, and sending it again makes a second version.
So the writes are sent once, and after any failure the versions are listed again and this
run's own document is recognised by its content before anything else is decided or said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..policy import PolicyVersion


class VersionReader(Protocol):
    """The reads of a :class:`~.rollout.PolicyStore` that reading back needs."""

    def list_versions(self, policy_arn: str) -> list[PolicyVersion]: ...

    def get_version_document(self, policy_arn: str, version_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AccountState:
    """The policy's versions as listed after a write, and which of them this run made."""

    #: Every version id, oldest first, as IAM listed them.
    versions: tuple[str, ...]
    #: The default version; None when the listing names none.
    default: str | None
    #: The version holding this run's new document, when one exists.
    own_version: str | None = None

    def describe(self) -> str:
        """``the default version is v6; the versions are v1, v2, v6``."""
        default = self.default or "none"
        return f"the default version is {default}; the versions are {', '.join(self.versions)}"

    def as_record(self) -> dict[str, Any]:
        return {
            "default_version": self.default,
            "versions": list(self.versions),
            "own_version": self.own_version,
        }


def read_state(
    store: VersionReader,
    policy_arn: str,
    *,
    document: Mapping[str, Any] | None = None,
    known: Sequence[str] = (),
) -> AccountState:
    """List the versions; with ``document``, find the version holding it among the new ones.

    ``known`` are the versions that existed before this run wrote anything: only a version
    outside them can be this run's own. Raises whatever the store raises.
    """
    listed = sorted(store.list_versions(policy_arn), key=lambda v: (v.created, _number(v)))
    default = next((v.version_id for v in listed if v.is_default), None)
    own = None
    if document is not None:
        wanted = _canonical(document)
        for version in listed:
            if version.version_id in known:
                continue
            found = store.get_version_document(policy_arn, version.version_id)
            if _canonical(found) == wanted:
                own = version.version_id
                break
    return AccountState(tuple(v.version_id for v in listed), default, own)


def unknown_state(policy_arn: str, exc: BaseException) -> str:
    """What to say when even reading back failed."""
    return (
        f"reading the versions back failed too ({exc}), so what the account holds now is "
        f"unknown; look with: aws iam list-policy-versions --policy-arn {policy_arn}"
    )


def _number(version: PolicyVersion) -> int:
    digits = version.version_id.lstrip("v")
    return int(digits) if digits.isdigit() else 0


def _canonical(document: Mapping[str, Any]) -> Any:
    """A document's content for comparison: IAM keeps the JSON, not its layout."""
    return _sorted(dict(document))


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _sorted(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value
