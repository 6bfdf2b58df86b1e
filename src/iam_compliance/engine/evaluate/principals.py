"""Whom a resource or trust policy statement names, and whether that is the requester.

The requester is one of two principals (:data:`Requester`), and one evaluator judges both
(:func:`.evaluation.evaluate`), as IAM does with whoever signs a request:

* a session of the task role (:class:`RoleSession`): ECS assumes the role and the
  containers sign their requests with the session's credentials;
* a service principal (:class:`ServicePrincipal`): ECS itself, ``ecs-tasks.amazonaws.com``,
  when it calls ``sts:AssumeRole`` on the task role, whose trust policy is then the
  resource policy (the trust check, :mod:`.trust`).

A statement's Principal can name a role session in several ways, and they mean different
things
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

A service principal is named by ``{"Service": "<its name>"}`` (alone or in a list), or as
one of everyone by ``"*"`` and ``{"AWS": "*"}``; an account or a role names no service.

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

    #: The requester itself: the role (and so every session of it), or the service.
    REQUESTER = "the requester"
    EVERYONE = "everyone"
    #: A session ARN of the role whose session name cannot be known, or a NotPrincipal.
    MAYBE = "possibly this session"
    ACCOUNT = "the account"
    NONE = "someone else"


@dataclass(frozen=True)
class RoleSession:
    """A session of a role, in the role's account: the task role's, whose credentials the
    containers sign their requests with."""

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


@dataclass(frozen=True)
class ServicePrincipal:
    """An AWS service acting as itself, as ECS does when it assumes the task role."""

    #: The service principal's name, ``ecs-tasks.amazonaws.com``.
    name: str


#: Who makes the request.
Requester = RoleSession | ServicePrincipal

_SESSION_RE = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")


def names_requester(statement: Statement, requester: Requester) -> tuple[Naming, str | None]:
    """How ``statement`` names ``requester``, with a note when it only might."""
    if statement.not_principal is not None:
        return Naming.MAYBE, "the statement uses NotPrincipal, which is not evaluated"
    if isinstance(requester, ServicePrincipal):
        return _service_naming(statement.principal, requester), None
    namings = [_naming(value, requester) for value in _aws_values(statement.principal)]
    best = min(namings, key=list(Naming).index, default=Naming.NONE)
    note = None
    if best is Naming.MAYBE:
        note = (
            f"the statement names a session of {requester.role_name}; the session name ECS "
            "gives the containers' credentials is not known here"
        )
    return best, note


def _service_naming(principal: object, service: ServicePrincipal) -> Naming:
    """A service is named by its own ``Service`` entry, or as one of everyone."""
    if isinstance(principal, Mapping) and service.name in _as_list(principal.get("Service")):
        return Naming.REQUESTER
    return Naming.EVERYONE if "*" in _aws_values(principal) else Naming.NONE


def _naming(value: str, requester: RoleSession) -> Naming:
    if value == "*":
        return Naming.EVERYONE
    if value == requester.role_arn or (requester.role_id and value == requester.role_id):
        return Naming.REQUESTER
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
