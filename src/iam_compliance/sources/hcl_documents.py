"""The policy document a ``.tf`` file's policy makes, as Terraform would build it.

A patch is proved on what it writes: the patched file is read again and its policy built
into the JSON document Terraform would send to IAM. A ``jsonencode({...})`` is evaluated
(objects, lists, strings with interpolation, numbers, booleans), a heredoc's JSON has its
``${...}`` filled, and an ``aws_iam_policy_document`` is assembled from its ``statement``
blocks as the provider does
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document).
References (``aws_dynamodb_table.jobs.arn``, ``var.x``) take their values from the plan.
Anything else (a function call, a conditional, a ``for`` expression, a local value) is
not evaluated here: :class:`Unreadable`, and no patch is written.

:func:`canonical` puts two documents in one form (lists as sorted sets, one value as a
list of one), so the file's document can be compared with the plan's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .hcl import Block, arguments, entries, heredoc_body, inner, rule_of, source_of

#: What a heredoc's ``$${`` (a literal ``${``), ``${reference}`` or ``%{`` (a directive) is.
_TEMPLATE = re.compile(r"\$\$\{|%%\{|\$\{\s*([^}]*?)\s*\}|%\{")
#: The lists of a statement that IAM reads as sets.
_SETS = ("Action", "NotAction", "Resource", "NotResource")
#: An aws_iam_policy_document statement's attributes and the policy keys they make.
_DOCUMENT_KEYS = {
    "sid": "Sid",
    "effect": "Effect",
    "actions": "Action",
    "not_actions": "NotAction",
    "resources": "Resource",
    "not_resources": "NotResource",
}
_MERGING = ("source_policy_documents", "override_policy_documents", "source_json", "override_json")

Values = Callable[[str], Any]


class Unreadable(Exception):
    """What cannot be evaluated without Terraform: ``str(exc)`` names it."""


def policy_document(block: Block, values: Values) -> dict[str, Any]:
    """The JSON document ``block``'s policy makes, references resolved by ``values``."""
    if block.style == "heredoc":
        _, body = heredoc_body(block)
        try:
            document = json.loads(_TEMPLATE.sub(lambda m: _fill(m, values), body))
        except json.JSONDecodeError as exc:
            raise Unreadable(f"the heredoc is not JSON ({exc.msg})") from None
    elif block.style == "jsonencode":
        [argument] = arguments(block.node)
        document = _value(argument, block.text, values)
    else:
        document = _assembled(block, values)
    if not isinstance(document, dict):
        raise Unreadable("the policy is not a JSON object")
    return document


def _fill(match: re.Match[str], values: Values) -> str:
    if match.group(0) == "$${":
        return "${"
    if match.group(0) == "%%{":
        return "%{"
    if match.group(1) is None:
        raise Unreadable("a %{...} directive in the heredoc")
    value = _reference(match.group(1), values)
    if isinstance(value, list | dict):
        raise Unreadable(f"${{{match.group(1)}}} is not a string")
    return json.dumps(_text(value))[1:-1]  # inside a JSON string


def _reference(text: str, values: Values) -> Any:
    try:
        return values(re.sub(r"\s+", "", text))
    except KeyError as exc:
        raise Unreadable(f"{text} has no value in the plan ({exc.args[0]})") from None


def _text(value: Any) -> str:
    """A value interpolated into a string, as Terraform converts it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _value(node: Any, text: str, values: Values) -> Any:
    """An HCL expression's value (the subset a policy is written in)."""
    node = inner(node)
    rule = rule_of(node)
    if rule == "object":
        return {key: _value(item, text, values) for key, item in entries(node).items()}
    if rule == "tuple":
        return [_value(item, text, values) for item in node.elements]
    if rule == "string":
        return "".join(_part(part.content, text, values) for part in node.string_parts)
    if rule == "literal_value":
        return {"true": True, "false": False, "null": None}[source_of(text, node)]
    if rule in ("int_lit", "float_lit"):
        number = float(source_of(text, node))
        return int(number) if number.is_integer() else number
    if rule in ("get_attr_expr_term", "index_expr_term", "identifier"):
        return _reference(source_of(text, node), values)
    raise Unreadable(f"{source_of(text, node)} (a {rule}) is not evaluated without Terraform")


def _part(content: Any, text: str, values: Values) -> str:
    rule = rule_of(content)
    if rule == "STRING_CHARS":
        from hcl2.utils import process_escape_sequences

        return str(process_escape_sequences(str(content.serialize())))
    if rule == "ESCAPED_INTERPOLATION":
        return "${"
    if rule == "ESCAPED_DIRECTIVE":
        return "%{"
    if rule == "interpolation":
        value = _value(content.expression, text, values)
        if isinstance(value, list | dict):
            raise Unreadable(f"${{{source_of(text, content.expression)}}} is not a string")
        return _text(value)
    raise Unreadable(f"a {rule} in a string is not evaluated without Terraform")


def _assembled(block: Block, values: Values) -> dict[str, Any]:
    """An aws_iam_policy_document's JSON, from its blocks."""
    data = block.node
    if any(data.attribute(name) for name in _MERGING) or data.blocks("dynamic"):
        raise Unreadable("the document merges others or has dynamic blocks")

    def attribute(holder: Any, name: str) -> Any:
        found = holder.attribute(name)
        return None if found is None else _value(found.value_node.raw, block.text, values)

    document: dict[str, Any] = {"Version": attribute(data, "version") or "2012-10-17"}
    if attribute(data, "policy_id"):
        document["Id"] = attribute(data, "policy_id")
    statements = []
    for item in data.blocks("statement"):
        statement: dict[str, Any] = {"Effect": "Allow"}
        for name, key in _DOCUMENT_KEYS.items():
            value = attribute(item, name)
            if value is not None:
                statement[key] = value
        for name, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            principals: dict[str, list[Any]] = {}
            for principal in item.blocks(name):
                kind, ids = attribute(principal, "type"), attribute(principal, "identifiers")
                principals.setdefault(str(kind), []).extend(_as_list(ids))
            if principals:
                everyone = principals == {"*": ["*"]}
                statement[key] = "*" if everyone else principals
        conditions: dict[str, dict[str, list[Any]]] = {}
        for condition in item.blocks("condition"):
            test, variable = attribute(condition, "test"), attribute(condition, "variable")
            listed = conditions.setdefault(str(test), {}).setdefault(str(variable), [])
            listed.extend(_as_list(attribute(condition, "values")))
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    document["Statement"] = statements
    return document


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def canonical(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` in one form: what differs only in spelling compares equal."""
    body = document.get("Statement")
    listed = [body] if isinstance(body, Mapping) else list(body or [])
    found = {key: value for key, value in document.items() if key != "Statement"}
    found["Statement"] = [_statement(item) for item in listed]
    return found


def _statement(statement: Any) -> Any:
    if not isinstance(statement, Mapping):
        return statement
    found: dict[str, Any] = {}
    for key, value in statement.items():
        if key in _SETS:
            found[key] = _set(value)
        elif key in ("Principal", "NotPrincipal") and isinstance(value, Mapping):
            found[key] = {kind: _set(ids) for kind, ids in value.items()}
        elif key == "Condition" and isinstance(value, Mapping):
            found[key] = {
                test: {name: _set(items) for name, items in (keys or {}).items()}
                for test, keys in value.items()
            }
        elif not (key == "Sid" and value == ""):  # the data source writes "Sid": "" for none
            found[key] = value
    return found


def _set(value: Any) -> list[str]:
    return sorted({_text(item) for item in _as_list(value)})
