"""The pytest plugin: options, the run's state, fixtures and terminal output.

It stays thin: configuration is resolved by :mod:`.config`, AWS is read by :mod:`.aws`
(or the moto account of :mod:`.mock`), verdicts come from :mod:`.assessment`, fixes
from :mod:`.remediation`, reports from :mod:`.reporting`.

The plugin is active only where the pytest configuration names the fixtures directory
(``iam_compliance_fixtures``), so installing the package does not touch other test runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .assessment import Assessment, RoleSnapshot, assess
from .aws import AwsAdapter, BotocoreCatalog, Sessions
from .config import Settings, Target, parse_context, resolve_mode, resolve_targets
from .errors import ConcurrentChangeError, ConfigurationError, IamComplianceError
from .evaluation import Verdict
from .remediation import FixPlan, RemediationError, apply_fix, plan_fix, record_filename
from .reporting import Remediation, summary_lines
from .reports import ReportWriter, use_default_paths
from .requirements import RequiredAction, load_requirements

REQUIREMENTS_FILE = "required_actions.toml"
#: How often --fix plans again when another run changed the policy meanwhile.
FIX_ATTEMPTS = 3
#: How many targets a live run reads at once. The reads wait on the network; eight keeps
#: a run over many accounts short without bursting IAM's per-account request rate.
READ_CONCURRENCY = 8

if TYPE_CHECKING:
    from .mock import MockAccounts

run_key = pytest.StashKey["ComplianceRun"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iam-compliance", "IAM role compliance")
    group.addoption(
        "--aws-mode",
        default=None,
        metavar="MODE",
        help="mock (default: an embedded moto account seeded from fixtures/) or live "
        "(boto3's default credential chain). Environment: IAM_COMPLIANCE_MODE.",
    )
    group.addoption(
        "--env-file",
        action="append",
        default=[],
        metavar="PATH",
        help="read the target from this env file instead of .env; repeat for several "
        "targets (each file is one account, named by its stem).",
    )
    group.addoption(
        "--policy-file",
        default=None,
        metavar="PATH",
        help="mock mode: seed the task policy with this JSON document instead of the "
        "fixture, to check a proposed policy before it is applied.",
    )
    group.addoption(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a request context value for condition evaluation (repeatable), e.g. "
        "aws:SourceVpc=vpc-1234. Without it, every condition key is absent.",
    )
    group.addoption(
        "--fix",
        action="store_true",
        default=False,
        help="make the role compliant by creating a new default version of the task "
        "policy, then check the fixed state.",
    )
    group.addoption(
        "--fix-dry-run",
        action="store_true",
        default=False,
        help="show what --fix would change (new document, diff, version to delete); "
        "change nothing.",
    )
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
        "iam_compliance_read_concurrency",
        default="",
        help=f"live mode: how many targets are read at once (default {READ_CONCURRENCY}; "
        "1 reads them one by one).",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    fixtures = config.getini("iam_compliance_fixtures")
    if not fixtures:
        _refuse_options_without_suite(config)
        return
    try:
        run = ComplianceRun.from_config(config, config.rootpath / fixtures)
    except IamComplianceError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[run_key] = run
    config.pluginmanager.register(run, "iam-compliance-run")
    # Before pytest-html's and junitxml's own pytest_configure, which open the files.
    use_default_paths(config, run.reports_dir)
    config.pluginmanager.register(ReportWriter(config, run), "iam-compliance-reports")


def _refuse_options_without_suite(config: pytest.Config) -> None:
    used = [
        flag
        for flag, value in (
            ("--aws-mode", config.option.aws_mode),
            ("--policy-file", config.option.policy_file),
            ("--fix", config.option.fix),
            ("--fix-dry-run", config.option.fix_dry_run),
        )
        if value
    ]
    if used:
        raise pytest.UsageError(
            f"{used[0]} needs the compliance suite, but this pytest configuration "
            f"({config.inipath or 'none'}) does not set iam_compliance_fixtures"
        )


class ComplianceRun:
    """The state of one pytest process: settings, the AWS session(s), cached verdicts."""

    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        requirements: tuple[RequiredAction, ...],
        fixtures_dir: Path,
        read_concurrency: int = READ_CONCURRENCY,
    ) -> None:
        self.config = config
        self.settings = settings
        self.requirements = requirements
        self.fixtures_dir = fixtures_dir
        self.sessions = Sessions()
        self.mock: MockAccounts | None = None
        if settings.mode == "mock":
            # Imported here: moto is a large import that a live run (and every xdist
            # worker of one) does not need.
            from .mock import MockAccounts

            self.mock = MockAccounts(fixtures_dir, self.sessions, settings.policy_file)
        self.read_concurrency = read_concurrency
        self._adapters: dict[str, AwsAdapter] = {}
        self._assessments: dict[str, Assessment] = {}
        self.remediations: list[Remediation] = []
        #: Targets that could not be read, as test errors reported them (xdist workers).
        self.errors: list[str] = []

    @classmethod
    def from_config(cls, config: pytest.Config, fixtures_dir: Path) -> ComplianceRun:
        option = config.option
        mode = resolve_mode(option.aws_mode, os.environ)
        policy_file = Path(option.policy_file) if option.policy_file else None
        if policy_file is not None and mode == "live":
            raise ConfigurationError(
                "--policy-file seeds the mock account; it cannot be used with --aws-mode "
                "live (a live run checks the policy that is in the account)"
            )
        if option.fix and option.fix_dry_run:
            raise ConfigurationError("--fix and --fix-dry-run: choose one")
        settings = Settings(
            mode=mode,
            targets=resolve_targets(option.env_file, rootdir=config.rootpath, environ=os.environ),
            policy_file=policy_file,
            context=parse_context(option.context),
            fix=option.fix,
            fix_dry_run=option.fix_dry_run,
        )
        requirements = load_requirements(fixtures_dir / REQUIREMENTS_FILE, BotocoreCatalog())
        run = cls(config, settings, requirements, fixtures_dir, _read_concurrency(config))
        if run.mock is not None and policy_file is not None:
            # Read and check the proposed document now: a malformed file is a usage error.
            run.mock.task_policy_text(settings.targets[0])
        return run

    # -- state ------------------------------------------------------------------------

    def adapter(self, target: Target) -> AwsAdapter:
        if target.name not in self._adapters:
            connection = (
                self.mock.connection(target)
                if self.mock is not None
                else self.sessions.live(target)
            )
            self._adapters[target.name] = AwsAdapter(connection)
        return self._adapters[target.name]

    def assessment(self, target: Target) -> Assessment:
        """Read the target once per process and judge it."""
        if target.name not in self._assessments:
            snapshot = self.adapter(target).fetch_role(target)
            self._assessments[target.name] = assess(
                target, snapshot, self.requirements, self.settings.context
            )
        return self._assessments[target.name]

    def read_all(self, targets: Sequence[Target]) -> None:
        """Read ``targets`` ahead of the tests, several at once in live mode.

        Raises a usage error for the first target, in the configured order, that cannot be
        read, as reading them one by one would. Clients are made one at a time, because a
        boto3 session is not thread-safe; only the reads (botocore clients are thread-safe)
        run in threads.
        """
        pending = [t for t in targets if t.name not in self._assessments]
        if self.mock is not None or len(pending) < 2 or self.read_concurrency < 2:
            for target in pending:
                with _naming(target):
                    self.assessment(target)
            return
        reads: list[tuple[Target, Future[RoleSnapshot]]] = []
        with ThreadPoolExecutor(min(self.read_concurrency, len(pending))) as pool:
            for target in pending:
                try:
                    adapter = self.adapter(target)
                except IamComplianceError as exc:
                    reads.append((target, _failed(exc)))
                    break  # the targets before it are still read, and may fail first
                reads.append((target, pool.submit(adapter.fetch_role, target)))
        for target, read in reads:
            with _naming(target):
                self._assessments[target.name] = assess(
                    target, read.result(), self.requirements, self.settings.context
                )

    # -- fixing -----------------------------------------------------------------------

    def plan(self, target: Target) -> FixPlan | str:
        """The fix for a target, or why there is none to plan."""
        found = self.assessment(target)
        policy = found.target_policy
        if policy is None or policy.arn is None:
            return (
                f"{target.policy_arn} is not attached to {target.role_name}; --fix only "
                "adds to the attached task policy. Attach it first: aws iam "
                f"attach-role-policy --role-name {target.role_name} --policy-arn "
                f"{target.policy_arn}"
            )
        return plan_fix(
            found.snapshot.policies,
            policy,
            [r.name for r in self.requirements],
            target.table_arn,
            self.adapter(target).list_versions(policy.arn),
            self.settings.context,
        )

    def fix(self, target: Target) -> Remediation:
        """Plan and, with --fix, apply; then forget the cached verdicts so tests re-read.

        Another run may change the policy while this one fixes it (two CI jobs at once).
        Before anything is written that is noticed and the fix is planned again from a
        fresh read; after a failed write, a role that is compliant anyway (the other run's
        fix) is not an error. Anything else fails loudly.
        """
        notes: list[str] = []
        for _ in range(FIX_ATTEMPTS):
            try:
                # Planning compares the document read with the version listing, so a
                # concurrent change can already show here, before anything is written.
                plan = self.plan(target)
            except ConcurrentChangeError as exc:
                notes.append(f"planned again after a concurrent change: {exc}")
                self._assessments.pop(target.name, None)
                continue
            if isinstance(plan, str) or self.settings.fix_dry_run or not plan.can_apply:
                return Remediation(target, plan, None, self.settings.fix_dry_run, tuple(notes))
            try:
                outcome = apply_fix(
                    plan,
                    self.adapter(target),
                    account=self.assessment(target).snapshot.account_id,
                    verify=lambda: self._reread(target),
                    save_record=RecordWriter(self.reports_dir, target, self.settings.targets),
                )
            except ConcurrentChangeError as exc:
                notes.append(f"planned again after a concurrent change: {exc}")
                continue  # the finally clause dropped the stale read
            except RemediationError as exc:
                if not self._compliant_now(target):
                    raise
                notes.append(f"this run's write failed, but the role is compliant now: {exc}")
                return Remediation(target, plan, None, False, tuple(notes))
            finally:
                self._assessments.pop(target.name, None)
            return Remediation(target, plan, outcome, False, tuple(notes))
        raise ConcurrentChangeError(
            f"{target.policy_arn} kept changing while planning a fix ({FIX_ATTEMPTS} attempts); "
            "nothing was written: " + "; ".join(notes)
        )

    def _compliant_now(self, target: Target) -> bool:
        """Re-read the role; False also when it cannot be read (the failure then stands)."""
        self._assessments.pop(target.name, None)
        try:
            return not self.assessment(target).missing
        except IamComplianceError:
            return False

    def _reread(self, target: Target) -> list[Verdict]:
        self._assessments.pop(target.name, None)
        return list(self.assessment(target).verdicts.values())

    @property
    def reports_dir(self) -> Path:
        return self.config.rootpath / (self.config.getini("iam_compliance_reports") or "reports")

    # -- hooks ------------------------------------------------------------------------

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if self.settings.mode == "mock":
            lines = [
                "iam-compliance: MOCK mode: an embedded moto account seeded from "
                f"{self.fixtures_dir}; this is NOT a check of a real AWS account"
            ]
        else:
            lines = ["iam-compliance: LIVE mode: the account behind boto3's credential chain"]
        for target in self.settings.targets:
            lines.append(
                f"  target {target.name}: account {target.account_id}, region {target.region}, "
                f"role {target.role_arn}, policy {target.policy_arn}, table {target.table_arn}"
            )
        return lines

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Read every target the selected tests need before any test runs.

        Problems reading AWS then stop the run with one message (exit code 4) instead of
        erroring every test; and -k or --collect-only add no AWS calls.
        """
        if self.config.option.collectonly or hasattr(self.config, "workerinput"):
            # An xdist worker reads lazily, only the targets of the tests it is given.
            return
        needed = {t.name for item in session.items for t in _targets_of(item, self)}
        targets = [t for t in self.settings.targets if t.name in needed]
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        self.read_all(targets)
        for target in targets:
            found = self.assessment(target)
            policy = found.target_policy
            version = f"default version {policy.version}" if policy else "NOT ATTACHED"
            if reporter is not None:
                reporter.write_line(
                    f"iam-compliance: {self.settings.mode} account {found.snapshot.account_id}: "
                    f"{found.snapshot.role_arn} with {target.policy_name} {version}"
                )

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """With several targets, keep each target's tests on one worker.

        Each worker then reads only the targets it checks. An explicit --dist wins.
        """
        explicit = any(a == "-d" or a.startswith("--dist") for a in config.invocation_params.args)
        if len(self.settings.targets) < 2 or explicit or config.option.dist != "load":
            return None
        from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

        names = sorted((t.name for t in self.settings.targets), key=len, reverse=True)

        class ByTarget(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                param = nodeid.partition("[")[2]
                for name in names:
                    if param == f"{name}]" or param.startswith(f"{name}-"):
                        return name
                return nodeid

        return ByTarget(config, log)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """--fix / --fix-dry-run: once, before any test (or xdist worker) checks.

        In mock mode every process has its own moto account, so each one fixes its own.
        """
        settings = self.settings
        if not (settings.fix or settings.fix_dry_run) or self.config.option.collectonly:
            return
        if self.mock is None and hasattr(self.config, "workerinput"):
            return
        for target in settings.targets:
            try:
                self.remediations.append(self.fix(target))
            except IamComplianceError as exc:
                raise pytest.UsageError(f"--fix, target {target.name}: {exc}") from None

    # An xdist worker reads lazily, in the iam_assessment fixture, so a target it cannot
    # read errors that worker's tests instead of stopping the run. These hooks keep the
    # promise of a single run: one message, and exit code 4, not 1 (not compliant).

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(IamComplianceError):
            message = str(call.excinfo.value)
            report.longrepr = f"iam-compliance: {message}"
            report.iam_compliance_error = message  # type: ignore[attr-defined]  # for the controller
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        message = getattr(report, "iam_compliance_error", None)
        if isinstance(message, str) and message not in self.errors:
            self.errors.append(message)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        if self.errors and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return (yield)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        writer = self.config.pluginmanager.get_plugin("iam-compliance-reports")
        sections = writer.sections() if writer is not None else []
        lines = summary_lines(sections, self.remediations)
        if lines:
            terminalreporter.write_sep("=", "iam-compliance")
            for line in lines:
                terminalreporter.write_line(line)
        for message in self.errors:
            terminalreporter.write_line(f"ERROR: {message}", red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.mock is not None:
            self.mock.stop()


class RecordWriter:
    """Writes one fix's record to reports/remediation-<UTC timestamp>.json, again and again."""

    def __init__(self, folder: Path, target: Target, targets: tuple[Target, ...]) -> None:
        self.folder = folder
        self.suffix = f"-{target.name}" if len(targets) > 1 else ""
        self.path: Path | None = None

    def __call__(self, record: Mapping[str, Any]) -> str:
        if self.path is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = record_filename(datetime.now(UTC)).removesuffix(".json") + self.suffix
            self.path = _reserve(self.folder, stem)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        temporary.replace(self.path)  # never a half-written record
        return str(self.path)


def _read_concurrency(config: pytest.Config) -> int:
    raw = str(config.getini("iam_compliance_read_concurrency")).strip()
    if not raw:
        return READ_CONCURRENCY
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(
            f"iam_compliance_read_concurrency ({config.inipath or '-o'}): expected a whole "
            f"number of at least 1, got {raw!r}"
        )
    return value


@contextmanager
def _naming(target: Target) -> Iterator[None]:
    """Turn a target that cannot be read into a usage error that names it."""
    try:
        yield
    except IamComplianceError as exc:
        raise pytest.UsageError(f"target {target.name}: {exc}") from None


def _failed(exc: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(exc)
    return future


def _reserve(folder: Path, stem: str) -> Path:
    """Create ``<stem>.json`` (or ``<stem>-2.json``, ...) exclusively and return it.

    Two runs fixing at once may start within the same second; creating the file with
    O_EXCL, rather than checking that it does not exist, keeps either from overwriting
    the other's record.
    """
    path, counter = folder / f"{stem}.json", 1
    while True:
        try:
            path.touch(exist_ok=False)
        except FileExistsError:
            counter += 1
            path = folder / f"{stem}-{counter}.json"
        else:
            return path


def _targets_of(item: pytest.Item, run: ComplianceRun) -> list[Target]:
    if "iam_assessment" not in getattr(item, "fixturenames", ()):
        return []
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "iam_target" in callspec.params:
        return [callspec.params["iam_target"]]
    return list(run.settings.targets)


def _run(config: pytest.Config) -> ComplianceRun:
    run = config.stash.get(run_key, None)
    if run is None:
        raise pytest.UsageError(
            "the iam-compliance fixtures need iam_compliance_fixtures set in the pytest "
            f"configuration ({config.inipath or 'none found'})"
        )
    return run


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    run = metafunc.config.stash.get(run_key, None)
    if run is None:
        return
    if "iam_target" in metafunc.fixturenames and len(run.settings.targets) > 1:
        metafunc.parametrize(
            "iam_target",
            run.settings.targets,
            ids=[t.name for t in run.settings.targets],
            indirect=True,
            scope="session",
        )
    if "required_action" in metafunc.fixturenames:
        metafunc.parametrize(
            "required_action",
            [r.name for r in run.requirements],
            ids=[r.name for r in run.requirements],
        )


@pytest.fixture(scope="session")
def iam_target(request: pytest.FixtureRequest) -> Target:
    """The target being checked (parametrized when several --env-file are given)."""
    param = getattr(request, "param", None)
    if isinstance(param, Target):
        return param
    return _run(request.config).settings.targets[0]


@pytest.fixture(scope="session")
def iam_assessment(request: pytest.FixtureRequest, iam_target: Target) -> Assessment:
    """Every verdict about the target, read from AWS once per process."""
    try:
        return _run(request.config).assessment(iam_target)
    except IamComplianceError as exc:
        raise IamComplianceError(f"target {iam_target.name}: {exc}") from None
