"""--iam-shard I/N runs and ``iam-compliance merge``: the merged reports are a single run's."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iam_compliance.cli import main

from conftest import REGION, ROOT, MotoServer, compliant_policy, ecs_trust_policy, runbook_policy

SCHEMA = json.loads((ROOT / "testing" / "sources" / "data" / "sarif-schema-2.1.0.json").read_text())
#: Request keys whose values are the moment of the run, or moto's random role ids.
RUN_SPECIFIC = {"aws:CurrentTime", "aws:EpochTime", "aws:userid"}
DEV, PROD, QA = "111111111111", "222222222222", "333333333333"
#: Other tests of a project that runs the suite: each shard runs them.
OTHER_TESTS = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("no database")

def test_prints():
    print("hello from a test")

@pytest.mark.skip(reason="not on this platform")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known bug", strict=False)
def test_known_bug():
    assert 1 == 2

def test_needs_the_database(broken):
    pass
"""


def env_file(folder: Path, name: str, **values: str) -> str:
    path = folder / "envs" / f"{name}.env"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return str(path.relative_to(folder))


def mock_targets(
    suite: pytest.Pytester, accounts: Sequence[tuple[str, str, int]], *, roles: bool = True
) -> list[str]:
    """``count`` targets in each account, one env file each (``<prefix>-<n>``), each its
    own role (``roles``) or all the runbook's; the options naming them."""
    args = []
    for prefix, account, count in accounts:
        for n in range(count):
            values = {
                "AWS_ACCOUNT_ID": account,
                **({"ECS_TASK_ROLE_NAME": f"R{n}"} if roles else {}),
            }
            args += ["--iam-env-file", env_file(suite.path, f"{prefix}-{n}", **values)]
    return args


def run_shards(
    suite: pytest.Pytester,
    args: Sequence[str],
    count: int,
    only: Sequence[int] = (),
    **extra: Sequence[str],
) -> list[pytest.RunResult]:
    """Each shard of the run (``only`` those), its reports in ``shard-<i>``;
    ``extra['s<i>']``: more options for shard i."""
    return [
        suite.runpytest(
            *args,
            "--iam-shard",
            f"{n}/{count}",
            "-o",
            f"iam_compliance_reports=shard-{n}",
            *extra.get(f"s{n}", ()),
        )
        for n in (only or range(1, count + 1))
    ]


def merge(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str], *shards: str
) -> tuple[int, str, str]:
    code = main(["merge", *(str(suite.path / s) for s in shards), "--output", "merged"])
    out, err = capsys.readouterr()
    return code, out, err


def report(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "compliance.json").read_text())
    return document


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """compliance.json without what differs from run to run: times, shards, moto's ids."""
    found = {k: v for k, v in document.items() if k not in ("generated_at", "shard", "merged")}
    for target in found["targets"]:
        for entry in target["request_context"]:
            if entry["key"] in RUN_SPECIFIC:
                entry["values"] = []
    return found


def normalised_xml(path: Path) -> str:
    text = path.read_text()
    return re.sub(r' (time|timestamp|hostname)="[^"]*"', "", text)


def page(path: Path) -> tuple[str, dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    found = re.search(r'data-jsonblob="([^"]*)"', text)
    assert found, path
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    for rows in data["tests"].values():
        for row in rows:
            row.pop("duration")
            row["resultsTableRow"] = [
                cell for cell in row["resultsTableRow"] if 'class="col-duration"' not in cell
            ]
    return text, data


def node_ids(document: dict[str, Any]) -> list[str]:
    return [test["nodeid"] for test in document["tests"]]


# ------------------------------------------------------------------------ bad values


@pytest.mark.parametrize(
    ("value", "why"),
    [
        pytest.param("0/3", "I must be from 1 to 3", id="zero"),
        pytest.param("4/3", "I must be from 1 to 3", id="past-the-last"),
        pytest.param("x", "", id="not-a-fraction"),
    ],
)
def test_a_bad_shard_is_a_usage_error_every_report_states(
    suite: pytest.Pytester, value: str, why: str
) -> None:
    result = suite.runpytest(f"--iam-shard={value}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    message = f"--iam-shard '{value}': expected I/N, shard I of N counted from 1, such as 2/4"
    result.stderr.fnmatch_lines([f"ERROR: {message}*{why}"])
    assert message in report(suite.path / "reports")["error"]["message"]


# ------------------------------------------------------------- shards and their merge


def test_the_merged_reports_are_those_of_one_run_over_every_target(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    suite.makepyfile(**{"tests/test_other.py": OTHER_TESTS})
    args = mock_targets(suite, [("dev", DEV, 3), ("prod", PROD, 2), ("qa", QA, 1)])
    single = suite.runpytest(*args, "-o", "iam_compliance_reports=single")
    shards = run_shards(suite, args, 3)
    code, out, _ = merge(suite, capsys, "shard-1", "shard-2", "shard-3")

    # Each account in one shard, the largest first; every target checked once.
    assert [report(suite.path / f"shard-{n}")["shard"]["targets"] for n in (1, 2, 3)] == [
        ["dev-0", "dev-1", "dev-2"],
        ["prod-0", "prod-1"],
        ["qa-0"],
    ]
    ran = [set(node_ids(report(suite.path / f"shard-{n}"))) for n in (1, 2, 3)]
    others = {n for n in ran[0] if "test_other.py" in n}
    assert len(others) == 4
    assert all(others <= found for found in ran)
    suite_tests = [found - others for found in ran]
    assert sum(len(found) for found in suite_tests) == len(set().union(*suite_tests)) == 60
    assert [result.ret for result in shards] == [1, 1, 1]
    assert single.ret == code == 1

    merged, alone = suite.path / "merged", suite.path / "single"
    assert normalised(report(merged)) == normalised(report(alone))
    assert node_ids(report(merged)) == node_ids(report(alone))
    assert report(merged)["merged"]["missing"] == []
    assert normalised_xml(merged / "compliance.xml") == normalised_xml(alone / "compliance.xml")
    merged_text, merged_page = page(merged / "compliance.html")
    _, alone_page = page(alone / "compliance.html")
    assert merged_page["tests"] == alone_page["tests"]
    assert merged_page["title"] == alone_page["title"]
    environment = ("Mode", "Targets", "Accounts", "Regions", "iam-compliance version")
    assert {k: merged_page["environment"][k] for k in environment} == {
        k: alone_page["environment"][k] for k in environment
    }
    assert "Merged</strong> from 3 of 3 shards" in merged_text
    assert "iam-compliance merge: NOT COMPLIANT (exit code 1): 3 of 3 shard(s) merged" in out


def test_an_empty_shard_has_nothing_to_check(suite: pytest.Pytester) -> None:
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)])
    [empty] = run_shards(suite, args, 3, only=(3,))

    assert empty.ret == pytest.ExitCode.OK
    empty.stdout.fnmatch_lines(
        [
            "iam-compliance: shard 3 of 3: nothing to check in this shard: the run's 2 "
            "target(s) are checked by 2 shard(s), each account by one",
            "*10 deselected*",
        ]
    )
    document = report(suite.path / "shard-3")
    assert (document["shard"]["targets"], document["tests"], document["exit_status"]) == ([], [], 0)
    assert document["compliant"] is False  # it vouches for nothing
    text, data = page(suite.path / "shard-3" / "compliance.html")
    assert data["title"] == "IAM compliance: nothing to check in shard 3 of 3 (MOCK)"
    assert "nothing to check in this shard</strong>" in text
    # The merge counts it as present: test_the_merged_sarif_is_one_run_of_every_shards_results.


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "extra", "shard_codes", "merged_code"),
    [
        pytest.param("compliant", {}, [0, 0], 0, id="all-green"),
        pytest.param("dev-only", {}, [0, 1], 1, id="one-failing"),
        pytest.param("compliant", {"s2": ["-k", "not Scan"]}, [0, 4], 4, id="one-could-not-check"),
    ],
)
def test_exit_statuses_combine(
    suite: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],
    policy: str,
    extra: dict[str, list[str]],
    shard_codes: list[int],
    merged_code: int,
) -> None:
    # dev-only: the compliant policy, its table ARN in account DEV (not PROD's table).
    document = compliant_policy() if policy == "compliant" else _in(compliant_policy(), DEV)
    (suite.path / "policy.json").write_text(json.dumps(document))
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)])
    if policy == "compliant":
        args += ["--iam-policy-file", "fixtures/policies/compliant_task_policy.json"]
    else:
        args += ["--iam-policy-file", "policy.json"]
    shards = run_shards(suite, args, 2, **extra)
    code, _, err = merge(suite, capsys, "shard-1", "shard-2")

    assert [result.ret for result in shards] == shard_codes
    merged = report(suite.path / "merged")
    assert code == merged_code == merged["exit_status"]
    assert merged["compliant"] is (merged_code == 0)
    if merged_code == 4:
        assert "was partial: 9 of 10 checks ran" in err
        assert merged["checks"] == {"ran": 19, "expected": 20}


def _edited(path: Path, edit: Any) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _passing_reports(document: dict[str, Any]) -> None:
    """Each failed call report edited to have passed, the tests' outcomes left failed."""
    for test in document["tests"]:
        for phase in test["reports"]:
            phase["outcome"], phase["longrepr"], phase["message"] = "passed", None, None


@pytest.mark.parametrize(
    ("shard", "edit", "why"),
    [
        pytest.param(
            1,
            lambda d: d.update(exit_status=1),
            "shard 1 of 2 ({path}) ended with exit code 1, but none of its tests failed",
            id="exit-status-edited",
        ),
        pytest.param(
            2,
            _passing_reports,
            "::test_task_role_has_all_required_permissions[prod-0]: its shard's report "
            "says failed, but the reports written down for it say passed",
            id="reports-edited",
        ),
    ],
)
def test_a_shard_report_that_does_not_add_up_is_never_a_pass(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str], shard: int, edit: Any, why: str
) -> None:
    """Shard 1 passes (the policy grants account DEV's table), shard 2 fails; a report
    edited so that it no longer adds up must not make the merge a pass."""
    (suite.path / "policy.json").write_text(json.dumps(_in(compliant_policy(), DEV)))
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)])
    run_shards(suite, [*args, "--iam-policy-file", "policy.json"], 2)
    path = suite.path / f"shard-{shard}" / "compliance.json"
    _edited(path, edit)

    code, _, err = merge(suite, capsys, "shard-1", "shard-2")

    assert code == 4
    assert why.format(path=path) in err


def test_a_missing_shard_could_not_be_checked_in_every_merged_report(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1), ("qa", QA, 1)])
    run_shards(suite, args, 3, only=(1, 3))
    code, _out, err = merge(suite, capsys, "shard-1", "shard-3")

    assert code == 4
    why = (
        "shard 2 of 3 missing (no readable compliance.json of it among the inputs): could not "
        "check its targets: prod-0"
    )
    assert f"iam-compliance merge: COULD NOT CHECK: {why}" in err
    merged = suite.path / "merged"
    document = report(merged)
    assert (document["error"]["message"], document["merged"]["missing"]) == (why, [2])
    assert (document["complete"], document["checks"]) == (False, {"ran": 20, "expected": 30})
    case = (
        ET.parse(merged / "compliance.xml").getroot().find(".//testcase[@name='could not check']")
    )
    assert case is not None
    assert case.find("error") is not None
    assert case.find("error").get("message") == why  # type: ignore[union-attr]
    text, _ = page(merged / "compliance.html")
    assert "COULD NOT CHECK" in text
    assert html.escape(why) in text
    assert "Missing: shard 2</span>" in text


def test_shards_of_two_runs_are_refused_naming_the_files(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)])
    run_shards(suite, args, 2, only=(1,))
    suite.runpytest(*args[:2], "--iam-shard", "1/1", "-o", "iam_compliance_reports=other")

    code, _, err = merge(suite, capsys, "shard-1", "other")

    assert code == 4
    first, other = suite.path / "shard-1" / "compliance.json", suite.path / "other/compliance.json"
    assert (
        "these reports are not shards of one run: they differ in shard count: "
        f"2 in {first}; 1 in {other}"
    ) in err
    document = report(suite.path / "merged")
    assert document["exit_status"] == 4
    assert str(first) in document["error"]["message"]


def test_a_corrupted_report_is_named_and_its_shard_could_not_be_checked(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)])
    run_shards(suite, args, 2)
    path = suite.path / "shard-2" / "compliance.json"
    path.write_text(path.read_text()[:500])

    code, _, err = merge(suite, capsys, "shard-1", "shard-2")

    assert code == 4
    assert f"COULD NOT CHECK: {path}: line " in err
    assert ": not JSON (" in err
    assert "shard 2 of 2 missing" in err


def test_the_merged_sarif_is_one_run_of_every_shards_results(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    # The template names the runbook's role: one target per account.
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1), ("qa", QA, 1)], roles=False)
    args += ["--iam-policy-file", "fixtures/iac/task-role.template.json"]
    suite.runpytest(*args, "-o", "iam_compliance_reports=single")
    run_shards(suite, args, 4)  # shard 4 has no target, and writes no log
    code, _out, _ = merge(suite, capsys, "shard-1", "shard-2", "shard-3", "shard-4")

    assert code == 1
    assert report(suite.path / "merged")["merged"]["missing"] == []  # the empty shard counts
    assert not (suite.path / "shard-4" / "compliance.sarif").exists()
    merged = json.loads((suite.path / "merged" / "compliance.sarif").read_text())
    jsonschema.validate(merged, SCHEMA)
    alone = json.loads((suite.path / "single" / "compliance.sarif").read_text())
    [run], [alone_run] = merged["runs"], alone["runs"]
    fingerprints = sorted(r["partialFingerprints"]["iamCompliance/v1"] for r in run["results"])
    assert fingerprints == sorted(
        r["partialFingerprints"]["iamCompliance/v1"] for r in alone_run["results"]
    )
    assert len(fingerprints) > 3
    assert run["tool"] == alone_run["tool"]


def test_no_merged_sarif_without_every_shard(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)], roles=False)
    args += ["--iam-policy-file", "fixtures/iac/task-role.template.json"]
    run_shards(suite, args, 2, only=(1,))
    (suite.path / "merged").mkdir()
    (suite.path / "merged" / "compliance.sarif").write_text("{}")  # an earlier merge's

    code, out, _ = merge(suite, capsys, "shard-1")

    assert code == 4
    assert not (suite.path / "merged" / "compliance.sarif").exists()
    assert "no compliance.sarif written: not every shard checked everything" in out


# ------------------------------------------------------------------- live, one reader


def live_env(
    suite: pytest.Pytester, server: MotoServer, name: str, account: str, **values: str
) -> str:
    creds = server.session(account).get_credentials()
    assert creds is not None
    return env_file(
        suite.path,
        name,
        AWS_ACCOUNT_ID=account,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_SESSION_TOKEN=creds.token or "",
        AWS_ENDPOINT_URL=server.url,
        **values,
    )


@pytest.mark.slow
def test_each_account_is_read_by_one_shard_only(
    suite: pytest.Pytester, moto_server: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--aws-mode", "live"]
    for account, roles in ((DEV, 2), (PROD, 1), (QA, 1)):
        document = compliant_policy() if account == QA else runbook_policy()
        moto_server.seed(account=account, managed=_in(document, account))
        iam = moto_server.iam(account)
        for n in range(roles):
            role = "MLPlatformECSTaskRole" if n == 0 else f"Worker{n}"
            if n:  # another role of the account, with the task policy
                iam.create_role(
                    RoleName=role, AssumeRolePolicyDocument=json.dumps(ecs_trust_policy())
                )
                iam.attach_role_policy(
                    RoleName=role,
                    PolicyArn=f"arn:aws:iam::{account}:policy/MLPlatformECSTaskPolicy",
                )
            path = live_env(
                suite, moto_server, f"a{account[0]}-{n}", account, ECS_TASK_ROLE_NAME=role
            )
            args += ["--iam-env-file", path]
    single = suite.runpytest(*args, "-o", "iam_compliance_reports=single")
    read: list[set[str]] = []
    for n in (1, 2, 3):
        moto_server.call("DELETE", "/_selftest/requests")
        suite.runpytest(*args, "--iam-shard", f"{n}/3", "-o", f"iam_compliance_reports=shard-{n}")
        read.append({account for account, _ in moto_server.requests_by_account()})

    assert read == [{DEV}, {PROD}, {QA}]  # each account read by one shard, and only it
    code, _, _ = merge(suite, capsys, "shard-1", "shard-2", "shard-3")
    assert code == single.ret == 1
    assert normalised(report(suite.path / "merged")) == normalised(report(suite.path / "single"))


def _in(document: dict[str, Any], account: str) -> dict[str, Any]:
    return json.loads(json.dumps(document).replace("618574523116", account))  # type: ignore[no-any-return]


def test_a_shard_under_xdist_merges_in_the_order_of_a_run(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """pytest-xdist's workers report in any order; the shard writes its tests down in the
    order they were collected, so the merge lists them as a run without -n does."""
    args = mock_targets(suite, [("dev", DEV, 1), ("prod", PROD, 1)])
    suite.runpytest(*args, "-o", "iam_compliance_reports=single")
    suite.runpytest_subprocess(
        *args, "--iam-shard=1/1", "-o", "iam_compliance_reports=shard-1", "-p", "xdist", "-n", "2"
    )
    code, _, _ = merge(suite, capsys, "shard-1")

    assert code == 1
    assert node_ids(report(suite.path / "shard-1")) == node_ids(report(suite.path / "single"))
    assert normalised(report(suite.path / "merged")) == normalised(report(suite.path / "single"))
