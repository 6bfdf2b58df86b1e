"""The embedded account: moto, seeded from fixtures/ as the runbook says the account is today.

Each target gets its own moto account (its AWS_ACCOUNT_ID), reached the way moto
documents for several accounts: requests name it in an ``x-moto-account-id`` header. The
checker then reads it through the same :class:`~iam_compliance.aws.adapter.AwsAdapter` as a real
account. Only what a check reads is seeded: the role and its policies in moto's IAM; the
table's tags and resource policy are kept here (:meth:`MockAccounts.table_state`), as
creating a moto DynamoDB table costs more than the rest of the seed, and so are the other
resources requirements name (:mod:`.mock_resources`, ``fixtures/resources.toml``).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from ..engine.decoding import load_document, read_file
from ..engine.evaluate.snapshot import TableState
from ..engine.policy import parse_policy
from ..engine.target import Credentials, Target, fill_placeholders
from ..errors import ConfigurationError, IamComplianceError, NotFoundError
from .connection import Connection, Sessions
from .mock_organization import management_account, read_layout, seed_organization
from .mock_resources import MockResources
from .moto_iam import MotoIam
from .seeding import TableSeed, create_policy, seed_from_source

if TYPE_CHECKING:
    from ..sources.model import Source

#: Where seed documents live inside the fixtures directory.
TASK_POLICY_FILE = Path("policies/task_policy.json")
TRUST_POLICY_FILE = Path("policies/ecs_tasks_trust_policy.json")
#: The same, named for any workload (a Lambda role's, say); a folder has one or the other.
WORKLOAD_TRUST_POLICY_FILE = Path("policies/trust_policy.json")
#: Optional: a permissions boundary for the role.
BOUNDARY_FILE = Path("policies/boundary.json")
#: Optional: more managed policies to attach (``<PolicyName>.json``).
MANAGED_DIR = Path("policies/managed")
#: Optional: inline policies to put on the role (``<PolicyName>.json``).
INLINE_DIR = Path("policies/inline")
#: Optional: the table's resource-based policy.
TABLE_POLICY_FILE = Path("table_resource_policy.json")
#: Optional: the role's and the table's tags (``[role]`` and ``[table]``, key = "value").
TAGS_FILE = Path("tags.toml")
# moto accepts any credentials; these are never real and name themselves as fake.
_FAKE_KEY = "mock-access-key-id"
_FAKE_SECRET = "mock-secret-access-key"
#: Environment variables that would steer boto3 away from the mock.
_AMBIENT_SETTINGS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_DYNAMODB",
)


class MockAccounts:
    """A running moto mock with each target's role, policy and table in place."""

    def __init__(
        self,
        fixtures_dir: Path,
        sessions: Sessions,
        policy_file: Path | None = None,
        targets: Sequence[Target] = (),
    ) -> None:
        self._fixtures_dir = fixtures_dir
        #: The run's targets by account: those of one account are seeded together.
        self._targets: dict[str, list[Target]] = {}
        for each in targets:
            self._targets.setdefault(each.account_id, []).append(each)
        self._new_sessions = sessions
        self._policy_file = policy_file
        self._sources: dict[str, Source] = {}
        self._mock: Any = None
        self._environ: Any = None
        self._session: boto3.Session | None = None
        #: One connection (one set of clients) per account and region.
        self._connections: dict[tuple[str, str], Connection] = {}
        self._seeded: set[str] = set()
        self._organizations: set[str] = set()
        self._tables: dict[str, TableState] = {}
        #: (account, name) -> the ARN of each managed policy seeded so far.
        self._policies: dict[tuple[str, str], str] = {}
        #: The other resources a check reads, from fixtures/resources.toml.
        self.resources = MockResources(fixtures_dir, self.table_state)

    def start(self) -> None:
        if self._mock is None:
            # moto builds boto3 sessions of its own, which read the machine's AWS
            # profile and endpoint settings; hide them while the mock runs.
            self._environ = mock.patch.dict(os.environ)
            self._environ.start()
            for name in _AMBIENT_SETTINGS:
                os.environ.pop(name, None)
            self._mock = mock_aws()
            self._mock.start()

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
            self._environ.stop()
            self._connections.clear()
            self._seeded.clear()
            self._tables.clear()
            self._policies.clear()
            self.resources.clear()
            self._organizations.clear()

    def connection(self, target: Target) -> Connection:
        """A connection inside the target's moto account, seeded on first use.

        The account's other targets are seeded with it: a read of the whole account
        (one sweep) must find every role the run checks there. A target whose seed fails
        meets its own error when it is read.
        """
        self.start()
        self._seed_once(target)
        for other in self._targets.get(target.account_id, ()):
            if other.name not in self._seeded:
                with suppress(IamComplianceError):
                    self._seed_once(other)
        return self._connection(target)

    def _connection(self, target: Target, account: str | None = None) -> Connection:
        """One connection per account and region (the target's account by default)."""
        key = (account or target.account_id, target.region)
        if key not in self._connections:
            self._connections[key] = self._into(key[0], target)
        return self._connections[key]

    def _seed_once(self, target: Target) -> None:
        if target.name not in self._seeded:
            self._seed(target)
            self._seeded.add(target.name)

    def organization_connection(self, target: Target) -> Connection | None:
        """Where the target's organization is read from.

        With ``fixtures/guardrails/organization.toml``, the organization is seeded (once per
        target) and read as its management account; without it there is none to read (None:
        the embedded account is in no organization).
        """
        layout = read_layout(self._fixtures_dir)
        if layout is None:
            return None
        self.connection(target)
        management = self._connection(target, management_account(layout))
        if target.name not in self._organizations:
            seed_organization(
                layout,
                self._fixtures_dir,
                target,
                management.client("organizations"),
                fill_placeholders,
            )
            self._organizations.add(target.name)
        return management

    def _into(self, account: str, target: Target) -> Connection:
        """A connection inside moto's ``account``, named by the ``x-moto-account-id``
        header, one of the ways moto documents for several accounts (``sts:AssumeRole``
        into the account would cost a moto STS backend per run)."""
        if self._session is None:
            self._session = self._isolated_session()
        return Connection(
            self._session,
            target.region,
            Credentials(_FAKE_KEY, _FAKE_SECRET),
            headers=(("x-moto-account-id", account),),
        )

    def _isolated_session(self) -> boto3.Session:
        """A session that ignores the machine's AWS profile and endpoint settings.

        Mock mode must never be steered at a real account or endpoint by the environment.
        """
        # No profile (whatever AWS_PROFILE says) and an empty config file.
        core = self._new_sessions.core(profile=(None, None, None, None))
        core.set_config_variable("config_file", os.devnull)
        core.set_config_variable("ignore_configured_endpoint_urls", True)
        return boto3.Session(botocore_session=core)

    def source(self, target: Target) -> Source | None:
        """What ``--iam-policy-file`` says, read once per target; None without one."""
        if self._policy_file is None:
            return None
        if target.name not in self._sources:
            # Imported here: only a run on a source file reads one.
            from ..sources.reading import read_source

            self._sources[target.name] = read_source(self._policy_file, target)
        return self._sources[target.name]

    def task_policy_text(self, target: Target) -> tuple[str, str]:
        """The policy to seed, and where it came from: a bare --iam-policy-file, else the
        fixture."""
        source = self.source(target)
        if source is not None and source.kind == "policy":
            return json.dumps(source.policies[0].document), source.label
        return self._fixture(TASK_POLICY_FILE, target), str(self._fixtures_dir / TASK_POLICY_FILE)

    def _fixture(self, relative: Path, target: Target) -> str:
        path = self._fixtures_dir / relative
        return fill_placeholders(read_file(path, str(path)), target, str(path))

    def _seed(self, target: Target) -> None:
        """Create the target's role, policies and table; a document that moto (which checks
        documents as IAM does) refuses is a usage error naming its file."""
        iam = MotoIam(target.account_id, target.partition)
        try:
            source = self.source(target)
            if source is not None and source.describes_role:
                table = seed_from_source(iam, target, source, self._fixture_table(target))
            else:
                table = self._create_entities(iam, target)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            origin = getattr(exc, "iam_compliance_origin", "the mock account's seed documents")
            raise ConfigurationError(
                f"{origin}: the mock account refuses it as IAM would ({error.get('Code')}: "
                f"{error.get('Message')}); fix the document"
            ) from None
        # Targets that share an account share its table: the first one's stands.
        self._tables.setdefault(target.table_arn, _table_state(target.table_arn, table))
        self.resources.seed(target)

    def table_state(self, arn: str) -> TableState:
        """The table's tags and resource policy as seeded: what a check reads of it, kept
        here rather than in a moto DynamoDB table (which costs more than the rest)."""
        if arn not in self._tables:
            raise NotFoundError(f"dynamodb:ListTagsOfResource {arn}: no such table")
        return self._tables[arn]

    def _create_entities(self, iam: MotoIam, target: Target) -> TableSeed:
        # Long because it is a list: one step per seed document, each naming its file.
        trust_file = self._trust_policy_file()
        trust = self._fixture(trust_file, target)
        load_document(trust, str(self._fixtures_dir / trust_file))
        role: dict[str, Any] = {"RoleName": target.role_name, "AssumeRolePolicyDocument": trust}
        if (self._fixtures_dir / BOUNDARY_FILE).is_file():
            with _naming(str(self._fixtures_dir / BOUNDARY_FILE)):
                role["PermissionsBoundary"] = self._create_policy(
                    iam,
                    target,
                    "MLPlatformPermissionsBoundary",
                    self._document(BOUNDARY_FILE, target),
                )
        tags = self._tags(target)
        if tags.get("role"):
            role["Tags"] = [{"Key": k, "Value": v} for k, v in tags["role"].items()]
        with _naming(str(self._fixtures_dir / trust_file)), _unless_seeded():
            iam.create_role(**role)
        text, origin = self.task_policy_text(target)
        with _naming(origin):
            arn = self._create_policy(iam, target, target.policy_name, json.loads(text))
        iam.attach_role_policy(RoleName=target.role_name, PolicyArn=arn)
        for path in self._extra(MANAGED_DIR):
            with _naming(str(path)):
                extra = self._create_policy(iam, target, path.stem, self._document(path, target))
            iam.attach_role_policy(RoleName=target.role_name, PolicyArn=extra)
        for path in self._extra(INLINE_DIR):
            with _naming(str(path)):
                iam.put_role_policy(
                    RoleName=target.role_name,
                    PolicyName=path.stem,
                    PolicyDocument=json.dumps(self._document(path, target)),
                )
        return self._fixture_table(target)

    def _trust_policy_file(self) -> Path:
        """``policies/trust_policy.json``, else ``policies/ecs_tasks_trust_policy.json``."""
        found = [
            name
            for name in (WORKLOAD_TRUST_POLICY_FILE, TRUST_POLICY_FILE)
            if (self._fixtures_dir / name).is_file()
        ]
        if len(found) > 1:
            raise ConfigurationError(
                f"{self._fixtures_dir}: both {found[0]} and {found[1]} hold a trust policy "
                "for the role; keep one"
            )
        return found[0] if found else TRUST_POLICY_FILE

    def _fixture_table(self, target: Target) -> TableSeed:
        """The table as fixtures/ describes it: tags.toml's [table], the resource policy."""
        policy = None
        if (self._fixtures_dir / TABLE_POLICY_FILE).is_file():
            policy = self._document(TABLE_POLICY_FILE, target)
            parse_policy(
                policy,
                name="table resource policy",
                kind="resource",
                origin=str(self._fixtures_dir / TABLE_POLICY_FILE),
            )
        return TableSeed(self._tags(target).get("table", {}), policy)

    def _tags(self, target: Target) -> dict[str, dict[str, str]]:
        """``fixtures/tags.toml``: ``[role]`` and ``[table]`` tables of key = "value"."""
        path = self._fixtures_dir / TAGS_FILE
        if not path.is_file():
            return {}
        try:
            data = tomllib.loads(read_file(path, str(path)))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
        found: dict[str, dict[str, str]] = {}
        for name in ("role", "table"):
            table = data.get(name, {})
            if not isinstance(table, dict) or not all(
                isinstance(value, str) for value in table.values()
            ):
                raise ConfigurationError(f'{path}: [{name}] must hold key = "value" pairs')
            found[name] = dict(table)
        unknown = sorted(set(data) - set(found))
        if unknown:
            raise ConfigurationError(
                f"{path}: unknown table [{unknown[0]}]; expected [role], [table]"
            )
        return found

    def _document(self, relative: Path, target: Target) -> dict[str, Any]:
        return load_document(self._fixture(relative, target), str(self._fixtures_dir / relative))

    def _extra(self, relative: Path) -> list[Path]:
        folder = self._fixtures_dir / relative
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def _create_policy(
        self, iam: MotoIam, target: Target, name: str, document: dict[str, Any]
    ) -> str:
        key = (target.account_id, name)
        if key in self._policies:
            # Another target in the same account seeded it: the same fixture, the same
            # ARN (asking moto again costs a refusal and a listing, per target).
            return self._policies[key]
        try:
            arn = create_policy(iam, name, document)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
                raise
            found = iam.policy_arn(name)
            if found is None:  # pragma: no cover (refused as a duplicate, then not there)
                raise
            arn = found
        self._policies[key] = arn
        return arn


@contextmanager
def _unless_seeded() -> Iterator[None]:
    """Leave an entity that another target of the same account already created."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "EntityAlreadyExists",
            "ResourceInUseException",
        ):
            raise


@contextmanager
def _naming(origin: str) -> Iterator[None]:
    """Tag moto's refusal of a document with the file the document came from."""
    try:
        yield
    except ClientError as exc:
        exc.iam_compliance_origin = origin  # type: ignore[attr-defined]
        raise


def _table_state(arn: str, seed: TableSeed) -> TableState:
    policy = None
    if seed.policy is not None:
        policy = parse_policy(
            dict(seed.policy),
            name="table resource policy",
            kind="resource",
            origin=f"{arn} resource policy",
        )
    return TableState(arn=arn, tags=dict(seed.tags), resource_policy=policy)
