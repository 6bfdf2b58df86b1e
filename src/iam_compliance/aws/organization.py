"""Read the organization's guardrails: the path from the root to an account, with the
service control policies and resource control policies attached at each level.

In AWS only the management account or a delegated administrator may read these, so the
reads go through a connection of their own (``ORG_READ_PROFILE`` or
``ORG_READ_ROLE_ARN``, else the target's). Everything read is cached per account, per OU
and per policy for the whole run: a hundred targets in one account read it once.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ..engine.evaluate.guardrails import (
    Guardrails,
    GuardrailsSetting,
    Kind,
    Level,
    LevelKind,
    Reading,
    attached,
)
from ..engine.policy import Policy, parse_policy
from ..engine.target import Credentials, Target
from ..errors import AwsError, ConfigurationError
from .adapter import calling
from .connection import Connection, Sessions

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
_NOT_IN_USE = "AWSOrganizationsNotInUseException"


NOT_A_MEMBER = "the account is not a member of an AWS Organization"


class NotInOrganizationError(AwsError):
    """The account is not a member of an AWS Organization."""


class OrganizationReader:
    """Reads and caches one organization's structure and policies, for many targets."""

    def __init__(
        self,
        connection: Connection,
        *,
        rcp_services: frozenset[str] = frozenset(),
    ) -> None:
        self._client: Any = connection.client("organizations")
        self._sts: Any = connection.client("sts")
        self._rcp_services = rcp_services
        self._lock = threading.Lock()
        self._organization: dict[str, Any] | None = None
        self._not_a_member = False
        self._read_by: str | None = None
        self._parents: dict[str, tuple[str, str]] = {}
        self._names: dict[str, str] = {}
        self._attached: dict[tuple[str, str], list[str]] = {}
        self._policies: dict[tuple[str, str], Policy] = {}
        self._contents: dict[str, tuple[str, str]] = {}
        self._root_list: list[dict[str, Any]] | None = None

    def organization(self) -> dict[str, Any]:
        """The organization (``Id``, ``MasterAccountId``): organizations:DescribeOrganization."""
        with self._lock:
            return self._describe()

    def known_organization_id(self) -> str | None:
        """The organization's id, if DescribeOrganization has answered."""
        return None if self._organization is None else str(self._organization["Id"])

    def guardrails(self, account: str, resource_account: str) -> Guardrails:
        """The SCP path of ``account`` and the RCP path of ``resource_account``."""
        with self._lock:
            organization = self._describe()
            types = {
                t["Type"]
                for t in self._roots()[0].get("PolicyTypes", [])
                if t["Status"] == "ENABLED"
            }
            path = self._path(account)
            scps = self._levels(path, "scp") if SCP in types else ()
            resource_path = path if resource_account == account else self._path(resource_account)
            rcps = self._levels(resource_path, "rcp") if RCP in types else ()
            ids = [level_id for level_id, _ in reversed(path) if level_id != account]
            return Guardrails(
                organization_id=organization["Id"],
                management_account=organization["MasterAccountId"],
                account=account,
                scps=scps,
                rcps=rcps,
                path="/".join([organization["Id"], *ids]) + "/",
                read_by=self._identity(),
                rcp_services=self._rcp_services,
            )

    # -- reads, each cached --------------------------------------------------------------

    def _describe(self) -> dict[str, Any]:
        if self._not_a_member:
            raise NotInOrganizationError(NOT_A_MEMBER)
        if self._organization is None:
            with calling("organizations:DescribeOrganization", "*"):
                try:
                    answer = self._client.describe_organization()
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == _NOT_IN_USE:
                        # An answer too: every target read through this reader gets it.
                        self._not_a_member = True
                        raise NotInOrganizationError(NOT_A_MEMBER) from None
                    raise
            self._organization = answer["Organization"]
        return self._organization

    def _identity(self) -> str:
        if self._read_by is None:
            with calling("sts:GetCallerIdentity", "*"):
                self._read_by = str(self._sts.get_caller_identity()["Arn"])
        return self._read_by

    def _roots(self) -> list[dict[str, Any]]:
        if self._root_list is None:
            with calling("organizations:ListRoots", "*"):
                self._root_list = list(self._client.list_roots()["Roots"])
            for root in self._root_list:
                self._names[root["Id"]] = root.get("Name", "Root")
        return self._root_list

    def _path(self, account: str) -> list[tuple[str, LevelKind]]:
        """The account, then each parent up to the root: ``[(id, kind), ...]``."""
        path: list[tuple[str, LevelKind]] = [(account, "account")]
        child = account
        while True:
            if child not in self._parents:
                with calling("organizations:ListParents", child):
                    [parent] = self._client.list_parents(ChildId=child)["Parents"]
                self._parents[child] = (parent["Id"], parent["Type"])
            parent_id, kind = self._parents[child]
            if kind == "ROOT":
                path.append((parent_id, "root"))
                return path
            path.append((parent_id, "ou"))
            child = parent_id

    def _levels(self, path: list[tuple[str, LevelKind]], kind: Kind) -> tuple[Level, ...]:
        """The levels from the root down to the account, with the policies of ``kind``."""
        levels = []
        for level_id, level_kind in reversed(path):
            name = self._name(level_id, level_kind)
            label = Level(level_kind, level_id, name, ()).label
            policies = tuple(
                self._policy(policy_id, kind, label)
                for policy_id in self._attached_to(level_id, kind)
            )
            levels.append(Level(level_kind, level_id, name, policies))
        return tuple(levels)

    def _name(self, level_id: str, kind: LevelKind) -> str:
        if kind == "account":
            return level_id
        if kind == "root":
            self._roots()
            return self._names.get(level_id, "Root")
        if level_id not in self._names:
            with calling("organizations:DescribeOrganizationalUnit", level_id):
                unit = self._client.describe_organizational_unit(OrganizationalUnitId=level_id)
            self._names[level_id] = unit["OrganizationalUnit"]["Name"]
        return self._names[level_id]

    def _attached_to(self, target: str, kind: Kind) -> list[str]:
        key = (target, kind)
        if key not in self._attached:
            found: list[str] = []
            with calling("organizations:ListPoliciesForTarget", target):
                for page in self._client.get_paginator("list_policies_for_target").paginate(
                    TargetId=target, Filter=SCP if kind == "scp" else RCP
                ):
                    found.extend(p["Id"] for p in page["Policies"])
            self._attached[key] = found
        return self._attached[key]

    def _policy(self, policy_id: str, kind: Kind, level_label: str) -> Policy:
        if policy_id not in self._contents:
            with calling("organizations:DescribePolicy", policy_id):
                policy = self._client.describe_policy(PolicyId=policy_id)["Policy"]
            self._contents[policy_id] = (
                policy["PolicySummary"]["Name"],
                policy["Content"],
            )
        key = (policy_id, level_label)
        if key not in self._policies:
            name, content = self._contents[policy_id]
            self._policies[key] = parse_policy(
                content,
                name=attached(name, kind, level_label),
                kind="resource" if kind == "rcp" else "managed",
                origin=f"{kind.upper()} {name} ({policy_id})",
            )
        return self._policies[key]


class GuardrailSource:
    """The guardrails of each target, read as ``--guardrails`` says.

    ``auto``: read them when the organization can be read, else say why not; ``required``:
    a target whose guardrails cannot be read cannot be checked (exit 4); ``off``: never
    read. Readers are shared by every target read through the same identity.
    """

    def __init__(
        self,
        mode: GuardrailsSetting,
        connection_of: Callable[[Target], Connection | None],
        *,
        rcp_services: frozenset[str] = frozenset(),
    ) -> None:
        self.mode = mode
        self._connection_of = connection_of
        self._rcp_services = rcp_services
        self._readers: dict[tuple[str | None, ...], OrganizationReader | None] = {}
        self._lock = threading.Lock()

    def read(self, target: Target) -> Reading:
        if self.mode == "off":
            return Reading("off", "--guardrails off")
        try:
            reader = self._reader(target)
        except AwsError as exc:
            return self._unreadable(target, str(exc), None)
        if reader is None:
            return self._unreadable(target, f"account {target.account_id}: {NOT_A_MEMBER}", None)
        try:
            guardrails = reader.guardrails(target.account_id, target.account_id)
        except NotInOrganizationError as exc:
            return self._unreadable(target, f"account {target.account_id}: {exc}", None)
        except AwsError as exc:
            return self._unreadable(target, str(exc), reader.known_organization_id())
        return Reading("checked", guardrails=guardrails, organization_id=guardrails.organization_id)

    def _unreadable(self, target: Target, reason: str, organization_id: str | None) -> Reading:
        if self.mode == "required":
            raise ConfigurationError(
                f"--guardrails required: the organization's guardrails of target "
                f"{target.name} could not be read: {reason}"
            )
        return Reading("not checked", reason, organization_id=organization_id)

    def _reader(self, target: Target) -> OrganizationReader | None:
        """The reader of ``target``'s organization; None when it is known to be in none."""
        key = (
            target.org_read_role_arn,
            target.org_read_profile,
            target.profile,
            target.credentials.access_key_id if target.credentials else None,
            target.endpoint_url,
        )
        with self._lock:
            if key not in self._readers:
                connection = self._connection_of(target)
                self._readers[key] = (
                    None
                    if connection is None
                    else OrganizationReader(connection, rcp_services=self._rcp_services)
                )
            return self._readers[key]


def live_connection(sessions: Sessions, target: Target) -> Connection:
    """The identity that reads ``target``'s organization: ORG_READ_ROLE_ARN (assumed with
    the target's credentials), else ORG_READ_PROFILE, else the target's own."""
    if target.org_read_role_arn:
        base = sessions.live(target)
        with calling("sts:AssumeRole", target.org_read_role_arn):
            answer = base.client("sts").assume_role(
                RoleArn=target.org_read_role_arn, RoleSessionName="iam-compliance-guardrails"
            )["Credentials"]
        credentials = Credentials(
            answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"]
        )
        return Connection(base.session, target.region, credentials, target.endpoint_url)
    if target.org_read_profile:
        reader = dataclasses.replace(target, profile=target.org_read_profile, credentials=None)
        return sessions.live(reader)
    return sessions.live(target)
