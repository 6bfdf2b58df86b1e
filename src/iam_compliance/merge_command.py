"""``iam-compliance merge``: read the shards, write the run's reports, say what was merged.

The reading and checking is :mod:`.report.merging`, the writing
:mod:`.pytest_plugin.replay`; this module puts them in order and talks to the terminal.
Like a run, the merge first replaces whatever an earlier merge left in the output folder
with reports saying that this one has not finished, and a merge that cannot be made still
writes its three reports, each saying why.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .errors import ConfigurationError
from .pytest_plugin.failures import ERROR_ATTRIBUTE
from .pytest_plugin.publishing import HTML_NAME, XML_NAME
from .pytest_plugin.replay import write_merged_reports
from .report.codec import from_json
from .report.document import ReportDocument
from .report.files import SARIF_NAME, stale_files, write_json
from .report.merging import MergedRun, merge_run, merged_sarif
from .report.shard_files import JSON_NAME, MergeError, read_inputs
from .report.start_error import write_start_reports, write_unfinished_reports
from .report.terminal import summary_lines

PREFIX = "iam-compliance merge"


def merge(arguments: Sequence[str], output: Path, *, started: datetime) -> int:
    """Merge the shards' reports named by ``arguments`` into ``output``; the exit code."""
    _check_output(output, arguments)
    try:
        files, unreadable = read_inputs(arguments)
        run = merge_run(files, unreadable, error_attribute=ERROR_ATTRIBUTE)
    except MergeError as exc:
        _say(f"COULD NOT MERGE: {exc}", error=True)
        write_start_reports(
            output,
            f"iam-compliance merge: {exc}",
            mode=_mode_of(arguments),
            html_path=output / HTML_NAME,
            xml_path=output / XML_NAME,
            stale=stale_files(output),
        )
        _say(f"wrote {output / JSON_NAME}, {XML_NAME} and {HTML_NAME}, each saying so")
        return 4
    for shard_file in run.shards:
        shard, document = shard_file.shard, shard_file.document
        _say(
            f"shard {shard.index} of {shard.count}: {shard_file.path} ({len(shard.targets):,} "
            f"target(s), exit code {document.exit_status})"
        )
    write_unfinished_reports(
        output,
        mode=run.settings.mode,
        started=started,
        html_path=output / HTML_NAME,
        xml_path=output / XML_NAME,
        stale=stale_files(output),
    )
    try:
        status = write_merged_reports(run, output)
    except MergeError as exc:  # the reports this merge started with say it did not finish
        _say(f"COULD NOT MERGE: {exc}", error=True)
        return 4
    written = [JSON_NAME, XML_NAME, HTML_NAME]
    sarif, why_not = merged_sarif(run)
    if sarif is not None:
        write_json(output / SARIF_NAME, sarif)
        written.append(SARIF_NAME)
    _summarise(run, output, written, why_not, status)
    return status


def _check_output(output: Path, arguments: Sequence[str]) -> None:
    """The output folder must be writable, and none of the shards' own folders."""
    for argument in arguments:
        path = Path(argument)
        folder = path if path.is_dir() else path.parent
        if folder.exists() and output.exists() and folder.resolve() == output.resolve():
            raise ConfigurationError(
                f"--output {output}: is where {argument} is; write the merged reports to "
                "another folder, or a shard's reports would be replaced"
            )
    try:
        output.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=".iam-compliance-", dir=output)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigurationError(
            f"--output {output}: cannot write reports there ({exc.strerror or exc}); expected "
            "a folder that can be created and written"
        ) from None


def _mode_of(arguments: Sequence[str]) -> str:
    """The mode the inputs name, for a merge that could not be made ("unknown" when they
    do not agree or cannot be read)."""
    modes = set()
    for argument in arguments:
        path = Path(argument)
        path = path / JSON_NAME if path.is_dir() else path
        try:
            modes.add(str(json.loads(path.read_text(encoding="utf-8")).get("mode")))
        except (OSError, ValueError, AttributeError):
            continue
    return modes.pop() if len(modes) == 1 else "unknown"


def _summarise(
    run: MergedRun, output: Path, written: list[str], why_not: str | None, status: int
) -> None:
    document = from_json(
        ReportDocument, json.loads((output / JSON_NAME).read_text(encoding="utf-8"))
    )
    for line in summary_lines(document.targets, ()):
        print(line)
    if document.error is not None:
        for line in document.error.message.splitlines():
            _say(f"COULD NOT CHECK: {line}", error=True)
    if why_not is not None:
        _say(f"no {SARIF_NAME} written: {why_not}")
    _say(f"wrote {', '.join(str(output / name) for name in written)}")
    verdict = {0: "COMPLIANT", 1: "NOT COMPLIANT"}.get(status, "COULD NOT CHECK")
    _say(f"{verdict} (exit code {status}): {len(run.shards)} of {run.count} shard(s) merged")


def _say(line: str, *, error: bool = False) -> None:
    print(f"{PREFIX}: {line}", file=sys.stderr if error else sys.stdout)
