"""What the installed plugin costs a pytest run that does not check a role.

    python benchmarks/overhead.py [--repeat 7] [--tests 50]

9. A bare project (no ``iam_compliance_fixtures``) with 50 trivial tests, and
   ``pytest --help`` in it: each timed with the plugin (as installed) and with
   ``-p no:iam_compliance``, in pairs, run in turn. Target: within 1.05x (median).

Figures are printed, never asserted: they depend on the machine. Run it with the
interpreter of the environment to measure (``.venv/bin/python``).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The plugins of the environment other than this one stay: they cost the same both ways.
WITHOUT = ("-p", "no:iam_compliance")


def seconds(folder: Path, *args: str) -> tuple[float, float]:
    """Wall time and CPU time of one pytest run (CPU time: less at the mercy of whatever
    else the machine runs)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def bare_project(folder: Path, tests: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_trivial.py").write_text(
        "".join(f"def test_{n}():\n    assert {n} == {n}\n\n\n" for n in range(tests))
    )
    return folder


def bench_overhead(work: Path, repeat: int, tests: int = 50) -> None:
    project = bare_project(work / "bare", tests)
    print(f"9. the installed plugin in a project without the suite ({repeat} pairs, in turn)")
    for label, args in ((f"{tests} trivial tests", ()), ("pytest --help", ("--help",))):
        seconds(project, *args)  # warm: imports compiled, caches filled
        seconds(project, *args, *WITHOUT)
        pairs = [
            (seconds(project, *args), seconds(project, *args, *WITHOUT)) for _ in range(repeat)
        ]
        print(f"   {label}:")
        for kind, index in (("wall", 0), ("CPU ", 1)):
            on = statistics.median(p[index] for p, _ in pairs)
            off = statistics.median(q[index] for _, q in pairs)
            ratio = statistics.median(p[index] / q[index] for p, q in pairs)
            print(
                f"     {kind}: with the plugin {on:5.3f} s, -p no:iam_compliance {off:5.3f} s, "
                f"ratio (median of pairs) {ratio:.3f}x  (target <= 1.05x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="pairs per figure (7)")
    parser.add_argument("--tests", type=int, default=50, help="trivial tests (50)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iam-compliance-overhead-") as folder:
        bench_overhead(Path(folder), options.repeat, options.tests)


if __name__ == "__main__":
    main()
