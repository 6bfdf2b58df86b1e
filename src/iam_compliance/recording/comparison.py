"""Recorded calls against a requirements file, both ways (``--iam-record-check``).

* A recorded entry is covered when a requirement names its action and that
  requirement's resource covers the entry's whole resource (the engine's matching:
  :func:`~iam_compliance.engine.matching.covers_resource`). Not covered, or undecided,
  is drift: the code needs something the requirements, and so the compliance suite,
  never check.
* A requirement no recorded entry reaches (same action, resources that share an ARN) was
  exercised by no test: stale, or the tests miss a path the code has.

Both sides are read as the compliance suite reads them for one target: placeholders
become the target's partition, region, account and table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..engine.matching import covers_resource, matches_action, overlaps_resource
from ..engine.requirements import RequiredAction
from ..engine.target import Target, fill_placeholders
from .ledger import Entry


@dataclass(frozen=True)
class Uncovered:
    """A recorded entry no requirement covers."""

    entry: Entry
    #: The entry's resource for the target.
    arn: str
    #: Why: no requirement names the action, or which ones fall short.
    why: str


@dataclass(frozen=True)
class Drift:
    uncovered: tuple[Uncovered, ...]
    #: Requirements no recorded entry reaches, in the file's order.
    unexercised: tuple[RequiredAction, ...]


def resolve(resource: str, target: Target) -> str:
    """A recorded resource as the compliance suite reads it for ``target``."""
    if resource == "*":
        return resource
    return fill_placeholders(resource, target, f"recorded resource {resource!r}")


def compare(
    entries: Sequence[Entry], requirements: Sequence[RequiredAction], target: Target
) -> Drift:
    """Which entries no requirement covers, and which requirements no entry reaches."""
    wanted = [(required, required.arn(target)) for required in requirements]
    uncovered: list[Uncovered] = []
    reached: set[int] = set()
    for entry in entries:
        arn = resolve(entry.resource, target)
        same_action = [
            (number, required, pattern)
            for number, (required, pattern) in enumerate(wanted)
            if matches_action(required.name, entry.action)
        ]
        verdicts = [covers_resource(pattern, arn) for _, _, pattern in same_action]
        reached.update(
            number
            for number, _, pattern in same_action
            if overlaps_resource(pattern, arn) is not False
        )
        if any(verdict is True for verdict in verdicts):
            continue
        if not same_action:
            why = f"no requirement names {entry.action}"
        elif any(verdict is None for verdict in verdicts):
            why = "whether " + " or ".join(p for _, _, p in same_action) + " covers it "
            why += "could not be decided"
        else:
            why = f"{entry.action} is required only on " + ", ".join(p for _, _, p in same_action)
        uncovered.append(Uncovered(entry, arn, why))
    unexercised = tuple(r for number, (r, _) in enumerate(wanted) if number not in reached)
    return Drift(tuple(uncovered), unexercised)
