"""Writing report files: whole or not at all, and never through a planted link.

Every report and record is written to a new temporary file in the destination folder
(created exclusively, not following links) and renamed into place. A reader never sees
half a file, two runs finishing at once each write their own temporary file, and a
symbolic link left at the destination is replaced, not followed.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigurationError
from .model import JSON

_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: The SARIF log of a run on a source file, in the reports folder unless --sarif moves it.
SARIF_NAME = "compliance.sarif"
#: Where --fix and --fix-dry-run of a source file write its patch (and a plan's document).
FIX_FOLDER = "fix"
#: What a run writes in :data:`FIX_FOLDER`.
FIX_PATTERNS = ("*.patch", "*.policy.json")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW, 0o644)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json(path: Path, value: JSON) -> None:
    """Write ``value`` as JSON (:func:`dumps`), atomically."""
    write_text(path, dumps(value) + "\n")


#: How many levels :func:`dumps` indents: the document's keys, and each entry of its lists
#: (a test, a target) on a line of its own.
INDENTED_LEVELS = 2

#: Encodes a value on one line. json's C encoder only writes unindented JSON: indenting a
#: run of 1,000 targets (17 MB) all the way down, in Python, took half a second.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def dumps(value: JSON, levels: int = INDENTED_LEVELS) -> str:
    """``value`` as JSON, indented by two spaces for its first ``levels`` levels, each
    value below them on one line: what ``json.dumps(value, indent=2)`` writes, down to
    that depth."""
    return "".join(_chunks(value, levels, 0))


def _chunks(value: JSON, levels: int, depth: int) -> Iterable[str]:
    if levels == 0 or not isinstance(value, (dict, list)) or not value:
        yield _ONE_LINE(value)
        return
    inner = "\n" + "  " * (depth + 1)
    items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    yield "{" if isinstance(value, dict) else "["
    for index, (key, item) in enumerate(items):
        yield ("," if index else "") + inner
        if key is not None:
            yield _ONE_LINE(key) + ": "
        yield from _chunks(item, levels - 1, depth + 1)
    yield "\n" + "  " * depth + ("}" if isinstance(value, dict) else "]")


def reserve(folder: Path, stem: str, suffix: str = ".json") -> Path:
    """Create ``<stem><suffix>`` (or ``<stem>-2<suffix>``, ...) exclusively; return it.

    Two runs may pick a name in the same second; creating the file with O_EXCL, rather
    than checking that it does not exist, keeps either from taking the other's.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path, counter = folder / f"{stem}{suffix}", 1
    while True:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW, 0o644))
        except FileExistsError:
            counter += 1
            path = folder / f"{stem}-{counter}{suffix}"
        else:
            return path


def stale_files(folder: Path, sarif: Path | None = None) -> list[Path]:
    """The files of an earlier run that a run may not write again, so must remove at its
    start: the SARIF log (the default one, and ``sarif`` when --sarif names another) and
    a source file's patches. Remediation records are never among them: each is the audit
    trail of a fix (a deleted version's document), named by its time, not this run's."""
    found = [folder / SARIF_NAME, *([sarif] if sarif is not None else [])]
    fixes = folder / FIX_FOLDER
    if fixes.is_dir() and not fixes.is_symlink():
        found.extend(path for pattern in FIX_PATTERNS for path in sorted(fixes.glob(pattern)))
    return found


def remove_files(paths: Iterable[Path]) -> None:
    """Remove each file (a link itself, never what it points at); a missing one is fine."""
    for path in paths:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)


def check_reports_folder(folder: Path, setting: str) -> None:
    """Make sure reports can be written in ``folder`` before the run starts, so that a
    folder under a file, or somewhere unwritable (``/proc``), is a usage error rather than
    a crash at the end of the run."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=".iam-compliance-", dir=folder)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigurationError(
            f"iam_compliance_reports {setting!r}: cannot write reports in {folder} "
            f"({exc.strerror or exc}); expected a folder that can be created and written"
        ) from None
