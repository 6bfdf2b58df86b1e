"""Several --iam-env-file targets in one run: ids, verdicts per account, xdist, --fix."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from iam_compliance.aws.translate import MAX_ATTEMPTS

from conftest import (
    ACCOUNT,
    CLASS,
    ONE_POLICY,
    REGION,
    MotoServer,
    compliant_policy,
    ecs_trust_policy,
    runbook_policy,
)

DEV, PROD = "111111111111", "222222222222"


def write_env(pytester: pytest.Pytester, name: str, **values: str) -> str:
    path = pytester.path / "envs" / f"{name}.env"
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return str(path.relative_to(pytester.path))


def live_env(pytester: pytest.Pytester, server: MotoServer, name: str, account: str) -> str:
    creds = server.session(account).get_credentials()
    assert creds is not None
    return write_env(
        pytester,
        name,
        AWS_ACCOUNT_ID=account,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_SESSION_TOKEN=creds.token or "",
        AWS_ENDPOINT_URL=server.url,
    )


def failed(result: pytest.RunResult) -> set[str]:
    return {line.split(" ")[1] for line in result.outlines if line.startswith("FAILED ")}


def test_mock_targets_are_named_in_node_ids(suite: pytest.Pytester) -> None:
    dev = write_env(suite, "dev", AWS_ACCOUNT_ID=DEV)
    prod = write_env(suite, "prod", AWS_ACCOUNT_ID=PROD, AWS_REGION="eu-west-1")
    result = suite.runpytest("--iam-env-file", dev, "--iam-env-file", prod, "-rf")
    result.assert_outcomes(passed=12, failed=8)
    assert f"{CLASS}::test_required_action_is_allowed[prod-dynamodb:Scan]" in failed(result)
    assert f"{CLASS}::test_task_role_has_all_required_permissions[dev]" in failed(result)
    result.stdout.fnmatch_lines(
        [
            f"  target dev: account {DEV}, region us-east-1*",
            f"  target prod: account {PROD}, region eu-west-1*",
            f"*arn:aws:dynamodb:eu-west-1:{PROD}:table/ml-jobs (target prod)",
        ]
    )


def test_live_targets_each_get_their_own_verdicts(
    suite: pytest.Pytester, moto_server: MotoServer
) -> None:
    moto_server.seed(account=DEV, managed=_for_account(compliant_policy(), DEV))
    moto_server.seed(account=PROD, managed=_for_account(runbook_policy(), PROD))
    dev = live_env(suite, moto_server, "dev", DEV)
    prod = live_env(suite, moto_server, "prod", PROD)
    result = suite.runpytest("--aws-mode", "live", "--iam-env-file", dev, "--iam-env-file", prod)
    assert failed(result) == {
        f"{CLASS}::test_task_role_has_all_required_permissions[prod]",
        *(
            f"{CLASS}::test_required_action_is_allowed[prod-dynamodb:{a}]"
            for a in ("Scan", "Query", "DescribeTable")
        ),
    }


@pytest.mark.slow
def test_live_targets_are_read_several_at_once_with_the_same_verdicts(
    suite: pytest.Pytester, moto_server: MotoServer
) -> None:
    accounts = (DEV, PROD, "333333333333", "444444444444")
    options = ["--aws-mode", "live", "-rf"]
    for n, account in enumerate(accounts):
        document = compliant_policy() if n % 2 else runbook_policy()
        moto_server.seed(account=account, managed=_for_account(document, account))
        options += ["--iam-env-file", live_env(suite, moto_server, f"t{n}", account)]
    # A round trip as long as a real endpoint's, so that reads overlap if they can.
    moto_server.delay(0.2)
    moto_server.call("DELETE", "/_selftest/requests")

    at_once = suite.runpytest(*options)
    most_at_once = moto_server.delay(0.2)
    at_once_requests = Counter(moto_server.requests())
    moto_server.call("DELETE", "/_selftest/requests")
    one_by_one = suite.runpytest(*options, "-o", "iam_compliance_read_concurrency=1")
    most_one_by_one = moto_server.delay(0)

    assert most_at_once > 1
    assert most_one_by_one == 1
    assert failed(at_once) == failed(one_by_one)
    assert failed(at_once) == {
        f"{CLASS}::test_{name}[{target}{suffix}]"
        for target in ("t0", "t2")
        for name, suffix in [
            ("task_role_has_all_required_permissions", ""),
            *(
                ("required_action_is_allowed", f"-dynamodb:{a}")
                for a in ("Scan", "Query", "DescribeTable")
            ),
        ]
    }
    # Each target still read once, and each entity once.
    assert at_once_requests == Counter(moto_server.requests())
    assert at_once_requests == Counter({a: n * 4 for a, n in ONE_POLICY.items()})


def test_unreadable_targets_error_their_own_tests_and_are_all_named(
    suite: pytest.Pytester, moto_server: MotoServer
) -> None:
    moto_server.seed(account=DEV, managed=_for_account(runbook_policy(), DEV))
    options = ["--aws-mode", "live", "-rA"]
    # Credentials of accounts where nothing was seeded: their roles do not exist.
    for name, account in (("ghost", "555555555555"), ("dev", DEV), ("later", "666666666666")):
        options += ["--iam-env-file", live_env(suite, moto_server, name, account)]
    result = suite.runpytest(*options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # The readable target is checked all the same: its verdicts stand.
    assert f"{CLASS}::test_required_action_is_allowed[dev-dynamodb:Scan]" in failed(result)
    passed = {line.split(" ")[1] for line in result.outlines if line.startswith("PASSED ")}
    assert f"{CLASS}::test_required_action_is_allowed[dev-dynamodb:GetItem]" in passed
    errors = {line.split(" ")[1] for line in result.outlines if line.startswith("ERROR ")}
    assert f"{CLASS}::test_required_action_is_allowed[ghost-dynamodb:GetItem]" in errors
    assert f"{CLASS}::test_required_action_is_allowed[later-dynamodb:GetItem]" in errors
    result.stdout.fnmatch_lines(
        [
            "ERROR: target ghost: *MLPlatformECSTaskRole*not found*",
            "ERROR: target later: *MLPlatformECSTaskRole*not found*",
        ]
    )
    document = json.loads((suite.path / "reports" / "compliance.json").read_text())
    assert (document["exit_status"], document["compliant"]) == (4, False)
    assert [t["name"] for t in document["targets"]] == ["dev"]
    assert "target ghost" in document["error"]["message"]
    assert "target later" in document["error"]["message"]


def test_no_readable_target_stops_with_each_one_named(
    suite: pytest.Pytester, moto_server: MotoServer
) -> None:
    options = ["--aws-mode", "live"]
    for name, account in (("ghost", "555555555555"), ("later", "666666666666")):
        options += ["--iam-env-file", live_env(suite, moto_server, name, account)]
    result = suite.runpytest(*options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: target ghost: *not found*", "target later: *not found*"])


def test_mock_targets_of_one_account_share_it(suite: pytest.Pytester) -> None:
    one = write_env(suite, "one", AWS_ACCOUNT_ID=DEV)
    two = write_env(suite, "two", AWS_ACCOUNT_ID=DEV)
    result = suite.runpytest("--iam-env-file", one, "--iam-env-file", two)
    result.assert_outcomes(passed=12, failed=8)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.slow
def test_xdist_reads_each_target_once(suite: pytest.Pytester, moto_server: MotoServer) -> None:
    names = {}
    for n, account in enumerate((DEV, PROD, "333333333333", "444444444444")):
        moto_server.seed(account=account, managed=_for_account(runbook_policy(), account))
        names[f"env{n}"] = live_env(suite, moto_server, f"env{n}", account)
    moto_server.call("DELETE", "/_selftest/requests")
    args = [a for path in names.values() for a in ("--iam-env-file", path)]
    result = suite.runpytest_subprocess("--aws-mode", "live", *args, "-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=24, failed=16)
    assert Counter(moto_server.requests()) == Counter({k: 4 * v for k, v in ONE_POLICY.items()})


def test_fix_fixes_each_target_with_its_own_record(
    suite: pytest.Pytester, moto_server: MotoServer
) -> None:
    for account in (DEV, PROD):
        moto_server.seed(account=account, managed=_for_account(runbook_policy(), account))
    dev = live_env(suite, moto_server, "dev", DEV)
    prod = live_env(suite, moto_server, "prod", PROD)
    result = suite.runpytest(
        "--aws-mode", "live", "--iam-env-file", dev, "--iam-env-file", prod, "--fix"
    )
    result.assert_outcomes(passed=20)
    records = sorted((suite.path / "reports").glob("remediation-*.json"))
    assert [p.name.rsplit("-", 1)[1] for p in records] == ["dev.json", "prod.json"]
    for path, account in zip(records, (DEV, PROD), strict=True):
        record = json.loads(path.read_text())
        assert record["account"] == account
        assert record["new_version"]["version_id"] == "v2"


def _for_account(document: dict[str, object], account: str) -> dict[str, object]:
    return json.loads(json.dumps(document).replace(ACCOUNT, account))  # type: ignore[no-any-return]


# --------------------------------------------------- many targets in one account: one sweep

#: What a live run sends for any number (two or more) of targets in one account read through
#: one set of credentials: the sweep, and everything else once.
ONE_ACCOUNT = Counter(
    {
        "sts:GetCallerIdentity": 1,
        "iam:GetAccountAuthorizationDetails": 1,  # moto answers in one page
        "dynamodb:ListTagsOfResource": 1,
        "dynamodb:GetResourcePolicy": 1,
        "dynamodb:DescribeTable": 1,
        "organizations:DescribeOrganization": 1,
    }
)


def roles_in_one_account(
    suite: pytest.Pytester, server: MotoServer, count: int, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """``count`` roles in account DEV sharing the task policy, the even ones compliant
    through an inline policy; one env file per role; the run's credentials are DEV's."""
    server.seed(account=DEV, managed=_for_account(runbook_policy(), DEV))
    iam = server.iam(DEV)
    shared = f"arn:aws:iam::{DEV}:policy/MLPlatformECSTaskPolicy"
    missing = {
        "Effect": "Allow",
        "Action": ["dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable"],
        "Resource": f"arn:aws:dynamodb:{REGION}:{DEV}:table/ml-jobs",
    }
    args = []
    for n in range(count):
        role = f"Worker{n}"
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(ecs_trust_policy()))
        iam.attach_role_policy(RoleName=role, PolicyArn=shared)
        if n % 2 == 0:
            document = {"Version": "2012-10-17", "Statement": [missing]}
            iam.put_role_policy(
                RoleName=role, PolicyName="Jobs", PolicyDocument=json.dumps(document)
            )
        args += [
            "--iam-env-file",
            write_env(suite, f"w{n}", AWS_ACCOUNT_ID=DEV, ECS_TASK_ROLE_NAME=role),
        ]
    server.use(monkeypatch, DEV)
    return args


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 7])
def test_many_targets_in_one_account_are_read_with_one_sweep(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    args = roles_in_one_account(suite, moto_server, count, monkeypatch)
    moto_server.call("DELETE", "/_selftest/requests")

    result = suite.runpytest("--aws-mode", "live", *args)

    assert Counter(moto_server.requests()) == ONE_ACCOUNT
    assert failed(result) == {
        f"{CLASS}::test_{name}[w{n}{suffix}]"
        for n in range(1, count, 2)
        for name, suffix in [
            ("task_role_has_all_required_permissions", ""),
            *(
                ("required_action_is_allowed", f"-dynamodb:{a}")
                for a in ("Scan", "Query", "DescribeTable")
            ),
        ]
    }
    result.stdout.fnmatch_lines(
        [
            f"iam-compliance: live account {DEV}: {count} target(s), read one "
            "iam:GetAccountAuthorizationDetails sweep, 1 page(s)"
        ]
    )


def test_the_sweep_and_the_role_by_role_reads_give_the_same_verdicts(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = roles_in_one_account(suite, moto_server, 2, monkeypatch)
    swept = suite.runpytest("--aws-mode", "live", *args)
    for n in range(2):
        alone = suite.runpytest("--aws-mode", "live", *args[2 * n : 2 * n + 2])
        alone.stdout.fnmatch_lines(
            [f"iam-compliance: live account {DEV}: 1 target(s), read role by role"]
        )
        # w0's tests in the swept run, named as a run of w0 alone names them
        own = {
            nodeid.replace(f"[w{n}-", "[").replace(f"[w{n}]", "")
            for nodeid in failed(swept)
            if f"[w{n}" in nodeid
        }
        assert own == failed(alone)


def test_a_denied_sweep_reads_the_account_role_by_role(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = roles_in_one_account(suite, moto_server, 4, monkeypatch)
    moto_server.inject("iam:GetAccountAuthorizationDetails", "AccessDenied")
    moto_server.call("DELETE", "/_selftest/requests")

    result = suite.runpytest("--aws-mode", "live", *args)

    counts = Counter(moto_server.requests())
    assert counts["iam:GetAccountAuthorizationDetails"] == 1  # asked once, not per target
    assert counts["iam:GetRole"] == 4
    assert {f for f in failed(result) if "all_required" in f} == {
        f"{CLASS}::test_task_role_has_all_required_permissions[w{n}]" for n in (1, 3)
    }
    result.stdout.fnmatch_lines(
        [
            f"iam-compliance: live account {DEV}: 4 target(s), read role by role "
            "(iam:GetAccountAuthorizationDetails was denied: *"
        ]
    )


def test_a_failing_sweep_is_asked_once_and_fails_every_target_of_the_account(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = roles_in_one_account(suite, moto_server, 3, monkeypatch)
    moto_server.inject("iam:GetAccountAuthorizationDetails", "InternalError")
    moto_server.call("DELETE", "/_selftest/requests")

    result = suite.runpytest("--aws-mode", "live", *args)

    assert result.ret == 4  # could not check
    sweeps = Counter(moto_server.requests())["iam:GetAccountAuthorizationDetails"]
    assert sweeps == MAX_ATTEMPTS  # one sweep and its retries, for the three targets
    for n in range(3):
        result.stderr.fnmatch_lines(
            [f"*target w{n}: iam:GetAccountAuthorizationDetails on account {DEV} failed after*"]
        )


def test_the_header_summarises_more_targets_than_it_lists(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = roles_in_one_account(suite, moto_server, 11, monkeypatch)
    other = write_env(
        suite,
        "other",
        AWS_ACCOUNT_ID=DEV,
        ECS_TASK_ROLE_NAME="Worker0",
        ECS_TASK_POLICY_NAME="NotAttachedPolicy",
    )

    result = suite.runpytest("--aws-mode", "live", *args, "--iam-env-file", other)

    header = [line for line in result.outlines if line.startswith("iam-compliance: ")]
    assert not [line for line in header if " with MLPlatformECSTaskPolicy " in line]
    result.stdout.fnmatch_lines(
        [
            f"iam-compliance: live account {DEV}: 12 target(s), read one *sweep, 1 page(s)",
            "iam-compliance: task policy NOT ATTACHED in 1 target(s): other",
            "iam-compliance: guardrails*(12 target(s))",
        ]
    )


def test_the_header_lists_each_of_a_few_targets(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = roles_in_one_account(suite, moto_server, 2, monkeypatch)
    result = suite.runpytest("--aws-mode", "live", *args)
    result.stdout.fnmatch_lines(
        [
            f"iam-compliance: live account {DEV}: arn:aws:iam::{DEV}:role/Worker{n} with "
            "MLPlatformECSTaskPolicy default version v1, read through *"
            for n in range(2)
        ]
    )


def test_fix_fixes_several_targets_read_from_one_sweep(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two roles of one account, each with a policy of its own: the sweep reads both, the
    fix writes each policy, and the checks after the fix read the account again."""
    moto_server.seed(account=DEV, managed=_for_account(runbook_policy(), DEV))
    iam = moto_server.iam(DEV)
    iam.create_role(RoleName="Trainer", AssumeRolePolicyDocument=json.dumps(ecs_trust_policy()))
    arn = iam.create_policy(
        PolicyName="TrainerPolicy",
        PolicyDocument=json.dumps(_for_account(runbook_policy(), DEV)),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="Trainer", PolicyArn=arn)
    moto_server.use(monkeypatch, DEV)
    envs = [
        "--iam-env-file",
        write_env(suite, "task", AWS_ACCOUNT_ID=DEV),
        "--iam-env-file",
        write_env(
            suite,
            "trainer",
            AWS_ACCOUNT_ID=DEV,
            ECS_TASK_ROLE_NAME="Trainer",
            ECS_TASK_POLICY_NAME="TrainerPolicy",
        ),
    ]

    result = suite.runpytest("--aws-mode", "live", *envs, "--fix")

    result.assert_outcomes(passed=20)
    result.stdout.fnmatch_lines([f"iam-compliance: live account {DEV}: 2 target(s), read one *"])
    assert moto_server.versions(arn, DEV) == ["v1", "v2"]
    again = suite.runpytest("--aws-mode", "live", *envs)
    again.assert_outcomes(passed=20)


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["one-process", "xdist"])
def test_mock_targets_with_roles_of_their_own_in_one_account(
    suite: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    """The embedded account is read whole (one sweep) and holds every role of the run,
    whichever target a process reads first."""
    args = []
    for n in range(3):
        env = write_env(suite, f"r{n}", AWS_ACCOUNT_ID=DEV, ECS_TASK_ROLE_NAME=f"Role{n}")
        args += ["--iam-env-file", env]
    result = suite.runpytest_subprocess(*args, *xdist)
    result.assert_outcomes(passed=18, failed=12)
