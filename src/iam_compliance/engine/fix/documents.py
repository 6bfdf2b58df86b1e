"""Edit a policy document: add actions on a resource without touching anything else.

The edits behind a fix, apart from deciding what to add (:mod:`.planning`): every
statement, field and key order of the current document is kept; actions needed on one
resource go into one statement that already grants exactly that resource without
conditions, or into a new statement of their own.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..requirements import Need


def document_size(document: Mapping[str, Any]) -> int:
    """Characters of ``document`` as IAM counts them against its limits.

    Compact JSON has no white space outside strings, so its length is the size.
    """
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def with_needs(
    current: Mapping[str, Any], needs: Sequence[Need]
) -> tuple[dict[str, Any], list[int]]:
    """A copy of ``current`` that also allows each need's action on its resource.

    Actions needed on the same resource go into one statement: one that already grants
    exactly that resource without conditions, or a new one. The second value lists the
    indexes of the statements that now carry them.
    """
    by_resource: dict[str, list[str]] = {}
    for need in needs:
        by_resource.setdefault(need.resource, [])
        if need.action not in by_resource[need.resource]:
            by_resource[need.resource].append(need.action)
    document = copied(dict(current))
    indexes: list[int] = []
    for resource, actions in by_resource.items():
        document, index = with_actions(document, actions, resource)
        indexes.append(index)
    return document, indexes


def copied(document: Any) -> Any:
    """A deep copy of a JSON document: its objects and arrays copied, its strings and
    numbers shared (as :func:`copy.deepcopy` shares them), at a fraction of its cost;
    anything else is deep-copied."""
    kind = type(document)
    if kind is dict:
        return {key: copied(value) for key, value in document.items()}
    if kind is list:
        return [copied(value) for value in document]
    if kind in (str, int, float, bool) or document is None:
        return document
    return copy.deepcopy(document)


def with_actions(
    current: Mapping[str, Any], actions: Sequence[str], resource: str
) -> tuple[dict[str, Any], int]:
    """Return a copy of ``current`` that also allows ``actions`` on ``resource``.

    The second value is the index of the statement that now carries them.
    """
    document = copied(dict(current))
    body = document["Statement"]
    statements: list[Any] = [body] if isinstance(body, Mapping) else body
    for index, statement in enumerate(statements):
        if _can_extend(statement, resource):
            granted = statement["Action"]
            granted = [granted] if isinstance(granted, str) else granted
            statement["Action"] = granted + [a for a in actions if a not in granted]
            return document, index
    statements = [*statements, _new_statement(statements, actions, resource)]
    document["Statement"] = statements
    return document, len(statements) - 1


def _can_extend(statement: Any, resource: str) -> bool:
    """True for an unconditional Allow of ``Action`` on exactly ``resource``.

    Appending to anything looser or narrower would change what its other actions mean
    (a condition would start to govern the new actions, an extra resource would be granted
    them too), so only this exact shape is extended.
    """
    return (
        isinstance(statement, Mapping)
        and statement.get("Effect") == "Allow"
        and "Action" in statement
        and "NotAction" not in statement
        and "Condition" not in statement
        and statement.get("Resource") in (resource, [resource])
    )


def _new_statement(
    statements: Sequence[Any], actions: Sequence[str], resource: str
) -> dict[str, Any]:
    taken = {
        s["Sid"].lower()
        for s in statements
        if isinstance(s, Mapping) and isinstance(s.get("Sid"), str)
    }
    base = _sid_for(resource)
    sid, number = base, 1
    while sid.lower() in taken:
        number += 1
        sid = f"{base}{number}"
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}


def _sid_for(resource: str) -> str:
    """``arn:...:table/ml-jobs`` -> ``IamComplianceMlJobsTable`` (Sids are alphanumeric);
    ``.../table/ml-jobs/index/*`` -> ``IamComplianceMlJobsTableIndex``."""
    path = resource.split(":", 5)[-1]
    kind, _, name = path.partition("/")
    if not name:
        kind, name = "", kind
    first, _, rest = name.partition("/")
    words = [
        *re.findall(r"[A-Za-z0-9]+", first),
        *re.findall(r"[A-Za-z0-9]+", kind),
        *re.findall(r"[A-Za-z0-9]+", rest),
    ]
    return "IamCompliance" + ("".join(w[:1].upper() + w[1:] for w in words) or "Grant")


def diff_documents(
    name: str, version: str, current: Mapping[str, Any], proposed: Mapping[str, Any] | None
) -> str:
    if proposed is None:
        return ""
    return _unified_diff(name, version, _pretty(current), _pretty(proposed))


@functools.lru_cache(maxsize=256)
def _unified_diff(name: str, version: str, current: str, proposed: str) -> str:
    """The diff of two texts, once per pair: targets that share a policy's text (the roles
    of one account, say) share its fix, and difflib costs a millisecond a target."""
    lines = difflib.unified_diff(
        current.splitlines(keepends=True),
        proposed.splitlines(keepends=True),
        fromfile=f"{name} {version} (current default)",
        tofile=f"{name} (proposed new version)",
    )
    return "".join(lines)


def _pretty(document: Mapping[str, Any]) -> str:
    # Key order is kept, not sorted, so the diff shows the document as IAM stores it.
    return json.dumps(document, indent=4, ensure_ascii=False) + "\n"
