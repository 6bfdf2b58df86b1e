"""Whole accounts in a handful of requests: one ``GetAccountAuthorizationDetails`` sweep.

Reading one role costs ``GetRole``, two listings, and a ``GetPolicy`` and a
``GetPolicyVersion`` per attached policy. With many targets in one account that is
O(roles x policies) requests; a sweep of the account's roles and customer managed policies
(``Filter`` ``Role`` and ``LocalManagedPolicy``, every page followed) reads the same in
O(pages), as PMapper and Cloudsplaining read accounts. What the sweep leaves out is read
once per account and shared by its targets: the AWS managed policies a role attaches
(``Filter`` ``AWSManagedPolicy`` would list all of AWS's, well over a thousand), each
table's tags and resource-based policy.

The sweep needs ``iam:GetAccountAuthorizationDetails``, which reads every role and policy
of the account; :func:`read_mode` is where the per-role path stays the choice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..engine.evaluate.snapshot import AttachedPolicy, RoleSnapshot, TableState
from ..engine.policy import Policy, PolicyKind, RolePolicies, parse_policy
from ..engine.target import Target
from ..errors import AwsError, IamComplianceError, NotFoundError
from .adapter import attachment_order, calling, document_of

#: How the roles of an account are read.
ReadMode = Literal["per-role", "account"]
#: Targets in one account from which a sweep is read instead of each role: with one, the
#: per-role path is cheaper in any account with more than a page of roles.
SWEEP_FROM = 2
SWEEP = "iam:GetAccountAuthorizationDetails"
_T = TypeVar("_T")


def read_mode(targets_in_account: int) -> ReadMode:
    """Sweep the account when it holds several targets; read the role alone otherwise."""
    return "account" if targets_in_account >= SWEEP_FROM else "per-role"


@dataclass(frozen=True)
class Sweep:
    """The roles and customer managed policies of one account, as the sweep read them."""

    #: By role name folded to lower case: IAM role names are unique ignoring case.
    roles: Mapping[str, Mapping[str, Any]]
    #: Customer managed policies by ARN.
    policies: Mapping[str, Mapping[str, Any]]
    pages: int


def sweep(iam: Any, account: str) -> Sweep:
    """Read every page of the account's roles and customer managed policies."""
    roles: dict[str, Mapping[str, Any]] = {}
    policies: dict[str, Mapping[str, Any]] = {}
    pages = 0
    with calling(SWEEP, f"account {account}"):
        for page in iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["Role", "LocalManagedPolicy"]
        ):
            pages += 1
            for role in page.get("RoleDetailList", []):
                roles[role["RoleName"].lower()] = role
            for policy in page.get("Policies", []):
                policies[policy["Arn"]] = policy
    return Sweep(roles, policies, pages)


@dataclass
class AccountReads:
    """Everything read once per account and shared by its targets, safe across threads.

    ``sweep_of`` reads the sweep; ``managed`` reads one AWS managed policy (``GetPolicy``
    and ``GetPolicyVersion``); ``table`` one table's tags and resource-based policy.
    """

    account: str
    sweep_of: Callable[[], Sweep]
    managed: Callable[[str, PolicyKind], Policy]
    table: Callable[[str], TableState]
    # Each read is made once, and so is each failure: a sweep that fails fails every
    # target of the account with the same message, not with one more request each.
    _sweep: Sweep | IamComplianceError | None = None
    _managed: dict[tuple[str, PolicyKind], Policy | IamComplianceError] = field(
        default_factory=dict
    )
    _tables: dict[str, TableState | IamComplianceError] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def snapshot(self, target: Target) -> RoleSnapshot:
        """The target's role as :meth:`.AwsAdapter.fetch_role` would read it."""
        found = self.read_sweep()
        role = found.roles.get(target.role_name.lower())
        if role is None:
            raise NotFoundError(
                f"{SWEEP} {target.role_arn}: not found (the {found.pages} page(s) of account "
                f"{self.account}'s roles hold no role named {target.role_name})"
            )
        attached = tuple(
            sorted(
                (
                    AttachedPolicy(p.get("PolicyName") or _name_of(p["PolicyArn"]), p["PolicyArn"])
                    for p in role.get("AttachedManagedPolicies", [])
                ),
                key=attachment_order,
            )
        )
        identity: list[Policy] = [self.policy(p.arn, "managed") for p in attached]
        identity.extend(
            parse_policy(document_of(p["PolicyDocument"]), name=p["PolicyName"], kind="inline")
            for p in role.get("RolePolicyList", [])
        )
        boundary_arn = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        # As the per-role path: by name, as attached (a policy may have a path).
        resolved = next((p.arn for p in attached if p.name == target.policy_name), None)
        return RoleSnapshot(
            account_id=self.account,
            role_name=role["RoleName"],
            role_arn=role["Arn"],
            trust_policy=parse_policy(
                document_of(role.get("AssumeRolePolicyDocument")),
                name=f"trust policy of {role['RoleName']}",
                trust=True,
            ),
            policies=RolePolicies(
                identity=tuple(identity),
                boundary=self.policy(boundary_arn, "boundary") if boundary_arn else None,
            ),
            attached=attached,
            # The sweep lists every customer managed policy: no GetPolicy to ask.
            target_policy_exists=resolved is not None or target.policy_arn in found.policies,
            role_id=role.get("RoleId"),
            role_tags={tag["Key"]: tag["Value"] for tag in role.get("Tags", [])},
            table=self.table_state(target.table_arn),
            policy_arn=resolved,
        )

    def read_sweep(self) -> Sweep:
        with self._lock:
            if self._sweep is None:
                self._sweep = _or_error(self.sweep_of, AwsError)
            return _result(self._sweep)

    def policy(self, arn: str, kind: PolicyKind) -> Policy:
        """A managed policy's default version: from the sweep when it is the account's own,
        else read once (an AWS managed policy)."""
        own = self.read_sweep().policies.get(arn)
        with self._lock:
            # Parsed once, and the same object for every target that attaches it.
            if (arn, kind) not in self._managed:
                self._managed[(arn, kind)] = _or_error(
                    lambda: _from_sweep(own, kind) if own is not None else self.managed(arn, kind)
                )
            return _result(self._managed[(arn, kind)])

    def table_state(self, arn: str) -> TableState:
        with self._lock:
            if arn not in self._tables:
                self._tables[arn] = _or_error(lambda: self.table(arn))
            return _result(self._tables[arn])


def _or_error(
    read: Callable[[], _T], kind: type[IamComplianceError] = IamComplianceError
) -> _T | IamComplianceError:
    try:
        return read()
    except kind as exc:
        return exc


def _result(found: _T | IamComplianceError) -> _T:
    if isinstance(found, IamComplianceError):
        raise found
    return found


def _from_sweep(policy: Mapping[str, Any], kind: PolicyKind) -> Policy:
    arn = policy["Arn"]
    default = policy.get("DefaultVersionId")
    versions: Sequence[Mapping[str, Any]] = policy.get("PolicyVersionList", [])
    chosen = next((v for v in versions if v.get("IsDefaultVersion")), None)
    if chosen is None:
        raise AwsError(
            f"{SWEEP}: the sweep holds no default version of {arn} (DefaultVersionId "
            f"{default}); it cannot be checked"
        )
    return parse_policy(
        document_of(chosen.get("Document")),
        name=policy.get("PolicyName") or _name_of(arn),
        kind=kind,
        version=chosen.get("VersionId") or default,
        arn=arn,
    )


def _name_of(arn: str) -> str:
    """A managed policy's name from its ARN (``arn:aws:iam::1:policy/path/Name``)."""
    return arn.rsplit("/", 1)[-1]


def identity_key(target: Target) -> tuple[object, ...]:
    """Targets with equal keys are read through the same credentials, in the same account,
    from the same endpoint."""
    return (
        target.account_id,
        target.partition,
        target.profile,
        target.credentials.access_key_id if target.credentials else None,
        target.endpoint_url,
    )
