"""The options of ``--iam-record`` and ``--iam-requirements``.

Declared in every pytest run (this module imports nothing but pytest); the recording
itself (:mod:`.recording`, botocore) is imported only when one of them is given.
"""

from __future__ import annotations

import pytest

#: The options of --iam-record (by dest); any of them loads the recording, lazily.
RECORDING_OPTIONS = (
    "iam_record",
    "iam_record_check",
    "iam_record_strict",
    "iam_record_fixtures",
    "iam_record_account",
    "iam_record_region",
)


def add_recording_options(group: pytest.OptionGroup) -> None:
    """--iam-record: any project's tests; --iam-requirements: the compliance suite."""
    group.addoption(
        "--iam-requirements",
        dest="iam_requirements",
        default=None,
        metavar="PATH",
        help="the compliance suite: read the required actions from this file instead of "
        "<fixtures>/required_actions.toml (e.g. one written by --iam-record).",
    )
    group.addoption(
        "--iam-record",
        dest="iam_record",
        default=None,
        metavar="PATH",
        help="any test run: record the AWS calls the tests make (through botocore) and "
        "write them as IAM requirements to PATH, in the format of required_actions.toml.",
    )
    group.addoption(
        "--iam-record-check",
        dest="iam_record_check",
        default=None,
        metavar="PATH",
        help="any test run: fail when a recorded call is not covered by the requirements "
        "in PATH; warn about requirements no test exercised.",
    )
    group.addoption(
        "--iam-record-strict",
        dest="iam_record_strict",
        action="store_true",
        default=False,
        help="with --iam-record-check: a requirement no test exercised fails the run too.",
    )
    group.addoption(
        "--iam-record-fixtures",
        dest="iam_record_fixtures",
        action="store_true",
        default=False,
        help="also record the calls fixtures make in setup and teardown (seeding moto, "
        "say); by default only test bodies are recorded.",
    )
    group.addoption(
        "--iam-record-account",
        dest="iam_record_account",
        default=None,
        metavar="ID",
        help="the recording run's own account, written as ${AWS_ACCOUNT_ID} "
        "(default: MOTO_ACCOUNT_ID, else moto's 123456789012).",
    )
    group.addoption(
        "--iam-record-region",
        dest="iam_record_region",
        default=None,
        metavar="REGION",
        help="the recording run's own region, written as ${AWS_REGION} (default: each "
        "client's own region).",
    )
