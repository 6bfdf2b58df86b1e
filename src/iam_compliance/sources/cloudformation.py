"""Read a CloudFormation template (JSON or YAML) into a :class:`~.model.Source`.

The role is the ``AWS::IAM::Role`` whose ``RoleName`` is ECS_TASK_ROLE_NAME (or, with no
``RoleName``, whose logical id is); its policies are its ``Policies`` (inline),
``ManagedPolicyArns`` and ``PermissionsBoundary``, and every ``AWS::IAM::ManagedPolicy``,
``AWS::IAM::Policy`` and ``AWS::IAM::RolePolicy`` that names it. The table is the
``AWS::DynamoDB::Table`` whose ``TableName`` is DYNAMODB_TABLE_NAME: its ``Tags`` and
``ResourcePolicy``. Resource types:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-role.html
and the pages beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..engine.policy import PolicyKind
from ..engine.target import Target
from ..engine.unknowns import Unknown
from ..errors import PolicyError
from .intrinsics import Resolver, Unresolvable
from .model import Place, Source, SourceFormat, SourcePolicy, role_path
from .tree import Tree

ROLE = "AWS::IAM::Role"
TABLE = "AWS::DynamoDB::Table"
MANAGED = "AWS::IAM::ManagedPolicy"
INLINE = ("AWS::IAM::Policy", "AWS::IAM::RolePolicy")
_NAME_PROPERTY = {ROLE: "RoleName", TABLE: "TableName", MANAGED: "ManagedPolicyName"}


class _Template:
    """One template being read: its resources, resolver and what it leaves open."""

    def __init__(self, tree: Tree, path: Path, target: Target) -> None:
        self.tree, self.path, self.target = tree, path, target
        self.origin = f"--iam-policy-file {path}"
        resources = tree.data.get("Resources") if isinstance(tree.data, dict) else None
        if not isinstance(resources, dict) or not resources:
            raise PolicyError(self.origin, 'a CloudFormation template needs a "Resources" mapping')
        self.resources: dict[str, Any] = {k: v for k, v in resources.items() if isinstance(v, dict)}
        parameters = tree.data.get("Parameters")
        self.parameters = parameters if isinstance(parameters, dict) else {}
        naming = Resolver(target, self.resources, self.parameters, lambda _: None)
        self.physical: dict[str, str | None] = {}
        for logical, resource in self.resources.items():
            self.physical[logical] = self._name(naming, logical, resource)
        self.resolver = Resolver(target, self.resources, self.parameters, self.physical.get)
        self.unknowns: list[Unknown] = []

    def _name(self, naming: Resolver, logical: str, resource: Mapping[str, Any]) -> str | None:
        prop = _NAME_PROPERTY.get(str(resource.get("Type")))
        if prop is None:
            return None
        given = self.properties(logical).get(prop)
        if given is None:
            return logical  # CloudFormation would generate a name; the logical id stands in
        try:
            return str(naming.resolve(given, f"Resources.{logical}.Properties.{prop}"))
        except Unresolvable:
            return None

    def properties(self, logical: str) -> dict[str, Any]:
        found = self.resources[logical].get("Properties")
        return found if isinstance(found, dict) else {}

    def of_type(self, *kinds: str) -> list[str]:
        return [k for k, v in self.resources.items() if v.get("Type") in kinds]

    def place(self, logical: str) -> Place:
        return Place(f"Resources.{logical}", self.tree.line(["Resources", logical]))

    def value(self, value: Any, where: str) -> Any:
        """A name-like value that must resolve (a role, an ARN): else the input is bad."""
        try:
            return self.resolver.resolve(value, where)
        except Unresolvable as exc:
            raise PolicyError(self.origin, str(exc)) from None

    def policy(
        self, name: str, kind: PolicyKind, logical: str, path: list[str | int]
    ) -> SourcePolicy:
        """The document at ``path``, resolved; open (None) when it cannot be."""
        raw = self._at(path)
        where = ".".join(str(p) for p in path)
        place = Place(f"Resources.{logical}", self.tree.line(path))
        document: dict[str, Any] | None
        try:
            document = self.resolver.resolve(raw, where)
        except Unresolvable as exc:
            document = None
            self.unknowns.append(
                Unknown(place.address, str(self.path), str(path[-1]), f"cannot be resolved ({exc})")
            )
        if document is not None and not isinstance(document, dict):
            raise PolicyError(self.origin, f"{where}: a policy document must be a mapping")
        statements = raw.get("Statement") if isinstance(raw, dict) else None
        lines: tuple[int, ...] = ()
        if isinstance(statements, list):
            lines = tuple(self.tree.line([*path, "Statement", i]) for i in range(len(statements)))
        elif isinstance(statements, dict):
            lines = (self.tree.line([*path, "Statement"]),)
        return SourcePolicy(name, kind, document, place, lines, tuple(path))

    def _at(self, path: list[str | int]) -> Any:
        node: Any = self.tree.data
        for step in path:
            node = node[step]
        return node

    def names_role(self, value: Any, role: str, where: str) -> bool:
        names = value if isinstance(value, list) else [value]
        resolved = [self.value(item, f"{where}[{i}]") for i, item in enumerate(names)]
        return self.target.role_name in resolved or role in [
            item.get("Ref") for item in names if isinstance(item, dict)
        ]


def read_template(tree: Tree, path: Path, fmt: SourceFormat, target: Target) -> Source:
    """The role, its policies and the table, as the template defines them."""
    template = _Template(tree, path, target)
    role = _the_role(template)
    props = template.properties(role)
    trust: dict[str, Any] | None = None
    try:
        trust = template.resolver.resolve(
            props.get("AssumeRolePolicyDocument"), f"Resources.{role}.Properties"
        )
    except Unresolvable as exc:
        template.unknowns.append(
            Unknown(
                f"Resources.{role}",
                str(path),
                "AssumeRolePolicyDocument",
                f"cannot be resolved ({exc})",
                trust=True,
            )
        )
    if trust is not None and not isinstance(trust, dict):
        raise PolicyError(template.origin, f"Resources.{role}: AssumeRolePolicyDocument is missing")
    policies = _role_policies(template, role)
    table = next(
        (t for t in template.of_type(TABLE) if template.physical[t] == target.table_name), None
    )
    table_tags, table_policy = None, None
    if table is not None:
        table_tags = _tags(template, table, "aws:resourcetag/")
        if isinstance(template.properties(table).get("ResourcePolicy"), dict):
            table_policy = template.policy(
                "table resource policy",
                "resource",
                table,
                ["Resources", table, "Properties", "ResourcePolicy", "PolicyDocument"],
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


def _role_path(template: _Template, role: str) -> str:
    """The role's ``Path``: part of its ARN, so of every ``aws:PrincipalArn``."""
    where = f"Resources.{role}.Properties.Path"
    try:
        value = template.resolver.resolve(template.properties(role).get("Path"), where)
    except Unresolvable as exc:
        # The ARN is open, and with it every verdict a principal's ARN can decide.
        template.unknowns.append(
            Unknown(f"Resources.{role}", str(template.path), "Path", f"cannot be resolved ({exc})")
        )
        return "/"
    return role_path(value, template.origin, where)


def _the_role(template: _Template) -> str:
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


def _role_policies(template: _Template, role: str) -> list[SourcePolicy]:
    # Long only because each of CloudFormation's five ways to give a role a policy is a
    # short block of its own.
    props = template.properties(role)
    base: list[str | int] = ["Resources", role, "Properties"]
    found: list[SourcePolicy] = []
    for i, item in enumerate(props.get("Policies") or []):
        name = template.value(item.get("PolicyName"), f"Resources.{role}.Policies[{i}]")
        found.append(
            template.policy(str(name), "inline", role, [*base, "Policies", i, "PolicyDocument"])
        )
    managed_arns = {}
    for logical in template.of_type(MANAGED):
        name = template.physical[logical]
        if name is not None:
            managed_arns[
                f"arn:{template.target.partition}:iam::{template.target.account_id}:policy/{name}"
            ] = logical
    attached: list[str] = []
    for i, item in enumerate(props.get("ManagedPolicyArns") or []):
        where = f"Resources.{role}.Properties.ManagedPolicyArns[{i}]"
        arn = str(template.value(item, where))
        if arn in managed_arns:
            attached.append(managed_arns[arn])
        else:
            template.unknowns.append(
                Unknown(
                    f"Resources.{role}",
                    str(template.path),
                    f"managed policy {arn}",
                    "is not defined in the template, so its document is not known",
                )
            )
    for logical in template.of_type(MANAGED):
        roles = template.properties(logical).get("Roles")
        if roles is not None and template.names_role(
            roles, role, f"Resources.{logical}.Properties.Roles"
        ):
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
        named = p.get("Roles") if "Roles" in p else p.get("RoleName")
        if named is not None and template.names_role(
            named, role, f"Resources.{logical}.Properties"
        ):
            name = str(
                template.value(p.get("PolicyName"), f"Resources.{logical}.Properties.PolicyName")
            )
            found.append(
                template.policy(
                    name, "inline", logical, ["Resources", logical, "Properties", "PolicyDocument"]
                )
            )
    boundary = props.get("PermissionsBoundary")
    if boundary is not None:
        arn = str(template.value(boundary, f"Resources.{role}.Properties.PermissionsBoundary"))
        if arn in managed_arns:
            logical = managed_arns[arn]
            name = template.physical[logical] or logical
            found.append(
                template.policy(
                    name,
                    "boundary",
                    logical,
                    ["Resources", logical, "Properties", "PolicyDocument"],
                )
            )
        else:
            template.unknowns.append(
                Unknown(
                    f"Resources.{role}",
                    str(template.path),
                    f"permissions boundary {arn}",
                    "is not defined in the template, so its document is not known",
                )
            )
    return found


def _tags(template: _Template, logical: str, prefix: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for i, tag in enumerate(template.properties(logical).get("Tags") or []):
        where = f"Resources.{logical}.Properties.Tags[{i}]"
        if not isinstance(tag, dict) or "Key" not in tag:
            raise PolicyError(template.origin, f"{where}: expected a Key and a Value")
        key = str(template.value(tag["Key"], where))
        try:
            tags[key] = str(template.resolver.resolve(tag.get("Value", ""), where))
        except Unresolvable as exc:
            template.unknowns.append(
                Unknown(
                    f"Resources.{logical}",
                    str(template.path),
                    f"tag {key}",
                    f"cannot be resolved ({exc})",
                    keys=(prefix,),
                )
            )
    return tags
