"""load_requirements: the required actions file, checked against a service catalog."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from iam_compliance.engine.requirements import (
    ForbiddenAction,
    RequiredAction,
    Workload,
    check_overlaps,
    load_requirements,
    load_workload,
)
from iam_compliance.errors import ConfigurationError

from conftest import FIXTURES, REQUIRED, REQUIREMENTS, TARGET


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


# ------------------------------------------------------------- [[forbid]], [workload]


def forbid(name: str, reason: str = "never", resource: str | None = None) -> str:
    where = f'resource = "{resource}"\n' if resource else ""
    return f'[[forbid]]\nname = "{name}"\nreason = "{reason}"\n{where}\n'


def test_forbids_and_the_workload_are_read_with_the_actions(tmp_path: Path) -> None:
    path = written(
        tmp_path,
        '[workload]\ntrusted_service = "lambda.amazonaws.com"\n\n'
        + entry("dynamodb:GetItem")
        + forbid("dynamodb:PutItem", "read only")
        + forbid("dynamodb:Query", "", "index/*"),
    )

    found = load_workload(path, CATALOG)

    assert found == Workload(
        (RequiredAction("dynamodb:GetItem", "why"),),
        (
            ForbiddenAction("dynamodb:PutItem", "read only"),
            ForbiddenAction("dynamodb:Query", "", "index/*"),
        ),
        "lambda.amazonaws.com",
    )
    assert [f.id for f in found.forbidden] == [
        "dynamodb:PutItem",
        "dynamodb:Query@index/*",
    ]


def test_the_runbook_file_forbids_nothing_and_trusts_ecs_tasks() -> None:
    found = load_workload(FIXTURES / "required_actions.toml", CATALOG)

    assert (found.forbidden, found.trusted_service) == ((), "ecs-tasks.amazonaws.com")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(
            entry("dynamodb:Scan") + forbid("dynamodb:Delete"),
            ": forbid #1: 'dynamodb:Delete': dynamodb has no action 'Delete'",
            id="unknown-forbidden-action",
        ),
        pytest.param(
            entry("dynamodb:Scan") + '[[forbidden]]\nname = "dynamodb:PutItem"\n',
            ": unknown key 'forbidden'; expected [[action]], [[forbid]], [workload]",
            id="misspelt-forbid-table",
        ),
        pytest.param(
            '[workload]\ntrusted_service = "lambda"\n' + entry("dynamodb:Scan"),
            ': [workload] trusted_service must be a service principal such as "lambda.amazonaws'
            '.com" or "ecs-tasks.amazonaws.com", got \'lambda\'',
            id="not-a-service-principal",
        ),
        pytest.param(
            '[workload]\nservice = "lambda.amazonaws.com"\n' + entry("dynamodb:Scan"),
            ": [workload]: unknown key 'service'; expected \"trusted_service\"",
            id="unknown-workload-key",
        ),
    ],
)
def test_a_bad_forbid_or_workload_is_named(tmp_path: Path, text: str, says: str) -> None:
    path = written(tmp_path, text)

    with pytest.raises(ConfigurationError) as raised:
        load_workload(path, CATALOG)

    assert str(raised.value).startswith(f"{path}{says}"), str(raised.value)


@pytest.mark.parametrize(
    ("required", "forbidden", "overlap"),
    [
        pytest.param(entry("dynamodb:Scan"), forbid("dynamodb:Scan"), True, id="same-pair"),
        pytest.param(
            entry("dynamodb:Query"),
            forbid("dynamodb:query", resource="arn:${AWS_PARTITION}:dynamodb:*:*:table/*"),
            True,
            id="a-pattern-that-covers-the-requirement",
        ),
        pytest.param(
            entry("dynamodb:Query"),
            forbid("dynamodb:Query", resource="index/by-status"),
            False,
            id="another-resource",
        ),
        pytest.param(entry("dynamodb:Query"), forbid("dynamodb:Scan"), False, id="another-action"),
    ],
)
def test_a_requirement_and_a_forbid_that_overlap_are_refused(
    tmp_path: Path, required: str, forbidden: str, overlap: bool
) -> None:
    path = written(tmp_path, required + forbidden)
    workload = load_workload(path, CATALOG)

    if not overlap:
        check_overlaps(workload, [TARGET], str(path))
        return
    with pytest.raises(ConfigurationError) as raised:
        check_overlaps(workload, [TARGET], str(path))
    [need], [never] = workload.required, workload.forbidden
    assert str(raised.value) == (
        f"{path}: [[action]] {need.id} ({need.arn(TARGET)}) and [[forbid]] {never.id} "
        f"({never.arn(TARGET)}) overlap: the same request cannot be both required and "
        "forbidden; narrow one of them"
    )
