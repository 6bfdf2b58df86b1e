"""The value that names what one check is about: an account's role, policy and table.

Pure data: :mod:`iam_compliance.config` builds targets from options, the environment and
env files; everything else only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    """Explicit credentials from an env file. Never printed: the repr hides them."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Target:
    """One account's role, policy and table to check."""

    #: ``default``, or the stem of the env file that describes it (``prod``).
    name: str
    region: str
    account_id: str
    table_name: str
    role_name: str
    policy_name: str
    s3_bucket: str
    #: Where the values came from, for messages: ``.env``, ``envs/prod.env``, or None.
    source: str | None = None
    #: An AWS_PROFILE named by the env file or environment.
    profile: str | None = None
    #: Credentials named by the env file itself (not the ambient environment).
    credentials: Credentials | None = None
    #: An AWS-compatible endpoint (AWS_ENDPOINT_URL), e.g. a moto server.
    endpoint_url: str | None = None
    #: The profile that reads the organization's guardrails (ORG_READ_PROFILE).
    org_read_profile: str | None = None
    #: A role to assume to read the organization's guardrails (ORG_READ_ROLE_ARN).
    org_read_role_arn: str | None = None
    #: Where AWS_ACCOUNT_ID came from: ``built-in default``, ``environment``, a file.
    account_origin: str = "built-in default"

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def table_arn(self) -> str:
        return (
            f"arn:{self.partition}:dynamodb:{self.region}:{self.account_id}:table/{self.table_name}"
        )

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.role_name}"

    @property
    def policy_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:policy/{self.policy_name}"
