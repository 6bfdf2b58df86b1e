"""Recorded calls against a requirements file, both ways."""

from __future__ import annotations

import pytest

from iam_compliance.engine.requirements import RequiredAction
from iam_compliance.errors import ConfigurationError
from iam_compliance.recording.comparison import compare, resolve
from iam_compliance.recording.ledger import Entry
from iam_compliance.recording.model import Note

from conftest import REQUIREMENTS, TABLE_ARN, TARGET

TEST = ("tests/test_jobs.py", 10, "tests/test_jobs.py::test_list_jobs")
TABLE = "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/ml-jobs"


def entry(action: str, resource: str = TABLE, *notes: Note) -> Entry:
    return Entry(action, resource, TEST, action.replace(":", "."), notes)


def test_calls_the_requirements_cover_are_no_drift() -> None:
    drift = compare(
        [entry("dynamodb:Scan"), entry("dynamodb:DescribeTable")], REQUIREMENTS[3:], TARGET
    )

    assert drift.uncovered == ()
    assert [r.name for r in drift.unexercised] == ["dynamodb:Query"]


def test_a_call_no_requirement_names_is_uncovered_and_says_which_test() -> None:
    drift = compare([entry("dynamodb:DeleteItem")], REQUIREMENTS, TARGET)

    (item,) = drift.uncovered
    assert item.entry.test[2] == "tests/test_jobs.py::test_list_jobs"
    assert item.arn == TABLE_ARN
    assert item.why == "no requirement names dynamodb:DeleteItem"


def test_a_requirement_on_the_table_does_not_cover_an_index() -> None:
    drift = compare([entry("dynamodb:Query", f"{TABLE}/index/by-status")], REQUIREMENTS, TARGET)

    (item,) = drift.uncovered
    assert item.why == f"dynamodb:Query is required only on {TABLE_ARN}"


def test_a_requirement_on_every_index_covers_one() -> None:
    every_index = RequiredAction("dynamodb:Query", "by any index", "index/*")

    drift = compare([entry("dynamodb:Query", f"{TABLE}/index/by-status")], [every_index], TARGET)

    assert drift.uncovered == ()
    assert drift.unexercised == ()


def test_an_unmapped_call_on_star_needs_a_requirement_on_star() -> None:
    on_table = RequiredAction("ec2:DescribeInstances", "", TABLE)
    on_star = RequiredAction("ec2:DescribeInstances", "", "*")
    unmapped = entry("ec2:DescribeInstances", "*", Note("UNMAPPED"))

    assert len(compare([unmapped], [on_table], TARGET).uncovered) == 1
    assert compare([unmapped], [on_star], TARGET).uncovered == ()


def test_a_secret_by_name_is_not_covered_by_one_suffix() -> None:
    """By name the call may reach any of the secret's six-character suffixes; a requirement
    naming one of them does not cover the others."""
    by_name = "arn:${AWS_PARTITION}:secretsmanager:${AWS_REGION}:${AWS_ACCOUNT_ID}:secret:db-??????"
    exact = RequiredAction("secretsmanager:GetSecretValue", "", by_name.replace("??????", "a1B2c3"))
    any_suffix = RequiredAction("secretsmanager:GetSecretValue", "", by_name)

    assert (
        len(compare([entry("secretsmanager:GetSecretValue", by_name)], [exact], TARGET).uncovered)
        == 1
    )
    assert (
        compare([entry("secretsmanager:GetSecretValue", by_name)], [any_suffix], TARGET).uncovered
        == ()
    )


def test_placeholders_are_the_target_s_on_both_sides() -> None:
    literal = RequiredAction(
        "sqs:SendMessage", "", f"arn:aws:sqs:{TARGET.region}:{TARGET.account_id}:jobs"
    )
    recorded = entry(
        "sqs:SendMessage", "arn:${AWS_PARTITION}:sqs:${AWS_REGION}:${AWS_ACCOUNT_ID}:jobs"
    )

    assert compare([recorded], [literal], TARGET).uncovered == ()


def test_a_recorded_resource_is_filled_as_the_requirements_file_is() -> None:
    """The one placeholder filler: ``$$`` is a ``$``, a name it does not know is an error
    naming the recorded resource (not a KeyError)."""
    recorded = "arn:${AWS_PARTITION}:s3:::cost$$centre/${AWS_ACCOUNT_ID}/*"

    assert resolve(recorded, TARGET) == f"arn:aws:s3:::cost$centre/{TARGET.account_id}/*"
    with pytest.raises(ConfigurationError, match=r"recorded resource .*: unknown placeholder 'X'"):
        resolve("arn:aws:s3:::${X}", TARGET)
