"""--iam-record in another project: an application and its own moto tests.

The application reads and writes DynamoDB through boto3's resource and client layers,
moves files through S3 with s3transfer and sends to SQS; its tests use ``moto.mock_aws``.
The plugin is installed but the compliance suite is off there, as in any project.
"""

from __future__ import annotations

import pytest

from iam_compliance.recording.writer import HEADER

APP = """
import boto3
from boto3.dynamodb.conditions import Key
from boto3.s3.transfer import TransferConfig

REGION = "us-east-1"
TABLE = "ml-jobs"
BUCKET = "ml-artifacts"
# Small enough that a 6 MiB file goes up in parts (CreateMultipartUpload, UploadPart...).
PARTS = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)


def _table():
    return boto3.resource("dynamodb", region_name=REGION).Table(TABLE)


def _client(name):
    return boto3.client(name, region_name=REGION)


def list_jobs():
    return _table().scan()["Items"]


def jobs_with_status(status):
    return _table().query(IndexName="by-status", KeyConditionExpression=Key("status").eq(status))


def import_jobs(jobs):
    with _table().batch_writer() as batch:
        for job in jobs:
            batch.put_item(Item=job)


def start_job(job_id, team):
    _client("dynamodb").transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"job_id": {"S": job_id}, "status": {"S": "r"}}}},
            {
                "ConditionCheck": {
                    "TableName": "quotas",
                    "Key": {"team": {"S": team}},
                    "ConditionExpression": "attribute_exists(team)",
                }
            },
        ]
    )


def find_job(job_id):
    statement = f'SELECT * FROM "{TABLE}" WHERE job_id = ?'
    return _client("dynamodb").execute_statement(Statement=statement, Parameters=[{"S": job_id}])


def count_jobs():
    return _table().item_count


def fetch_model(key, path):
    _client("s3").download_file(BUCKET, key, path)


def store_model(path, key):
    _client("s3").upload_file(path, BUCKET, key, Config=PARTS)


def announce(queue_url, body):
    _client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)


def whoami():
    return _client("sts").get_caller_identity()["Account"]
"""

CONFTEST = """
import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
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
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName="quotas",
            KeySchema=[{"AttributeName": "team", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "team", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="quotas", Item={"team": {"S": "ml"}})
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="ml-artifacts")
        s3.put_object(Bucket="ml-artifacts", Key="models/base.bin", Body=b"weights")
        queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="job-events")
        yield queue["QueueUrl"]
"""

TESTS = """
import jobs_app


def test_list_jobs(aws):
    assert jobs_app.list_jobs() == []


def test_jobs_with_status(aws):
    assert jobs_app.jobs_with_status("run")["Count"] == 0


def test_import_jobs(aws):
    jobs_app.import_jobs([{"job_id": str(n), "status": "new"} for n in range(30)])


def test_start_job(aws):
    jobs_app.start_job("j-1", "ml")


def test_find_job(aws):
    assert jobs_app.find_job("j-1")["Items"] == []


def test_count_jobs(aws):
    assert jobs_app.count_jobs() == 0


def test_fetch_model(aws, tmp_path):
    jobs_app.fetch_model("models/base.bin", str(tmp_path / "base.bin"))


def test_store_model(aws, tmp_path):
    path = tmp_path / "trained.bin"
    path.write_bytes(b"w" * (6 * 1024 * 1024))
    jobs_app.store_model(str(path), "models/trained.bin")


def test_announce(aws):
    jobs_app.announce(aws, "trained")


def test_whoami(aws):
    assert jobs_app.whoami() == "123456789012"
"""

TABLE = "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table"
BUCKET = "arn:${AWS_PARTITION}:s3:::ml-artifacts"
QUEUE = "arn:${AWS_PARTITION}:sqs:${AWS_REGION}:${AWS_ACCOUNT_ID}:job-events"
T = "tests/test_jobs.py"
#: (action, resource, reason), in the file's order.
EXPECTED = [
    (
        "dynamodb:BatchWriteItem",
        f"{TABLE}/ml-jobs",
        f"dynamodb.BatchWriteItem in {T}::test_import_jobs",
    ),
    (
        "dynamodb:ConditionCheckItem",
        f"{TABLE}/quotas",
        f"dynamodb.TransactWriteItems in {T}::test_start_job",
    ),
    (
        "dynamodb:DescribeTable",
        f"{TABLE}/ml-jobs",
        f"dynamodb.DescribeTable in {T}::test_count_jobs",
    ),
    (
        "dynamodb:PartiQLSelect",
        f"{TABLE}/ml-jobs",
        f"dynamodb.ExecuteStatement in {T}::test_find_job",
    ),
    ("dynamodb:PutItem", f"{TABLE}/ml-jobs", f"dynamodb.TransactWriteItems in {T}::test_start_job"),
    (
        "dynamodb:Query",
        f"{TABLE}/ml-jobs/index/by-status",
        f"dynamodb.Query in {T}::test_jobs_with_status",
    ),
    ("dynamodb:Scan", f"{TABLE}/ml-jobs", f"dynamodb.Scan in {T}::test_list_jobs"),
    ("s3:GetObject", f"{BUCKET}/models/base.bin", f"s3.HeadObject in {T}::test_fetch_model"),
    (
        "s3:PutObject",
        f"{BUCKET}/models/trained.bin",
        f"s3.CreateMultipartUpload in {T}::test_store_model",
    ),
    ("sqs:SendMessage", QUEUE, f"sqs.SendMessage in {T}::test_announce"),
    # STS is not in the mapping: recorded by its name, and flagged.
    ("sts:GetCallerIdentity", "*", f"sts.GetCallerIdentity in {T}::test_whoami"),
]
UNMAPPED = (
    "# UNMAPPED: the mapping does not know this call; it is recorded by its operation name "
    'on "*": look up the IAM action and resource in AWS\'s Service Authorization Reference '
    "and correct this entry\n"
)


def expected_file(entries: list[tuple[str, str, str]] = EXPECTED) -> str:
    body = "".join(
        "\n"
        + (UNMAPPED if action.startswith("sts:") else "")
        + f'[[action]]\nname = "{action}"\nreason = "{reason}"\nresource = "{resource}"\n'
        for action, resource, reason in entries
    )
    return HEADER + body


def requirements(entries: list[tuple[str, str, str]]) -> str:
    return "".join(
        f'[[action]]\nname = "{a}"\nreason = "{why}"\nresource = "{r}"\n\n' for a, r, why in entries
    )


@pytest.fixture
def app(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The application, its conftest (moto) and its tests; no compliance suite."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:cacheprovider")
    pytester.makepyfile(jobs_app=APP)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "conftest.py").write_text(CONFTEST)
    (pytester.path / "tests" / "test_jobs.py").write_text(TESTS)
    pytester.makeini("[pytest]\npythonpath = .\n")
    return pytester


@pytest.mark.slow
@pytest.mark.parametrize(
    "workers", [pytest.param([], id="one-process"), pytest.param(["-n", "2"], id="xdist")]
)
def test_the_recorded_file_exactly(app: pytest.Pytester, workers: list[str]) -> None:
    result = app.runpytest_subprocess("--iam-record=recorded.toml", *workers)

    result.assert_outcomes(passed=10)
    assert (app.path / "recorded.toml").read_text() == expected_file()
    result.stdout.fnmatch_lines(
        [
            "*iam-compliance: recorded AWS calls*",
            "15 AWS call(s) in 10 test(s): 11 requirement(s), written to *recorded.toml",
            f"UNMAPPED: sts:GetCallerIdentity on *, sts.GetCallerIdentity in {T}::test_whoami",
        ]
    )


def test_fixtures_are_recorded_when_asked(app: pytest.Pytester) -> None:
    result = app.runpytest_subprocess(
        "--iam-record=recorded.toml", "--iam-record-fixtures", "-k", "list_jobs"
    )

    result.assert_outcomes(passed=1)
    text = (app.path / "recorded.toml").read_text()
    assert f'reason = "dynamodb.CreateTable in {T}::test_list_jobs"' in text
    assert 'name = "sqs:CreateQueue"' in text


def test_a_call_missing_from_the_requirements_fails_and_names_test_and_call(
    app: pytest.Pytester,
) -> None:
    listed = [e for e in EXPECTED if e[0] != "dynamodb:Scan"]
    stale = ("dynamodb:DeleteItem", f"{TABLE}/ml-jobs", "Delete old jobs")
    (app.path / "required.toml").write_text(requirements([*listed, stale]))

    result = app.runpytest_subprocess("--iam-record-check=required.toml")

    result.assert_outcomes(passed=10)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*iam-compliance: recorded calls against required.toml*",
            f"FAILED {T}::test_list_jobs: dynamodb.Scan needs dynamodb:Scan on "
            "arn:aws:dynamodb:us-east-1:618574523116:table/ml-jobs, which required.toml does "
            "not require (no requirement names dynamodb:Scan)",
            "WARNING dynamodb:DeleteItem@* (Delete old jobs) is required but no test exercised it",
        ]
    )


def test_under_strict_a_requirement_no_test_exercised_fails(app: pytest.Pytester) -> None:
    stale = ("dynamodb:DeleteItem", f"{TABLE}/ml-jobs", "Delete old jobs")
    (app.path / "required.toml").write_text(requirements([*EXPECTED, stale]))

    result = app.runpytest_subprocess(
        "--iam-record-check=required.toml", "--iam-record-strict", "-n", "2"
    )

    result.assert_outcomes(passed=10)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAILED dynamodb:DeleteItem@* (Delete old jobs) is required but no test exercised it"]
    )
    assert "does not require" not in result.stdout.str()  # every call is covered


def test_the_suite_names_the_option_of_a_requirements_file_it_cannot_read(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest("--iam-requirements=nowhere.toml")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--iam-requirements nowhere.toml: */nowhere.toml: required actions file not found*"]
    )


def test_the_suite_checks_the_requirements_file_it_is_given(suite: pytest.Pytester) -> None:
    (suite.path / "recorded.toml").write_text(
        requirements([("dynamodb:GetItem", f"{TABLE}/ml-jobs", "dynamodb.GetItem in t")])
    )

    result = suite.runpytest("--iam-requirements=recorded.toml", "-k", "required_action")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*dynamodb:GetItem@arn:${AWS_PARTITION}:dynamodb:*allowed*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--iam-record=missing/recorded.toml"],
            "*--iam-record missing/recorded.toml: folder */missing does not exist*",
            id="no-such-folder",
        ),
        pytest.param(
            ["--iam-record-strict"],
            "*--iam-record-strict needs --iam-record=PATH or --iam-record-check=PATH*",
            id="strict-alone",
        ),
        pytest.param(
            ["--iam-record=r.toml", "--iam-record-account=1234"],
            "*--iam-record-account must be 12 digits; got '1234'*",
            id="bad-account",
        ),
        pytest.param(
            ["--iam-requirements=r.toml"],
            "*--iam-requirements needs the compliance suite*",
            id="requirements-without-the-suite",
        ),
        pytest.param(
            ["--iam-record-check=nowhere.toml"],
            "*--iam-record-check nowhere.toml: */nowhere.toml: required actions file not found*",
            id="no-requirements-file",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")

    result = pytester.runpytest_subprocess(*args, "-p", "no:xdist")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_without_the_options_nothing_of_the_recording_is_imported(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_modules="""
import sys

def test_modules():
    loaded = sorted(
        m for m in sys.modules
        if m.startswith(("botocore", "iam_compliance.recording"))
        or m in ("iam_compliance.aws.recorder", "iam_compliance.pytest_plugin.recording")
    )
    assert loaded == []
"""
    )

    result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:hypothesispytest")

    result.assert_outcomes(passed=1)
