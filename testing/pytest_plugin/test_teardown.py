"""The garbage collector and a run: what it made is frozen before its tests and at its end,
and what survives each full collection in between, but only in a run of its own, never in
a run nested in another (pytester's in-process runs)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from iam_compliance.pytest_plugin import garbage

PROBE = """
import gc
import pytest

frozen = []
at_start = gc.get_freeze_count()  # not 0 on every Python: 3.12 starts with some frozen
watching = []

def watches():
    return any(getattr(c, "__name__", "") == "freeze_survivors" for c in gc.callbacks)

class Probe:
    def pytest_runtest_call(self, item):
        watching.append(watches())

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        frozen.append(gc.get_freeze_count() - at_start)

probe = Probe()
pytest.main({args!r}, plugins=[probe])
print("frozen:", frozen[0] > 0)
print("watched during the tests:", bool(watching) and all(watching))
print("watching after:", watches())
"""


def test_a_nested_run_freezes_nothing(suite: pytest.Pytester) -> None:
    before, callbacks = gc.get_freeze_count(), list(gc.callbacks)
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    assert gc.get_freeze_count() == before
    assert gc.callbacks == callbacks


@pytest.mark.parametrize(
    ("args", "frozen"),
    [
        pytest.param(["-q", "-p", "no:cacheprovider"], True, id="compliance-run"),
        pytest.param(
            ["-q", "-p", "no:cacheprovider", "-o", "iam_compliance_fixtures="],
            False,
            id="suite-off",
        ),
    ],
)
def test_a_run_of_its_own_freezes_when_the_suite_is_on(
    suite: pytest.Pytester, args: list[str], frozen: bool
) -> None:
    script = suite.path / "probe.py"
    script.write_text(PROBE.format(args=args))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=suite.path, capture_output=True, text=True, check=False
    )
    assert f"frozen: {frozen}" in result.stdout, result.stdout + result.stderr
    assert f"watched during the tests: {frozen}" in result.stdout
    assert "watching after: False" in result.stdout


@pytest.mark.parametrize(
    ("phase", "generation", "freezes"),
    [
        pytest.param("stop", 2, True, id="after-a-full-collection"),
        pytest.param("start", 2, False, id="before-it"),
        pytest.param("stop", 1, False, id="after-a-young-one"),
    ],
)
def test_survivors_are_frozen_after_a_full_collection_only(
    monkeypatch: pytest.MonkeyPatch, phase: str, generation: int, freezes: bool
) -> None:
    calls: list[None] = []
    monkeypatch.setattr(garbage.gc, "freeze", lambda: calls.append(None))

    garbage.freeze_survivors(phase, {"generation": generation, "collected": 0})

    assert len(calls) == int(freezes)


def test_what_a_full_collection_leaves_is_frozen_while_started() -> None:
    kept = [[n] for n in range(1000)]  # reachable: survives the collection
    before = gc.get_freeze_count()
    garbage.start()
    garbage.start()  # once, however often
    try:
        assert gc.callbacks.count(garbage.freeze_survivors) == 1
        gc.collect()
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.callbacks.remove(garbage.freeze_survivors)
        gc.unfreeze()  # this process's objects back where they were
    gc.collect()
    assert gc.get_freeze_count() == 0
