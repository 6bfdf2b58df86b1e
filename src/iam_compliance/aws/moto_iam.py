"""The embedded account's IAM, written straight into moto's IAM backend.

Seeding the mock through boto3 costs a signed request, moto's parsing of it and a parsed
response for every call: 4.6 ms a target for CreateRole, CreatePolicy and
AttachRolePolicy, against 0.15 ms here (measured with moto 5.2), which in a run of 1,000
targets is most of what is not pytest. The documents are checked by the same moto code
either way: moto's IAM backend, not its request parser, runs its policy document
validator and refuses a duplicate name. What a check reads is still read through boto3
(:class:`~iam_compliance.aws.adapter.AwsAdapter`), as in a real account.

:class:`MotoIam` takes the few calls the seed makes with boto3's parameter names and
raises a moto refusal as boto3 would (a :class:`~botocore.exceptions.ClientError` with
IAM's error code), so a seed does not care which of the two it is handed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError
from moto.iam.models import iam_backends


class MotoIam:
    """IAM of one moto account and partition, for seeding it (its parameters are boto3's,
    by name)."""

    def __init__(self, account_id: str, partition: str) -> None:
        self._backend = iam_backends[account_id][partition]

    def create_role(
        self,
        *,
        RoleName: str,
        AssumeRolePolicyDocument: str,
        Path: str | None = None,
        PermissionsBoundary: str | None = None,
        Tags: Sequence[Mapping[str, str]] = (),
    ) -> None:
        with _as_client_error("CreateRole"):
            self._backend.create_role(
                role_name=RoleName,
                assume_role_policy_document=AssumeRolePolicyDocument,
                path=Path or "/",
                permissions_boundary=PermissionsBoundary,
                description="",
                tags=[dict(tag) for tag in Tags],
                max_session_duration="3600",
            )

    def create_policy(
        self,
        *,
        PolicyName: str,
        PolicyDocument: str,
    ) -> dict[str, Any]:
        """``{"Policy": {"Arn": ...}}``, the part of boto3's answer a seed reads."""
        with _as_client_error("CreatePolicy"):
            policy = self._backend.create_policy(
                description="",
                path="/",
                policy_document=PolicyDocument,
                policy_name=PolicyName,
                tags=[],
            )
        return {"Policy": {"Arn": policy.arn, "PolicyName": PolicyName}}

    def attach_role_policy(self, *, RoleName: str, PolicyArn: str) -> None:
        with _as_client_error("AttachRolePolicy"):
            self._backend.attach_role_policy(PolicyArn, RoleName)

    def put_role_policy(
        self,
        *,
        RoleName: str,
        PolicyName: str,
        PolicyDocument: str,
    ) -> None:
        with _as_client_error("PutRolePolicy"):
            self._backend.put_role_policy(RoleName, PolicyName, PolicyDocument)

    def policy_arn(self, name: str) -> str | None:
        """The ARN of the account's customer managed policy ``name`` (None: there is none)."""
        found = (p.arn for p in self._backend.managed_policies.values() if p.name == name)
        return next(found, None)


@contextmanager
def _as_client_error(operation: str) -> Iterator[None]:
    """moto's refusal as boto3 raises it: ``ClientError`` with IAM's code and message.

    moto's IAM errors carry the code as ``error_type`` (its older exceptions, whose
    ``code`` is the HTTP status) or as ``code`` (its newer ones).
    """
    try:
        yield
    except Exception as exc:
        code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
        message = getattr(exc, "message", None)
        if not isinstance(code, str) or not isinstance(message, str):
            raise
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation) from None
