"""Reading a PartiQL statement's verb, table and index."""

from __future__ import annotations

import pytest

from iam_compliance.recording.partiql import Statement, read_statement


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            'SELECT * FROM "ml-jobs" WHERE k = ?', Statement("SELECT", "ml-jobs"), id="select"
        ),
        pytest.param(
            "select a, b from jobs", Statement("SELECT", "jobs"), id="lower-case-unquoted"
        ),
        pytest.param(
            'SELECT * FROM "ml-jobs"."by-status" WHERE s = ?',
            Statement("SELECT", "ml-jobs", "by-status"),
            id="select-an-index",
        ),
        pytest.param(
            '  \n\tSELECT "from" FROM "a""b" WHERE x = \'FROM y\'',
            Statement("SELECT", 'a"b'),
            id="quoted-keywords-and-strings-are-not-keywords",
        ),
        pytest.param("INSERT INTO \"t\" VALUE {'k': ?}", Statement("INSERT", "t"), id="insert"),
        pytest.param('UPDATE "t" SET s = ? WHERE k = ?', Statement("UPDATE", "t"), id="update"),
        pytest.param(
            'UPDATE "t" REMOVE s WHERE k = ?', Statement("UPDATE", "t"), id="update-remove"
        ),
        pytest.param('DELETE FROM "t" WHERE k = ?', Statement("DELETE", "t"), id="delete"),
        pytest.param("SELECT * FROM ml-jobs", Statement("SELECT", "ml-jobs"), id="unquoted-hyphen"),
        pytest.param(
            'SELECT * FROM "arn:aws:dynamodb:us-east-1:111122223333:table/t"',
            Statement("SELECT", "arn:aws:dynamodb:us-east-1:111122223333:table/t"),
            id="a-table-arn",
        ),
    ],
)
def test_statements_are_read(text: str, expected: Statement) -> None:
    assert read_statement(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('EXISTS(SELECT * FROM "t" WHERE k = ?)', id="exists"),
        pytest.param('DELETE "t" WHERE k = ?', id="delete-without-from"),
        pytest.param('UPDATE "t"."i" SET s = ?', id="update-an-index"),
        pytest.param('SELECT * FROM "t".', id="a-dot-and-nothing"),
        pytest.param("SELECT 1", id="no-from"),
        pytest.param("", id="empty"),
        pytest.param("UPSERT INTO t", id="unknown-verb"),
    ],
)
def test_anything_else_is_not_read(text: str) -> None:
    assert read_statement(text) is None
