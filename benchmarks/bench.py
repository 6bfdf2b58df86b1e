"""Print speed and API-call figures of the compliance suite on this machine.

    python benchmarks/bench.py [--repeat 5] [--targets 100]

1. Mock mode: the suite's wall time against a floor, paired run by run (a bare pytest
   run that imports boto3 and moto and creates one moto role). Target: within 1.1x.
2. Live mode against a moto server on 127.0.0.1: requests per run with 1 and with 10
   required actions. Target: equal, and 10 each: the role's six IAM and STS reads, the
   table's three (its tags, its resource-based policy, its encryption) and the guardrails'
   first question (organizations:DescribeOrganization).
   Then requirements on three other resources (a bucket's objects, encrypted with a KMS
   key, the key, a queue), 1 and 10 on each. Target: equal, each resource read once (the
   bucket 3 requests, the key 3, the queue 2), the key not again for the bucket.
3. Many targets on one moto server: requests and wall time without ``-n`` (reading 8
   targets at once, the default, and one by one) and with ``-n 2``. Targets: total
   requests exactly N x a single target's (9: each target is its own account); wall time
   with -n 2 at most 0.65x of without.
   Then the same with every request delayed by 50 ms, a round trip to a real endpoint,
   where reading several targets at once pays off.
5. The evaluator alone: six required actions against one policy of 10 to 10,000 statements,
   each with its own action and resource patterns (so every pattern is compiled anew).
   Target: linear (the same microseconds per statement and action at every size).
4. Guardrails: N targets in one member account of an organization, read through one
   ORG_READ_ROLE_ARN: the organization requests of the run. Target: the same as for one
   target (ancestry, SCPs and RCPs read once per account and per OU).

6. and 7. (``scale.py``): 1,000 roles in one account against a bare
   ``GetAccountAuthorizationDetails`` sweep (target: at most 2x), the whole suite over
   them, and 10 accounts of 1,000 roles; requests, wall time, peak memory.
8. (``reports.py``) Reports at scale: the real suite in mock mode against 1, 100 and 1,000
   targets, and one target with 300 required actions (Query and Scan on 150 indexes):
   the size of compliance.html, .json and .xml, and how long headless Chromium takes to
   load the page and serialise its DOM (``--dump-dom``, which returns once the page's
   scripts have rendered every row). Targets: 1,000 targets at most 10 MB of HTML and
   open in a few seconds; 300 required actions at most 2 MB.
9. (``overhead.py``) The installed plugin in a project that does not turn the suite on:
   50 trivial tests, and ``pytest --help``, against ``-p no:iam_compliance``. Target:
   within 1.05x.
10. (``wildcards.py``) Hostile wildcard patterns (``dynamodb:`` + 24 ``*`` + ``x``, ``*?``
   repeated, 50 ``*`` against a 2,000-character ARN, ...), each decided with a cold
   cache, and the fix proof with them in the policy. Target: every decision under 10 ms.
11. (``recording_cost.py``) ``--iam-record`` on an application's test run of 1,000 AWS calls
   against moto: with the plugin disabled, installed without options, and recording.
   Targets: recording adds at most 5%; without the options, nothing measurable.
12. (``merging.py``) 100 and 1,000 targets (20 roles per account) as one run and as 4
   shards merged with ``iam-compliance merge``: wall times, report sizes, and headless
   Chromium opening the run's page and the merged one. Target: the merged page opens as
   fast as the single run's.
13. (``whole_run.py``) 100 and 1,000 mock targets, each failing 4 tests, against pytest's
   floor for the same shape (a bare module, the same node ids, failures and messages),
   default options and ``--tb=line``; and the cadence of the reads' progress lines.
   Target: the suite within 1.5x the floor.

    python benchmarks/bench.py --parts 8     # one part, or several: --parts 1,6

Everything runs on loopback; nothing reaches AWS. Figures are printed, never asserted:
they depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    cpu_seconds,
    live_environment,
    make_project,
    moto_server,
    pytest_seconds,
)

from conftest import ONE_POLICY, MotoServer, ServerAccount, runbook_policy

FLOOR_TEST = """
import json
import boto3
import moto


def test_floor():
    with moto.mock_aws():
        iam = boto3.Session(
            aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
        ).client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                 "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        iam.create_role(
            RoleName="MLPlatformECSTaskRole", AssumeRolePolicyDocument=json.dumps(trust)
        )
"""

#: What one live target costs: the role, its one managed policy, the table's three reads,
#: and the guardrails' first question (as the self-tests assert it).
REQUESTS_PER_TARGET = ONE_POLICY

TEN_ACTIONS = [
    *("GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable"),
    *("BatchGetItem", "BatchWriteItem", "DeleteItem", "DescribeTimeToLive"),
]


def bench_mock(work: Path, repeat: int) -> None:
    suite = make_project(work / "mock-suite")
    floor = work / "floor"
    floor.mkdir()
    (floor / "test_floor.py").write_text(FLOOR_TEST)
    (floor / "pytest.ini").write_text("[pytest]\n")
    bare = ("-p", "no:iam_compliance", "-p", "no:hypothesispytest")
    # Warm both once (imports compiled, caches filled), then pairs: suite, floor.
    pytest_seconds(suite)
    pytest_seconds(floor, *bare)
    pairs = [(pytest_seconds(suite), pytest_seconds(floor, *bare)) for _ in range(repeat)]
    ratios = [s / f for s, f in pairs]
    print(f"1. mock-mode suite against the floor ({repeat} pairs, each run in turn)")
    for label, times in (
        ("compliance suite (10 tests, reports written)", [s for s, _ in pairs]),
        ("floor (pytest, boto3, moto, one moto role)  ", [f for _, f in pairs]),
    ):
        print(f"   {label}: min {min(times):5.2f} s, median {statistics.median(times):5.2f} s")
    print(
        f"   ratio: min {min(ratios):.2f}x, median {statistics.median(ratios):.2f}x  "
        "(target <= 1.1x)"
    )


def bench_requests(work: Path) -> None:
    print("2. requests per live run (moto server)")
    counts = {}
    with moto_server() as server:
        for actions in (("Scan",), TEN_ACTIONS):
            server.reset()
            server.seed()
            env = live_environment(server)
            server.call("DELETE", "/_selftest/requests")
            project = make_project(work / f"live-{len(actions)}", actions)
            pytest_seconds(project, "--aws-mode", "live", env=env)
            counts[len(actions)] = Counter(server.requests())
    expected = sum(REQUESTS_PER_TARGET.values())
    for n, found in counts.items():
        print(f"   {n:2} required action(s): {sum(found.values())} requests  {dict(found)}")
        table = {k: v for k, v in found.items() if k.startswith("dynamodb:")}
        print(f"      of which the table's: {table}")
    print(f"   equal: {counts[1] == counts[10]}  (target: equal)")
    print(
        f"   as expected: {counts[1] == counts[10] == REQUESTS_PER_TARGET}  (target: {expected} "
        "each, the three table reads included)"
    )


#: Ten actions on each of three resources: a bucket's objects, a KMS key, a queue.
ON_THREE_RESOURCES = {
    "arn:aws:s3:::${S3_BUCKET_NAME}/*": [
        f"s3:{a}"
        for a in (
            *("GetObject", "PutObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl"),
            *("GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging"),
            *("GetObjectVersion", "AbortMultipartUpload"),
        )
    ],
    "KEY": [
        f"kms:{a}"
        for a in (
            *("Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext"),
            *("ReEncryptFrom", "ReEncryptTo", "DescribeKey", "GetPublicKey", "Sign", "Verify"),
        )
    ],
    "arn:aws:sqs:${AWS_REGION}:${AWS_ACCOUNT_ID}:ml-jobs-queue": [
        f"sqs:{a}"
        for a in (
            *("SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility"),
            *("GetQueueAttributes", "GetQueueUrl", "PurgeQueue", "SetQueueAttributes"),
            *("ListDeadLetterSourceQueues", "ListQueueTags"),
        )
    ],
}
#: The services whose requests are the three resources' reads.
RESOURCE_SERVICES = ("s3:", "kms:", "sqs:")


def bench_resource_requests(work: Path) -> None:
    """Requests of a live run whose requirements name a bucket, a key and a queue."""
    counts = {}
    with moto_server() as server:
        for each in (1, 10):
            server.reset()
            server.seed()
            account = ServerAccount(server)
            key = account.key()
            account.bucket(key=key)
            account.queue()
            project = make_project(work / f"resources-{each}")
            (project / "fixtures" / "required_actions.toml").write_text(
                "".join(
                    f'[[action]]\nname = "{action}"\nreason = "r"\n'
                    f'resource = "{key if resource == "KEY" else resource}"\n\n'
                    for resource, actions in ON_THREE_RESOURCES.items()
                    for action in actions[:each]
                )
            )
            env = live_environment(server)
            server.call("DELETE", "/_selftest/requests")
            pytest_seconds(project, "--aws-mode", "live", env=env)
            counts[each] = Counter(server.requests())
    for each, found in counts.items():
        reads = {k: v for k, v in sorted(found.items()) if k.startswith(RESOURCE_SERVICES)}
        print(
            f"   {3 * each:2} requirement(s) on 3 resources: {sum(found.values())} requests, "
            f"{sum(reads.values())} of them the resources'  {reads}"
        )
    print(f"   equal: {counts[1] == counts[10]}  (target: equal, each resource read once)")


RUNS = (
    ("without -n", ()),
    ("without -n, one by one", ("-o", "iam_compliance_read_concurrency=1")),
    ("with -n 2", ("-p", "xdist", "-n", "2")),
)


def bench_targets(work: Path, targets: int, latencies: Sequence[float]) -> None:
    print(f"3. {targets} targets on one moto server")
    with moto_server() as server:
        server.seed()
        env = live_environment(server)
        project = make_project(work / "single")
        server.call("DELETE", "/_selftest/requests")
        pytest_seconds(project, "--aws-mode", "live", env=env)
        single = len(server.requests())
        print(f"   one target: {single} requests  (target: {sum(REQUESTS_PER_TARGET.values())})")
        args = seed_targets(server, make_project(work / "many"), targets)
        pid = server.pid  # type: ignore[attr-defined]
        for latency in latencies:
            server.delay(latency)
            delay = f"every request delayed by {latency * 1000:.0f} ms" if latency else "no delay"
            print(f"   {delay}:")
            results = {}
            for label, extra in RUNS:
                server.call("DELETE", "/_selftest/requests")
                client, moto = cpu_seconds(), cpu_seconds(pid)
                seconds = pytest_seconds(
                    work / "many", "--aws-mode", "live", *args, *extra, env=env
                )
                client, moto = cpu_seconds() - client, cpu_seconds(pid) - moto
                requests = len(server.requests())
                results[label] = seconds
                print(
                    f"   {label:23}: {seconds:6.2f} s, {requests} requests "
                    f"(= {requests / single:.0f}x one target; target exactly {targets}x); "
                    f"CPU: pytest {client:.1f} s, moto server {moto:.1f} s"
                )
            for base in ("without -n", "without -n, one by one"):
                ratio = results["with -n 2"] / results[base]
                print(f"   with -n 2 / {base}: {ratio:.2f}  (target <= 0.65)")
            ratio = results["without -n"] / results["without -n, one by one"]
            print(f"   8 at once / one by one: {ratio:.2f}")
        server.delay(0)


def seed_targets(server: MotoServer, project: Path, targets: int) -> list[str]:
    """One account per target, each with the runbook's role and policy; the options."""
    args: list[str] = []
    envs = project / "envs"
    envs.mkdir()
    for n in range(targets):
        account = f"{100000000000 + n}"
        document = runbook_policy()
        for statement in document["Statement"]:
            statement["Resource"] = (
                str(statement["Resource"]).replace("618574523116", account)
                if isinstance(statement["Resource"], str)
                else statement["Resource"]
            )
        server.seed(account=account, managed=document)
        creds = server.session(account).get_credentials()
        assert creds is not None
        path = envs / f"t{n:03}.env"
        path.write_text(
            f"AWS_ACCOUNT_ID={account}\nAWS_REGION=us-east-1\n"
            f"AWS_ACCESS_KEY_ID={creds.access_key}\n"
            f"AWS_SECRET_ACCESS_KEY={creds.secret_key}\n"
            f"AWS_SESSION_TOKEN={creds.token}\nAWS_ENDPOINT_URL={server.url}\n"
        )
        args += ["--iam-env-file", str(path)]
    return args


def bench_guardrails(work: Path, targets: int) -> None:
    print(f"4. guardrail reads, {targets} targets in one account of an organization")
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}],
    }
    with moto_server() as server:
        account = server.organization(deny, management="000000000001")
        env = live_environment(server, account)
        env["ORG_READ_ROLE_ARN"] = "arn:aws:iam::000000000001:role/guardrails-reader"
        counts = {}
        for n in (1, targets):
            project = make_project(work / f"guardrails-{n}")
            args = []
            for i in range(n):
                path = project / f"t{i:03}.env"
                path.write_text(f"AWS_ACCOUNT_ID={account}\n")
                args += ["--iam-env-file", str(path)]
            server.call("DELETE", "/_selftest/requests")
            seconds = pytest_seconds(project, "--aws-mode", "live", *args, env=env)
            found = Counter(a for a in server.requests() if a.startswith("organizations:"))
            counts[n] = found
            print(
                f"   {n:3} target(s): {sum(found.values())} organization requests "
                f"in {seconds:.2f} s  {dict(sorted(found.items()))}"
            )
    print(f"   equal: {counts[1] == counts[targets]}  (target: equal)")


def bench_evaluator(rounds: int) -> None:
    from iam_compliance.engine import wildcards
    from iam_compliance.engine.evaluate.evaluation import evaluate
    from iam_compliance.engine.policy import RolePolicies, parse_policy

    print("5. the evaluator: 6 actions against one policy of N statements (min of rounds)")
    table = "arn:aws:dynamodb:us-east-1:618574523116:table/ml-jobs"
    actions = ["GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable"]
    per_unit = {}
    for size in (10, 100, 1_000, 10_000):
        statements = [
            {
                "Sid": f"S{n}",
                "Effect": "Allow",
                "Action": [f"dynamodb:Get{n}*", f"s3:Put{n}?"],
                "Resource": f"arn:aws:dynamodb:us-east-1:618574523116:table/t{n}-*",
            }
            for n in range(size - 1)
        ]
        statements.append(
            {"Effect": "Allow", "Action": [f"dynamodb:{a}" for a in actions], "Resource": table}
        )
        times = []
        for _ in range(rounds):
            # Parsed anew each round: a fresh policy, as a run reads it.
            document = {"Version": "2012-10-17", "Statement": statements}
            policies = RolePolicies(identity=(parse_policy(document, name="p"),))
            wildcards._compile.cache_clear()  # every pattern compiled anew, as in a fresh run
            started = time.perf_counter()
            for action in actions:
                evaluate(policies, f"dynamodb:{action}", table)
            times.append(time.perf_counter() - started)
        best = min(times)
        per_unit[size] = best / size / len(actions) * 1e6
        print(
            f"   {size:6,} statements: {best * 1000:8.2f} ms, "
            f"{per_unit[size]:.2f} us per statement and action"
        )
    print(
        f"   10,000 / 100 per statement and action: {per_unit[10_000] / per_unit[100]:.2f}x  "
        "(target: about 1, linear)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per mock timing (5)")
    parser.add_argument("--targets", type=int, default=100, help="targets in part 3 (100)")
    parser.add_argument("--roles", type=int, default=1000, help="roles per account, 6-7 (1000)")
    parser.add_argument("--accounts", type=int, default=10, help="accounts in part 7 (10)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.05,
        help="seconds each request is delayed in part 3's second round (0.05; 0: skip it)",
    )
    parser.add_argument(
        "--report-targets",
        default="1,100,1000",
        help="target counts of part 8, comma-separated (1,100,1000)",
    )
    parser.add_argument(
        "--merge-targets",
        default="100,1000",
        help="target counts of part 12, comma-separated (100,1000)",
    )
    parser.add_argument("--shards", type=int, default=4, help="shards in part 12 (4)")
    parser.add_argument(
        "--whole-targets",
        default="100,1000",
        help="target counts of part 13, comma-separated (100,1000)",
    )
    parser.add_argument(
        "--parts",
        default="1,2,3,4,5,6,7,8,9,10,11,12,13",
        help="the parts to run, comma-separated (all)",
    )
    options = parser.parse_args()
    parts = {int(n) for n in options.parts.split(",") if n.strip()}
    rounds = min(options.repeat, 3)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    with tempfile.TemporaryDirectory(prefix="iam-compliance-bench-") as folder:
        work = Path(folder)
        if 1 in parts:
            bench_mock(work, options.repeat)
        if 2 in parts:
            bench_requests(work)
            bench_resource_requests(work)
        if 3 in parts:
            latencies = [0.0, options.latency] if options.latency else [0.0]
            bench_targets(work, options.targets, latencies)
        if 4 in parts:
            bench_guardrails(work, options.targets)
        if 5 in parts:
            bench_evaluator(options.repeat)
        # The other parts, each also a script of its own.
        import merging
        import overhead
        import recording_cost
        import reports
        import scale
        import whole_run
        import wildcards

        if 6 in parts:
            scale.bench_one_account(work, options.roles, options.latency or 0.05, rounds)
        if 7 in parts:
            scale.bench_accounts(options.accounts, options.roles, options.latency or 0.05)
        counts = [int(n) for n in options.report_targets.split(",") if n.strip()]
        if 8 in parts and counts:
            reports.bench_reports(work, counts, rounds)
        if 9 in parts:
            overhead.bench_overhead(work, options.repeat)
        if 10 in parts:
            wildcards.bench_patterns(options.repeat)
        if 11 in parts:
            recording_cost.bench_recording(work, options.repeat)
        merge_counts = [int(n) for n in options.merge_targets.split(",") if n.strip()]
        if 12 in parts and merge_counts:
            merging.bench_merge(work, merge_counts, options.shards, rounds)
        whole_counts = [int(n) for n in options.whole_targets.split(",") if n.strip()]
        if 13 in parts and whole_counts:
            whole_run.bench_whole_run(work, whole_counts, rounds)


if __name__ == "__main__":
    main()
