"""A call as botocore makes it, and what IAM needs for it.

An :class:`ApiCall` is what the botocore hook sees; :func:`.mapping.translate` turns it
into :class:`Access` values (an IAM action on a resource ARN template), each possibly
carrying :class:`Note` flags that the written file and the terminal repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The placeholders the requirements file understands (engine/requirements.py).
PARTITION = "${AWS_PARTITION}"
REGION = "${AWS_REGION}"
ACCOUNT = "${AWS_ACCOUNT_ID}"


@dataclass(frozen=True)
class ApiCall:
    """One API call, with the parameters its caller gave."""

    #: botocore's service name (``dynamodb``, ``s3``).
    service: str
    #: The operation as botocore spells it (``TransactWriteItems``).
    operation: str
    #: The parameters, before botocore's own handlers change them.
    params: Mapping[str, Any]
    #: The client's region.
    region: str
    #: The partition of the client's region (``aws``, ``aws-cn``).
    partition: str
    #: The service's signing name: the IAM prefix an unmapped operation is recorded under.
    prefix: str

    @property
    def name(self) -> str:
        """How messages name it: ``dynamodb.TransactWriteItems``."""
        return f"{self.service}.{self.operation}"


@dataclass(frozen=True)
class Scope:
    """What the run's own account and region are: ARNs naming them get placeholders."""

    #: The run's own account (``${AWS_ACCOUNT_ID}``).
    account: str
    #: The run's own region (``${AWS_REGION}``); None: each client's own region.
    region: str | None = None


@dataclass(frozen=True)
class Note:
    """A flag on a recorded entry: it could not be decided exactly, or needs a look."""

    #: One of :data:`NOTES`.
    id: str
    #: What this call said that raised it (an alias name, a statement), or "".
    detail: str = ""

    def __str__(self) -> str:
        text = NOTES[self.id]
        return f"{self.id}: {text}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Access:
    """An IAM action a call needs on one resource."""

    #: The IAM action, ``dynamodb:PutItem``.
    action: str
    #: The resource: an ARN template with the run's own partition, region and account as
    #: placeholders, or ``*``.
    resource: str
    #: The call that needs it, ``dynamodb.TransactWriteItems``.
    operation: str
    notes: tuple[Note, ...] = ()


#: Every note a recorded entry may carry: what it means and what to do.
NOTES: Mapping[str, str] = {
    "UNMAPPED": "the mapping does not know this call; it is recorded by its operation name "
    'on "*": look up the IAM action and resource in AWS\'s Service Authorization Reference '
    "and correct this entry",
    "UNREADABLE": "the call's parameters do not name the resource the mapping expects; "
    'recorded on "*"',
    "KMS_ALIAS": "the call names a KMS key by an alias; IAM authorises the key itself (a "
    "policy's Resource must be the key ARN, or use the kms:RequestAlias condition key): "
    "replace the alias ARN with the key's ARN",
    "KMS_KEY_IN_CIPHERTEXT": "the call names no key (a symmetric ciphertext carries it); "
    'recorded on "*": name the key ARN here',
    "SECRETS_BY_FILTER": "BatchGetSecretValue with Filters reads secrets the call does not "
    'name; recorded on "*"',
    "OTHER_ACCOUNT": "a resource in another account: its own resource policy must allow "
    "the role as well",
}
