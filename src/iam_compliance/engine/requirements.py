"""The actions a workload needs, read from data (fixtures/required_actions.toml), not code.

Names are checked against the service's real operations (the ``catalog`` is
injected; the AWS adapter supplies botocore's service model), so ``dynamodb:Scann`` or
``dyanmodb:Scan`` stop the run at start instead of producing a test that can never pass.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import ConfigurationError


class ServiceCatalog(Protocol):
    """What services and operations exist (the AWS adapter reads botocore's models)."""

    def services(self) -> frozenset[str]: ...

    def operations(self, service: str) -> frozenset[str] | None: ...


@dataclass(frozen=True)
class RequiredAction:
    #: The IAM action, ``dynamodb:Scan``.
    name: str
    #: Why the workload needs it, shown with every verdict.
    reason: str


def load_requirements(path: Path, catalog: ServiceCatalog) -> tuple[RequiredAction, ...]:
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
        name, reason = entry.get("name"), entry.get("reason", "")
        if not isinstance(name, str) or not isinstance(reason, str):
            raise ConfigurationError(f'{where}: "name" and "reason" must be strings')
        check_action_name(name, catalog, where)
        if any(a.name.lower() == name.lower() for a in actions):
            raise ConfigurationError(f"{where}: {name} is listed twice")
        actions.append(RequiredAction(name, reason))
    return tuple(actions)


def check_action_name(name: str, catalog: ServiceCatalog, where: str) -> None:
    """Refuse an action whose service or operation does not exist, suggesting the near miss."""
    service, sep, operation = name.partition(":")
    if not sep or not service or not operation:
        raise ConfigurationError(
            f'{where}: {name!r} must be "service:Operation", for example "dynamodb:Scan"'
        )
    operations = catalog.operations(service)
    if operations is None:
        hint = _closest(service, catalog.services())
        raise ConfigurationError(f"{where}: {name!r}: unknown service {service!r}{hint}")
    if operation not in operations:
        hint = _closest(operation, operations)
        raise ConfigurationError(
            f"{where}: {name!r}: {service} has no operation {operation!r}{hint} "
            "(checked against botocore's service model)"
        )


def _closest(word: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""
