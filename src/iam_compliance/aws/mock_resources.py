"""The embedded account's resources, from ``fixtures/resources.toml`` (docs/resources.md).

The file is optional; without it the account holds the runbook's artifacts bucket
(``${S3_BUCKET_NAME}``: no bucket policy, SSE-S3) besides the role and its table. Each
entry is one resource; ``policy`` names its policy document, relative to the fixtures
folder (``${...}`` placeholders filled per target, as in every seed document)::

    [[bucket]]
    name = "${S3_BUCKET_NAME}"
    policy = "resources/s3/artifacts.json"
    encryption = "aws:kms"            # "AES256" (the default), "aws:kms" or "none"
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"   # a [[key]] id, an ARN, "alias/aws/s3"

    [[key]]
    id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    policy = "resources/kms/artifacts-key.json"    # default: AWS's default key policy
    [[key.grant]]
    grantee = "arn:aws:iam::${AWS_ACCOUNT_ID}:role/${ECS_TASK_ROLE_NAME}"
    operations = ["Decrypt"]

Also ``[[table]]`` (another table, or the target's table's ``key``), ``[[stream]]``,
``[[queue]]``, ``[[topic]]``, ``[[secret]]`` and ``[[endpoint]]``. Every entry may say
``account`` and ``region`` (default: the target's) and ``readable = false`` (the checker
is refused reading its policy). What a check reads of them is kept here, as the table's
tags and policy are: creating them in moto would cost more than the rest of the run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..engine.decoding import load_document, read_file
from ..engine.policy import Policy, parse_policy
from ..engine.resources import (
    Encryption,
    EndpointState,
    Governing,
    Grant,
    GrantConstraints,
    KeyDetails,
    ResourceState,
    kind_of,
    policy_name,
)
from ..engine.target import Target, fill_placeholders
from ..errors import AccessDeniedError, ConfigurationError, NotFoundError
from .answers import is_aws_key, key_arn
from .resources import POLICY_ACTIONS, aws_managed_key, failed

RESOURCES_FILE = Path("resources.toml")
#: Each table of the file: its name key, the other keys it takes.
_KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "table": ("name", frozenset({"key", "tags"})),
    "stream": ("label", frozenset({"table"})),
    "bucket": ("name", frozenset({"encryption", "key"})),
    "key": ("id", frozenset({"manager", "state", "grant"})),
    "queue": ("name", frozenset({"key"})),
    "topic": ("name", frozenset({"key"})),
    "secret": ("name", frozenset()),
    "endpoint": ("id", frozenset({"service", "type"})),
}
_COMMON = frozenset({"policy", "account", "region", "readable"})
_SERVICES = {
    "table": "dynamodb",
    "stream": "dynamodb",
    "bucket": "s3",
    "key": "kms",
    "queue": "sqs",
    "topic": "sns",
    "secret": "secretsmanager",
}


class MockResources:
    """The embedded account's resources, read as a live account's are (a ResourceSource)."""

    def __init__(self, fixtures_dir: Path, tables: Callable[[str], Any]) -> None:
        self._fixtures_dir = fixtures_dir
        #: The target tables' tags and policy as seeded (MockAccounts.table_state).
        self._tables = tables
        self._states: dict[str, ResourceState] = {}
        self._endpoints: dict[str, EndpointState] = {}
        #: The target tables' encryption and readability, from their [[table]] entry.
        self._table_entries: dict[str, ResourceState] = {}

    def seed(self, target: Target) -> None:
        """Add ``target``'s resources; one another target already added stands."""
        states, endpoints = read_layout(self._fixtures_dir, target)
        for arn, state in states.items():
            if arn == target.table_arn:
                self._table_entries.setdefault(arn, state)
            else:
                self._states.setdefault(arn, state)
        for endpoint_id, endpoint in endpoints.items():
            self._endpoints.setdefault(endpoint_id, endpoint)

    def clear(self) -> None:
        self._states.clear()
        self._endpoints.clear()
        self._table_entries.clear()

    def read(self, governing: Governing, *, implied: bool = False) -> ResourceState:
        arn = governing.arn
        state = self._states.get(arn)
        if state is None and kind_of(governing) == "table":
            return self._table(arn)
        if state is None:
            raise NotFoundError(f"{arn}: not in the embedded account (see {RESOURCES_FILE})")
        if implied and state.key is not None and state.key.manager == "AWS":
            return aws_managed_key(arn, state.key)
        return state

    def _table(self, arn: str) -> ResourceState:
        """A target's table: its tags and policy as seeded, its [[table]] entry's key."""
        entry = self._table_entries.get(arn)
        if entry is not None and entry.status == "unreadable":
            raise AccessDeniedError(POLICY_ACTIONS["table"], arn, f"{RESOURCES_FILE} says so")
        table = self._tables(arn)  # NotFoundError: no such table
        return ResourceState(
            arn,
            "dynamodb",
            "table",
            "read" if table.resource_policy is not None else "none",
            resource_policy=table.resource_policy,
            tags=dict(table.tags),
            encryption=entry.encryption if entry is not None else Encryption("service"),
            account=table.account,
            cross_account=False,
        )

    def read_endpoints(self, ids: Sequence[str]) -> dict[str, EndpointState]:
        """The endpoints ``ids``; one the file does not describe is there with AWS's default
        policy, full access (declaring an endpoint is how a mock run says the containers'
        requests come through one)."""
        return {
            i: self._endpoints.get(i)
            or EndpointState(
                i, "none", detail=f"not in {RESOURCES_FILE}: AWS's default policy, full access"
            )
            for i in ids
        }


def read_layout(
    fixtures_dir: Path, target: Target
) -> tuple[dict[str, ResourceState], dict[str, EndpointState]]:
    """``fixtures/resources.toml`` for ``target``: its resources by ARN, its endpoints by
    id; the artifacts bucket is always among them."""
    path = fixtures_dir / RESOURCES_FILE
    data: dict[str, Any] = {}
    if path.is_file():
        text = fill_placeholders(read_file(path, str(path)), target, str(path))
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_KINDS))
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown table [[{unknown[0]}]]; expected "
            + ", ".join(f"[[{kind}]]" for kind in _KINDS)
        )
    layout = _Layout(fixtures_dir, path, target)
    for kind in _KINDS:
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise ConfigurationError(f"{path}: {kind} must be an array of tables: [[{kind}]]")
        for number, entry in enumerate(entries, start=1):
            layout.add(kind, entry, f"{path}: [[{kind}]] #{number}")
    artifacts = f"arn:{target.partition}:s3:::{target.s3_bucket}"
    layout.states.setdefault(
        artifacts,
        ResourceState(
            artifacts,
            "s3",
            "bucket",
            "none",
            encryption=Encryption("service"),
            account=target.account_id,
            cross_account=False,
            region=target.region,
        ),
    )
    return layout.states, layout.endpoints


class _Layout:
    """The file's entries, checked one by one, as states."""

    def __init__(self, fixtures_dir: Path, path: Path, target: Target) -> None:
        self.fixtures_dir = fixtures_dir
        self.path = path
        self.target = target
        self.states: dict[str, ResourceState] = {}
        self.endpoints: dict[str, EndpointState] = {}

    def add(self, kind: str, entry: Any, where: str) -> None:
        name_key, keys = _KINDS[kind]
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where}: expected a table, got {entry!r}")
        name = self.text(entry, name_key, where, required=True)
        where = f"{where} ({name})"
        unknown = sorted(set(entry) - keys - _COMMON - {name_key})
        if unknown:
            expected = ", ".join(sorted(keys | _COMMON | {name_key}))
            raise ConfigurationError(f"{where}: unknown key {unknown[0]!r}; expected {expected}")
        account = self.text(entry, "account", where) or self.target.account_id
        region = self.text(entry, "region", where) or self.target.region
        readable = entry.get("readable", True)
        if not isinstance(readable, bool):
            raise ConfigurationError(f"{where}: readable must be true or false")
        if kind == "endpoint":
            self.endpoints[name] = self.endpoint(entry, name, account, region, readable, where)
            return
        partition = self.target.partition
        if kind == "stream":
            table = self.text(entry, "table", where, required=True)
            name = f"{table}/stream/{name}"
        arn = {
            "table": f"arn:{partition}:dynamodb:{region}:{account}:table/{name}",
            "stream": f"arn:{partition}:dynamodb:{region}:{account}:table/{name}",
            "bucket": f"arn:{partition}:s3:::{name}",
            "key": f"arn:{partition}:kms:{region}:{account}:key/{name}",
            "queue": f"arn:{partition}:sqs:{region}:{account}:{name}",
            "topic": f"arn:{partition}:sns:{region}:{account}:{name}",
            "secret": f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}",
        }[kind]
        if arn in self.states:
            raise ConfigurationError(f"{where}: {arn} is described twice")
        if arn == self.target.table_arn and {"policy", "tags"} & set(entry):
            raise ConfigurationError(
                f"{where}: the target's table takes its policy and tags from "
                "table_resource_policy.json and tags.toml"
            )
        policy = self.policy(entry, arn, where, policy_name(kind, arn))
        if kind == "key" and policy is None:
            policy = parse_policy(
                default_key_policy(partition, account), name=policy_name(kind, arn), kind="resource"
            )
        state = ResourceState(
            arn,
            _SERVICES[kind],
            kind,
            "read" if policy is not None else "none",
            resource_policy=policy,
            tags=self.tags(entry, where) if kind == "table" else None,
            encryption=self.encryption(kind, entry, region, account, where),
            account=account,
            cross_account=account != self.target.account_id,
            region=region,
            key=self.key(entry, where) if kind == "key" else None,
        )
        if not readable:
            refused = AccessDeniedError(POLICY_ACTIONS[kind], arn, f"{self.path} says so")
            state = failed(
                Governing(state.service, arn),
                refused,
                cross_account=state.cross_account,
                region=region,
            )
        self.states[arn] = state

    def encryption(
        self, kind: str, entry: Mapping[str, Any], region: str, account: str, where: str
    ) -> Encryption | None:
        key = self.text(entry, "key", where)
        service = _SERVICES[kind]
        if kind == "bucket":
            algorithm = entry.get("encryption", "aws:kms" if key else "AES256")
            if algorithm not in ("AES256", "aws:kms", "none"):
                raise ConfigurationError(
                    f'{where}: encryption must be "AES256", "aws:kms" or "none", got {algorithm!r}'
                )
            if algorithm != "aws:kms":
                if key:
                    raise ConfigurationError(f'{where}: key needs encryption = "aws:kms"')
                return Encryption("service" if algorithm == "AES256" else "none")
            # The bucket's key is resolved in the requester's (the target's) account.
            account = self.target.account_id
        elif kind not in ("table", "queue", "topic"):
            return None
        if key is None:  # DynamoDB's AWS owned key, SSE-SQS; a topic is not encrypted
            return Encryption("none" if kind == "topic" else "service")
        if key == "none" and kind in ("queue", "topic"):
            return Encryption("none")
        if key.startswith("alias/aws/") and not is_aws_key(key, service):
            raise ConfigurationError(f"{where}: {key} is another service's AWS managed key")
        if is_aws_key(key, service):
            return Encryption("aws-managed", key)
        if key.startswith("alias/"):
            raise ConfigurationError(f"{where}: key must be a [[key]] id or a key ARN, got {key}")
        return Encryption("kms", key_arn(key, self.target.partition, region, account))

    def key(self, entry: Mapping[str, Any], where: str) -> KeyDetails:
        manager = entry.get("manager", "CUSTOMER")
        if manager not in ("AWS", "CUSTOMER"):
            raise ConfigurationError(f'{where}: manager must be "AWS" or "CUSTOMER"')
        grants = entry.get("grant", [])
        if not isinstance(grants, list):
            raise ConfigurationError(f"{where}: grant must be an array of tables: [[key.grant]]")
        return KeyDetails(
            manager,
            self.text(entry, "state", where) or "Enabled",
            tuple(self.grant(g, f"{where} grant #{n}", n) for n, g in enumerate(grants, start=1)),
        )

    def grant(self, entry: Any, where: str, number: int) -> Grant:
        allowed = {"grantee", "operations", "name", "context_equals", "context_subset"}
        if not isinstance(entry, dict) or set(entry) - allowed:
            raise ConfigurationError(f"{where}: expected a table of {', '.join(sorted(allowed))}")
        operations = entry.get("operations")
        if not isinstance(operations, list) or not all(isinstance(o, str) for o in operations):
            raise ConfigurationError(f'{where}: operations must be a list, e.g. ["Decrypt"]')
        equals = self.mapping(entry, "context_equals", where)
        subset = self.mapping(entry, "context_subset", where)
        return Grant(
            grant_id=f"grant-{number}",
            grantee_principal=self.text(entry, "grantee", where, required=True),
            operations=tuple(operations),
            name=self.text(entry, "name", where),
            constraints=GrantConstraints(equals, subset) if equals or subset else None,
        )

    def endpoint(
        self,
        entry: Mapping[str, Any],
        endpoint_id: str,
        account: str,
        region: str,
        readable: bool,
        where: str,
    ) -> EndpointState:
        service = self.text(entry, "service", where, required=True)
        known: dict[str, Any] = {
            "service_name": service if "." in service else f"com.amazonaws.{region}.{service}",
            "endpoint_type": self.text(entry, "type", where) or "Gateway",
            "account": account,
        }
        if not readable:
            action = POLICY_ACTIONS["endpoint"]
            refused = AccessDeniedError(action, endpoint_id, f"{self.path} says so")
            return EndpointState(
                endpoint_id, "unreadable", detail=str(refused), missing_action=action
            )
        name = f"endpoint policy of {endpoint_id}"
        policy = self.policy(entry, endpoint_id, where, name) or parse_policy(
            FULL_ACCESS, name=name, kind="resource"
        )
        return EndpointState(endpoint_id, "read", policy=policy, **known)

    def policy(self, entry: Mapping[str, Any], arn: str, where: str, name: str) -> Policy | None:
        relative = self.text(entry, "policy", where)
        if relative is None:
            return None
        path = self.fixtures_dir / relative
        text = fill_placeholders(read_file(path, str(path)), self.target, str(path))
        return parse_policy(
            load_document(text, str(path)),
            name=name,
            kind="resource",
            origin=str(path),
        )

    def tags(self, entry: Mapping[str, Any], where: str) -> dict[str, str]:
        return self.mapping(entry, "tags", where) or {}

    @staticmethod
    def mapping(entry: Mapping[str, Any], key: str, where: str) -> dict[str, str] | None:
        value = entry.get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigurationError(f'{where}: {key} must be a table of key = "value"')
        return dict(value)

    @staticmethod
    def text(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> Any:
        value = entry.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{where}: {key} must be a non-empty string, got {value!r}")
        return value


def default_key_policy(partition: str, account: str) -> dict[str, Any]:
    """The key policy AWS gives a key created without one: the account's IAM policies
    decide (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


#: The policy of an endpoint created without one: full access
#: (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).
FULL_ACCESS = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
