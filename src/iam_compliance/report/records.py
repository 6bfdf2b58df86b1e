"""Remediation records: one JSON file per --fix, saved again at every step of the fix.

The record itself is built by :func:`iam_compliance.engine.fix.rollout.apply_fix`; this module
only names and writes it (``reports/remediation-<UTC time>[-<target>].json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from .files import reserve, write_text


def record_filename(now: datetime) -> str:
    """``remediation-20261127T221405Z.json`` for a timezone-aware ``now``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(
            f"record_filename needs a timezone-aware datetime, got naive {now.isoformat()}"
        )
    return f"remediation-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"


class RecordWriter:
    """Writes one fix's record, again and again, always to the same reserved file.

    ``suffix`` tells apart the records of several targets fixed in the same second
    (``-prod``); ``clock`` names the file.
    """

    def __init__(
        self,
        folder: Path,
        *,
        suffix: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.folder = folder
        self.suffix = suffix
        self.clock = clock
        self.path: Path | None = None

    def __call__(self, record: Mapping[str, object]) -> str:
        if self.path is None:
            stem = record_filename(self.clock()).removesuffix(".json") + self.suffix
            self.path = reserve(self.folder, stem)
        write_text(self.path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return str(self.path)
