"""What a run recorded: each (action, resource) once, with the first test that needed it.

"First" is the first in file order (the test's file, line, then node id), so the result
does not depend on the order tests ran in, on xdist's distribution or on a random order
plugin. The ledger is filled from botocore's threads as well as the test's own (s3transfer
uploads parts in a pool), hence the lock; its payload is plain JSON, for xdist's
``workeroutput`` channel.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .mapping import Service, translate
from .model import Access, ApiCall, Note, Scope

#: A test: (file, line, node id), ordered as the tests stand in their files.
TestRef = tuple[str, int, str]


@dataclass(frozen=True)
class Entry:
    """One recorded requirement."""

    action: str
    #: ARN template or ``*``.
    resource: str
    #: The first test (in file order) whose calls needed it.
    test: TestRef
    #: The call that needed it in that test, ``dynamodb.Scan``.
    operation: str
    #: Every note any call raised for it, sorted.
    notes: tuple[Note, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.action, self.resource)


class Ledger:
    """Records calls while a test is current; merges other processes' ledgers."""

    def __init__(self, scope: Scope, mapping: Mapping[str, Service] | None = None) -> None:
        self.scope = scope
        self._mapping = mapping
        #: The test whose calls are recorded now; None: calls are not recorded.
        self.test: TestRef | None = None
        self.calls = 0
        self._tests: set[str] = set()
        self._entries: dict[tuple[str, str], Entry] = {}
        #: Why the recording may lack calls (a worker that crashed), for every report.
        self.gaps: list[str] = []
        self._lock = threading.Lock()

    def record(self, call: ApiCall) -> None:
        """Record ``call`` for the current test (nothing between tests)."""
        test = self.test
        if test is None:
            return
        try:
            accesses = translate(call, self.scope, self._mapping)
        except Exception as exc:  # a call is never dropped, nor the test broken by it
            note = Note("UNREADABLE", f"{type(exc).__name__} while reading it")
            accesses = (Access(f"{call.prefix}:{call.operation}", "*", call.name, (note,)),)
        with self._lock:
            self.calls += 1
            self._tests.add(test[2])
            for access in accesses:
                self._add(access, test)

    def _add(self, access: Access, test: TestRef) -> None:
        key = (access.action, access.resource)
        known = self._entries.get(key)
        if known is None:
            self._entries[key] = Entry(
                access.action, access.resource, test, access.operation, _sorted(access.notes)
            )
            return
        notes = _sorted((*known.notes, *access.notes))
        if test < known.test:
            self._entries[key] = Entry(
                access.action, access.resource, test, access.operation, notes
            )
        elif notes != known.notes:
            self._entries[key] = Entry(
                known.action, known.resource, known.test, known.operation, notes
            )

    @property
    def tests(self) -> int:
        """How many tests made a recorded call."""
        return len(self._tests)

    def entries(self) -> tuple[Entry, ...]:
        """Every entry, by action, then resource."""
        with self._lock:
            return tuple(
                sorted(self._entries.values(), key=lambda e: (e.action.lower(), e.resource))
            )

    # -- across processes ----------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        """This ledger as plain JSON (xdist sends it to the controller)."""
        return {
            "calls": self.calls,
            "tests": sorted(self._tests),
            "gaps": list(self.gaps),
            "entries": [
                [
                    e.action,
                    e.resource,
                    list(e.test),
                    e.operation,
                    [[n.id, n.detail] for n in e.notes],
                ]
                for e in self.entries()
            ],
        }

    def merge(self, payload: Mapping[str, Any]) -> None:
        """Add what another process recorded (:meth:`payload`)."""
        with self._lock:
            self.calls += int(payload["calls"])
            self._tests.update(str(t) for t in payload["tests"])
            self.gaps.extend(str(g) for g in payload["gaps"])
            for action, resource, test, operation, notes in payload["entries"]:
                ref: TestRef = (str(test[0]), int(test[1]), str(test[2]))
                access = Access(action, resource, operation, tuple(Note(i, d) for i, d in notes))
                self._add(access, ref)


def _sorted(notes: Iterable[Note]) -> tuple[Note, ...]:
    return tuple(sorted(set(notes), key=lambda n: (n.id, n.detail)))
