"""engine/evaluate/request.py: the derived keys, the user's declarations, precedence and
assumptions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from iam_compliance.engine.evaluate.request import (
    OPTION,
    AssumedAbsent,
    ContextEntry,
    Declared,
    RequestContext,
    build_context,
    derive_context,
    load_declared,
)
from iam_compliance.errors import ConfigurationError

from conftest import ACCOUNT, NOW, REGION, ROLE_ARN, VPC_ENDPOINT

#: The moment of conftest's NOW, as a clock two hours east of UTC shows it.
NOW_EAST = NOW.astimezone(timezone(timedelta(hours=2)))


def derived(
    role_tags: dict[str, str] | None = None,
    resource_tags: dict[str, str] | None = None,
    resource_account: str = ACCOUNT,
) -> list[ContextEntry]:
    return derive_context(
        role_arn=ROLE_ARN,
        account=ACCOUNT,
        region=REGION,
        now=NOW_EAST,
        role_tags=role_tags or {},
        resource_account=resource_account,
        resource_tags=resource_tags or {},
    )


def test_derive_context_sets_every_key_iam_sets_with_its_source() -> None:
    entries = [e for e in derived() if e.values]

    assert [(e.key, e.values, e.source) for e in entries] == [
        ("aws:PrincipalArn", (ROLE_ARN,), "role ARN"),
        ("aws:PrincipalAccount", (ACCOUNT,), "role's account"),
        ("aws:PrincipalType", ("AssumedRole",), "ECS assumes the task role"),
        ("aws:RequestedRegion", (REGION,), "target region"),
        ("aws:SecureTransport", ("true",), "AWS SDKs call over HTTPS"),
        ("aws:ViaAWSService", ("false",), "the containers call DynamoDB directly"),
        ("aws:PrincipalIsAWSService", ("false",), "the caller is a role session"),
        # the time is UTC whatever the clock's zone: 22:14:05Z, not 00:14:05+02:00
        ("aws:CurrentTime", ("2026-11-27T22:14:05Z",), "run time (UTC)"),
        ("aws:EpochTime", (str(int(NOW.timestamp())),), "run time (UTC)"),
        ("aws:ResourceAccount", (ACCOUNT,), "table's account"),
        ("aws:MultiFactorAuthPresent", ("false",), "ECS assumes the task role without MFA"),
    ]


def test_derive_context_adds_one_key_per_tag_of_the_role_and_the_table() -> None:
    entries = derived(
        role_tags={"project": "ml-jobs", "env": "prod"},
        resource_tags={"owner": "ml"},
        resource_account="111122223333",
    )
    by_key = {e.key: (e.values, e.source) for e in entries}

    assert by_key["aws:PrincipalTag/env"] == (("prod",), "role tag")
    assert by_key["aws:PrincipalTag/project"] == (("ml-jobs",), "role tag")
    assert by_key["aws:ResourceTag/owner"] == (("ml",), "table tag")
    assert by_key["aws:ResourceAccount"] == (("111122223333",), "table's account")
    # no tag, no key: an untagged table has no aws:ResourceTag/... at all
    assert not any(key.startswith("aws:ResourceTag/") for key in by_key if "owner" not in key)


def test_epoch_time_and_current_time_are_the_same_moment() -> None:
    by_key = {e.key: e.values[0] for e in derived() if e.values}

    parsed = datetime.strptime(by_key["aws:CurrentTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert int(by_key["aws:EpochTime"]) == int(parsed.replace(tzinfo=NOW.tzinfo).timestamp())


@pytest.mark.parametrize(
    ("declared", "overrides", "value", "source"),
    [
        pytest.param((), {}, REGION, "target region", id="derived"),
        pytest.param(
            (ContextEntry("aws:RequestedRegion", ("eu-west-1",), "request_context.toml"),),
            {},
            "eu-west-1",
            "request_context.toml",
            id="declared-wins-over-derived",
        ),
        pytest.param(
            (ContextEntry("aws:RequestedRegion", ("eu-west-1",), "request_context.toml"),),
            {"aws:RequestedRegion": ["ap-south-1"]},
            "ap-south-1",
            OPTION,
            id="option-wins-over-declared",
        ),
        pytest.param(
            (),
            {"AWS:REQUESTEDREGION": ["ap-south-1"]},
            "ap-south-1",
            OPTION,
            id="keys-compare-ignoring-case",
        ),
        pytest.param(
            (ContextEntry("aws:requestedregion", ("eu-west-1",), "request_context.toml"),),
            {},
            "eu-west-1",
            "request_context.toml",
            id="declared-in-another-case-wins",
        ),
    ],
)
def test_build_context_precedence_is_derived_then_declared_then_option(
    declared: tuple[ContextEntry, ...],
    overrides: dict[str, list[str]],
    value: str,
    source: str,
) -> None:
    context = build_context(derived(), declared, overrides)

    entry = context.entry("aws:RequestedRegion")
    assert entry is not None
    assert (entry.values, entry.source) == ((value,), source)
    # one entry per key, however many sources named it
    assert [e.key.lower() for e in context.entries].count("aws:requestedregion") == 1
    assert context.values()[entry.key] == (value,)


def test_describe_names_values_sources_and_absent_keys() -> None:
    context = build_context(
        derived(), (ContextEntry("aws:SourceVpce", (VPC_ENDPOINT,), "request_context.toml"),)
    )

    assert context.describe(["aws:requestedregion", "aws:SourceVpce", "aws:SourceIp"]) == [
        f"aws:RequestedRegion = {REGION} (target region)",
        f"aws:SourceVpce = {VPC_ENDPOINT} (request_context.toml)",
        "aws:SourceIp: absent",
    ]


# --- AssumedAbsent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "assumed"),
    [
        pytest.param("aws:SourceVpce", True, id="undeclared-key"),
        pytest.param("dynamodb:LeadingKeys", True, id="undeclared-service-key"),
        pytest.param("aws:RequestedRegion", False, id="derived-key"),
        pytest.param("AWS:REQUESTEDREGION", False, id="derived-key-other-case"),
        pytest.param("aws:PrincipalTag/project", False, id="role-tag-known-absent"),
        pytest.param("aws:ResourceTag/owner", False, id="table-tag-known-absent"),
        pytest.param("AWS:principaltag/Team", False, id="tag-key-other-case"),
        pytest.param("aws:RequestTag/owner", True, id="request-tag-is-not-read"),
        pytest.param(42, False, id="not-a-key"),
    ],
)
def test_assumed_absent_is_every_key_not_in_the_context_except_tags(
    key: object, assumed: bool
) -> None:
    absent = build_context(derived()).assumed_absent()

    assert isinstance(absent, AssumedAbsent)
    assert (key in absent) is assumed


def test_a_declared_key_is_no_longer_assumed_absent() -> None:
    context = build_context(derived(), overrides={"aws:SourceVpce": [VPC_ENDPOINT]})

    assert "aws:sourcevpce" not in context.assumed_absent()


def test_an_empty_context_assumes_every_key_absent() -> None:
    assert "aws:RequestedRegion" in RequestContext(()).assumed_absent()


# --- fixtures/request_context.toml ---------------------------------------------------


def declared_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "request_context.toml"
    path.write_text(text)
    return path


def test_no_file_declares_nothing(tmp_path: Path) -> None:
    assert load_declared(tmp_path / "request_context.toml") == Declared()


def test_the_file_declares_request_keys_and_assume_role_keys(tmp_path: Path) -> None:
    path = declared_file(
        tmp_path,
        '[context]\n"aws:SourceVpce" = "vpce-0a1b2c3d"\n'
        '"dynamodb:LeadingKeys" = ["job-1", "job-2"]\n\n'
        '[assume_role]\n"aws:SourceArn" = "arn:aws:ecs:us-east-1:618574523116:task/c/1"\n',
    )

    declared = load_declared(path)

    assert declared.request == (
        ContextEntry("aws:SourceVpce", ("vpce-0a1b2c3d",), str(path)),
        ContextEntry("dynamodb:LeadingKeys", ("job-1", "job-2"), str(path)),
    )
    assert declared.assume_role == (
        ContextEntry("aws:SourceArn", ("arn:aws:ecs:us-east-1:618574523116:task/c/1",), str(path)),
    )


def test_declarations_override_derived_keys_in_build_context(tmp_path: Path) -> None:
    path = declared_file(tmp_path, '[context]\n"aws:SecureTransport" = "false"\n')

    context = build_context(derived(), load_declared(path).request)

    assert context.values()["aws:SecureTransport"] == ("false",)
    entry = context.entry("aws:SecureTransport")
    assert entry is not None
    assert entry.source == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "[context\n",
            ": not valid TOML: ",
            id="not-toml",
        ),
        pytest.param(
            '[request]\n"aws:SourceVpce" = "v"\n',
            ": unknown table [request]; expected [context] or [assume_role]",
            id="unknown-table",
        ),
        pytest.param(
            'context = "aws:SourceVpce"\n',
            ": [context] must be a table of key = value",
            id="context-not-a-table",
        ),
        pytest.param(
            '[context]\nSourceVpce = "vpce-1"\n',
            ': [context] SourceVpce = \'vpce-1\': expected "service:Key" = "value"',
            id="key-without-service",
        ),
        pytest.param(
            '[context]\n"aws:SourceVpce" = 3\n',
            ": [context] aws:SourceVpce = 3: expected",
            id="number-value",
        ),
        pytest.param(
            '[context]\n"aws:SourceVpce" = ""\n',
            ": [context] aws:SourceVpce = '': expected",
            id="empty-value",
        ),
        pytest.param(
            '[context]\n"aws:SourceVpce" = []\n',
            ": [context] aws:SourceVpce = []: expected",
            id="empty-list",
        ),
        pytest.param(
            '[assume_role]\n"aws:SourceArn" = ["arn:aws:ecs:x", 1]\n',
            ": [assume_role] aws:SourceArn = ['arn:aws:ecs:x', 1]: expected",
            id="list-with-a-number",
        ),
        pytest.param(
            '[context.aws]\nSourceVpce = "v"\n',
            ": [context] aws = {'SourceVpce': 'v'}: expected",
            id="dotted-key-makes-a-table",
        ),
    ],
)
def test_bad_declarations_name_the_file_the_table_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = declared_file(tmp_path, text)

    with pytest.raises(ConfigurationError) as caught:
        load_declared(path)

    assert str(caught.value).startswith(str(path) + message)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "request_context.toml"
    path.mkdir()

    with pytest.raises(ConfigurationError, match=r"request_context\.toml: cannot be read"):
        load_declared(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "request_context.toml"
    path.write_bytes(b'[context]\n"aws:SourceVpce" = "\xff"\n')

    with pytest.raises(ConfigurationError, match=r"request_context\.toml: cannot be read"):
        load_declared(path)
