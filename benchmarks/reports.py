"""Reports at scale: part 8 of ``bench.py`` (which see); also runs alone:

python benchmarks/reports.py [--report-targets 1,100,1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import chromium_seconds, make_project, pytest_seconds


def report_project(work: Path, targets: int, indexes: int = 0) -> tuple[Path, list[str]]:
    """The suite against ``targets`` roles of the mock account (one env file each), or
    one target that needs Query and Scan on ``indexes`` indexes of its table."""
    project = make_project(work / f"report-{targets}-{indexes}")
    if indexes:
        (project / "fixtures" / "required_actions.toml").write_text(
            "".join(
                f'[[action]]\nname = "dynamodb:{action}"\nresource = "index/by-field-{n:03}"\n'
                'reason = "r"\n\n'
                for n in range(indexes)
                for action in ("Query", "Scan")
            )
        )
    args: list[str] = []
    if targets > 1:
        (project / "envs").mkdir()
        for n in range(targets):
            path = project / "envs" / f"t{n:04}.env"
            path.write_text(f"ECS_TASK_ROLE_NAME=Role{n}\nECS_TASK_POLICY_NAME=Policy{n}\n")
            args += ["--iam-env-file", str(path)]
    return project, args


def bench_reports(work: Path, counts: Sequence[int], rounds: int) -> None:
    print("8. reports at scale (mock mode; Chromium: --dump-dom wall time, min / median)")
    cases = [(f"{n:,} target(s), 6 actions", n, 0) for n in counts]
    cases.append(("1 target, 300 required actions", 1, 150))
    for label, targets, indexes in cases:
        project, args = report_project(work, targets, indexes)
        seconds = pytest_seconds(project, *args)
        folder = project / "reports"
        sizes = {p.suffix: p.stat().st_size / 1e6 for p in folder.glob("compliance.*")}
        times = [chromium_seconds(folder / "compliance.html") for _ in range(rounds)]
        found = [t for t in times if t is not None]
        opened = f"{min(found):.1f} / {statistics.median(found):.1f} s" if found else "no chromium"
        print(
            f"   {label:31}: HTML {sizes.get('.html', 0):6.2f} MB, JSON "
            f"{sizes.get('.json', 0):6.2f} MB, JUnit {sizes.get('.xml', 0):5.2f} MB; "
            f"Chromium {opened}; the run {seconds:.0f} s"
        )
    print(
        "   targets: 1,000 targets <= 10 MB of HTML, opened in a few seconds; 300 actions <= 2 MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-targets", default="1,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    counts = [int(n) for n in options.report_targets.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="iam-compliance-reports-") as folder:
        bench_reports(Path(folder), counts, options.repeat)


if __name__ == "__main__":
    main()
