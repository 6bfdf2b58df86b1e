"""Read a Terraform plan in JSON (``terraform show -json tfplan``) into a :class:`~.model.Source`.

From ``resource_changes[].change.after`` (what the plan will make) and ``after_unknown``
(what only apply will know): the role (``aws_iam_role`` named ECS_TASK_ROLE_NAME:
assume_role_policy, tags, path), its policies (:mod:`.attachments`: every resource type
that attaches, detaches or replaces them), and the table (``aws_dynamodb_table`` named
DYNAMODB_TABLE_NAME, with its ``aws_dynamodb_resource_policy``). A value that is unknown
until apply is recorded as an :class:`~iam_compliance.engine.evaluate.unknowns.Unknown`, naming its
resource address.

The plan format: https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..engine.target import Target
from ..errors import PolicyError
from .attachments import role_policies
from .model import Place, Source, role_path
from .plan import Plan, Resource, has_unknown
from .tree import Tree


def read_plan(tree: Tree, path: Path, target: Target) -> Source:
    """The role, its policies and the table, as the plan will leave them."""
    plan = Plan(tree, path, target)
    role = _the_role(plan)
    trust: Mapping[str, Any] | None = None
    if role.is_unknown("assume_role_policy"):
        plan.open(role, "assume_role_policy", "is known only after apply", trust=True)
    else:
        trust = plan.document(role, "trust", "inline", "assume_role_policy").document
    policies = role_policies(plan, role)
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


def _role_path(plan: Plan, role: Resource) -> str:
    """The role's ``path``: part of its ARN, so of every ``aws:PrincipalArn``."""
    if role.is_unknown("path"):
        # The ARN is open, and with it every verdict a principal's ARN can decide.
        plan.open(role, "path", "is known only after apply")
        return "/"
    return role_path(role.get("path"), plan.origin, f"{role.address}: path")


def _the_role(plan: Plan) -> Resource:
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


def _tags(plan: Plan, resource: Resource, prefix: str) -> dict[str, str]:
    name = "tags_all" if isinstance(resource.get("tags_all"), dict) else "tags"
    if has_unknown(resource.unknown.get(name)) and not isinstance(resource.get(name), dict):
        plan.open(resource, name, "is known only after apply", keys=(prefix,))
        return {}
    marker = resource.unknown.get(name)
    tags: dict[str, str] = {}
    for key, value in (resource.get(name) or {}).items():
        tags[str(key)] = str(value)
    if isinstance(marker, dict):
        for key, open_ in marker.items():
            if has_unknown(open_):
                tags.pop(str(key), None)
                plan.open(resource, f"tag {key}", "is known only after apply", keys=(prefix,))
    return tags
