"""A fix as a patch: the smallest text edit of the source file that a fix plan asks for.

The plan (:func:`iam_compliance.engine.fix.planning.plan_fix`) says what the policy must
become; here that is turned into edits of the file as written, keeping its own
formatting: actions added to the end of the statement's Action list (one per line when
the list is written one per line), or one new statement after the last one, indented as
its neighbours. The result is a unified diff that ``git apply`` accepts.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine.target import Target
from ..errors import RemediationError
from .model import Source, SourcePolicy
from .tree import Tree, line_of

#: A CloudFormation short form (``!GetAtt``, ``!Sub``...) used as a value in the text.
_SHORT_FORM = re.compile(
    r"(?:^|[\s:\[,-])!(?:Ref|GetAtt|Sub|Join|Select|If|ImportValue|FindInMap)\b", re.M
)


@dataclass(frozen=True)
class Change:
    """What the fix does to one statement: add actions to it, or add it."""

    #: Index of the statement in the proposed document.
    index: int
    #: Actions added to an existing statement; empty for a new statement.
    actions: tuple[str, ...]
    #: The new statement; None when an existing one is extended.
    statement: Mapping[str, Any] | None


def changes(current: Mapping[str, Any], proposed: Mapping[str, Any]) -> list[Change]:
    """The statements ``proposed`` extends or adds, compared with ``current``."""
    before, after = _statements(current), _statements(proposed)
    found: list[Change] = []
    for index, statement in enumerate(after):
        if index >= len(before):
            found.append(Change(index, (), statement))
        elif statement != before[index]:
            old, new = _actions(before[index]), _actions(statement)
            found.append(Change(index, tuple(a for a in new if a not in old), None))
    return found


def _statements(document: Mapping[str, Any]) -> list[Any]:
    body = document.get("Statement")
    return [body] if isinstance(body, Mapping) else list(body or [])


def _actions(statement: Mapping[str, Any]) -> list[str]:
    value = statement.get("Action", [])
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.new + text[edit.end :]
    return text


def unified_diff(old: str, new: str, path: str) -> str:
    """``git apply``-able diff of one file, ``path`` relative to where it is applied."""
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
    # A last line without a newline needs git's marker after it.
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )


def source_edits(
    source: Source,
    tree: Tree,
    policy: SourcePolicy,
    proposed: Mapping[str, Any],
    target: Target,
) -> list[Edit]:
    """The edits of ``source``'s text that make ``policy`` read as ``proposed``.

    A new statement names its resources as the file would: in a template that defines
    the table, ``!GetAtt Table.Arn`` (never the account id written out); in a document
    with ``${AWS_ACCOUNT_ID}``-style placeholders, with those.
    """
    assert policy.document is not None
    assert policy.path is not None
    return document_edits(
        tree,
        list(policy.path),
        policy.document,
        proposed,
        yaml=source.format == "yaml",
        resources=resource_writer(source, target),
    )


def document_edits(
    tree: Tree,
    base: list[str | int],
    current: Mapping[str, Any],
    proposed: Mapping[str, Any],
    *,
    yaml: bool = False,
    resources: Callable[[str], Any] = str,
) -> list[Edit]:
    """The edits that make the document at ``base`` of ``tree`` read as ``proposed``;
    ``resources`` says how a new statement writes each of its resources."""
    edits: list[Edit] = []
    body = current.get("Statement")
    for change in changes(current, proposed):
        if change.statement is None:
            where = [*base, "Statement"] + ([change.index] if isinstance(body, list) else [])
            edits.append(extend_actions(tree, [*where, "Action"], change.actions, yaml))
        else:
            statement = {
                key: _resources(value, resources) if key in ("Resource", "NotResource") else value
                for key, value in change.statement.items()
            }
            edits.append(append_statement(tree, [*base, "Statement"], statement, yaml))
    return edits


def _resources(value: Any, write: Callable[[str], Any]) -> Any:
    return [write(item) for item in value] if isinstance(value, list) else write(value)


def resource_writer(source: Source, target: Target) -> Callable[[str], Any]:
    """How a new statement of ``source`` writes a resource ARN."""
    if source.kind == "cloudformation":
        table = source.table_place.address.split(".", 1)[1] if source.table_place else None
        return lambda arn: cloudformation_arn(arn, target, table)
    if source.kind == "policy" and "${AWS_ACCOUNT_ID}" in source.text:
        return lambda arn: _placeholders(arn, target)
    return str


def cloudformation_arn(arn: str, target: Target, table: str | None) -> Any:
    """``arn`` as a template writes it: ``Fn::GetAtt`` of the table it defines (``Fn::Sub``
    of it for an index or stream), else ``Fn::Sub`` with the pseudo parameters; never the
    account id written out. ``${`` already there is escaped (``${!``) for Fn::Sub."""
    if table is not None and arn == target.table_arn:
        return {"Fn::GetAtt": [table, "Arn"]}
    if table is not None and arn.startswith(f"{target.table_arn}/"):
        rest = arn[len(target.table_arn) :].replace("${", "${!")
        return {"Fn::Sub": f"${{{table}.Arn}}{rest}"}
    parts = arn.replace("${", "${!").split(":", 5)
    if len(parts) < 6 or target.account_id not in (parts[4], arn):
        return arn
    pseudo = {1: "${AWS::Partition}", 3: "${AWS::Region}", 4: "${AWS::AccountId}"}
    values = {1: target.partition, 3: target.region, 4: target.account_id}
    for index, name in pseudo.items():
        if parts[index] == values[index]:
            parts[index] = name
    return {"Fn::Sub": ":".join(parts)}


def _placeholders(arn: str, target: Target) -> str:
    """``arn`` with the ``${AWS_REGION}``-style placeholders a policy file fills."""
    parts = arn.replace("$", "$$").split(":", 5)
    if len(parts) == 6 and parts[4] == target.account_id:
        parts[4] = "${AWS_ACCOUNT_ID}"
        parts[3] = "${AWS_REGION}" if parts[3] == target.region else parts[3]
        table = f"table/{target.table_name}"
        if parts[5] == table or parts[5].startswith(f"{table}/"):
            parts[5] = "table/${DYNAMODB_TABLE_NAME}" + parts[5][len(table) :]
    return ":".join(parts)


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _quote(action: str, like: str, yaml: bool) -> str:
    if not yaml or like[:1] in ('"', "'"):
        mark = like[:1] if yaml and like[:1] in ('"', "'") else '"'
        return f"{mark}{action}{mark}"
    return action


def extend_actions(tree: Tree, path: list[str | int], actions: Sequence[str], yaml: bool) -> Edit:
    """Add ``actions`` at the end of the Action list at ``path`` (or make it a list)."""
    text = tree.text
    found = _written(tree, path, lambda v: isinstance(v, str) or _strings(v), "an Action list")
    span = tree.span(path)
    assert span is not None  # _written found it
    value = text[span.start : span.end]
    if isinstance(found, str):
        items = [value.strip(), *(_quote(a, value.strip(), yaml) for a in actions)]
        return Edit(span.start, span.start + len(value.rstrip()), f"[{', '.join(items)}]")
    last = tree.span([*path, len(found) - 1])
    assert last is not None
    last_text = text[last.start : last.end].rstrip()
    quoted = [_quote(a, last_text, yaml) for a in actions]
    end = last.start + len(last_text)
    if yaml and not value.startswith("["):  # a block list: one "- item" line each
        prefix = text[_line_start(text, last.start) : last.start]
        return Edit(end, end, "".join(f"\n{prefix}{q}" for q in quoted))
    if line_of(text, last.start) != line_of(text, span.start):  # one item per line
        prefix = text[_line_start(text, last.start) : last.start]
        return Edit(end, end, "".join(f",\n{prefix}{q}" for q in quoted))
    return Edit(end, end, "".join(f", {q}" for q in quoted))


def append_statement(
    tree: Tree, path: list[str | int], statement: Mapping[str, Any], yaml: bool
) -> Edit:
    """Add ``statement`` after the last statement of the list at ``path``."""
    text = tree.text
    found = _written(tree, path, _statements_as_written, "a list of statements")
    last = tree.span([*path, len(found) - 1])
    assert last is not None
    end = last.start + len(text[last.start : last.end].rstrip())
    if yaml:
        prefix = text[_line_start(text, last.start) : last.start]  # "    - "
        inner = " " * len(prefix)
        short = _SHORT_FORM.search(text) is not None
        lines = [
            f"{prefix if i == 0 else inner}{line}" for i, line in enumerate(_yaml(statement, short))
        ]
        return Edit(_line_end(text, end), _line_end(text, end), "\n" + "\n".join(lines))
    head = text[_line_start(text, last.head) : last.head]
    indent = head if not head.strip() else ""
    rendered = json.dumps(statement, indent=_indent_unit(text), ensure_ascii=False)
    lines = rendered.splitlines()
    block = "\n".join([lines[0], *(indent + line for line in lines[1:])])
    return Edit(end, end, f",\n{indent}{block}")


def _written(tree: Tree, path: list[str | int], fits: Callable[[Any], bool], what: str) -> Any:
    """The value at ``path``, when it is written as ``what`` (not an intrinsic function)."""
    try:
        value = tree.data_at(path)
    except (KeyError, IndexError, TypeError):
        value = None
    if value is None or not fits(value) or tree.span(path) is None:
        where = ".".join(map(str, path))
        raise RemediationError(
            f"{where} is not written as {what} that a patch can extend (an intrinsic "
            "function such as Fn::If?); change it by hand (the new document is in the fix "
            "folder)"
        )
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _statements_as_written(value: Any) -> bool:
    """A list of statements, each a plain mapping: no Fn::If in place of one."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and not any(k.startswith("Fn::") for k in v) for v in value)
    )


def _indent_unit(text: str) -> int:
    """The file's indentation step: the smallest change of indentation between lines."""
    widths = [len(line) - len(line.lstrip(" ")) for line in text.splitlines() if line.strip()]
    steps = [abs(a - b) for a, b in itertools.pairwise(widths) if a != b]
    return min(steps, default=4)


def _yaml(statement: Mapping[str, Any], short: bool) -> list[str]:
    """A statement as YAML block lines (strings plain where YAML allows it; intrinsic
    functions in short form when the file uses short forms)."""
    lines: list[str] = []
    for key, value in statement.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {_yaml_value(item, short)}" for item in value)
        else:
            lines.append(f"{key}: {_yaml_value(value, short)}")
    return lines


def _yaml_value(value: Any, short: bool) -> str:
    if isinstance(value, Mapping):
        [(name, argument)] = value.items()
        if short and name == "Fn::GetAtt":
            return f"!GetAtt {'.'.join(argument)}"
        if short and name == "Fn::Sub":
            return f"!Sub {json.dumps(argument)}"
        return json.dumps(dict(value))  # a JSON object is a YAML flow mapping
    return _plain(value)


def _plain(value: Any) -> str:
    text = str(value)
    if text[:1] in "!&*[]{}|>'\"%@`#,?:-" or ": " in text or " #" in text or text == "*":
        return json.dumps(text)
    return text
