"""IAM Access Analyzer's CheckNoNewAccess, a second opinion on a fix in live mode.

Its answer is shown beside the suite's own proof (:mod:`iam_compliance.engine.proof`). A
fix adds the required actions, so Access Analyzer is expected to find new access; what
matters is that it names only those. When it cannot be asked (not available in the
region or the endpoint, or not permitted), that is said, and is not an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


def check_no_new_access(
    client: Any, existing: Mapping[str, Any], proposed: Mapping[str, Any]
) -> str:
    """One line: Access Analyzer's result for ``proposed`` against ``existing``."""
    try:
        answer = client.check_no_new_access(
            newPolicyDocument=json.dumps(proposed),
            existingPolicyDocument=json.dumps(existing),
            policyType="IDENTITY_POLICY",
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return (
            "IAM Access Analyzer's CheckNoNewAccess could not be asked "
            f"({error.get('Code') or 'error'}: {str(error.get('Message', ''))[:200]})"
        )
    except BotoCoreError as exc:
        return f"IAM Access Analyzer's CheckNoNewAccess could not be asked ({str(exc)[:200]})"
    reasons = "; ".join(str(reason.get("description", "")) for reason in answer.get("reasons", []))
    result = answer.get("result", "?")
    return f"IAM Access Analyzer's CheckNoNewAccess: {result}" + (
        f" ({reasons})" if reasons else ""
    )
