"""A Terraform plan in JSON being read: its resources as the plan leaves them.

``resource_changes[].change.after`` (what the plan will make; resources to be deleted are
kept apart), ``after_unknown`` (what only apply will know) and the configuration's
references (``role = aws_iam_role.task.name``), which say what an attribute refers to
when its value is not known yet. The format:
https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.evaluate.unknowns import Unknown
from ..engine.policy import PolicyKind
from ..engine.target import Target
from ..errors import PolicyError
from .model import Place, SourcePolicy
from .tree import Tree

HOW_TO_MAKE_ONE = "terraform plan -out tfplan && terraform show -json tfplan > plan.json"


@dataclass(frozen=True, eq=False)
class Resource:
    index: int
    address: str
    type: str
    after: Mapping[str, Any]
    unknown: Mapping[str, Any]

    def get(self, name: str) -> Any:
        return self.after.get(name)

    def is_unknown(self, name: str) -> bool:
        return has_unknown(self.unknown.get(name))


def has_unknown(marker: Any) -> bool:
    if isinstance(marker, bool):
        return marker
    if isinstance(marker, Mapping):
        return any(has_unknown(v) for v in marker.values())
    if isinstance(marker, list):
        return any(has_unknown(v) for v in marker)
    return False


def is_plan(data: Mapping[str, Any]) -> bool:
    """Whether decoded JSON looks like ``terraform show -json`` output (plan or state)."""
    return "format_version" in data and (
        "terraform_version" in data or "planned_values" in data or "values" in data
    )


class Plan:
    def __init__(self, tree: Tree, path: Path, target: Target) -> None:
        self.tree, self.path, self.target = tree, path, target
        self.origin = f"--iam-policy-file {path}"
        data = tree.data
        if "resource_changes" not in data:
            what = "a Terraform state" if "values" in data else "not a Terraform plan"
            raise PolicyError(
                self.origin,
                f"{what}: expected the JSON of a saved plan, with resource_changes; "
                f"make one with: {HOW_TO_MAKE_ONE}",
            )
        self.resources: list[Resource] = []
        #: Resources the plan deletes, with their values before (``before``).
        self.deleted: list[Resource] = []
        for index, change in enumerate(data.get("resource_changes") or []):
            if not isinstance(change, dict) or change.get("mode", "managed") != "managed":
                continue
            body = change.get("change") or {}
            address, kind = str(change.get("address")), str(change.get("type"))
            if body.get("actions") == ["delete"]:
                self.deleted.append(Resource(index, address, kind, body.get("before") or {}, {}))
                continue
            self.resources.append(
                Resource(
                    index, address, kind, body.get("after") or {}, body.get("after_unknown") or {}
                )
            )
        self.unknowns: list[Unknown] = []
        configuration = data.get("configuration") or {}
        self._references = _references(configuration)
        self._configured = _configured(configuration)

    def of_type(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.type == kind]

    def line(self, resource: Resource, *attribute: str | int) -> int:
        return self.tree.line(["resource_changes", resource.index, "change", "after", *attribute])

    def open(self, resource: Resource | str, attribute: str, why: str, **kinds: Any) -> None:
        """Record a value the plan leaves open, at ``resource`` (or its address)."""
        address = resource if isinstance(resource, str) else resource.address
        found = Unknown(address, str(self.path), attribute, why, **kinds)
        if found not in self.unknowns:
            self.unknowns.append(found)

    def refers(self, resource: Resource, attribute: str, to: Resource) -> bool:
        """Whether the configuration writes ``attribute`` as a reference to ``to``."""
        return to.address in self._references.get((resource.address, attribute), ())

    def configured(self, resource: Resource, attribute: str) -> bool:
        """Whether the configuration sets ``attribute`` (not only the provider computes it)."""
        return attribute in self._configured.get(resource.address, ())

    def names(self, resource: Resource, attribute: str, role: Resource) -> bool | None:
        """Whether ``attribute`` (a name or a list of names) names ``role``; None when it is
        known only after apply and refers to something else."""
        if self.refers(resource, attribute, role):
            return True
        value = resource.get(attribute)
        if role.get("name") in (value if isinstance(value, list) else [value]):
            return True
        return None if resource.is_unknown(attribute) else False

    def document(
        self, resource: Resource, name: str, kind: PolicyKind, *attribute: str | int
    ) -> SourcePolicy:
        """The policy JSON at ``attribute`` of ``resource`` (None when unknown)."""
        node: Any = resource.after
        marker: Any = resource.unknown
        for step in attribute:
            node = _step(node, step)
            marker = _step(marker, step)
        line = self.line(resource, *attribute)
        place = Place(resource.address, line)
        label = ".".join(str(a) for a in attribute)
        if has_unknown(marker) or node is None:
            self.open(resource, label, "is known only after apply")
            return SourcePolicy(name, kind, None, place)
        try:
            document = json.loads(node) if isinstance(node, str) else node
        except json.JSONDecodeError as exc:
            raise PolicyError(
                self.origin, f"{resource.address}: {label} is not valid JSON: {exc.msg}"
            ) from None
        if not isinstance(document, dict):
            raise PolicyError(self.origin, f"{resource.address}: {label} must be a JSON object")
        body = document.get("Statement")
        count = len(body) if isinstance(body, list) else 1
        return SourcePolicy(name, kind, document, place, (line,) * count)


def _step(node: Any, step: str | int) -> Any:
    """``node[step]``, or None when there is no such key or index."""
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def _references(configuration: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(resource address, attribute) -> the addresses its expression refers to (root module)."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for resource in (configuration.get("root_module") or {}).get("resources") or []:
        for attribute, expression in (resource.get("expressions") or {}).items():
            if isinstance(expression, dict):
                refs = expression.get("references") or []
                found[(str(resource.get("address")), attribute)] = tuple(map(str, refs))
    return found


def _configured(configuration: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Resource address -> the attributes and blocks its configuration sets (root module)."""
    return {
        str(resource.get("address")): frozenset(resource.get("expressions") or ())
        for resource in (configuration.get("root_module") or {}).get("resources") or []
    }


#: One step of a reference: ``name``, ``[0]`` or ``["key"]``.
_STEP = re.compile(r'\.?([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"]*)"\]')
#: References whose values a plan does not hold.
_NOT_IN_PLAN = ("local", "module", "path", "terraform", "each", "count", "self")


def plan_values(data: Mapping[str, Any], module: str = "") -> Callable[[str], Any]:
    """The values a plan gives references of the configuration of ``module`` (the
    address prefix, ``module.iam.``): ``aws_x.y.arn``, ``data.aws_x.y.z``, ``var.name``.

    The returned function raises KeyError, naming why, for a value the plan does not
    hold or knows only after apply.
    """
    known: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    prior = ((data.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    for resource in _modules(prior):
        known[str(resource.get("address"))] = (resource.get("values") or {}, {})
    for change in data.get("resource_changes") or []:
        body = change.get("change") or {}
        if body.get("actions") != ["delete"]:
            known[str(change.get("address"))] = (
                body.get("after") or {},
                body.get("after_unknown") or {},
            )
    variables = data.get("variables") or {}

    def value(reference: str) -> Any:
        steps = _steps(reference)
        if not steps or steps[0] in _NOT_IN_PLAN:
            raise KeyError(f"{reference}: not a value the plan holds")
        if steps[0] == "var":
            if module or len(steps) < 2 or steps[1] not in variables:
                raise KeyError(f"{reference}: no such variable in the plan")
            return _walk(variables[steps[1]].get("value"), {}, steps[2:], reference)
        size = 3 if steps[0] == "data" else 2
        if len(steps) > size and isinstance(steps[size], int | tuple):
            size += 1  # aws_x.y[0] or aws_x.y["key"]
        address = module + ".".join(_address(step) for step in steps[:size]).replace(".[", "[")
        if address not in known:
            raise KeyError(f"{reference}: {address} is not in the plan")
        after, unknown = known[address]
        return _walk(after, unknown, steps[size:], reference)

    return value


def _modules(module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = list(module.get("resources") or [])
    for child in module.get("child_modules") or []:
        found.extend(_modules(child))
    return found


def _steps(reference: str) -> list[Any]:
    steps: list[Any] = []
    position = 0
    while position < len(reference):
        found = _STEP.match(reference, position)
        if found is None:
            return []
        name, index, key = found.groups()
        steps.append(name if name is not None else int(index) if index is not None else (key,))
        position = found.end()
    return steps


def _address(step: Any) -> str:
    if isinstance(step, int):
        return f"[{step}]"
    if isinstance(step, tuple):
        return f'["{step[0]}"]'
    return str(step)


def _walk(node: Any, unknown: Any, steps: list[Any], reference: str) -> Any:
    for step in steps:
        key = step[0] if isinstance(step, tuple) else step
        marker = _step(unknown, key) if isinstance(unknown, dict | list) else unknown
        if has_unknown(marker):
            raise KeyError(f"{reference}: known only after apply")
        node, unknown = _step(node, key), marker
        if node is None:
            raise KeyError(f"{reference}: no such value in the plan")
    if has_unknown(unknown):
        raise KeyError(f"{reference}: known only after apply")
    return node
