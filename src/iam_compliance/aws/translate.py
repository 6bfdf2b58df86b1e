"""botocore's errors, translated into the package's own, naming the IAM action needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from ..errors import (
    AccessDeniedError,
    CredentialsError,
    NotFoundError,
    ServiceError,
)

#: How many attempts botocore makes for a read (see connection.CLIENT_CONFIG).
MAX_ATTEMPTS = 5
#: SNS says AuthorizationError
#: (https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html).
_ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
_WRITES = frozenset(
    {"iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"}
)


@contextmanager
def _calling(action: str, resource: str) -> Iterator[None]:
    """Translate botocore's errors for one call into the package's own."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        message = error.get("Message", "")
        if code in _ACCESS_DENIED:
            raise AccessDeniedError(action, resource, f"{code}: {message}") from None
        if code in ("NoSuchEntity", "PolicyNotFoundException"):
            raise NotFoundError(f"{action} {resource}: not found ({message})") from None
        if code == "ResourceNotFoundException":
            raise NotFoundError(
                f"{action} {resource}: the table does not exist ({message}); check "
                "DYNAMODB_TABLE_NAME, AWS_REGION and AWS_ACCOUNT_ID"
            ) from None
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"):
            raise CredentialsError(
                f"{action}: the AWS credentials were rejected ({code}); check "
                "AWS_PROFILE or the AWS_* environment variables"
            ) from None
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        raise ServiceError(
            f"{action} on {resource} failed after {attempts} attempt(s): {code}: {message}",
            code=code,
        ) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise CredentialsError(
            f"{action}: no AWS credentials found; live mode uses boto3's default chain "
            "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, instance role). "
            "Use --aws-mode mock to check the embedded account instead"
        ) from None
    except (SSOError, TokenRetrievalError) as exc:
        raise CredentialsError(
            f"{action}: the AWS SSO sign-in of this profile is missing or has expired "
            f"({_no_secrets(exc)}); sign in with: aws sso login --profile <AWS_PROFILE>"
        ) from None
    except CredentialRetrievalError as exc:
        raise CredentialsError(
            f"{action}: boto3 could not get credentials ({_no_secrets(exc)})"
        ) from None
    except (ConnectionError, HTTPClientError) as exc:
        # botocore has already retried a read MAX_ATTEMPTS times in all; a write, never.
        attempts = 1 if action in _WRITES else MAX_ATTEMPTS
        raise ServiceError(
            f"{action}: no answer from AWS after {attempts} attempt(s) ({_no_secrets(exc)})"
            if attempts == 1
            else f"{action}: could not reach AWS after {attempts} attempt(s) ({_no_secrets(exc)})"
        ) from None
    except (BotoCoreError, ResponseParserError) as exc:
        # ResponseParserError is not a BotoCoreError: an answer botocore cannot read (an
        # endpoint's HTML error page, say) would otherwise escape as a traceback.
        raise ServiceError(f"{action}: {_no_secrets(exc)}") from None


def _no_secrets(exc: BaseException) -> str:
    # botocore's messages carry endpoints and error text, never credentials; keep them short.
    return str(exc).splitlines()[0][:300]
