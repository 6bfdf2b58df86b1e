"""What the adapter read about one role: its policies, trust, tags, table, the resources its
requirements name and the endpoints declared, once per process. The evaluation judges it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..policy import Policy, RolePolicies
from ..resources import EndpointState, ResourceState
from .principals import RoleSession


@dataclass(frozen=True)
class AttachedPolicy:
    name: str
    arn: str


@dataclass(frozen=True)
class TableState:
    """What the adapter read about the table: its tags and its resource-based policy."""

    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The table's resource-based policy; None when it has none.
    resource_policy: Policy | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class RoleSnapshot:
    """What the adapter read about one role, once per process."""

    #: The account of the credentials used (sts:GetCallerIdentity).
    account_id: str
    role_name: str
    role_arn: str
    trust_policy: Policy
    #: Attached managed policies (default versions), inline policies and the boundary.
    policies: RolePolicies
    attached: tuple[AttachedPolicy, ...]
    #: Whether the configured policy exists at all (read only when it is not attached).
    target_policy_exists: bool = True
    #: The role's unique id (``AROA...``), which a resource policy's Principal may use.
    role_id: str | None = None
    role_tags: Mapping[str, str] = field(default_factory=dict)
    #: The table; None when it was not read.
    table: TableState | None = None
    #: The configured policy's ARN as the role has it attached (its path included,
    #: ``policy/team/Name``); None when no attached policy has the configured name.
    policy_arn: str | None = None
    #: The endpoint IAM was read through (the client's: AWS_ENDPOINT_URL or AWS's own).
    endpoint_url: str | None = None
    #: Who read it: sts:GetCallerIdentity's Arn for the credentials used.
    caller_arn: str | None = None
    #: The resources its requirements name, as read: their governing resources (the
    #: table's among them) and the KMS keys they are encrypted with, by ARN.
    resources: Mapping[str, ResourceState] = field(default_factory=dict)
    #: The VPC endpoints declared as ``aws:SourceVpce``, by id.
    endpoints: Mapping[str, EndpointState] = field(default_factory=dict)

    @property
    def requester(self) -> RoleSession:
        return RoleSession(self.role_arn, self.account_id, self.role_id)
