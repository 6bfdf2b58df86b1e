"""The ``iam-compliance`` command (also ``python -m iam_compliance``).

    iam-compliance merge DIR... [--output DIR]     one run's reports from its shards'
    iam-compliance check FILE... [--suite PATH]    the suite on source files (pre-commit)

Exit codes are a run's (docs/exit-codes.md): 0 compliant, 1 not compliant, 4 could not
check, which is also what a usage error of the command is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from .errors import IamComplianceError

#: Exit code 4: could not check (a usage error too), as pytest's usage errors are.
COULD_NOT_CHECK = 4


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is exit code 4, "could not check": argparse's
    own 2 is what an interrupted run exits with here."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(COULD_NOT_CHECK, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iam-compliance",
        description="Merge the reports of a sharded run, or check source files before commit.",
        epilog="Exit codes: 0 compliant, 1 not compliant, 4 could not check (or a usage error).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    merge = commands.add_parser(
        "merge",
        help="merge the reports of every shard of a run (--iam-shard I/N) into one run's",
        description=(
            "Read each shard's compliance.json (a shard's reports folder, or the file), check "
            "that they are shards of one run, and write the reports one run over every target "
            "would have written: compliance.json, compliance.xml, compliance.html and, when "
            "the shards wrote SARIF, compliance.sarif. A shard that is missing, unreadable, "
            "could not check or did not finish is 'could not check' (exit code 4), never a pass."
        ),
        epilog="Exit codes: 0 compliant, 1 not compliant, 4 could not check.",
    )
    merge.add_argument(
        "shards",
        nargs="+",
        metavar="DIR",
        help="a shard's reports folder (holding compliance.json), or its compliance.json",
    )
    merge.add_argument(
        "--output",
        "-o",
        default="reports",
        metavar="DIR",
        help="where to write the merged reports (default: reports)",
    )
    merge.set_defaults(handler=_merge)
    check = commands.add_parser(
        "check",
        help="check CloudFormation templates, Terraform plans or policy documents (pre-commit)",
        description=(
            "Run the compliance suite in mock mode with --iam-policy-file on each FILE, from "
            "the pytest configuration of the current folder (or --suite), and say for each "
            "whether it gives the role every required action."
        ),
        epilog="Exit codes: 0 every file compliant, 1 one is not, 4 one could not be checked.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="a template, plan or policy")
    check.add_argument(
        "--suite",
        metavar="PATH",
        help="the suite's test module or folder (default: the configuration's testpaths)",
    )
    check.add_argument(
        "--reports",
        metavar="DIR",
        help="keep each file's reports in DIR/<n>-<file name>/ (default: not kept)",
    )
    check.add_argument(
        "--verbose", "-v", action="store_true", help="print pytest's output for every file"
    )
    check.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    try:
        code: int = options.handler(options)
    except IamComplianceError as exc:
        print(f"iam-compliance {options.command}: error: {exc}", file=sys.stderr)
        return COULD_NOT_CHECK
    return code


def _merge(options: argparse.Namespace) -> int:
    # Imported here: pytest, pytest-html and the report layer are not needed for --help.
    from .merge_command import merge

    return merge(options.shards, Path(options.output), started=datetime.now(UTC))


def _check(options: argparse.Namespace) -> int:
    from .source_check import check_files

    reports = Path(options.reports) if options.reports else None
    return check_files(options.files, suite=options.suite, reports=reports, verbose=options.verbose)
