"""A decoded file that still knows where each value is written.

JSON is decoded by the standard library; positions come from walking the text with the
same decoder (``json.decoder.scanstring`` for keys, ``raw_decode`` to step over values),
so no second parser is involved. YAML (CloudFormation's short forms ``!Ref``, ``!Sub``,
``!GetAtt``...) is decoded by cfn-lint's decoder, which marks every node with its position;
it is imported only when a YAML template is read (it is a large import).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import PolicyError

Path = Sequence[str | int]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
#: The standard library's JSON string decoder (not in typeshed): (text, offset after the
#: opening quote) -> (value, offset after the closing quote).
scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009


@dataclass(frozen=True)
class Span:
    """Where one value is written: character offsets, and where its key (or list item)
    starts."""

    start: int
    end: int
    #: Offset of the key of a mapping entry, or of the item of a list (``- `` in YAML).
    head: int


class Tree:
    """A decoded document and the positions of its values."""

    def __init__(self, text: str, data: Any) -> None:
        self.text = text
        self.data = data

    def span(self, path: Path) -> Span | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def data_at(self, path: Path) -> Any:
        """The decoded value at ``path``."""
        node = self.data
        for step in path:
            node = node[step]
        return node

    def line(self, path: Path) -> int:
        """The 1-based line of the key (or list item) at ``path``; 1 when not found."""
        found = self.span(path)
        return 1 if found is None else line_of(self.text, found.head)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class JsonTree(Tree):
    """JSON text, decoded by the standard library."""

    def span(self, path: Path) -> Span | None:
        start = _skip(self.text, 0)
        head = start
        for step in path:
            found = _child(self.text, start, step)
            if found is None:
                return None
            head, start = found
        _, end = _DECODER.raw_decode(self.text, start)
        return Span(start, end, head)


def _skip(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


def _child(text: str, position: int, step: str | int) -> tuple[int, int] | None:
    """(head, start) of member ``step`` of the object or array at ``position``.

    A repeated key is found at its last occurrence, the one ``json.loads`` keeps.
    """
    opening = text[position : position + 1]
    if opening not in ("{", "[") or (opening == "{") != isinstance(step, str):
        return None
    found: tuple[int, int] | None = None
    position = _skip(text, position + 1)
    index = 0
    while text[position : position + 1] not in ("}", "]", ""):
        head = position
        if opening == "{":
            key, position = scanstring(text, position + 1)
            position = _skip(text, _skip(text, position) + 1)  # past the colon
            if key == step:
                found = (head, position)
        elif index == step:
            return (head, position)
        _, position = _DECODER.raw_decode(text, position)
        position = _skip(text, position)
        if text[position : position + 1] == ",":
            position = _skip(text, position + 1)
        index += 1
    return found


class YamlTree(Tree):
    """A YAML CloudFormation template, decoded by cfn-lint's decoder."""

    def __init__(self, text: str, nodes: Any) -> None:
        super().__init__(text, json.loads(json.dumps(nodes, default=str)))
        self.nodes = nodes

    def span(self, path: Path) -> Span | None:
        node = self.nodes
        head: Any = node
        for step in path:
            if isinstance(node, dict) and isinstance(step, str):
                keys = [key for key in node if key == step]
                if not keys:
                    return None
                head, node = keys[-1], node[keys[-1]]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                head = node = node[step]
            else:
                return None
        start, end = _mark(node, "start_mark"), _mark(node, "end_mark")
        if start is None or end is None:
            return None
        return Span(start, end, _mark(head, "start_mark") or start)


def _mark(node: Any, name: str) -> int | None:
    mark = getattr(node, name, None)
    index = getattr(mark, "index", None)
    return index if isinstance(index, int) else None


def decode_yaml(text: str, origin: str) -> YamlTree:
    """Decode a YAML CloudFormation template (short-form tags included)."""
    # Imported here: cfn-lint takes more than a second to import, paid only for YAML.
    from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]
    from yaml import YAMLError

    try:
        nodes = cfn_yaml.loads(text, origin)
    except cfn_yaml.CfnParseError as exc:
        first = exc.matches[0] if getattr(exc, "matches", None) else None
        if first is not None:
            raise PolicyError(
                origin,
                f"not a valid CloudFormation template: {first.message}",
                line=first.linenumber,
                column=first.columnnumber,
            ) from None
        raise PolicyError(origin, f"not a valid CloudFormation template: {exc}") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is not None:
            raise PolicyError(
                origin, f"not valid YAML: {problem}", line=mark.line + 1, column=mark.column + 1
            ) from None
        raise PolicyError(origin, f"not valid YAML: {problem}") from None
    return YamlTree(text, nodes)
