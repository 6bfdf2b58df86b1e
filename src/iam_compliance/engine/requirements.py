"""What a workload needs, what it must never do, and whom its role serves, read from data
(fixtures/required_actions.toml).

Each ``[[action]]`` has a ``name`` (``dynamodb:Query``), a ``reason``, and optionally a
``resource``: a path under the table's ARN (``index/by-status``, ``index/*`` for every
index) or a whole ARN template (``arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:...``).
Without one, the action is needed on the table. Each ``[[forbid]]`` has the same fields
and names an action the workload's role must never be able to do there. The
``[workload]`` table names the service principal the role's trust policy must let in
(``trusted_service``, ECS's by default).

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import ConfigurationError
from .matching import overlaps_resource
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
class ActionOnResource:
    """An entry of the requirements file: an action on a resource, and why."""

    #: The IAM action, ``dynamodb:Scan``, as AWS spells it.
    name: str
    #: Why: what the workload needs it for, or why it must never be possible.
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


@dataclass(frozen=True)
class RequiredAction(ActionOnResource):
    """An ``[[action]]``: the workload needs it; its reason is what for."""


@dataclass(frozen=True)
class ForbiddenAction(ActionOnResource):
    """A ``[[forbid]]``: the workload's role must never be able to do it; its reason is why."""


#: The service principal a task role's trust policy must let in: ECS's, which assumes it
#: for the containers.
DEFAULT_TRUSTED_SERVICE = "ecs-tasks.amazonaws.com"
#: A service principal's name: "usually in the following format: service-name.amazonaws.com"
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services),
#: lower-case, as the Principal element names it; ``.amazonaws.com.cn`` in the China regions.
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.amazonaws\.com(?:\.cn)?")


@dataclass(frozen=True)
class Workload:
    """Everything the requirements file says about the workload."""

    #: The ``[[action]]`` entries, in the file's order.
    required: tuple[RequiredAction, ...]
    #: The ``[[forbid]]`` entries, in the file's order.
    forbidden: tuple[ForbiddenAction, ...] = ()
    #: The service principal the role's trust policy must let assume it.
    trusted_service: str = DEFAULT_TRUSTED_SERVICE


def resource_arn(resource: str | None, target: Target) -> str:
    if resource is None:
        return target.table_arn
    if resource == "*" or resource.startswith("arn:"):
        return fill_placeholders(resource, target, f"resource {resource!r}")
    return f"{target.table_arn}/{resource}"


def load_requirements(path: Path, catalog: ActionCatalog) -> tuple[RequiredAction, ...]:
    """Read and check the requirements file: its required actions."""
    return load_workload(path, catalog).required


#: The tables of the requirements file.
_TABLES = {"action": "[[action]]", "forbid": "[[forbid]]", "workload": "[workload]"}


def load_workload(path: Path, catalog: ActionCatalog) -> Workload:
    """Read and check the requirements file: required and forbidden actions, the workload."""
    label = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{label}: required actions file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{label}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{label}: not valid TOML: {exc}") from None
    # A misspelt table ([[forbidden]]) would otherwise forbid nothing, silently.
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        raise ConfigurationError(
            f"{label}: unknown key {unknown[0]!r}; expected {', '.join(_TABLES.values())}"
        )
    entries = data.get("action")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f'{label}: expected one or more [[action]] tables with "name"')
    forbids = data.get("forbid", [])
    if not isinstance(forbids, list):
        raise ConfigurationError(f'{label}: expected [[forbid]] tables with "name"')
    required = tuple(
        RequiredAction(*fields) for fields in _entries(entries, "action", label, catalog)
    )
    forbidden = tuple(
        ForbiddenAction(*fields) for fields in _entries(forbids, "forbid", label, catalog)
    )
    return Workload(required, forbidden, _trusted_service(data.get("workload", {}), label))


def _entries(
    entries: list[object], table: str, label: str, catalog: ActionCatalog
) -> list[tuple[str, str, str | None]]:
    """Each entry's name (as AWS spells it), reason and resource, checked."""
    found: list[ActionOnResource] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{label}: {table} #{number}"
        if not isinstance(entry, dict):
            raise ConfigurationError(
                f'{where}: expected an [[{table}]] table with "name", got {entry!r}'
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
        checked = ActionOnResource(check_action_name(name, catalog, where), reason, resource)
        check_resource(checked, catalog, where)
        if any(a.id.lower() == checked.id.lower() for a in found):
            raise ConfigurationError(f"{where}: {checked.id} is listed twice")
        found.append(checked)
    return [(a.name, a.reason, a.resource) for a in found]


def _trusted_service(table: object, label: str) -> str:
    """``[workload]``'s ``trusted_service``: a service principal's name."""
    if not isinstance(table, dict):
        raise ConfigurationError(f'{label}: [workload] must be a table with "trusted_service"')
    unknown = sorted(set(table) - {"trusted_service"})
    if unknown:
        raise ConfigurationError(
            f'{label}: [workload]: unknown key {unknown[0]!r}; expected "trusted_service"'
        )
    service = table.get("trusted_service", DEFAULT_TRUSTED_SERVICE)
    if not isinstance(service, str) or not _SERVICE_PRINCIPAL.fullmatch(service):
        raise ConfigurationError(
            f"{label}: [workload] trusted_service must be a service principal such as "
            f'"lambda.amazonaws.com" or "{DEFAULT_TRUSTED_SERVICE}", got {service!r}'
        )
    return service


def check_overlaps(workload: Workload, targets: Sequence[Target], label: str) -> None:
    """Refuse a requirement and a forbid of one action on resources that overlap: no role
    can both allow and never allow the same request, so the file contradicts itself."""
    for target in targets:
        for forbid in workload.forbidden:
            for required in workload.required:
                if required.name.lower() != forbid.name.lower():
                    continue
                needed, never = required.arn(target), forbid.arn(target)
                # None: they overlap only if letter case is ignored, which AWS does not
                # document; treated as an overlap, so that no request is both.
                if overlaps_resource(needed, never) is not False:
                    raise ConfigurationError(
                        f"{label}: [[action]] {required.id} ({needed}) and [[forbid]] "
                        f"{forbid.id} ({never}) overlap: the same request cannot be both "
                        "required and forbidden; narrow one of them"
                    )


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


def check_resource(required: ActionOnResource, catalog: ActionCatalog, where: str) -> None:
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
