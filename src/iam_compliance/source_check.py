"""``iam-compliance check FILE...``: the compliance suite on each source file, for
pre-commit and other hooks.

Each file (a CloudFormation template, a Terraform plan's JSON or a policy document) is
checked by a run of the suite in mock mode with ``--iam-policy-file``, in a process of
its own, from the pytest configuration of the folder the command runs in (which must
turn the suite on: ``iam_compliance_fixtures``). Its reports go to a scratch folder
unless ``--reports`` keeps them: a hook must not change the working tree. One line (and
the verdicts) per file; the exit code is the worst: 4 if a file could not be checked,
else 1 if one is not compliant, else 0.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .report.codec import from_json
from .report.document import ReportDocument
from .report.terminal import summary_lines

JSON_NAME = "compliance.json"


def check_files(
    files: Sequence[str], *, suite: str | None, reports: Path | None, verbose: bool = False
) -> int:
    """Check each of ``files``; print a verdict per file; return the worst exit code."""
    worst = 0
    for n, name in enumerate(files, start=1):
        if reports is not None:
            folder = reports / f"{n}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', Path(name).name)}"
            code = check_file(name, suite=suite, folder=folder, verbose=verbose)
        else:
            with tempfile.TemporaryDirectory(prefix="iam-compliance-check-") as scratch:
                code = check_file(name, suite=suite, folder=Path(scratch), verbose=verbose)
        worst = max(worst, code if code in (0, 1) else 4)
    return worst


def pytest_command(name: str, *, suite: str | None, folder: Path) -> list[str]:
    """The run that checks one file: the suite, in mock mode, its reports in ``folder``."""
    # --iam-policy-file=PATH as one word: pytest would take a separate path for a test
    # path when it chooses its rootdir (see pytest_plugin/rootdir.py).
    return [
        sys.executable,
        "-m",
        "pytest",
        *([suite] if suite else []),
        "--iam-aws-mode=mock",
        f"--iam-policy-file={name}",
        "-o",
        f"iam_compliance_reports={folder.absolute()}",
        "-p",
        "no:cacheprovider",
        "-q",
        "--tb=no",
        "--no-header",
    ]


def check_file(name: str, *, suite: str | None, folder: Path, verbose: bool = False) -> int:
    """Check one file; print its verdict; return the run's exit code."""
    if not Path(name).is_file():
        print(f"{name}: could not check: no such file")
        return 4
    result = subprocess.run(
        pytest_command(name, suite=suite, folder=folder),
        capture_output=True,
        text=True,
        check=False,
    )
    if verbose:
        print(result.stdout, end="")
        print(result.stderr, end="", file=sys.stderr)
    document = _report(folder / JSON_NAME)
    code = result.returncode
    if document is None or document.error is not None or code not in (0, 1):
        why = document.error.message if document is not None and document.error else None
        why = why or _last_lines(result.stderr or result.stdout)
        print(f"{name}: could not check (exit code {code}): {why}")
        return code if code not in (0, 1) else 4
    if code == 0 and document.compliant:
        allowed = sum(len(section.actions) for section in document.targets)
        print(f"{name}: compliant: all {allowed} required actions allowed")
        return 0
    print(f"{name}: NOT compliant")
    for line in summary_lines(document.targets, ()):
        print(f"  {line}")
    return 1


def _report(path: Path) -> ReportDocument | None:
    try:
        return from_json(ReportDocument, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:]) or "no output"
