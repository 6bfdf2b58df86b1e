"""The request the containers make: its context keys, their values, and where each came from.

Verdicts are for a real request, not an empty one. The keys IAM sets on a request of the
task role's session are derived (:func:`derive_context`, key by key in :mod:`.session`):
with their value where the account can tell it, as *present but unknown* where it cannot
(``aws:TokenIssueTime``; ``aws:userid``, of which only the role id is known), and as
known to be absent where such a request never carries them (``aws:username``). Keys only
the running container's request can tell (the VPC endpoint it comes through, its source
address, the DynamoDB partition keys it reads) are declared by the user, in
``fixtures/request_context.toml`` (:func:`load_declared`) or on the command line. A key
that is none of these is absent from the request, with IAM's absent-key semantics; but
since its absence is only assumed, the evaluator tries it both ways and a verdict that
depends on it says so (:class:`AssumedAbsent`).

The derived keys and their sources are AWS's global condition keys
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
for a role session ``aws:PrincipalArn`` is the role's ARN, not the session's, and
``aws:PrincipalType`` is ``AssumedRole``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ...errors import ConfigurationError
from . import session
from .variables import normalize_context, shown_unknown

#: The user's declarations: ``[context]`` with ``key = "value"`` or a list of values.
DECLARED_FILE = "request_context.toml"
#: The source of ``--iam-context`` values.
OPTION = "--iam-context"
#: Tag keys: the role's and the table's tags are read whole, so a tag that is not there
#: is known to be absent.
_TAG_PREFIXES = ("aws:principaltag/", "aws:resourcetag/")


@dataclass(frozen=True)
class ContextEntry:
    """One key of the request context."""

    #: The key as AWS spells it (``aws:RequestedRegion``).
    key: str
    #: The key's values. Empty when the request does not carry the key (``source`` says
    #: how that is known), or when its value is not known (``known_prefix``).
    values: tuple[str, ...]
    #: Where the value comes from: ``role ARN``, ``table tag``, the declaring file, ...
    source: str
    #: None when ``values`` are the key's values. Otherwise the request carries the key
    #: but its value cannot be known here, except that it starts with this ("" when
    #: nothing of it is known; the role id and ":" for aws:userid).
    known_prefix: str | None = None

    @property
    def is_unknown(self) -> bool:
        """Whether the request carries the key with a value not known here."""
        return self.known_prefix is not None

    @property
    def shown(self) -> tuple[str, ...]:
        """The values as reports show them (``AROA...:<unknown>`` for an unknown one)."""
        if self.known_prefix is not None:
            return (shown_unknown(self.known_prefix),)
        return self.values


@dataclass(frozen=True)
class RequestContext:
    """The context of the containers' requests to one target."""

    entries: tuple[ContextEntry, ...]
    #: Whether the resource's tags were read whole, so that a tag not among them is known
    #: to be absent (the target's table's are); else aws:ResourceTag keys are assumed.
    resource_tags_read: bool = True

    def with_entries(self, entries: Sequence[ContextEntry]) -> RequestContext:
        """This context with ``entries`` added, each replacing the key it names."""
        merged = {entry.key.lower(): entry for entry in self.entries}
        merged.update((entry.key.lower(), entry) for entry in entries)
        return RequestContext(tuple(merged.values()), self.resource_tags_read)

    def for_resource(
        self,
        account: str | None,
        account_source: str,
        tags: Mapping[str, str] | None,
        what: str,
    ) -> RequestContext:
        """This context for a request to another resource than the target's table: its
        account (present but unknown when not known) and its tags (when not read, a tag
        key is assumed absent, not known to be); a resource outside the role's account is
        outside what aws:ResourceOrgID/Paths were derived for."""
        principal = self.entry("aws:PrincipalAccount")
        same = principal is not None and account is not None and account in principal.values
        dropped = ("aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths")
        kept = [
            entry
            for entry in self.entries
            if not entry.key.lower().startswith("aws:resourcetag/")
            and (entry.key.lower() not in dropped or (same and "org" in entry.key.lower()))
        ]
        kept.append(
            ContextEntry("aws:ResourceAccount", (account,), account_source)
            if account is not None
            else ContextEntry(
                "aws:ResourceAccount", (), f"the {what}'s account, not known here", ""
            )
        )
        kept.extend(
            ContextEntry(f"aws:ResourceTag/{key}", (value,), f"{what} tag")
            for key, value in sorted((tags or {}).items())
        )
        return RequestContext(tuple(kept), tags is not None)

    def values(self) -> dict[str, tuple[str, ...]]:
        """Key -> values, for :func:`.evaluation.evaluate`; a key known to be absent has
        none, and a key whose value is not known is left out (see :meth:`unknown`)."""
        return {entry.key: entry.values for entry in self.entries if not entry.is_unknown}

    def folded_values(self) -> dict[str, tuple[str, ...]]:
        """:meth:`values` as :func:`.variables.normalize_context` folds them, which
        :func:`.evaluation.evaluate` takes as they are. The same mapping at every call,
        not to be changed: every evaluation of the target reads it, and a fix's proof
        makes dozens."""
        return self._folded_values

    @functools.cached_property
    def _folded_values(self) -> dict[str, tuple[str, ...]]:
        return normalize_context(self.values())

    def unknown(self) -> dict[str, str]:
        """Lower-cased key -> the known start of its value, for each key the request
        carries with a value not known here (``unknown_values`` of
        :func:`.evaluation.evaluate`). The same mapping at every call, not to be changed."""
        return self._unknown

    @functools.cached_property
    def _unknown(self) -> dict[str, str]:
        return {
            entry.key.lower(): entry.known_prefix
            for entry in self.entries
            if entry.known_prefix is not None
        }

    def entry(self, key: str) -> ContextEntry | None:
        folded = key.lower()
        for entry in self.entries:
            if entry.key.lower() == folded:
                return entry
        return None

    def assumed_absent(self) -> AssumedAbsent:
        return self._assumed_absent

    @functools.cached_property
    def _assumed_absent(self) -> AssumedAbsent:
        prefixes = _TAG_PREFIXES if self.resource_tags_read else _TAG_PREFIXES[:1]
        return AssumedAbsent(frozenset(entry.key.lower() for entry in self.entries), prefixes)

    def describe(self, keys: Iterable[str]) -> list[str]:
        """``aws:RequestedRegion = us-east-1 (target region)`` for each of ``keys``."""
        lines = []
        for key in dict.fromkeys(keys):
            entry = self.entry(key)
            if entry is None:
                lines.append(f"{key}: absent")
            elif not entry.shown:
                lines.append(f"{entry.key}: absent ({entry.source})")
            else:
                lines.append(f"{entry.key} = {', '.join(entry.shown)} ({entry.source})")
        return lines


@dataclass(frozen=True)
class AssumedAbsent:
    """The keys whose absence from the request is an assumption (lower-cased).

    Every key not in the context (which lists the keys known to be absent, too), except
    tag keys (the tags were read whole).
    """

    present: frozenset[str]
    #: Key prefixes whose keys were read whole (the tags): never assumed.
    known_prefixes: tuple[str, ...] = _TAG_PREFIXES

    def __contains__(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and key.lower() not in self.present
            and not key.lower().startswith(self.known_prefixes)
        )


def derive_context(
    *,
    role_arn: str,
    account: str,
    region: str,
    now: datetime,
    role_tags: Mapping[str, str],
    resource_account: str,
    resource_tags: Mapping[str, str],
    role_id: str | None = None,
) -> list[ContextEntry]:
    """The keys of every request of the task role's sessions, from the account: with a
    value, present but unknown, or known to be absent (see :mod:`.session`)."""
    moment = now.astimezone(UTC)
    entries = [
        ContextEntry("aws:PrincipalArn", (role_arn,), "role ARN"),
        ContextEntry("aws:PrincipalAccount", (account,), "role's account"),
        ContextEntry("aws:PrincipalType", ("AssumedRole",), "ECS assumes the task role"),
        ContextEntry("aws:RequestedRegion", (region,), "target region"),
        ContextEntry("aws:SecureTransport", ("true",), "AWS SDKs call over HTTPS"),
        ContextEntry("aws:ViaAWSService", ("false",), "the containers call DynamoDB directly"),
        ContextEntry("aws:PrincipalIsAWSService", ("false",), "the caller is a role session"),
        ContextEntry("aws:CurrentTime", (moment.strftime("%Y-%m-%dT%H:%M:%SZ"),), "run time (UTC)"),
        ContextEntry("aws:EpochTime", (str(int(moment.timestamp())),), "run time (UTC)"),
        ContextEntry("aws:ResourceAccount", (resource_account,), "table's account"),
        ContextEntry(session.MFA_PRESENT[0], (session.MFA_PRESENT[1],), session.MFA_PRESENT[2]),
        ContextEntry(session.USERID, (), session.USERID_SOURCE, f"{role_id}:")
        if role_id
        else ContextEntry(session.USERID, (), session.USERID_WITHOUT_ROLE_ID, ""),
    ]
    entries.extend(ContextEntry(key, (), source, "") for key, source in session.UNKNOWN.items())
    entries.extend(ContextEntry(key, (), source) for key, source in session.ABSENT.items())
    entries.extend(
        ContextEntry(f"aws:PrincipalTag/{key}", (value,), "role tag")
        for key, value in sorted(role_tags.items())
    )
    entries.extend(
        ContextEntry(f"aws:ResourceTag/{key}", (value,), "table tag")
        for key, value in sorted(resource_tags.items())
    )
    return entries


def build_context(
    derived: Sequence[ContextEntry],
    declared: Sequence[ContextEntry] = (),
    overrides: Mapping[str, Sequence[str]] | None = None,
) -> RequestContext:
    """Derived keys, then the file's declarations, then the command line's: later wins."""
    merged: dict[str, ContextEntry] = {}
    for entry in (*derived, *declared):
        merged[entry.key.lower()] = entry
    for key, values in (overrides or {}).items():
        merged[key.lower()] = ContextEntry(key, tuple(values), OPTION)
    return RequestContext(tuple(merged.values()))


@dataclass(frozen=True)
class Declared:
    """What the user declared in ``fixtures/request_context.toml``."""

    #: ``[context]``: keys of the containers' requests (aws:SourceVpce, ...).
    request: tuple[ContextEntry, ...] = ()
    #: ``[assume_role]``: keys of ECS's sts:AssumeRole request (aws:SourceArn).
    assume_role: tuple[ContextEntry, ...] = ()


def load_declared(path: Path) -> Declared:
    """The ``[context]`` and ``[assume_role]`` tables of ``path``; no file declares nothing."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Declared()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{label}: cannot be read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{label}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"context", "assume_role"})
    if unknown:
        raise ConfigurationError(
            f"{label}: unknown table [{unknown[0]}]; expected [context] or [assume_role]"
        )
    return Declared(
        request=_entries(data.get("context", {}), label, "context"),
        assume_role=_entries(data.get("assume_role", {}), label, "assume_role"),
    )


def _entries(table: object, label: str, name: str) -> tuple[ContextEntry, ...]:
    if not isinstance(table, dict):
        raise ConfigurationError(f"{label}: [{name}] must be a table of key = value")
    entries = []
    for key, value in table.items():
        values = value if isinstance(value, list) else [value]
        if ":" not in key or not values or not all(isinstance(v, str) and v for v in values):
            raise ConfigurationError(
                f'{label}: [{name}] {key} = {value!r}: expected "service:Key" = "value" or '
                'a list of values, for example "aws:SourceVpce" = "vpce-0a1b2c3d"'
            )
        entries.append(ContextEntry(key, tuple(values), label))
    return tuple(entries)
