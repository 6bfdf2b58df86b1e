"""Source files (``--iam-policy-file``): fixes as patches, SARIF, and the drift warning.

With a source file, ``--fix`` and ``--fix-dry-run`` change nothing but write
``<reports>/fix/<file name>.patch``, a diff of the file, relative to its folder, that
``git -C <folder> apply`` accepts (for a Terraform plan, the new document and, with
``--terraform-dir``, a patch of the ``.tf`` file that holds the policy). The patched file
is read back and its task policy proved (:func:`~..engine.fix.proposal.plan_and_prove`): a patch
that would grant anything but exactly the required actions is not written. Every run on
a source file writes SARIF (``<reports>/compliance.sarif`` or ``--sarif PATH``). A live
``--fix`` of a role or policy tagged as deployed from code is told that it will drift
from the code.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from ..config import Settings
from ..engine.evaluate.assessment import Assessment
from ..engine.fix.planning import FixPlan
from ..engine.fix.rollout import Remediation
from ..engine.target import Target
from ..errors import IamComplianceError
from ..report.files import FIX_FOLDER, write_json, write_text
from ..report.sarif import sarif_document, source_root
from ..sources.fixes import Patch, source_patch, terraform_patch
from ..sources.model import Source
from .checker import Checker
from .completeness import Completeness
from .failures import FailureTracker
from .fixing import Remediations
from .ledger import VerdictLedger
from .xdist import is_xdist_worker


class SourceOutputs:
    """Patches and SARIF for a run on a source file."""

    def __init__(
        self,
        checker: Checker,
        settings: Settings,
        remediations: Remediations,
        ledger: VerdictLedger,
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
        self.ledger = ledger
        self.reports_dir = reports_dir
        self.sarif_path = sarif_path
        self.terraform_dir = terraform_dir
        self.rootdir = rootdir
        #: The folder the SARIF log's paths are relative to, when it is not the rootdir.
        self.sarif_root: Path | None = None
        #: Each target's plan and patch, made once for the reports and for --fix.
        self._prepared_fixes: dict[str, tuple[FixPlan | str, Patch | None]] = {}
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

    def plan(
        self, target: Target, write: Callable[[FixPlan], Patch | None] | None = None
    ) -> FixPlan | str:
        """The fix of the source's task policy, or why there is none; ``write`` makes the
        patch, on which the plan is proved again."""
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
        plan = self.checker.propose(found, write=write)
        assert plan is not None  # the policy is attached
        return plan

    def propose(self, found: Assessment) -> FixPlan | None:
        """The fix every report proposes for a source target: planned and proved, and,
        where the file can be patched, proved again on the file as patched. It is the plan
        --fix-dry-run prints (None: no fix can be planned)."""
        plan, _ = self._prepared(found.target)
        return plan if isinstance(plan, FixPlan) else None

    def _prepared(self, target: Target) -> tuple[FixPlan | str, Patch | None]:
        """The target's plan and the patch that makes it, computed once."""
        if target.name not in self._prepared_fixes:
            made: list[Patch] = []

            def write(plan: FixPlan) -> Patch | None:
                assert plan.new_document is not None  # plan_and_prove writes only those
                source = self.source(target)
                patch = None
                if source.kind != "terraform-plan":
                    patch = source_patch(source, target, plan.new_document)
                elif self.terraform_dir is not None:
                    patch = terraform_patch(source, target, self.terraform_dir, plan.new_document)
                if patch is not None:
                    made.append(patch)
                return patch

            plan = self.plan(target, write)
            self._prepared_fixes[target.name] = (plan, made[0] if made else None)
        return self._prepared_fixes[target.name]

    def patch(self, target: Target) -> Remediation:
        """Plan the fix and write it as files; change nothing else."""
        plan, made = self._prepared(target)
        if isinstance(plan, str) or not plan.can_apply or plan.new_document is None:
            return Remediation(target, plan, None, self.settings.fix_dry_run)
        source = self.source(target)
        folder = self.reports_dir / FIX_FOLDER
        notes: list[str] = []
        if source.kind == "terraform-plan":
            written = source.policy_named(target.policy_name)
            assert written is not None
            document = folder / f"{source.path.name}.policy.json"
            write_text(document, json.dumps(plan.new_document, indent=2) + "\n")
            self.written.append(document)
            notes.append(
                f"wrote {document}: the new document of {written.place.address}; change its "
                "policy to it in your Terraform configuration"
                + ("" if self.terraform_dir else " (or give --terraform-dir for a patch)")
            )
        if made is None:
            return Remediation(target, plan, None, self.settings.fix_dry_run, tuple(notes))
        patch = (folder / f"{source.path.name}.patch").resolve()
        write_text(patch, made.diff)
        self.written.append(patch)
        command = shlex.join(["git", "-C", _shown(made.folder), "apply", str(patch)])
        notes.append(f"wrote {patch}: apply it with: {command}")
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
        if not self.settings.targets:
            return  # an empty shard (--iam-shard) checked nothing: no log to upload
        sources = {t.name: self.source(t) for t in self.settings.targets}
        roots = {source_root(source.path, self.rootdir) for source in sources.values()}
        # One run reads one --iam-policy-file, so its targets' sources share a root.
        [root] = roots
        document = sarif_document(self.ledger.sections(), sources, root=root)
        write_json(self.sarif_path, document)
        self.written.append(self.sarif_path)
        if root != self.rootdir.resolve():
            self.sarif_root = root

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for path in self.written:
            terminalreporter.write_line(f"iam-compliance: wrote {path}")
        if self.sarif_root is not None:
            terminalreporter.write_line(
                f"iam-compliance: the SARIF log's paths are relative to {self.sarif_root}, "
                "the repository that holds the source file: upload it from there "
                "(github/codeql-action/upload-sarif's checkout_path)"
            )
        if self.not_written is not None:
            terminalreporter.write_line(self.not_written, yellow=True)


def _shown(folder: Path) -> str:
    """``folder`` as the terminal names it: relative to the working directory when inside."""
    try:
        return folder.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(folder)
