"""The embedded account's resources, seeded from fixtures/resources.toml and read through
the same adapter and cache as a live account's."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from iam_compliance.aws.adapter import AwsAdapter
from iam_compliance.aws.connection import Sessions
from iam_compliance.aws.mock import MockAccounts
from iam_compliance.aws.mock_resources import read_layout
from iam_compliance.aws.reading import RoleReader
from iam_compliance.engine.evaluate.snapshot import RoleSnapshot
from iam_compliance.engine.resources import ResourceNeeds
from iam_compliance.engine.target import Target
from iam_compliance.errors import AccessDeniedError, ConfigurationError

from conftest import ACCOUNT, FIXTURES, REGION, ROLE_ARN, TABLE_ARN, TARGET, task_policy

BUCKET = "arn:aws:s3:::ml-platform-artifacts"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
OTHER = "210987654321"

LAYOUT = f"""
[[bucket]]
name = "${{S3_BUCKET_NAME}}"
policy = "resources/s3/artifacts.json"
key = "{KEY_ID}"

[[bucket]]
name = "shared-models"
account = "{OTHER}"

[[bucket]]
name = "locked-away"
readable = false

[[key]]
id = "{KEY_ID}"
[[key.grant]]
grantee = "arn:aws:iam::${{AWS_ACCOUNT_ID}}:role/${{ECS_TASK_ROLE_NAME}}"
operations = ["Decrypt"]
context_subset = {{ team = "ml" }}

[[table]]
name = "${{DYNAMODB_TABLE_NAME}}"
key = "alias/aws/dynamodb"

[[table]]
name = "ml-archive"
tags = {{ team = "ml" }}

[[stream]]
table = "${{DYNAMODB_TABLE_NAME}}"
label = "2026-11-27T22:14:05.000"

[[queue]]
name = "ml-jobs-queue"
key = "{KEY_ID}"

[[topic]]
name = "ml-events"

[[secret]]
name = "db-creds"

[[endpoint]]
id = "vpce-0a1b2c3d"
service = "s3"
"""


def fixtures(tmp_path: Path, layout: str, **files: Any) -> Path:
    folder = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, folder)
    (folder / "resources.toml").write_text(layout)
    for name, document in files.items():
        path = folder / "resources" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))
    return folder


def objects_for_the_role() -> dict[str, Any]:
    return task_policy(
        {
            "Sid": "Objects",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::${AWS_ACCOUNT_ID}:role/${ECS_TASK_ROLE_NAME}"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::${S3_BUCKET_NAME}/*",
        }
    )


def test_without_a_layout_the_account_holds_the_artifacts_bucket(tmp_path: Path) -> None:
    states, endpoints = read_layout(tmp_path, TARGET)
    assert list(states) == [BUCKET]
    assert (states[BUCKET].status, endpoints) == ("none", {})
    assert states[BUCKET].encryption is not None
    assert states[BUCKET].encryption.kind == "service"


def test_the_repositorys_layout_is_the_runbooks_bucket() -> None:
    states, _ = read_layout(FIXTURES, TARGET)
    assert [(arn, s.status) for arn, s in states.items()] == [(BUCKET, "none")]


def snapshot(folder: Path, *arns: str, endpoints: tuple[str, ...] = ()) -> RoleSnapshot:
    """The default target read from the embedded account seeded from ``folder``."""
    mock = MockAccounts(folder, Sessions(), targets=[TARGET])
    try:
        reader = RoleReader(
            mock.connection,
            concurrency=1,
            adapter_of=lambda connection: AwsAdapter(connection, resources=mock.resources),
            needs=lambda target: ResourceNeeds(arns, endpoints),
        )
        reader.plan([TARGET])
        return reader.snapshot(TARGET)
    finally:
        mock.stop()


def test_the_embedded_account_is_read_as_its_layout_says(tmp_path: Path) -> None:
    folder = fixtures(tmp_path, LAYOUT, **{"s3/artifacts.json": objects_for_the_role()})
    stream = f"{TABLE_ARN}/stream/2026-11-27T22:14:05.000"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ml-jobs-queue"
    archive = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ml-archive"

    found = snapshot(
        folder,
        f"{BUCKET}/models/*",
        "arn:aws:s3:::shared-models/*",
        "arn:aws:s3:::locked-away",
        "arn:aws:s3:::not-in-the-layout",
        stream,
        queue,
        archive,
        f"arn:aws:sns:{REGION}:{ACCOUNT}:ml-events",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-creds-??????",
        endpoints=("vpce-0a1b2c3d", "vpce-ffffffff"),
    ).resources

    bucket = found[BUCKET]
    assert bucket.resource_policy is not None
    [statement] = bucket.resource_policy.statements
    assert statement.principal == {"AWS": ROLE_ARN}  # placeholders filled
    assert bucket.encryption is not None
    assert bucket.encryption.customer_key == KEY  # resolved: the [[key]] is the customer's
    key = found[KEY]
    assert key.key is not None
    [grant] = key.key.grants_to(ROLE_ARN) or ()
    assert grant.constraints is not None
    assert grant.constraints.encryption_context_subset == {"team": "ml"}
    # AWS's default key policy: the account's IAM policies decide.
    assert key.resource_policy is not None
    assert key.resource_policy.statements[0].principal == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    shared = found["arn:aws:s3:::shared-models"]
    assert (shared.account, shared.cross_account) == (OTHER, True)
    locked = found["arn:aws:s3:::locked-away"]
    assert (locked.status, locked.missing_action) == ("unreadable", "s3:GetBucketPolicy")
    assert found["arn:aws:s3:::not-in-the-layout"].status == "not-found"
    table = found[TABLE_ARN]
    assert table.encryption is not None
    assert table.encryption.kind == "aws-managed"
    assert (found[stream].kind, found[stream].status) == ("stream", "none")
    assert found[queue].encryption is not None
    assert found[queue].encryption.customer_key == KEY
    assert found[archive].tags == {"team": "ml"}


def test_declared_endpoints_are_read_from_the_layout(tmp_path: Path) -> None:
    folder = fixtures(tmp_path, LAYOUT, **{"s3/artifacts.json": objects_for_the_role()})
    endpoints = snapshot(folder, endpoints=("vpce-0a1b2c3d", "vpce-ffffffff")).endpoints
    declared = endpoints["vpce-0a1b2c3d"]
    assert (declared.status, declared.service_name) == ("read", f"com.amazonaws.{REGION}.s3")
    assert declared.policy is not None  # AWS's default: full access
    # One the layout does not describe: declaring it is how a mock run says the requests
    # come through an endpoint, which then has AWS's default policy (none: full access).
    undescribed = endpoints["vpce-ffffffff"]
    assert (undescribed.status, undescribed.policy) == ("none", None)
    assert "AWS's default policy, full access" in undescribed.detail


def test_a_target_table_the_checker_may_not_read_stops_its_target(tmp_path: Path) -> None:
    folder = fixtures(tmp_path, '[[table]]\nname = "${DYNAMODB_TABLE_NAME}"\nreadable = false\n')
    with pytest.raises(AccessDeniedError) as raised:
        snapshot(folder)
    assert raised.value.action == "dynamodb:GetResourcePolicy"


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        pytest.param("[[bucket]\n", "not valid TOML", id="not-toml"),
        pytest.param('[[vault]]\nname = "x"\n', "unknown table [[vault]]", id="unknown-kind"),
        pytest.param(
            '[[bucket]]\nname = "b-1"\nacl = "private"\n',
            "[[bucket]] #1 (b-1): unknown key 'acl'; expected account, encryption, key, name,",
            id="unknown-key",
        ),
        pytest.param(
            "[[bucket]]\npolicy = 'x.json'\n", "[[bucket]] #1: name must be", id="no-name"
        ),
        pytest.param(
            '[[bucket]]\nname = "b-1"\nencryption = "aws:kmz"\n',
            '(b-1): encryption must be "AES256", "aws:kms" or "none"',
            id="encryption",
        ),
        pytest.param(
            '[[bucket]]\nname = "b-1"\nencryption = "AES256"\nkey = "k"\n',
            'key needs encryption = "aws:kms"',
            id="key-without-kms",
        ),
        pytest.param(
            '[[queue]]\nname = "q"\nkey = "alias/aws/s3"\n',
            "alias/aws/s3 is another service's AWS managed key",
            id="another-services-key",
        ),
        pytest.param(
            '[[table]]\nname = "${DYNAMODB_TABLE_NAME}"\npolicy = "p.json"\n',
            "takes its policy and tags from table_resource_policy.json and tags.toml",
            id="target-table-policy",
        ),
        pytest.param(
            '[[key]]\nid = "k"\n[[key.grant]]\ngrantee = "r"\noperations = "Decrypt"\n',
            'grant #1: operations must be a list, e.g. ["Decrypt"]',
            id="grant-operations",
        ),
        pytest.param(
            '[[secret]]\nname = "s"\n[[secret]]\nname = "s"\n',
            "secret:s is described twice",
            id="twice",
        ),
        pytest.param(
            '[[bucket]]\nname = "b-1"\npolicy = "resources/s3/missing.json"\n',
            "resources/s3/missing.json: file not found",
            id="policy-file-missing",
        ),
    ],
)
def test_a_layout_problem_names_the_file_and_the_entry(
    tmp_path: Path, layout: str, message: str
) -> None:
    (tmp_path / "resources.toml").write_text(layout)
    with pytest.raises(ConfigurationError) as raised:
        read_layout(tmp_path, TARGET)
    assert str(raised.value).startswith(str(tmp_path))
    assert message in str(raised.value)


def test_each_target_of_an_account_sees_its_own_placeholders(tmp_path: Path) -> None:
    other: Target = dataclasses.replace(TARGET, name="blue", s3_bucket="blue-artifacts")
    assert list(read_layout(tmp_path, other)[0]) == ["arn:aws:s3:::blue-artifacts"]
