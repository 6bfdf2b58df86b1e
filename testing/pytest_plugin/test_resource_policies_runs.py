"""Requirements on buckets, keys, a queue, a secret, another table and another account's
bucket, judged with each resource's own policy, in mock mode (fixtures/resources.toml) and
live mode (a moto server holding them): two runs each, one declaring the VPC endpoint the
containers' requests come through and one not.

What each scenario shows (the rules: engine/evaluate/judgement.py):

* a bucket policy denying everything that does not come through an endpoint: not a pass
  while the endpoint is undeclared, a pass once it is;
* a bucket policy granting the role what its own policies do not: a pass;
* a key policy without the account's root statement: the identity grant is not enough;
* a key policy naming the role: a pass with no identity grant;
* a table encrypted with that first key: its item actions are not a pass;
* queue and secret policies that deny: not a pass;
* another account's bucket: a pass only for what both sides allow;
* the endpoint's policy denying Scan: Scan is not a pass once the endpoint is declared;
* a log stream, whose service's policies are not read: a pass that says so, and "could not
  be decided" with --iam-strict-resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    LIVE,
    REGION,
    ROLE_ARN,
    VPC_ENDPOINT,
    MotoServer,
    ServerAccount,
    compliant_policy,
)

OTHER = "210987654321"
MOCK_KEYS = {
    "no-root": "1111aaaa-12ab-34cd-56ef-1234567890ab",
    "names-role": "2222bbbb-12ab-34cd-56ef-1234567890ab",
}
ARCHIVE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ml-jobs-archive"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ml-jobs-queue"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
#: A service whose resource policies the checker does not read.
LOG_STREAMS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/ml-training:log-stream:*"


def statement(effect: str, action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def to_role(action: Any, resource: Any = "*") -> dict[str, Any]:
    return statement("Allow", action, resource, Principal={"AWS": ROLE_ARN})


ADMINS = statement(
    "Allow", "kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"}, Sid="Admins"
)


def policies(endpoint: str) -> dict[str, dict[str, Any]]:
    """Each resource's own policy; ``endpoint``: the VPC endpoint's id."""
    vpce_only = "arn:aws:s3:::vpce-only-artifacts"
    return {
        "vpce-only-artifacts": document(
            statement(
                "Deny",
                "s3:*",
                [vpce_only, f"{vpce_only}/*"],
                Principal="*",
                Sid="OnlyThroughTheEndpoint",
                Condition={"StringNotEquals": {"aws:SourceVpce": endpoint}},
            )
        ),
        "shared-artifacts": document(
            to_role("s3:GetObject", "arn:aws:s3:::shared-artifacts/*") | {"Sid": "ToTheRole"}
        ),
        "other-accounts-artifacts": document(
            to_role(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::other-accounts-artifacts/*")
        ),
        "no-root": document(ADMINS),
        "names-role": document(ADMINS, to_role("kms:Decrypt")),
        "ml-jobs-queue": document(
            statement("Deny", "sqs:SendMessage", Principal="*", Sid="NoTasks")
        ),
        "db-creds": document(
            statement("Deny", "secretsmanager:GetSecretValue", Principal="*", Sid="NoTasks")
        ),
        "endpoint": document(
            statement("Allow", "*", Principal="*"),
            statement("Deny", "dynamodb:Scan", Principal="*", Sid="NoScan"),
        ),
    }


def identity(keys: dict[str, str]) -> dict[str, Any]:
    """The role's policy: the compliant one, S3 on three of the buckets, the keys'
    Decrypt (which the first key's policy ignores), the archive table, the queue, the
    secret; nothing on the shared bucket (its policy grants it)."""
    document = compliant_policy()
    document["Statement"] += [
        statement(
            "Allow",
            "s3:GetObject",
            [f"arn:aws:s3:::{b}/*" for b in ("vpce-only-artifacts", "other-accounts-artifacts")],
        ),
        statement("Allow", "kms:Decrypt", keys["no-root"]),
        statement("Allow", "dynamodb:GetItem", ARCHIVE),
        statement("Allow", "sqs:SendMessage", QUEUE),
        statement("Allow", "secretsmanager:GetSecretValue", f"{SECRETS}db-creds-*"),
    ]
    return document


def requirements(keys: dict[str, str], secret: str) -> dict[str, tuple[str, str | None]]:
    """Scenario -> (action, resource; None: the target's table)."""
    return {
        "scan": ("dynamodb:Scan", None),
        "query": ("dynamodb:Query", None),
        "vpce-only": ("s3:GetObject", "arn:aws:s3:::vpce-only-artifacts/*"),
        "shared": ("s3:GetObject", "arn:aws:s3:::shared-artifacts/*"),
        "other-get": ("s3:GetObject", "arn:aws:s3:::other-accounts-artifacts/*"),
        "other-put": ("s3:PutObject", "arn:aws:s3:::other-accounts-artifacts/*"),
        "no-root": ("kms:Decrypt", keys["no-root"]),
        "names-role": ("kms:Decrypt", keys["names-role"]),
        "archive": ("dynamodb:GetItem", ARCHIVE),
        "queue": ("sqs:SendMessage", QUEUE),
        "secret": ("secretsmanager:GetSecretValue", secret),
        "logs": ("logs:PutLogEvents", LOG_STREAMS),
    }


#: Requirement id -> (its verdict, a fragment of its reason), without and with the
#: endpoint declared; only what the declaration changes is in the second.
UNDECLARED: dict[str, tuple[str, str]] = {
    "scan": ("allowed", "is allowed by"),
    "query": ("allowed", "is allowed by"),
    "vpce-only": (
        "denied",
        'explicitly denied by bucket policy of vpce-only-artifacts, statement "OnlyThroughThe'
        'Endpoint"; this assumes the request carries no aws:SourceVpce',
    ),
    "shared": ("allowed", 'allowed by bucket policy of shared-artifacts, statement "ToTheRole"'),
    "other-get": ("allowed", "is allowed by"),
    "other-put": ("denied", "needs an Allow in both"),
    "no-root": ("denied", "does not enable IAM policies for it"),
    "names-role": ("allowed", "is allowed by key policy of key/"),
    "archive": ("denied", "but it needs kms:Decrypt on key/"),
    "queue": ("denied", 'explicitly denied by queue policy of ml-jobs-queue, statement "NoTasks"'),
    "secret": ("denied", "explicitly denied by secret policy of db-creds"),
    "logs": ("allowed", "; note: its own policy was not read: resource-based policies of logs"),
}
#: The second run also says --iam-strict-resources.
DECLARED = {
    "scan": ("denied", "explicitly denied by endpoint policy of vpce-"),
    "vpce-only": ("allowed", "is allowed by"),
    "logs": ("undecided", "its own policy was not read: resource-based policies of logs are"),
}


def write(path: Path, value: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return str(path)


def seed_mock(suite: pytest.Pytester) -> tuple[list[str], dict[str, str], str]:
    """fixtures/resources.toml and its policies; the options, keys and secret ARN."""
    fixtures = suite.path / "fixtures"
    for name, policy in policies(VPC_ENDPOINT).items():
        write(fixtures / "resources" / f"{name}.json", policy)
    keys = {name: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{i}" for name, i in MOCK_KEYS.items()}
    entries = [
        '[[bucket]]\nname = "${S3_BUCKET_NAME}"',
        *(
            f'[[bucket]]\nname = "{name}"\npolicy = "resources/{name}.json"'
            for name in ("vpce-only-artifacts", "shared-artifacts")
        ),
        '[[bucket]]\nname = "other-accounts-artifacts"\n'
        f'policy = "resources/other-accounts-artifacts.json"\naccount = "{OTHER}"',
        *(
            f'[[key]]\nid = "{MOCK_KEYS[name]}"\npolicy = "resources/{name}.json"'
            for name in MOCK_KEYS
        ),
        f'[[table]]\nname = "ml-jobs-archive"\nkey = "{MOCK_KEYS["no-root"]}"',
        '[[queue]]\nname = "ml-jobs-queue"\npolicy = "resources/ml-jobs-queue.json"',
        '[[secret]]\nname = "db-creds"\npolicy = "resources/db-creds.json"',
        f'[[endpoint]]\nid = "{VPC_ENDPOINT}"\nservice = "dynamodb"\n'
        'policy = "resources/endpoint.json"',
    ]
    write(fixtures / "resources.toml", "\n\n".join(entries) + "\n")
    policy_file = write(suite.path / "policy.json", identity(keys))
    return ["--iam-policy-file", policy_file], keys, f"{SECRETS}db-creds"


def seed_live(server: MotoServer) -> tuple[str, dict[str, str], str]:
    """The same account on the moto server; the endpoint's id, the keys, the secret ARN."""
    account = ServerAccount(server)
    endpoint = account.endpoint(service="dynamodb", policy=policies("vpce-0")["endpoint"])
    found = policies(endpoint)
    for name in ("vpce-only-artifacts", "shared-artifacts"):
        account.bucket(name, policy=found[name])
    ServerAccount(server, OTHER).bucket(
        "other-accounts-artifacts", policy=found["other-accounts-artifacts"]
    )
    keys = {name: account.key(policy=found[name]) for name in MOCK_KEYS}
    account.client("dynamodb").create_table(
        TableName="ml-jobs-archive",
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": keys["no-root"]},
    )
    account.queue(policy=found["ml-jobs-queue"])
    secret = account.secret(policy=found["db-creds"])
    server.seed(managed=identity(keys))
    return endpoint, keys, secret


def run(
    suite: pytest.Pytester,
    options: list[str],
    endpoint: str | None,
    expected: dict[str, tuple[str, str]],
    ids: dict[str, str],
    mode: str,
) -> None:
    context = ["--iam-context", f"aws:SourceVpce={endpoint}"] if endpoint else []
    suite.runpytest(*options, *context)
    report = json.loads((suite.path / "reports" / "compliance.json").read_text())
    [target] = report["targets"]
    found = {entry["id"]: entry for entry in target["actions"]}
    for rid, (verdict, fragment) in expected.items():
        entry = found[ids[rid]]
        assert (entry["verdict"], fragment in entry["reason"]) == (verdict, True), (
            f"{mode}, aws:SourceVpce {endpoint or 'undeclared'}: {rid}: {entry['reason']}"
        )


def requirements_file(
    suite: pytest.Pytester, wanted: dict[str, tuple[str, str | None]]
) -> dict[str, str]:
    """Write them as fixtures/required_actions.toml; scenario -> requirement id."""
    entries = [
        f'[[action]]\nname = "{action}"\nreason = "r"'
        + (f'\nresource = "{arn}"' if arn is not None else "")
        for action, arn in wanted.values()
    ]
    write(suite.path / "fixtures" / "required_actions.toml", "\n\n".join(entries) + "\n")
    return {
        name: action if arn is None else f"{action}@{arn}" for name, (action, arn) in wanted.items()
    }


@pytest.mark.parametrize("mode", [pytest.param("mock", id="mock"), pytest.param("live", id="live")])
def test_each_resource_s_own_policy_decides_its_verdicts(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    if mode == "mock":
        options, keys, secret = seed_mock(suite)
        endpoint = VPC_ENDPOINT
    else:
        endpoint, keys, secret = seed_live(moto_server)
        moto_server.use(monkeypatch)
        options = list(LIVE)
    ids = requirements_file(suite, requirements(keys, secret))

    run(suite, options, None, UNDECLARED, ids, mode)
    strict = [*options, "--iam-strict-resources"]
    run(suite, strict, endpoint, {**UNDECLARED, **DECLARED}, ids, mode)
