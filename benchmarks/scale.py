"""Whole accounts: reading 1,000 roles of one account, and 10 accounts of 1,000 roles.

Part of ``bench.py`` (its parts 6 and 7); also runs alone:

    python benchmarks/scale.py [--roles 1000] [--accounts 10] [--latency 0.05]

6. 1,000 roles in one account, every request delayed by 50 ms (a round trip to a real
   endpoint): the requests and wall time of reading every role the way a run does
   (:class:`iam_compliance.aws.reading.RoleReader`), next to a bare paginated
   ``GetAccountAuthorizationDetails`` sweep of the same account, paired in each round.
   Target: at most 2x the sweep. Then the whole compliance suite over the 1,000 targets:
   wall time, requests and peak memory.
7. 10 accounts of 1,000 roles each, one moto server per account: requests, wall time and
   the reading process's peak memory.

The reads run in a child process each, so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    clean_environment,
    live_environment,
    make_project,
    moto_server,
)

from conftest import REGION, MotoServer, ecs_trust_policy  # noqa: E402

ACTIONS = ["GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable"]


def seed_account(server: MotoServer, account: str, roles: int) -> None:
    """``roles`` task roles sharing one compliant managed policy, and the table."""
    table = f"arn:aws:dynamodb:{REGION}:{account}:table/ml-jobs"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [f"dynamodb:{a}" for a in ACTIONS], "Resource": table}
        ],
    }
    server.seed(account=account, managed=document)
    iam = server.iam(account)
    shared = f"arn:aws:iam::{account}:policy/MLPlatformECSTaskPolicy"
    trust = json.dumps(ecs_trust_policy())
    for n in range(1, roles):  # the seed made the first
        iam.create_role(RoleName=f"Worker{n}", AssumeRolePolicyDocument=trust)
        iam.attach_role_policy(RoleName=f"Worker{n}", PolicyArn=shared)


def role_names(roles: int) -> list[str]:
    return ["MLPlatformECSTaskRole", *(f"Worker{n}" for n in range(1, roles))]


@contextmanager
def servers(count: int) -> Iterator[list[MotoServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(moto_server()) for _ in range(count)]


def child(mode: str, accounts: list[dict[str, str]], roles: int) -> dict[str, Any]:
    """Runs in the child: read and time; returns wall seconds and peak RSS."""
    import boto3

    from iam_compliance.aws.connection import Sessions
    from iam_compliance.aws.reading import RoleReader
    from iam_compliance.engine.target import Credentials, Target

    started = time.perf_counter()
    if mode == "sweep":  # the bare sweep: one client, every page
        for account in accounts:
            iam = boto3.Session(
                aws_access_key_id=account["key"],
                aws_secret_access_key=account["secret"],
                aws_session_token=account["token"],
                region_name=REGION,
            ).client("iam", endpoint_url=account["url"])
            pages = iam.get_paginator("get_account_authorization_details")
            for _ in pages.paginate(Filter=["Role", "LocalManagedPolicy"]):
                pass
        read = 0
    else:
        targets = [
            Target(
                name=f"{account['id']}-{role}",
                region=REGION,
                account_id=account["id"],
                table_name="ml-jobs",
                role_name=role,
                policy_name="MLPlatformECSTaskPolicy",
                s3_bucket="ml-training-data",
                credentials=Credentials(account["key"], account["secret"], account["token"]),
                endpoint_url=account["url"],
            )
            for account in accounts
            for role in role_names(roles)
        ]
        reader = RoleReader(Sessions().live, keep_clients=False)  # as a run without --fix
        reader.plan(targets)
        outcomes = reader.read_all(targets)
        read = sum(1 for o in outcomes.values() if not isinstance(o, Exception))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "read": read, "peak_mib": peak}


def in_child(mode: str, accounts: list[dict[str, str]], roles: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--roles", str(roles)],
        input=json.dumps(accounts),
        capture_output=True,
        text=True,
        check=False,
        env=clean_environment(),
    )
    if result.returncode:
        raise SystemExit(f"the {mode} child failed:\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return answer


def account_of(server: MotoServer, account: str) -> dict[str, str]:
    env = live_environment(server, account)
    return {
        "id": account,
        "url": server.url,
        "key": env["AWS_ACCESS_KEY_ID"],
        "secret": env["AWS_SECRET_ACCESS_KEY"],
        "token": env["AWS_SESSION_TOKEN"],
    }


def requests_of(found: Sequence[MotoServer]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for server in found:
        counts.update(server.requests())
    return counts


def clear(found: Sequence[MotoServer]) -> None:
    for server in found:
        server.call("DELETE", "/_selftest/requests")


def bench_one_account(work: Path, roles: int, latency: float, rounds: int) -> None:
    print(f"6. {roles:,} roles in one account, every request delayed by {latency * 1000:.0f} ms")
    account = "618574523116"
    with moto_server() as server:
        seed_account(server, account, roles)
        accounts = [account_of(server, account)]
        server.delay(latency)
        times: dict[str, list[float]] = {"sweep": [], "reader": []}
        counts: dict[str, Counter[str]] = {}
        peak = 0.0
        for _ in range(rounds):  # paired: the sweep, then the run's reads
            for mode in ("sweep", "reader"):
                clear([server])
                answer = in_child(mode, accounts, roles)
                times[mode].append(answer["seconds"])
                counts[mode] = requests_of([server])
                if mode == "reader":
                    assert answer["read"] == roles, answer
                    peak = max(peak, answer["peak_mib"])
        for mode, label in (("sweep", "bare GAAD sweep"), ("reader", "the run's reads")):
            found = counts[mode]
            print(
                f"   {label:16}: min {min(times[mode]):6.2f} s, median "
                f"{statistics.median(times[mode]):6.2f} s, {sum(found.values())} requests "
                f"{dict(sorted(found.items()))}"
            )
        ratios = [r / s for r, s in zip(times["reader"], times["sweep"], strict=True)]
        print(
            f"   reads / sweep: min {min(ratios):.2f}x, median {statistics.median(ratios):.2f}x"
            f"  (target <= 2x); reading process peak RSS {peak:.0f} MiB"
        )
        suite_run(work, server, account, roles)
        server.delay(0)


def suite_run(work: Path, server: MotoServer, account: str, roles: int) -> None:
    """The whole compliance suite over every role of the account, as a user runs it."""
    project = make_project(work / f"account-{roles}")
    args = []
    for role in role_names(roles):
        path = project / "envs" / f"{role}.env"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"AWS_ACCOUNT_ID={account}\nECS_TASK_ROLE_NAME={role}\n")
        args.append(f"--iam-env-file={path}")
    (project / "args.txt").write_text("\n".join(args))
    clear([server])
    probe = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(time.perf_counter() - started, peak, done.returncode)\n"
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--aws-mode=live"]
    result = subprocess.run(
        [sys.executable, "-c", probe, *command, *args],
        cwd=project,
        env=live_environment(server, account),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak, code = result.stdout.split()
    found = requests_of([server])
    print(
        f"   the suite over the {roles:,} targets ({roles * 10:,} tests): {float(seconds):.1f} s, "
        f"exit {code}, {sum(found.values())} requests, peak RSS {float(peak):.0f} MiB"
    )


def bench_accounts(count: int, roles: int, latency: float) -> None:
    print(
        f"7. {count} accounts of {roles:,} roles, one moto server each, every request "
        f"delayed by {latency * 1000:.0f} ms"
    )
    ids = [f"{200000000000 + n}" for n in range(count)]
    with servers(count) as found:
        started = time.perf_counter()
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(seed_account, found, ids, [roles] * count))
        print(f"   seeded in {time.perf_counter() - started:.0f} s")
        accounts = [account_of(s, a) for s, a in zip(found, ids, strict=True)]
        for server in found:
            server.delay(latency)
        clear(found)
        answer = in_child("reader", accounts, roles)
        counts = requests_of(found)
        print(
            f"   {answer['read']:,} roles read in {answer['seconds']:.2f} s, "
            f"{sum(counts.values())} requests {dict(sorted(counts.items()))}, "
            f"reading process peak RSS {answer['peak_mib']:.0f} MiB"
        )
        clear(found)
        answer = in_child("sweep", accounts, roles)
        seconds = answer["seconds"]
        print(f"   bare sweeps of the {count} accounts, one after the other: {seconds:.2f} s")
        for server in found:
            server.delay(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["sweep", "reader"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        accounts = json.loads(sys.stdin.read())
        print(json.dumps(child(options.child, accounts, options.roles)))
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="iam-compliance-scale-") as folder:
        bench_one_account(Path(folder), options.roles, options.latency, options.repeat)
    bench_accounts(options.accounts, options.roles, options.latency)


if __name__ == "__main__":
    main()
