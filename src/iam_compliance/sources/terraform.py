"""Read a Terraform plan in JSON (``terraform show -json tfplan``) into a :class:`~.model.Source`.

From ``resource_changes[].change.after`` (what the plan will make, resources to be
deleted left out) and ``after_unknown`` (what only apply will know): the role
(``aws_iam_role`` named ECS_TASK_ROLE_NAME: assume_role_policy, tags, inline_policy,
permissions_boundary, managed_policy_arns), the managed policies attached to it
(``aws_iam_policy`` with ``aws_iam_role_policy_attachment``), its ``aws_iam_role_policy``
resources, and the table (``aws_dynamodb_table`` named DYNAMODB_TABLE_NAME, with its
``aws_dynamodb_resource_policy``). A value that is unknown until apply is recorded as an
:class:`~iam_compliance.engine.unknowns.Unknown`, naming its resource address.

The plan format: https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.policy import PolicyKind
from ..engine.target import Target
from ..engine.unknowns import Unknown
from ..errors import PolicyError
from .model import Place, Source, SourcePolicy, role_path
from .tree import Tree

HOW_TO_MAKE_ONE = "terraform plan -out tfplan && terraform show -json tfplan > plan.json"


@dataclass(frozen=True, eq=False)
class _Resource:
    index: int
    address: str
    type: str
    after: Mapping[str, Any]
    unknown: Mapping[str, Any]

    def get(self, name: str) -> Any:
        return self.after.get(name)

    def is_unknown(self, name: str) -> bool:
        return _has_unknown(self.unknown.get(name))


def _has_unknown(marker: Any) -> bool:
    if isinstance(marker, bool):
        return marker
    if isinstance(marker, Mapping):
        return any(_has_unknown(v) for v in marker.values())
    if isinstance(marker, list):
        return any(_has_unknown(v) for v in marker)
    return False


def is_plan(data: Mapping[str, Any]) -> bool:
    """Whether decoded JSON looks like ``terraform show -json`` output (plan or state)."""
    return "format_version" in data and (
        "terraform_version" in data or "planned_values" in data or "values" in data
    )


class _Plan:
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
        self.resources: list[_Resource] = []
        for index, change in enumerate(data.get("resource_changes") or []):
            if not isinstance(change, dict):
                continue
            body = change.get("change") or {}
            if change.get("mode", "managed") != "managed" or body.get("actions") == ["delete"]:
                continue
            self.resources.append(
                _Resource(
                    index,
                    str(change.get("address")),
                    str(change.get("type")),
                    body.get("after") or {},
                    body.get("after_unknown") or {},
                )
            )
        self.unknowns: list[Unknown] = []
        self._references = _references(data.get("configuration") or {})

    def of_type(self, kind: str) -> list[_Resource]:
        return [r for r in self.resources if r.type == kind]

    def line(self, resource: _Resource, *attribute: str | int) -> int:
        return self.tree.line(["resource_changes", resource.index, "change", "after", *attribute])

    def open(self, resource: _Resource, attribute: str, why: str, **kinds: Any) -> None:
        self.unknowns.append(Unknown(resource.address, str(self.path), attribute, why, **kinds))

    def refers(self, resource: _Resource, attribute: str, to: _Resource) -> bool:
        """Whether the configuration writes ``attribute`` as a reference to ``to``."""
        return to.address in self._references.get((resource.address, attribute), ())

    def document(
        self, resource: _Resource, name: str, kind: PolicyKind, *attribute: str | int
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
        if _has_unknown(marker) or node is None:
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


def read_plan(tree: Tree, path: Path, target: Target) -> Source:
    """The role, its policies and the table, as the plan will leave them."""
    plan = _Plan(tree, path, target)
    role = _the_role(plan)
    trust: Mapping[str, Any] | None = None
    if role.is_unknown("assume_role_policy"):
        plan.open(role, "assume_role_policy", "is known only after apply", trust=True)
    else:
        trust = plan.document(role, "trust", "inline", "assume_role_policy").document
    policies = _role_policies(plan, role)
    table = next(
        (t for t in plan.of_type("aws_dynamodb_table") if t.get("name") == target.table_name),
        None,
    )
    table_policy = None
    if table is not None:
        for item in plan.of_type("aws_dynamodb_resource_policy"):
            if item.get("resource_arn") == target.table_arn or plan.refers(
                item, "resource_arn", table
            ):
                table_policy = plan.document(item, "table resource policy", "resource", "policy")
    return Source(
        path=path,
        kind="terraform-plan",
        format="json",
        text=tree.text,
        trust=trust,
        role_tags=_tags(plan, role, "aws:principaltag/"),
        role_place=Place(role.address, plan.tree.line(["resource_changes", role.index])),
        role_path=_role_path(plan, role),
        policies=tuple(policies),
        table_tags=_tags(plan, table, "aws:resourcetag/") if table is not None else None,
        table_policy=table_policy,
        table_place=(
            Place(table.address, plan.tree.line(["resource_changes", table.index]))
            if table is not None
            else None
        ),
        unknowns=tuple(plan.unknowns),
    )


def _role_path(plan: _Plan, role: _Resource) -> str:
    """The role's ``path``: part of its ARN, so of every ``aws:PrincipalArn``."""
    if role.is_unknown("path"):
        # The ARN is open, and with it every verdict a principal's ARN can decide.
        plan.open(role, "path", "is known only after apply")
        return "/"
    return role_path(role.get("path"), plan.origin, f"{role.address}: path")


def _the_role(plan: _Plan) -> _Resource:
    wanted = plan.target.role_name
    roles = plan.of_type("aws_iam_role")
    for role in roles:
        if role.get("name") == wanted:
            return role
    found = ", ".join(
        f"{r.address} (name {'known only after apply' if r.is_unknown('name') else r.get('name')})"
        for r in roles
    )
    raise PolicyError(
        plan.origin,
        f"no aws_iam_role named {wanted} (ECS_TASK_ROLE_NAME) in the plan; its roles: "
        f"{found or 'none'}",
    )


def _role_policies(plan: _Plan, role: _Resource) -> list[SourcePolicy]:
    found: list[SourcePolicy] = []
    for i, item in enumerate(role.get("inline_policy") or []):
        name = str(item.get("name") or f"inline_policy[{i}]")
        found.append(plan.document(role, name, "inline", "inline_policy", i, "policy"))
    policies = plan.of_type("aws_iam_policy")
    by_arn = {p.get("arn"): p for p in policies if p.get("arn")}
    attached: list[_Resource] = []
    for i, arn in enumerate(role.get("managed_policy_arns") or []):
        _attach(plan, role, f"managed_policy_arns[{i}]", arn, by_arn, attached)
    for item in plan.of_type("aws_iam_role_policy_attachment"):
        if item.get("role") == role.get("name") or plan.refers(item, "role", role):
            linked = next((p for p in policies if plan.refers(item, "policy_arn", p)), None)
            if linked is not None:
                attached.append(linked)
            else:
                _attach(plan, item, "policy_arn", item.get("policy_arn"), by_arn, attached)
    for policy in dict.fromkeys(attached):
        found.append(plan.document(policy, str(policy.get("name")), "managed", "policy"))
    for item in plan.of_type("aws_iam_role_policy"):
        if item.get("role") == role.get("name") or plan.refers(item, "role", role):
            found.append(plan.document(item, str(item.get("name")), "inline", "policy"))
    boundary = role.get("permissions_boundary")
    if role.is_unknown("permissions_boundary"):
        plan.open(role, "permissions_boundary", "is known only after apply")
    elif boundary:
        linked = by_arn.get(boundary)
        if linked is None:
            plan.open(
                role,
                f"permissions boundary {boundary}",
                "is not in the plan, so its document is not known",
            )
        else:
            found.append(plan.document(linked, str(linked.get("name")), "boundary", "policy"))
    return found


def _attach(
    plan: _Plan,
    holder: _Resource,
    attribute: str,
    arn: Any,
    by_arn: Mapping[Any, _Resource],
    attached: list[_Resource],
) -> None:
    if arn is None or holder.is_unknown(attribute.split("[")[0]):
        plan.open(holder, attribute, "is known only after apply")
    elif arn in by_arn:
        attached.append(by_arn[arn])
    else:
        plan.open(
            holder, f"managed policy {arn}", "is not in the plan, so its document is not known"
        )


def _tags(plan: _Plan, resource: _Resource, prefix: str) -> dict[str, str]:
    name = "tags_all" if isinstance(resource.get("tags_all"), dict) else "tags"
    if _has_unknown(resource.unknown.get(name)) and not isinstance(resource.get(name), dict):
        plan.open(resource, name, "is known only after apply", keys=(prefix,))
        return {}
    marker = resource.unknown.get(name)
    tags: dict[str, str] = {}
    for key, value in (resource.get(name) or {}).items():
        tags[str(key)] = str(value)
    if isinstance(marker, dict):
        for key, open_ in marker.items():
            if _has_unknown(open_):
                tags.pop(str(key), None)
                plan.open(resource, f"tag {key}", "is known only after apply", keys=(prefix,))
    return tags
