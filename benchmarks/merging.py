"""Shards and their merge: part 12 of ``bench.py`` (which see); also runs alone:

python benchmarks/merging.py [--merge-targets 100,1000] [--shards 4] [--repeat 3]

The real suite in mock mode over N targets in N/20 accounts (20 roles each), as one run
and as S shards merged with ``iam-compliance merge``: each one's wall time, the reports'
sizes (a shard's compliance.json carries its tests' reports for the merge), and headless
Chromium's time to open the single run's page and the merged one (``--dump-dom``, which
returns once pytest-html's script has built every row). Target: the merged page opens as
fast as the single run's (they are the same page).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROLES_PER_ACCOUNT,
    chromium_seconds,
    clean_environment,
    pytest_seconds,
    targets_project,
)


def sizes(folder: Path) -> dict[str, float]:
    return {p.suffix: p.stat().st_size / 1e6 for p in folder.glob("compliance.*")}


def opened(page: Path, rounds: int) -> str:
    found = [t for t in (chromium_seconds(page) for _ in range(rounds)) if t is not None]
    if not found:
        return "no chromium"
    return f"{min(found):.1f} / {statistics.median(found):.1f} s"


def bench_merge(work: Path, counts: Sequence[int], shards: int, rounds: int) -> None:
    print(
        f"12. shards and their merge (mock mode, {ROLES_PER_ACCOUNT} roles per account, "
        f"{shards} shards; Chromium: --dump-dom wall time, min / median)"
    )
    for targets in counts:
        project, args = targets_project(work / f"merge-{targets}", targets)
        single = pytest_seconds(project, *args, "--tb=line", "-o", "iam_compliance_reports=single")
        each = [
            pytest_seconds(
                project,
                *args,
                "--tb=line",
                f"--iam-shard={n}/{shards}",
                "-o",
                f"iam_compliance_reports=shard-{n}",
            )
            for n in range(1, shards + 1)
        ]
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).with_name("iam-compliance")),
                "merge",
                *(f"shard-{n}" for n in range(1, shards + 1)),
                "--output",
                "merged",
            ],
            cwd=project,
            env=clean_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        merged = time.perf_counter() - started
        alone, together = sizes(project / "single"), sizes(project / "merged")
        shard_json = sum(
            sizes(project / f"shard-{n}").get(".json", 0) for n in range(1, shards + 1)
        )
        parts = " + ".join(f"{seconds:.0f}" for seconds in each)
        print(
            f"   {targets:,} targets: the run {single:.0f} s; shards {parts} s; "
            f"merge {merged:.1f} s"
        )
        print(
            f"      HTML {alone.get('.html', 0):.2f} MB alone, {together.get('.html', 0):.2f} MB "
            f"merged; JSON {alone.get('.json', 0):.2f} MB alone, {together.get('.json', 0):.2f} "
            f"MB merged, {shard_json:.2f} MB in the shards (their tests' reports)"
        )
        run_page = opened(project / "single" / "compliance.html", rounds)
        merged_page = opened(project / "merged" / "compliance.html", rounds)
        print(f"      Chromium opens: the run's page {run_page}, the merged page {merged_page}")
    print("   target: the merged page opens as fast as the single run's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merge-targets", default="100,1000")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    counts = [int(n) for n in options.merge_targets.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="iam-compliance-merge-") as folder:
        bench_merge(Path(folder), counts, options.shards, options.repeat)


if __name__ == "__main__":
    main()
