"""Access Analyzer's second opinion: its answer, or one line saying why it could not be asked."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from iam_compliance.aws.analyzer import check_no_new_access

URL = "https://access-analyzer.us-east-1.amazonaws.com"
ASKED = "IAM Access Analyzer's CheckNoNewAccess"


class Meta:
    endpoint_url = URL


class Analyzer:
    """An Access Analyzer client with one method: answers, or raises ``error``."""

    meta = Meta()

    def __init__(self, error: Exception | None = None, answer: Any = None) -> None:
        self.error = error
        self.answer = answer

    def check_no_new_access(self, **_: Any) -> Any:
        if self.error is not None:
            raise self.error
        return self.answer


def refused(code: str, message: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "CheckNoNewAccess",
    )


@pytest.mark.parametrize(
    ("client", "line"),
    [
        pytest.param(
            Analyzer(answer={"result": "FAIL", "reasons": [{"description": "adds dynamodb:Scan"}]}),
            f"{ASKED}: FAIL (adds dynamodb:Scan)",
            id="answered",
        ),
        pytest.param(
            Analyzer(refused("AccessDeniedException", "User: arn:... is not authorized", 403)),
            f"{ASKED} could not be asked: AccessDeniedException: the caller may not call "
            'access-analyzer:CheckNoNewAccess (see docs/permissions.md, "Second opinions")',
            id="access-denied",
        ),
        pytest.param(
            Analyzer(EndpointConnectionError(endpoint_url=URL)),
            f"{ASKED} could not be asked: {URL} could not be reached",
            id="unreachable",
        ),
        pytest.param(
            Analyzer(refused("500", "<!doctype html>\n<html lang=en>\n<title>500</title>", 500)),
            f"{ASKED} could not be asked: {URL} does not offer it (HTTP 500, an HTML page "
            "rather than an AWS answer)",
            id="an-html-page",
        ),
        pytest.param(
            Analyzer(refused("UnknownOperationException", "unknown", 400)),
            f"{ASKED} could not be asked: {URL} does not offer it (HTTP 400)",
            id="not-supported",
        ),
        pytest.param(
            Analyzer(refused("ValidationException", "policy too long\nsecond line", 400)),
            f"{ASKED} could not be asked: ValidationException: policy too long",
            id="other-error",
        ),
    ],
)
def test_one_line_names_the_answer_or_what_failed(client: Analyzer, line: str) -> None:
    assert check_no_new_access(client, {"Statement": []}, {"Statement": []}) == line
