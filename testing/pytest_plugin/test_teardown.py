"""The end of a run: what it made is frozen for the garbage collector, but only in a run
of its own, never in a run nested in another (pytester's in-process runs)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

PROBE = """
import gc
import pytest

frozen = []
at_start = gc.get_freeze_count()  # not 0 on every Python: 3.12 starts with some frozen

class Probe:
    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        frozen.append(gc.get_freeze_count() - at_start)

probe = Probe()
pytest.main({args!r}, plugins=[probe])
print("frozen:", frozen[0] > 0)
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
