"""Resource ARNs read from a call's parameters: one function per kind of resource.

Each kind reads named slots (``TableName``, ``Bucket`` and ``Key``...) and builds the
ARN in the format of AWS's Service Authorization Reference ("Resource types" table of
each service). The run's own partition, region and account become the requirements
file's placeholders (``${AWS_PARTITION}``, ``${AWS_REGION}``, ``${AWS_ACCOUNT_ID}``); a
resource named by a whole ARN keeps what differs from the run's own. Text from the call
has each ``$`` doubled, since the requirements file substitutes placeholders.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .model import ACCOUNT, PARTITION, REGION, ApiCall, Note, Scope
from .partiql import read_statement


class Unreadable(Exception):
    """The call does not name its resource where the mapping reads it."""


@dataclass(frozen=True)
class Located:
    """Where a call acts."""

    #: The ARN template, or ``*``.
    arn: str
    #: Whether the call names an object version (S3's ``*Version`` actions).
    version: bool = False
    #: A PartiQL statement's verb.
    verb: str | None = None
    notes: tuple[Note, ...] = ()


class Reader:
    """A rule's slots, read from the current item, then from the call's parameters."""

    def __init__(self, item: Any, call: ApiCall, slots: Mapping[str, str]) -> None:
        self.item = item
        self.call = call
        self.slots = slots

    def given(self, parameter: str) -> bool:
        return self._lookup(parameter) not in (None, "", [], {})

    def get(self, slot: str) -> Any:
        return self._lookup(self.slots[slot])

    def text(self, slot: str) -> str:
        value = self.get(slot)
        if not isinstance(value, str) or not value:
            raise Unreadable(f"no {self.slots[slot]} in the call")
        return value

    def _lookup(self, parameter: str) -> Any:
        if parameter == ".":
            return self.item
        if isinstance(self.item, Mapping) and parameter in self.item:
            return self.item[parameter]
        return self.call.params.get(parameter)


Locate = Callable[[Reader, Scope], Located]


@dataclass(frozen=True)
class Kind:
    """A kind of resource: the slots it reads (with their default parameters), and how."""

    slots: Mapping[str, str]
    locate: Locate


# --- ARNs ---------------------------------------------------------------------------------

#: The six parts of an ARN; the last may hold colons.
_ARN_RE = re.compile(r"arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)", re.DOTALL)


def escape(text: str) -> str:
    """``text`` as the requirements file reads it literally (``$`` doubled)."""
    return text.replace("$", "$$")


def region_of(region: str, call: ApiCall, scope: Scope) -> str:
    own = scope.region if scope.region is not None else call.region
    return REGION if region == own else escape(region)


def owned(call: ApiCall, scope: Scope, service: str, resource: str) -> str:
    """The ARN of a resource the call names by name: in the client's region and the run's
    own account."""
    region = region_of(call.region, call, scope)
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{escape(resource)}"


def from_arn(text: str, call: ApiCall, scope: Scope) -> tuple[str, tuple[Note, ...]]:
    """An ARN the call names, its partition, region and account as placeholders where they
    are the run's own; another account's is kept and noted."""
    match = _ARN_RE.fullmatch(text)
    if match is None:
        raise Unreadable(f"{text!r} is not an ARN")
    partition, service, region, account, resource = match.groups()
    notes: tuple[Note, ...] = ()
    if account == scope.account:
        account = ACCOUNT
    elif account:
        notes = (Note("OTHER_ACCOUNT", account),)
        account = escape(account)
    parts = (
        PARTITION if partition == call.partition else escape(partition),
        escape(service),
        region_of(region, call, scope) if region else "",
        account,
        escape(resource),
    )
    return "arn:" + ":".join(parts), notes


def _is_arn(text: str) -> bool:
    return text.startswith("arn:")


# --- DynamoDB ----------------------------------------------------------------------------


def _table(name: str, call: ApiCall, scope: Scope) -> tuple[str, tuple[Note, ...]]:
    # TableName may be the table's ARN ("table name overloading"):
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-iam-actions.html
    if _is_arn(name):
        return from_arn(name, call, scope)
    return owned(call, scope, "dynamodb", f"table/{name}"), ()


def _dynamodb_table(read: Reader, scope: Scope) -> Located:
    arn, notes = _table(read.text("name"), read.call, scope)
    return Located(arn, notes=notes)


def _dynamodb_index(read: Reader, scope: Scope) -> Located:
    arn, notes = _table(read.text("name"), read.call, scope)
    return Located(f"{arn}/index/{escape(read.text('index'))}", notes=notes)


def _dynamodb_partiql(read: Reader, scope: Scope) -> Located:
    text = read.text("statement")
    statement = read_statement(text)
    if statement is None:
        first = text.strip().split(None, 1)[0][:20] if text.strip() else ""
        return Located("*", verb=None, notes=(Note("UNMAPPED", f"statement {first!r}..."),))
    arn, notes = _table(statement.table, read.call, scope)
    if statement.index is not None:
        arn = f"{arn}/index/{escape(statement.index)}"
    return Located(arn, verb=statement.verb, notes=notes)


# --- S3 ----------------------------------------------------------------------------------


def _bucket_arn(bucket: str, read: Reader, scope: Scope) -> tuple[str, tuple[Note, ...]]:
    if _is_arn(bucket):
        # An access point ARN stands for the bucket: its objects are ".../object/<key>".
        if ":accesspoint/" not in bucket:
            raise Unreadable(f"Bucket {bucket!r} is an ARN of a kind this mapping does not read")
        return from_arn(bucket, read.call, scope)
    return f"arn:{PARTITION}:s3:::{escape(bucket)}", ()


def _object_arn(bucket: str, key: str, read: Reader, scope: Scope) -> Located:
    arn, notes = _bucket_arn(bucket, read, scope)
    separator = "/object/" if _is_arn(bucket) else "/"
    return Located(f"{arn}{separator}{escape(key)}", notes=notes)


def _s3_bucket(read: Reader, scope: Scope) -> Located:
    arn, notes = _bucket_arn(read.text("bucket"), read, scope)
    return Located(arn, notes=notes)


def _s3_object(read: Reader, scope: Scope) -> Located:
    located = _object_arn(read.text("bucket"), read.text("key"), read, scope)
    return Located(located.arn, version=bool(read.get("version")), notes=located.notes)


def _s3_copy_source(read: Reader, scope: Scope) -> Located:
    """CopySource: ``{"Bucket", "Key", "VersionId"}`` or ``bucket/key[?versionId=v]``,
    URL-encoded (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""
    source = read.get("source")
    if isinstance(source, Mapping):
        bucket, key = source.get("Bucket"), source.get("Key")
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket:
            raise Unreadable("CopySource names no Bucket and Key")
        located = _object_arn(bucket, key, read, scope)
        return Located(located.arn, version=bool(source.get("VersionId")), notes=located.notes)
    if not isinstance(source, str) or not source:
        raise Unreadable("no CopySource in the call")
    path, _, query = source.lstrip("/").partition("?")
    version = bool(urllib.parse.parse_qs(query).get("versionId"))
    path = urllib.parse.unquote(path)
    if _is_arn(path):
        arn, notes = from_arn(path, read.call, scope)
        return Located(arn, version=version, notes=notes)
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise Unreadable(f"CopySource {source!r} is not bucket/key")
    located = _object_arn(bucket, key, read, scope)
    return Located(located.arn, version=version, notes=located.notes)


# --- SQS and SNS -------------------------------------------------------------------------


def _queue(name: str, account: str, read: Reader, scope: Scope) -> Located:
    notes: tuple[Note, ...] = ()
    if account == scope.account:
        account = ACCOUNT
    else:
        notes = (Note("OTHER_ACCOUNT", account),)
        account = escape(account)
    region = region_of(read.call.region, read.call, scope)
    return Located(f"arn:{PARTITION}:sqs:{region}:{account}:{escape(name)}", notes=notes)


def _sqs_queue_url(read: Reader, scope: Scope) -> Located:
    """A queue URL ends in ``/<account>/<name>``
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html);
    its region is the client's, whose endpoint serves it."""
    url = read.text("url")
    segments = [s for s in urllib.parse.urlsplit(url).path.split("/") if s]
    if len(segments) < 2 or not segments[-2].isdigit():
        raise Unreadable(f"QueueUrl {url!r} does not end in /<account>/<queue>")
    return _queue(segments[-1], segments[-2], read, scope)


def _sqs_queue_name(read: Reader, scope: Scope) -> Located:
    owner = read.get("owner")
    account = owner if isinstance(owner, str) and owner else scope.account
    return _queue(read.text("name"), account, read, scope)


def _arn(read: Reader, scope: Scope) -> Located:
    arn, notes = from_arn(read.text("arn"), read.call, scope)
    return Located(arn, notes=notes)


def _sns_topic_name(read: Reader, scope: Scope) -> Located:
    return Located(owned(read.call, scope, "sns", read.text("name")))


# --- KMS ---------------------------------------------------------------------------------


def _kms_key(read: Reader, scope: Scope) -> Located:
    """KeyId: a key id, a key ARN, ``alias/name`` or an alias ARN
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html)."""
    key = read.text("key")
    if _is_arn(key):
        arn, notes = from_arn(key, read.call, scope)
        if ":alias/" in key:
            notes = (*notes, Note("KMS_ALIAS", key.rpartition(":")[2]))
        return Located(arn, notes=notes)
    if key.startswith("alias/"):
        return Located(owned(read.call, scope, "kms", key), notes=(Note("KMS_ALIAS", key),))
    return Located(owned(read.call, scope, "kms", f"key/{key}"))


# --- Secrets Manager ---------------------------------------------------------------------

#: A complete secret ARN ends in "-" and six characters Secrets Manager chose; a name, or
#: an ARN without them, is matched with "-??????"
#: (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html,
#: https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen).
_SECRET_SUFFIX_RE = re.compile(r"-[A-Za-z0-9]{6}")
_ANY_SUFFIX = "-??????"


def _secret(read: Reader, scope: Scope) -> Located:
    secret = read.text("secret")
    if _is_arn(secret):
        arn, notes = from_arn(secret, read.call, scope)
        name = secret.rpartition(":secret:")[2]
        complete = _SECRET_SUFFIX_RE.fullmatch(name[-7:]) is not None
        return Located(arn if complete else arn + _ANY_SUFFIX, notes=notes)
    return Located(owned(read.call, scope, "secretsmanager", f"secret:{secret}") + _ANY_SUFFIX)


def _secret_name(read: Reader, scope: Scope) -> Located:
    name = read.text("name")
    return Located(owned(read.call, scope, "secretsmanager", f"secret:{name}") + _ANY_SUFFIX)


# --- CloudWatch Logs ---------------------------------------------------------------------


def _group(read: Reader, scope: Scope) -> tuple[str, tuple[Note, ...]]:
    """The log group's ARN without a trailing ``:*``; logGroupIdentifier (a name or an
    ARN) wins over logGroupName."""
    identifier = read.get("identifier")
    if isinstance(identifier, str) and identifier:
        if _is_arn(identifier):
            return from_arn(identifier.removesuffix(":*"), read.call, scope)
        return owned(read.call, scope, "logs", f"log-group:{identifier}"), ()
    return owned(read.call, scope, "logs", f"log-group:{read.text('group')}"), ()


def _log_group(read: Reader, scope: Scope) -> Located:
    # In a policy a log group's ARN ends in ":*" for every action but tagging
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
    arn, notes = _group(read, scope)
    return Located(f"{arn}:*", notes=notes)


def _log_stream(read: Reader, scope: Scope) -> Located:
    arn, notes = _group(read, scope)
    return Located(f"{arn}:log-stream:{escape(read.text('stream'))}", notes=notes)


def _nothing(read: Reader, scope: Scope) -> Located:
    return Located("*")


#: Every kind a rule may name, with the parameters its slots read by default.
KINDS: Mapping[str, Kind] = {
    "*": Kind({}, _nothing),
    "dynamodb-table": Kind({"name": "TableName"}, _dynamodb_table),
    "dynamodb-index": Kind({"name": "TableName", "index": "IndexName"}, _dynamodb_index),
    "dynamodb-partiql": Kind({"statement": "Statement"}, _dynamodb_partiql),
    "s3-bucket": Kind({"bucket": "Bucket"}, _s3_bucket),
    "s3-object": Kind({"bucket": "Bucket", "key": "Key", "version": "VersionId"}, _s3_object),
    "s3-copy-source": Kind({"source": "CopySource"}, _s3_copy_source),
    "sqs-queue-url": Kind({"url": "QueueUrl"}, _sqs_queue_url),
    "sqs-queue-name": Kind(
        {"name": "QueueName", "owner": "QueueOwnerAWSAccountId"}, _sqs_queue_name
    ),
    "arn": Kind({"arn": "ResourceArn"}, _arn),
    "sns-topic-name": Kind({"name": "Name"}, _sns_topic_name),
    "kms-key": Kind({"key": "KeyId"}, _kms_key),
    "secret": Kind({"secret": "SecretId"}, _secret),
    "secret-name": Kind({"name": "Name"}, _secret_name),
    "log-group": Kind({"group": "logGroupName", "identifier": "logGroupIdentifier"}, _log_group),
    "log-stream": Kind(
        {"group": "logGroupName", "identifier": "logGroupIdentifier", "stream": "logStreamName"},
        _log_stream,
    ),
}
