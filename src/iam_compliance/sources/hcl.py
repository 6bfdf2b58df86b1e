"""A fix as a patch of Terraform configuration (``--terraform-dir``).

python-hcl2 finds the resource block a plan's address names (``resource "aws_iam_policy"
"task"``) and the exact text of its ``policy`` attribute; within that text, the statement
to extend is the Action list (``Action = [...]`` in ``jsonencode``, ``"Action": [...]`` in
a heredoc, ``actions = [...]`` in an ``aws_iam_policy_document``) that holds exactly the
statement's current actions. A new statement goes after the last one. The rest of the
file, references such as ``aws_dynamodb_table.jobs.arn`` included, is left as written.

python-hcl2's block positions are read from its parse tree (``_meta``), which is not
public API: the version is pinned in pyproject.toml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .patches import Edit, apply_edits, changes

_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Block:
    """Where a block and one of its attributes are written in a ``.tf`` file."""

    file: Path
    text: str
    #: Offsets of the attribute (``policy = ...``) or, for a data block, the block.
    start: int
    end: int
    style: str  # "jsonencode", "heredoc", "document"


def find_policy(directory: Path, address: str) -> Block:
    """The ``policy`` of the resource at ``address``, or the policy document it names."""
    kind, _, name = address.rpartition(".")
    kind = kind.split(".")[-1]
    # Imported here: only a run with --terraform-dir pays for the HCL grammar.
    import hcl2

    files = sorted(directory.glob("*.tf"))
    if not files:
        raise ConfigurationError(f"--terraform-dir {directory}: no .tf files")
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            document = hcl2.query(text)  # type: ignore[no-untyped-call]
        except Exception as exc:  # python-hcl2 raises lark's errors, many kinds
            raise ConfigurationError(f"--terraform-dir {file}: not valid HCL ({exc})") from None
        for block in document.blocks():
            if block.labels[:3] != ["resource", kind, name]:
                continue
            attribute = block.attribute("policy")
            if attribute is None:
                continue
            meta = attribute.raw._meta
            value = text[meta.start_pos : meta.end_pos]
            reference = re.search(r"data\.aws_iam_policy_document\.([\w-]+)\.json", value)
            if reference:
                return _document_block(directory, files, reference.group(1), hcl2)
            style = "heredoc" if "<<" in value.split("=", 1)[1][:8] else "jsonencode"
            return Block(file, text, meta.start_pos, meta.end_pos, style)
    raise ConfigurationError(
        f"--terraform-dir {directory}: no {kind} {name!r} with a policy attribute in its .tf files"
    )


def _document_block(directory: Path, files: Sequence[Path], name: str, hcl2: Any) -> Block:
    for file in files:
        text = file.read_text(encoding="utf-8")
        for block in hcl2.query(text).blocks():
            if block.labels[:3] == ["data", "aws_iam_policy_document", name]:
                meta = block.raw._meta
                return Block(file, text, meta.start_pos, meta.end_pos, "document")
    raise ConfigurationError(
        f'--terraform-dir {directory}: no data "aws_iam_policy_document" {name!r}'
    )


def patched(block: Block, current: Mapping[str, Any], proposed: Mapping[str, Any]) -> str:
    """``block.file``'s text with the fix applied to the policy."""
    text = block.text
    part = text[block.start : block.end]
    action = {
        "jsonencode": r"\bAction\s*=\s*",
        "heredoc": r'"Action"\s*:\s*',
        "document": r"\bactions\s*=\s*",
    }[block.style]
    edits: list[Edit] = []
    statements = current.get("Statement")
    listed = [statements] if isinstance(statements, Mapping) else list(statements or [])
    for change in changes(current, proposed):
        if change.statement is None:
            edits.append(
                _extend(
                    part,
                    action,
                    _as_list(listed[change.index].get("Action")),
                    change.actions,
                    block,
                )
            )
        else:
            edits.append(_append(part, change.statement, block))
    return text[: block.start] + apply_edits(part, edits) + text[block.end :]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _extend(part: str, action: str, current: list[str], added: Sequence[str], block: Block) -> Edit:
    for match in re.finditer(action + r"(\[[^\]]*\]|\"(?:[^\"\\]|\\.)*\")", part):
        value = match.group(1)
        items = _STRING.findall(value)
        if sorted(items) != sorted(current):
            continue
        quoted = [json.dumps(a) for a in added]
        if value.startswith('"'):
            new = "[" + ", ".join([value, *quoted]) + "]"
            return Edit(match.start(1), match.end(1), new)
        last = list(_STRING.finditer(value))[-1]
        end = match.start(1) + last.end()
        if "\n" in value[: last.start()]:
            line_start = part.rfind("\n", 0, end) + 1
            prefix = part[line_start : match.start(1) + last.start()]
            return Edit(end, end, "".join(f",\n{prefix}{q}" for q in quoted))
        return Edit(end, end, "".join(f", {q}" for q in quoted))
    raise ConfigurationError(
        f"--terraform-dir: {block.file}: no Action list holding {', '.join(current)} in the "
        "policy; change it by hand (the new document is in the fix folder)"
    )


def _append(part: str, statement: Mapping[str, Any], block: Block) -> Edit:
    if block.style == "document":
        end = part.rstrip().rfind("}")
        body = [
            "  statement {",
            *(f"    sid       = {json.dumps(statement['Sid'])}" for _ in [0] if "Sid" in statement),
            f"    effect    = {json.dumps(statement['Effect'])}",
            f"    actions   = {json.dumps(_as_list(statement['Action']))}",
            f"    resources = {json.dumps(_as_list(statement['Resource']))}",
            "  }",
        ]
        return Edit(end, end, "\n".join(body) + "\n")
    opening = r"\bStatement\s*=\s*\[" if block.style == "jsonencode" else r'"Statement"\s*:\s*\['
    match = re.search(opening, part)
    if match is None:
        raise ConfigurationError(f"--terraform-dir: {block.file}: no Statement list in the policy")
    depth, position = 1, match.end()
    while depth and position < len(part):
        char = part[position]
        if char == '"':
            string = _STRING.match(part, position)
            position = string.end() if string else position + 1
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        position += 1
    close = position - 1
    before = part[:close].rstrip()
    line_start = part.rfind("\n", 0, close) + 1
    indent = part[line_start:close] + "  "
    if block.style == "jsonencode":
        fields = [f"{key} = {json.dumps(value)}" for key, value in statement.items()]
        item = "{\n" + "".join(f"{indent}  {f}\n" for f in fields) + f"{indent}}}"
        joiner = "" if before.endswith(",") else ","
        return Edit(len(before), close, f"{joiner}\n{indent}{item},\n{part[line_start:close]}")
    rendered = json.dumps(statement, indent=2).splitlines()
    item = "\n".join([rendered[0], *(indent + line for line in rendered[1:])])
    return Edit(len(before), close, f",\n{indent}{item}\n{part[line_start:close]}")


__all__ = ["Block", "find_policy", "patched"]
