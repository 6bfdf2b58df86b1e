"""What compliance.json adds for a shard of a run and for a merge of shards.

A shard (``--iam-shard I/N``) records which part of the run it was (``shard``) and, for
each test, the reports pytest made (``tests[].reports``): what ``iam-compliance merge``
needs to write the HTML page and the JUnit file a single run over every target would
have written, through the same code (see :mod:`iam_compliance.pytest_plugin.transcript`).
A merge records what it merged (``merged``). A run that is neither leaves all three out
(``null``, ``[]``). ::

    "shard": {
      "index": 2, "count": 4,                       # shard 2 of 4
      "targets": ["prod", "prod-eu"],               # this shard's targets
      "all_targets": ["dev", "prod", "prod-eu"],    # every shard's, in the order given
      "configured": [TARGET_CONFIG],                # each of all_targets as configured
      "lists_passed_tests": true                    # the HTML page lists passed tests
    },
    "tests": [{..., "reports": [PHASE]}],            # a shard's: each test's reports
    "merged": {"shards": [MERGED_SHARD], "missing": [3]}

A target's configuration holds no credentials: its name, account, region and the names
of its role, policy, table and bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

# :data:`.model.JSON` and ``JSONObject``, spelled out here: the model imports this module.
JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
JSONObject: TypeAlias = dict[str, JSON]


@dataclass(frozen=True)
class TargetConfig:
    """One target as the run was given it (before anything was read)."""

    name: str
    account: str
    region: str
    role_name: str
    policy_name: str
    table_name: str
    s3_bucket: str


@dataclass(frozen=True)
class ShardEntry:
    """compliance.json's ``shard``: which part of a sharded run this report is."""

    index: int
    count: int
    #: This shard's targets (empty: nothing to check in this shard).
    targets: tuple[str, ...]
    #: Every target of the run, all shards, in the order given: a merge names the
    #: targets of a shard it does not have from it.
    all_targets: tuple[str, ...]
    #: Each of ``all_targets`` as configured, for the merged reports' header and properties.
    configured: tuple[TargetConfig, ...]
    #: Whether the HTML page lists the tests that passed (``iam_compliance_html_rows``,
    #: decided for all of the run's targets, as a single run would).
    lists_passed_tests: bool


@dataclass(frozen=True)
class SkipEntry:
    """Where and why a test was skipped (pytest's ``(path, line, reason)``)."""

    path: str
    line: int
    reason: str


@dataclass(frozen=True)
class PhaseEntry:
    """One report pytest made for a test (setup, call or teardown), as the HTML page and
    the JUnit file read it. A setup or teardown that passed with nothing to say is left
    out; its time is in the call's ``duration``."""

    #: ``setup``, ``call`` or ``teardown``.
    when: str
    #: ``passed``, ``failed`` or ``skipped`` (pytest's own outcome of the phase).
    outcome: str
    #: Seconds.
    duration: float
    #: The failure as pytest prints it; None when the phase passed or was skipped.
    longrepr: str | None = None
    #: The failure's one-line message (JUnit's ``message``), when pytest gave one.
    message: str | None = None
    #: A skip's place and reason.
    skip: SkipEntry | None = None
    #: The xfail reason of an xfailed or xpassed test.
    wasxfail: str | None = None
    #: Captured output: (heading, text) pairs.
    sections: tuple[tuple[str, str], ...] = ()
    #: The test's user properties: (name, value) pairs.
    properties: tuple[tuple[str, str], ...] = ()
    #: pytest-html's extras attached to the report (links, HTML).
    extras: JSON = None
    #: The iam-compliance data the report carried (its row's verdict; the target's
    #: section is in ``targets``).
    attributes: JSONObject | None = None


@dataclass(frozen=True)
class MergedShard:
    """One shard a merge read."""

    index: int
    #: The file it was read from, as given.
    file: str
    generated_at: str
    exit_status: int | None
    targets: tuple[str, ...]


@dataclass(frozen=True)
class MergeEntry:
    """compliance.json's ``merged``: the shards a merge read, and those it did not have."""

    shards: tuple[MergedShard, ...]
    #: The indexes of the shards that were missing, or could not be read: their targets
    #: could not be checked.
    missing: tuple[int, ...]
