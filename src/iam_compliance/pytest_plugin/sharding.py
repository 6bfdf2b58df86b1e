"""``--iam-shard I/N``: the run checks one shard of its targets, and says so in every report.

The split itself is :mod:`iam_compliance.sharding` (pure). Here the run's settings keep
the shard's targets; test ids name the target whenever the run has several (a shard of
one target included), so a shard's tests are named as in a run over every target; a shard
without targets deselects the suite's tests and ends with exit code 0, "nothing to check
in this shard"; and compliance.json records the shard and each test's reports
(:mod:`.transcript`), from which ``iam-compliance merge`` makes the run's reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator

import pytest

from ..config import Settings
from ..report.document import ReportDocument
from ..report.shard_entries import ShardEntry, TargetConfig
from ..report.shard_html import parts_html, shard_title
from ..sharding import ShardPlan, parse_shard, plan_shard
from .transcript import Transcript
from .xdist import is_xdist_worker

#: The fixtures of the suite's tests: a shard without targets deselects the tests that
#: use them.
SUITE_FIXTURES = ("iam_assessment", "iam_target")
#: This run's shard (None: the run is not sharded), set while the settings are resolved.
shard_plan_key = pytest.StashKey["ShardPlan | None"]()


def shard_settings(settings: Settings, option: str | None) -> tuple[Settings, ShardPlan | None]:
    """The settings of shard ``option`` (``I/N``) of the run: its targets only."""
    if not option:
        return settings, None
    plan = plan_shard(settings.targets, parse_shard(option))
    return dataclasses.replace(settings, targets=plan.targets), plan


def wire_shard(
    config: pytest.Config, settings: Settings, *, lists_passed: bool
) -> Callable[[ReportDocument], ReportDocument] | None:
    """Register the shard's plugin; return what it adds to compliance.json (None: the run
    is not sharded)."""
    plan = config.stash.get(shard_plan_key, None)
    if plan is None:
        return None
    controller = not is_xdist_worker(config)
    transcript = Transcript() if controller else None
    if transcript is not None:
        config.pluginmanager.register(transcript, "iam-compliance-transcript")
    shard = ShardRun(plan, settings, lists_passed=lists_passed, transcript=transcript)
    config.pluginmanager.register(shard, "iam-compliance-shard")
    return shard.amend


def shard_entry(plan: ShardPlan, *, lists_passed: bool) -> ShardEntry:
    """compliance.json's ``shard``: no credentials, only what names each target."""
    return ShardEntry(
        index=plan.shard.index,
        count=plan.shard.count,
        targets=tuple(t.name for t in plan.targets),
        all_targets=tuple(t.name for t in plan.all_targets),
        configured=tuple(
            TargetConfig(
                name=t.name,
                account=t.account_id,
                region=t.region,
                role_name=t.role_name,
                policy_name=t.policy_name,
                table_name=t.table_name,
                s3_bucket=t.s3_bucket,
            )
            for t in plan.all_targets
        ),
        lists_passed_tests=lists_passed,
    )


class ShardRun:
    """One shard of a run: its test ids, an empty shard's run, and what its reports say."""

    def __init__(
        self,
        plan: ShardPlan,
        settings: Settings,
        *,
        lists_passed: bool,
        transcript: Transcript | None,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.entry = shard_entry(plan, lists_passed=lists_passed)
        #: Each test's reports, written down by the controller (None on a worker).
        self.transcript = transcript

    def amend(self, document: ReportDocument) -> ReportDocument:
        """compliance.json with the shard and, for a merge, each test's reports."""
        tests = document.tests
        if self.transcript is not None:
            tests = self.transcript.with_reports(tests)
        return dataclasses.replace(document, shard=self.entry, tests=tests)

    @property
    def line(self) -> str:
        plan, shard = self.plan, self.plan.shard
        if plan.is_empty:
            readers = sum(1 for part in plan.assignment if part)
            return (
                f"{shard.text}: nothing to check in this shard: the run's "
                f"{len(plan.all_targets):,} target(s) are checked by {readers} shard(s), "
                "each account by one"
            )
        accounts = plan.accounts
        return (
            f"{shard.text}: {len(plan.targets):,} of the run's {len(plan.all_targets):,} "
            f"target(s), in {len(accounts)} account(s): {', '.join(accounts[:5])}"
            + (f" and {len(accounts) - 5} more" if len(accounts) > 5 else "")
        )

    # -- collection ---------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """A shard of one target, of a run of several: the ids still name the target
        (the plugin's own parametrization does so for two targets or more)."""
        targets = self.plan.targets
        one_of_several = len(targets) == 1 and len(self.plan.all_targets) > 1
        if "iam_target" in metafunc.fixturenames and one_of_several:
            metafunc.parametrize(
                "iam_target", targets, ids=[targets[0].name], indirect=True, scope="session"
            )

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if not self.plan.is_empty:
            return
        kept = [i for i in items if not set(SUITE_FIXTURES) & set(getattr(i, "fixturenames", ()))]
        if len(kept) < len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept

    # -- the end ------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        """An empty shard checked nothing on purpose: not "no tests collected" (5)."""
        if self.plan.is_empty and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK
        return (yield)

    def pytest_report_header(self, config: pytest.Config) -> str:
        return f"iam-compliance: {self.line}"

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not is_xdist_worker(terminalreporter.config):
            terminalreporter.write_line(f"iam-compliance: {self.line}", yellow=self.plan.is_empty)

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_html_report_title(self, report: object) -> None:
        title = str(getattr(report, "title", ""))
        report.title = shard_title(title, self.entry, self.settings.mode)  # type: ignore[attr-defined]

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_html_results_summary(self, prefix: list[str]) -> None:
        prefix.append(parts_html(self.entry, None))
