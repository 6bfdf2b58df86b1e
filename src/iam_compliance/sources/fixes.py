"""A fix of a source file, as a patch: written, then read back as the file will read.

The patch of a template or a policy document edits that file; the patch of a Terraform
plan edits the ``.tf`` file under ``--terraform-dir`` that writes the policy. Either way,
the patched text is read again, as ``--iam-policy-file`` reads a file (a template's
intrinsics resolved) or as Terraform would build the policy (:mod:`.hcl_documents`), and
the document it makes is what the caller proves: a patch is judged on what it writes,
not on what was meant.

Paths in the patch are relative to the folder it applies in: the file's own folder, or
``--terraform-dir``; ``git -C <folder> apply <patch>`` applies it wherever the file is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.target import Target
from ..errors import RemediationError
from .hcl import find_policy, patched, reread
from .hcl_documents import Unreadable, canonical, policy_document
from .model import Source, SourcePolicy
from .patches import apply_edits, source_edits, unified_diff
from .plan import plan_values
from .reading import read_text, tree_of
from .tree import Tree

#: Where a patch of the policy cannot be made or proved: the new document is still written.
BY_HAND = "change it by hand (the new document is in the fix folder)"


@dataclass(frozen=True)
class Patch:
    """One file's patch, and the task policy as the patched file makes it."""

    #: The folder the patch applies in: the file's folder, or --terraform-dir.
    folder: Path
    #: The file, relative to ``folder`` (the diff's ``a/`` and ``b/`` paths).
    name: str
    old: str
    new: str
    #: The task policy's document, read back from ``new``.
    document: Mapping[str, Any]

    @property
    def diff(self) -> str:
        return unified_diff(self.old, self.new, self.name)

    def reads_as(self, document: Mapping[str, Any]) -> bool:
        """Whether the patched file makes ``document`` (up to spelling: list order, one
        value or a list of one): nothing planned is missing, nothing else is lost."""
        return canonical(self.document) == canonical(document)


def _task_policy(source: Source, target: Target) -> SourcePolicy:
    written = source.policy_named(target.policy_name)
    if written is None or written.document is None:
        raise RemediationError(f"{source.label}: no known document of {target.policy_name}")
    return written


def source_patch(source: Source, target: Target, proposed: Mapping[str, Any]) -> Patch:
    """The patch of a template or policy document, read back as the file will read."""
    written = _task_policy(source, target)
    tree = tree_of(source)
    _one_for_one(source, tree, written)
    new = apply_edits(source.text, source_edits(source, tree, written, proposed, target))
    again = read_text(new, source.path, target).policy_named(target.policy_name)
    if again is None or again.document is None:
        raise RemediationError(
            f"the patch of {source.path} would leave {target.policy_name} unreadable; "
            "nothing written"
        )
    folder = source.path.resolve().parent
    return Patch(folder, source.path.name, source.text, new, again.document)


def _one_for_one(source: Source, tree: Tree, written: SourcePolicy) -> None:
    """The document's statements as written are the ones read, in order: an ``Fn::If``
    (or ``AWS::NoValue``) in place of a statement would put a patch on another one."""
    if source.kind != "cloudformation":
        return
    assert written.document is not None
    assert written.path is not None
    raw = tree.data_at([*written.path, "Statement"])
    items = raw if isinstance(raw, list) else [raw]
    body = written.document.get("Statement")
    read = body if isinstance(body, list) else [body]
    if len(items) != len(read) or any(
        not isinstance(item, dict) or any(key.startswith("Fn::") for key in item) for item in items
    ):
        raise RemediationError(
            f"{source.label}: the statements of {written.place.address} are not written one "
            f"for one (an Fn::If in place of a statement); {BY_HAND}"
        )


def terraform_patch(
    source: Source, target: Target, directory: Path, proposed: Mapping[str, Any]
) -> Patch:
    """The patch of the ``.tf`` file that writes the plan's task policy, read back as
    Terraform would build the policy (references take the plan's values)."""
    written = _task_policy(source, target)
    assert written.document is not None
    address = written.place.address
    block = find_policy(directory, address)
    module = address[: -len(".".join(address.split(".")[-2:]))]
    values = plan_values(tree_of(source).data, module)
    try:
        before = policy_document(block, values)
    except Unreadable as exc:
        raise RemediationError(
            f"{block.where}: cannot read its policy ({exc}); {BY_HAND}"
        ) from None
    if canonical(before) != canonical(written.document):
        raise RemediationError(
            f"{block.where}: its policy does not read as the plan's {address}; is the plan "
            f"older than the configuration? Plan again, or {BY_HAND}"
        )
    new = patched(block, written.document, proposed)
    try:
        document = policy_document(reread(block, new), values)
    except Unreadable as exc:
        raise RemediationError(
            f"{block.where}: the patched policy cannot be read back ({exc}); nothing written"
        ) from None
    folder = directory.resolve()
    name = block.file.resolve().relative_to(folder).as_posix()
    return Patch(folder, name, block.text, new, document)
