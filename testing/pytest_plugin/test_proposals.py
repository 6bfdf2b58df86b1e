"""The fix every report proposes is the one --fix-dry-run prints, proved; and the hint that
goes with it checks, and fixes, that target only."""

from __future__ import annotations

import html
import json
import shlex
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    MISSING,
    REGION,
    TEMPLATE_YAML,
    MotoServer,
    read_json,
    runbook_policy,
)

DEV, PROD = "111111111111", "222222222222"
PROVED = f"new access: exactly the {len(MISSING)} required action(s) ("


@pytest.mark.parametrize(
    "source",
    [
        pytest.param((), id="embedded-account"),
        pytest.param(("--iam-policy-file", TEMPLATE_YAML), id="template"),
    ],
)
def test_the_reports_proposed_fix_is_the_one_fix_dry_run_prints(
    suite: pytest.Pytester, source: tuple[str, ...]
) -> None:
    suite.runpytest(*source)
    [checked] = read_json(suite)["targets"]
    proposed = checked["proposed_fix"]
    page = html.unescape((suite.path / "reports" / "compliance.html").read_text())

    result = suite.runpytest(*source, "--fix-dry-run")

    [dry_run] = read_json(suite)["targets"]
    assert proposed == dry_run["remediation"]["plan"] == dry_run["proposed_fix"]
    assert proposed["proof"].startswith(PROVED)
    assert proposed["refusals"] == []
    assert f"Proof: {proposed['proof']}" in page
    # ... and it is what the terminal printed for --fix-dry-run.
    result.stdout.fnmatch_lines([f"  {proposed['proof']}"])
    printed = result.stdout.str()
    document = printed[printed.index("  new document:") : printed.index("  diff:")]
    assert json.loads(document.partition("\n")[2]) == proposed["new_document"]


def live_env(suite: pytest.Pytester, server: MotoServer, name: str, account: str) -> str:
    creds = server.session(account).get_credentials()
    assert creds is not None
    values = {
        "AWS_ACCOUNT_ID": account,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": creds.access_key,
        "AWS_SECRET_ACCESS_KEY": creds.secret_key,
        "AWS_SESSION_TOKEN": creds.token or "",
        "AWS_ENDPOINT_URL": server.url,
    }
    path = suite.path / "envs" / f"{name}.env"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return f"envs/{name}.env"


def hint_of(target: dict[str, Any]) -> list[str]:
    """The command of a target's "run: ... --fix-dry-run (then --fix)" hint, as words."""
    [hint] = [step for step in target["next_steps"] if "--fix-dry-run" in step]
    command = hint.partition("run: ")[2].partition("  (then --fix)")[0]
    return shlex.split(command)


@pytest.mark.slow
@pytest.mark.parametrize(
    "environment",
    [
        pytest.param({}, id="nothing-in-the-environment"),
        # With one env file the environment wins: the hint unsets what would.
        pytest.param({"AWS_ACCOUNT_ID": DEV}, id="the-environment-names-another-account"),
    ],
)
def test_following_a_targets_hint_fixes_that_target_only(
    suite: pytest.Pytester,
    moto_server: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
) -> None:
    for account in (DEV, PROD):
        document = json.loads(json.dumps(runbook_policy()).replace(ACCOUNT, account))
        moto_server.seed(account=account, managed=document)
    envs = [live_env(suite, moto_server, "dev", DEV), live_env(suite, moto_server, "prod", PROD)]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    suite.runpytest("--aws-mode", "live", "--iam-env-file", envs[0], "--iam-env-file", envs[1])
    prod = next(t for t in read_json(suite)["targets"] if t["name"] == "prod")
    words = hint_of(prod)
    page = html.unescape((suite.path / "reports" / "compliance.html").read_text())

    # The run's mode and the target's own env file, not the others (--fix fixes every
    # target of its run); the page's rows give the same command.
    unset = []
    while words[0] in ("env", "-u"):
        if words.pop(0) == "-u":
            unset.append(words.pop(0))
    assert unset == list(environment)
    assert words == [
        "pytest",
        "tests/test_ecs_task_dynamodb_permissions.py",
        *("--aws-mode", "live", "--iam-env-file", "envs/prod.env", "--fix-dry-run"),
    ]
    assert f"run <code>{prod['command']} --fix-dry-run</code>, then the same with --fix" in page
    for name in unset:
        monkeypatch.delenv(name)
    followed = suite.runpytest(*words[2:-1], "--fix")

    followed.assert_outcomes(passed=10)
    for account, version in ((PROD, "v2"), (DEV, "v1")):
        policy = f"arn:aws:iam::{account}:policy/MLPlatformECSTaskPolicy"
        assert moto_server.default_version(policy, account)[0] == version
