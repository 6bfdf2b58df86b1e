"""A fix as a patch: the smallest text edit of the source file that a fix plan asks for.

The plan (:func:`iam_compliance.engine.remediation.plan_fix`) says what the policy must
become; here that is turned into edits of the file as written, keeping its own
formatting: actions added to the end of the statement's Action list (one per line when
the list is written one per line), or one new statement after the last one, indented as
its neighbours. The result is a unified diff that ``git apply`` accepts.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Source, SourcePolicy
from .tree import Tree, line_of


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
    source: Source, tree: Tree, policy: SourcePolicy, proposed: Mapping[str, Any]
) -> list[Edit]:
    """The edits of ``source``'s text that make ``policy`` read as ``proposed``."""
    assert policy.document is not None
    assert policy.path is not None
    base = list(policy.path)
    yaml = source.format == "yaml"
    edits: list[Edit] = []
    body = policy.document.get("Statement")
    for change in changes(policy.document, proposed):
        if change.statement is None:
            where = [*base, "Statement"] + ([change.index] if isinstance(body, list) else [])
            edits.append(_extend(tree, [*where, "Action"], change.actions, yaml))
        else:
            edits.append(_append(tree, [*base, "Statement"], change.statement, yaml))
    return edits


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


def _extend(tree: Tree, path: list[str | int], actions: Sequence[str], yaml: bool) -> Edit:
    """Add ``actions`` at the end of the Action list at ``path`` (or make it a list)."""
    text = tree.text
    span = tree.span(path)
    assert span is not None, f"no Action at {path}"
    value = text[span.start : span.end]
    if isinstance(tree.data_at(path), str):
        items = [value.strip(), *(_quote(a, value.strip(), yaml) for a in actions)]
        return Edit(span.start, span.start + len(value.rstrip()), f"[{', '.join(items)}]")
    count = len(tree.data_at(path))
    last = tree.span([*path, count - 1])
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


def _append(tree: Tree, path: list[str | int], statement: Mapping[str, Any], yaml: bool) -> Edit:
    """Add ``statement`` after the last statement of the list at ``path``."""
    text = tree.text
    count = len(tree.data_at(path))
    last = tree.span([*path, count - 1])
    assert last is not None
    end = last.start + len(text[last.start : last.end].rstrip())
    if yaml:
        prefix = text[_line_start(text, last.start) : last.start]  # "    - "
        inner = " " * len(prefix)
        lines = [f"{prefix if i == 0 else inner}{line}" for i, line in enumerate(_yaml(statement))]
        return Edit(_line_end(text, end), _line_end(text, end), "\n" + "\n".join(lines))
    head = text[_line_start(text, last.head) : last.head]
    indent = head if not head.strip() else ""
    rendered = json.dumps(statement, indent=_indent_unit(text), ensure_ascii=False)
    lines = rendered.splitlines()
    block = "\n".join([lines[0], *(indent + line for line in lines[1:])])
    return Edit(end, end, f",\n{indent}{block}")


def _indent_unit(text: str) -> int:
    """The file's indentation step: the smallest indentation of an indented line."""
    widths = [len(line) - len(line.lstrip(" ")) for line in text.splitlines() if line.strip()]
    return min((w for w in widths if w), default=4)


def _yaml(statement: Mapping[str, Any]) -> list[str]:
    """A statement as YAML block lines (strings plain where YAML allows it)."""
    lines: list[str] = []
    for key, value in statement.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {_plain(item)}" for item in value)
        else:
            lines.append(f"{key}: {_plain(value)}")
    return lines


def _plain(value: Any) -> str:
    text = str(value)
    if text[:1] in "!&*[]{}|>'\"%@`#,?:-" or ": " in text or " #" in text or text == "*":
        return json.dumps(text)
    return text
