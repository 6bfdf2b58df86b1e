"""KMS keys: their grants, their state, and the key use a request to an encrypted resource
implies.

**Implied key use.** A DynamoDB table or an S3 bucket encrypted with a customer managed
key is read and written through that key, and the service uses it on the requester's
behalf, with the requester's permissions (a forward access session: "The requests to
both Amazon S3 and AWS KMS are authorized using the role's permissions and is only
successful if data-reader has permissions to both the Amazon S3 object and the AWS KMS
key", https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html).
Which KMS actions each data action needs (:data:`KEY_USE`):

* DynamoDB: "When you access an encrypted DynamoDB table, DynamoDB needs to decrypt the
  table key ... DynamoDB sends a Decrypt request to AWS KMS ... The user is the principal
  in your AWS account who is accessing the table"
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html,
  "Decrypt"). The table key itself is generated with GenerateDataKey by DynamoDB's own
  account, and the grants are created for whoever chose the key: neither is the
  containers' request. So every item and query action needs ``kms:Decrypt``; table
  metadata (DescribeTable) needs none.
* S3: downloading an SSE-KMS object (GetObject) needs ``kms:Decrypt`` (the forward access
  sessions page's own example), uploading one (PutObject) ``kms:GenerateDataKey``, and "To
  use an AWS KMS key to encrypt a multipart upload, you must have kms:GenerateDataKey and
  kms:Decrypt permissions", which the SDKs use for large files
  (https://repost.aws/knowledge-center/s3-large-file-encryption-kms-key). Whether the
  containers upload in parts is not known here: an upload's ``kms:Decrypt`` that is not
  allowed leaves PutObject undecided, not failed.

An AWS owned key (DynamoDB's default, SSE-S3) needs no permission of the role's, nor does
an AWS managed key (``aws/dynamodb``, ``aws/s3``), whose key policy lets the account's
principals use it through the service
(https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).

**The implied request** (:func:`implied_context`): ``kms:Decrypt`` on the key, by the
same session, with ``kms:ViaService`` ``dynamodb.<region>.amazonaws.com`` and
``kms:CallerAccount`` the role's account (the conditions AWS's key policy for DynamoDB
uses), ``aws:ViaAWSService`` true and ``aws:CalledVia`` the service ("When FAS requests
are made, aws:CalledVia, aws:CalledViaFirst, and aws:CalledViaLast condition keys are
populated with the service principal of the service that initiated the FAS call"), and the
service's encryption context: DynamoDB's ``aws:dynamodb:tableName`` and
``aws:dynamodb:subscriberId`` (same page, "DynamoDB encryption context"), S3's
``aws:s3:arn``, the object's ARN, or the bucket's with an S3 Bucket Key
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context):
its value is not known here beyond the bucket. The service calls KMS itself, not
through the containers' VPC endpoint, so the network keys are absent.

**Grants** (:func:`grant_evidence`): a grant whose grantee is the role, for the
operation, allows it "provided that all conditions specified in the grant are met"
(https://docs.aws.amazon.com/kms/latest/developerguide/grants.html): its
``EncryptionContextEquals`` or ``EncryptionContextSubset`` is compared with the request's
encryption context; where that context is not known, such a grant only might apply.

**Key state**: a key that is not enabled cannot be used in cryptographic operations
("Setting the state of the customer managed key to disabled or scheduling it for
deletion prevents all users and the DynamoDB service from being able to encrypt or
decrypt data", the DynamoDB page above; https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..resources import Grant, KeyDetails, short_name
from .applicability import Evidence
from .principals import RoleSession
from .request import ContextEntry, RequestContext


@dataclass(frozen=True)
class KeyUse:
    """A KMS action a data action needs on the resource's key."""

    #: ``kms:Decrypt``.
    action: str
    #: When only some of the requests need it; empty when every one does.
    only_for: str = ""


_DECRYPT = (KeyUse("kms:Decrypt"),)
#: DynamoDB's item and query actions, which read or write the table's data.
_DYNAMODB_DATA = (
    "BatchGetItem",
    "BatchWriteItem",
    "ConditionCheckItem",
    "DeleteItem",
    "GetItem",
    "PartiQLDelete",
    "PartiQLInsert",
    "PartiQLSelect",
    "PartiQLUpdate",
    "PutItem",
    "Query",
    "Scan",
    "UpdateItem",
)
#: Data action (lower-case) -> the KMS actions it needs on a customer managed key.
KEY_USE: Mapping[str, tuple[KeyUse, ...]] = {
    **{f"dynamodb:{name.lower()}": _DECRYPT for name in _DYNAMODB_DATA},
    "s3:getobject": _DECRYPT,
    "s3:getobjectversion": _DECRYPT,
    "s3:putobject": (
        KeyUse("kms:GenerateDataKey"),
        KeyUse("kms:Decrypt", "uploads in several parts (multipart uploads)"),
    ),
}

#: KMS operations a key that is not enabled refuses (the cryptographic ones).
_CRYPTOGRAPHIC = frozenset(
    {
        "decrypt",
        "encrypt",
        "generatedatakey",
        "generatedatakeypair",
        "generatedatakeypairwithoutplaintext",
        "generatedatakeywithoutplaintext",
        "generatemac",
        "reencryptfrom",
        "reencryptto",
        "sign",
        "verify",
        "verifymac",
    }
)
#: Keys a request through a VPC endpoint carries and the service's own call does not:
#: present "only if the requester uses a VPC endpoint to make the request"
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
_NETWORK_KEYS = (
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:VpcSourceIp",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
)


def key_uses(action: str) -> tuple[KeyUse, ...]:
    """The KMS actions ``action`` needs on its resource's customer managed key."""
    return KEY_USE.get(action.lower(), ())


def refuses(details: KeyDetails | None, action: str) -> str | None:
    """Why the key refuses ``action`` whatever the policies (it is not enabled), if it does."""
    service, _, operation = action.partition(":")
    if details is None or details.state in (None, "Enabled") or service.lower() != "kms":
        return None
    if operation.lower() not in _CRYPTOGRAPHIC:
        return None
    return (
        f"the key is {details.state}: KMS refuses cryptographic operations with a key that "
        "is not enabled"
    )


@dataclass(frozen=True)
class Via:
    """The service that uses a resource's key on the requester's behalf."""

    #: ``dynamodb`` or ``s3``.
    service: str
    region: str
    #: The encryption context the service sends, known keys only.
    context: Mapping[str, str]
    #: Encryption context keys it sends whose value is not known here -> the known start.
    unknown: Mapping[str, str]


def dynamodb_via(table_arn: str) -> Via:
    """DynamoDB's use of a table's key: its region and encryption context."""
    _, _, _, region, account, resource = table_arn.split(":", 5)
    table = resource.split("/")[1]
    return Via(
        "dynamodb",
        region,
        {"aws:dynamodb:tableName": table, "aws:dynamodb:subscriberId": account},
        {},
    )


def s3_via(bucket_arn: str, region: str) -> Via:
    """S3's use of a bucket's key: the object's ARN (or the bucket's), known to start with
    the bucket's."""
    return Via("s3", region, {}, {"aws:s3:arn": bucket_arn})


def implied_context(
    base: RequestContext, via: Via, requester: RoleSession, key_account: str | None
) -> RequestContext:
    """The context of the service's KMS request for ``requester``, from the containers'."""
    source = f"{via.service} uses the key on the role's behalf"
    principal = f"{via.service}.amazonaws.com"
    derived = [
        ContextEntry("kms:ViaService", (f"{via.service}.{via.region}.amazonaws.com",), source),
        ContextEntry("kms:CallerAccount", (requester.account,), "the role's account"),
        ContextEntry("aws:ViaAWSService", ("true",), source),
        ContextEntry("aws:CalledVia", (principal,), source),
        ContextEntry("aws:CalledViaFirst", (principal,), source),
        ContextEntry("aws:CalledViaLast", (principal,), source),
        ContextEntry(
            "kms:EncryptionContextKeys", tuple(sorted({*via.context, *via.unknown})), source
        ),
    ]
    derived.extend(
        ContextEntry(
            f"kms:EncryptionContext:{key}", (value,), f"{via.service}'s encryption context"
        )
        for key, value in via.context.items()
    )
    derived.extend(
        ContextEntry(
            f"kms:EncryptionContext:{key}",
            (),
            f"{via.service}'s encryption context, not known here beyond its start",
            start,
        )
        for key, start in via.unknown.items()
    )
    derived.extend(
        ContextEntry(key, (), f"{via.service} calls KMS itself, not through a VPC endpoint")
        for key in _NETWORK_KEYS
    )
    context = base.with_entries(derived)
    return context.for_resource(key_account, "key's account", None, "key")


def direct_context(base: RequestContext, requester: RoleSession) -> RequestContext:
    """The containers' own KMS request: KMS adds ``kms:CallerAccount`` to every one."""
    return base.with_entries(
        [ContextEntry("kms:CallerAccount", (requester.account,), "the role's account")]
    )


def grant_evidence(
    details: KeyDetails | None,
    key_arn: str,
    requester: RoleSession,
    action: str,
    via: Via | None,
) -> tuple[tuple[Evidence, bool | None], ...]:
    """The key's grants to ``requester`` for ``action``, each with whether it applies
    (None: it might); ``via``: the service's encryption context (None: not known)."""
    if details is None or details.grants is None:
        return ()
    operation = action.partition(":")[2]
    found: list[tuple[Evidence, bool | None]] = []
    for grant in details.grants_to(requester.role_arn) or ():
        if operation not in grant.operations:
            continue
        applies, note = _meets(grant, via)
        label = f"grant {grant.name or grant.grant_id} of {short_name(key_arn)}"
        found.append((Evidence(label, "its operations", "Allow", (), note), applies))
    return tuple(found)


def _meets(grant: Grant, via: Via | None) -> tuple[bool | None, str | None]:
    """Whether the request meets the grant's encryption context constraints."""
    constraints = grant.constraints
    if constraints is None:
        return True, None
    if via is None:
        return None, (
            "the grant applies only for an encryption context, and the containers' own "
            "request's encryption context is not known here"
        )
    wanted = dict(constraints.encryption_context_subset or {})
    exact = constraints.encryption_context_equals
    if exact is not None:
        wanted = dict(exact)
        if set(exact) != {*via.context, *via.unknown}:
            return False, None
    undecided: str | None = None
    for key, value in wanted.items():
        if key in via.context:
            if via.context[key] != value:
                return False, None
        elif key in via.unknown and value.startswith(via.unknown[key]):
            undecided = undecided or (
                f"the grant needs the encryption context {key} = {value}, whose value in "
                f"{via.service}'s request is not known here"
            )
        else:
            return False, None
    return (None, undecided) if undecided else (True, None)
