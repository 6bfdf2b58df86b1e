"""The verdict ledger: each compliance test's verdict attached to its report, and
gathered for the report files.

Under pytest-xdist only the controller writes reports, and it has no assessments of its
own: the workers judge the role. So everything the reports need travels on the test
reports (the ``iam_compliance`` attribute of each compliance test's call report, plain
JSON that xdist transfers with the report), and the controller builds the files from what
it receives. A run without xdist goes through exactly the same path.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import weakref
from collections.abc import Callable, Generator

import pytest
from pytest_html import extras  # type: ignore[import-untyped]

from ..config import Invocation, Settings
from ..engine.evaluate.assessment import Assessment
from ..engine.fix.planning import FixPlan
from ..engine.fix.rollout import Remediation
from ..errors import IamComplianceError
from ..report import build, fixes, html
from ..report.codec import from_json, to_json
from ..report.document import RowPayload, TestEntry
from ..report.labels import CheckKind, Outcome, Status
from ..report.model import JSON, TargetSection
from .fixing import Remediations
from .hints import invocation, rerun_command
from .markers import ACTION_FIXTURE, FORBIDDEN_FIXTURE, check_of
from .options import option_names

#: On a failed required-action test's report, with many targets: its target's failed
#: "all required permissions" test lists it, so the page need not list it again.
LISTED_BY_ALL_ACTIONS = "iam_compliance_listed_by_all_actions"
#: The test report attribute that carries a test's verdict data to the xdist controller.
ATTRIBUTE = "iam_compliance"


class VerdictLedger:
    """Attaches each compliance test's verdict to its report, and gathers them.

    Registered on every process of a run (xdist workers too): every process attaches,
    and the controller (or the only process) gathers what reaches it.
    """

    def __init__(
        self,
        settings: Settings,
        remediations: Remediations,
        *,
        compact: bool = False,
        carries: bool = True,
        propose: Callable[[Assessment], FixPlan | None] = lambda found: None,
    ) -> None:
        self.settings = settings
        self.remediations = remediations
        #: Plans and proves a target's fix (:meth:`.Checker.propose`), as --fix-dry-run does.
        self.propose = propose
        #: Many targets: a row links to its target's section instead of explaining itself.
        self.compact = compact
        #: Whether each report carries its verdict data as JSON (:data:`ATTRIBUTE`): for
        #: reports that leave the process (an xdist worker's) or are written down (a
        #: shard's transcript). A run in one process reads what it attached directly.
        self.carries = carries
        self._with_all_actions: set[str] | None = None
        # This process: what its tests of a target share, built once.
        self._built: dict[str, tuple[TargetSection, JSON]] = {}
        # What reached this process on reports (the controller's view): target -> section.
        self._sections: dict[str, TargetSection] = {}
        #: target -> its task policy's default document, for the HTML page.
        self.documents: dict[str, JSON] = {}
        # node id -> its target and action, and its outcome once known.
        self._tests: dict[str, tuple[str | None, str | None, Outcome | None]] = {}
        # The suite's checks that reached a verdict: (target, check, action).
        self._ran: set[tuple[str, CheckKind, str | None]] = set()
        #: Sections that arrived and that the writer has not shown yet.
        self.new_sections: list[TargetSection] = []
        # The payloads this process attached, by report: decoding them again from the
        # JSON they carry cost more than the rest of a row (the controller of an xdist
        # run decodes what the workers sent).
        self._made: weakref.WeakKeyDictionary[pytest.TestReport, RowPayload] = (
            weakref.WeakKeyDictionary()
        )
        #: How the run was started, for the hints' command (known once collected).
        self.invocation = Invocation()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Every process that runs tests collects: the hints repeat what it was asked."""
        config = session.config
        self.invocation = invocation(config, session.items, option_names(config))

    # -- every process: attach ---------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        funcargs = getattr(item, "funcargs", {})
        assessment = funcargs.get("iam_assessment")
        if report.when == "call" and isinstance(assessment, Assessment):
            # The requirement's id, or the forbid's: what the row is about.
            required = funcargs.get(ACTION_FIXTURE, funcargs.get(FORBIDDEN_FIXTURE))
            action = required if isinstance(required, str) else None
            self._attach(item, report, assessment, check_of(item), action)
        return report

    def _attach(
        self,
        item: pytest.Item,
        report: pytest.TestReport,
        assessment: Assessment,
        check: CheckKind | None,
        action: str | None,
    ) -> None:
        name = assessment.target.name
        first = name not in self._built
        if first:
            policy = assessment.target_policy
            self._built[name] = (
                self._section(assessment),
                fixes.plain(policy.document) if policy is not None else None,
            )
        section, document = self._built[name]
        payload = build.row_payload(check, action, assessment)
        # Once per process and target is enough: the controller keeps the first.
        carried = RowPayload(
            **{
                **vars(payload),
                "section": section if first else None,
                "document": document if first else None,
            }
        )
        if self.carries:
            setattr(report, ATTRIBUTE, to_json(carried))
        self._made[report] = carried
        if check is None:
            return
        if self.compact and check is CheckKind.ACTION and name in self._all_actions_of(item):
            setattr(report, LISTED_BY_ALL_ACTIONS, True)
        entry = section.action(action) if check is CheckKind.ACTION and action else None
        # A verdict that is not "allowed" also shows as JSON; an allowed one says all
        # there is in its text, and compliance.json has every verdict.
        shown = entry is not None and not entry.verdict.is_allowed and not self.compact
        verdict = to_json(entry) if shown else None
        if self.compact:  # the target's section says it all, once
            target_id = html.anchor("target", name)
            found = [extras.url(f"#{target_id}", name=f"target {name}")]
        else:
            found = [extras.html(html.row_details_html(payload, section, verdict))]
        if shown and entry is not None:
            json_id = html.anchor("json", section.name, entry.id)
            found.append(extras.url(f"#{json_id}", name="verdict (JSON)"))
        if check in (CheckKind.ACTION, CheckKind.FORBIDDEN) and action is not None:
            # On the item: junitxml writes a test case's properties from its last report.
            kind = "action" if check is CheckKind.ACTION else "forbidden"
            item.user_properties.extend(
                [(kind, action), ("verdict", payload.verdict), ("decided_by", payload.detail)]
            )
        diff = section.proposed_fix.diff if section.proposed_fix is not None else ""
        failed = payload.status is Status.FAIL
        if failed and check in (CheckKind.ACTION, CheckKind.ALL_ACTIONS) and diff:
            # The diff is in the summary at the top of the page.
            found.append(extras.url(f"#{html.anchor('diff', name)}", name="proposed fix (diff)"))
        report.extras = [*getattr(report, "extras", []), *found]  # type: ignore[attr-defined]

    def _all_actions_of(self, item: pytest.Item) -> set[str]:
        """The targets whose "all required permissions" test this session runs (the tests
        of one target run in one process, xdist or not)."""
        if self._with_all_actions is None:
            self._with_all_actions = set()
            for other in item.session.items:
                callspec = getattr(other, "callspec", None)
                target = callspec.params.get("iam_target") if callspec is not None else None
                if check_of(other) is CheckKind.ALL_ACTIONS and target:
                    self._with_all_actions.add(target.name)
        return self._with_all_actions

    def _section(self, assessment: Assessment) -> TargetSection:
        target = assessment.target
        remediation = self.remediations.of(target.name)
        how = self.invocation
        return build.target_section(
            assessment,
            remediation=remediation,
            proposed=self._proposed(assessment, remediation),
            fixing=self.settings.fix or self.settings.fix_dry_run,
            command=rerun_command(self.settings, target, os.environ, how),
            live=self.settings.mode == "live",
            fix_options=(how.name("--iam-fix-dry-run"), how.name("--iam-fix")),
        )

    def _proposed(self, found: Assessment, remediation: Remediation | None) -> FixPlan | None:
        """The fix of what is missing: --fix-dry-run's own plan when it ran (the same
        document and proof it printed), else planned and proved the same way."""
        if not found.missing:
            return None
        planned = remediation.plan if remediation is not None else None
        if isinstance(planned, FixPlan) and remediation is not None and remediation.applied is None:
            return planned
        try:
            return self.propose(found)
        except IamComplianceError:
            return None  # a policy --fix cannot change has no proposal to show

    # -- the controller: gather --------------------------------------------------------

    def payload_of(self, report: pytest.TestReport) -> RowPayload | None:
        """The verdict data ``report`` carries: as attached here, else decoded."""
        made = self._made.get(report)
        return made if made is not None else payload_of(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        target, action, outcome = self._tests.get(report.nodeid, (None, None, None))
        payload = self.payload_of(report)
        if payload is not None:
            target, action = payload.target, payload.action
            if payload.check is not None and not report.skipped:
                self._ran.add((payload.target, payload.check, payload.action))
            section = payload.section
            if section is not None and section.name not in self._sections:
                self._sections[section.name] = section
                self.documents[section.name] = payload.document
                self.new_sections.append(section)
        found = _outcome(report)
        if found is not None and (outcome in (None, Outcome.PASSED) or found is Outcome.ERROR):
            outcome = found
        self._tests[report.nodeid] = (target, action, outcome)

    def sections(self) -> tuple[TargetSection, ...]:
        """What was judged about each target, in the configuration's order.

        A live run fixes from the controller alone, so the controller's own remediation
        fills in what the workers' reports could not know.
        """
        found = []
        for target in self.settings.targets:
            section = self._sections.get(target.name)
            if section is None:
                continue
            remediation = self.remediations.of(target.name)
            if section.remediation is None and remediation is not None:
                entry = fixes.remediation_entry(remediation)
                proposed = section.proposed_fix
                if entry.plan is not None and remediation.applied is None and section.missing:
                    proposed = entry.plan  # the plan --fix-dry-run printed
                section = dataclasses.replace(section, remediation=entry, proposed_fix=proposed)
            found.append(section)
        return tuple(found)

    def checks_ran(self) -> int:
        """How many of the suite's checks reached a verdict (each target's once)."""
        return len(self._ran)

    def tests(self) -> tuple[TestEntry, ...]:
        return tuple(
            TestEntry(nodeid, outcome, target, action)
            for nodeid, (target, action, outcome) in self._tests.items()
            if outcome is not None
        )


@functools.lru_cache(maxsize=64)
def payload_of(report: pytest.TestReport) -> RowPayload | None:
    """The verdict data a report carries, decoded once for the several hooks that read it
    (the cache holds the last few reports: each is read right after it is made)."""
    data = getattr(report, ATTRIBUTE, None)
    return from_json(RowPayload, data) if isinstance(data, dict) else None


def _outcome(report: pytest.TestReport) -> Outcome | None:
    """A test's outcome as compliance.json states it, from one of its reports."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return Outcome.XFAILED if report.skipped else Outcome.XPASSED
        return Outcome(report.outcome)
    if report.failed:
        return Outcome.ERROR
    if report.skipped:
        return Outcome.SKIPPED
    return None
