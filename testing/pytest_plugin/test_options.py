"""Installed everywhere, the plugin takes no option name a project may use for itself.

Every option has an ``--iam-`` name that works in every project; the short names of the
runbook (``--fix``, ``--aws-mode``, ...) are added only where the suite is on, and only
when no conftest defines them. A project that does not turn the suite on pays for no
engine, boto3 or moto import.
"""

from __future__ import annotations

import json
import re

import pytest

from iam_compliance.config import READ_CONCURRENCY
from iam_compliance.pytest_plugin.options import OPTIONS, READ_CONCURRENCY_HELP, Option

#: The short names, each with a value its own conftest can tell apart.
SHORT_NAMES = (
    "--fix",
    "--fix-dry-run",
    "--fix-shared-policy",
    "--aws-mode",
    "--sarif",
    "--guardrails",
    "--cross-check",
    "--terraform-dir",
)

OWN_OPTIONS = f"""
import json

NAMES = {SHORT_NAMES!r}


def dest(name):
    return "own_" + name.strip("-").replace("-", "_")


def pytest_addoption(parser):
    for name in NAMES:
        parser.addoption(name, dest=dest(name), default=None)


def pytest_report_header(config):
    values = {{name: config.getoption(dest(name)) for name in NAMES}}
    return "own options: " + json.dumps(values, sort_keys=True)
"""


def own_values(result: pytest.RunResult) -> dict[str, str | None]:
    [line] = [line for line in result.outlines if line.startswith("own options: ")]
    values: dict[str, str | None] = json.loads(line.removeprefix("own options: "))
    return values


def test_every_short_name_has_a_prefixed_one() -> None:
    assert {o.short for o in OPTIONS if o.short} == set(SHORT_NAMES)
    assert all(o.name.startswith("--iam-") for o in OPTIONS)


def test_a_project_without_the_suite_keeps_its_own_options(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(OWN_OPTIONS)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    args = [f"{name}=mine{n}" for n, name in enumerate(SHORT_NAMES)]

    result = pytester.runpytest(*args)

    result.assert_outcomes(passed=1)
    assert own_values(result) == {name: f"mine{n}" for n, name in enumerate(SHORT_NAMES)}


def test_a_project_without_the_suite_gets_only_prefixed_options(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest("--help")

    assert result.ret == pytest.ExitCode.OK
    listed = set(re.findall(r"(?m)^  (--[\w-]+)", result.stdout.str()))
    assert {o.name for o in OPTIONS} <= listed
    assert not {o.short for o in OPTIONS} & listed


@pytest.mark.parametrize("option", [pytest.param(o, id=o.name) for o in OPTIONS])
def test_the_prefixed_names_are_known_without_the_suite(
    pytester: pytest.Pytester, option: Option
) -> None:
    """Known (not an unrecognised argument), and refused: there is no suite to run."""
    name = option.name
    value = "auto" if option.attrs.get("choices") else "x"
    result = pytester.runpytest(
        name if option.attrs.get("action") == "store_true" else f"{name}={value}"
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: {name} needs the compliance suite, but this pytest configuration (none) "
            "does not set iam_compliance_fixtures"
        ]
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--aws-mode", "mock", "--fix-dry-run"), id="short"),
        pytest.param(("--iam-aws-mode", "mock", "--iam-fix-dry-run"), id="prefixed"),
    ],
)
def test_the_suite_takes_both_names(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv("IAM_COMPLIANCE_MODE", "live")  # the option must win over it

    result = suite.runpytest(*args)

    result.assert_outcomes(passed=6, failed=4)
    result.stdout.fnmatch_lines(
        ["iam-compliance: mock account *", "*target default: plan (dry run, nothing written)*"]
    )


@pytest.mark.parametrize("fix", ["--fix", "--iam-fix"])
def test_the_suite_fixes_with_both_names(suite: pytest.Pytester, fix: str) -> None:
    suite.runpytest(fix).assert_outcomes(passed=10)


def test_a_project_with_the_suite_and_its_own_fix_uses_the_prefixed_name(
    suite: pytest.Pytester,
) -> None:
    suite.makeconftest(OWN_OPTIONS)

    result = suite.runpytest("--fix=mine", "--aws-mode=prod", "--iam-fix")

    result.assert_outcomes(passed=10)
    values = own_values(result)
    assert (values["--fix"], values["--aws-mode"]) == ("mine", "prod")


def test_a_run_without_the_suite_imports_no_engine_and_no_aws_sdk(
    pytester: pytest.Pytester,
) -> None:
    """In a fresh process: this one has imported everything already."""
    pytester.makeconftest(
        """
        import json, sys

        def pytest_unconfigure(config):
            with open("modules.json", "w") as file:
                json.dump(sorted(sys.modules), file)
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)
    modules = json.loads((pytester.path / "modules.json").read_text())
    # The plugin was loaded, so its imports were measured.
    assert "iam_compliance.pytest_plugin.plugin" in modules
    heavy = [
        *("iam_compliance.engine", "iam_compliance.config", "iam_compliance.envfile"),
        *("iam_compliance.aws", "iam_compliance.report", "iam_compliance.sources"),
        *("boto3", "botocore", "moto", "dotenv"),
    ]
    imported = [m for m in modules for h in heavy if m == h or m.startswith(f"{h}.")]
    assert imported == []


def test_the_help_names_the_read_concurrency_the_suite_uses() -> None:
    assert READ_CONCURRENCY_HELP == READ_CONCURRENCY
