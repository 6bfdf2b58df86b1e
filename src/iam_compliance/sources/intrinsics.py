"""CloudFormation's intrinsic functions, resolved where the configuration knows the value.

``Ref`` and ``Fn::GetAtt`` of the account, region, partition, the configured table and
role, and the template's managed policies; ``Fn::Sub``, ``Fn::Join``, ``Fn::Select`` and
``Fn::FindInMap`` of such values; a parameter's ``Default``; ``Fn::If`` of a condition of
the ``Conditions`` section (``Fn::Equals``, ``Fn::And``, ``Fn::Or``, ``Fn::Not``,
``Condition``), and ``Ref AWS::NoValue``, which removes the property or list item it
stands for. Anything else (``Fn::ImportValue``, a parameter without a default, an
attribute only known once the stack exists) raises :class:`Unresolvable`, naming the
function and where it is; a condition that depends on such a value raises
:class:`Undecidable`: it is neither true nor false here.

References: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html,
the condition functions:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html
(conditions may refer only to parameters, mappings and other conditions), the pseudo
parameters (``AWS::NoValue``):
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
and the ``Ref``/``Fn::GetAtt`` return values on each resource type's page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..engine.target import Target

#: ``${Name}`` or ``${Name.Attribute}`` in Fn::Sub; ``${!Literal}`` stays as ``${Literal}``.
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_FUNCTIONS = ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::FindInMap", "Fn::If")


class Unresolvable(Exception):
    """A value the configuration cannot give: ``str(exc)`` says which and why."""


class Undecidable(Unresolvable):
    """A condition the template and the configuration cannot decide."""


class _NoValue:
    """``Ref AWS::NoValue``: the property or list item is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


#: What ``Ref AWS::NoValue`` resolves to; :meth:`Resolver.resolve` drops it from mappings
#: and lists, so only a whole value can be it.
NO_VALUE: Any = _NoValue()


class Resolver:
    """Resolves intrinsic functions of one template for one target."""

    def __init__(
        self,
        target: Target,
        resources: Mapping[str, Any],
        parameters: Mapping[str, Any],
        names: Callable[[str], str | None],
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self.target = target
        self.resources = resources
        self.parameters = parameters
        #: The physical name of a resource the configuration names (role, table, policy).
        self.names = names
        #: The template's Conditions and Mappings sections.
        self.conditions = conditions or {}
        self.mappings = mappings or {}
        self._decided: dict[str, bool | Undecidable] = {}
        self._deciding: set[str] = set()

    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with every intrinsic function replaced by its value."""
        if isinstance(value, list):
            items = (self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value))
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), *_ = value.items()
            if name in _FUNCTIONS:
                return self._function(name, argument, where)
            if name.startswith("Fn::"):
                raise Unresolvable(
                    f"{where}: {name} cannot be resolved from the configuration "
                    f"(resolved: {', '.join(_FUNCTIONS)} of the account, region, partition, "
                    "table, role and the template's policies)"
                )
        resolved = {key: self.resolve(item, f"{where}.{key}") for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, name: str, argument: Any, where: str) -> Any:
        at = f"{where}: {name}"
        if name == "Ref":
            if not isinstance(argument, str):
                raise Unresolvable(f"{at} expects a name, got {argument!r}")
            return self.ref(argument, at)
        if name == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            if not (isinstance(parts, list) and len(parts) == 2):
                raise Unresolvable(f"{at} expects [LogicalId, Attribute], got {argument!r}")
            logical, attribute = (self.resolve(part, at) for part in parts)
            return self.get_att(str(logical), str(attribute), at)
        if name == "Fn::Sub":
            return self._sub(argument, at)
        if name == "Fn::Join":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise Unresolvable(f"{at} expects [delimiter, [values]], got {argument!r}")
            delimiter, items = self.resolve(argument[0], at), self.resolve(argument[1], at)
            if not isinstance(items, list):
                raise Unresolvable(f"{at} expects a list of values, got {items!r}")
            return str(delimiter).join(str(item) for item in items)
        if name == "Fn::If":
            if not (isinstance(argument, list) and len(argument) == 3):
                raise Unresolvable(f"{at} expects [condition, if true, if false], got {argument!r}")
            chosen = argument[1] if self.condition(argument[0], at) else argument[2]
            return self.resolve(chosen, at)
        if name == "Fn::FindInMap":
            if not (isinstance(argument, list) and len(argument) == 3):
                raise Unresolvable(f"{at} expects [map, top key, second key], got {argument!r}")
            keys = [str(self.resolve(part, at)) for part in argument]
            found: Any = self.mappings
            for key in keys:
                if not isinstance(found, Mapping) or key not in found:
                    raise Unresolvable(f"{at}: Mappings has no {'.'.join(keys)}")
                found = found[key]
            return found
        # Fn::Select
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolvable(f"{at} expects [index, [values]], got {argument!r}")
        index, items = self.resolve(argument[0], at), self.resolve(argument[1], at)
        if not isinstance(items, list) or not str(index).isdigit() or int(index) >= len(items):
            raise Unresolvable(f"{at}: index {index!r} is not in {items!r}")
        return items[int(index)]

    def ref(self, name: str, at: str) -> Any:
        """A ``Ref``'s value: a string, or :data:`NO_VALUE` for ``AWS::NoValue``."""
        target = self.target
        pseudo = {
            "AWS::AccountId": target.account_id,
            "AWS::Region": target.region,
            "AWS::Partition": target.partition,
            "AWS::URLSuffix": "amazonaws.com.cn"
            if target.partition == "aws-cn"
            else "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            parameter = self.parameters[name]
            default = parameter.get("Default") if isinstance(parameter, dict) else None
            if default is None:
                raise Unresolvable(f"{at}: parameter {name} has no Default to resolve it with")
            return ",".join(map(str, default)) if isinstance(default, list) else str(default)
        resource = self.resources.get(name)
        if not isinstance(resource, dict):
            raise Unresolvable(
                f"{at}: {name} is neither a resource of the template nor a "
                "pseudo parameter the configuration gives"
            )
        kind = resource.get("Type")
        physical = self.names(name)
        if physical is not None and kind in ("AWS::IAM::Role", "AWS::DynamoDB::Table"):
            return physical
        if physical is not None and kind == "AWS::IAM::ManagedPolicy":
            return f"arn:{target.partition}:iam::{target.account_id}:policy/{physical}"
        raise Unresolvable(
            f"{at}: the value of Ref {name} ({kind}) is known only once the stack exists"
        )

    def get_att(self, logical: str, attribute: str, at: str) -> str:
        target = self.target
        resource = self.resources.get(logical)
        kind = resource.get("Type") if isinstance(resource, dict) else None
        physical = self.names(logical)
        if physical is not None:
            if kind == "AWS::IAM::Role" and attribute == "Arn":
                # The role's Path is part of its ARN (role/ml-platform/Name).
                props = resource.get("Properties") if isinstance(resource, dict) else None
                path = self.resolve((props or {}).get("Path") or "/", at)
                return f"arn:{target.partition}:iam::{target.account_id}:role{path}{physical}"
            if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
                return (
                    f"arn:{target.partition}:dynamodb:{target.region}:{target.account_id}"
                    f":table/{physical}"
                )
            if kind == "AWS::IAM::ManagedPolicy" and attribute == "PolicyArn":
                return f"arn:{target.partition}:iam::{target.account_id}:policy/{physical}"
        raise Unresolvable(
            f"{at}: {logical}.{attribute} is known only once the stack exists"
            if kind
            else f"{at}: {logical} is not a resource of the template"
        )

    def _sub(self, argument: Any, at: str) -> str:
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            text, variables = argument[0], argument[1]
        else:
            text, variables = argument, {}
        if not isinstance(text, str):
            raise Unresolvable(f"{at} expects a string, got {text!r}")

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name], at))
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute, at)
            return str(self.ref(name, at))

        return _SUB_VARIABLE.sub(value, text)

    # -- conditions -----------------------------------------------------------------

    def condition(self, name: Any, at: str) -> bool:
        """Whether the template's condition ``name`` holds for the configured target.

        Raises :class:`Undecidable` when it depends on a value that is not known here (a
        parameter without a Default, ``AWS::StackName``...): never true or false by guess.
        """
        if not isinstance(name, str) or name not in self.conditions:
            raise Undecidable(f"{at}: {name!r} is not a condition of the template's Conditions")
        if name not in self._decided:
            if name in self._deciding:
                raise Undecidable(f"{at}: condition {name} refers to itself")
            self._deciding.add(name)
            try:
                self._decided[name] = self._truth(self.conditions[name], f"Conditions.{name}")
            except Undecidable as exc:
                self._decided[name] = exc
            finally:
                self._deciding.discard(name)
        decided = self._decided[name]
        if isinstance(decided, Undecidable):
            where = f"{at}: " if at else ""
            raise Undecidable(f"{where}condition {name} cannot be decided ({decided})")
        return decided

    def _truth(self, value: Any, where: str) -> bool:
        """A condition function's value: true, false, or :class:`Undecidable`."""
        if not (isinstance(value, dict) and len(value) == 1):
            raise Undecidable(f"{where}: expected one condition function, got {value!r}")
        (name, argument), *_ = value.items()
        at = f"{where}: {name}"
        if name == "Condition":
            return self.condition(argument, at)
        if name == "Fn::Equals":
            if not (isinstance(argument, list) and len(argument) == 2):
                raise Undecidable(f"{at} expects [value, value], got {argument!r}")
            try:
                left, right = (self.resolve(part, at) for part in argument)
            except Unresolvable as exc:
                raise exc if isinstance(exc, Undecidable) else Undecidable(str(exc)) from None
            return bool(_comparable(left) == _comparable(right))
        if name == "Fn::Not":
            if not (isinstance(argument, list) and len(argument) == 1):
                raise Undecidable(f"{at} expects [condition], got {argument!r}")
            return not self._truth(argument[0], at)
        if name in ("Fn::And", "Fn::Or"):
            if not isinstance(argument, list) or not argument:
                raise Undecidable(f"{at} expects a list of conditions, got {argument!r}")
            # Three-valued: one false decides an And, one true an Or, whatever is open.
            deciding = name == "Fn::Or"
            open_: Undecidable | None = None
            for i, item in enumerate(argument):
                try:
                    if self._truth(item, f"{at}[{i}]") is deciding:
                        return deciding
                except Undecidable as exc:
                    open_ = open_ or exc
            if open_ is not None:
                raise open_
            return not deciding
        raise Undecidable(f"{at} is not a condition function")


def _comparable(value: Any) -> Any:
    """A value as Fn::Equals compares it: YAML's true, 1 and "true" are all strings there."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value
