"""From an API call to the IAM actions it needs, on which resources: data, then translation.

The data is ``calls.toml`` beside this module (its header explains the format), read once
and only when a run records. An operation it does not list is recorded by its name
(``service:OperationName``) on ``*`` and noted ``UNMAPPED``: never guessed silently.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..errors import ConfigurationError
from .model import NOTES, Access, ApiCall, Note, Scope
from .resources import KINDS, Located, Reader, Unreadable

DATA_FILE = "calls.toml"
_RULE_KEYS = frozenset(
    {"action", "versioned", "verbs", "resource", "each", "when", "unless", "note"}
)


@dataclass(frozen=True)
class Rule:
    """One IAM action an operation needs, and where (see ``calls.toml``)."""

    #: A kind of :data:`.resources.KINDS`.
    resource: str
    action: str | None = None
    #: The action when the call names an object version.
    versioned: str | None = None
    #: PartiQL: verb -> action.
    verbs: Mapping[str, str] | None = None
    #: The path of the parameter whose items the rule applies to, one by one.
    each: str | None = None
    when: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    #: A note id written beside every entry the rule makes.
    note: str | None = None
    #: The kind's slots -> the parameter each reads.
    slots: Mapping[str, str] = field(default_factory=dict)

    @property
    def actions(self) -> tuple[str, ...]:
        """Every action the rule may record."""
        found = [a for a in (self.action, self.versioned) if a is not None]
        return (*found, *(self.verbs or {}).values())


@dataclass(frozen=True)
class Service:
    """One botocore service's operations."""

    #: The IAM service prefix (``dynamodb``).
    prefix: str
    #: Where the mapping comes from: AWS's reference pages.
    sources: tuple[str, ...]
    #: Operation name (as botocore spells it) -> its rules.
    operations: Mapping[str, tuple[Rule, ...]]


@functools.cache
def load_mapping() -> Mapping[str, Service]:
    """The bundled mapping, read once per process."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_mapping(text, DATA_FILE)


def parse_mapping(text: str, label: str) -> dict[str, Service]:
    """Read and check a mapping document (``calls.toml``'s format)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{label}: not valid TOML: {exc}") from None
    services: dict[str, Service] = {}
    for name, body in data.items():
        where = f"{label}: [{name}]"
        if not isinstance(body, dict) or not isinstance(body.get("operations"), dict):
            raise ConfigurationError(f"{where}: expected a table with prefix, sources, operations")
        prefix, sources = body.get("prefix"), body.get("sources")
        if not isinstance(prefix, str) or not isinstance(sources, list) or not sources:
            raise ConfigurationError(f"{where}: expected a prefix and the sources it cites")
        operations = {
            operation: tuple(
                _rule(entry, f"{where} {operation} rule #{n}")
                for n, entry in enumerate(_rules(rules, f"{where} {operation}"), 1)
            )
            for operation, rules in body["operations"].items()
        }
        services[name] = Service(prefix, tuple(str(s) for s in sources), operations)
    return services


def _rules(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ConfigurationError(f"{where}: expected a list of rules")
    return value


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected a table, got {entry!r}")
    kind = KINDS.get(str(entry.get("resource")))
    if kind is None:
        raise ConfigurationError(
            f"{where}: resource must be one of {', '.join(KINDS)}; got {entry.get('resource')!r}"
        )
    unknown = sorted(set(entry) - _RULE_KEYS - set(kind.slots))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key {unknown[0]!r}")
    verbs = entry.get("verbs")
    if (entry.get("action") is None) == (verbs is None):
        raise ConfigurationError(f"{where}: expected either action or verbs")
    note = entry.get("note")
    if note is not None and note not in NOTES:
        raise ConfigurationError(f"{where}: unknown note {note!r}")
    return Rule(
        resource=str(entry["resource"]),
        action=entry.get("action"),
        versioned=entry.get("versioned"),
        verbs=dict(verbs) if verbs is not None else None,
        each=entry.get("each"),
        when=_names(entry.get("when")),
        unless=_names(entry.get("unless")),
        note=note,
        slots={**kind.slots, **{k: str(v) for k, v in entry.items() if k in kind.slots}},
    )


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def translate(
    call: ApiCall, scope: Scope, mapping: Mapping[str, Service] | None = None
) -> tuple[Access, ...]:
    """What IAM needs for ``call``: each action on each resource, in the rules' order."""
    mapping = load_mapping() if mapping is None else mapping
    service = mapping.get(call.service)
    rules = service.operations.get(call.operation) if service is not None else None
    prefix = service.prefix if service is not None else call.prefix
    if rules is None:
        return (Access(f"{prefix}:{call.operation}", "*", call.name, (Note("UNMAPPED"),)),)
    found: list[Access] = []
    for rule in rules:
        for item in _items(call.params, rule.each):
            read = Reader(item, call, rule.slots)
            if rule.when and not any(read.given(p) for p in rule.when):
                continue
            if any(read.given(p) for p in rule.unless):
                continue
            found.append(_access(rule, read, scope, prefix))
    return tuple(found)


def _access(rule: Rule, read: Reader, scope: Scope, prefix: str) -> Access:
    call = read.call
    static = (Note(rule.note),) if rule.note else ()
    try:
        located = KINDS[rule.resource].locate(read, scope)
    except Unreadable as exc:
        if rule.verbs is not None:
            return Access(
                f"{prefix}:{call.operation}", "*", call.name, (Note("UNMAPPED", str(exc)),)
            )
        located = Located("*", notes=(Note("UNREADABLE", str(exc)),))
    if rule.verbs is not None:
        action = rule.verbs.get(located.verb or "")
        if action is None:  # a statement the reader does not know: not guessed
            notes = located.notes
            if not any(note.id == "UNMAPPED" for note in notes):
                notes = (*notes, Note("UNMAPPED", f"verb {located.verb!r}"))
            return Access(f"{prefix}:{call.operation}", located.arn, call.name, notes)
    elif located.version and rule.versioned is not None:
        action = rule.versioned
    else:
        action = rule.action or ""
    return Access(action, located.arn, call.name, (*static, *located.notes))


def _items(params: Mapping[str, Any], path: str | None) -> Iterator[Any]:
    """The values ``path`` reaches in ``params``: ``A[]`` each element, ``M{}`` each key,
    ``.B`` a member (missing members are skipped)."""
    if path is None:
        yield params
        return
    values: list[Any] = [params]
    for segment in path.split("."):
        name, suffix = segment.rstrip("[]{}"), segment[len(segment.rstrip("[]{}")) :]
        reached = [v.get(name) for v in values if isinstance(v, Mapping)]
        values = []
        for value in reached:
            if suffix == "[]":
                values.extend(value if isinstance(value, list | tuple) else ())
            elif suffix == "{}":
                values.extend(value if isinstance(value, Mapping) else ())
            elif value is not None:
                values.append(value)
    yield from values
