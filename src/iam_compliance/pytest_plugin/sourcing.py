"""Source files (``--iam-policy-file``): fixes as patches, SARIF, and the drift warning.

With a source file, ``--fix`` and ``--fix-dry-run`` change nothing but write
``<reports>/fix/<file name>.patch``, a diff of the file that ``git apply`` accepts (for a
Terraform plan, the new document and, with ``--terraform-dir``, a patch of the ``.tf``
file that holds the policy). Every run on a source file writes SARIF
(``<reports>/compliance.sarif`` or ``--sarif PATH``). A live ``--fix`` of a role or policy
tagged as deployed from code is told that it will drift from the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..config import Settings
from ..engine.remediation import FixPlan
from ..engine.rollout import Remediation
from ..engine.target import Target
from ..errors import IamComplianceError, RemediationError
from ..report.files import FIX_FOLDER, write_json, write_text
from ..report.sarif import relative_path, sarif_document
from ..sources import Source
from ..sources.hcl import find_policy, patched
from ..sources.patches import apply_edits, source_edits, unified_diff
from ..sources.reading import read_text, tree_of
from .checker import Checker
from .collecting import ResultCollector
from .completeness import Completeness
from .failures import FailureTracker
from .fixing import Remediations
from .xdist import is_xdist_worker


class SourceOutputs:
    """Patches and SARIF for a run on a source file."""

    def __init__(
        self,
        checker: Checker,
        settings: Settings,
        remediations: Remediations,
        collector: ResultCollector,
        reports_dir: Path,
        *,
        sarif_path: Path,
        terraform_dir: Path | None,
        rootdir: Path,
        failures: FailureTracker,
        completeness: Completeness,
    ) -> None:
        self.failures = failures
        #: Whether the run checked everything: only then is SARIF written.
        self.completeness = completeness
        self.not_written: str | None = None
        self.checker = checker
        self.settings = settings
        self.remediations = remediations
        self.collector = collector
        self.reports_dir = reports_dir
        self.sarif_path = sarif_path
        self.terraform_dir = terraform_dir
        self.rootdir = rootdir
        self.written: list[Path] = []

    def source(self, target: Target) -> Source:
        assert self.checker.mock is not None
        found = self.checker.mock.source(target)
        assert found is not None
        return found

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        config = session.config
        fixing = self.settings.fix or self.settings.fix_dry_run
        if not fixing or config.option.collectonly or is_xdist_worker(config):
            return
        for target in self.settings.targets:
            try:
                self.remediations.add(self.patch(target))
            except IamComplianceError as exc:
                # As --fix: the run stops when collection starts, so every report is
                # still written, saying why.
                self.failures.stop(f"--fix, target {target.name}: {exc}")
                return

    def plan(self, target: Target) -> FixPlan | str:
        """The fix of the source's task policy, or why there is none."""
        source = self.source(target)
        found = self.checker.assessment(target)
        policy = found.target_policy
        written = source.policy_named(target.policy_name)
        if written is None or policy is None or policy.version is None:
            return (
                f"{source.path} attaches no policy named {target.policy_name} "
                f"(ECS_TASK_POLICY_NAME) to {target.role_name}; a patch only adds to it"
            )
        if written.document is None:
            return (
                f"the document of {target.policy_name} ({written.place.address}) is not known "
                "before apply, so no patch can be planned"
            )

        # Planned and proved as every report's proposed fix is; a patch is a fix too.
        plan = self.checker.propose(found)
        assert plan is not None  # the policy is attached
        return plan

    def patch(self, target: Target) -> Remediation:
        """Plan the fix and write it as files; change nothing else."""
        plan = self.plan(target)
        if isinstance(plan, str) or not plan.can_apply or plan.new_document is None:
            return Remediation(target, plan, None, self.settings.fix_dry_run)
        source = self.source(target)
        folder = self.reports_dir / FIX_FOLDER
        name = source.path.name
        notes: list[str] = []
        if source.kind == "terraform-plan":
            written = source.policy_named(target.policy_name)
            assert written is not None
            document = folder / f"{name}.policy.json"
            write_text(document, json.dumps(plan.new_document, indent=2) + "\n")
            self.written.append(document)
            notes.append(
                f"wrote {document}: the new document of {written.place.address}; change its "
                "policy to it in your Terraform configuration"
                + ("" if self.terraform_dir else " (or give --terraform-dir for a patch)")
            )
            if self.terraform_dir is None:
                return Remediation(target, plan, None, self.settings.fix_dry_run, tuple(notes))
            block = find_policy(self.terraform_dir, written.place.address)
            assert written.document is not None
            old, new, path = (
                block.text,
                patched(block, written.document, plan.new_document),
                block.file,
            )
            for action in plan.added_actions:
                if f'"{action.split("@")[0]}"' not in new[block.start :]:
                    raise RemediationError(
                        f"the patch of {block.file} would not add {action}; nothing written"
                    )
        else:
            old, path = source.text, source.path
            written = source.policy_named(target.policy_name)
            assert written is not None
            tree = tree_of(source)
            new = apply_edits(old, source_edits(source, tree, written, plan.new_document))
            again = read_text(new, source.path, target).policy_named(target.policy_name)
            if again is None or again.document != plan.new_document:
                raise RemediationError(
                    f"the patch of {source.path} would not give the planned document; "
                    "nothing written"
                )
        relative = relative_path(path, self.rootdir)
        patch = folder / f"{name}.patch"
        write_text(patch, unified_diff(old, new, relative))
        self.written.append(patch)
        notes.append(f"wrote {patch}: apply it from {self.rootdir} with: git apply {patch}")
        return Remediation(target, plan, None, self.settings.fix_dry_run, tuple(notes))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the SARIF log (the controller, or the only process), for a complete run
        only.

        Code scanning closes every alert an upload of the category does not list, so the
        log of a run that did not check everything (interrupted, could not check,
        partial) would close alerts that still stand. Such a run writes none (the one of an
        earlier run was removed as this one started), and the upload step, which runs only
        when the file exists, leaves the alerts as they are.
        """
        config = session.config
        if config.option.collectonly or is_xdist_worker(config):
            return
        if not self.completeness.complete:
            self.not_written = (
                f"iam-compliance: no SARIF log written ({self.sarif_path}): the run did not "
                f"check everything (exit code {session.exitstatus}), and a log without the "
                "problems it did not check would close their code scanning alerts"
            )
            return
        sources = {t.name: self.source(t) for t in self.settings.targets}
        document = sarif_document(self.collector.sections(), sources, root=self.rootdir)
        write_json(self.sarif_path, document)
        self.written.append(self.sarif_path)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for path in self.written:
            terminalreporter.write_line(f"iam-compliance: wrote {path}")
        if self.not_written is not None:
            terminalreporter.write_line(self.not_written, yellow=True)
