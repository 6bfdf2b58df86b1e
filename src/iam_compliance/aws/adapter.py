"""The one place that talks to AWS: read a role's policies, write policy versions.

It takes a boto3 session from outside, so moto, a moto server and a real account run
the same code; only the session differs. Every botocore error is translated into the
package's own errors, naming the IAM action the checker needed.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..engine.evaluate.snapshot import AttachedPolicy, RoleSnapshot, TableState
from ..engine.policy import Policy, PolicyKind, PolicyVersion, RolePolicies, parse_policy
from ..engine.resources import EndpointState, Governing, ResourceNeeds, ResourceState
from ..engine.target import Target
from ..errors import (
    AwsError,
    NotFoundError,
    ServiceError,
    WrongAccountError,
)
from .connection import WRITE_CONFIG, Connection
from .live_resources import LiveResources
from .resources import ResourceReads, ResourceSource
from .translate import MAX_ATTEMPTS, _calling

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient

_THROTTLED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded"})


class AwsAdapter:
    """Reads and writes IAM through one connection."""

    def __init__(self, connection: Connection, *, resources: ResourceSource | None = None) -> None:
        self.iam: IAMClient = connection.client("iam")
        self.sts: STSClient = connection.client("sts")
        self._connection = connection
        self._writer: IAMClient | None = None
        self._account: str | None = None
        self._caller_arn: str | None = None
        self._lock = threading.Lock()
        # Resources are read from the account, or from the embedded account's fixtures.
        self.dynamodb: Any = None
        if resources is None:
            live = LiveResources(connection, self.caller_account)
            self.dynamodb = live.dynamodb
            resources = live
        #: Each resource the run names, read once through these credentials.
        self.resources = ResourceReads(resources)
        #: How long to wait before sending a throttled write again (tests: no wait).
        self.throttle_delay = 1.0

    @property
    def iam_writer(self) -> IAMClient:
        """The IAM client for writes, made on first use: no botocore retries."""
        if self._writer is None:
            self._writer = self._connection.client("iam", WRITE_CONFIG)
        return self._writer

    def _write(self, action: str, resource: str, call: Callable[[], Any]) -> Any:
        """Send a write once; again only when IAM answered Throttling (nothing applied)."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with _calling(action, resource):
                    return call()
            except ServiceError as exc:
                if exc.code not in _THROTTLED or attempt == MAX_ATTEMPTS:
                    raise
            time.sleep(self.throttle_delay * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading -----------------------------------------------------------------------

    def caller_account(self) -> str:
        """The credentials' account, asked once (sts:GetCallerIdentity) per adapter: the
        adapter is shared by every target read through the same credentials."""
        with self._lock:
            if self._account is None:
                with _calling("sts:GetCallerIdentity", "*"):
                    identity = self.sts.get_caller_identity()
                self._account = str(identity["Account"])
                self._caller_arn = str(identity.get("Arn") or "") or None
            return self._account

    def caller_arn(self) -> str | None:
        """Who the credentials are (sts:GetCallerIdentity's Arn), asked with the account."""
        self.caller_account()
        return self._caller_arn

    @property
    def endpoint_url(self) -> str:
        """The endpoint IAM is read through, as the client resolved it (AWS_ENDPOINT_URL,
        the AWS config, or AWS's own)."""
        return str(self.iam.meta.endpoint_url)

    def check_account(self, target: Target) -> str:
        """Refuse credentials of another account: checking it must not look like a result."""
        account = self.caller_account()
        if account != target.account_id:
            raise WrongAccountError(
                f"the credentials belong to account {account}, but AWS_ACCOUNT_ID "
                f"({target.account_origin}) is {target.account_id}; refusing to check or "
                "change another account (set AWS_ACCOUNT_ID to the account you mean to check)"
            )
        return account

    def fetch_role(self, target: Target) -> RoleSnapshot:
        """Read everything that decides the role's permissions, each entity once."""
        account = self.check_account(target)
        with _calling("iam:GetRole", target.role_arn):
            role = self.iam.get_role(RoleName=target.role_name)["Role"]
        trust = parse_policy(
            _document(role.get("AssumeRolePolicyDocument")),
            name=f"trust policy of {target.role_name}",
            trust=True,
        )
        attached: list[AttachedPolicy] = []
        with _calling("iam:ListAttachedRolePolicies", target.role_arn):
            pages = self.iam.get_paginator("list_attached_role_policies").paginate(
                RoleName=target.role_name
            )
            for page in pages:
                attached.extend(
                    AttachedPolicy(p["PolicyName"], p["PolicyArn"])
                    for p in page["AttachedPolicies"]
                )
        # IAM gives attachments no order; sorted, every way of reading them agrees.
        attached.sort(key=attachment_order)
        identity = [self.managed_policy(p.arn, "managed") for p in attached]
        inline_names: list[str] = []
        with _calling("iam:ListRolePolicies", target.role_arn):
            for names in self.iam.get_paginator("list_role_policies").paginate(
                RoleName=target.role_name
            ):
                inline_names.extend(names["PolicyNames"])
        for name in inline_names:
            with _calling("iam:GetRolePolicy", target.role_arn):
                inline = self.iam.get_role_policy(RoleName=target.role_name, PolicyName=name)
            identity.append(
                parse_policy(_document(inline["PolicyDocument"]), name=name, kind="inline")
            )
        boundary_arn = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        boundary = self.managed_policy(boundary_arn, "boundary") if boundary_arn else None
        # By name, as attached: a policy with a path (policy/team/Name) has another ARN
        # than the configuration can build, and IAM policy names are unique in an account.
        resolved = next((p.arn for p in attached if p.name == target.policy_name), None)
        exists = resolved is not None or self.policy_exists(target.policy_arn)
        return RoleSnapshot(
            account_id=account,
            role_name=role["RoleName"],
            role_arn=role["Arn"],
            trust_policy=trust,
            policies=RolePolicies(identity=tuple(identity), boundary=boundary),
            attached=tuple(attached),
            target_policy_exists=exists,
            role_id=role.get("RoleId"),
            role_tags={tag["Key"]: tag["Value"] for tag in role.get("Tags", [])},
            table=self.fetch_table(target.table_arn),
            policy_arn=resolved,
        )

    def fetch_table(self, table_arn: str) -> TableState:
        """The table's tags and resource-based policy (dynamodb:ListTagsOfResource,
        dynamodb:GetResourcePolicy), read once with the rest of its state
        (:attr:`resources`). A table that cannot be read stops its target: the verdicts
        depend on its policy."""
        state = self.resources.state(Governing("dynamodb", table_arn))
        error = self.resources.table_error(table_arn)
        if error is not None:
            raise error
        return TableState(
            arn=table_arn, tags=dict(state.tags or {}), resource_policy=state.resource_policy
        )

    def read_resources(
        self, target: Target, needs: ResourceNeeds
    ) -> tuple[dict[str, ResourceState], dict[str, EndpointState]]:
        """The resources ``needs`` names for ``target`` (its table among them), and the
        declared VPC endpoints: each read once per adapter."""
        resources = {
            arn: state
            if state.cross_account is not None or state.account is None
            else dataclasses.replace(state, cross_account=state.account != target.account_id)
            for arn, state in self.resources.states((target.table_arn, *needs.arns)).items()
        }
        return resources, self.resources.endpoints(needs.endpoints)

    def managed_policy(self, arn: str, kind: PolicyKind) -> Policy:
        """A managed policy's default version, parsed."""
        with _calling("iam:GetPolicy", arn):
            meta = self.iam.get_policy(PolicyArn=arn)["Policy"]
        version = meta["DefaultVersionId"]
        document = self.get_version_document(arn, version)
        return parse_policy(document, name=meta["PolicyName"], kind=kind, version=version, arn=arn)

    def policy_tags(self, arn: str) -> dict[str, str]:
        """A managed policy's tags (iam:ListPolicyTags), for the drift warning of --fix."""
        tags: dict[str, str] = {}
        with _calling("iam:ListPolicyTags", arn):
            for page in self.iam.get_paginator("list_policy_tags").paginate(PolicyArn=arn):
                tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        return tags

    def policy_exists(self, arn: str) -> bool:
        try:
            with _calling("iam:GetPolicy", arn):
                self.iam.get_policy(PolicyArn=arn)
        except NotFoundError:
            return False
        return True

    def policy_entities(self, policy_arn: str, role_arn: str) -> tuple[str, ...]:
        """Every role, user and group the policy is attached to but ``role_arn``'s role
        (iam:ListEntitiesForPolicy), as ``role/Name``, ``user/Name``, ``group/Name``."""
        role_name = role_arn.rsplit("/", 1)[-1]
        found: list[str] = []
        with _calling("iam:ListEntitiesForPolicy", policy_arn):
            pages = self.iam.get_paginator("list_entities_for_policy").paginate(
                PolicyArn=policy_arn
            )
            for page in pages:
                found.extend(
                    f"role/{r['RoleName']}"
                    for r in page.get("PolicyRoles", [])
                    if r["RoleName"] != role_name
                )
                found.extend(f"user/{u['UserName']}" for u in page.get("PolicyUsers", []))
                found.extend(f"group/{g['GroupName']}" for g in page.get("PolicyGroups", []))
        return tuple(found)

    # -- the PolicyStore protocol of remediation ------------------------------------------

    def list_versions(self, policy_arn: str) -> list[PolicyVersion]:
        versions: list[PolicyVersion] = []
        with _calling("iam:ListPolicyVersions", policy_arn):
            for page in self.iam.get_paginator("list_policy_versions").paginate(
                PolicyArn=policy_arn
            ):
                versions.extend(
                    PolicyVersion(
                        version_id=v["VersionId"],
                        is_default=v["IsDefaultVersion"],
                        created=_as_datetime(v["CreateDate"]),
                    )
                    for v in page["Versions"]
                )
        return versions

    def get_version_document(self, policy_arn: str, version_id: str) -> dict[str, Any]:
        with _calling("iam:GetPolicyVersion", policy_arn):
            version = self.iam.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)
        return _document(version["PolicyVersion"].get("Document"))

    def create_default_version(self, policy_arn: str, document: Mapping[str, Any]) -> str:
        created = self._write(
            "iam:CreatePolicyVersion",
            policy_arn,
            lambda: self.iam_writer.create_policy_version(
                PolicyArn=policy_arn,
                PolicyDocument=json.dumps(document, indent=4, ensure_ascii=False),
                SetAsDefault=True,
            ),
        )
        return str(created["PolicyVersion"]["VersionId"])

    def delete_version(self, policy_arn: str, version_id: str) -> None:
        self._write(
            "iam:DeletePolicyVersion",
            policy_arn,
            lambda: self.iam_writer.delete_policy_version(
                PolicyArn=policy_arn, VersionId=version_id
            ),
        )

    def set_default_version(self, policy_arn: str, version_id: str) -> None:
        self._write(
            "iam:SetDefaultPolicyVersion",
            policy_arn,
            lambda: self.iam_writer.set_default_policy_version(
                PolicyArn=policy_arn, VersionId=version_id
            ),
        )


def _document(value: Any) -> dict[str, Any]:
    """boto3 decodes policy documents to dicts; some endpoints return URL-encoded text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        decoded = json.loads(unquote(value))
        if isinstance(decoded, dict):
            return decoded
    raise AwsError(f"unexpected policy document from IAM: {type(value).__name__}")


def attachment_order(policy: AttachedPolicy) -> tuple[str, str]:
    """The order attached policies are read and shown in: by name, then ARN."""
    return (policy.name, policy.arn)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


#: The error translation for one call, for the adapter's sibling modules.
calling = _calling
#: A policy document as IAM answered it (a dict, or URL-encoded JSON), as a dict.
document_of = _document
