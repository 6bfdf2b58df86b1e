"""CloudFormation's intrinsic functions, resolved where the configuration knows the value.

``Ref`` and ``Fn::GetAtt`` of the account, region, partition, the configured table and
role, and the template's managed policies; ``Fn::Sub``, ``Fn::Join`` and ``Fn::Select`` of
such values; a parameter's ``Default``. Anything else (``Fn::ImportValue``, ``Fn::If``, a
parameter without a default, an attribute only known once the stack exists) raises
:class:`Unresolvable`, naming the function and where it is.

References: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
and the ``Ref``/``Fn::GetAtt`` return values on each resource type's page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..engine.target import Target

#: ``${Name}`` or ``${Name.Attribute}`` in Fn::Sub; ``${!Literal}`` stays as ``${Literal}``.
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_FUNCTIONS = ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select")


class Unresolvable(Exception):
    """A value the configuration cannot give: ``str(exc)`` says which and why."""


class Resolver:
    """Resolves intrinsic functions of one template for one target."""

    def __init__(
        self,
        target: Target,
        resources: Mapping[str, Any],
        parameters: Mapping[str, Any],
        names: Callable[[str], str | None],
    ) -> None:
        self.target = target
        self.resources = resources
        self.parameters = parameters
        #: The physical name of a resource the configuration names (role, table, policy).
        self.names = names

    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with every intrinsic function replaced by its value."""
        if isinstance(value, list):
            return [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
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
        return {key: self.resolve(item, f"{where}.{key}") for key, item in value.items()}

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
        # Fn::Select
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolvable(f"{at} expects [index, [values]], got {argument!r}")
        index, items = self.resolve(argument[0], at), self.resolve(argument[1], at)
        if not isinstance(items, list) or not str(index).isdigit() or int(index) >= len(items):
            raise Unresolvable(f"{at}: index {index!r} is not in {items!r}")
        return items[int(index)]

    def ref(self, name: str, at: str) -> str:
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
            return self.ref(name, at)

        return _SUB_VARIABLE.sub(value, text)
