"""Option values never choose pytest's rootdir: reports land where the project says."""

from __future__ import annotations

from pathlib import Path

import pytest

from iam_compliance.pytest_plugin.options import OPTIONS, PATH_DESTS
from iam_compliance.pytest_plugin.rootdir import misplaced_values

#: Every name of the path options, as where the suite is on.
PATH_NAMES = {n for o in OPTIONS if o.dest in PATH_DESTS for n in (o.name, o.short) if n}


@pytest.fixture
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An env file in a folder outside the project (and outside any pytest project)."""
    path = tmp_path_factory.mktemp("elsewhere") / "prod.env"
    path.write_text("AWS_ACCOUNT_ID=618574523116\n")
    return path


@pytest.mark.parametrize(
    "more",
    [
        pytest.param((), id="alone"),
        # The configuration that turns the suite (and its short names) on was not found.
        pytest.param(("--fix",), id="with-a-short-name"),
    ],
)
def test_a_value_that_would_move_the_rootdir_stops_the_run(
    suite: pytest.Pytester, elsewhere: Path, more: tuple[str, ...]
) -> None:
    result = suite.runpytest("--iam-env-file", str(elsewhere), *more)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: --iam-env-file {elsewhere}: pytest took this value for a test path when it "
            f"chose its rootdir ({elsewhere.parent.parent}, configuration file none) instead of "
            f"{suite.path} ({suite.path / 'pyproject.toml'}): it reads a plugin's options only "
            f"after choosing. Write --iam-env-file={elsewhere} (one argument), or give "
            f"--rootdir={suite.path}"
        ]
    )
    assert not (elsewhere.parent / "reports").exists()
    assert not (elsewhere.parent.parent / "reports").exists()


def test_the_one_argument_form_keeps_the_project_rootdir(
    suite: pytest.Pytester, elsewhere: Path
) -> None:
    result = suite.runpytest(f"--iam-env-file={elsewhere}")

    result.assert_outcomes(passed=6, failed=4)
    result.stdout.fnmatch_lines([f"rootdir: {suite.path}"])
    assert (suite.path / "reports" / "compliance.json").is_file()
    assert not (elsewhere.parent / "reports").exists()


def test_a_value_that_changes_nothing_is_accepted(suite: pytest.Pytester) -> None:
    (suite.path / "envs").mkdir()
    (suite.path / "envs" / "prod.env").write_text("AWS_ACCOUNT_ID=618574523116\n")

    result = suite.runpytest("--iam-env-file", "envs/prod.env")

    result.assert_outcomes(passed=6, failed=4)
    result.stdout.fnmatch_lines([f"rootdir: {suite.path}"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--iam-env-file", "{file}"], [("--iam-env-file", "{file}")], id="two"),
        pytest.param(["--iam-env-file={file}"], [], id="one"),
        pytest.param(["--iam-env-file", "missing.env"], [], id="not-a-path"),
        pytest.param(["--sarif", "{file}", "-v"], [("--sarif", "{file}")], id="sarif"),
        pytest.param(
            ["--iam-terraform-dir", "{file}"], [("--iam-terraform-dir", "{file}")], id="prefixed"
        ),
        pytest.param(["-k", "{file}"], [], id="another-option"),
    ],
)
def test_misplaced_values(tmp_path: Path, args: list[str], expected: list[tuple[str, str]]) -> None:
    file = tmp_path / "x.env"
    file.touch()
    filled = [arg.format(file=file) for arg in args]
    assert misplaced_values(filled, PATH_NAMES) == [(o, v.format(file=file)) for o, v in expected]
