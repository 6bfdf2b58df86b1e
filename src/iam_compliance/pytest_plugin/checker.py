"""Read each target once per process and judge it: the checker behind every fixture.

In live mode the targets a run's tests need are read before the first test, several at
once. A target that cannot be read errors its own tests (exit code 4) while the others
are checked; when none can be read the run stops with one message naming each. An xdist
worker reads lazily, when its first test of a target runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..aws.adapter import AwsAdapter, Connection, Sessions
from ..aws.organization import GuardrailSource, live_connection
from ..aws.simulator import simulate
from ..config import READ_CONCURRENCY, Settings
from ..engine.assessment import NOTHING_DECLARED, Assessment, RoleSnapshot, assess
from ..engine.crosscheck import compare, context_entries
from ..engine.request import Declared
from ..engine.requirements import ActionCatalog, RequiredAction
from ..engine.target import Target
from ..errors import IamComplianceError
from .failures import FailureTracker
from .xdist import is_xdist_worker

if TYPE_CHECKING:
    from ..aws.mock import MockAccounts


class Checker:
    """The run's AWS connections and the assessment of each target, cached per process."""

    def __init__(
        self,
        settings: Settings,
        requirements: tuple[RequiredAction, ...],
        fixtures_dir: Path,
        *,
        declared: Declared = NOTHING_DECLARED,
        read_concurrency: int = READ_CONCURRENCY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rcp_services: frozenset[str] = frozenset(),
        catalog: ActionCatalog | None = None,
        failures: FailureTracker | None = None,
    ) -> None:
        self.settings = settings
        self.failures = failures or FailureTracker()
        #: Targets that could not be read ahead of the tests, and why: their tests error.
        self.read_errors: dict[str, IamComplianceError] = {}
        self.requirements = requirements
        self.fixtures_dir = fixtures_dir
        #: What fixtures/request_context.toml declares about the containers' requests.
        self.declared = declared
        self.read_concurrency = read_concurrency
        self.clock = clock
        #: AWS's IAM action data, when the run has it (the proof of a fix uses it).
        self.catalog = catalog
        self.sessions = Sessions()
        self.mock: MockAccounts | None = None
        if settings.mode == "mock":
            # Imported here: moto is a large import that a live run (and every xdist
            # worker of one) does not need.
            from ..aws.mock import MockAccounts

            self.mock = MockAccounts(fixtures_dir, self.sessions, settings.policy_file)
        self._adapters: dict[str, AwsAdapter] = {}
        self._assessments: dict[str, Assessment] = {}
        #: The organization's SCPs and RCPs of each target, read once per account.
        self.guardrails = GuardrailSource(
            settings.guardrails, self._organization_connection, rcp_services=rcp_services
        )

    def actions_of(self, service: str) -> list[str]:
        """A service's actions, as AWS spells them (none without the action data)."""
        if self.catalog is None:
            return []
        return sorted(self.catalog.actions(service) or ())

    def check_policy_file(self) -> None:
        """Read and check the mock account's policy file now: a bad one is a usage error."""
        if self.mock is not None and self.settings.policy_file is not None:
            for target in self.settings.targets:
                self.mock.source(target)

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
        if target.name in self.read_errors:
            raise self.read_errors[target.name]
        if target.name not in self._assessments:
            snapshot = self.adapter(target).fetch_role(target)
            self._assessments[target.name] = self._assess(target, snapshot)
        return self._assessments[target.name]

    def forget(self, target: Target) -> None:
        """Drop the cached assessment, so the next one reads the account again."""
        self._assessments.pop(target.name, None)

    def read_all(self, targets: Sequence[Target]) -> dict[str, IamComplianceError]:
        """Read ``targets`` ahead of the tests, several at once in live mode.

        Every target is read, whatever happens to the others; those that cannot be read
        are returned (and kept: their tests then error with that message). Clients are made
        one at a time, because a boto3 session is not thread-safe; only the reads (botocore
        clients are thread-safe) run in threads.
        """
        pending = [t for t in targets if t.name not in self._assessments]
        if self.mock is not None or len(pending) < 2 or self.read_concurrency < 2:
            for target in pending:
                self._keep(target, partial(self.assessment, target))
            return self._errors_of(targets)
        reads: list[tuple[Target, Future[RoleSnapshot]]] = []
        with ThreadPoolExecutor(min(self.read_concurrency, len(pending))) as pool:
            for target in pending:
                try:
                    adapter = self.adapter(target)
                except IamComplianceError as exc:
                    reads.append((target, _failed(exc)))
                    continue
                reads.append((target, pool.submit(adapter.fetch_role, target)))
        for target, read in reads:
            self._keep(target, partial(self._judge, target, read))
        return self._errors_of(targets)

    def _judge(self, target: Target, read: Future[RoleSnapshot]) -> None:
        self._assessments[target.name] = self._assess(target, read.result())

    def _keep(self, target: Target, read: Callable[[], object]) -> None:
        try:
            read()
        except IamComplianceError as exc:
            self.read_errors[target.name] = exc

    def _errors_of(self, targets: Sequence[Target]) -> dict[str, IamComplianceError]:
        return {t.name: self.read_errors[t.name] for t in targets if t.name in self.read_errors}

    def _assess(self, target: Target, snapshot: RoleSnapshot) -> Assessment:
        found = assess(
            target,
            snapshot,
            self.requirements,
            self.settings.context,
            declared=self.declared,
            now=self.clock(),
            guardrails=self.guardrails.read(target),
        )
        if self.settings.cross_check:
            return self._cross_check(found)
        source = self.mock.source(target) if self.mock is not None else None
        if source is None:
            return found
        # A value the source file leaves open makes what it touches undecided; each
        # reason says where in the file its deciding statement is. Imported here: only a
        # run on a source file needs them.
        from ..engine.unknowns import with_unknowns
        from ..sources.locations import annotate

        return annotate(with_unknowns(found, source.unknowns), source)

    def _cross_check(self, found: Assessment) -> Assessment:
        """The verdicts compared with IAM's policy simulator, one call per resource."""
        by_resource: dict[str, list[str]] = {}
        for required in found.requirements:
            by_resource.setdefault(required.arn(found.target), []).append(required.name)
        iam = self.adapter(found.target).iam
        entries = context_entries(found.request_context)
        answers = [
            answer
            for resource, actions in by_resource.items()
            for answer in simulate(iam, found.snapshot.role_arn, actions, resource, entries)
        ]
        verdicts = compare(
            found.verdicts, answers, guardrails_read=found.guardrails.guardrails is not None
        )
        return dataclasses.replace(found, verdicts=verdicts)

    def _organization_connection(self, target: Target) -> Connection | None:
        if self.mock is not None:
            return self.mock.organization_connection(target)
        return live_connection(self.sessions, target)

    # -- hooks ------------------------------------------------------------------------

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if self.settings.mode == "mock":
            lines = [
                "iam-compliance: MOCK mode: an embedded moto account seeded from "
                f"{self.fixtures_dir}; this is NOT a check of a real AWS account"
            ]
        else:
            lines = ["iam-compliance: LIVE mode: the account behind boto3's credential chain"]
        if self.mock is not None and self.settings.policy_file is not None:
            lines.extend(source_lines(self.mock, self.settings.targets))
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
        config = session.config
        if config.option.collectonly or is_xdist_worker(config):
            # An xdist worker reads lazily, only the targets of the tests it is given.
            return
        needed = {t.name for item in session.items for t in self.targets_of(item)}
        targets = [t for t in self.settings.targets if t.name in needed]
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        errors = self.read_all(targets)
        if errors and len(errors) == len(targets):  # nothing to check: one message
            raise self.failures.stop(
                "\n".join(f"target {name}: {exc}" for name, exc in errors.items())
            )
        for target in targets:
            if target.name in errors:
                if reporter is not None:
                    reporter.write_line(
                        f"iam-compliance: target {target.name} could not be read, its tests "
                        f"will error: {errors[target.name]}"
                    )
                continue
            found = self.assessment(target)
            policy = found.target_policy
            version = f"default version {policy.version}" if policy else "NOT ATTACHED"
            if reporter is not None:
                reporter.write_line(
                    f"iam-compliance: {self.settings.mode} account {found.snapshot.account_id}: "
                    f"{found.snapshot.role_arn} with {target.policy_name} {version}"
                )
                reporter.write_line(f"iam-compliance: {found.guardrails.describe()}")

    def targets_of(self, item: pytest.Item) -> list[Target]:
        """The targets a collected test checks (none, if it uses no assessment)."""
        if "iam_assessment" not in getattr(item, "fixturenames", ()):
            return []
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "iam_target" in callspec.params:
            return [callspec.params["iam_target"]]
        return list(self.settings.targets)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.mock is not None:
            self.mock.stop()


def _failed(exc: BaseException) -> Future[RoleSnapshot]:
    future: Future[RoleSnapshot] = Future()
    future.set_exception(exc)
    return future


def source_lines(mock: MockAccounts, targets: Sequence[Target]) -> list[str]:
    """What the header says about --iam-policy-file: its kind, and what it leaves open."""
    lines = []
    for target in targets:
        source = mock.source(target)
        if source is None:
            continue
        what = {
            "policy": "the task policy",
            "terraform-plan": "a Terraform plan",
            "cloudformation": "a CloudFormation template",
        }[source.kind]
        lines.append(f"  {source.label}: {what}, seeding the account of target {target.name}")
        if source.describes_role and source.table_place is None:
            lines.append(f"    the table is not in {source.path}: seeded from the fixtures")
        lines.extend(f"    not known: {unknown.text}" for unknown in source.unknowns)
    return lines
