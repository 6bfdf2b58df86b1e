"""The plugin installed in another project: no option collisions, no heavy imports."""

from __future__ import annotations

import pytest

OTHER_PROJECT_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--context", default="default-context")
    parser.addoption("--env-file", default=None)
    parser.addoption("--policy-file", default=None)
"""

OTHER_PROJECT_TEST = """
import sys


def test_own_options(request):
    assert request.config.getoption("--context") == "from-the-command-line"


def test_no_aws_sdk_loaded(request):
    # The plugin is loaded (its entry point), yet a run without the suite pays for no SDK.
    assert request.config.pluginmanager.hasplugin("iam_compliance")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"boto3", "botocore", "moto"})
    assert heavy == []
"""


def test_another_project_runs_with_its_own_options_and_no_aws_sdk(
    pytester: pytest.Pytester,
) -> None:
    """Installed next to a project that defines --context, --env-file, --policy-file: no
    collision, and boto3, botocore and moto are not imported."""
    pytester.makeconftest(OTHER_PROJECT_CONFTEST)
    pytester.makepyfile(test_other=OTHER_PROJECT_TEST)
    result = pytester.runpytest_subprocess("--context", "from-the-command-line", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
    assert "already used" not in result.stderr.str()
