"""Keep AWS credentials out of log records: botocore's DEBUG log carries them.

At DEBUG, botocore logs each request's headers (``X-Amz-Security-Token``, the access key id
in ``Authorization``), the canonical request it signs, and response bodies such as
sts:AssumeRole's, which hold a secret access key and a session token. pytest captures those
records into the terminal and the HTML report, which CI uploads. :class:`CredentialRedactor`
rewrites every record as it is made (a log record factory, so records of child loggers such
as ``botocore.endpoint`` are covered too, in every process of a pytest-xdist run).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

#: What replaces a credential.
REDACTED = "[redacted]"

#: Credentials by their shape: access key ids, and the values of the fields and headers
#: that carry secrets in botocore's log (XML and JSON bodies, headers, canonical requests).
_PATTERNS = (
    re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{12,}\b"),
    re.compile(
        r"(?i)(<(?:SecretAccessKey|SessionToken|AccessKeyId)>)[^<]*(</)",
    ),
    re.compile(
        r"(?i)([\"'](?:secretAccessKey|sessionToken|accessKeyId|SecretAccessKey|SessionToken"
        r"|AccessKeyId)[\"']\s*:\s*b?[\"'])[^\"']*([\"'])"
    ),
    re.compile(r"(?i)(x-amz-security-token[\"']?\s*[:=]\s*b?[\"']?)[^\"'\s,}&]+()"),
    re.compile(r"(?i)(aws_(?:secret_access_key|session_token)\s*=\s*)\S+()"),
)


class CredentialRedactor:
    """A log record factory that redacts credentials: known values and known shapes.

    ``install`` wraps the current factory; ``uninstall`` puts it back.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._previous: Callable[..., logging.LogRecord] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Redact these exact values too (a credential of the run, whatever its shape)."""
        self._secrets.update(s for s in secrets if s and len(s) >= 8)

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            if pattern.groups:
                text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2)}", text)
            else:
                text = pattern.sub(REDACTED, text)
        return text

    def install(self) -> None:
        if self._previous is None:
            self._previous = logging.getLogRecordFactory()
            logging.setLogRecordFactory(self._make)

    def uninstall(self) -> None:
        if self._previous is not None:
            logging.setLogRecordFactory(self._previous)
            self._previous = None

    def _make(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        assert self._previous is not None
        record = self._previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit: leave it to logging
            return record
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record
