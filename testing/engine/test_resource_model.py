"""Which resource's policy governs a requirement's resource, and the model of what was read."""

from __future__ import annotations

import pytest

from iam_compliance.engine.resources import (
    Encryption,
    Governing,
    Grant,
    KeyDetails,
    ResourceState,
    endpoint_ids,
    governing_resource,
    governing_resources,
    kind_of,
    resolve_encryption,
    state_for,
)

from conftest import ACCOUNT, REGION, TABLE_ARN

BUCKET = "arn:aws:s3:::ml-platform-artifacts"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ml-jobs-queue"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:ml-events"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
STREAM = f"{TABLE_ARN}/stream/2026-11-27T22:14:05.000"


@pytest.mark.parametrize(
    ("arn", "governing"),
    [
        pytest.param(TABLE_ARN, ("dynamodb", TABLE_ARN), id="table"),
        pytest.param(f"{TABLE_ARN}/index/by-status", ("dynamodb", TABLE_ARN), id="index"),
        pytest.param(f"{TABLE_ARN}/index/*", ("dynamodb", TABLE_ARN), id="every-index"),
        pytest.param(STREAM, ("dynamodb", STREAM), id="stream"),
        pytest.param(BUCKET, ("s3", BUCKET), id="bucket"),
        pytest.param(f"{BUCKET}/*", ("s3", BUCKET), id="objects"),
        pytest.param(f"{BUCKET}/models/v1/*", ("s3", BUCKET), id="objects-under-a-prefix"),
        pytest.param(
            "arn:aws-cn:s3:::ml-artifacts-cn/x", ("s3", "arn:aws-cn:s3:::ml-artifacts-cn"), id="cn"
        ),
        pytest.param(KEY, ("kms", KEY), id="key"),
        pytest.param(QUEUE, ("sqs", QUEUE), id="queue"),
        pytest.param(TOPIC, ("sns", TOPIC), id="topic"),
        pytest.param(
            f"{SECRETS}db-creds-AbCdEf",
            ("secretsmanager", f"{SECRETS}db-creds-AbCdEf"),
            id="secret",
        ),
        pytest.param(
            f"{SECRETS}db-creds-??????",
            ("secretsmanager", f"{SECRETS}db-creds"),
            id="secret-any-suffix",
        ),
    ],
)
def test_the_governing_resource_of_a_requirement(arn: str, governing: tuple[str, str]) -> None:
    assert governing_resource(arn) == governing


@pytest.mark.parametrize(
    "arn",
    [
        pytest.param("*", id="star"),
        pytest.param(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*", id="every-table"),
        pytest.param(f"arn:aws:dynamodb:*:{ACCOUNT}:table/ml-jobs", id="any-region"),
        pytest.param(f"{TABLE_ARN}/stream/*", id="any-stream"),
        pytest.param(f"{TABLE_ARN}/export/01234", id="export"),
        pytest.param("arn:aws:s3:::ml-*/x", id="bucket-pattern"),
        pytest.param("arn:aws:s3:::ml-platform-artifac?s", id="bucket-question-mark"),
        pytest.param(f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/ap", id="access-point"),
        pytest.param(f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ml", id="kms-alias"),
        pytest.param(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*", id="any-key"),
        pytest.param(f"arn:aws:sqs:{REGION}:{ACCOUNT}:ml-*", id="queue-pattern"),
        pytest.param(f"{TOPIC}:0b9f3c1e-sub", id="sns-subscription"),
        pytest.param(f"{SECRETS}db-*", id="secret-pattern"),
        pytest.param(f"{SECRETS}${{aws:username}}", id="policy-variable"),
        pytest.param(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/ml", id="other-service"),
        pytest.param("arn:aws:s3", id="not-an-arn"),
    ],
)
def test_no_single_resource_no_policy_read(arn: str) -> None:
    assert governing_resource(arn) is None
    state = state_for(arn, {})
    assert (state.status, state.resource_policy) == ("unsupported", None)
    assert state.detail


def test_requirements_on_one_resource_read_it_once() -> None:
    arns = [f"{BUCKET}/*", BUCKET, f"{BUCKET}/a/b", TABLE_ARN, f"{TABLE_ARN}/index/x", "*"]
    assert governing_resources(arns) == {
        BUCKET: Governing("s3", BUCKET),
        TABLE_ARN: Governing("dynamodb", TABLE_ARN),
    }


def test_a_requirement_finds_its_governing_resources_state() -> None:
    bucket = ResourceState(BUCKET, "s3", "bucket", "none")
    assert state_for(f"{BUCKET}/models/*", {BUCKET: bucket}) is bucket
    unread = state_for(QUEUE, {BUCKET: bucket})
    assert (unread.arn, unread.kind, unread.status) == (QUEUE, "queue", "unsupported")
    assert "not read" in unread.detail


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        pytest.param(TABLE_ARN, "table", id="table"),
        pytest.param(STREAM, "stream", id="stream"),
        pytest.param(BUCKET, "bucket", id="bucket"),
        pytest.param(KEY, "key", id="key"),
        pytest.param(f"{SECRETS}x", "secret", id="secret"),
    ],
)
def test_kind_of(arn: str, kind: str) -> None:
    governing = governing_resource(arn)
    assert governing is not None
    assert kind_of(governing) == kind


@pytest.mark.parametrize(
    ("key", "kind", "implied"),
    [
        pytest.param(KeyDetails("CUSTOMER", "Enabled"), "customer-managed", KEY, id="customer"),
        pytest.param(KeyDetails("AWS", "Enabled"), "aws-managed", None, id="aws-managed"),
        pytest.param(KeyDetails(None, detail="denied"), "unknown", None, id="not-described"),
        pytest.param(None, "unknown", None, id="not-read"),
    ],
)
def test_the_key_a_resource_is_encrypted_with_is_decided_by_its_manager(
    key: KeyDetails | None, kind: str, implied: str | None
) -> None:
    state = ResourceState(KEY, "kms", "key", "read", key=key)
    resolved = resolve_encryption(Encryption("kms", KEY), state if key is not None else None)
    assert (resolved.kind, resolved.customer_key) == (kind, implied)
    assert resolved.is_known == (kind != "unknown")


def test_an_encryption_without_a_key_to_look_up_stays_as_it_is() -> None:
    service = Encryption("service")
    assert resolve_encryption(service, None) is service
    assert service.customer_key is None
    assert service.is_known


def test_a_keys_grants_to_the_role() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/MLPlatformECSTaskRole"
    mine = Grant("g1", role, ("Decrypt",))
    details = KeyDetails("CUSTOMER", "Enabled", (mine, Grant("g2", "other", ("Encrypt",))))
    assert details.grants_to(role) == (mine,)
    assert KeyDetails("CUSTOMER").grants_to(role) is None  # not read: not "none"


@pytest.mark.parametrize(
    ("context", "ids"),
    [
        pytest.param({"aws:SourceVpce": ("vpce-1", "vpce-2")}, ("vpce-1", "vpce-2"), id="list"),
        pytest.param({"AWS:SOURCEVPCE": "vpce-1"}, ("vpce-1",), id="any-case"),
        pytest.param({"aws:SourceVpc": "vpc-1", "aws:SourceIp": "10.0.0.1"}, (), id="other-keys"),
        pytest.param({"aws:SourceVpce": ("vpce-*", "vpce-1", "vpce-1")}, ("vpce-1",), id="once"),
    ],
)
def test_declared_endpoints(
    context: dict[str, str | tuple[str, ...]], ids: tuple[str, ...]
) -> None:
    assert endpoint_ids(context) == ids
