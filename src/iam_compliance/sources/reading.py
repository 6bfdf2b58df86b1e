"""Tell a source file's kind by its content, and read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.decoding import load_document, read_file
from ..engine.policy import parse_policy
from ..engine.target import Target, fill_placeholders
from ..errors import PolicyError
from .cloudformation import read_template
from .model import Place, Source, SourcePolicy
from .plan import is_plan
from .terraform import read_plan
from .tree import JsonTree, Tree, decode_yaml

#: Keys only a CloudFormation template has at its top level.
_TEMPLATE_KEYS = ("AWSTemplateFormatVersion", "Resources", "Transform")


def read_source(path: Path, target: Target) -> Source:
    """Read ``path`` as a policy document, a Terraform plan or a CloudFormation template."""
    return read_text(read_file(path, f"--iam-policy-file {path}"), path, target)


def read_text(text: str, path: Path, target: Target) -> Source:
    """``text``, the content of ``path``, read as :func:`read_source` reads a file."""
    origin = f"--iam-policy-file {path}"
    if text.lstrip()[:1] in ("{", "[", ""):
        # load_document refuses what is too large, too deeply nested or not an object.
        tree: Tree = JsonTree(text, load_document(text, origin))
        data = tree.data
        if is_plan(data):
            source = read_plan(tree, path, target)
            _check_documents(source)
            return source
        if any(key in data for key in _TEMPLATE_KEYS):
            return read_template_checked(tree, path, "json", target)
        return _policy(tree, path, target)
    tree = decode_yaml(text, origin)
    if not isinstance(tree.data, dict) or not any(key in tree.data for key in _TEMPLATE_KEYS):
        raise PolicyError(
            origin,
            "not a policy document (JSON), a Terraform plan (JSON, from terraform show "
            "-json) or a CloudFormation template (with Resources)",
        )
    return read_template_checked(tree, path, "yaml", target)


def read_template_checked(tree: Tree, path: Path, fmt: Any, target: Target) -> Source:
    source = read_template(tree, path, fmt, target)
    _check_documents(source)
    return source


def _policy(tree: Tree, path: Path, target: Target) -> Source:
    """A bare document: the task policy; everything else comes from the fixtures.

    Its ``${AWS_ACCOUNT_ID}``-style placeholders are filled as the fixtures' are, so one
    file serves every account; the text (what a patch is made against) stays as written.
    """
    origin = f"--iam-policy-file {path}"
    text = tree.text
    filled = fill_placeholders(text, target, origin)
    if filled != tree.text:
        tree = JsonTree(filled, load_document(filled, origin))
    parse_policy(tree.data, name=target.policy_name, origin=origin)
    body = tree.data.get("Statement")
    count = len(body) if isinstance(body, list) else 1
    lines = tuple(
        tree.line(["Statement", i] if isinstance(body, list) else ["Statement"])
        for i in range(count)
    )
    policy = SourcePolicy(
        target.policy_name, "managed", tree.data, Place("policy document", 1), lines, ()
    )
    return Source(path=path, kind="policy", format="json", text=text, policies=(policy,))


def _check_documents(source: Source) -> None:
    """Parse every known document now: a malformed one is bad input, named."""
    for policy in (*source.policies, *([source.table_policy] if source.table_policy else [])):
        if policy.document is not None:
            parse_policy(
                policy.document,
                name=policy.name,
                kind="resource" if policy.kind == "resource" else "managed",
                origin=f"--iam-policy-file {source.path}: {policy.place.address}",
            )
    if source.trust is not None:
        role = source.role_place.address if source.role_place else "role"
        parse_policy(
            source.trust,
            name="trust policy",
            trust=True,
            origin=f"--iam-policy-file {source.path}: {role}",
        )


def tree_of(source: Source) -> Tree:
    """The source's text decoded again, with positions (for patches)."""
    origin = source.label
    if source.format == "yaml":
        return decode_yaml(source.text, origin)
    return JsonTree(source.text, load_document(source.text, origin))
