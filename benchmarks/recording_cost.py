"""What --iam-record costs: part 11 of ``bench.py`` (which see); also runs alone:

python benchmarks/recording_cost.py [--repeat 5] [--calls 1000]

An application's test run of 1,000 AWS calls (100 tests of 10 calls each: DynamoDB
items, a query, a scan, a PartiQL statement and a transaction, S3 objects, SQS messages)
against one ``moto.mock_aws`` for the session, so that the calls themselves, not moto's
start-up, are what the run spends its time on. Three runs side by side, ``--repeat``
times: with the plugin disabled (``-p no:iam_compliance``), installed without options,
and with ``--iam-record``. Targets: recording adds at most 5%; without the options, the
plugin adds nothing measurable. Then the recording alone: the botocore hook and the
translation per call, in this process, against what moto takes for the call.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import clean_environment

CONFTEST = """
import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture(scope="session")
def aws():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="ml-jobs",
            KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "job_id", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[{
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="ml-artifacts")
        queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="jobs")
        yield queue["QueueUrl"]
"""

TESTS = """
import boto3
import pytest
from boto3.dynamodb.conditions import Key

REGION = "us-east-1"


@pytest.mark.parametrize("n", range({tests}))
def test_job(aws, n):
    table = boto3.resource("dynamodb", region_name=REGION).Table("ml-jobs")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    job = str(n)
    table.put_item(Item={{"job_id": job, "status": "new"}})                       # 1
    table.get_item(Key={{"job_id": job}})                                         # 2
    table.update_item(                                                            # 3
        Key={{"job_id": job}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={{"#s": "status"}},
        ExpressionAttributeValues={{":s": "run"}},
    )
    table.query(IndexName="by-status", KeyConditionExpression=Key("status").eq("run"))  # 4
    dynamodb.execute_statement(                                                   # 5
        Statement='SELECT * FROM "ml-jobs" WHERE job_id = ?', Parameters=[{{"S": job}}]
    )
    dynamodb.transact_write_items(TransactItems=[                                 # 6
        {{"ConditionCheck": {{"TableName": "ml-jobs", "Key": {{"job_id": {{"S": job}}}},
                            "ConditionExpression": "attribute_exists(job_id)"}}}},
        {{"Put": {{"TableName": "ml-jobs", "Item": {{"job_id": {{"S": job + "-done"}}}}}}}},
    ])
    s3.put_object(Bucket="ml-artifacts", Key=f"runs/{{job}}/log.txt", Body=b"ok")  # 7
    s3.get_object(Bucket="ml-artifacts", Key=f"runs/{{job}}/log.txt")["Body"].read()  # 8
    sqs.send_message(QueueUrl=aws, MessageBody=job)                               # 9
    table.delete_item(Key={{"job_id": job}})                                      # 10
"""

CALLS_PER_TEST = 10


def make_application(folder: Path, calls: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_jobs.py").write_text(TESTS.format(tests=calls // CALLS_PER_TEST))
    (folder / "pytest.ini").write_text("[pytest]\n")
    return folder


def timed(folder: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one pytest run in ``folder``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=clean_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench_recording(work: Path, repeat: int, calls: int = 1000) -> None:
    app = make_application(work / "recorded-app", calls)
    common = ("-p", "no:hypothesispytest", "-p", "no:xdist")
    runs = {
        "plugin disabled (-p no:iam_compliance)": (*common, "-p", "no:iam_compliance"),
        "plugin installed, no option           ": common,
        "--iam-record                          ": (*common, "--iam-record=recorded.toml"),
    }
    for args in runs.values():  # warm: imports compiled, caches filled
        timed(app, *args)
    figures: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, args in runs.items():
            figures[label].append(timed(app, *args))
    print(f"9. --iam-record on an application's run of {calls} AWS calls (moto, {repeat} rounds)")
    for label, times in figures.items():
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        print(
            f"   {label}: wall median {statistics.median(walls):5.2f} s (min {min(walls):5.2f}), "
            f"CPU median {statistics.median(cpus):5.2f} s"
        )
    base, idle, recorded = (figures[label] for label in runs)
    for name, than in (
        ("no option / disabled", (idle, base)),
        ("--iam-record / no option", (recorded, idle)),
    ):
        wall = [a[0] / b[0] for a, b in zip(*than, strict=True)]
        cpu = [a[1] / b[1] for a, b in zip(*than, strict=True)]
        print(
            f"   {name}: wall median {statistics.median(wall):.3f}x, "
            f"CPU median {statistics.median(cpu):.3f}x"
        )
    print("   (target: --iam-record at most 1.05x; no option about 1x)")
    bench_per_call(calls)


def bench_per_call(calls: int) -> None:
    """What recording one call costs in this process (the hook's translation and the
    ledger), for the calls the application's tests make, next to moto's time per call."""
    import boto3
    from moto import mock_aws

    from iam_compliance.recording.ledger import Ledger
    from iam_compliance.recording.model import ApiCall, Scope

    def api(service: str, operation: str, **params: object) -> ApiCall:
        return ApiCall(service, operation, params, "us-east-1", "aws", service)

    mix = [
        api("dynamodb", "PutItem", TableName="ml-jobs", Item={}),
        api("dynamodb", "Query", TableName="ml-jobs", IndexName="by-status"),
        api("dynamodb", "ExecuteStatement", Statement='SELECT * FROM "ml-jobs" WHERE k = ?'),
        api(
            "dynamodb",
            "TransactWriteItems",
            TransactItems=[
                {"ConditionCheck": {"TableName": "ml-jobs"}},
                {"Put": {"TableName": "a"}},
            ],
        ),
        api("s3", "PutObject", Bucket="ml-artifacts", Key="runs/1/log.txt"),
        api("sqs", "SendMessage", QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/q"),
    ]
    ledger = Ledger(Scope("123456789012"))
    ledger.test = ("test_jobs.py", 1, "test_jobs.py::test_job")
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls // len(mix)):
            for call in mix:
                ledger.record(call)
        rounds.append((time.perf_counter() - started) / (calls // len(mix) * len(mix)))
    recording = statistics.median(rounds)
    with mock_aws():
        dynamodb = boto3.Session(
            aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
        ).client("dynamodb")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        started = time.perf_counter()
        for n in range(200):
            dynamodb.get_item(TableName="t", Key={"k": {"S": str(n)}})
        moto = (time.perf_counter() - started) / 200
    print(
        f"   per call, in process: recording {recording * 1e6:.0f} us (translation and "
        f"ledger; median of 5 rounds of {calls}), a moto GetItem {moto * 1e6:.0f} us: "
        f"{recording / moto:.1%} of it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (5)")
    parser.add_argument("--calls", type=int, default=1000, help="AWS calls in the run (1000)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iam-compliance-bench-") as folder:
        bench_recording(Path(folder), options.repeat, options.calls)


if __name__ == "__main__":
    main()
