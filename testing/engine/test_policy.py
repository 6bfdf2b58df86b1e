"""parse_policy and load_document: normalised fields, and every document IAM would refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iam_compliance.engine.decoding import MAX_DOCUMENT_BYTES, MAX_NESTING, load_document
from iam_compliance.engine.policy import (
    Condition,
    PolicyKind,
    Statement,
    labelled_statement,
    labels_policy,
    parse_policy,
    policy_label,
    statement_label,
)
from iam_compliance.errors import PolicyError

from conftest import POLICY_ARN, POLICY_NAME, TABLE_ARN, ecs_trust_policy

SCAN = "dynamodb:Scan"
OK = {"Effect": "Allow", "Action": SCAN, "Resource": TABLE_ARN}


def one(statement: dict[str, Any], **options: Any) -> Statement:
    """The parsed statement of a one-statement policy."""
    document = {"Version": "2012-10-17", "Statement": [statement]}
    [parsed] = parse_policy(document, name="P", **options).statements
    return parsed


def refusal(document: Any, **options: Any) -> PolicyError:
    with pytest.raises(PolicyError) as raised:
        parse_policy(document, name="P", **options)
    return raised.value


# --------------------------------------------------------------- normalised fields


@pytest.mark.parametrize(
    ("key", "value", "attribute", "expected"),
    [
        pytest.param("Action", SCAN, "actions", (SCAN,), id="action-string"),
        pytest.param("Action", [SCAN, "s3:*"], "actions", (SCAN, "s3:*"), id="action-list"),
        pytest.param("NotAction", "iam:*", "not_actions", ("iam:*",), id="not-action-string"),
        pytest.param(
            "NotAction", ["iam:*", "sts:*"], "not_actions", ("iam:*", "sts:*"), id="not-action-list"
        ),
        pytest.param("Resource", TABLE_ARN, "resources", (TABLE_ARN,), id="resource-string"),
        pytest.param(
            "Resource", [TABLE_ARN, "*"], "resources", (TABLE_ARN, "*"), id="resource-list"
        ),
        pytest.param("NotResource", "*", "not_resources", ("*",), id="not-resource-string"),
        pytest.param(
            "NotResource", [TABLE_ARN], "not_resources", (TABLE_ARN,), id="not-resource-list"
        ),
    ],
)
def test_string_or_list_becomes_a_tuple(
    key: str, value: Any, attribute: str, expected: tuple[str, ...]
) -> None:
    statement = dict(OK)
    if key == "NotAction":
        del statement["Action"]
    if key == "NotResource":
        del statement["Resource"]
    statement[key] = value

    parsed = one(statement)

    assert getattr(parsed, attribute) == expected
    # The other half of the pair is None, not an empty tuple: "absent" is not "matches none".
    other = {
        "actions": "not_actions",
        "not_actions": "actions",
        "resources": "not_resources",
        "not_resources": "resources",
    }[attribute]
    assert getattr(parsed, other) is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(OK, id="one-object"),
        pytest.param([OK], id="list-of-one"),
    ],
)
def test_statement_may_be_one_object_or_a_list(body: Any) -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": body}, name="P")

    assert len(policy.statements) == 1
    assert policy.statements[0].actions == (SCAN,)
    assert policy.statements[0].index == 0


def test_statements_keep_their_order_and_position() -> None:
    second = {"Sid": "Second", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    policy = parse_policy({"Statement": [OK, second]}, name="P")

    assert [(s.index, s.sid, s.effect) for s in policy.statements] == [
        (0, None, "Allow"),
        (1, "Second", "Deny"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("vpc-1", ("vpc-1",), id="string"),
        pytest.param(["vpc-1", "vpc-2"], ("vpc-1", "vpc-2"), id="list"),
        pytest.param(True, ("true",), id="true"),
        pytest.param(False, ("false",), id="false"),
        pytest.param([True, "false"], ("true", "false"), id="bool-and-string"),
        pytest.param(10, ("10",), id="integer"),
        pytest.param(2.5, ("2.5",), id="float"),
        pytest.param([0, 1.0], ("0", "1.0"), id="numbers"),
    ],
)
def test_condition_values_become_strings(value: Any, expected: tuple[str, ...]) -> None:
    parsed = one({**OK, "Condition": {"Bool": {"aws:SecureTransport": value}}})

    assert parsed.conditions == (Condition("Bool", "aws:SecureTransport", expected),)


def test_conditions_keep_operator_and_key_as_written() -> None:
    parsed = one(
        {
            **OK,
            "Condition": {
                "ForAnyValue:StringLikeIfExists": {"AWS:SourceVpc": ["vpc-*"]},
                "NumericLessThan": {"s3:max-keys": 10, "dynamodb:Select": "1"},
            },
        }
    )

    assert parsed.conditions == (
        Condition("ForAnyValue:StringLikeIfExists", "AWS:SourceVpc", ("vpc-*",)),
        Condition("NumericLessThan", "s3:max-keys", ("10",)),
        Condition("NumericLessThan", "dynamodb:Select", ("1",)),
    )


def test_text_and_decoded_documents_parse_alike() -> None:
    document = {"Version": "2012-10-17", "Statement": [OK]}

    from_text = parse_policy(json.dumps(document), name="P")
    from_object = parse_policy(document, name="P")

    assert from_text == from_object
    assert from_text.document == document


def test_policy_keeps_where_it_came_from() -> None:
    document = {"Version": "2012-10-17", "Statement": [OK]}
    policy = parse_policy(document, name=POLICY_NAME, kind="managed", version="v3", arn=POLICY_ARN)

    assert (policy.name, policy.kind, policy.version, policy.arn) == (
        POLICY_NAME,
        "managed",
        "v3",
        POLICY_ARN,
    )
    assert policy.document is document


# ------------------------------------------------------------------------ refusals

REFUSALS = [
    pytest.param(
        {"Statement": [{**OK, "Effect": "allow"}]},
        'P: statement #1: Effect must be "Allow" or "Deny", got "allow"',
        id="effect-lowercase",
    ),
    pytest.param(
        {"Statement": [{"Action": SCAN, "Resource": "*"}]},
        'P: statement #1: Effect must be "Allow" or "Deny", got null',
        id="effect-missing",
    ),
    pytest.param(
        {"Statement": [{**OK, "NotAction": "s3:*"}]},
        "P: statement #1: needs exactly one of Action or NotAction",
        id="action-and-not-action",
    ),
    pytest.param(
        {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
        "P: statement #1: needs exactly one of Action or NotAction",
        id="neither-action-nor-not-action",
    ),
    pytest.param(
        {"Statement": [{**OK, "Action": "Scan"}]},
        'P: statement #1: action \'Scan\' must be "*" or "service:action" '
        '(for example "dynamodb:GetItem")',
        id="action-without-service",
    ),
    pytest.param(
        {"Statement": [{**OK, "Action": "dynamodb:Scan\n"}]},
        "P: statement #1: action 'dynamodb:Scan\\n' must be",
        id="action-with-trailing-newline",
    ),
    pytest.param(
        {"Statement": [{**OK, "Action": []}]},
        "P: statement #1: Action must be a non-empty string or list of strings, got []",
        id="action-empty-list",
    ),
    pytest.param(
        {"Statement": [{**OK, "Resource": ["", TABLE_ARN]}]},
        'P: statement #1: Resource must be a non-empty string or list of strings, got ["", ',
        id="resource-empty-string",
    ),
    pytest.param(
        {"Statement": [{**OK, "NotResource": "*"}]},
        "P: statement #1: cannot have both Resource and NotResource",
        id="resource-and-not-resource",
    ),
    pytest.param(
        {"Statement": [{"Effect": "Allow", "Action": SCAN}]},
        "P: statement #1: needs one of Resource or NotResource",
        id="neither-resource-nor-not-resource",
    ),
    pytest.param(
        {"Statement": [{**OK, "Principal": {"AWS": "*"}}]},
        "P: statement #1: an identity policy statement cannot have a Principal",
        id="identity-policy-with-principal",
    ),
    pytest.param(
        {"Statement": [{**OK, "NotPrincipal": {"AWS": "*"}}]},
        "P: statement #1: an identity policy statement cannot have a Principal",
        id="identity-policy-with-not-principal",
    ),
    pytest.param(
        {"Statement": [{**OK, "Sid": "Jobs-Table"}]},
        "P: statement #1: Sid may hold only ASCII letters and digits, got 'Jobs-Table'",
        id="sid-with-a-hyphen",
    ),
    pytest.param(
        {"Statement": [{**OK, "Sid": "Accès"}]},
        "P: statement #1: Sid may hold only ASCII letters and digits, got 'Accès'",
        id="sid-non-ascii",
    ),
    pytest.param(
        {"Statement": [{**OK, "Sid": 7}]},
        "P: statement #1: Sid must be a string, got a number",
        id="sid-not-a-string",
    ),
    pytest.param(
        {"Statement": [{**OK, "Sid": "Jobs", "Condtion": {}}]},
        "P: statement \"Jobs\": unknown element 'Condtion'",
        id="unknown-element-named-by-sid",
    ),
    pytest.param(
        {"Statement": [{**OK, "Condition": ["aws:SourceVpc"]}]},
        "P: statement #1: Condition must be an object, got an array",
        id="condition-not-an-object",
    ),
    pytest.param(
        {"Statement": [{**OK, "Condition": {"StringEquals": {}}}]},
        "P: statement #1: Condition operator 'StringEquals' must map condition keys to values",
        id="condition-operator-without-keys",
    ),
    pytest.param(
        {"Statement": [{**OK, "Condition": {"StringEquals": {"aws:SourceVpc": None}}}]},
        "P: statement #1: Condition StringEquals aws:SourceVpc: values must be strings, "
        "numbers or booleans, got null",
        id="condition-value-null",
    ),
    pytest.param(
        {"Statement": [{**OK, "Condition": {"StringEquals": {"aws:SourceVpc": []}}}]},
        "P: statement #1: Condition StringEquals aws:SourceVpc: values must be strings, "
        "numbers or booleans, got []",
        id="condition-values-empty",
    ),
    pytest.param(
        {"Statement": []},
        'P: "Statement" must be an object or a non-empty list of objects',
        id="statement-empty-list",
    ),
    pytest.param(
        {"Statement": "Allow everything"},
        'P: "Statement" must be an object or a non-empty list of objects',
        id="statement-a-string",
    ),
    pytest.param(
        {"Statement": [OK, "Deny"]},
        "P: statement #2: must be a JSON object, got a string",
        id="statement-entry-not-an-object",
    ),
    pytest.param(
        {"Version": "2012-10-17"},
        'P: no "Statement": a policy needs at least one statement',
        id="no-statement",
    ),
    pytest.param(
        [OK], "P: document must be a JSON object, got an array", id="document-not-an-object"
    ),
    pytest.param(
        '"text"', "P: document must be a JSON object, got a string", id="text-not-an-object"
    ),
]


@pytest.mark.parametrize(("document", "message"), REFUSALS)
def test_refusal_names_the_statement_and_the_problem(document: Any, message: str) -> None:
    assert str(refusal(document)).startswith(message)


def test_refusal_names_the_version_when_there_is_one() -> None:
    error = refusal({"Statement": [{**OK, "Effect": "allow"}]}, version="v7")

    assert str(error).startswith("P v7: statement #1: Effect must be")
    assert error.origin == "P v7: statement #1"


def test_origin_names_the_document_in_messages() -> None:
    error = refusal({"Statement": []}, origin="proposed.json")

    assert error.origin == "proposed.json"
    assert str(error).startswith("proposed.json: ")


# --------------------------------------------------------------------- the raw text


def test_malformed_json_gives_line_and_column() -> None:
    text = '{\n    "Version": "2012-10-17",\n    "Statement": [\n        {"Effect": "Allow",}\n'

    with pytest.raises(PolicyError) as raised:
        load_document(text, "proposed.json")

    error = raised.value
    # Python 3.13 points at the trailing comma, earlier versions at the brace after it:
    # either is the right place to look, and both are named the same way.
    line = text.splitlines()[3]
    comma, brace = line.index(",}") + 1, line.index(",}") + 2
    assert error.line == 4
    assert error.column in (comma, brace)
    assert str(error).startswith(f"proposed.json: line 4 column {error.column}: not valid JSON: ")


def test_malformed_json_in_parse_policy_gives_line_and_column_too() -> None:
    error = refusal('{"Statement": [}', origin="proposed.json")

    assert str(error).startswith("proposed.json: line 1 column 16: not valid JSON")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "document is empty; expected a JSON object", id="empty"),
        pytest.param(" \n\t", "document is empty; expected a JSON object", id="white-space"),
        pytest.param("[1, 2]", "document must be a JSON object, got an array", id="array"),
        pytest.param("null", "document must be a JSON object, got null", id="null"),
        pytest.param("true", "document must be a JSON object, got a boolean", id="boolean"),
        pytest.param("12", "document must be a JSON object, got a number", id="number"),
        pytest.param("9" * 5000, "not valid JSON: ", id="number-too-long-to-convert"),
    ],
)
def test_load_document_refuses_what_is_not_an_object(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_document(text, "p.json")

    assert str(raised.value).startswith(f"p.json: {message}")


def test_nesting_at_the_limit_is_read_and_one_deeper_is_refused() -> None:
    deepest = '{"a": ' + "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1) + "}"
    too_deep = '{"a": ' + "[" * MAX_NESTING + "]" * MAX_NESTING + "}"

    assert set(load_document(deepest, "p.json")) == {"a"}
    with pytest.raises(PolicyError) as raised:
        load_document(too_deep, "p.json")
    assert raised.value.line == 1
    assert raised.value.column == len('{"a": ') + MAX_NESTING
    assert f"nested more than {MAX_NESTING} levels deep" in str(raised.value)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"Statement": [{**OK, "Sid": "x", "Resource": "[" * 500 + '\\"{'}]})

    assert load_document(text, "p.json")["Statement"][0]["Sid"] == "x"


def test_oversized_document_is_refused_unread() -> None:
    text = " " * MAX_DOCUMENT_BYTES + "{}"

    with pytest.raises(PolicyError, match=r"document is 1,000,002 bytes; refusing"):
        load_document(text, "p.json")
    assert load_document(" " * (MAX_DOCUMENT_BYTES - 2) + "{}", "p.json") == {}


def test_oversized_message_reports_a_size_over_the_limit() -> None:
    text = '{"Sid": "' + "é" * (MAX_DOCUMENT_BYTES // 2) + '"}'

    with pytest.raises(PolicyError) as raised:
        load_document(text, "p.json")

    stated = int(str(raised.value).split("document is ")[1].split(" ")[0].replace(",", ""))
    assert stated > MAX_DOCUMENT_BYTES


# -------------------------------------------------------------------- trust policies


def test_trust_policy_has_a_principal_and_no_resource() -> None:
    policy = parse_policy(ecs_trust_policy(), name="trust", trust=True)

    [statement] = policy.statements
    assert statement.principal == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement.actions == ("sts:AssumeRole",)
    assert statement.resources is None
    assert statement.not_resources is None


def test_identity_statement_has_no_principal() -> None:
    assert one(OK).principal is None


def test_trust_policy_still_refuses_what_iam_refuses() -> None:
    trust = ecs_trust_policy()
    trust["Statement"][0]["Effect"] = "allow"

    error = refusal(trust, trust=True)

    assert 'Effect must be "Allow" or "Deny", got "allow"' in str(error)


# ------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("sid", "index", "label"),
    [
        pytest.param("DynamoDBJobs", 0, 'statement "DynamoDBJobs"', id="by-sid"),
        pytest.param(None, 0, "statement #1", id="first-without-sid"),
        pytest.param(None, 2, "statement #3", id="third-without-sid"),
        pytest.param("", 1, "statement #2", id="empty-sid-is-no-sid"),
    ],
)
def test_statement_label(sid: str | None, index: int, label: str) -> None:
    statements = [dict(OK) for _ in range(index + 1)]
    if sid is not None:
        statements[index]["Sid"] = sid

    policy = parse_policy({"Statement": statements}, name="P")

    assert policy.statements[index].label == label


@pytest.mark.parametrize(
    ("kind", "version", "label"),
    [
        pytest.param("managed", "v3", "MLPlatformECSTaskPolicy v3", id="managed"),
        pytest.param("managed", None, "MLPlatformECSTaskPolicy", id="managed-without-version"),
        pytest.param("inline", None, "inline policy MLPlatformECSTaskPolicy", id="inline"),
        pytest.param(
            "boundary", "v1", "permissions boundary MLPlatformECSTaskPolicy v1", id="boundary"
        ),
    ],
)
def test_policy_label(kind: PolicyKind, version: str | None, label: str) -> None:
    policy = parse_policy({"Statement": [OK]}, name=POLICY_NAME, kind=kind, version=version)

    assert policy.label == label


@pytest.mark.parametrize(
    ("document_version", "expected"),
    [
        pytest.param("2012-10-17", True, id="2012-10-17"),
        pytest.param("2008-10-17", False, id="2008-10-17"),
        pytest.param(None, False, id="no-version"),
        pytest.param("2012-10-18", False, id="unknown-version"),
    ],
)
def test_has_variables_only_in_version_2012_10_17(
    document_version: str | None, expected: bool
) -> None:
    document: dict[str, Any] = {"Statement": [OK]}
    if document_version is not None:
        document["Version"] = document_version

    assert parse_policy(document, name="P").has_variables is expected


# ----------------------------------------------------------------- covers_action


@pytest.mark.parametrize(
    ("statement", "action", "expected"),
    [
        pytest.param({"Action": SCAN}, SCAN, True, id="action-exact"),
        pytest.param({"Action": SCAN}, "DYNAMODB:scan", True, id="action-any-case"),
        pytest.param({"Action": "DynamoDB:*"}, SCAN, True, id="action-wildcard-any-case"),
        pytest.param({"Action": ["s3:*", "dynamodb:?can"]}, SCAN, True, id="action-list"),
        pytest.param({"Action": "dynamodb:GetItem"}, SCAN, False, id="action-other"),
        pytest.param({"NotAction": "dynamodb:GetItem"}, SCAN, True, id="not-action-other"),
        pytest.param({"NotAction": SCAN}, SCAN, False, id="not-action-exact"),
        pytest.param({"NotAction": "DYNAMODB:SCAN"}, SCAN, False, id="not-action-any-case"),
        pytest.param({"NotAction": ["iam:*", "dynamodb:*"]}, SCAN, False, id="not-action-list"),
    ],
)
def test_covers_action(statement: dict[str, Any], action: str, expected: bool) -> None:
    parsed = one({"Effect": "Allow", "Resource": "*", **statement})

    assert parsed.covers_action(action) is expected


def test_parsed_policy_is_a_value() -> None:
    document = {"Statement": [OK]}

    first, second = parse_policy(document, name="P"), parse_policy(document, name="P")

    assert first == second
    with pytest.raises(AttributeError):
        first.name = "Q"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("index", "sid"),
    [
        pytest.param(0, None, id="first-by-position"),
        pytest.param(11, None, id="twelfth-by-position"),
        pytest.param(3, "DynamoDBJobs", id="by-sid"),
        pytest.param(0, 'with "quotes"', id="sid-with-quotes"),
    ],
)
def test_a_statement_label_reads_back_as_the_statement_it_names(
    index: int, sid: str | None
) -> None:
    label = statement_label(index, sid)

    assert labelled_statement(label) == (sid if sid else index)


@pytest.mark.parametrize(
    "label", ["statement #0", "statement #x", "policy #1", 'statement ""', "statement"]
)
def test_a_label_it_did_not_make_names_no_statement(label: str) -> None:
    assert labelled_statement(label) is None


@pytest.mark.parametrize(
    ("name", "kind", "version"),
    [
        pytest.param("MLPlatformECSTaskPolicy", "managed", "v3", id="managed"),
        pytest.param("Boundary", "boundary", "v1", id="boundary"),
        pytest.param("JobsExtra", "inline", None, id="inline"),
        pytest.param("table resource policy", "resource", None, id="resource"),
    ],
)
def test_a_policy_label_names_its_policy_at_any_version(
    name: str, kind: PolicyKind, version: str | None
) -> None:
    label = policy_label(name, kind, version)

    assert labels_policy(label, name, kind)
    assert not labels_policy(label, name + "2", kind)
