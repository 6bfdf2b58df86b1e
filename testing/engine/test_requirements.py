"""load_requirements: the required actions file, checked against a service catalog."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from iam_compliance.engine.requirements import RequiredAction, load_requirements
from iam_compliance.errors import ConfigurationError

from conftest import FIXTURES, REQUIRED, REQUIREMENTS


class FakeCatalog:
    """An action catalog that knows only the services and actions it is given.

    Every action acts on a table and its indexes, as DynamoDB's data actions do.
    """

    def __init__(self, known: Mapping[str, set[str]]) -> None:
        self.known = {service: frozenset(names) for service, names in known.items()}

    def services(self) -> frozenset[str]:
        return frozenset(self.known)

    def actions(self, service: str) -> frozenset[str] | None:
        return self.known.get(service)

    def resource_types(self, service: str, action: str) -> tuple[str, ...]:
        return ("index", "table")

    def resource_arn(self, service: str, resource_type: str) -> str:
        table = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"
        return f"{table}/index/${{IndexName}}" if resource_type == "index" else table


CATALOG = FakeCatalog(
    {
        "dynamodb": {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "Scan",
            "Query",
            "DescribeTable",
            "BatchGetItem",
        },
        "s3": {"GetObject", "PutObject"},
    }
)


def entry(name: str, reason: str = "why") -> str:
    return f'[[action]]\nname = "{name}"\nreason = "{reason}"\n\n'


def written(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "required_actions.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path, catalog: FakeCatalog = CATALOG) -> str:
    with pytest.raises(ConfigurationError) as raised:
        load_requirements(path, catalog)
    return str(raised.value)


def test_valid_file_gives_the_actions_in_order(tmp_path: Path) -> None:
    path = written(
        tmp_path,
        entry("dynamodb:Scan", "List all jobs") + '[[action]]\nname = "s3:GetObject"\n',
    )

    assert load_requirements(path, CATALOG) == (
        RequiredAction("dynamodb:Scan", "List all jobs"),
        RequiredAction("s3:GetObject", ""),
    )


def test_the_fixture_is_what_the_self_tests_require() -> None:
    assert load_requirements(FIXTURES / "required_actions.toml", CATALOG) == REQUIREMENTS
    assert tuple(required.name for required in REQUIREMENTS) == REQUIRED


def test_the_catalog_is_asked_about_each_service(tmp_path: Path) -> None:
    asked: list[str] = []

    class Recording(FakeCatalog):
        def actions(self, service: str) -> frozenset[str] | None:
            asked.append(service)
            return super().actions(service)

    path = written(tmp_path, entry("dynamodb:Scan") + entry("s3:GetObject"))

    load_requirements(path, Recording(CATALOG.known))

    assert asked == ["dynamodb", "s3"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("name = = x\n", ": not valid TOML: ", id="not-toml"),
        pytest.param(b"\xff\xfe[[action]]", ": cannot be read (", id="not-utf8"),
        pytest.param("", ': expected one or more [[action]] tables with "name"', id="empty-file"),
        pytest.param(
            '[[actions]]\nname = "dynamodb:Scan"\n',
            ": unknown key 'actions'; expected [[action]], [[forbid]], [workload]",
            id="misspelt-action-table",
        ),
        pytest.param(
            "action = []\n",
            ': expected one or more [[action]] tables with "name"',
            id="empty-action-list",
        ),
        pytest.param(
            'action = "dynamodb:Scan"\n',
            ': expected one or more [[action]] tables with "name"',
            id="action-a-string",
        ),
        pytest.param(
            "[[action]]\nname = 7\n",
            ': action #1: "name" and "reason" must be strings',
            id="name-a-number",
        ),
        pytest.param(
            '[[action]]\nreason = "why"\n',
            ': action #1: "name" and "reason" must be strings',
            id="name-missing",
        ),
        pytest.param(
            entry("dynamodb:Scan") + '[[action]]\nname = "s3:GetObject"\nreason = ["a"]\n',
            ': action #2: "name" and "reason" must be strings',
            id="reason-a-list",
        ),
        pytest.param(
            entry("dynamodb:Scan") + entry("dynamodb:Query") + entry("dynamodb:Scan"),
            ": action #3: dynamodb:Scan is listed twice",
            id="duplicate",
        ),
        pytest.param(
            entry("dynamodb:Scann"),
            ": action #1: 'dynamodb:Scann': dynamodb has no action 'Scann'; "
            "did you mean 'Scan'? (checked against AWS's IAM action data)",
            id="unknown-operation-near-miss",
        ),
        pytest.param(
            entry("dynamodb:Fly"),
            ": action #1: 'dynamodb:Fly': dynamodb has no action 'Fly' "
            "(checked against AWS's IAM action data)",
            id="unknown-operation-no-suggestion",
        ),
        pytest.param(
            entry("dynamodb:Sacn"),
            ": action #1: 'dynamodb:Sacn': dynamodb has no action 'Sacn'; did you mean 'Scan'?",
            id="action-transposed",
        ),
        pytest.param(
            entry("dyanmodb:Scan"),
            ": action #1: 'dyanmodb:Scan': unknown service 'dyanmodb'; did you mean 'dynamodb'?",
            id="unknown-service-near-miss",
        ),
        pytest.param(
            entry("ec2:RunInstances"),
            ": action #1: 'ec2:RunInstances': unknown service 'ec2'",
            id="unknown-service-no-suggestion",
        ),
        pytest.param(
            entry("Scan"),
            ': action #1: \'Scan\' must be "service:Action", for example "dynamodb:Scan"',
            id="no-colon",
        ),
        pytest.param(
            entry("dynamodb:"),
            ": action #1: 'dynamodb:' must be \"service:Action\"",
            id="no-operation",
        ),
        pytest.param(
            entry(":Scan"),
            ": action #1: ':Scan' must be \"service:Action\"",
            id="no-service",
        ),
    ],
)
def test_refusal_names_the_file_the_entry_and_the_problem(
    tmp_path: Path, text: str | bytes, problem: str
) -> None:
    path = written(tmp_path, text)

    message = refusal(path)

    assert message.startswith(f"{path}{problem}")


def test_unknown_service_message_ends_without_a_suggestion(tmp_path: Path) -> None:
    message = refusal(written(tmp_path, entry("ec2:RunInstances")))

    assert message.endswith("unknown service 'ec2'")
    assert "did you mean" not in message


def test_action_names_are_read_as_aws_spells_them(tmp_path: Path) -> None:
    # IAM action names compare case-insensitively; the file may use any case.
    path = written(tmp_path, entry("DynamoDB:scan"))

    assert load_requirements(path, CATALOG) == (RequiredAction("dynamodb:Scan", "why"),)


def test_duplicate_in_another_case_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path, entry("dynamodb:Scan") + entry("DynamoDB:scan"))

    assert refusal(path) == f"{path}: action #2: dynamodb:Scan is listed twice"


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "required_actions.toml"

    assert refusal(path) == f"{path}: required actions file not found"


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    assert refusal(tmp_path).startswith(f"{tmp_path}: cannot be read (")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('action = ["dynamodb:Scan"]\n', id="list-of-strings"),
        pytest.param("action = [1, 2]\n", id="list-of-numbers"),
    ],
)
def test_entry_that_is_not_a_table_is_refused(tmp_path: Path, text: str) -> None:
    message = refusal(written(tmp_path, text))

    assert ": action #1: " in message
