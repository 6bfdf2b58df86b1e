"""The garbage collector and a run: what it made is frozen before its tests, every so many
tests after a collection, and at its end, but only in a run of its own, never in a run
nested in another (pytester's in-process runs)."""

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

class Probe:
    def pytest_runtest_call(self, item):
        watching.append(item.config.pluginmanager.has_plugin("iam-compliance-freezer"))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        frozen.append(gc.get_freeze_count() - at_start)

probe = Probe()
pytest.main({args!r}, plugins=[probe])
print("frozen:", frozen[0] > 0)
print("freezing during the tests:", bool(watching) and all(watching))
"""


def test_a_nested_run_freezes_nothing(suite: pytest.Pytester) -> None:
    before = gc.get_freeze_count()
    suite.runpytest().assert_outcomes(passed=6, failed=4)
    assert gc.get_freeze_count() == before


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
    assert f"freezing during the tests: {frozen}" in result.stdout


def test_a_freezer_collects_then_freezes_every_so_many_tests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(garbage.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(garbage.gc, "freeze", lambda: calls.append("freeze"))
    freezer = garbage.Freezer(every=3)

    for _ in range(7):
        freezer.pytest_runtest_logfinish()

    assert calls == ["collect", "freeze", "collect", "freeze"]


def test_a_frozen_run_still_frees_its_unreachable_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(garbage.gc, "freeze", lambda: frozen.append(len(gc.garbage)))
    freed: list[str] = []

    class Cycle:
        def __del__(self) -> None:
            freed.append("freed")

    cycle = Cycle()
    cycle.self = cycle  # type: ignore[attr-defined]
    del cycle
    garbage.Freezer(every=1).pytest_runtest_logfinish()

    assert freed == ["freed"]  # collected before the freeze, not frozen with it
    assert frozen == [0]
