"""The garbage collector during a compliance run: what survives a full collection is frozen.

A run keeps nearly everything it makes until it ends: the imports, moto's accounts, each
target read and judged, each test's report and row. CPython's collector walks every object
it tracks at each full collection, and a run of 1,000 targets ran about twenty of them,
each longer than the last (2 of its 18 seconds).

So while the outermost compliance run of a process runs, what survives a full collection
is moved to the permanent generation (:func:`gc.freeze`): such a collection has just found
every unreachable cycle, so all that is left is reachable, and later collections walk only
what was made since. A frozen object that later becomes part of an unreachable cycle is
freed when the process ends instead; reference counting frees everything else as before.
Nothing is frozen in a run nested in another (a self-test's inline run), whose objects
would be frozen with it.
"""

from __future__ import annotations

import gc
from typing import Any


def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """A :data:`gc.callbacks` entry: after a full collection, freeze what it left."""
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def start() -> None:
    """From now on, freeze what each full collection leaves (once however often called)."""
    if freeze_survivors not in gc.callbacks:
        gc.callbacks.append(freeze_survivors)


def freeze_now() -> None:
    """Freeze every object tracked now: before the tests, what the run made to check them
    (it lives until the run ends)."""
    gc.freeze()


def stop() -> None:
    """Freeze what is tracked (it dies with the process) and stop freezing survivors."""
    gc.freeze()
    if freeze_survivors in gc.callbacks:
        gc.callbacks.remove(freeze_survivors)
