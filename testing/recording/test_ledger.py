"""The ledger (first test in file order, merging workers) and the file it becomes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from iam_compliance.aws.catalog import IamActionCatalog
from iam_compliance.engine.requirements import load_requirements
from iam_compliance.recording.ledger import Ledger, TestRef
from iam_compliance.recording.model import ApiCall, Scope
from iam_compliance.recording.writer import HEADER, quote, render

OWN = "123456789012"
FIRST: TestRef = ("tests/test_a.py", 3, "tests/test_a.py::test_first")
LATER: TestRef = ("tests/test_a.py", 40, "tests/test_a.py::test_later")
OTHER_FILE: TestRef = ("tests/test_b.py", 1, "tests/test_b.py::test_b")


def scan(table: str = "ml-jobs") -> ApiCall:
    return ApiCall("dynamodb", "Scan", {"TableName": table}, "us-east-1", "aws", "dynamodb")


def recorded(*calls: tuple[TestRef | None, ApiCall]) -> Ledger:
    ledger = Ledger(Scope(OWN))
    for test, call in calls:
        ledger.test = test
        ledger.record(call)
    return ledger


def test_calls_between_tests_are_not_recorded() -> None:
    ledger = recorded((None, scan()))

    assert ledger.entries() == ()
    assert ledger.calls == 0


def test_each_entry_names_the_first_test_in_file_order_whatever_ran_first() -> None:
    ledger = recorded((OTHER_FILE, scan()), (LATER, scan()), (FIRST, scan()), (LATER, scan()))

    (entry,) = ledger.entries()
    assert entry.test == FIRST
    assert (ledger.calls, ledger.tests) == (4, 3)


def test_merging_workers_gives_what_one_process_gives() -> None:
    one = recorded((LATER, scan("b")), (FIRST, scan("a")), (OTHER_FILE, scan("a")))
    worker_1 = recorded((LATER, scan("b")), (OTHER_FILE, scan("a")))
    worker_2 = recorded((FIRST, scan("a")))

    controller = Ledger(Scope(OWN))
    for worker in (worker_2, worker_1):
        controller.merge(worker.payload())

    assert controller.entries() == one.entries()
    assert render(controller.entries()) == render(one.entries())
    assert (controller.calls, controller.tests) == (one.calls, one.tests)


def test_a_failing_translation_is_recorded_as_unreadable_never_dropped() -> None:
    broken = ApiCall("dynamodb", "GetItem", {"TableName": 7}, "us-east-1", "aws", "dynamodb")

    ledger = recorded((FIRST, broken))

    (entry,) = ledger.entries()
    assert (entry.action, entry.resource) == ("dynamodb:GetItem", "*")
    assert [n.id for n in entry.notes] == ["UNREADABLE"]


def test_the_file_exactly() -> None:
    ledger = recorded(
        (FIRST, scan()),
        (
            LATER,
            ApiCall("kms", "Encrypt", {"KeyId": "alias/jobs"}, "us-east-1", "aws", "kms"),
        ),
        (LATER, ApiCall("ec2", "DescribeInstances", {}, "us-east-1", "aws", "ec2")),
    )

    text = render(ledger.entries(), ["xdist worker gw1 sent no recording (crashed)"])

    assert text == HEADER + (
        "# INCOMPLETE: xdist worker gw1 sent no recording (crashed)\n"
        "\n"
        "[[action]]\n"
        'name = "dynamodb:Scan"\n'
        'reason = "dynamodb.Scan in tests/test_a.py::test_first"\n'
        'resource = "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/ml-jobs"\n'
        "\n"
        "# UNMAPPED: the mapping does not know this call; it is recorded by its operation name "
        'on "*": look up the IAM action and resource in AWS\'s Service Authorization Reference '
        "and correct this entry\n"
        "[[action]]\n"
        'name = "ec2:DescribeInstances"\n'
        'reason = "ec2.DescribeInstances in tests/test_a.py::test_later"\n'
        'resource = "*"\n'
        "\n"
        "# KMS_ALIAS: the call names a KMS key by an alias; IAM authorises the key itself (a "
        "policy's Resource must be the key ARN, or use the kms:RequestAlias condition key): "
        "replace the alias ARN with the key's ARN (alias/jobs)\n"
        "[[action]]\n"
        'name = "kms:Encrypt"\n'
        'reason = "kms.Encrypt in tests/test_a.py::test_later"\n'
        'resource = "arn:${AWS_PARTITION}:kms:${AWS_REGION}:${AWS_ACCOUNT_ID}:alias/jobs"\n'
    )


def test_the_file_is_what_the_compliance_suite_reads(tmp_path: Path) -> None:
    ledger = recorded(
        (FIRST, scan()),
        (
            FIRST,
            ApiCall(
                "s3", "HeadObject", {"Bucket": "b-1", "Key": 'a/"q"\\ $x'}, "us-east-1", "aws", "s3"
            ),
        ),
        (
            FIRST,
            ApiCall(
                "logs", "CreateLogGroup", {"logGroupName": "/ecs/a"}, "us-east-1", "aws", "logs"
            ),
        ),
    )
    path = tmp_path / "recorded.toml"
    path.write_text(render(ledger.entries()), encoding="utf-8")

    found = load_requirements(path, IamActionCatalog())

    assert [(r.name, r.resource) for r in found] == [
        (
            "dynamodb:Scan",
            "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/ml-jobs",
        ),
        (
            "logs:CreateLogGroup",
            "arn:${AWS_PARTITION}:logs:${AWS_REGION}:${AWS_ACCOUNT_ID}:log-group:/ecs/a:*",
        ),
        ("s3:GetObject", 'arn:${AWS_PARTITION}:s3:::b-1/a/"q"\\ $$x'),
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('quote " and backslash \\', id="quote-backslash"),
        pytest.param("line\nbreak\ttab\x7fdel\x00nul", id="control"),
        pytest.param("ünïcödé ☃ 𝄞", id="unicode"),
    ],
)
def test_any_text_survives_a_toml_round_trip(text: str) -> None:
    assert tomllib.loads(f"value = {quote(text)}")["value"] == text
