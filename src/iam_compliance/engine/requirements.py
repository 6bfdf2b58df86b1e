"""The actions a workload needs, and where, read from data (fixtures/required_actions.toml).

Each ``[[action]]`` has a ``name`` (``dynamodb:Query``), a ``reason``, and optionally a
``resource``: a path under the table's ARN (``index/by-status``, ``index/*`` for every
index) or a whole ARN template (``arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:...``).
Without one, the action is needed on the table.

Names and resources are checked against AWS's IAM action data (the ``catalog`` is
injected; the adapter supplies it): the action must exist, and it must take the kind of
resource named (Query takes a table or an index; ListTables takes none). So
``dynamodb:Scann`` or a resource Scan cannot act on stop the run at start instead of
producing a test that can never pass.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import ConfigurationError
from .target import Target, fill_placeholders


class ActionCatalog(Protocol):
    """What IAM knows of services, actions and the resources they act on."""

    def services(self) -> frozenset[str]: ...

    def actions(self, service: str) -> frozenset[str] | None:
        """The service's action names, as AWS spells them; None for an unknown service."""
        ...

    def resource_types(self, service: str, action: str) -> tuple[str, ...]:
        """The kinds of resource ``action`` acts on (``table``, ``index``); () for none."""
        ...

    def resource_arn(self, service: str, resource_type: str) -> str:
        """The ARN format of a kind of resource, with ``${...}`` placeholders."""
        ...


@dataclass(frozen=True)
class Need:
    """One required action on one resource (or pattern of resources)."""

    action: str
    resource: str
    #: How reports name it: the requirement's id (``dynamodb:Query@index/*``).
    id: str


@dataclass(frozen=True)
class RequiredAction:
    #: The IAM action, ``dynamodb:Scan``, as AWS spells it.
    name: str
    #: Why the workload needs it, shown with every verdict.
    reason: str
    #: Where: a path under the table's ARN or an ARN template; None for the table itself.
    resource: str | None = None

    @property
    def id(self) -> str:
        """How tests and reports name it: ``dynamodb:Query``, ``dynamodb:Query@index/*``."""
        return self.name if self.resource is None else f"{self.name}@{self.resource}"

    def arn(self, target: Target) -> str:
        """The resource's ARN (or ARN pattern) for ``target``."""
        return resource_arn(self.resource, target)


def resource_arn(resource: str | None, target: Target) -> str:
    if resource is None:
        return target.table_arn
    if resource == "*" or resource.startswith("arn:"):
        return fill_placeholders(resource, target, f"resource {resource!r}")
    return f"{target.table_arn}/{resource}"


def load_requirements(path: Path, catalog: ActionCatalog) -> tuple[RequiredAction, ...]:
    """Read and check the required actions file."""
    label = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{label}: required actions file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{label}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{label}: not valid TOML: {exc}") from None
    entries = data.get("action")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f'{label}: expected one or more [[action]] tables with "name"')
    actions: list[RequiredAction] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{label}: action #{number}"
        if not isinstance(entry, dict):
            raise ConfigurationError(
                f'{where}: expected an [[action]] table with "name", got {entry!r}'
            )
        unknown = sorted(set(entry) - {"name", "reason", "resource"})
        if unknown:
            raise ConfigurationError(
                f'{where}: unknown key {unknown[0]!r}; expected "name", "reason", "resource"'
            )
        name, reason, resource = entry.get("name"), entry.get("reason", ""), entry.get("resource")
        if not isinstance(name, str) or not isinstance(reason, str):
            raise ConfigurationError(
                f'{where}: "name" and "reason" must be strings, got name = {name!r}'
            )
        if resource is not None and (not isinstance(resource, str) or not resource.strip()):
            raise ConfigurationError(
                f'{where}: "resource" must be a path under the table ("index/by-status") or '
                f"an ARN template, got {resource!r}"
            )
        required = RequiredAction(check_action_name(name, catalog, where), reason, resource)
        check_resource(required, catalog, where)
        if any(a.id.lower() == required.id.lower() for a in actions):
            raise ConfigurationError(f"{where}: {required.id} is listed twice")
        actions.append(required)
    return tuple(actions)


def check_action_name(name: str, catalog: ActionCatalog, where: str) -> str:
    """The action as AWS spells it; refuse one that does not exist, suggesting the near miss."""
    service, sep, action = name.partition(":")
    if not sep or not service or not action:
        raise ConfigurationError(
            f'{where}: {name!r} must be "service:Action", for example "dynamodb:Scan"'
        )
    actions = catalog.actions(service.lower())
    if actions is None:
        hint = _closest(service, catalog.services())
        raise ConfigurationError(f"{where}: {name!r}: unknown service {service!r}{hint}")
    for known in actions:
        if known.lower() == action.lower():
            return f"{service.lower()}:{known}"
    hint = _closest(action, actions)
    raise ConfigurationError(
        f"{where}: {name!r}: {service} has no action {action!r}{hint} "
        "(checked against AWS's IAM action data)"
    )


#: Template placeholders in IAM's ARN formats (escaped for a regular expression).
_PLACEHOLDER_RE = re.compile(r"\\\$\\\{([^}]*)\\\}")
#: What a placeholder stands for: a name, which has no "/" or ":" (a table, an index),
#: except the names AWS lets hold "/" (and an S3 key, anything): S3 object keys
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html), log group and
#: log stream names
#: (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html)
#: and secret names
#: (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html).
_PLACEHOLDER_VALUES = {
    "ObjectName": ".+",
    "LogGroupName": "[^:]+",
    "LogStreamName": "[^:]+",
    "SecretId": "[^:]+",
}


def check_resource(required: RequiredAction, catalog: ActionCatalog, where: str) -> None:
    """Refuse a resource the action does not act on (Scan on a stream, say).

    Without a ``resource`` the action is needed on the table, so it must act on one: an
    action IAM authorises only on ``"*"`` (``dynamodb:ListTables``) checked against the
    table's ARN would pass on a grant that names the table, which IAM would not honour.
    """
    service, _, action = required.name.partition(":")
    if required.resource == "*":
        return
    sample = Target("x", "us-east-1", "123456789012", "table-name", "role", "policy", "bucket")
    try:
        arn = required.arn(sample)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None
    kinds = catalog.resource_types(service, action)
    # A log group in a policy is its ARN and ":*" for most CloudWatch Logs actions
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
    shapes = {arn, arn.removesuffix(":*")} if service == "logs" else {arn}
    for kind in kinds:
        pattern = _PLACEHOLDER_RE.sub(
            lambda m: _PLACEHOLDER_VALUES.get(m.group(1), "[^/:]+"),
            re.escape(catalog.resource_arn(service, kind)),
        )
        if any(re.fullmatch(pattern, s.replace("*", "x").replace("?", "x")) for s in shapes):
            return
    takes = (
        ", ".join(kinds)
        if kinds
        else 'no resource (its Resource is "*"), so name it with resource = "*"'
    )
    what = "the table" if required.resource is None else repr(required.resource)
    raise ConfigurationError(
        f"{where}: {required.name} does not act on {what} ({arn}); it takes "
        f"{takes} (checked against AWS's IAM action data)"
    )


def _closest(word: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    folded = {choice.lower(): choice for choice in choices}
    match = difflib.get_close_matches(word.lower(), list(folded), n=1)
    return f"; did you mean {folded[match[0]]!r}?" if match else ""
