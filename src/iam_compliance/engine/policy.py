"""Parse IAM policy documents into an immutable model.

"String or list" fields are normalised here, once, so nothing downstream has to
care which form a document used. Parsing is strict about what IAM itself rejects
(an Effect of ``"allow"``, Action together with NotAction, an action without a
service prefix) because a checker that silently accepts a document AWS would
refuse gives answers about a policy that cannot exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..errors import PolicyError
from .decoding import json_type, load_document
from .matching import matches_action

Effect = Literal["Allow", "Deny"]
PolicyKind = Literal["managed", "inline", "boundary", "resource"]

#: What IAM accepts as an action: ``*`` or ``service:pattern``.
_ACTION_RE = re.compile(r"^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$")
#: IAM accepts only ASCII letters and digits in an identity policy's Sid.
_SID_RE = re.compile(r"^[A-Za-z0-9]+$")
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
#: The policy language version that has policy variables (``${aws:username}``). Older
#: documents, and documents with no Version (which IAM reads as 2008-10-17), treat ``${``
#: as plain text.
CURRENT_VERSION = "2012-10-17"


@dataclass(frozen=True)
class Condition:
    """One ``operator: {key: values}`` entry of a Condition block."""

    #: The operator as written, with any ``ForAllValues:`` prefix and ``IfExists`` suffix.
    operator: str
    #: The condition key as written (keys are matched case-insensitively).
    key: str
    #: The values, normalised to strings (``true`` becomes ``"true"``).
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One statement of a policy, with string-or-list fields normalised to tuples."""

    #: Position in the document's Statement list, 0-based.
    index: int
    #: The statement's Sid, if it has one.
    sid: str | None
    effect: Effect
    #: ``Action`` patterns, or None when the statement uses ``NotAction``.
    actions: tuple[str, ...] | None
    #: ``NotAction`` patterns, or None when the statement uses ``Action``.
    not_actions: tuple[str, ...] | None
    #: ``Resource`` patterns; None when the statement uses ``NotResource`` or has neither
    #: (trust policies have no Resource).
    resources: tuple[str, ...] | None
    #: ``NotResource`` patterns, or None.
    not_resources: tuple[str, ...] | None
    conditions: tuple[Condition, ...] = ()
    #: The raw Principal of a trust or resource policy statement, None elsewhere.
    principal: Any = None
    #: The raw NotPrincipal of a trust or resource policy statement, None elsewhere.
    not_principal: Any = None

    @property
    def label(self) -> str:
        """How messages name this statement: by Sid when it has one, else by position."""
        return statement_label(self.index, self.sid)

    def covers_action(self, action: str) -> bool:
        """Whether ``action`` is in the statement's Action, or outside its NotAction."""
        if self.actions is not None:
            return any(matches_action(pattern, action) for pattern in self.actions)
        return not any(matches_action(pattern, action) for pattern in self.not_actions or ())


@dataclass(frozen=True)
class Policy:
    """A parsed policy document and where it came from."""

    #: Policy name (inline policies: the name on the role).
    name: str
    kind: PolicyKind
    statements: tuple[Statement, ...]
    #: The document exactly as read, for fix planning and reports.
    document: Mapping[str, Any] = field(compare=False, repr=False)
    #: Version id (``v3``) of a managed or boundary policy's default version.
    version: str | None = None
    #: ARN of a managed or boundary policy.
    arn: str | None = None

    @property
    def has_variables(self) -> bool:
        """Whether ``${...}`` in this document is a policy variable (version 2012-10-17)."""
        return self.document.get("Version") == CURRENT_VERSION

    @property
    def label(self) -> str:
        """How messages name this policy: ``MLPlatformECSTaskPolicy v3``, ``inline policy X``."""
        return policy_label(self.name, self.kind, self.version)


# Labels are how evidence, findings and the reports name a policy and a statement; the
# reports carry nothing else, so a label is read back into the statement it names
# (a source file's line) by the inverse below, never by spelling its format out again.


def statement_label(index: int, sid: str | None) -> str:
    """``statement "DynamoDBJobs"`` for a statement with a Sid, else ``statement #2``."""
    return f'statement "{sid}"' if sid else f"statement #{index + 1}"


def labelled_statement(label: str) -> int | str | None:
    """What :func:`statement_label` made ``label`` from: the statement's position (0-based)
    when it has no Sid, else its Sid; None for a label it did not make."""
    if label.startswith('statement "') and label.endswith('"') and len(label) > len('statement ""'):
        return label[len('statement "') : -1]
    number = label.removeprefix("statement #")
    if number != label and number.isdigit() and int(number) > 0:
        return int(number) - 1
    return None


def policy_label(name: str, kind: PolicyKind, version: str | None = None) -> str:
    """``MLPlatformECSTaskPolicy v3``, ``inline policy X``, ``permissions boundary B v1``, or
    a resource policy's name."""
    if kind == "inline":
        return f"inline policy {name}"
    if kind == "resource":
        return name
    prefix = "permissions boundary " if kind == "boundary" else ""
    suffix = f" {version}" if version else ""
    return f"{prefix}{name}{suffix}"


def labels_policy(label: str, name: str, kind: PolicyKind) -> bool:
    """Whether :func:`policy_label` names the policy ``name`` of ``kind`` by ``label``,
    at any version."""
    base = policy_label(name, kind)
    return label == base or (kind in ("managed", "boundary") and label.startswith(f"{base} v"))


def parse_policy(
    document: str | Mapping[str, Any],
    *,
    name: str,
    kind: PolicyKind = "managed",
    version: str | None = None,
    arn: str | None = None,
    origin: str | None = None,
    trust: bool = False,
) -> Policy:
    """Parse a policy document (JSON text or an already decoded object).

    ``origin`` names the document in error messages; it defaults to the policy's
    label. ``trust=True`` parses a role trust policy: Principal is expected and
    Resource is not. A ``kind="resource"`` policy (a table's resource-based policy) has
    both.
    """
    where = origin or (f"{name} {version}" if version else name)
    raw = load_document(document, where) if isinstance(document, str) else document
    if not isinstance(raw, Mapping):
        raise PolicyError(where, f"document must be a JSON object, got {json_type(raw)}")
    if "Statement" not in raw:
        raise PolicyError(where, 'no "Statement": a policy needs at least one statement')
    body = raw["Statement"]
    items = [body] if isinstance(body, Mapping) else body
    if not isinstance(items, list) or not items:
        raise PolicyError(where, '"Statement" must be an object or a non-empty list of objects')
    statements = tuple(
        _parse_statement(item, index, where, trust, kind == "resource")
        for index, item in enumerate(items)
    )
    return Policy(
        name=name,
        kind=kind,
        statements=statements,
        document=raw,
        version=version,
        arn=arn,
    )


def _parse_statement(
    item: Any, index: int, where: str, trust: bool, resource_policy: bool
) -> Statement:
    at = f"{where}: statement #{index + 1}"
    if not isinstance(item, Mapping):
        raise PolicyError(at, f"must be a JSON object, got {json_type(item)}")
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(at, f"Sid must be a string, got {json_type(sid)}")
    if sid and not (trust or resource_policy) and not _SID_RE.fullmatch(sid):
        raise PolicyError(at, f"Sid may hold only ASCII letters and digits, got {sid!r}")
    if sid:
        at = f'{where}: statement "{sid}"'
    unknown = sorted(set(item) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyError(at, f"unknown element {unknown[0]!r}")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(at, f'Effect must be "Allow" or "Deny", got {json.dumps(effect)}')
    actions = _patterns(item, "Action", at)
    not_actions = _patterns(item, "NotAction", at)
    if (actions is None) == (not_actions is None):
        raise PolicyError(at, "needs exactly one of Action or NotAction")
    for action in actions or not_actions or ():
        # fullmatch: with match, "$" also accepts a trailing newline.
        if not _ACTION_RE.fullmatch(action):
            raise PolicyError(
                at,
                f'action {action!r} must be "*" or "service:action" '
                '(for example "dynamodb:GetItem")',
            )
    resources = _patterns(item, "Resource", at)
    not_resources = _patterns(item, "NotResource", at)
    if resources is not None and not_resources is not None:
        raise PolicyError(at, "cannot have both Resource and NotResource")
    if not trust and resources is None and not_resources is None:
        raise PolicyError(at, "needs one of Resource or NotResource")
    if not (trust or resource_policy) and ("Principal" in item or "NotPrincipal" in item):
        raise PolicyError(at, "an identity policy statement cannot have a Principal")
    if resource_policy and ("Principal" in item) == ("NotPrincipal" in item):
        raise PolicyError(
            at, "a resource policy statement needs exactly one of Principal or NotPrincipal"
        )
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        conditions=_conditions(item.get("Condition"), at),
        principal=item.get("Principal"),
        not_principal=item.get("NotPrincipal"),
    )


def _patterns(item: Mapping[str, Any], key: str, at: str) -> tuple[str, ...] | None:
    if key not in item:
        return None
    value = item[key]
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise PolicyError(
            at, f"{key} must be a non-empty string or list of strings, got {json.dumps(value)}"
        )
    return tuple(values)


def _conditions(block: Any, at: str) -> tuple[Condition, ...]:
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        raise PolicyError(at, f"Condition must be an object, got {json_type(block)}")
    found: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyError(
                at, f"Condition operator {operator!r} must map condition keys to values"
            )
        for key, value in keys.items():
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, (str, bool, int, float)) for v in values):
                raise PolicyError(
                    at,
                    f"Condition {operator} {key}: values must be strings, numbers or "
                    f"booleans, got {json.dumps(value)}",
                )
            found.append(Condition(operator, key, tuple(_condition_value(v) for v in values)))
    return tuple(found)


def _condition_value(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class RolePolicies:
    """Every identity-side policy that applies to a role's requests."""

    #: Attached managed policies (default versions) and inline policies.
    identity: tuple[Policy, ...]
    #: The permissions boundary, if the role has one.
    boundary: Policy | None = None


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a managed policy, as IAM lists it."""

    #: The version id, ``v3``.
    version_id: str
    is_default: bool
    #: IAM's CreateDate; decides which version is the oldest.
    created: datetime
