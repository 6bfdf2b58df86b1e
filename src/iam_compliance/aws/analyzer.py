"""IAM Access Analyzer's CheckNoNewAccess, a second opinion on a fix in live mode.

Its answer is shown beside the suite's own proof (:mod:`iam_compliance.engine.fix.proof`). A
fix adds the required actions, so Access Analyzer is expected to find new access; what
matters is that it names only those. When it cannot be asked, one line says why (the
endpoint cannot be reached, the caller may not ask, the endpoint does not offer it),
never the endpoint's raw answer (an HTML error page from an AWS-compatible endpoint), and
it is not an error: the suite's own proof stands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

#: A second opinion is not worth a minute of retries: one more attempt, short timeouts.
ANALYZER_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=20
)
ASKED = "IAM Access Analyzer's CheckNoNewAccess"
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_UNSUPPORTED = frozenset(
    {"UnknownOperationException", "InvalidAction", "NotImplemented", "404", "405", "501"}
)


def check_no_new_access(
    client: Any, existing: Mapping[str, Any], proposed: Mapping[str, Any]
) -> str:
    """One line: Access Analyzer's result for ``proposed`` against ``existing``, or why it
    could not be asked."""
    endpoint = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "its endpoint")
    try:
        answer = client.check_no_new_access(
            newPolicyDocument=json.dumps(proposed),
            existingPolicyDocument=json.dumps(existing),
            policyType="IDENTITY_POLICY",
        )
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError):
        return f"{ASKED} could not be asked: {endpoint} could not be reached"
    except ClientError as exc:
        return f"{ASKED} could not be asked: {_refusal(exc, endpoint)}"
    except BotoCoreError as exc:
        return f"{ASKED} could not be asked: {_first_line(str(exc))}"
    reasons = "; ".join(str(reason.get("description", "")) for reason in answer.get("reasons", []))
    result = answer.get("result", "?")
    return f"{ASKED}: {result}" + (f" ({reasons})" if reasons else "")


def _refusal(exc: ClientError, endpoint: str) -> str:
    """Why the call was refused, in words: denied, not offered there, or the error."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = str(error.get("Message") or "")
    if code in _DENIED:
        return (
            f"{code}: the caller may not call access-analyzer:CheckNoNewAccess (see "
            f'docs/permissions.md, "Second opinions")'
        )
    if code in _UNSUPPORTED or _is_html(message):
        return (
            f"{endpoint} does not offer it (HTTP {status or code}"
            + (", an HTML page rather than an AWS answer" if _is_html(message) else "")
            + ")"
        )
    return f"{code or f'HTTP {status}'}: {_first_line(message)}"


def _is_html(text: str) -> bool:
    head = text.lstrip()[:15].lower()
    return head.startswith(("<!doctype html", "<html"))


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return (lines[0] if lines else "no message")[:200]
