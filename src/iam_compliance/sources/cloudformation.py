"""Read a CloudFormation template (JSON or YAML) into a :class:`~.model.Source`.

The role is the ``AWS::IAM::Role`` whose ``RoleName`` is ECS_TASK_ROLE_NAME (or, with no
``RoleName``, whose logical id is); its policies are its ``Policies`` (inline),
``ManagedPolicyArns`` and ``PermissionsBoundary``, and every ``AWS::IAM::ManagedPolicy``,
``AWS::IAM::Policy`` and ``AWS::IAM::RolePolicy`` that names it. The table is the
``AWS::DynamoDB::Table`` whose ``TableName`` is DYNAMODB_TABLE_NAME: its ``Tags`` and
``ResourcePolicy``. Resource types:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-role.html
and the pages beside it.

A resource whose ``Condition`` is false for the configured target (parameters at their
``Default``, the target's account and region) is not created, so it is not read; one whose
condition cannot be decided makes every verdict it could change "could not be decided"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html).
``DependsOn`` changes nothing that is read.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..engine.target import Target
from ..errors import PolicyError
from .intrinsics import NO_VALUE, Undecidable, Unresolvable
from .model import Source, SourceFormat, SourcePolicy, role_path
from .template import INLINE, MANAGED, ROLE, TABLE, Template, where_of
from .tree import Tree


def read_template(tree: Tree, path: Path, fmt: SourceFormat, target: Target) -> Source:
    """The role, its policies and the table, as the template defines them."""
    template = Template(tree, path, target)
    role = _the_role(template)
    props = template.properties(role)
    trust: dict[str, Any] | None = None
    try:
        trust = template.resolver.resolve(
            props.get("AssumeRolePolicyDocument"), f"Resources.{role}.Properties"
        )
    except Unresolvable as exc:
        template.open(role, "AssumeRolePolicyDocument", f"cannot be resolved ({exc})", trust=True)
    if trust is not None and not isinstance(trust, dict):
        raise PolicyError(template.origin, f"Resources.{role}: AssumeRolePolicyDocument is missing")
    # A role that may not be created: every verdict and the trust check are open.
    template.exists(role)
    template.exists(role, trust=True)
    policies = _role_policies(template, role)
    table = next(
        (t for t in template.of_type(TABLE) if template.physical[t] == target.table_name), None
    )
    table_tags, table_policy = None, None
    if table is not None:
        template.exists(table)  # its resource policy may or may not be there
        table_tags = _tags(template, table, "aws:resourcetag/")
        resource_policy = template.choose(
            template.properties(table).get("ResourcePolicy"),
            ["Resources", table, "Properties", "ResourcePolicy"],
            table,
            "ResourcePolicy",
        )
        if resource_policy is not None and isinstance(resource_policy[0], dict):
            table_policy = template.policy(
                "table resource policy",
                "resource",
                table,
                [*resource_policy[1], "PolicyDocument"],
            )
    return Source(
        path=path,
        kind="cloudformation",
        format=fmt,
        text=tree.text,
        trust=trust,
        role_tags=_tags(template, role, "aws:principaltag/"),
        role_place=template.place(role),
        role_path=_role_path(template, role),
        policies=tuple(policies),
        table_tags=table_tags,
        table_policy=table_policy,
        table_place=template.place(table) if table is not None else None,
        unknowns=tuple(template.unknowns),
    )


def _role_path(template: Template, role: str) -> str:
    """The role's ``Path``: part of its ARN, so of every ``aws:PrincipalArn``."""
    where = f"Resources.{role}.Properties.Path"
    try:
        value = template.resolver.resolve(template.properties(role).get("Path"), where)
    except Unresolvable as exc:
        # The ARN is open, and with it every verdict a principal's ARN can decide.
        template.open(role, "Path", f"cannot be resolved ({exc})")
        return "/"
    return role_path(None if value is NO_VALUE else value, template.origin, where)


def _the_role(template: Template) -> str:
    wanted = template.target.role_name
    roles = template.of_type(ROLE)
    for logical in roles:
        if template.physical[logical] == wanted:
            return logical
    found = ", ".join(f"{r} (RoleName {template.physical[r] or 'not resolvable'})" for r in roles)
    raise PolicyError(
        template.origin,
        f"no AWS::IAM::Role with RoleName {wanted} (ECS_TASK_ROLE_NAME); the template's "
        f"roles: {found or 'none'}",
    )


def _role_policies(template: Template, role: str) -> list[SourcePolicy]:
    # Long only because each of CloudFormation's five ways to give a role a policy is a
    # short block of its own.
    found: list[SourcePolicy] = []
    for item, path in template.listed(role, "Policies"):
        where = where_of(path)
        name = _name_of(template, role, item, where)
        if name is not None:
            found.append(template.policy(name, "inline", role, [*path, "PolicyDocument"]))
    managed_arns = {}
    for logical in template.of_type(MANAGED):
        name = template.physical[logical]
        if name is not None:
            managed_arns[
                f"arn:{template.target.partition}:iam::{template.target.account_id}:policy/{name}"
            ] = logical
    attached: list[str] = []
    for item, path in template.listed(role, "ManagedPolicyArns"):
        arn = _arn(template, role, item, where_of(path))
        if arn in managed_arns:
            attached.append(managed_arns[arn])
        elif arn is not None:
            template.open(
                role,
                f"managed policy {arn}",
                "is not defined in the template, so its document is not known",
            )
    for logical in template.of_type(MANAGED):
        if "Roles" in template.properties(logical) and template.names_role(logical, "Roles", role):
            attached.append(logical)
    for logical in dict.fromkeys(attached):
        name = template.physical[logical] or logical
        found.append(
            template.policy(
                name, "managed", logical, ["Resources", logical, "Properties", "PolicyDocument"]
            )
        )
    for logical in template.of_type(*INLINE):
        p = template.properties(logical)
        prop = "Roles" if "Roles" in p else "RoleName"
        if p.get(prop) is not None and template.names_role(logical, prop, role):
            where = f"Resources.{logical}.Properties.PolicyName"
            name = _name_of(template, logical, p, where)
            if name is not None:
                found.append(
                    template.policy(
                        name,
                        "inline",
                        logical,
                        ["Resources", logical, "Properties", "PolicyDocument"],
                    )
                )
    boundary = template.choose(
        template.properties(role).get("PermissionsBoundary"),
        ["Resources", role, "Properties", "PermissionsBoundary"],
        role,
        "PermissionsBoundary",
    )
    arn = _arn(template, role, boundary[0], where_of(boundary[1])) if boundary else None
    if arn in managed_arns:
        logical = managed_arns[arn]
        name = template.physical[logical] or logical
        found.append(
            template.policy(
                name, "boundary", logical, ["Resources", logical, "Properties", "PolicyDocument"]
            )
        )
    elif arn is not None:
        template.open(
            role,
            f"permissions boundary {arn}",
            "is not defined in the template, so its document is not known",
        )
    return found


def _name_of(template: Template, logical: str, item: Any, where: str) -> str | None:
    """The ``PolicyName`` of a policy; None (recorded) when a condition leaves it open."""
    try:
        return str(template.value(item.get("PolicyName"), where))
    except Undecidable as exc:
        template.open(logical, "PolicyName", f"cannot be decided ({exc})")
        return None


def _arn(template: Template, logical: str, item: Any, where: str) -> str | None:
    """A policy ARN the role names; None (recorded) when a condition leaves it open."""
    try:
        found = template.value(item, where)
    except Undecidable as exc:
        template.open(logical, where.split(".")[-1], f"cannot be decided ({exc})")
        return None
    return None if found is None else str(found)


def _tags(template: Template, logical: str, prefix: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    before = len(template.unknowns)
    for tag, path in template.listed(logical, "Tags"):
        where = where_of(path)
        if not isinstance(tag, dict) or "Key" not in tag:
            raise PolicyError(template.origin, f"{where}: expected a Key and a Value")
        try:
            key = str(template.value(tag["Key"], where))
            tags[key] = str(template.resolver.resolve(tag.get("Value", ""), where))
        except Unresolvable as exc:
            name = tag["Key"] if isinstance(tag["Key"], str) else where
            template.open(logical, f"tag {name}", f"cannot be resolved ({exc})", keys=(prefix,))
    # A tag list whose Fn::If cannot be decided feeds the tag keys only.
    template.unknowns[before:] = [
        dataclasses.replace(u, keys=(prefix,)) if not u.keys and not u.trust else u
        for u in template.unknowns[before:]
    ]
    return tags
