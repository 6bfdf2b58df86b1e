"""The value that names what one check is about: an account's role, policy and table.

Pure data: :mod:`iam_compliance.config` builds targets from options, the environment and
env files; everything else only reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import ConfigurationError

#: ``${NAME}``, ``$$`` (a ``$``), another ``${...}`` (an IAM policy variable such as
#: ``${aws:username}`` or one of IAM's escapes ``${*}``, left as written), or a stray ``$``.
_PLACEHOLDER = re.compile(
    r"\$(?:\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<dollar>\$)|(?P<iam>\{[^}]*\})|(?P<stray>))"
)


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
        """The role's ARN as configured, for messages before the role is read: a role with
        a path (``role/ml-platform/Name``) has another, which verdicts take from IAM
        (``RoleSnapshot.role_arn``, GetRole's ``Arn``)."""
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.role_name}"

    @property
    def policy_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:policy/{self.policy_name}"


def placeholders(target: Target) -> dict[str, str]:
    """The ``${NAME}`` placeholders of seed documents, policy files and required-action
    ARNs, and their values for ``target``."""
    return {
        "AWS_PARTITION": target.partition,
        "AWS_REGION": target.region,
        "AWS_ACCOUNT_ID": target.account_id,
        "DYNAMODB_TABLE_NAME": target.table_name,
        "S3_BUCKET_NAME": target.s3_bucket,
        "ECS_TASK_ROLE_NAME": target.role_name,
        "ECS_TASK_POLICY_NAME": target.policy_name,
    }


def fill_placeholders(text: str, target: Target, origin: str) -> str:
    """``text`` with every ``${NAME}`` placeholder filled for ``target``.

    The one filler of ``${...}`` placeholders: seed documents, a bare ``--iam-policy-file``
    and required-action ARNs. ``$$`` is a ``$``; a ``${...}`` that is no NAME (an IAM policy
    variable, ``${aws:username}``, or an escape, ``${*}``) stays as written. An unknown
    NAME or a stray ``$`` is an error naming ``origin``.
    """
    values = placeholders(target)

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is not None:
            if name not in values:
                raise ConfigurationError(
                    f"{origin}: unknown placeholder {name!r}; use "
                    + ", ".join("${" + known + "}" for known in values)
                )
            return values[name]
        if match.group("dollar") is not None:
            return "$"
        if match.group("iam") is not None:
            return match.group(0)
        raise ConfigurationError(
            f"{origin}: unknown placeholder: a '$' at offset {match.start()} starts no "
            "${NAME} (write $$ for a '$')"
        )

    return _PLACEHOLDER.sub(fill, text)
