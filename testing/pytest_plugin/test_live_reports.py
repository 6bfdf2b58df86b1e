"""What a run says about itself: where a live run read the account and as whom, Access
Analyzer's answer in one line, and a compliant target in one line."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ACCOUNT, LIVE, MotoServer, read_json

#: moto's identity for the credentials MotoServer.use gives (an assumed role's session).
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/self-test-admin/seed"


def test_a_live_run_says_which_endpoint_it_read_and_who_read_it(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stray AWS_ENDPOINT_URL in CI must not read as a check of the real account."""
    moto_server.seed()
    moto_server.use(monkeypatch)
    url = moto_server.url

    result = suite.runpytest(*LIVE)

    result.stdout.fnmatch_lines(
        [
            f"  target default: account {ACCOUNT}, *, endpoint {url}",
            f"iam-compliance: live account {ACCOUNT}: * read through {url} as {CALLER}",
        ]
    )
    [target] = read_json(suite)["targets"]
    assert (target["endpoint_url"], target["caller_arn"]) == (url, CALLER)
    folder = suite.path / "reports"
    page = html.unescape((folder / "compliance.html").read_text())
    assert f"Read through {url} as {CALLER}" in page
    suite_element = ET.parse(folder / "compliance.xml").getroot().find("testsuite")
    assert suite_element is not None
    found = {p.attrib["name"]: p.attrib["value"] for p in suite_element.iter("property")}
    assert (found["endpoint"], found["caller"]) == (url, CALLER)

    suite.runpytest(*LIVE, "--fix")

    record = read_json(suite)["targets"][0]["remediation"]["record"]
    assert (record["endpoint_url"], record["caller_arn"]) == (url, CALLER)
    assert json.loads(
        Path(read_json(suite)["targets"][0]["remediation"]["record_path"]).read_text()
    )["caller_arn"] == (CALLER)


def test_access_analyzer_that_cannot_be_asked_is_one_clear_line(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's server has no Access Analyzer: it answers with an HTML error page."""
    moto_server.seed()
    moto_server.use(monkeypatch)
    line = (
        "IAM Access Analyzer's CheckNoNewAccess could not be asked: "
        f"{moto_server.url} does not offer it (HTTP 500, an HTML page rather than an AWS answer)"
    )

    result = suite.runpytest(*LIVE, "--fix-dry-run")

    result.stdout.fnmatch_lines([f"  {line}"])
    assert "<!doctype" not in result.stdout.str().lower()
    [target] = read_json(suite)["targets"]
    assert target["remediation"]["plan"]["second_opinion"] == line
    assert target["proposed_fix"]["second_opinion"] == line
    assert line in html.unescape((suite.path / "reports" / "compliance.html").read_text())


def test_compliant_targets_take_one_line_each_outside_an_organization(
    suite: pytest.Pytester,
) -> None:
    """--guardrails auto in an account outside any organization: not checked, said once in
    the header and in a few words on each target's line."""
    policy = suite.path / "fixtures" / "policies" / "task_policy.json"
    document = json.loads(policy.read_text())
    document["Statement"][1]["Action"].extend(
        ["dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable"]
    )
    policy.write_text(json.dumps(document))
    args = []
    for name, account in (("dev", "111111111111"), ("prod", "222222222222")):
        (suite.path / "envs").mkdir(exist_ok=True)
        (suite.path / "envs" / f"{name}.env").write_text(f"AWS_ACCOUNT_ID={account}\n")
        args.extend(["--iam-env-file", f"envs/{name}.env"])

    result = suite.runpytest(*args)

    result.assert_outcomes(passed=20)
    output = result.stdout.str()
    summary = output[output.index("= iam-compliance =") :].splitlines()[1:4]
    assert summary == [
        f"target {name}: compliant: all 6 required actions allowed "
        f"(arn:aws:iam::{account}:role/MLPlatformECSTaskRole); guardrails (SCPs, RCPs) NOT CHECKED"
        for name, account in (("dev", "111111111111"), ("prod", "222222222222"))
    ] + ["2 targets: 2 compliant, 0 not compliant"]
    result.stdout.fnmatch_lines(
        ["iam-compliance: guardrails (SCPs, RCPs): NOT checked: account 111111111111: *"]
    )
