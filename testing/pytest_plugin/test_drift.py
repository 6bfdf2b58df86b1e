"""A live fix of a role or policy deployed from code says it will drift from the code."""

from __future__ import annotations

import pytest

from conftest import LIVE, MotoServer


@pytest.fixture
def live(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto_server.use(monkeypatch)
    return moto_server


def test_a_role_tagged_as_code_gets_the_drift_warning(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    live.seed(role_tags={"ManagedBy": "terraform", "team": "ml-platform"})
    result = suite.runpytest(*LIVE, "--fix-dry-run")
    result.stdout.fnmatch_lines(
        [
            "target default: note: role MLPlatformECSTaskRole is managed as code "
            "(ManagedBy=terraform): a live fix will drift from the code*--iam-policy-file*"
        ]
    )


def test_a_policy_tagged_as_code_gets_the_drift_warning(
    suite: pytest.Pytester, live: MotoServer
) -> None:
    arn = live.seed()
    live.iam().tag_policy(PolicyArn=arn, Tags=[{"Key": "managed-by", "Value": "cdk"}])
    result = suite.runpytest(*LIVE, "--fix-dry-run")
    result.stdout.fnmatch_lines(
        [
            "target default: note: policy MLPlatformECSTaskPolicy is managed as code "
            "(managed-by=cdk)*"
        ]
    )


def test_an_untagged_role_gets_no_drift_warning(suite: pytest.Pytester, live: MotoServer) -> None:
    live.seed(role_tags={"team": "ml-platform"})
    result = suite.runpytest(*LIVE, "--fix-dry-run")
    assert "managed as code" not in result.stdout.str()
    result.stdout.fnmatch_lines(["target default: plan (dry run, nothing written)"])
