"""What the self-tests share, in one place: constants, helpers and fixtures.

The runbook's defaults (account, role, policy, table, required actions), the policy
documents of the fixtures, the compliance suite's node ids, the real suite in a pytester
project, and a moto server. Test modules import from here, never from each other (pytest
puts this folder on ``sys.path``, so ``from conftest import ...`` works from every
subfolder).

Live mode is tested against ``moto.server.ThreadedMotoServer`` on 127.0.0.1: no test
reaches real AWS.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import cfnlint.decode.cfn_yaml  # type: ignore[import-untyped]  # noqa: F401
import pytest
from hypothesis import settings as hypothesis_settings

from iam_compliance.aws.catalog import IamActionCatalog
from iam_compliance.engine.evaluate.assessment import Assessment, assess
from iam_compliance.engine.evaluate.evaluation import Verdict
from iam_compliance.engine.evaluate.snapshot import AttachedPolicy, RoleSnapshot
from iam_compliance.engine.fix.planning import FixPlan, plan_fix
from iam_compliance.engine.fix.proposal import plan_and_prove
from iam_compliance.engine.fix.rollout import Remediation, apply_fix
from iam_compliance.engine.policy import Policy, PolicyVersion, RolePolicies, parse_policy
from iam_compliance.engine.requirements import RequiredAction
from iam_compliance.engine.target import Target
from iam_compliance.errors import RemediationError
from iam_compliance.report import build
from iam_compliance.report.model import TargetSection

# cfnlint (above) is imported once, here: pytester drops the modules an in-process run
# imported, and PyYAML's C extension cannot be imported a second time in one process.
ROOT = Path(__file__).resolve().parent.parent

#: The property tests' profiles. "dev" keeps the README's test command short; "ci" (CI=true,
#: as .ci/run runs) tries about three times as many examples, in a fixed order, so that a failure in
#: CI reproduces on a developer's machine (``HYPOTHESIS_PROFILE=ci``).
hypothesis_settings.register_profile("dev", max_examples=75, deadline=None)
hypothesis_settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
SUITE_FILE = ROOT / "tests" / "test_ecs_task_dynamodb_permissions.py"
FIXTURES = ROOT / "fixtures"
#: The source files of the runbook's state: a Terraform plan, CloudFormation JSON and YAML,
#: and the Terraform configuration of the plan (the suite's copy: ``fixtures/iac/``).
IAC = "fixtures/iac"
TERRAFORM_PLAN = f"{IAC}/task-role.tfplan.json"
TEMPLATE_JSON = f"{IAC}/task-role.template.json"
TEMPLATE_YAML = f"{IAC}/task-role.template.yaml"
TERRAFORM_DIR = f"{IAC}/terraform"

# ------------------------------------------------------------- the runbook's defaults

ACCOUNT = "618574523116"
REGION = "us-east-1"
TABLE_NAME = "ml-jobs"
ROLE = "MLPlatformECSTaskRole"
POLICY_NAME = "MLPlatformECSTaskPolicy"
BUCKET = "ml-platform-artifacts"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE_NAME}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY_NAME}"
#: fixtures/required_actions.toml, in its order.
REQUIRED = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:DescribeTable",
)
#: The required actions the runbook's policy allows today, and the ones it lacks.
GRANTED = REQUIRED[:3]
MISSING = ("dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable")
#: The moment the self-tests' clocks show: 2026-11-27T22:14:05Z.
NOW = datetime(2026, 11, 27, 22, 14, 5, tzinfo=UTC)
#: A VPC endpoint id for condition values.
VPC_ENDPOINT = "vpce-0a1b2c3d"
#: Settings a developer's shell may have that must not leak into a self-test.
AMBIENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCOUNT_ID",
    "DYNAMODB_TABLE_NAME",
    "ECS_TASK_ROLE_NAME",
    "ECS_TASK_POLICY_NAME",
    "S3_BUCKET_NAME",
    "IAM_COMPLIANCE_MODE",
)

# ------------------------------------------------------------ the compliance suite

#: The node-id prefix of the suite's tests.
CLASS = "tests/test_ecs_task_dynamodb_permissions.py::TestECSTaskRoleDynamoDBPermissions"
#: The options of a live-mode run (against the moto server, see ``MotoServer.use``).
LIVE = ("--aws-mode", "live")
#: The requests a live run sends to read a role with two managed policies, one inline
#: policy and a boundary: each entity once.
EXPECTED = Counter(
    {
        "sts:GetCallerIdentity": 1,
        "iam:GetRole": 1,
        "iam:ListAttachedRolePolicies": 1,
        "iam:ListRolePolicies": 1,
        "iam:GetRolePolicy": 1,
        # two attached managed policies and the boundary: each GetPolicy + GetPolicyVersion
        "iam:GetPolicy": 3,
        "iam:GetPolicyVersion": 3,
        # the table: its tags, its resource-based policy, its encryption
        "dynamodb:ListTagsOfResource": 1,
        "dynamodb:GetResourcePolicy": 1,
        "dynamodb:DescribeTable": 1,
        # is the account in an organization? (--guardrails auto; the moto account is not)
        "organizations:DescribeOrganization": 1,
    }
)
#: One managed policy, no inline policy, no boundary: each IAM entity once, then the
#: table's three reads (its tags, its resource policy, its encryption), and the
#: guardrails' first question. Ten requests.
ONE_POLICY = Counter(
    {
        "sts:GetCallerIdentity": 1,
        "iam:GetRole": 1,
        "iam:ListAttachedRolePolicies": 1,
        "iam:ListRolePolicies": 1,
        "iam:GetPolicy": 1,
        "iam:GetPolicyVersion": 1,
        "dynamodb:ListTagsOfResource": 1,
        "dynamodb:GetResourcePolicy": 1,
        "dynamodb:DescribeTable": 1,
        # the guardrails (--guardrails auto): the account is in no organization
        "organizations:DescribeOrganization": 1,
    }
)


def read_json(pytester: pytest.Pytester) -> dict[str, Any]:
    """The compliance.json a run of the suite in ``pytester`` wrote."""
    document: dict[str, Any] = json.loads(
        (pytester.path / "reports" / "compliance.json").read_text(encoding="utf-8")
    )
    return document


def action_id(action: str) -> str:
    """The node id of the suite's test of one required action."""
    return f"{CLASS}::test_required_action_is_allowed[{action}]"


# ------------------------------------------- a policy in Terraform, three ways

ARCHIVE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/ml-jobs-archive"
#: Two statements with the same actions: Archive (another table) before Jobs (the table).
ARCHIVE_FIRST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Archive", "Effect": "Allow", "Action": list(GRANTED), "Resource": ARCHIVE_ARN},
        {"Sid": "Jobs", "Effect": "Allow", "Action": list(GRANTED), "Resource": TABLE_ARN},
    ],
}
TERRAFORM_TABLE = """\
resource "aws_dynamodb_table" "jobs" {
  name         = "ml-jobs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "job_id"

  attribute {
    name = "job_id"
    type = "S"
  }
}

"""
#: The Archive-before-Jobs policy in each way a .tf file writes one.
TERRAFORM_STYLES = {
    "jsonencode": f"""\
resource "aws_iam_policy" "task" {{
  name = "MLPlatformECSTaskPolicy"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Sid    = "Archive"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ]
        Resource = "{ARCHIVE_ARN}"
      }},
      {{
        Sid    = "Jobs"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ]
        Resource = aws_dynamodb_table.jobs.arn
      }},
    ]
  }})
}}
""",
    "heredoc": f"""\
resource "aws_iam_policy" "task" {{
  name   = "MLPlatformECSTaskPolicy"
  policy = <<-EOF
    {{
      "Version": "2012-10-17",
      "Statement": [
        {{
          "Sid": "Archive",
          "Effect": "Allow",
          "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          "Resource": "{ARCHIVE_ARN}"
        }},
        {{
          "Sid": "Jobs",
          "Effect": "Allow",
          "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          "Resource": "${{aws_dynamodb_table.jobs.arn}}"
        }}
      ]
    }}
  EOF
}}
""",
    "policy_document": f"""\
data "aws_iam_policy_document" "task" {{
  statement {{
    sid       = "Archive"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = ["{ARCHIVE_ARN}"]
  }}

  statement {{
    sid       = "Jobs"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.jobs.arn]
  }}
}}

resource "aws_iam_policy" "task" {{
  name   = "MLPlatformECSTaskPolicy"
  policy = data.aws_iam_policy_document.task.json
}}
""",
}


# ------------------------------------------------------------------ policy documents


def task_policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    """A 2012-10-17 document holding copies of ``statements``."""
    return {"Version": "2012-10-17", "Statement": copy.deepcopy(list(statements))}


def runbook_policy(bucket: str = BUCKET) -> dict[str, Any]:
    """The policy as the runbook says it is today (the fixture, placeholders filled)."""
    return filled_fixture("task_policy.json", bucket)


def filled_fixture(name: str, bucket: str = BUCKET) -> dict[str, Any]:
    """``fixtures/policies/<name>``, its placeholders filled for the runbook's account."""
    text = (FIXTURES / "policies" / name).read_text()
    for key, value in {
        "S3_BUCKET_NAME": bucket,
        "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID": ACCOUNT,
        "DYNAMODB_TABLE_NAME": TABLE_NAME,
    }.items():
        text = text.replace("${" + key + "}", value)
    document: dict[str, Any] = json.loads(text)
    return document


def runbook_plan() -> dict[str, Any]:
    """The runbook's state as a Terraform plan (``fixtures/iac/task-role.tfplan.json``)."""
    plan: dict[str, Any] = json.loads((ROOT / TERRAFORM_PLAN).read_text())
    return plan


def planned(plan: Mapping[str, Any], address: str) -> dict[str, Any]:
    """The ``after`` values of the resource at ``address`` in ``plan``."""
    for change in plan["resource_changes"]:
        if change["address"] == address:
            after: dict[str, Any] = change["change"]["after"]
            return after
    raise KeyError(address)


def plan_resource(
    plan: dict[str, Any],
    address: str,
    after: Mapping[str, Any],
    references: Mapping[str, Sequence[str]] | None = None,
    *,
    after_unknown: Mapping[str, Any] | None = None,
) -> None:
    """Add a resource to ``plan``'s changes, created by it; ``references``: what the
    configuration writes each attribute as (``{"role": ["aws_iam_role.task"]}``)."""
    kind, name = address.split(".")[-2:]
    plan["resource_changes"].append(
        {
            "address": address,
            "mode": "managed",
            "type": kind,
            "name": name,
            "change": {
                "actions": ["create"],
                "before": None,
                "after": dict(after),
                "after_unknown": dict(after_unknown or {}),
            },
        }
    )
    plan["configuration"]["root_module"]["resources"].append(
        {
            "address": address,
            "mode": "managed",
            "type": kind,
            "name": name,
            "expressions": {
                key: {"references": list(refs)} for key, refs in (references or {}).items()
            },
        }
    )


def ecs_trust_policy() -> dict[str, Any]:
    """The role's trust policy: ECS tasks may assume it (the fixture)."""
    document: dict[str, Any] = json.loads(
        (FIXTURES / "policies" / "ecs_tasks_trust_policy.json").read_text()
    )
    return document


def compliant_policy() -> dict[str, Any]:
    return filled_fixture("compliant_task_policy.json")


#: The runbook policy's three statements: S3 on the bucket, GetItem, PutItem and
#: UpdateItem on the table, CloudWatch Logs on "*".
S3_STATEMENT, DYNAMODB_STATEMENT, LOGS_STATEMENT = runbook_policy()["Statement"]


def parsed_task_policy(document: Mapping[str, Any], version: str = "v3") -> Policy:
    """``document`` as the task policy's default version ``version``."""
    return parse_policy(document, name=POLICY_NAME, kind="managed", version=version, arn=POLICY_ARN)


def version_listing(count: int, default: str | None = None) -> list[PolicyVersion]:
    """``count`` versions v1..vN created a day apart; the newest is the default unless named."""
    default = default or f"v{count}"
    return [
        PolicyVersion(f"v{n}", f"v{n}" == default, NOW - timedelta(days=count - n))
        for n in range(1, count + 1)
    ]


# --------------------------------------------------- a policy store in memory


class FakeStore:
    """IAM's policy versions in memory; records every call, can be told to fail."""

    def __init__(self, count: int = 3, default: str | None = None) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.created: dict[str, datetime] = {}
        for version in version_listing(count, default):
            self.documents[version.version_id] = self.document_for(version.version_id)
            self.created[version.version_id] = version.created
        self.default = default or f"v{count}"
        self.documents[self.default] = runbook_policy()
        self.next_number = count + 1
        self.calls: list[tuple[str, ...]] = []
        self.fail_create: Exception | None = None
        self.fail_delete: Exception | None = None
        self.fail_set_default: Exception | None = None

    @staticmethod
    def document_for(version_id: str) -> dict[str, Any]:
        return task_policy(dict(LOGS_STATEMENT, Sid=f"Old{version_id}"))

    def list_versions(self, policy_arn: str) -> list[PolicyVersion]:
        self.calls.append(("list_versions", policy_arn))
        return [
            PolicyVersion(vid, vid == self.default, self.created[vid]) for vid in self.documents
        ]

    def get_version_document(self, policy_arn: str, version_id: str) -> dict[str, Any]:
        self.calls.append(("get_version_document", policy_arn, version_id))
        return copy.deepcopy(self.documents[version_id])

    def create_default_version(self, policy_arn: str, document: Mapping[str, Any]) -> str:
        self.calls.append(("create_default_version", policy_arn))
        if self.fail_create:
            raise self.fail_create
        if len(self.documents) >= 5:
            raise RemediationError("LimitExceeded: a managed policy has at most 5 versions")
        version_id = f"v{self.next_number}"
        self.next_number += 1
        self.documents[version_id] = copy.deepcopy(dict(document))
        self.created[version_id] = NOW
        self.default = version_id
        return version_id

    def delete_version(self, policy_arn: str, version_id: str) -> None:
        self.calls.append(("delete_version", policy_arn, version_id))
        assert version_id != self.default, "IAM refuses to delete the default version"
        if self.fail_delete:
            raise self.fail_delete
        del self.documents[version_id]

    def set_default_version(self, policy_arn: str, version_id: str) -> None:
        self.calls.append(("set_default_version", policy_arn, version_id))
        if self.fail_set_default:
            raise self.fail_set_default
        self.default = version_id

    @property
    def writes(self) -> list[str]:
        return [
            call[0]
            for call in self.calls
            if call[0] not in ("list_versions", "get_version_document")
        ]

    def plan(self) -> FixPlan:
        versions = self.list_versions(POLICY_ARN)
        self.calls.clear()
        target = parsed_task_policy(self.documents[self.default], self.default)
        return plan_fix(RolePolicies(identity=(target,)), target, REQUIRED, TABLE_ARN, versions)


class Records:
    """A save_record that keeps a snapshot of every save."""

    def __init__(self, path: str = "reports/remediation-20261127T221405Z.json") -> None:
        self.path = path
        self.saved: list[dict[str, Any]] = []
        self.on_save: Callable[[Mapping[str, Any]], None] | None = None

    def __call__(self, record: Mapping[str, Any]) -> str:
        self.saved.append(json.loads(json.dumps(record)))  # also proves it serialises
        if self.on_save:
            self.on_save(record)
        return self.path

    @property
    def statuses(self) -> list[str]:
        return [record["status"] for record in self.saved]


# ------------------------------------------------------ a role judged without AWS

#: The default target: the runbook's account, role, policy and table.
TARGET = Target("default", REGION, ACCOUNT, TABLE_NAME, ROLE, POLICY_NAME, BUCKET)
#: fixtures/required_actions.toml, read as the suite reads it.
REQUIREMENTS = tuple(
    RequiredAction(entry["name"], entry["reason"])
    for entry in tomllib.loads((FIXTURES / "required_actions.toml").read_text())["action"]
)


def role_snapshot(
    *identity: Policy,
    boundary: Policy | None = None,
    trust: Mapping[str, Any] | None = None,
    attached: Sequence[AttachedPolicy] | None = None,
    policy_exists: bool = True,
) -> RoleSnapshot:
    """The default role as the adapter would read it, holding ``identity`` policies.

    Its attached policies are the managed ones among ``identity`` unless ``attached``
    names others; its trust policy is the fixture's unless ``trust`` is given.
    """
    if attached is None:
        attached = [
            AttachedPolicy(p.name, p.arn) for p in identity if p.kind == "managed" and p.arn
        ]
    return RoleSnapshot(
        account_id=ACCOUNT,
        role_name=ROLE,
        role_arn=ROLE_ARN,
        trust_policy=parse_policy(
            trust if trust is not None else ecs_trust_policy(), name="trust", trust=True
        ),
        policies=RolePolicies(identity=identity, boundary=boundary),
        attached=tuple(attached),
        target_policy_exists=policy_exists,
    )


def assessment_of(
    *identity: Policy, context: Mapping[str, Sequence[str]] | None = None, **snapshot: Any
) -> Assessment:
    """Every verdict about the default target whose role holds ``identity`` policies
    (``snapshot``: the other arguments of :func:`role_snapshot`)."""
    return assess(TARGET, role_snapshot(*identity, **snapshot), REQUIREMENTS, context, now=NOW)


def runbook_assessment() -> Assessment:
    """The role as the runbook says it is today: Scan, Query and DescribeTable missing."""
    return assessment_of(parsed_task_policy(runbook_policy(), "v1"))


def report_section(
    assessment: Assessment,
    *,
    context: Mapping[str, Sequence[str]] | None = None,
    remediation: Remediation | None = None,
    fixing: bool = False,
) -> TargetSection:
    """The report's section about ``assessment`` (judged under ``context``), with the fix
    it proposes, planned and proved as a run does."""
    proposed = plan_and_prove(assessment, catalog_actions) if assessment.missing else None
    return build.target_section(
        assessment,
        remediation=remediation,
        proposed=proposed,
        fixing=fixing,
    )


@functools.cache
def catalog_actions(service: str) -> list[str]:
    """A service's actions from AWS's IAM action data, as a run's proof probes them."""
    return sorted(_catalog().actions(service) or ())


@functools.cache
def _catalog() -> IamActionCatalog:
    return IamActionCatalog()


def runbook_fix(*, dry_run: bool = False, versions: int = 1) -> Remediation:
    """--fix (``dry_run``: --fix-dry-run) of the runbook role, whose task policy has
    ``versions`` versions, v1 the default: applied to a :class:`FakeStore` and verified by
    evaluating the version the store then holds."""
    store = FakeStore(versions, default="v1")
    plan = store.plan()
    if dry_run:
        return Remediation(TARGET, plan, None, dry_run=True)

    def verify() -> list[Verdict]:
        new = parsed_task_policy(store.documents[store.default], store.default)
        return list(assessment_of(new).verdicts.values())

    applied = apply_fix(
        plan,
        store,
        account=ACCOUNT,
        verify=verify,
        save_record=Records(),
        clock=lambda: NOW,
        sleep=lambda seconds: None,
    )
    return Remediation(TARGET, plan, applied, dry_run=False)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    # boto3 must never find a developer's real credentials files from a self-test.
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project holding the real compliance suite, its fixtures and configuration."""
    # The suite's runs do not use hypothesis, whose pytest plugin costs more to import
    # than a whole in-process run. Set after pytester, which clears PYTEST_ADDOPTS.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    tests = pytester.mkdir("tests")
    shutil.copy(SUITE_FILE, tests / SUITE_FILE.name)
    shutil.copytree(FIXTURES, pytester.path / "fixtures")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\niam_compliance_fixtures = "fixtures"\n')
    return pytester


def failed_ids(result: pytest.RunResult) -> set[str]:
    """The ids of the tests the short summary says failed (without the message that pytest
    adds in CI, where it does not truncate the summary)."""
    return {
        line.split(" ", 1)[1].split(" - ")[0]
        for line in result.outlines
        if line.startswith("FAILED ")
    }


def apply_as_told(result: pytest.RunResult, cwd: Path) -> list[str]:
    """Run the command the terminal prescribes for a patch, ``--check`` first, from
    ``cwd``; returns it."""
    [line] = [line for line in result.outlines if ": apply it with: " in line]
    command = shlex.split(line.split(": apply it with: ", 1)[1])
    assert command[:2] == ["git", "-C"], command
    assert command[3] == "apply", command
    for check in (["--check"], []):
        subprocess.run(
            [*command[:4], *check, *command[4:]], cwd=cwd, check=True, capture_output=True
        )
    return command


def write_policy(pytester: pytest.Pytester, document: Any, name: str = "policy.json") -> Path:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


@dataclass
class MotoServer:
    """A moto server on loopback, and boto3 sessions into its accounts."""

    url: str

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body and path.startswith("/_selftest/") else None

    def reset(self) -> None:
        self.call("POST", "/moto-api/reset")
        self.call("DELETE", "/_selftest/requests")
        self.call("DELETE", "/_selftest/faults")
        self.call("DELETE", "/_selftest/auth")
        self.call("DELETE", "/_selftest/latency")

    def delay(self, seconds: float) -> int:
        """Delay every AWS request by ``seconds``; return, and reset, the most requests
        that were being answered at once since the last call."""
        answer = self.call(
            "POST" if seconds else "DELETE", "/_selftest/latency", {"seconds": seconds}
        )
        return int(answer["most_in_flight"])

    def requests(self) -> list[str]:
        """The actions the server received since the last reset (``iam:GetRole``, ...)."""
        found: list[str] = self.call("GET", "/_selftest/requests")
        return found

    def requests_by_account(self) -> list[tuple[str, str]]:
        """The requests since the last reset as (account, action) pairs."""
        found: list[list[str]] = self.call("GET", "/_selftest/requests/accounts")
        return [(account, action) for account, action in found]

    def inject(self, action: str, fault: str, times: int | None = None, skip: int = 0) -> None:
        """Answer ``action`` with ``fault`` ``times`` times (None: always) after ``skip``."""
        rule = {"action": action, "fault": fault, "times": times, "skip": skip}
        self.call("POST", "/_selftest/faults", [rule])

    def default_version(self, arn: str = POLICY_ARN, account: str = ACCOUNT) -> tuple[str, Any]:
        """The policy's default version id and document, as the runbook's CLI reads them."""
        iam = self.iam(account)
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
        return version, document["Document"]

    def versions(self, arn: str = POLICY_ARN, account: str = ACCOUNT) -> list[str]:
        listed = self.iam(account).list_policy_versions(PolicyArn=arn)["Versions"]
        return sorted(v["VersionId"] for v in listed)

    def five_versions(self) -> None:
        """Give the task policy IAM's limit of five versions, v5 the default."""
        iam = self.iam()
        for n in range(2, 6):
            document = runbook_policy()
            document["Statement"][0]["Sid"] = f"Version{n}"
            iam.create_policy_version(PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(document))
        iam.set_default_policy_version(PolicyArn=POLICY_ARN, VersionId="v5")

    def session(self, account: str = ACCOUNT) -> boto3.Session:
        """Credentials inside ``account``, the way moto documents several accounts."""
        base = boto3.Session(
            aws_access_key_id="moto-admin",
            aws_secret_access_key="moto-admin",
            region_name=REGION,
        )
        creds = base.client("sts", endpoint_url=self.url).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/self-test-admin", RoleSessionName="seed"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )

    def iam(self, account: str = ACCOUNT) -> Any:
        return self.session(account).client("iam", endpoint_url=self.url)

    def use(self, monkeypatch: pytest.MonkeyPatch, account: str = ACCOUNT) -> None:
        """Point live mode (boto3's default chain) at this server, as ``account``."""
        creds = self.session(account).get_credentials()
        assert creds is not None
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key)
        monkeypatch.setenv("AWS_SESSION_TOKEN", creds.token or "")
        monkeypatch.setenv("AWS_ENDPOINT_URL", self.url)
        monkeypatch.setenv("AWS_REGION", REGION)

    def seed(
        self,
        *,
        account: str = ACCOUNT,
        managed: Mapping[str, Any] | None = None,
        extra_managed: Mapping[str, Mapping[str, Any]] | None = None,
        inline: Mapping[str, Mapping[str, Any]] | None = None,
        boundary: Mapping[str, Any] | None = None,
        attach: bool = True,
        trust: Mapping[str, Any] | None = None,
        role_tags: Mapping[str, str] | None = None,
        table: bool = True,
        table_tags: Mapping[str, str] | None = None,
        table_policy: Mapping[str, Any] | None = None,
    ) -> str:
        """Create the role, its policies and the table; returns the task policy's ARN."""
        iam = self.iam(account)
        trust = trust or ecs_trust_policy()
        role_args: dict[str, Any] = {
            "RoleName": ROLE,
            "AssumeRolePolicyDocument": json.dumps(trust),
        }
        if role_tags:
            role_args["Tags"] = [{"Key": k, "Value": v} for k, v in role_tags.items()]
        if boundary is not None:
            boundary_arn = iam.create_policy(
                PolicyName="MLPlatformBoundary", PolicyDocument=json.dumps(boundary)
            )["Policy"]["Arn"]
            role_args["PermissionsBoundary"] = boundary_arn
        iam.create_role(**role_args)
        arn: str = iam.create_policy(
            PolicyName=POLICY_NAME,
            PolicyDocument=json.dumps(managed if managed is not None else runbook_policy()),
        )["Policy"]["Arn"]
        if attach:
            iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
        for name, document in (extra_managed or {}).items():
            extra = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
            iam.attach_role_policy(RoleName=ROLE, PolicyArn=extra["Policy"]["Arn"])
        for name, document in (inline or {}).items():
            iam.put_role_policy(RoleName=ROLE, PolicyName=name, PolicyDocument=json.dumps(document))
        if table:
            self.seed_table(account, tags=table_tags, policy=table_policy)
        return arn

    def organization(self, scp: Mapping[str, Any], *, management: str = "000000000001") -> str:
        """An organization managed by ``management`` with SCP ``scp`` attached to OU
        Workloads, and a member account in that OU holding the role (compliant) and the
        table; returns the member account's id."""
        client = self.session(management).client("organizations", endpoint_url=self.url)
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        client.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
        workloads = client.create_organizational_unit(ParentId=root, Name="Workloads")
        ou = workloads["OrganizationalUnit"]["Id"]
        status = client.create_account(AccountName="ml", Email="ml@example.com")
        account: str = status["CreateAccountStatus"]["AccountId"]
        client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        policy = client.create_policy(
            Name="DenyScans",
            Description="d",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(scp),
        )["Policy"]["PolicySummary"]["Id"]
        client.attach_policy(PolicyId=policy, TargetId=ou)
        document = json.loads(json.dumps(compliant_policy()).replace(ACCOUNT, account))
        self.seed(account=account, managed=document)
        return account

    def seed_table(
        self,
        account: str = ACCOUNT,
        *,
        tags: Mapping[str, str] | None = None,
        policy: Mapping[str, Any] | None = None,
    ) -> None:
        """Create the ml-jobs table, with tags and a resource-based policy if given."""
        dynamodb = self.session(account).client("dynamodb", endpoint_url=self.url)
        table: dict[str, Any] = {
            "TableName": "ml-jobs",
            "KeySchema": [{"AttributeName": "job_id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "job_id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if tags:
            table["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        arn = dynamodb.create_table(**table)["TableDescription"]["TableArn"]
        if policy is not None:
            dynamodb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(policy))


def allow_role(sid: str, action: str, resource: str = "*") -> dict[str, Any]:
    """A resource policy whose one statement lets the task role do ``action``."""
    return task_policy(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_ARN},
            "Action": action,
            "Resource": resource,
        }
    )


class ServerAccount:
    """Resources of one of the moto server's accounts, made as a live account holds them:
    buckets, keys, queues, topics, secrets and VPC endpoints."""

    def __init__(self, server: MotoServer, account: str = ACCOUNT) -> None:
        self.session = server.session(account)
        self.url = server.url

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.url)

    def bucket(
        self, name: str = "ml-platform-artifacts", *, policy: Any = None, key: str | None = None
    ) -> str:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        if policy is not None:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
        if key is not None:
            rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": rule}]
                },
            )
        return f"arn:aws:s3:::{name}"

    def key(self, *, policy: Any = None, grant_to: str | None = None) -> str:
        kms = self.client("kms")
        arn: str = kms.create_key()["KeyMetadata"]["Arn"]
        if policy is not None:
            kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
        if grant_to is not None:
            kms.create_grant(
                KeyId=arn,
                GranteePrincipal=grant_to,
                Operations=["Decrypt", "GenerateDataKey"],
                Constraints={"EncryptionContextSubset": {"team": "ml"}},
            )
        return arn

    def queue(self, name: str = "ml-jobs-queue", *, policy: Any = None) -> str:
        sqs = self.client("sqs")
        attributes = {"Policy": json.dumps(policy)} if policy is not None else {}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return arn

    def topic(self, name: str = "ml-events", *, policy: Any = None) -> str:
        sns = self.client("sns")
        arn: str = sns.create_topic(Name=name)["TopicArn"]
        if policy is not None:
            sns.set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
            )
        return arn

    def secret(self, name: str = "db-creds", *, policy: Any = None) -> str:
        secrets = self.client("secretsmanager")
        arn: str = secrets.create_secret(Name=name, SecretString="not a real secret")["ARN"]
        if policy is not None:
            secrets.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps(policy))
        return arn

    def endpoint(self, *, policy: Any = None, service: str = "s3") -> str:
        """A gateway endpoint of ``service`` in a new VPC; its id (moto chooses it)."""
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        extra = {"PolicyDocument": json.dumps(policy)} if policy is not None else {}
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.{service}", **extra
        )["VpcEndpoint"]
        return str(endpoint["VpcEndpointId"])


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[MotoServer]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_server.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    port = int(process.stdout.readline())
    yield MotoServer(f"http://127.0.0.1:{port}")
    process.stdin.close()
    process.wait(timeout=30)


@pytest.fixture
def moto_server(_moto_server: MotoServer) -> MotoServer:
    """The loopback moto server, emptied for this test."""
    _moto_server.reset()
    return _moto_server
