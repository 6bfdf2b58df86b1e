"""The errors iam-compliance raises, so users see one clear message instead of a traceback.

The tree::

    IamComplianceError            anything this package reports as a failure to check
    ├── ConfigurationError        bad options, environment or data files (a usage error)
    ├── PolicyError               a policy document that is not a valid IAM policy
    └── AwsError                  talking to AWS went wrong
        ├── CredentialsError      no credentials could be found
        ├── AccessDeniedError     the checker's own identity may not make a call
        ├── NotFoundError         the role or policy does not exist, or is not attached
        ├── WrongAccountError     the credentials belong to another account
        ├── ConcurrentChangeError the policy changed between reading and writing
        └── ServiceError          anything else the service answered (after retries)
    RemediationError              a fix was refused, or applying it failed part-way

Every message names the input it is about and what was expected.
"""

from __future__ import annotations


class IamComplianceError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(IamComplianceError):
    """An option, environment variable, env file or data file is invalid."""


class PolicyError(IamComplianceError):
    """A policy document is malformed: not JSON, or not shaped like an IAM policy.

    ``origin`` names where the document came from (a file path, or a policy name
    and version); ``line`` and ``column`` are 1-based when known.
    """

    def __init__(
        self,
        origin: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.origin = origin
        self.problem = problem
        self.line = line
        self.column = column
        where = origin if line is None else f"{origin}: line {line} column {column}"
        super().__init__(f"{where}: {problem}")


class AwsError(IamComplianceError):
    """Base class of errors from talking to AWS."""


class CredentialsError(AwsError):
    """No AWS credentials were found by boto3's credential chain."""


class AccessDeniedError(AwsError):
    """The checker's own identity was refused a call it needs.

    ``action`` is the IAM action (``iam:GetRole``) to grant the checker.
    """

    def __init__(self, action: str, resource: str, detail: str) -> None:
        self.action = action
        self.resource = resource
        super().__init__(
            f"access denied: the identity running the checker needs {action} on "
            f"{resource} ({detail})"
        )


class NotFoundError(AwsError):
    """The role or policy named in the configuration does not exist or is not attached."""


class WrongAccountError(AwsError):
    """The caller's account is not the configured AWS_ACCOUNT_ID."""


class ConcurrentChangeError(AwsError):
    """The policy's default version changed between reading and writing it."""


class ServiceError(AwsError):
    """AWS answered with an error other than the ones above, after retrying.

    ``code`` is AWS's error code (``Throttling``), when AWS answered at all.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(message)


class RemediationError(IamComplianceError):
    """A fix was refused, or applying it failed part-way.

    ``record_path`` is where the record of the attempt was saved, when one was.
    ``own_version_is_default`` is True when the version this run created is the policy's
    default all the same (a fix that stands, though something after it failed).
    """

    def __init__(
        self,
        message: str,
        *,
        record_path: str | None = None,
        own_version_is_default: bool = False,
    ) -> None:
        self.record_path = record_path
        self.own_version_is_default = own_version_is_default
        super().__init__(message)
