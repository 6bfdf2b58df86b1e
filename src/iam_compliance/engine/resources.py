"""What was read about the resources a requirement names: the pure model the evaluator uses.

A requirement names a resource (``arn:aws:s3:::ml-platform-artifacts/*``); the policy that
governs it is another resource's: a bucket's for its objects, a table's for its indexes
(:func:`governing_resource`). The adapter reads each governing resource once per run and
account, whatever the number of requirements naming it, and describes it as a
:class:`ResourceState`: its resource-based policy (or why there is none to use), its tags
where they are cheap, the KMS key it is encrypted with, and, for a KMS key, its manager
and grants. VPC endpoints declared as ``aws:SourceVpce`` are read as
:class:`EndpointState`.

Nothing here decides: a state that could not be read says so (``status``, ``detail``,
``missing_action``), so that what depends on it is "could not be decided", never allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .policy import Policy

#: How a resource's policy was read:
#: ``read`` (it has one: ``resource_policy``), ``none`` (it has none),
#: ``unreadable`` (AWS refused or failed the read: ``detail``, ``missing_action``),
#: ``unsupported`` (a pattern, or a service whose policies are not read),
#: ``not-found`` (no such resource).
ReadStatus = Literal["read", "none", "unreadable", "unsupported", "not-found"]
#: How a resource is encrypted at rest, as far as IAM is concerned:
#: ``none`` (not encrypted, or no default encryption), ``service`` (keys the service owns:
#: DynamoDB's AWS owned key, SSE-S3, SQS managed SSE: no KMS permission involved),
#: ``aws-managed`` (an AWS managed KMS key such as ``aws/s3``: its policy lets the
#: account's principals use it through the service), ``customer-managed`` (a customer
#: managed key: its key policy and grants decide), ``kms`` (a KMS key whose manager was not
#: read), ``unknown`` (the encryption could not be read: ``detail``).
EncryptionKind = Literal["none", "service", "aws-managed", "customer-managed", "kms", "unknown"]
#: Who manages a KMS key (DescribeKey's KeyManager).
KeyManager = Literal["AWS", "CUSTOMER"]

#: The services whose resource-based policies are read, by ARN service name.
READ_SERVICES = frozenset({"dynamodb", "s3", "kms", "sqs", "sns", "secretsmanager"})
#: A secret ARN pattern's "any suffix": Secrets Manager appends "-" and six random
#: characters to a secret's name in its ARN, which policies match with "-??????"
#: (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html,
#: https://docs.aws.amazon.com/secretsmanager/latest/userguide/permissions_grant-limited-resources.html).
SECRET_SUFFIX_PATTERN = "-??????"
_SECRET_PREFIX = "secret:"
_TABLE_RE = re.compile(r"table/(?P<name>[^/]+)(?:/(?P<part>index|stream)/(?P<rest>.+))?")


class Governing(NamedTuple):
    """The resource whose policy governs a requirement's resource, and its service."""

    service: str
    arn: str


def governing_resource(arn: str) -> Governing | None:
    """The resource whose policy governs requests to ``arn``; None when none is read.

    * DynamoDB: a table, and its indexes, are governed by the table's policy ("You can
      control index permissions using the base table's policy",
      https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html);
      a stream by its own policy.
    * S3: a bucket, and every object in it, by the bucket's policy
      (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html).
    * A KMS key, an SQS queue, an SNS topic, a secret: by their own policy. A secret named
      with its "any suffix" pattern (``secret:db-creds-??????``) is read by its name.

    A pattern over several resources (a bucket ``ml-*``, ``table/*``), a KMS alias, and
    resources of other services give None: their policies are not read.
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, partition, service, region, account, resource = parts
    if service == "s3":
        # Buckets have neither region nor account in their ARN; access points and jobs do.
        bucket = resource.split("/", 1)[0]
        if region or account or not bucket or _is_pattern(bucket):
            return None
        return Governing("s3", f"arn:{partition}:s3:::{bucket}")
    if service not in READ_SERVICES or _is_pattern(f"{region}:{account}") or not resource:
        return None
    prefix = f"arn:{partition}:{service}:{region}:{account}:"
    if service == "dynamodb":
        return _dynamodb(prefix, resource)
    if service == "kms":
        kind, _, key = resource.partition("/")
        if kind != "key" or not key or _is_pattern(key) or "/" in key:
            return None
        return Governing("kms", arn)
    if service in ("sqs", "sns"):
        # A queue or topic name; an SNS subscription (topic:id) has no policy of its own.
        if _is_pattern(resource) or ":" in resource or "/" in resource:
            return None
        return Governing(service, arn)
    # secretsmanager
    if not resource.startswith(_SECRET_PREFIX):
        return None
    name = resource.removeprefix(_SECRET_PREFIX).removesuffix(SECRET_SUFFIX_PATTERN)
    if not name or _is_pattern(name):
        return None
    return Governing("secretsmanager", f"{prefix}{_SECRET_PREFIX}{name}")


def _dynamodb(prefix: str, resource: str) -> Governing | None:
    match = _TABLE_RE.fullmatch(resource)
    if match is None or _is_pattern(match["name"]):
        return None
    table = f"{prefix}table/{match['name']}"
    if match["part"] == "stream":
        label = match["rest"]
        if _is_pattern(label) or "/" in label:
            return None
        return Governing("dynamodb", f"{table}/stream/{label}")
    # The table itself, or any of its indexes (a pattern over index names included).
    return Governing("dynamodb", table)


def _is_pattern(text: str) -> bool:
    """IAM's wildcards, and policy variables, which make a name stand for several."""
    return any(char in text for char in "*?$")


def governing_resources(arns: Iterable[str]) -> dict[str, Governing]:
    """Each distinct governing resource of ``arns``, by its ARN, in first-seen order."""
    found: dict[str, Governing] = {}
    for arn in arns:
        governing = governing_resource(arn)
        if governing is not None:
            found.setdefault(governing.arn, governing)
    return found


#: How verdicts name each kind of resource's policy.
_POLICY_NAMES = {
    "table": "table resource policy",
    "stream": "stream resource policy",
    "bucket": "bucket policy",
    "key": "key policy",
    "queue": "queue policy",
    "topic": "topic policy",
    "secret": "secret policy",
}


def policy_name(kind: str, arn: str) -> str:
    """How verdicts name a resource's policy: ``bucket policy of ml-platform-artifacts``,
    ``key policy of key/1234abcd-...``, ``queue policy of ml-jobs-queue``."""
    return f"{_POLICY_NAMES.get(kind, 'resource policy')} of {short_name(arn)}"


def short_name(arn: str) -> str:
    """An ARN's resource part: ``ml-platform-artifacts``, ``key/1234...``, ``table/ml-jobs``."""
    if arn.startswith("arn:") and ":::" in arn:
        return arn.split(":::", 1)[1]
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return arn
    return parts[5].removeprefix(_SECRET_PREFIX)


def kind_of(governing: Governing) -> str:
    """What the resource is: table, stream, bucket, key, queue, topic or secret."""
    if governing.service == "dynamodb":
        return "stream" if "/stream/" in governing.arn else "table"
    return {
        "s3": "bucket",
        "kms": "key",
        "sqs": "queue",
        "sns": "topic",
        "secretsmanager": "secret",
    }.get(governing.service, "resource")


def account_in(arn: str) -> str | None:
    """The account field of an ARN; None when it has none (an S3 bucket's)."""
    parts = arn.split(":", 5)
    return (parts[4] or None) if len(parts) == 6 else None


@dataclass(frozen=True)
class GrantConstraints:
    """A KMS grant's encryption context constraints."""

    #: The grant applies only when the request's encryption context is exactly this.
    encryption_context_equals: Mapping[str, str] | None = None
    #: The grant applies only when the request's encryption context includes this.
    encryption_context_subset: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Grant:
    """One grant of a KMS key (ListGrants)."""

    grant_id: str
    #: The principal the grant lets use the key (an ARN, or a service principal).
    grantee_principal: str
    #: The KMS operations it allows (``Decrypt``, ``GenerateDataKey``, ...).
    operations: tuple[str, ...]
    name: str | None = None
    #: None: the grant applies whatever the encryption context.
    constraints: GrantConstraints | None = None


@dataclass(frozen=True)
class KeyDetails:
    """What DescribeKey and ListGrants said about a KMS key."""

    #: AWS or CUSTOMER; None when DescribeKey could not be read.
    manager: KeyManager | None = None
    #: ``Enabled``, ``Disabled``, ``PendingDeletion``, ...; None when not read.
    state: str | None = None
    #: Every grant of the key; None when ListGrants was not or could not be read.
    grants: tuple[Grant, ...] | None = None
    #: What could not be read, and why (names the action the checker lacks).
    detail: str = ""

    def grants_to(self, principal: str) -> tuple[Grant, ...] | None:
        """The grants whose grantee is ``principal``; None when the grants are not known."""
        if self.grants is None:
            return None
        return tuple(g for g in self.grants if g.grantee_principal == principal)


@dataclass(frozen=True)
class Encryption:
    """How a resource is encrypted at rest."""

    kind: EncryptionKind
    #: The KMS key's ARN (``customer-managed``, ``aws-managed`` when known, ``kms``; for
    #: ``unknown`` the key as the service named it, when it named one).
    key_arn: str | None = None
    #: Why it is ``unknown``, or ``kms``.
    detail: str = ""

    @property
    def customer_key(self) -> str | None:
        """The customer managed key that using the resource implies using, if any."""
        return self.key_arn if self.kind == "customer-managed" else None

    @property
    def is_known(self) -> bool:
        """Whether it is known which key, if any, using the resource implies."""
        return self.kind not in ("kms", "unknown")


@dataclass(frozen=True)
class ResourceState:
    """What was read about one governing resource."""

    #: The governing resource's ARN: a bucket's for its objects, a table's for its
    #: indexes; a secret's as named (``secret:db-creds``, without the random suffix).
    arn: str
    #: ``dynamodb``, ``s3``, ``kms``, ``sqs``, ``sns`` or ``secretsmanager``.
    service: str
    #: ``table``, ``stream``, ``bucket``, ``key``, ``queue``, ``topic`` or ``secret``.
    kind: str
    #: How its resource-based policy was read.
    status: ReadStatus
    #: Its resource-based policy (a KMS key's key policy), parsed with kind "resource";
    #: None unless ``status`` is ``read``.
    resource_policy: Policy | None = None
    #: Why it could not be read, or was not (a message naming the action and resource).
    detail: str = ""
    #: The IAM action the checker was refused (AccessDenied), when that is why.
    missing_action: str | None = None
    #: Its tags, where they are cheap to read (tables); None when not read.
    tags: Mapping[str, str] | None = None
    #: Its encryption at rest; None where it does not apply (streams, keys) or was not read.
    encryption: Encryption | None = None
    #: The account that owns it: its ARN's; a bucket's when S3 confirmed it
    #: (ExpectedBucketOwner); None when not known.
    account: str | None = None
    #: Whether it belongs to another account than the target's; None when not known.
    cross_account: bool | None = None
    #: Its region, when known (a bucket's from GetBucketLocation).
    region: str | None = None
    #: A KMS key's manager, state and grants.
    key: KeyDetails | None = None

    @property
    def is_read(self) -> bool:
        """Whether its policy is known: it has one (read), or it has none."""
        return self.status in ("read", "none")


@dataclass(frozen=True)
class EndpointState:
    """A VPC endpoint declared as ``aws:SourceVpce``, as DescribeVpcEndpoints described it."""

    #: ``vpce-0a1b2c3d``.
    id: str
    #: ``read`` (its policy is ``policy``), ``none`` (it has no policy: the service allows
    #: every request through it), ``unreadable``, ``not-found``.
    status: ReadStatus
    #: ``com.amazonaws.us-east-1.s3``.
    service_name: str | None = None
    #: ``Gateway``, ``Interface``, ...
    endpoint_type: str | None = None
    #: The account that owns the endpoint.
    account: str | None = None
    #: The endpoint policy, parsed as a resource-based policy (it has a Principal).
    policy: Policy | None = None
    detail: str = ""
    missing_action: str | None = None


def not_read(arn: str) -> ResourceState:
    """The state of a resource whose policy is not read, and why."""
    service = arn.split(":", 3)[2] if arn.count(":") >= 3 else ""
    if service in READ_SERVICES:
        why = f"{arn} names no single {service} resource whose policy is read (a pattern?)"
    else:
        why = f"resource-based policies of {service or 'this resource'} are not read"
    return ResourceState(arn, service, "resource", "unsupported", detail=why)


def state_for(arn: str, resources: Mapping[str, ResourceState]) -> ResourceState:
    """The state of the resource governing requests to ``arn`` (a requirement's ARN)."""
    governing = governing_resource(arn)
    if governing is None:
        return not_read(arn)
    found = resources.get(governing.arn)
    if found is None:
        return ResourceState(
            governing.arn,
            governing.service,
            kind_of(governing),
            "unsupported",
            detail=f"{governing.arn} was not read in this run",
        )
    return found


def resolve_encryption(encryption: Encryption, key: ResourceState | None) -> Encryption:
    """A ``kms`` encryption made definite by its key's state (DescribeKey's KeyManager)."""
    if encryption.kind != "kms":
        return encryption
    details = key.key if key is not None else None
    if key is None or details is None or details.manager is None:
        why = (details.detail if details is not None else "") or (
            key.detail if key is not None else "its key was not read"
        )
        return Encryption("unknown", encryption.key_arn, f"whose key it is is not known: {why}")
    kind: EncryptionKind = "aws-managed" if details.manager == "AWS" else "customer-managed"
    return Encryption(kind, key.arn)


def endpoint_ids(context: Mapping[str, str | Sequence[str]]) -> tuple[str, ...]:
    """The VPC endpoints declared as ``aws:SourceVpce`` (key compared ignoring case)."""
    found: dict[str, None] = {}
    for key, values in context.items():
        if key.lower() != "aws:sourcevpce":
            continue
        for value in [values] if isinstance(values, str) else values:
            if value and not _is_pattern(value):
                found.setdefault(value, None)
    return tuple(found)


@dataclass(frozen=True)
class ResourceNeeds:
    """What to read for one target besides its role and table."""

    #: ARNs named by its requirements (and by entries that forbid access): their
    #: governing resources are read.
    arns: tuple[str, ...] = ()
    #: VPC endpoint ids declared as ``aws:SourceVpce``.
    endpoints: tuple[str, ...] = ()
