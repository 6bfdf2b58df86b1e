"""Other workloads: the examples in fixtures/examples/, the packaged checks of a project
without a test module, a Lambda role, forbidden actions end to end."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from conftest import (
    CLASS,
    FIXTURES,
    MISSING,
    ROLE_ARN,
    TABLE_ARN,
    MotoServer,
    ServerAccount,
    runbook_policy,
    write_policy,
)

EXAMPLES = FIXTURES / "examples"
PACKAGED = "fixtures/required_actions.toml::TestRoleCompliance"
LOG_STREAMS = (
    "arn:${AWS_PARTITION}:logs:${AWS_REGION}:${AWS_ACCOUNT_ID}:log-group:"
    "/aws/lambda/ml-jobs-notifier:log-stream:*"
)


@pytest.fixture
def lambda_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project that only sets iam_compliance_fixtures: the Lambda example, no tests."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    shutil.copytree(EXAMPLES / "lambda-notifier", pytester.path / "fixtures")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\niam_compliance_fixtures = "fixtures"\n')
    return pytester


def test_a_project_without_a_test_module_runs_the_packaged_checks_of_a_lambda_role(
    lambda_project: pytest.Pytester,
) -> None:
    policy = lambda_project.path / "fixtures" / "policies" / "task_policy.json"
    document = json.loads(policy.read_text())
    # The function's log statement loses PutLogEvents: one requirement not on the table.
    document["Statement"][2]["Action"] = ["logs:CreateLogStream"]
    policy.write_text(json.dumps(document))

    result = lambda_project.runpytest("-v", "-p", "no:randomly")

    put_log_events = f"logs:PutLogEvents@{LOG_STREAMS}"
    outcomes = {
        line.split(" ")[0]: line.split(" ")[1]
        for line in result.outlines
        if line.startswith(PACKAGED) and line.split(" ")[1] in ("PASSED", "FAILED")
    }
    assert outcomes == {
        f"{PACKAGED}::test_role_has_all_required_permissions": "FAILED",
        f"{PACKAGED}::test_required_action_is_allowed[dynamodb:GetItem]": "PASSED",
        f"{PACKAGED}::test_required_action_is_allowed[dynamodb:Query@index/by-status]": "PASSED",
        f"{PACKAGED}::test_required_action_is_allowed[logs:CreateLogStream@{LOG_STREAMS}]": (
            "PASSED"
        ),
        f"{PACKAGED}::test_required_action_is_allowed[{put_log_events}]": "FAILED",
        f"{PACKAGED}::test_forbidden_action_is_denied[dynamodb:PutItem]": "PASSED",
        f"{PACKAGED}::test_forbidden_action_is_denied[dynamodb:DeleteTable]": "PASSED",
        f"{PACKAGED}::test_policy_is_attached_to_role": "PASSED",
        f"{PACKAGED}::test_role_trusts_its_service": "PASSED",
        f"{PACKAGED}::test_access_is_least_privilege": "PASSED",
    }
    streams = "arn:aws:logs:us-east-1:618574523116:log-group:/aws/lambda/ml-jobs-notifier"
    result.stdout.fnmatch_lines(
        [
            # The failure names the requirement's own resource, not the table.
            f"*1 of 4 required actions are not allowed for MLPlatformECSTaskRole on {streams}*",
            # The hint repeats what was run: the requirements file holds the checks.
            "*run: pytest fixtures/required_actions.toml --aws-mode mock --fix-dry-run  "
            "(then --fix)",
        ]
    )
    report = json.loads((lambda_project.path / "reports" / "compliance.json").read_text())
    [target] = report["targets"]
    assert target["trusted_service"] == "lambda.amazonaws.com"
    assert target["checks"]["trusts_ecs_tasks"]["message"].startswith(
        "lambda.amazonaws.com may assume the role: trust policy of MLPlatformECSTaskRole, "
    )
    assert [(f["id"], f["ok"]) for f in target["forbidden"]] == [
        ("dynamodb:PutItem", True),
        ("dynamodb:DeleteTable", True),
    ]


def test_the_ml_training_example_judges_every_resource_and_its_forbids(
    suite: pytest.Pytester,
) -> None:
    """The whole container's workload against the runbook's role, whose S3 grant is
    widened to s3:* on the artifacts: the forbidden DeleteObject is then granted."""
    document = runbook_policy()
    document["Statement"][0]["Action"] = "s3:*"
    path = write_policy(suite, document)
    example = suite.path / "fixtures" / "examples" / "ml-training" / "required_actions.toml"

    result = suite.runpytest(
        "-p", "no:randomly", "--iam-requirements", str(example), "--iam-policy-file", str(path)
    )

    report = json.loads((suite.path / "reports" / "compliance.json").read_text())
    failed = {t["nodeid"] for t in report["tests"] if t["outcome"] == "failed"}
    objects = "arn:${AWS_PARTITION}:s3:::${S3_BUCKET_NAME}/*"
    assert failed == {
        f"{CLASS}::test_task_role_has_all_required_permissions",
        *(f"{CLASS}::test_required_action_is_allowed[{a}]" for a in MISSING),
        f"{CLASS}::test_forbidden_action_is_denied[s3:DeleteObject@{objects}]",
        f"{CLASS}::test_dynamodb_access_is_least_privilege",  # Logs on Resource "*"
    }
    [target] = report["targets"]
    # DynamoDB, S3 and Logs: only the runbook's three missing actions are not allowed.
    assert {a["id"] for a in target["actions"] if a["verdict"] != "allowed"} == set(MISSING)
    assert len(target["actions"]) == 11
    result.stdout.fnmatch_lines(
        [
            "*s3:DeleteObject on arn:aws:s3:::ml-platform-artifacts/* must never be allowed "
            "(Artifacts are kept; a training run never deletes one), but s3:DeleteObject is "
            "allowed by *",
            "*run: pytest tests/test_ecs_task_dynamodb_permissions.py * "
            f"--iam-requirements {example} *--fix-dry-run*",
        ]
    )


def test_a_requirement_and_a_forbid_that_overlap_stop_the_run(suite: pytest.Pytester) -> None:
    requirements = suite.path / "overlap.toml"
    requirements.write_text(
        '[[action]]\nname = "dynamodb:Scan"\nreason = "list jobs"\n\n'
        '[[forbid]]\nname = "dynamodb:Scan"\nreason = "too costly"\n'
    )

    result = suite.runpytest("--iam-requirements", str(requirements))

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"{requirements}: [[action]] dynamodb:Scan ({TABLE_ARN}) and [[forbid]] dynamodb:Scan "
        f"({TABLE_ARN}) overlap: the same request cannot be both required and forbidden"
    ) in result.stderr.str()


@pytest.mark.parametrize(
    ("bucket_policy", "delete_object_denied"),
    [
        pytest.param(None, True, id="no-bucket-policy"),
        pytest.param(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ROLE_ARN},
                        "Action": "s3:DeleteObject",
                        "Resource": "arn:aws:s3:::ml-platform-artifacts/*",
                    }
                ],
            },
            False,
            id="bucket-policy-grants-the-role",
        ),
    ],
)
def test_live_forbids_count_the_bucket_s_own_policy(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    bucket_policy: dict[str, Any] | None,
    delete_object_denied: bool,
) -> None:
    """In the role's account, a bucket policy naming the role grants without any identity
    policy: the forbidden s3:DeleteObject is then not proved denied."""
    moto_server.seed()
    ServerAccount(moto_server).bucket(policy=bucket_policy)
    moto_server.use(monkeypatch)
    example = suite.path / "fixtures" / "examples" / "ml-training" / "required_actions.toml"

    suite.runpytest("-p", "no:randomly", "--aws-mode", "live", "--iam-requirements", str(example))

    report = json.loads((suite.path / "reports" / "compliance.json").read_text())
    [target] = report["targets"]
    assert {f["action"]: f["ok"] for f in target["forbidden"]} == {
        "dynamodb:DeleteTable": True,
        "s3:DeleteObject": delete_object_denied,
    }
