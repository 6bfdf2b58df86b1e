"""The whole run against pytest's floor: part 13 of ``bench.py`` (which see); also runs alone:

python benchmarks/whole_run.py [--whole-targets 100,1000] [--repeat 3]

The real suite in mock mode over N targets (the runbook's role and policy, 20 roles per
account), each failing four tests (Scan, Query, DescribeTable and "all required
permissions"), next to pytest's floor for the same shape: a bare test module with the
suite's class, test names and parameters (so the same node ids), failing the same tests
with the same messages (taken from the suite's own compliance.xml) through
``pytest.fail(message, pytrace=False)``, without the plugin. Both run with pytest's default
tracebacks and with ``--tb=line``, in pairs (suite, floor), and the script prints wall and
CPU time (median of the pairs) and their ratio. Target: the suite within 1.5x the floor.
The floor carries what pytest itself costs, its failures section (quadratic in the number
of failures: it looks up each failure's teardown among every report) included.

A compliance run also writes compliance.xml and compliance.html through pytest's own
junitxml and pytest-html (``--junitxml`` and ``--html`` unless the user names other
files), so a second floor runs the bare module with those two options as well: the
ratio to it is what the suite adds to pytest writing the same two files.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pty
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_environment, pytest_times, targets_project

#: The pytest options of each pair of runs.
STYLES = (("default", ()), ("--tb=line", ("--tb=line",)))

FLOOR_TEST = """
import itertools
import json
from pathlib import Path

import pytest

#: test name -> the suite's failure message for it.
MESSAGES = json.loads((Path(__file__).parent / "messages.json").read_text())
TARGETS = sorted({name.split("[")[1].split("-")[0].rstrip("]") for name in MESSAGES})
ACTIONS = [f"dynamodb:{a}" for a in
           ("GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable")]


def check(name):
    message = MESSAGES.get(name)
    if message is not None:
        pytest.fail(message, pytrace=False)


class TestECSTaskRoleDynamoDBPermissions:
    @pytest.mark.parametrize("iam_target", TARGETS)
    def test_task_role_has_all_required_permissions(self, iam_target):
        check(f"test_task_role_has_all_required_permissions[{iam_target}]")

    @pytest.mark.parametrize(
        ("iam_target", "required_action"), [(t, a) for t in TARGETS for a in ACTIONS]
    )
    def test_required_action_is_allowed(self, iam_target, required_action):
        check(f"test_required_action_is_allowed[{iam_target}-{required_action}]")

    @pytest.mark.parametrize("iam_target", TARGETS)
    def test_policy_is_attached_to_task_role(self, iam_target):
        check(f"test_policy_is_attached_to_task_role[{iam_target}]")

    @pytest.mark.parametrize("iam_target", TARGETS)
    def test_task_role_trusts_ecs_tasks(self, iam_target):
        check(f"test_task_role_trusts_ecs_tasks[{iam_target}]")

    @pytest.mark.parametrize("iam_target", TARGETS)
    def test_dynamodb_access_is_least_privilege(self, iam_target):
        check(f"test_dynamodb_access_is_least_privilege[{iam_target}]")
"""


def failure_messages(junit: Path) -> dict[str, str]:
    """Each failed test's message, by test name, as the suite's compliance.xml has it."""
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            found[case.attrib["name"]] = failure.attrib["message"]
    return found


def floor_project(work: Path, targets: int, messages: dict[str, str]) -> Path:
    """A bare project whose tests fail as the suite's do, with the same messages."""
    project = work / f"floor-{targets}"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_ecs_task_dynamodb_permissions.py").write_text(FLOOR_TEST)
    (project / "tests" / "messages.json").write_text(json.dumps(messages))
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    return project


#: The floor runs without the plugin, and without hypothesis's (as the suite's addopts).
BARE = ("-p", "no:iam_compliance", "-p", "no:hypothesispytest")
#: The report files a compliance run writes through pytest's junitxml and pytest-html.
REPORTS = (
    "--junitxml=reports/compliance.xml",
    "--html=reports/compliance.html",
    "--self-contained-html",
)


def bench_whole_run(work: Path, counts: Sequence[int], rounds: int) -> None:
    print(
        "13. the whole run against pytest's floor (mock mode, each target failing 4 of its "
        f"10 tests; {rounds} pairs, median; wall / CPU seconds)"
    )
    for targets in counts:
        suite, args = targets_project(work / f"suite-{targets}", targets)
        pytest_times(suite, *args, "--tb=line")  # warm, and the messages
        messages = failure_messages(suite / "reports" / "compliance.xml")
        floor = floor_project(work, targets, messages)
        print(f"   {targets:,} targets: {targets * 10:,} tests, {len(messages):,} failures")
        for label, options in STYLES:
            runs = [
                (
                    pytest_times(suite, *args, *options),
                    pytest_times(floor, *BARE, *options),
                    pytest_times(floor, *BARE, *REPORTS, *options),
                )
                for _ in range(rounds)
            ]
            print(
                f"      {label:9}: suite {_median(r[0] for r in runs)}, floor "
                f"{_median(r[1] for r in runs)} ({_ratios(runs, 1)}), floor writing the "
                f"same reports {_median(r[2] for r in runs)} ({_ratios(runs, 2)})"
            )
    print(
        "   target: the suite within 1.5x of the floor, default and --tb=line (ratios: "
        "suite / floor, wall and CPU, median of the rounds)"
    )
    bench_cadence(work, max(counts))


#: A progress line of the reads: ``iam-compliance: read 240/1000 targets, ...``.
PROGRESS = re.compile(rb"iam-compliance: read \d+/\d+ targets[^\r\n]*")


def progress_cadence(folder: Path, args: Sequence[str], *, tty: bool) -> list[float]:
    """When each progress line of one run arrived (seconds since the start), its output
    a terminal (a pseudo-terminal) or a pipe, as a CI log."""
    reader, writer = pty.openpty() if tty else os.pipe()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no", *args],
        cwd=folder,
        env=clean_environment(),
        stdout=writer,
        stderr=subprocess.DEVNULL,
    )
    os.close(writer)
    arrived: list[float] = []
    pending = b""
    while True:
        try:
            chunk = os.read(reader, 65536)
        except OSError:  # a pseudo-terminal whose other end closed
            chunk = b""
        if not chunk:
            break
        pending += chunk
        found = PROGRESS.findall(pending)
        arrived.extend(time.perf_counter() - started for _ in found)
        pending = pending.rsplit(b"\n", 1)[-1] if found else pending[-200:]
    os.close(reader)
    process.wait()
    return arrived


def bench_cadence(work: Path, targets: int) -> None:
    """The gaps between the reads' progress lines, on a terminal and in a log."""
    suite, args = targets_project(work / "cadence" / f"suite-{targets}", targets)
    for label, tty in (("terminal", True), ("log", False)):
        arrived = progress_cadence(suite, args, tty=tty)
        gaps = [b - a for a, b in itertools.pairwise(arrived)]
        print(
            f"   progress lines, {targets:,} targets, {label}: {len(arrived)} line(s); "
            f"gaps: median {statistics.median(gaps) if gaps else 0.0:.1f} s, "
            f"largest {max(gaps, default=0.0):.1f} s (at most "
            f"{'2' if tty else '10'} s wanted)"
        )


def _ratios(runs: Sequence[tuple[tuple[float, float], ...]], floor: int) -> str:
    """The suite's wall and CPU time over a floor's (``runs[n][floor]``), median."""
    wall = statistics.median(run[0][0] / run[floor][0] for run in runs)
    cpu = statistics.median(run[0][1] / run[floor][1] for run in runs)
    return f"{wall:.2f}x wall, {cpu:.2f}x CPU"


def _median(times: object) -> str:
    found = list(times)  # type: ignore[call-overload]
    wall = statistics.median(t[0] for t in found)
    cpu = statistics.median(t[1] for t in found)
    return f"{wall:6.1f} / {cpu:6.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whole-targets", default="100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    counts = [int(n) for n in options.whole_targets.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="iam-compliance-whole-") as folder:
        bench_whole_run(Path(folder), counts, options.repeat)


if __name__ == "__main__":
    main()
