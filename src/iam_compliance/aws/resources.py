"""The resources requirements name, each read once per run and set of credentials.

:class:`ResourceReads` sits in front of a :class:`ResourceSource`: the live account's
(:mod:`.live_resources`) or the embedded account's (:mod:`.mock_resources`). It reads each
governing resource once, however many targets and requirements name it, then the KMS keys
the resources are encrypted with, and the declared VPC endpoints in one request: the cost
of a run grows with the resources it names, not with its requirements.

A read that fails becomes the resource's state (``unreadable``, or ``not-found``), with
the message naming the action the checker lacks; only the target's own table stops its
target when it cannot be read (:meth:`ResourceReads.table_error`), as before resources
were read at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from ..engine.policy import Policy, parse_policy
from ..engine.resources import (
    EndpointState,
    Governing,
    KeyDetails,
    ReadStatus,
    ResourceState,
    account_in,
    governing_resources,
    kind_of,
    resolve_encryption,
)
from ..errors import AccessDeniedError, AwsError, IamComplianceError, NotFoundError, PolicyError

#: The action that reads each kind of resource's policy (what the embedded account names
#: when it plays a refusal).
POLICY_ACTIONS = {
    "table": "dynamodb:GetResourcePolicy",
    "stream": "dynamodb:GetResourcePolicy",
    "bucket": "s3:GetBucketPolicy",
    "key": "kms:GetKeyPolicy",
    "queue": "sqs:GetQueueAttributes",
    "topic": "sns:GetTopicAttributes",
    "secret": "secretsmanager:GetResourcePolicy",
    "endpoint": "ec2:DescribeVpcEndpoints",
}


class ResourceSource(Protocol):
    """Reads resources: a live account, or the embedded one."""

    def read(self, governing: Governing, *, implied: bool = False) -> ResourceState:
        """The resource's state. ``implied``: a KMS key read because a resource is
        encrypted with it (``governing.arn`` may then be an alias ARN); an AWS managed one
        is described, not read further. Raises when not even its policy can be read."""
        ...

    def read_endpoints(self, ids: Sequence[str]) -> dict[str, EndpointState]:
        """A state for every one of ``ids``, read together."""
        ...


class ResourceReads:
    """Each resource's state, read once through ``source``; safe across threads."""

    def __init__(self, source: ResourceSource) -> None:
        self.source = source
        self._states: dict[str, ResourceState] = {}
        #: Why a resource could not be read, for the target table's own errors.
        self._errors: dict[str, IamComplianceError] = {}
        #: KMS keys read only because something is encrypted with them (an AWS managed
        #: one is then only described): read in full if a requirement names them.
        self._implied: set[str] = set()
        #: A key as a service named it (an alias ARN) -> the key's ARN.
        self._keys: dict[str, str] = {}
        self._endpoints: dict[str, EndpointState] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def state(self, governing: Governing, *, implied: bool = False) -> ResourceState:
        """The resource's state, read on first use."""
        arn = governing.arn
        with self._lock_of(arn):
            if arn in self._states and not (arn in self._implied and not implied):
                return self._states[arn]
            try:
                found = self.source.read(governing, implied=implied)
            except (AwsError, PolicyError) as exc:
                found = failed(governing, exc)
                self._errors[arn] = exc
            else:
                self._errors.pop(arn, None)
            with self._lock:
                self._states[arn] = found
                if implied:
                    self._implied.add(arn)
                else:
                    self._implied.discard(arn)
            return found

    def table_error(self, arn: str) -> IamComplianceError | None:
        """Why the table ``arn`` could not be read, if it could not (read it first)."""
        with self._lock:
            return self._errors.get(arn)

    def states(self, arns: Iterable[str]) -> dict[str, ResourceState]:
        """The governing resources of ``arns``, and the KMS keys they are encrypted with,
        by ARN; each read once."""
        found = {arn: self.state(g) for arn, g in governing_resources(arns).items()}
        for arn, state in list(found.items()):
            encryption = state.encryption
            if encryption is None or encryption.kind != "kms" or not encryption.key_arn:
                continue
            key = self.key(encryption.key_arn)
            found.setdefault(key.arn, key)
            found[arn] = replace(state, encryption=resolve_encryption(encryption, key))
        return found

    def key(self, ref: str) -> ResourceState:
        """The KMS key a resource is encrypted with (``ref``: a key or alias ARN)."""
        with self._lock:
            arn = self._keys.get(ref, ref)
        if arn in self._states:
            return self._states[arn]
        state = self.state(Governing("kms", arn), implied=True)
        if state.arn != arn:  # read through an alias: kept under the key's own ARN too
            with self._lock:
                self._keys[ref] = state.arn
                self._states.setdefault(state.arn, state)
                self._implied.add(state.arn)
        return state

    def endpoints(self, ids: Sequence[str]) -> dict[str, EndpointState]:
        """The VPC endpoints ``ids``, the ones not read yet in one request."""
        with self._lock_of("endpoints"):
            missing = [i for i in dict.fromkeys(ids) if i not in self._endpoints]
            if missing:
                read = self.source.read_endpoints(missing)
                self._endpoints.update({i: read[i] for i in missing})
            return {i: self._endpoints[i] for i in ids}

    def _lock_of(self, key: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())


def failed(governing: Governing, exc: IamComplianceError, **known: Any) -> ResourceState:
    """The state of a resource whose policy could not be read, saying why."""
    status: ReadStatus = "not-found" if isinstance(exc, NotFoundError) else "unreadable"
    return replace(
        ResourceState(
            governing.arn,
            governing.service,
            kind_of(governing),
            status,
            detail=str(exc),
            missing_action=exc.action if isinstance(exc, AccessDeniedError) else None,
            account=account_in(governing.arn),
            region=governing.arn.split(":")[3] or None,
        ),
        **known,
    )


def aws_managed_key(arn: str, details: KeyDetails) -> ResourceState:
    """An AWS managed key read because something is encrypted with it: described only, as
    it implies no permission of the role's own (its key policy lets the account's
    principals use it through the service,
    https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key)."""
    return ResourceState(
        arn,
        "kms",
        "key",
        "unsupported",
        detail="an AWS managed key: its key policy is AWS's, not read",
        account=account_in(arn),
        key=KeyDetails(details.manager, details.state),
    )


def resource_policy(text: str, arn: str, what: str) -> Policy:
    """A resource-based policy as a service answered it, parsed."""
    return parse_policy(text, name=what, kind="resource", origin=f"{arn} {what}")
