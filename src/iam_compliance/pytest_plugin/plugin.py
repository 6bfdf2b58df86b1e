"""The pytest plugin's entry point: options, wiring, parametrization and fixtures.

It stays thin. ``pytest_configure`` resolves the settings (:mod:`iam_compliance.config`)
and registers one object per feature, each given what it needs in its constructor and
kept in ``config.stash``:

* :class:`~.checker.Checker`: reads each target once and judges it (the fixtures' source);
* :class:`~.fixing.Fixer`: ``--fix`` and ``--fix-dry-run``;
* :class:`~.failures.FailureTracker`: a target that cannot be read is exit code 4;
* :class:`~.ledger.VerdictLedger` and :class:`~.reports.ReportWriter`: the reports;
* :class:`~.xdist.TargetScheduling`: each target's tests on one xdist worker;
* :class:`~.markers.MarkerCheck`: each compliance test says what it checks (``iam_check``);
* :class:`~.sourcing.SourceOutputs`: with ``--iam-policy-file``, patches and SARIF.

The plugin is active only where the pytest configuration names the fixtures directory
(``iam_compliance_fixtures``), so installing the package does not touch other test runs:
elsewhere it adds only its ``--iam-`` options (:mod:`.options`) and imports nothing more.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from . import garbage
from .keys import checker_key
from .options import (
    FIXTURES_INI,
    OPTIONS,
    RECORDING,
    add_options,
    add_short_names,
    is_defined,
    is_suite_on,
    path_option_names,
    short_names_key,
    used_without_suite,
)
from .rootdir import check_rootdir, misled_by
from .xdist import is_xdist_worker

# Only what ``pytest --help`` needs is imported here: this module is loaded in every pytest
# run of an environment where the package is installed, most of which do not check a role.
# The engine, boto3, moto and the report layer are imported by pytest_configure, and only
# where the suite is on.
if TYPE_CHECKING:
    from ..engine.evaluate.assessment import Assessment
    from ..engine.target import Target
    from .checker import Checker


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None]:
    """Add the short option names (--fix, --aws-mode, ...) where the suite is on.

    pytest_addoption cannot decide this: it is a historic hook, called when the plugin is
    registered, with the parser alone. This hook is pytest's documented place for it
    (https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_load_initial_conftests:
    "parser: To add command line options"): it gets the configuration, whose ini file
    pytest has read by now, and it runs before the command line is parsed for real. Wrapped,
    the names are added after the project's root conftests added theirs, so a project's own
    --fix is left to it.
    """
    if any(getattr(early_config.known_args_namespace, o.dest, None) for o in RECORDING):
        # --iam-record: see AWS calls from before any conftest.py can make a client.
        # Imported only now, so a run without it imports neither botocore nor the recording.
        from .recording import start_recording

        start_recording(early_config, early_config.known_args_namespace)
    result = yield
    if is_suite_on(early_config) or _rootdir_misled(early_config, parser):
        early_config.stash[short_names_key] = add_short_names(parser)
    return result


def _rootdir_misled(config: pytest.Config, parser: pytest.Parser) -> bool:
    """Whether one of the plugin's path options moved pytest's rootdir (and with it the
    configuration that would turn the suite on): then the short names are added too, so
    that the run gets as far as saying so (see :mod:`.rootdir`) instead of stopping at an
    unknown --terraform-dir."""
    names = {o.name for o in OPTIONS} | {o.short for o in OPTIONS if o.short}
    misled = misled_by(config, names)
    return misled is not None and (
        misled[0].startswith("--iam-") or not is_defined(parser, misled[0])
    )


#: The pytest runs under way in this process: more than one when a run starts another in
#: the same process (pytester's in-process runs).
_RUNS: list[pytest.Config] = []


#: The marker that says what a compliance test checks (:mod:`.markers`); its kinds are
#: ``report.labels.CheckKind``'s values.
ICHECK_MARKER_HELP = (
    "iam_check(kind): what an iam-compliance test checks, as its report row says: "
    '"all_actions", "action" (one required action), "forbidden" (one forbidden action), '
    '"attached", "trust" or "least_privilege"'
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _RUNS.append(config)
    config.addinivalue_line("markers", ICHECK_MARKER_HELP)
    if not is_xdist_worker(config):
        check_rootdir(config, path_option_names(config))
    if not is_suite_on(config):
        _refuse_options_without_suite(config)
        return
    # Imported only now: the engine, boto3, moto and the report layer are large imports
    # that a pytest run without the compliance suite must not pay for.
    from ..errors import IamComplianceError
    from .wiring import wire, write_start_error

    try:
        wire(config, config.rootpath / config.getini(FIXTURES_INI))
    except IamComplianceError as exc:
        # The reports of an earlier run must not stand for this one: say why it stopped.
        write_start_error(config, str(exc))
        raise pytest.UsageError(str(exc)) from None
    if _is_outermost_run(config):
        garbage.freeze_all()  # the imports and the run's settings
        config.pluginmanager.register(garbage.Freezer(), "iam-compliance-freezer")


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Before the first test of a compliance run, freeze what it made to check them
    (:mod:`.garbage`)."""
    if _is_outermost_run(session.config):
        garbage.freeze_all()
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After a compliance run, freeze everything it made (:mod:`.garbage`): it is all
    alive and dies with the process, and the collections pytest runs at its end, and the
    one at interpreter exit, would walk it all (about a fifth of a mock run)."""
    outermost = _is_outermost_run(config)
    if config in _RUNS:
        _RUNS.remove(config)
    if outermost:
        garbage.freeze_all()


def _is_outermost_run(config: pytest.Config) -> bool:
    """Whether ``config`` is a compliance run that no other pytest run in this process
    encloses (a self-test's inline run is enclosed)."""
    alone = len(_RUNS) == 1 and _RUNS[0] is config
    return alone and config.stash.get(checker_key, None) is not None


def _refuse_options_without_suite(config: pytest.Config) -> None:
    used = used_without_suite(config)
    if used:
        raise pytest.UsageError(
            f"{used[0]} needs the compliance suite, but this pytest configuration "
            f"({config.inipath or 'none'}) does not set iam_compliance_fixtures"
        )


def _checker_of(config: pytest.Config) -> Checker:
    checker = config.stash.get(checker_key, None)
    if checker is None:
        raise pytest.UsageError(
            "the iam-compliance fixtures need iam_compliance_fixtures set in the pytest "
            f"configuration ({config.inipath or 'none found'})"
        )
    return checker


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    checker = metafunc.config.stash.get(checker_key, None)
    if checker is None:
        return
    targets = checker.settings.targets
    if "iam_target" in metafunc.fixturenames and len(targets) > 1:
        metafunc.parametrize(
            "iam_target",
            targets,
            ids=[t.name for t in targets],
            indirect=True,
            scope="session",
        )
    if "required_action" in metafunc.fixturenames:
        ids = [r.id for r in checker.requirements]
        metafunc.parametrize("required_action", ids, ids=ids)
    if "forbidden_action" in metafunc.fixturenames:
        ids = [f.id for f in checker.forbidden]
        metafunc.parametrize("forbidden_action", ids, ids=ids)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> list[pytest.Item] | None:
    """No test of a forbidden action when the workload forbids nothing: pytest would make
    one of an empty parameter set and skip it, and the runbook's run has no such test."""
    checker = collector.config.stash.get(checker_key, None)
    if checker is None or checker.forbidden or not inspect.isfunction(obj):
        return None
    return [] if "forbidden_action" in inspect.signature(obj).parameters else None


@pytest.fixture(scope="session")
def iam_target(request: pytest.FixtureRequest) -> Target:
    """The target being checked (parametrized when several --iam-env-file are given)."""
    from ..engine.target import Target

    param = getattr(request, "param", None)
    if isinstance(param, Target):
        return param
    return _checker_of(request.config).settings.targets[0]


@pytest.fixture(scope="session")
def iam_assessment(request: pytest.FixtureRequest, iam_target: Target) -> Assessment:
    """Every verdict about the target, read from AWS once per process."""
    from ..errors import IamComplianceError

    try:
        return _checker_of(request.config).assessment(iam_target)
    except IamComplianceError as exc:
        raise IamComplianceError(f"target {iam_target.name}: {exc}") from None
