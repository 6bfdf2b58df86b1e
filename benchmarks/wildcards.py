"""Hostile wildcard patterns: part 10 of ``bench.py`` (which see); also runs alone:

    python benchmarks/wildcards.py [--repeat 5] [--suite]

IAM accepts patterns such as ``dynamodb:*****...x`` and ``*?*?...*b``, on which a
backtracking regular expression takes minutes. Each pattern below is decided with a cold
cache (compiling included), best of ``--repeat`` rounds. Target: every decision under
10 ms. The fix proof (thousands of probes) is timed whole, with its slowest probe.
``--suite`` also runs the compliance suite in mock mode with these Denies in the task
policy (``--iam-policy-file``), and with ``--fix-dry-run``, and prints the wall times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import clean_environment, make_project  # noqa: E402

from conftest import ROLE_ARN, TABLE_ARN, compliant_policy, runbook_policy  # noqa: E402

#: A 2,000-character ARN.
LONG_ARN = "arn:aws:s3:::" + "a" * 1987
STARS_X = "dynamodb:" + "*" * 24 + "x"
PROBING = "dynamodb:" + "*?" * 20 + "*b"
PRINCIPAL = "arn:" + "*" * 12 + "x"
#: IAM wants a Resource in ARN form (or "*"); its stars reach the whole ARN's last part.
LONG_STARS = "arn:aws:s3:::" + "*" * 50 + "x"


def hostile_denies() -> list[dict[str, Any]]:
    """The Denies of the measured patterns, none of which applies to the suite's requests."""
    return [
        {"Sid": "StarsX", "Effect": "Deny", "Action": STARS_X, "Resource": "*"},
        {"Sid": "Probing", "Effect": "Deny", "Action": PROBING, "Resource": "*"},
        {
            "Sid": "Principal",
            "Effect": "Deny",
            "Action": "dynamodb:*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalArn": PRINCIPAL}},
        },
        {"Sid": "LongStars", "Effect": "Deny", "Action": "s3:*", "Resource": LONG_STARS},
    ]


Answer = TypeVar("Answer")


def cold(decide: Callable[[], Answer], rounds: int) -> tuple[float, Answer]:
    """Best time of ``decide`` over ``rounds``, every compiled pattern dropped first."""
    from iam_compliance.engine import wildcards

    times = []
    for _ in range(rounds):
        wildcards._compile.cache_clear()
        started = time.perf_counter()
        answer = decide()
        times.append(time.perf_counter() - started)
    return min(times), answer


def bench_patterns(rounds: int) -> None:
    from iam_compliance.engine.evaluate.conditions import evaluate_conditions
    from iam_compliance.engine.matching import (
        covers_resource,
        match_resource,
        matches_action,
        overlaps_resource,
    )
    from iam_compliance.engine.policy import Condition

    hostile_like = Condition("StringLike", "aws:PrincipalArn", (PRINCIPAL,))
    overlap = "arn:" + "*?" * 500 + "b"
    cases: list[tuple[str, Callable[[], Any]]] = [
        (
            f"Action {STARS_X} vs DescribeTable",
            lambda: matches_action(STARS_X, "dynamodb:DescribeTable"),
        ),
        (
            f"StringLike aws:PrincipalArn {PRINCIPAL}",
            lambda: evaluate_conditions([hostile_like], {"aws:PrincipalArn": ROLE_ARN}).state,
        ),
        (
            "Action dynamodb:*?*?...*b (20 pairs) vs DescribeContributorInsights",
            lambda: matches_action(PROBING, "dynamodb:DescribeContributorInsights"),
        ),
        (
            'Resource "*" x 50 + "x" vs a 2,000-character ARN',
            lambda: match_resource("*" * 50 + "x", LONG_ARN)[0],
        ),
        (
            'Resource "arn:aws:s3:::" + "*" x 50 + "x" vs the same ARN',
            lambda: match_resource(LONG_STARS, LONG_ARN)[0],
        ),
        (
            'overlap of "arn:" + "*?" x 500 + "b" with table/ml-jobs/index/*',
            lambda: overlaps_resource(overlap, f"{TABLE_ARN}/index/*"),
        ),
        (
            'cover of table/ml-jobs/index/* by "arn:" + "*?" x 500 + "b"',
            lambda: covers_resource(overlap, f"{TABLE_ARN}/index/*"),
        ),
    ]
    print(f"9. hostile wildcard patterns, each decided with a cold cache (best of {rounds})")
    worst = 0.0
    for label, decide in cases:
        seconds, answer = cold(decide, rounds)
        worst = max(worst, seconds)
        print(f"   {seconds * 1000:8.3f} ms  {label}: {answer}")
    print(f"   slowest: {worst * 1000:.3f} ms  (target: every one under 10 ms)")
    bench_proof(rounds)


def bench_proof(rounds: int) -> None:
    from iam_compliance.aws.catalog import IamActionCatalog
    from iam_compliance.engine.evaluate.evaluation import Verdict, evaluate
    from iam_compliance.engine.fix.planning import replacing
    from iam_compliance.engine.fix.proof import Proof, probes, prove_no_new_access
    from iam_compliance.engine.policy import RolePolicies, parse_policy

    catalog = IamActionCatalog()

    def actions(service: str) -> list[str]:
        return sorted(catalog.actions(service) or ())

    document = runbook_policy()
    document["Statement"].extend(hostile_denies())
    before = parse_policy(document, name="MLPlatformECSTaskPolicy")
    proposed = json.loads(json.dumps(document))
    jobs = {"Effect": "Allow", "Action": ["dynamodb:Scan", "dynamodb:Query"], "Resource": TABLE_ARN}
    proposed["Statement"].append(jobs)
    after = parse_policy(proposed, name="MLPlatformECSTaskPolicy")
    required = [("dynamodb:Scan", TABLE_ARN), ("dynamodb:Query", TABLE_ARN)]
    probe_set = probes([before, after], TABLE_ARN, required, actions)
    #: Per judge call (the same order every round): its best time over the rounds, so
    #: that a pause of the machine in one round is not taken for a slow pattern.
    best: list[float] = []
    calls = [0]

    def judge(policies: RolePolicies, action: str, resource: str) -> Verdict:
        started = time.perf_counter()
        verdict = evaluate(policies, action, resource, {"aws:PrincipalArn": ROLE_ARN})
        elapsed = time.perf_counter() - started
        if calls[0] < len(best):
            best[calls[0]] = min(best[calls[0]], elapsed)
        else:
            best.append(elapsed)
        calls[0] += 1
        return verdict

    def prove() -> Proof:
        calls[0] = 0
        return prove_no_new_access(
            RolePolicies((before,)),
            replacing(RolePolicies((before,)), after),
            judge,
            probe_set,
            required,
        )

    seconds, proof = cold(prove, rounds)
    print(
        f"   the fix proof with these Denies: {seconds:.3f} s for {len(probe_set):,} probes, "
        f"{len(best):,} evaluations (slowest {max(best) * 1000:.3f} ms, best of {rounds}): "
        f"{proof.describe()}"
    )


def bench_suite(work: Path) -> None:
    print("   the compliance suite in mock mode, these Denies in --iam-policy-file:")
    for label, base, extra in (
        ("compliant policy", compliant_policy(), ()),
        ("runbook policy, --fix-dry-run", runbook_policy(), ("--fix-dry-run",)),
    ):
        project = make_project(work / label.split()[0])
        document = base
        document["Statement"].extend(hostile_denies())
        path = project / "hostile.json"
        path.write_text(json.dumps(document, indent=2))
        seconds, summary = pytest_summary(project, "--iam-policy-file", str(path), *extra)
        print(f"   {seconds:8.2f} s  {label}: {summary}")


def pytest_summary(folder: Path, *args: str) -> tuple[float, str]:
    """Wall time of the suite in ``folder``, and its summary line (what passed, failed)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return seconds, f"exit {result.returncode}, {lines[-1].strip('= ') if lines else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds per pattern (5)")
    parser.add_argument("--suite", action="store_true", help="also time the suite in mock mode")
    options = parser.parse_args()
    bench_patterns(options.repeat)
    if options.suite:
        with tempfile.TemporaryDirectory(prefix="iam-compliance-bench-") as folder:
            bench_suite(Path(folder))


if __name__ == "__main__":
    main()
