"""Read each target once per process and judge it: the checker behind every fixture.

In live mode the targets a run's tests need are read before the first test, several at
once. A target that cannot be read errors its own tests (exit code 4) while the others
are checked; when none can be read the run stops with one message naming each. An xdist
worker reads lazily, when its first test of a target runs.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..aws.adapter import AwsAdapter
from ..aws.connection import Connection, Sessions
from ..aws.organization import GuardrailSource, live_connection
from ..aws.progress import ReadProgress, interval_of, read_with_progress
from ..aws.reading import RoleReader
from ..aws.simulator import simulate
from ..config import READ_CONCURRENCY, Settings
from ..engine.evaluate.assessment import NOTHING_DECLARED, Assessment, assess
from ..engine.evaluate.crosscheck import compare, context_entries
from ..engine.evaluate.evaluation import Judge, Verdict
from ..engine.evaluate.request import Declared
from ..engine.evaluate.snapshot import RoleSnapshot
from ..engine.fix.planning import FixPlan
from ..engine.fix.proposal import WrittenFix, plan_and_prove
from ..engine.policy import PolicyVersion, RolePolicies
from ..engine.requirements import (
    DEFAULT_TRUSTED_SERVICE,
    ActionCatalog,
    ForbiddenAction,
    RequiredAction,
)
from ..engine.resources import ResourceNeeds, endpoint_ids
from ..engine.target import Target
from ..errors import IamComplianceError
from .failures import FailureTracker
from .sources_header import source_lines
from .xdist import is_xdist_worker

if TYPE_CHECKING:
    from ..aws.mock import MockAccounts


#: Up to this many targets, the header names each target's role and policy version.
TARGET_LINES = 10


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
        forbidden: tuple[ForbiddenAction, ...] = (),
        trusted_service: str = DEFAULT_TRUSTED_SERVICE,
    ) -> None:
        self.settings = settings
        #: What the workload's role must never be able to do (``[[forbid]]``).
        self.forbidden = forbidden
        #: The service principal the role's trust policy must let in (``[workload]``).
        self.trusted_service = trusted_service
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
        self._actions: dict[str, list[str]] = {}
        self.sessions = Sessions()
        self.mock: MockAccounts | None = None
        if settings.mode == "mock":
            # Imported here: moto is a large import that a live run (and every xdist
            # worker of one) does not need.
            from ..aws.mock import MockAccounts

            self.mock = MockAccounts(
                fixtures_dir, self.sessions, settings.policy_file, settings.targets
            )
        #: Reads the roles: clients shared per credentials, one sweep per account.
        self.reader = RoleReader(
            self._connection,
            # The embedded account is seeded on first use, which is not made for threads.
            concurrency=1 if self.mock is not None else read_concurrency,
            adapter_of=self._adapter_of,
            keep_clients=settings.fix or settings.fix_dry_run,
            needs=self.resource_needs,
        )
        self.reader.plan(settings.targets)
        self._assessments: dict[str, Assessment] = {}
        #: The organization's SCPs and RCPs of each target, read once per account.
        self.guardrails = GuardrailSource(
            settings.guardrails, self._organization_connection, rcp_services=rcp_services
        )

    def actions_of(self, service: str) -> list[str]:
        """A service's actions, as AWS spells them (none without the action data)."""
        if self.catalog is None:
            return []
        if service not in self._actions:  # each target's proof asks again
            self._actions[service] = sorted(self.catalog.actions(service) or ())
        return self._actions[service]

    def judge_of(self, found: Assessment) -> Judge:
        """How the run evaluates a request for ``found``'s target: with a source file, what
        the file leaves open makes what it touches undecided."""
        source = self.mock.source(found.target) if self.mock is not None else None
        if source is None:
            return found.judge
        from ..engine.evaluate.unknowns import undecided  # only a run on a source file needs it

        unknowns = source.unknowns

        def judge(policies: RolePolicies, action: str, resource: str) -> Verdict:
            return undecided(found.judge(policies, action, resource), unknowns)

        return judge

    def propose(
        self,
        found: Assessment,
        *,
        versions: Sequence[PolicyVersion] | None = None,
        shared_with: Sequence[str] = (),
        allow_shared: bool = False,
        write: Callable[[FixPlan], WrittenFix | None] | None = None,
    ) -> FixPlan | None:
        """The fix of ``found``'s task policy, planned and proved the one way every report,
        --fix-dry-run, --fix and a source file's patch use (None: the policy is not
        attached). ``versions``: the policy's version listing, when it was read;
        ``write``: writes the plan into a source file, to prove it again as written."""
        return plan_and_prove(
            found,
            self.actions_of,
            versions=versions,
            judge=self.judge_of(found),
            shared_with=shared_with,
            allow_shared=allow_shared,
            write=write,
        )

    def check_policy_file(self) -> None:
        """Read and check the mock account's policy file now: a bad one is a usage error."""
        if self.mock is not None and self.settings.policy_file is not None:
            for target in self.settings.targets:
                self.mock.source(target)

    # -- state ------------------------------------------------------------------------

    def adapter(self, target: Target) -> AwsAdapter:
        """The adapter of the target's credentials, region and endpoint (shared)."""
        return self.reader.adapter(target)

    def assessment(self, target: Target) -> Assessment:
        """Read the target once per process and judge it."""
        if target.name in self.read_errors:
            raise self.read_errors[target.name]
        if target.name not in self._assessments:
            self._assessments[target.name] = self._assess(target, self.reader.snapshot(target))
        return self._assessments[target.name]

    def forget(self, target: Target) -> None:
        """Drop the cached assessment, so the next one reads the account again."""
        self._assessments.pop(target.name, None)
        self.reader.forget(target)

    def read_all(
        self, targets: Sequence[Target], on_read: Callable[[], None] = lambda: None
    ) -> dict[str, IamComplianceError]:
        """Read ``targets`` ahead of the tests (live mode: several accounts at once),
        ``on_read()`` after each.

        Every target is read, whatever happens to the others; those that cannot be read
        are returned (and kept: their tests then error with that message).
        """
        pending = [t for t in targets if t.name not in self._assessments]
        results = self.reader.read_all(pending, on_read)
        for target in pending:
            result = results[target.name]
            try:
                if isinstance(result, IamComplianceError):
                    raise result
                self._assessments[target.name] = self._assess(target, result)
            except IamComplianceError as exc:
                self.read_errors[target.name] = exc
        return self._errors_of(targets)

    def release_clients(self) -> None:
        """After the reads: let go of the clients, unless a fix will write through them."""
        if not self.reader.keep_clients:
            self.reader.release()

    def resource_needs(self, target: Target) -> ResourceNeeds:
        """What to read for ``target`` besides its role: the resources its requirements
        name, and the VPC endpoints declared as aws:SourceVpce (the command line's
        --iam-context winning over fixtures/request_context.toml, as in the requests)."""
        context = {entry.key.lower(): entry.values for entry in self.declared.request}
        context.update({key.lower(): values for key, values in self.settings.context.items()})
        entries = (*self.requirements, *self.forbidden)  # a forbid's resource policy counts too
        return ResourceNeeds(tuple(entry.arn(target) for entry in entries), endpoint_ids(context))

    def _adapter_of(self, connection: Connection) -> AwsAdapter:
        if self.mock is not None:  # the embedded account's resources are kept, not in moto
            return AwsAdapter(connection, resources=self.mock.resources)
        return AwsAdapter(connection)

    def _connection(self, target: Target) -> Connection:
        if self.mock is not None:
            return self.mock.connection(target)
        return self.sessions.live(target)

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
            strict_resources=self.settings.strict_resources,
            forbidden=self.forbidden,
            trusted_service=self.trusted_service,
        )
        if self.settings.cross_check:
            return self._cross_check(found)
        source = self.mock.source(target) if self.mock is not None else None
        if source is None:
            return found
        # A value the source file leaves open makes what it touches undecided; each
        # reason says where in the file its deciding statement is. Imported here: only a
        # run on a source file needs them.
        from ..engine.evaluate.unknowns import with_unknowns
        from ..sources.locations import annotate

        return annotate(with_unknowns(found, source.unknowns), source)

    def _cross_check(self, found: Assessment) -> Assessment:
        """The verdicts compared with IAM's policy simulator, one call per resource."""
        by_resource: dict[str, list[str]] = {}
        for entry in (*found.requirements, *found.forbidden):
            by_resource.setdefault(entry.arn(found.target), []).append(entry.name)
        iam = self.adapter(found.target).iam
        entries = context_entries(found.request_context)
        answers = [
            answer
            for resource, actions in by_resource.items()
            for answer in simulate(iam, found.snapshot.role_arn, actions, resource, entries)
        ]
        read = found.guardrails.guardrails is not None
        return dataclasses.replace(
            found,
            verdicts=compare(found.verdicts, answers, guardrails_read=read),
            forbidden_verdicts=compare(found.forbidden_verdicts, answers, guardrails_read=read),
        )

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
        live = self.settings.mode == "live"
        for target in self.settings.targets:
            # Live: the endpoint too; a stray AWS_ENDPOINT_URL must not pass for AWS.
            endpoint = ""
            if live:
                endpoint = f", endpoint {target.endpoint_url or 'AWS (no AWS_ENDPOINT_URL)'}"
            lines.append(
                f"  target {target.name}: account {target.account_id}, region {target.region}, "
                f"role {target.role_arn}, policy {target.policy_arn}, table {target.table_arn}"
                + endpoint
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
        self.reader.plan(targets)
        if reporter is None:
            errors = self.read_all(targets)
        else:  # a line every few seconds while the reads run, -q or not
            progress = ReadProgress(
                len(targets),
                interval=interval_of(reporter.isatty()),
                requests=self.sessions.requests,
            )
            errors = read_with_progress(
                lambda: self.read_all(targets, progress.target_read),
                progress,
                lambda line: reporter.write_line(f"iam-compliance: {line}"),
            )
        if errors and len(errors) == len(targets):  # nothing to check: one message
            raise self.failures.stop(
                "\n".join(f"target {name}: {exc}" for name, exc in errors.items())
            )
        if reporter is not None:
            for line in self._read_lines(targets, errors):
                reporter.write_line(f"iam-compliance: {line}")
        self.release_clients()

    def _read_lines(
        self, targets: Sequence[Target], errors: Mapping[str, IamComplianceError]
    ) -> list[str]:
        """What was read: each target's role and policy version (a summary per account
        beyond :data:`TARGET_LINES` targets), and the guardrails."""
        lines = [
            f"target {name} could not be read, its tests will error: {exc}"
            for name, exc in errors.items()
        ]
        read = [self.assessment(t) for t in targets if t.name not in errors]
        if self.settings.mode == "live":
            lines.extend(f"live {line}" for line in self.reader.describe(targets))
        if len(read) <= TARGET_LINES:
            for found in read:
                policy = found.target_policy
                version = f"default version {policy.version}" if policy else "NOT ATTACHED"
                lines.append(
                    f"{self.settings.mode} account {found.snapshot.account_id}: "
                    f"{found.snapshot.role_arn} with {found.target.policy_name} {version}"
                    + (_where(found) if self.settings.mode == "live" else "")
                )
            # Once per distinct state, not once per target: the summary's compliant
            # targets then take one line each.
            for described in dict.fromkeys(f.guardrails.describe() for f in read):
                lines.append(described)
            return lines
        unattached = [f.target.name for f in read if f.target_policy is None]
        if unattached:
            lines.append(
                f"task policy NOT ATTACHED in {len(unattached)} target(s): "
                + ", ".join(unattached[:TARGET_LINES])
                + (" ..." if len(unattached) > TARGET_LINES else "")
            )
        for described, count in Counter(f.guardrails.describe() for f in read).items():
            lines.append(f"{described} ({count} target(s))")
        if self.settings.mode == "live":
            for where, count in Counter(_where(f) for f in read).items():
                lines.append(f"live{where} ({count} target(s))")
        return lines

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


def _where(found: Assessment) -> str:
    """``, read through http://127.0.0.1:5000 as arn:aws:sts::...``: where the account was
    read, and who read it (a live run's answer only means something for both)."""
    snapshot = found.snapshot
    return (
        f", read through {snapshot.endpoint_url or 'an unknown endpoint'} "
        f"as {snapshot.caller_arn or 'an unknown caller'}"
    )
