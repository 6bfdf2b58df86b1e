"""Assemble the plugin's objects for a run of the compliance suite.

Called from :func:`.plugin.pytest_configure` when the suite is on, so that its imports
(boto3 through the checker, the report layer) are paid only then. Each feature is one
object, given what it needs in its constructor, registered and kept in ``config.stash``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from ..aws.catalog import IamActionCatalog
from ..aws.redaction import CredentialRedactor
from ..config import (
    READ_CONCURRENCY,
    parse_positive_int,
    resolve_guardrails,
    resolve_mode,
    resolve_settings,
)
from ..engine.evaluate.request import DECLARED_FILE, load_declared
from ..engine.requirements import check_overlaps, load_workload
from ..errors import ConfigurationError, IamComplianceError
from ..report.files import SARIF_NAME, check_reports_folder, stale_files
from ..report.html import lists_passed_tests
from ..report.labels import CheckKind
from ..report.start_error import write_start_reports, write_unfinished_reports
from .checker import Checker
from .collection import ChecksCollection
from .completeness import Completeness
from .failures import FailureTracker
from .fixing import Fixer, Remediations
from .hints import InvocationHandover
from .keys import (
    checker_key,
    failures_key,
    fixer_key,
    ledger_key,
    redactor_key,
    writer_key,
)
from .ledger import VerdictLedger
from .markers import MarkerCheck
from .publishing import HTML_NAME, XML_NAME, Publisher, use_default_paths
from .reports import JSON_NAME, JUnitProperties, ReportWriter
from .sharding import shard_plan_key, shard_settings, wire_shard
from .xdist import TargetScheduling, is_xdist_worker

REQUIREMENTS_FILE = "required_actions.toml"
#: The suite's checks of a target besides one per required and one per forbidden action:
#: all of them, the attachment, trust and least privilege.
WHOLE_ROLE_CHECKS = sum(
    1 for kind in CheckKind if kind not in (CheckKind.ACTION, CheckKind.FORBIDDEN)
)
Plugin = TypeVar("Plugin")


def wire(config: pytest.Config, fixtures_dir: Path) -> None:
    """Build and register every object of the run."""
    _redact_credentials(config)
    failures = FailureTracker()
    checker = _checker(config, fixtures_dir, failures)
    settings = checker.settings
    reports_dir = config.rootpath / (config.getini("iam_compliance_reports") or "reports")
    remediations = Remediations()
    # A shard's page lists what a page of the whole run would (see .sharding).
    shard = config.stash.get(shard_plan_key, None)
    list_passed = lists_passed_tests(
        str(config.getini("iam_compliance_html_rows")),
        len(shard.all_targets if shard is not None else settings.targets),
        where=str(config.inipath or "-o"),
    )
    amend = wire_shard(config, settings, lists_passed=list_passed)
    ledger = VerdictLedger(
        settings,
        remediations,
        compact=not list_passed,
        carries=amend is not None or is_xdist_worker(config),
        propose=checker.propose,
    )
    per_target = WHOLE_ROLE_CHECKS + len(checker.requirements) + len(checker.forbidden)
    completeness = Completeness(ledger, failures, expected=len(settings.targets) * per_target)
    fixer = Fixer(
        checker,
        settings,
        remediations,
        reports_dir,
        failures=failures,
    )
    _register(config, checker_key, checker, "checker")
    _register(config, fixer_key, fixer, "fixer")
    _register(config, failures_key, failures, "failures")
    _register(config, ledger_key, ledger, "ledger")
    config.pluginmanager.register(completeness, "iam-compliance-completeness")
    collection = ChecksCollection(fixtures_dir / REQUIREMENTS_FILE)
    config.pluginmanager.register(collection, "iam-compliance-collection")
    config.pluginmanager.register(MarkerCheck(failures), "iam-compliance-markers")
    if not is_xdist_worker(config):
        writes = not (config.option.collectonly or getattr(config.option, "help", False))
        if writes:
            setting = config.getini("iam_compliance_reports") or "reports"
            check_reports_folder(reports_dir, setting)
            write_unfinished_reports(
                reports_dir,
                mode=settings.mode,
                started=datetime.now(UTC),
                html_path=_report_path(config, "htmlpath", reports_dir / HTML_NAME),
                xml_path=_report_path(config, "xmlpath", reports_dir / XML_NAME),
                stale=stale_files(reports_dir, _sarif_path(config)),
            )
        # Before pytest-html's and junitxml's own pytest_configure, which open the files.
        staged = use_default_paths(config, reports_dir)
        if staged:
            config.pluginmanager.register(Publisher(config, staged), "iam-compliance-publisher")
        writer = ReportWriter(
            config,
            settings,
            ledger,
            remediations,
            completeness,
            reports_dir / JSON_NAME,
            list_passed=list_passed,
            amend=amend,
        )
        _register(config, writer_key, writer, "writer")
        # xdist's workers build the hints: they get what this process was given.
        config.pluginmanager.register(InvocationHandover(config), "iam-compliance-invocation")
        xml_path = getattr(config.option, "xmlpath", None)
        if xml_path:
            junit = JUnitProperties(settings, ledger, Path(xml_path).absolute(), completeness)
            config.pluginmanager.register(junit, "iam-compliance-junit")
    config.pluginmanager.register(
        TargetScheduling([t.name for t in settings.targets]), "iam-compliance-xdist"
    )
    _source_outputs(config, checker, remediations, ledger, reports_dir, completeness)


def _report_path(config: pytest.Config, option: str, default: Path) -> Path | None:
    """Where pytest-html (``htmlpath``) or junitxml (``xmlpath``) will write: the path
    the user named (from the directory pytest was started in, as they resolve it), else
    ``default`` in the reports folder; None when the plugin is not there to write."""
    if not hasattr(config.option, option):
        return None
    value = getattr(config.option, option)
    return Path(os.path.expandvars(value)).expanduser().absolute() if value else default


def _sarif_path(config: pytest.Config) -> Path | None:
    value = getattr(config.option, "iam_sarif", None)
    return Path(value) if value else None


def _source_outputs(
    config: pytest.Config,
    checker: Checker,
    remediations: Remediations,
    ledger: VerdictLedger,
    reports_dir: Path,
    completeness: Completeness,
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
    from .sourcing import SourceOutputs

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
        ledger,
        reports_dir,
        sarif_path=Path(option.iam_sarif) if option.iam_sarif else reports_dir / SARIF_NAME,
        terraform_dir=terraform_dir,
        rootdir=config.rootpath,
        failures=checker.failures,
        completeness=completeness,
    )
    # A source file's fix is a patch, proved again on the file as patched: that is the fix
    # every report proposes, as --fix-dry-run prints it.
    ledger.propose = outputs.propose
    config.pluginmanager.register(outputs, "iam-compliance-sources")


def _redact_credentials(config: pytest.Config) -> None:
    """Keep credentials out of every captured log record (botocore's DEBUG log has them),
    in this process: each xdist worker wires its own."""
    redactor = CredentialRedactor(
        os.environ.get(name)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    )
    redactor.install()
    config.add_cleanup(redactor.uninstall)
    config.stash[redactor_key] = redactor


def _register(
    config: pytest.Config, key: pytest.StashKey[Plugin], plugin: Plugin, name: str
) -> None:
    config.stash[key] = plugin
    config.pluginmanager.register(plugin, f"iam-compliance-{name}")


def _checker(config: pytest.Config, folder: Path, failures: FailureTracker) -> Checker:
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
        fix_shared_policy=option.iam_fix_shared_policy,
        requirements_file=option.iam_requirements,
        strict_resources=option.iam_strict_resources,
    )
    settings, config.stash[shard_plan_key] = shard_settings(settings, option.iam_shard)
    catalog = IamActionCatalog()
    path = _requirements_file(config, folder)
    try:
        workload = load_workload(path, catalog)
        check_overlaps(workload, settings.targets, str(path))
    except ConfigurationError as exc:
        given, said = option.iam_requirements, str(exc)
        # The loader's message starts with the file's path: named as given, once.
        said = said.removeprefix(f"{path}: ") if given == str(path) else said
        raise ConfigurationError(f"--iam-requirements {given}: {said}" if given else said) from None
    concurrency = parse_positive_int(
        str(config.getini("iam_compliance_read_concurrency")),
        name="iam_compliance_read_concurrency",
        where=str(config.inipath or "-o"),
        default=READ_CONCURRENCY,
    )
    declared = load_declared(folder / DECLARED_FILE)
    for target in settings.targets:  # an env file's own credentials
        if target.credentials is not None:
            config.stash[redactor_key].add(
                target.credentials.access_key_id,
                target.credentials.secret_access_key,
                target.credentials.session_token,
            )
    checker = Checker(
        settings,
        workload.required,
        folder,
        forbidden=workload.forbidden,
        trusted_service=workload.trusted_service,
        declared=declared,
        read_concurrency=concurrency,
        rcp_services=catalog.rcp_services(),
        catalog=catalog,
        failures=failures,
    )
    # pytest calls no pytest_unconfigure hook when pytest_configure fails (a usage error
    # later in wiring): the embedded account must still be stopped, or a moto mock would
    # outlive the run in this process (pytester runs in one process share moto's state).
    mock = checker.mock
    if mock is not None:
        config.add_cleanup(mock.stop)
    checker.check_policy_file()
    return checker


def _requirements_file(config: pytest.Config, folder: Path) -> Path:
    """--iam-requirements (from where pytest was started), else the fixtures' file."""
    given = config.option.iam_requirements
    return config.invocation_params.dir / given if given else folder / REQUIREMENTS_FILE


def write_start_error(config: pytest.Config, message: str) -> None:
    """The suite could not start (a usage error): write every report, saying why.

    pytest-html and junitxml never get to write theirs, so minimal ones are written here;
    nothing is written by an xdist worker, for --collect-only or --help, or when the reports
    folder itself is what is wrong.
    """
    option = config.option
    if is_xdist_worker(config) or option.collectonly or getattr(option, "help", False):
        return
    setting = config.getini("iam_compliance_reports") or "reports"
    folder = config.rootpath / setting
    try:
        check_reports_folder(folder, setting)
    except IamComplianceError:
        return  # the error being reported is about this folder
    mode: str
    try:
        mode = resolve_mode(option.iam_aws_mode, os.environ)
    except IamComplianceError:
        mode = "unknown"  # the mode itself is what is wrong
    write_start_reports(
        folder,
        message,
        mode=mode,
        html_path=None if getattr(option, "htmlpath", None) else folder / HTML_NAME,
        xml_path=None if getattr(option, "xmlpath", None) else folder / XML_NAME,
        stale=stale_files(folder, _sarif_path(config)),
    )
