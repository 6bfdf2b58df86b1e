"""--fix and --fix-dry-run: plan, apply and record, once, before any test checks.

Another run may change the policy while this one fixes it (two CI jobs at once). Before
anything is written that is noticed and the fix is planned again from a fresh read; after a
failed write, a role that is compliant anyway (the other run's fix) is not an error.
Anything else fails loudly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ..aws.analyzer import ANALYZER_CONFIG, check_no_new_access
from ..config import Settings
from ..engine.evaluate.evaluation import Verdict
from ..engine.fix.planning import FixPlan
from ..engine.fix.rollout import FixDestination, Remediation, apply_fix
from ..engine.target import Target
from ..errors import ConcurrentChangeError, IamComplianceError, RemediationError
from ..report.records import RecordWriter
from .checker import Checker
from .drift import drift_notes
from .failures import FailureTracker
from .xdist import is_xdist_worker

#: How often --fix plans again when another run changed the policy meanwhile.
FIX_ATTEMPTS = 3


class Remediations:
    """What --fix or --fix-dry-run did in this process, per target."""

    def __init__(self) -> None:
        self.all: list[Remediation] = []

    def add(self, result: Remediation) -> None:
        self.all.append(result)

    def of(self, name: str) -> Remediation | None:
        """The last remediation of target ``name``, if any."""
        found = [r for r in self.all if r.target.name == name]
        return found[-1] if found else None


class Fixer:
    """Plans and applies the fix of every target at session start."""

    def __init__(
        self,
        checker: Checker,
        settings: Settings,
        remediations: Remediations,
        reports_dir: Path,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        failures: FailureTracker | None = None,
    ) -> None:
        self.failures = failures or FailureTracker()
        self.checker = checker
        self.settings = settings
        self.remediations = remediations
        self.reports_dir = reports_dir
        self.clock = clock

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Once, before any test (or xdist worker) checks.

        In mock mode every process has its own moto account, so each one fixes its own.
        """
        config = session.config
        if not (self.settings.fix or self.settings.fix_dry_run) or config.option.collectonly:
            return
        if self.checker.mock is None and is_xdist_worker(config):
            return
        if self.settings.policy_file is not None:
            return  # a source file is fixed by a patch (see .sourcing)
        for target in self.settings.targets:
            try:
                self.remediations.add(self.fix(target))
            except IamComplianceError as exc:
                # The run stops when collection starts, so that every report is still
                # written, saying why (a UsageError here would skip pytest_sessionfinish).
                self.failures.stop(f"--fix, target {target.name}: {exc}")
                return

    def plan(self, target: Target) -> FixPlan | str:
        """The fix for a target, or why there is none to plan: planned and proved as every
        report's proposed fix is (:meth:`.Checker.propose`), with the version listing and
        the policy's other principals read."""
        found = self.checker.assessment(target)
        policy = found.target_policy
        if policy is None or policy.arn is None:
            return (
                f"{target.policy_arn} is not attached to {target.role_name}; --fix only "
                "adds to the attached task policy. Attach it first: aws iam "
                f"attach-role-policy --role-name {target.role_name} --policy-arn "
                f"{target.policy_arn}"
            )
        adapter = self.checker.adapter(target)
        plan = self.checker.propose(
            found,
            versions=adapter.list_versions(policy.arn),
            shared_with=adapter.policy_entities(policy.arn, found.snapshot.role_arn),
            allow_shared=self.settings.fix_shared_policy,
        )
        assert plan is not None  # the policy is attached
        return plan

    def fix(self, target: Target) -> Remediation:
        """Plan and, with --fix, apply; then forget the cached verdicts so tests re-read."""
        notes: list[str] = drift_notes(self.checker, target) if self.checker.mock is None else []
        for _ in range(FIX_ATTEMPTS):
            try:
                # Planning compares the document read with the version listing, so a
                # concurrent change can already show here, before anything is written.
                plan = self.plan(target)
            except ConcurrentChangeError as exc:
                notes.append(f"planned again after a concurrent change: {exc}")
                self.checker.forget(target)
                continue
            if not isinstance(plan, str):
                plan = self._second_opinion(target, plan)
            if isinstance(plan, str) or self.settings.fix_dry_run or not plan.can_apply:
                return Remediation(target, plan, None, self.settings.fix_dry_run, tuple(notes))
            try:
                adapter = self.checker.adapter(target)
                live = self.settings.mode == "live"
                applied = apply_fix(
                    plan,
                    adapter,
                    account=self.checker.assessment(target).snapshot.account_id,
                    verify=lambda: self._reread(target),
                    save_record=self._record_writer(target),
                    clock=self.clock,
                    where=FixDestination(
                        self.settings.mode,
                        target.region,
                        adapter.endpoint_url if live else None,
                        adapter.caller_arn() if live else None,
                    ),
                )
            except ConcurrentChangeError as exc:
                notes.append(f"planned again after a concurrent change: {exc}")
                continue  # the finally clause dropped the stale read
            except RemediationError as exc:
                # Another run's fix may have made this one's moot; never when this run's
                # own version is the default, whose failure the user must hear about.
                if exc.own_version_is_default or not self._compliant_now(target):
                    raise
                notes.append(f"this run's write failed, but the role is compliant now: {exc}")
                return Remediation(target, plan, None, False, tuple(notes))
            finally:
                self.checker.forget(target)
            return Remediation(target, plan, applied, False, tuple(notes))
        raise ConcurrentChangeError(
            f"{target.policy_arn} kept changing while planning a fix ({FIX_ATTEMPTS} attempts); "
            "nothing was written: " + "; ".join(notes)
        )

    def _second_opinion(self, target: Target, plan: FixPlan) -> FixPlan:
        """Live mode: the plan with IAM Access Analyzer's CheckNoNewAccess on the proposed
        document (or why it could not be asked), shown beside the proof."""
        if self.checker.mock is not None or plan.new_document is None:
            return plan
        client = self.checker.sessions.live(target).client("accessanalyzer", ANALYZER_CONFIG)
        opinion = check_no_new_access(client, plan.current_document, plan.new_document)
        return dataclasses.replace(plan, second_opinion=opinion)

    def _record_writer(self, target: Target) -> RecordWriter:
        several = len(self.settings.targets) > 1
        return RecordWriter(
            self.reports_dir, suffix=f"-{target.name}" if several else "", clock=self.clock
        )

    def _compliant_now(self, target: Target) -> bool:
        """Re-read the role; False also when it cannot be read (the failure then stands)."""
        self.checker.forget(target)
        try:
            return not self.checker.assessment(target).missing
        except IamComplianceError:
            return False

    def _reread(self, target: Target) -> list[Verdict]:
        self.checker.forget(target)
        return list(self.checker.assessment(target).verdicts.values())
