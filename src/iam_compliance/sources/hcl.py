"""A fix as a patch of Terraform configuration (``--terraform-dir``).

python-hcl2 finds the resource block a plan's address names (``resource "aws_iam_policy"
"task"``) and its ``policy``: a ``jsonencode({...})``, a heredoc of JSON, or a reference to
a ``data "aws_iam_policy_document"``. The statement to extend is found by its place in
the document, the one the plan chose (statement ``i`` of ``Statement = [...]``, of the
heredoc's JSON, or the ``i``-th ``statement`` block), checked against the plan by the
number of statements and each one's Sid: never by looking for a list that reads the same,
which another statement may hold. Actions go at the end of its Action list (one per line
when the list is written so); a new statement goes after the last one. The rest of the
file, references such as ``aws_dynamodb_table.jobs.arn`` included, is left as written.

python-hcl2's positions (``_meta``) and rule classes are not public API: the version is
pinned in pyproject.toml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .patches import Edit, apply_edits, changes, document_edits
from .tree import JsonTree, line_of

#: A heredoc: its opening line (``<<-EOF``), its body, and its closing marker line.
_HEREDOC = re.compile(r"<<-?([A-Za-z_]\w*)[ \t]*\r?\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)


@dataclass(frozen=True)
class Block:
    """Where a policy is written in a ``.tf`` file, and how."""

    file: Path
    text: str
    #: ``jsonencode``, ``heredoc`` or ``document`` (an ``aws_iam_policy_document``).
    style: str
    #: The ``policy`` expression, or the data block (python-hcl2 nodes).
    node: Any = field(compare=False, repr=False)
    #: What it is, for messages: ``aws_iam_policy.task`` or its data source.
    label: str = ""

    @property
    def where(self) -> str:
        return f"--terraform-dir: {self.file} ({self.label})"


def parse(text: str, file: Path) -> Any:
    """``text`` parsed by python-hcl2 (its query view); bad HCL is a usage error."""
    # Imported here: only a run with --terraform-dir pays for the HCL grammar. The api
    # module's query, not the package's: the hcl2.query subpackage shadows the name.
    from hcl2.api import query

    try:
        return query(text)  # type: ignore[no-untyped-call]
    except Exception as exc:  # python-hcl2 raises lark's errors, many kinds
        raise ConfigurationError(f"--terraform-dir {file}: not valid HCL ({exc})") from None


def find_policy(directory: Path, address: str) -> Block:
    """The ``policy`` of the resource at ``address``, or the policy document it names."""
    files = sorted(directory.glob("*.tf"))
    if not files:
        raise ConfigurationError(f"--terraform-dir {directory}: no .tf files")
    texts = {file: file.read_text(encoding="utf-8") for file in files}
    for file, text in texts.items():
        found = policy_in(file, text, address, texts)
        if found is not None:
            return found
    kind, name = address.split(".")[-2:]
    raise ConfigurationError(
        f"--terraform-dir {directory}: no {kind} {name!r} with a policy attribute in its .tf files"
    )


def policy_in(
    file: Path, text: str, address: str, others: Mapping[Path, str] | None = None
) -> Block | None:
    """The policy of ``address`` if ``file`` (holding ``text``) defines it; a policy
    document it names is looked for in ``others`` (the directory's files)."""
    kind, name = address.split(".")[-2:]
    for block in parse(text, file).blocks("resource", kind, name):
        attribute = block.attribute("policy")
        if attribute is None:
            continue
        node = inner(attribute.value_node.raw)
        source = source_of(text, node)
        reference = re.fullmatch(r"data\.aws_iam_policy_document\.([\w-]+)\.json", source)
        if reference:
            return _document_block(file, others or {file: text}, reference.group(1))
        if rule_of(node) == "function_call" and _function(node) == "jsonencode":
            return Block(file, text, "jsonencode", node, address)
        if rule_of(node).startswith("heredoc"):
            return Block(file, text, "heredoc", node, address)
        raise ConfigurationError(
            f"--terraform-dir: {file}: the policy of {address} is neither a jsonencode(...), "
            "a heredoc nor an aws_iam_policy_document; change it by hand (the new document "
            "is in the fix folder)"
        )
    return None


def _document_block(file: Path, texts: Mapping[Path, str], name: str) -> Block:
    """The data block ``name``: in the resource's own file first, then the others."""
    for other in [file, *(other for other in texts if other != file)]:
        text = texts[other]
        for block in parse(text, other).blocks("data", "aws_iam_policy_document", name):
            return Block(other, text, "document", block, f"data.aws_iam_policy_document.{name}")
    raise ConfigurationError(
        f'--terraform-dir {file.parent}: no data "aws_iam_policy_document" {name!r}'
    )


# ----------------------------------------------------------------- python-hcl2's tree


def rule_of(node: Any) -> str:
    return str(node.lark_name()) if hasattr(node, "lark_name") else type(node).__name__


def inner(node: Any) -> Any:
    """An expression without its ``expr_term`` wrappers."""
    while rule_of(node) == "expr_term":
        node = node.expression
    return node


def _function(node: Any) -> str:
    return "::".join(str(ident.serialize()) for ident in node.identifiers)


def span(node: Any) -> tuple[int, int]:
    """Where a node (or a block's view) is written: start and end offsets."""
    meta = getattr(node, "_meta", None) or node.raw._meta
    return int(meta.start_pos), int(meta.end_pos)


def source_of(text: str, node: Any) -> str:
    start, end = span(node)
    return text[start:end].strip()


def arguments(node: Any) -> list[Any]:
    return [] if node.arguments is None else [inner(a) for a in node.arguments.arguments]


def entries(node: Any) -> dict[str, Any]:
    """An object's entries by key (quotes taken off), values unwrapped."""
    found = {}
    for element in node.elements:
        key = str(element.key.serialize())
        found[key[1:-1] if key.startswith('"') else key] = inner(element.expression)
    return found


def literal(node: Any) -> str | None:
    """A quoted string without interpolation, as its value; else None."""
    if rule_of(node) != "string":
        return None
    parts = [part.content for part in node.string_parts]
    if any(rule_of(part) != "STRING_CHARS" for part in parts):
        return None
    from hcl2.utils import process_escape_sequences

    return "".join(process_escape_sequences(str(part.serialize())) for part in parts)


def heredoc_body(block: Block) -> tuple[int, str]:
    """The offset and text of a heredoc's body (its JSON)."""
    start, end = span(block.node)
    found = _HEREDOC.match(block.text, start, end + 1)
    if found is None:
        raise ConfigurationError(f"{block.where}: cannot find the heredoc's body")
    return found.start(2), found.group(2)


def statements(block: Block) -> list[Any]:
    """The statements of a jsonencode (object nodes) or a document (statement blocks)."""
    if block.style == "document":
        if block.node.attribute("source_policy_documents") or block.node.blocks("dynamic"):
            raise ConfigurationError(
                f"{block.where}: merges other documents or has dynamic blocks; change it by "
                "hand (the new document is in the fix folder)"
            )
        return list(block.node.blocks("statement"))
    [document] = arguments(block.node) or [None]
    body = entries(document).get("Statement") if rule_of(document) == "object" else None
    if body is None or rule_of(body) != "tuple":
        raise ConfigurationError(
            f"{block.where}: no Statement = [...] in its jsonencode; change it by hand (the "
            "new document is in the fix folder)"
        )
    found = [inner(item) for item in body.elements]
    if any(rule_of(item) != "object" for item in found):
        raise ConfigurationError(f"{block.where}: a statement is not written as {{...}}")
    return found


# ------------------------------------------------------------------------- patching


def patched(block: Block, current: Mapping[str, Any], proposed: Mapping[str, Any]) -> str:
    """``block.file``'s text with the fix applied to the policy, statement by statement."""
    if block.style == "heredoc":
        offset, body = heredoc_body(block)
        tree = JsonTree(body, _json(block, body))
        _same_statements(block, current, [s.get("Sid") for s in _listed(tree.data)])
        edits = document_edits(tree, [], current, proposed)
        shifted = [Edit(e.start + offset, e.end + offset, _escaped(e.new)) for e in edits]
        return apply_edits(block.text, shifted)
    found = statements(block)
    sid = "sid" if block.style == "document" else "Sid"
    _same_statements(block, current, [_sid(s, sid, block) for s in found])
    written = [
        _extend(block, found[change.index], change.actions)
        if change.statement is None
        else _append(block, found, change.statement)
        for change in changes(current, proposed)
    ]
    return apply_edits(block.text, written)


def reread(block: Block, text: str) -> Block:
    """The same policy in ``text``, ``block.file`` as patched."""
    if block.style == "document":
        name = block.label.rsplit(".", 1)[-1]
        for found in parse(text, block.file).blocks("data", "aws_iam_policy_document", name):
            return Block(block.file, text, "document", found, block.label)
    else:
        again = policy_in(block.file, text, block.label)
        if again is not None:
            return again
    raise ConfigurationError(f"{block.where}: the patched file no longer holds the policy")


def _json(block: Block, body: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{block.where}: the heredoc is not JSON as written ({exc.msg}, line {exc.lineno}); "
            "change it by hand (the new document is in the fix folder)"
        ) from None


def _listed(document: Any) -> list[Any]:
    body = document.get("Statement") if isinstance(document, dict) else None
    return [body] if isinstance(body, dict) else list(body or [])


def _sid(statement: Any, key: str, block: Block) -> Any:
    if block.style == "document":
        attribute = statement.attribute(key)
        return None if attribute is None else literal(inner(attribute.value_node.raw))
    node = entries(statement).get(key)
    return None if node is None else literal(node)


def _same_statements(block: Block, current: Mapping[str, Any], sids: Sequence[Any]) -> None:
    """The file's statements are the plan's, one for one: same count, same Sids."""
    planned = [s.get("Sid") if isinstance(s, Mapping) else None for s in _listed(current)]
    if len(sids) != len(planned) or any(
        want and got != want for got, want in zip(sids, planned, strict=True)
    ):
        raise ConfigurationError(
            f"{block.where}: its statements ({len(sids)}: {sids}) are not the plan's "
            f"({len(planned)}: {planned}); is the plan older than the configuration? Plan "
            "again, or change it by hand (the new document is in the fix folder)"
        )


def _extend(block: Block, statement: Any, added: Sequence[str]) -> Edit:
    """Add ``added`` at the end of the statement's Action list (``actions`` in a document)."""
    if block.style == "document":
        attribute = statement.attribute("actions")
        node = None if attribute is None else inner(attribute.value_node.raw)
    else:
        node = entries(statement).get("Action")
    text = block.text
    quoted = [_hcl(action) for action in added]
    if node is not None and literal(node) is not None:  # Action = "one:Action"
        start, end = span(node)
        return Edit(start, end, "[" + ", ".join([text[start:end].strip(), *quoted]) + "]")
    if node is None or rule_of(node) != "tuple" or not node.elements:
        raise ConfigurationError(
            f"{block.where}: the statement to extend has no list of actions written out; "
            "change it by hand (the new document is in the fix folder)"
        )
    start, _ = span(node)
    last_start, last_end = span(node.elements[-1])
    last_end = last_start + len(text[last_start:last_end].rstrip())
    if line_of(text, last_start) != line_of(text, start):  # one item per line
        prefix = text[text.rfind("\n", 0, last_start) + 1 : last_start]
        return Edit(last_end, last_end, "".join(f",\n{prefix}{q}" for q in quoted))
    return Edit(last_end, last_end, "".join(f", {q}" for q in quoted))


def _append(block: Block, found: Sequence[Any], statement: Mapping[str, Any]) -> Edit:
    """``statement`` after the last one, indented as it is."""
    text = block.text
    last_start, last_end = span(found[-1])
    last_end = last_start + len(text[last_start:last_end].rstrip())
    line_start = text.rfind("\n", 0, last_start) + 1
    indent = text[line_start:last_start]
    if block.style == "document":
        body = [
            "statement {",
            *(f"  sid       = {_hcl(statement['Sid'])}" for _ in [0] if "Sid" in statement),
            f"  effect    = {_hcl(statement['Effect'])}",
            f"  actions   = {_hcl(_as_list(statement['Action']))}",
            f"  resources = {_hcl(_as_list(statement['Resource']))}",
            "}",
        ]
        return Edit(last_end, last_end, "\n\n" + "\n".join(indent + line for line in body))
    fields = [f"{key} = {_hcl(value)}" for key, value in statement.items()]
    item = "{\n" + "".join(f"{indent}  {f}\n" for f in fields) + f"{indent}}}"
    after = text[last_end:].lstrip(" \t")
    comma = "" if after.startswith(",") else ","
    # After the last statement's comma (if it has one): a trailing comma stays trailing.
    at = last_end + (len(text[last_end:]) - len(after) + 1 if after.startswith(",") else 0)
    return Edit(at, at, f"{comma}\n{indent}{item},")


def _escaped(text: str) -> str:
    """``text`` with HCL's template sequences escaped: ``${`` and ``%{`` stay literal."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _hcl(value: Any) -> str:
    """A string or list of strings as an HCL literal (JSON's syntax, templates escaped)."""
    return _escaped(json.dumps(value))


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])
