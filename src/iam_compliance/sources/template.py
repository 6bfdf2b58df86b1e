"""One CloudFormation template being read: its resources, names, conditions and resolver.

:class:`Template` decides which resources CloudFormation would create (their
``Condition``), the physical names of those the configuration names (role, table,
managed policies), and keeps what the template leaves open (:class:`Unknown`) as it is
read by :mod:`.cloudformation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..engine.evaluate.unknowns import Unknown
from ..engine.policy import PolicyKind
from ..engine.target import Target
from ..errors import PolicyError
from .intrinsics import NO_VALUE, Resolver, Undecidable, Unresolvable
from .model import Place, SourcePolicy
from .tree import Tree

ROLE = "AWS::IAM::Role"
TABLE = "AWS::DynamoDB::Table"
MANAGED = "AWS::IAM::ManagedPolicy"
INLINE = ("AWS::IAM::Policy", "AWS::IAM::RolePolicy")
_NAME_PROPERTY = {ROLE: "RoleName", TABLE: "TableName", MANAGED: "ManagedPolicyName"}


def where_of(path: list[str | int]) -> str:
    """A path in the template as messages name it: ``Resources.R.Properties.Tags[0]``."""
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)[1:]


class Template:
    """One template being read: its resources, resolver and what it leaves open."""

    def __init__(self, tree: Tree, path: Path, target: Target) -> None:
        self.tree, self.path, self.target = tree, path, target
        self.origin = f"--iam-policy-file {path}"
        resources = tree.data.get("Resources") if isinstance(tree.data, dict) else None
        if not isinstance(resources, dict) or not resources:
            raise PolicyError(self.origin, 'a CloudFormation template needs a "Resources" mapping')
        self.parameters = _section(tree.data, "Parameters")
        conditions, mappings = _section(tree.data, "Conditions"), _section(tree.data, "Mappings")
        self.unknowns: list[Unknown] = []
        #: Resources whose Condition cannot be decided, and why.
        self.undecided: dict[str, str] = {}
        deciding = Resolver(target, {}, self.parameters, lambda _: None, conditions, mappings)
        self.resources: dict[str, Any] = {
            k: v
            for k, v in resources.items()
            if isinstance(v, dict) and self._created(deciding, k, v.get("Condition"))
        }
        naming = Resolver(
            target, self.resources, self.parameters, lambda _: None, conditions, mappings
        )
        self.physical: dict[str, str | None] = {}
        for logical, resource in self.resources.items():
            self.physical[logical] = self._name(naming, logical, resource)
        self.resolver = Resolver(
            target, self.resources, self.parameters, self.physical.get, conditions, mappings
        )

    def _created(self, deciding: Resolver, logical: str, condition: Any) -> bool:
        """Whether CloudFormation would create the resource: kept when it cannot tell."""
        if condition is None:
            return True
        try:
            return deciding.condition(condition, "")
        except Undecidable as exc:
            self.undecided[logical] = str(exc)
            return True

    def open(self, logical: str, attribute: str, why: str, **kinds: Any) -> None:
        """Record a value the template leaves open (see :mod:`..engine.evaluate.unknowns`)."""
        found = Unknown(f"Resources.{logical}", str(self.path), attribute, why, **kinds)
        if found not in self.unknowns:
            self.unknowns.append(found)

    def exists(self, logical: str, **kinds: Any) -> None:
        """An open value when whether ``logical`` is created cannot be decided."""
        if logical in self.undecided:
            reason = self.undecided[logical]
            why = f"cannot be decided, so neither can whether it is created: {reason}"
            self.open(logical, "Condition", why, **kinds)

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
        """A name-like value that must resolve (a role, an ARN): else the input is bad; a
        condition that cannot be decided raises :class:`Undecidable` for the caller."""
        try:
            found = self.resolver.resolve(value, where)
        except Undecidable:
            raise
        except Unresolvable as exc:
            raise PolicyError(self.origin, str(exc)) from None
        return None if found is NO_VALUE else found

    def listed(self, logical: str, prop: str) -> list[tuple[Any, list[str | int]]]:
        """The items of a list property with their paths, each ``Fn::If`` replaced by its
        branch; an item (or list) whose condition is open is left out and recorded."""
        base: list[str | int] = ["Resources", logical, "Properties", prop]
        chosen = self.choose(self.properties(logical).get(prop), base, logical, prop)
        if chosen is None or not isinstance(chosen[0], list):
            return []
        items, base = chosen
        found = [self.choose(item, [*base, i], logical, prop) for i, item in enumerate(items)]
        return [item for item in found if item is not None]

    def choose(
        self, raw: Any, path: list[str | int], logical: str, prop: str
    ) -> tuple[Any, list[str | int]] | None:
        """``raw``, or the branch of its ``Fn::If`` that applies, with its path; None for
        ``AWS::NoValue``, or when the condition is open (recorded)."""
        while isinstance(raw, dict) and list(raw) == ["Fn::If"]:
            argument = raw["Fn::If"]
            where = where_of(path)
            if not (isinstance(argument, list) and len(argument) == 3):
                raise PolicyError(self.origin, f"{where}: Fn::If expects three values")
            try:
                branch = 1 if self.resolver.condition(argument[0], where) else 2
            except Undecidable as exc:
                self.open(logical, f"{prop} ({where})", f"cannot be decided ({exc})")
                return None
            raw, path = argument[branch], [*path, "Fn::If", branch]
        if raw is None or raw == {"Ref": "AWS::NoValue"}:
            return None
        return raw, path

    def policy(
        self, name: str, kind: PolicyKind, logical: str, path: list[str | int]
    ) -> SourcePolicy:
        """The document at ``path``, resolved; open (None) when it cannot be."""
        self.exists(logical)
        raw = self._at(path)
        chosen = self.choose(raw, path, logical, str(path[-1]))
        if chosen is not None:  # a document that is an Fn::If: its branch's statements
            raw, path = chosen
        where = where_of(path)
        place = Place(f"Resources.{logical}", self.tree.line(path))
        document: dict[str, Any] | None
        try:
            document = self.resolver.resolve(raw, where)
        except Unresolvable as exc:
            document = None
            self.open(logical, str(path[-1]), f"cannot be resolved ({exc})")
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

    def names_role(self, logical: str, prop: str, role: str) -> bool:
        """Whether ``logical``'s ``prop`` (Roles, RoleName) names the role; an open
        condition there is recorded, as the policy may or may not be the role's."""
        where = f"Resources.{logical}.Properties.{prop}"
        try:
            value = self.value(self.properties(logical).get(prop), where)
        except Undecidable as exc:
            self.open(logical, prop, f"cannot be decided ({exc}), so whether it names the role")
            return False
        names = value if isinstance(value, list) else [value]
        return self.target.role_name in names


def _section(data: Any, name: str) -> dict[str, Any]:
    found = data.get(name) if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}
