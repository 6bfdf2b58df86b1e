"""Split a run's targets into shards, so that several machines check an organization.

``--iam-shard I/N`` keeps the targets of shard I of N. The split is:

* **by account**: targets that share an account (``AWS_ACCOUNT_ID`` in one partition),
  or the credentials they are read with, are one group, and a group goes to one shard, so
  every account is read by exactly one shard (one sweep, one ``GetCallerIdentity``, and
  IAM's per-account request rate spent once);
* **balanced** by the number of targets: the largest group first, each to the shard with
  the fewest targets so far (the lowest index on a tie);
* **stable**: the same targets give the same shards, whatever the order of the files or
  the interpreter's hash seed (groups are ordered by their size and their own values);
* **disjoint and covering**: every target is in exactly one shard. More shards than
  groups leave some shards empty: "nothing to check in this shard".

Pure: targets in, names out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .engine.target import Target
from .errors import ConfigurationError

OPTION = "--iam-shard"
_SHARD_RE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Which part of the run this is: shard ``index`` of ``count``, counted from 1."""

    index: int
    count: int

    @property
    def text(self) -> str:
        return f"shard {self.index} of {self.count}"


@dataclass(frozen=True)
class ShardPlan:
    """What one shard checks, and what the whole run does."""

    shard: Shard
    #: This shard's targets, in the order the run was given them.
    targets: tuple[Target, ...]
    #: Every target of the run, all shards, in the order given.
    all_targets: tuple[Target, ...]
    #: Each shard's target names, shard 1 first.
    assignment: tuple[tuple[str, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not self.targets

    @property
    def accounts(self) -> tuple[str, ...]:
        """The accounts this shard reads, each once."""
        return tuple(dict.fromkeys(t.account_id for t in self.targets))


def parse_shard(text: str, option: str = OPTION) -> Shard:
    """``2/4`` as shard 2 of 4; anything else is a usage error naming ``option``."""
    expected = f"{option} {text!r}: expected I/N, shard I of N counted from 1, such as 2/4"
    match = _SHARD_RE.fullmatch(text)
    if match is None:
        raise ConfigurationError(expected)
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ConfigurationError(f"{expected}; N must be at least 1")
    if not 1 <= index <= count:
        raise ConfigurationError(f"{expected}; I must be from 1 to {count}")
    return Shard(index, count)


def account_groups(targets: Sequence[Target]) -> list[list[Target]]:
    """The targets that must be read by one shard, together: those that share an
    account, or credentials (a union of both relations). Each group in the order given."""
    parent = list(range(len(targets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[tuple[str, str], int] = {}
    for i, target in enumerate(targets):
        keys = [("account", f"{target.partition}:{target.account_id}")]
        if target.credentials is not None:
            keys.append(("key", target.credentials.access_key_id))
        for key in keys:
            if key in first_of:
                parent[root(i)] = root(first_of[key])
            else:
                first_of[key] = i
    groups: dict[int, list[Target]] = {}
    for i, target in enumerate(targets):
        groups.setdefault(root(i), []).append(target)
    return list(groups.values())


def assign_shards(targets: Sequence[Target], count: int) -> tuple[tuple[Target, ...], ...]:
    """Each of ``count`` shards' targets (in the order given), shard 1 first."""
    groups = account_groups(targets)
    # Largest first; equal sizes by their own values, never by the order of the files.
    groups.sort(key=lambda group: (-len(group), _group_key(group)))
    loads = [0] * count
    chosen: dict[str, int] = {}
    for group in groups:
        shard = min(range(count), key=lambda n: (loads[n], n))
        loads[shard] += len(group)
        chosen.update((t.name, shard) for t in group)
    return tuple(tuple(t for t in targets if chosen[t.name] == n) for n in range(count))


def _group_key(group: Sequence[Target]) -> tuple[str, str]:
    """A group's own order: its smallest account, then its smallest target name (names
    are unique within a run)."""
    return (min(f"{t.partition}:{t.account_id}" for t in group), min(t.name for t in group))


def plan_shard(targets: Sequence[Target], shard: Shard) -> ShardPlan:
    """What shard ``shard`` of the run over ``targets`` checks."""
    assignment = assign_shards(targets, shard.count)
    return ShardPlan(
        shard=shard,
        targets=assignment[shard.index - 1],
        all_targets=tuple(targets),
        assignment=tuple(tuple(t.name for t in part) for part in assignment),
    )
