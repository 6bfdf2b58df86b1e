"""Assemble the plugin's objects for a run of the compliance suite.

Called from :func:`.plugin.pytest_configure` when the suite is on, so that its imports
(boto3 through the checker, the report layer) are paid only then. Each feature is one
object, given what it needs in its constructor, registered and kept in ``config.stash``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import pytest

from ..aws.catalog import IamActionCatalog
from ..config import READ_CONCURRENCY, parse_positive_int, resolve_guardrails, resolve_settings
from ..engine.request import DECLARED_FILE, load_declared
from ..engine.requirements import load_requirements
from ..errors import ConfigurationError
from .checker import Checker
from .failures import FailureTracker
from .fixing import Fixer, Remediations
from .keys import checker_key, collector_key, failures_key, fixer_key, writer_key
from .reports import JSON_NAME, JUnitProperties, ReportWriter, ResultCollector, use_default_paths
from .xdist import TargetScheduling, is_xdist_worker

REQUIREMENTS_FILE = "required_actions.toml"
Plugin = TypeVar("Plugin")


def wire(config: pytest.Config, fixtures_dir: Path) -> None:
    """Build and register every object of the run."""
    checker = _checker(config, fixtures_dir)
    settings = checker.settings
    reports_dir = config.rootpath / (config.getini("iam_compliance_reports") or "reports")
    remediations = Remediations()
    failures = FailureTracker()
    collector = ResultCollector(settings, remediations)
    _register(config, checker_key, checker, "checker")
    fixer = Fixer(
        checker,
        settings,
        remediations,
        reports_dir,
        actions_of=checker.actions_of,
    )
    _register(config, fixer_key, fixer, "fixer")
    _register(config, failures_key, failures, "failures")
    _register(config, collector_key, collector, "collector")
    if not is_xdist_worker(config):
        # Before pytest-html's and junitxml's own pytest_configure, which open the files.
        use_default_paths(config, reports_dir)
        writer = ReportWriter(
            config, settings, collector, remediations, failures, reports_dir / JSON_NAME
        )
        _register(config, writer_key, writer, "writer")
        xml_path = getattr(config.option, "xmlpath", None)
        if xml_path:
            junit = JUnitProperties(settings, collector, Path(xml_path).absolute())
            config.pluginmanager.register(junit, "iam-compliance-junit")
    config.pluginmanager.register(
        TargetScheduling([t.name for t in settings.targets]), "iam-compliance-xdist"
    )
    _source_outputs(config, checker, remediations, collector, reports_dir)


def _source_outputs(
    config: pytest.Config,
    checker: Checker,
    remediations: Remediations,
    collector: ResultCollector,
    reports_dir: Path,
) -> None:
    """With --iam-policy-file: patches instead of fixes, and SARIF."""
    option, settings = config.option, checker.settings
    if settings.policy_file is None:
        for flag, value in (
            ("--sarif", option.iam_sarif),
            ("--terraform-dir", option.iam_terraform_dir),
        ):
            if value:
                raise ConfigurationError(f"{flag} needs --iam-policy-file (a source file)")
        return
    # Imported here: only a run on a source file needs it.
    from .sourcing import SARIF_NAME, SourceOutputs

    terraform_dir = Path(option.iam_terraform_dir) if option.iam_terraform_dir else None
    if terraform_dir is not None:
        sources = [checker.mock.source(t) for t in settings.targets] if checker.mock else []
        if any(s is None or s.kind != "terraform-plan" for s in sources):
            raise ConfigurationError("--terraform-dir needs a Terraform plan as --iam-policy-file")
        if not terraform_dir.is_dir():
            raise ConfigurationError(f"--terraform-dir {terraform_dir}: not a directory")
    outputs = SourceOutputs(
        checker,
        settings,
        remediations,
        collector,
        reports_dir,
        sarif_path=Path(option.iam_sarif) if option.iam_sarif else reports_dir / SARIF_NAME,
        terraform_dir=terraform_dir,
        rootdir=config.rootpath,
    )
    config.pluginmanager.register(outputs, "iam-compliance-sources")


def _register(
    config: pytest.Config, key: pytest.StashKey[Plugin], plugin: Plugin, name: str
) -> None:
    config.stash[key] = plugin
    config.pluginmanager.register(plugin, f"iam-compliance-{name}")


def _checker(config: pytest.Config, folder: Path) -> Checker:
    option = config.option
    settings = resolve_settings(
        aws_mode=option.iam_aws_mode,
        env_files=option.iam_env_file,
        policy_file=option.iam_policy_file,
        context=option.iam_context,
        fix=option.iam_fix,
        fix_dry_run=option.iam_fix_dry_run,
        rootdir=config.rootpath,
        environ=os.environ,
        guardrails=resolve_guardrails(
            option.iam_guardrails,
            str(config.getini("iam_compliance_guardrails")),
            f"iam_compliance_guardrails ({config.inipath or '-o'})",
        ),
        cross_check=option.iam_cross_check,
    )
    catalog = IamActionCatalog()
    requirements = load_requirements(folder / REQUIREMENTS_FILE, catalog)
    concurrency = parse_positive_int(
        str(config.getini("iam_compliance_read_concurrency")),
        name="iam_compliance_read_concurrency",
        where=str(config.inipath or "-o"),
        default=READ_CONCURRENCY,
    )
    declared = load_declared(folder / DECLARED_FILE)
    checker = Checker(
        settings,
        requirements,
        folder,
        declared=declared,
        read_concurrency=concurrency,
        rcp_services=catalog.rcp_services(),
        catalog=catalog,
    )
    checker.check_policy_file()
    return checker
