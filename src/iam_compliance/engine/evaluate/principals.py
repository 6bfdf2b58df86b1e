"""Whom a resource or trust policy statement names, and whether that is the requester.

The requester here is a session of the task role: ECS assumes the role and the
containers sign their requests with the session's credentials. A statement's Principal
can name that requester in several ways, and they mean different things
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):

* the role's ARN (or its unique id, ``AROA...``): the role, and so every session of it;
* a session ARN (``arn:aws:sts::<account>:assumed-role/<role>/<session>``): one session.
  The session name ECS uses is not known here, so such a statement *might* name the
  requester;
* the account (``123456789012`` or ``arn:aws:iam::123456789012:root``): the account
  delegates to its own identities' policies; the statement grants nothing by itself, but
  a Deny that names the account applies to every principal in it;
* ``"*"`` or ``{"AWS": "*"}``: everyone;
* anything else (another account's entities, a service, a federated provider): not the
  requester.

``NotPrincipal`` is not evaluated: a statement with one *might* apply.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..policy import Statement


class Naming(enum.Enum):
    """How a statement's Principal names the requester, strongest first."""

    ROLE = "the role"
    EVERYONE = "everyone"
    #: A session ARN of the role whose session name cannot be known, or a NotPrincipal.
    MAYBE = "possibly this session"
    ACCOUNT = "the account"
    NONE = "someone else"


@dataclass(frozen=True)
class Requester:
    """Who makes the request: a session of the task role, in the role's account."""

    #: The role's ARN, path included (``arn:aws:iam::123456789012:role/MLPlatformECSTaskRole``).
    role_arn: str
    account: str
    #: The role's unique id (``AROA...``), when known.
    role_id: str | None = None

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def partition(self) -> str:
        return self.role_arn.split(":", 2)[1]


_SESSION_RE = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")


def names_requester(statement: Statement, requester: Requester) -> tuple[Naming, str | None]:
    """How ``statement`` names ``requester``, with a note when it only might."""
    if statement.not_principal is not None:
        return Naming.MAYBE, "the statement uses NotPrincipal, which is not evaluated"
    namings = [_naming(value, requester) for value in _aws_values(statement.principal)]
    best = min(namings, key=list(Naming).index, default=Naming.NONE)
    note = None
    if best is Naming.MAYBE:
        note = (
            f"the statement names a session of {requester.role_name}; the session name ECS "
            "gives the containers' credentials is not known here"
        )
    return best, note


def names_service(statement: Statement, service: str) -> bool | None:
    """Whether ``statement``'s Principal names the service principal ``service``.

    None for a NotPrincipal, which is not evaluated.
    """
    if statement.not_principal is not None:
        return None
    principal = statement.principal
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _as_list(principal.get("AWS")):
        return True
    return service in _as_list(principal.get("Service"))


def names_everyone(statement: Statement) -> bool:
    """Whether the Principal is ``"*"`` or ``{"AWS": "*"}``."""
    return "*" in _aws_values(statement.principal)


def _naming(value: str, requester: Requester) -> Naming:
    if value == "*":
        return Naming.EVERYONE
    if value == requester.role_arn or (requester.role_id and value == requester.role_id):
        return Naming.ROLE
    root = f"arn:{requester.partition}:iam::{requester.account}:root"
    if value in (requester.account, root):
        return Naming.ACCOUNT
    session = _SESSION_RE.match(value)
    if (
        session
        and session.group(2) == requester.account
        and (session.group(3) == requester.role_name)
    ):
        return Naming.MAYBE
    return Naming.NONE


def _aws_values(principal: object) -> list[str]:
    """The ``AWS`` principals of a Principal element (``"*"`` counts as ``{"AWS": "*"}``)."""
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return _as_list(principal.get("AWS"))
    return []


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
