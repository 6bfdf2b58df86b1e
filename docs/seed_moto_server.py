"""Seed a local moto server with the runbook's account, to try live mode without AWS.

    python docs/seed_moto_server.py --endpoint-url http://127.0.0.1:5000

Creates, in the account the credentials belong to (moto's default: 123456789012), what
mock mode seeds from ``fixtures/``: the task role with its ECS trust policy, the task
policy as the runbook says it is today (attached) and the DynamoDB table. Names come from
the same variables as the suite's (``ECS_TASK_ROLE_NAME``, ``ECS_TASK_POLICY_NAME``,
``DYNAMODB_TABLE_NAME``, ``S3_BUCKET_NAME``, ``AWS_REGION``), with the same defaults.

Only a loopback endpoint is accepted: this script creates IAM entities, and must never
reach a real account. See docs/getting-started.md, "Live mode against a local moto server".
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from iam_compliance.engine.target import Target, fill_placeholders

DEFAULTS = {
    "AWS_REGION": "us-east-1",
    "DYNAMODB_TABLE_NAME": "ml-jobs",
    "ECS_TASK_ROLE_NAME": "MLPlatformECSTaskRole",
    "ECS_TASK_POLICY_NAME": "MLPlatformECSTaskPolicy",
    "S3_BUCKET_NAME": "ml-platform-artifacts",
}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_fixture(path: Path, values: dict[str, str]) -> str:
    """The document with its ``${AWS_REGION}``-style placeholders filled by the suite's own
    filler, as mock mode fills them (IAM policy variables, ``${aws:username}``, stay)."""
    target = Target(
        name="default",
        region=values["AWS_REGION"],
        account_id=values["AWS_ACCOUNT_ID"],
        table_name=values["DYNAMODB_TABLE_NAME"],
        role_name=values["ECS_TASK_ROLE_NAME"],
        policy_name=values["ECS_TASK_POLICY_NAME"],
        s3_bucket=values["S3_BUCKET_NAME"],
    )
    return fill_placeholders(path.read_text(), target, str(path))


def seed(endpoint_url: str, fixtures: Path) -> str:
    """Create the role, its policy and the table; return the account they are in."""
    values = {name: os.environ.get(name) or default for name, default in DEFAULTS.items()}
    session = boto3.Session(region_name=values["AWS_REGION"])
    account: str = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    values.update(AWS_ACCOUNT_ID=account)
    iam = session.client("iam", endpoint_url=endpoint_url)
    role = values["ECS_TASK_ROLE_NAME"]
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=read_fixture(
            fixtures / "policies" / "ecs_tasks_trust_policy.json", values
        ),
    )
    policy = iam.create_policy(
        PolicyName=values["ECS_TASK_POLICY_NAME"],
        PolicyDocument=read_fixture(fixtures / "policies" / "task_policy.json", values),
    )
    iam.attach_role_policy(RoleName=role, PolicyArn=policy["Policy"]["Arn"])
    session.client("dynamodb", endpoint_url=endpoint_url).create_table(
        TableName=values["DYNAMODB_TABLE_NAME"],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    document = json.loads(read_fixture(fixtures / "policies" / "task_policy.json", values))
    actions = [
        action
        for statement in document["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        if action.startswith("dynamodb:")
    ]
    print(
        f"seeded account {account} at {endpoint_url}: role {role}, "
        f"policy {values['ECS_TASK_POLICY_NAME']} v1 ({', '.join(actions)}), "
        f"table {values['DYNAMODB_TABLE_NAME']}"
    )
    return account


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="the moto server (default: AWS_ENDPOINT_URL); loopback only",
    )
    parser.add_argument(
        "--fixtures", type=Path, default=Path("fixtures"), help="the seed documents' folder"
    )
    args = parser.parse_args()
    if not args.endpoint_url or not is_loopback(args.endpoint_url):
        parser.error(
            f"--endpoint-url must be a moto server on loopback (http://127.0.0.1:5000), "
            f"got {args.endpoint_url!r}: this script creates IAM entities"
        )
    seed(args.endpoint_url, args.fixtures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
