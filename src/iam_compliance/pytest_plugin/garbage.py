"""The garbage collector during a compliance run: what the run keeps is frozen as it goes.

A run keeps nearly everything it makes until it ends: the imports, moto's accounts, each
target read and judged, each test's report and row. CPython's collector walks every object
it tracks at each full collection, and a run of 1,000 targets ran about twenty of them,
each longer than the last (2 of its 18 seconds).

So in the outermost compliance run of a process, what the run has made is moved to the
permanent generation (:func:`gc.freeze`) before its first test, and every
:data:`TESTS_PER_FREEZE` tests after a full collection: such a collection finds every
unreachable cycle first, so only what is still reachable is frozen, and the collections
in between walk only what was made since. A frozen object that later becomes part of an
unreachable cycle is freed when the process ends instead; reference counting frees
everything else as before. Nothing is frozen in a run nested in another (a self-test's
inline run), whose objects would be frozen with it.

The freezing is done from a hook, between tests, and not from a :data:`gc.callbacks`
entry: a callback is Python code run inside whatever allocation started a collection, and
a KeyboardInterrupt that arrives while it runs is reported as unraisable and lost.
"""

from __future__ import annotations

import gc

#: How many tests run between two freezes: the collection before each walks what these
#: tests made (a few tens of milliseconds for a thousand).
TESTS_PER_FREEZE = 1000


def freeze_all() -> None:
    """Freeze every object tracked now (what the run made before its tests, or everything
    at its end: it lives until the run ends, or dies with the process)."""
    gc.freeze()


class Freezer:
    """Collects then freezes every :data:`TESTS_PER_FREEZE` tests (registered in the
    outermost compliance run only)."""

    def __init__(self, every: int = TESTS_PER_FREEZE) -> None:
        self.every = every
        self._since = 0

    def pytest_runtest_logfinish(self) -> None:
        self._since += 1
        if self._since >= self.every:
            self._since = 0
            gc.collect()  # unreachable cycles are freed, not frozen
            gc.freeze()
