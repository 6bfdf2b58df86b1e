"""The recorded requirements as a file in the format of ``fixtures/required_actions.toml``.

One ``[[action]]`` per (action, resource), in a fixed order, with nothing about the run
itself (no time, no counts), so recording the same tests again writes the same bytes,
with or without xdist. Notes go in comments above their entry; a recording that may lack
calls says so at the top.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ledger import Entry

HEADER = """\
# What the tests' AWS calls need from IAM, recorded by iam-compliance (pytest --iam-record).
# One entry per IAM action and resource; "reason" names the call and the first test (in
# file order) that made it. ${AWS_PARTITION}, ${AWS_REGION} and ${AWS_ACCOUNT_ID} stand for
# the recording run's own; the compliance suite fills them in for the account it checks.
# The API calls map to IAM actions through iam_compliance/recording/calls.toml (AWS's
# Service Authorization Reference). Check this file with the compliance suite's run plus
# --iam-requirements <this file> (in a project that sets iam_compliance_fixtures).
"""


def render(entries: Sequence[Entry], gaps: Sequence[str] = ()) -> str:
    """The file's text."""
    lines = [HEADER.rstrip("\n")]
    for gap in gaps:
        lines.append(f"# INCOMPLETE: {_one_line(gap)}")
    if not entries:
        lines.append("# No test made an AWS call while it ran.")
    for entry in entries:
        lines.append("")
        lines.extend(f"# {_one_line(str(note))}" for note in entry.notes)
        lines.append("[[action]]")
        lines.append(f"name = {quote(entry.action)}")
        lines.append(f"reason = {quote(reason(entry))}")
        lines.append(f"resource = {quote(entry.resource)}")
    return "\n".join(lines) + "\n"


def reason(entry: Entry) -> str:
    """``dynamodb.Scan in tests/test_jobs.py::test_list``."""
    return f"{entry.operation} in {entry.test[2]}"


def quote(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped
    (https://toml.io/en/v1.0.0#string); everything else as it is."""
    pieces = ['"']
    for char in text:
        if char in '"\\':
            pieces.append("\\" + char)
        elif char < " " or char == "\x7f":
            pieces.append(f"\\u{ord(char):04X}")
        else:
            pieces.append(char)
    pieces.append('"')
    return "".join(pieces)


def _one_line(text: str) -> str:
    """A comment cannot hold a line break (or other control characters)."""
    return "".join(c if c >= " " and c != "\x7f" else " " for c in text)
