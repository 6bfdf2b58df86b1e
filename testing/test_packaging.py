"""What the package says about itself: its license and the Pythons it supports."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_license_the_metadata_claims_is_there() -> None:
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    metadata = importlib.metadata.metadata("iam-compliance")
    assert metadata["License-Expression"] == "MIT"
    assert "LICENSE" in (metadata.get_all("License-File") or [])


def test_supported_pythons_are_listed_and_run_in_ci_when_installed() -> None:
    listed = {
        c.rsplit(" :: ", 1)[1]
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert listed == {"3.11", "3.12", "3.13"}
    assert PROJECT["requires-python"] == ">=3.11"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "for version in 3.12 3.13; do" in ci
    assert 'python="$(find_python "$version")"' in ci  # on the PATH, or from pyenv
