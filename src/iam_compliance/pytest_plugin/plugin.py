"""The pytest plugin's entry point: options, wiring, parametrization and fixtures.

It stays thin. ``pytest_configure`` resolves the settings (:mod:`iam_compliance.config`)
and registers one object per feature, each given what it needs in its constructor and
kept in ``config.stash``:

* :class:`~.checker.Checker`: reads each target once and judges it (the fixtures' source);
* :class:`~.fixing.Fixer`: ``--fix`` and ``--fix-dry-run``;
* :class:`~.failures.FailureTracker`: a target that cannot be read is exit code 4;
* :class:`~.collecting.ResultCollector` and :class:`~.reports.ReportWriter`: the reports;
* :class:`~.xdist.TargetScheduling`: each target's tests on one xdist worker;
* :class:`~.sourcing.SourceOutputs`: with ``--iam-policy-file``, patches and SARIF.

The plugin is active only where the pytest configuration names the fixtures directory
(``iam_compliance_fixtures``), so installing the package does not touch other test runs.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import pytest

from ..config import READ_CONCURRENCY
from ..engine.assessment import Assessment
from ..engine.target import Target
from ..errors import IamComplianceError
from .keys import checker_key
from .recording_options import RECORDING_OPTIONS, add_recording_options
from .rootdir import check_rootdir
from .xdist import is_xdist_worker

if TYPE_CHECKING:
    from .checker import Checker


def pytest_addoption(parser: pytest.Parser) -> None:
    # Long only because it is declarative: one call per option and ini setting.
    group = parser.getgroup("iam-compliance", "IAM role compliance")
    group.addoption(
        "--aws-mode",
        dest="iam_aws_mode",
        default=None,
        metavar="MODE",
        help="mock (default: an embedded moto account seeded from fixtures/) or live "
        "(boto3's default credential chain). Environment: IAM_COMPLIANCE_MODE.",
    )
    group.addoption(
        "--iam-env-file",
        dest="iam_env_file",
        action="append",
        default=[],
        metavar="PATH",
        help="read the target from this env file instead of .env; repeat for several "
        "targets (each file is one account, named by its stem).",
    )
    group.addoption(
        "--iam-policy-file",
        dest="iam_policy_file",
        default=None,
        metavar="PATH",
        help="mock mode: seed the task policy with this JSON document instead of the "
        "fixture, to check a proposed policy before it is applied.",
    )
    group.addoption(
        "--iam-context",
        dest="iam_context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a key of the containers' requests (repeatable), e.g. "
        "aws:SourceVpce=vpce-0a1b2c3d; wins over fixtures/request_context.toml and the keys "
        "derived from the account.",
    )
    group.addoption(
        "--fix",
        dest="iam_fix",
        action="store_true",
        default=False,
        help="make the role compliant by creating a new default version of the task "
        "policy, then check the fixed state.",
    )
    group.addoption(
        "--fix-dry-run",
        dest="iam_fix_dry_run",
        action="store_true",
        default=False,
        help="show what --fix would change (new document, diff, version to delete); "
        "change nothing.",
    )
    group.addoption(
        "--fix-shared-policy",
        dest="iam_fix_shared_policy",
        action="store_true",
        default=False,
        help="let --fix change the task policy even when it is attached to other roles, "
        "users or groups too (they get the added actions as well).",
    )
    group.addoption(
        "--guardrails",
        dest="iam_guardrails",
        default=None,
        choices=("auto", "off", "required"),
        help="the organization's SCPs and RCPs: auto (default: when they can be read), "
        "required (exit 4 when they cannot), off. Ini: iam_compliance_guardrails.",
    )
    group.addoption(
        "--cross-check",
        dest="iam_cross_check",
        action="store_true",
        default=False,
        help="live mode: compare every verdict with IAM's policy simulator "
        "(iam:SimulatePrincipalPolicy); a disagreement fails that action's test.",
    )
    parser.addini(
        "iam_compliance_guardrails",
        default="",
        help="auto (default), required or off: see --guardrails.",
    )
    _add_source_options(group)
    add_recording_options(group)
    parser.addini(
        "iam_compliance_fixtures",
        default="",
        help="directory (relative to rootdir) with required_actions.toml and the mock "
        "account's seed policies; setting it turns the compliance suite on.",
    )
    parser.addini(
        "iam_compliance_reports",
        default="",
        help="directory (relative to rootdir) for compliance.html/.xml/.json and "
        "remediation records (default: reports).",
    )
    parser.addini(
        "iam_compliance_html_rows",
        default="",
        help="the HTML results table: auto (default: every test up to 100 targets, "
        "beyond that the tests that did not pass), all, or failures.",
    )
    parser.addini(
        "iam_compliance_read_concurrency",
        default="",
        help=f"live mode: how many targets are read at once (default {READ_CONCURRENCY}; "
        "1 reads them one by one).",
    )


def _add_source_options(group: pytest.OptionGroup) -> None:
    """The options of source files (Terraform plans, CloudFormation templates)."""
    group.addoption(
        "--sarif",
        dest="iam_sarif",
        default=None,
        metavar="PATH",
        help="with --iam-policy-file: write the SARIF 2.1.0 log here instead of "
        "<reports>/compliance.sarif.",
    )
    group.addoption(
        "--terraform-dir",
        dest="iam_terraform_dir",
        default=None,
        metavar="DIR",
        help="with a Terraform plan as --iam-policy-file and --fix or --fix-dry-run: the "
        "configuration to patch (the .tf file that holds the policy).",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """--iam-record: start seeing AWS calls before any conftest.py can make a client.

    Imported only now, so a run without the options imports neither botocore nor the
    recording.
    """
    options = early_config.known_args_namespace
    if any(getattr(options, name, None) for name in RECORDING_OPTIONS):
        from .recording import start_recording

        start_recording(early_config, options)


#: The pytest runs under way in this process: more than one when a run starts another in
#: the same process (pytester's in-process runs).
_RUNS: list[pytest.Config] = []


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _RUNS.append(config)
    if not is_xdist_worker(config):
        check_rootdir(config)
    fixtures = config.getini("iam_compliance_fixtures")
    if not fixtures:
        _refuse_options_without_suite(config)
        return
    # Imported only now: boto3, moto and the report layer are large imports that a pytest
    # run without the compliance suite must not pay for.
    from .wiring import wire, write_start_error

    try:
        wire(config, config.rootpath / fixtures)
    except IamComplianceError as exc:
        # The reports of an earlier run must not stand for this one: say why it stopped.
        write_start_error(config, str(exc))
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After a compliance run, move everything it made out of the garbage collector's sight.

    Every object is still alive at this point and dies with the process; the collections
    pytest runs at its end, and the one at interpreter exit, would walk them all (about a
    fifth of a mock run). Not when this run is nested in another, whose objects would be
    frozen with it.
    """
    if config in _RUNS:
        _RUNS.remove(config)
    if config.stash.get(checker_key, None) is not None and not _RUNS:
        gc.freeze()


def _refuse_options_without_suite(config: pytest.Config) -> None:
    used = [
        flag
        for flag, value in (
            ("--aws-mode", config.option.iam_aws_mode),
            ("--iam-policy-file", config.option.iam_policy_file),
            ("--fix", config.option.iam_fix),
            ("--fix-dry-run", config.option.iam_fix_dry_run),
            ("--sarif", config.option.iam_sarif),
            ("--terraform-dir", config.option.iam_terraform_dir),
            ("--fix-shared-policy", config.option.iam_fix_shared_policy),
            ("--iam-requirements", config.option.iam_requirements),
        )
        if value
    ]
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


@pytest.fixture(scope="session")
def iam_target(request: pytest.FixtureRequest) -> Target:
    """The target being checked (parametrized when several --iam-env-file are given)."""
    param = getattr(request, "param", None)
    if isinstance(param, Target):
        return param
    return _checker_of(request.config).settings.targets[0]


@pytest.fixture(scope="session")
def iam_assessment(request: pytest.FixtureRequest, iam_target: Target) -> Assessment:
    """Every verdict about the target, read from AWS once per process."""
    try:
        return _checker_of(request.config).assessment(iam_target)
    except IamComplianceError as exc:
        raise IamComplianceError(f"target {iam_target.name}: {exc}") from None
