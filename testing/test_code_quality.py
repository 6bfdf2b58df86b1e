"""ruff (lint and format) and mypy --strict on the package, as part of the self-tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["ruff", "check", "src", "testing", "tests", "conftest.py"], id="ruff-check"),
        pytest.param(
            ["ruff", "format", "--check", "src", "testing", "tests", "conftest.py"],
            id="ruff-format",
        ),
        pytest.param(["mypy", "--strict", "src"], id="mypy-strict"),
    ],
)
def test_tool_passes(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
