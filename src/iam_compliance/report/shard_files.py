"""Each shard's files, read for a merge: its compliance.json and the SARIF log beside it.

An input that cannot be read is not the end of a merge: it is a line saying why (its
shard is then missing, so "could not check"). The report of a shard that never wrote its
own (it did not finish, or could not start) is such a line too. A whole run's report
among shards' is an error: it cannot be merged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .codec import from_json
from .document import ReportDocument
from .files import SARIF_NAME
from .labels import ErrorKind
from .shard_entries import ShardEntry

JSON_NAME = "compliance.json"
PHASES = ("setup", "call", "teardown")
OUTCOMES = ("passed", "failed", "skipped")


class MergeError(ConfigurationError):
    """The inputs cannot be merged into one run's reports (the files are named)."""


@dataclass(frozen=True)
class ShardFile:
    """One input, read: its compliance.json, and the SARIF log beside it."""

    #: The file, as the command line named it (or its folder's compliance.json).
    path: Path
    document: ReportDocument
    sarif: dict[str, Any] | None = None
    #: Why the SARIF log beside it could not be read, if it could not.
    sarif_problem: str | None = None

    @property
    def shard(self) -> ShardEntry:
        assert self.document.shard is not None
        return self.document.shard


def read_inputs(arguments: Sequence[str]) -> tuple[list[ShardFile], list[str]]:
    """Each argument's compliance.json (a folder's, or the file named), read; and a line
    for each that cannot be read, or is the report of a shard that never wrote its own."""
    found: list[ShardFile] = []
    problems: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            path = path / JSON_NAME
        label = str(path)
        try:
            document = read_report(path, label)
        except MergeError as exc:
            problems.append(str(exc))
            continue
        if document.shard is None:
            problems.append(_not_a_shard(label, document))
            continue
        sarif, sarif_problem = _sarif_beside(path, label)
        found.append(ShardFile(path, document, sarif, sarif_problem))
    return found, problems


def read_report(path: Path, label: str) -> ReportDocument:
    """compliance.json at ``path``, decoded and checked; errors name ``label``."""
    if not path.is_file():
        what = "no such file" if not path.exists() else "not a file"
        where = f" ({path})" if str(path) != label else ""
        raise MergeError(
            f"{label}: {what}{where}; expected a shard's reports folder or its {JSON_NAME}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MergeError(
            f"{label}: line {exc.lineno} column {exc.colno}: not JSON ({exc.msg}); expected a "
            f"shard's {JSON_NAME}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MergeError(f"{label}: cannot be read ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith(
        "iam-compliance/report/"
    ):
        raise MergeError(f"{label}: not an iam-compliance report (no iam-compliance schema)")
    try:
        document = from_json(ReportDocument, data)
    except (ValueError, TypeError) as exc:
        raise MergeError(f"{label}: not a valid iam-compliance report: {exc}") from None
    for test in document.tests:
        for phase in test.reports:
            if phase.when not in PHASES or phase.outcome not in OUTCOMES:
                raise MergeError(
                    f"{label}: test {test.nodeid}: a report's phase must be one of "
                    f"{', '.join(PHASES)} and its outcome one of {', '.join(OUTCOMES)}; got "
                    f"{phase.when!r}, {phase.outcome!r}"
                )
    return document


def _not_a_shard(label: str, document: ReportDocument) -> str:
    error = document.error
    if error is not None and error.kind is ErrorKind.DID_NOT_FINISH:
        return f"{label}: its run did not finish ({error.message})"
    if error is not None and not document.tests:
        return f"{label}: its run could not start: {error.message}"
    raise MergeError(
        f"{label}: not a shard's report: the run had no --iam-shard; merge takes the reports "
        "of every shard of one run"
    )


def _sarif_beside(path: Path, label: str) -> tuple[dict[str, Any] | None, str | None]:
    """The SARIF log beside a shard's compliance.json, or why it cannot be read."""
    sarif = path.with_name(SARIF_NAME)
    if not sarif.is_file():
        return None, None
    try:
        data = json.loads(sarif.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{label}: its {SARIF_NAME} cannot be read ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return None, f"{label}: its {SARIF_NAME} is not a SARIF log (no runs)"
    return data, None
