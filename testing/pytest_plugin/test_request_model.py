"""Issue 10's examples, end to end: each verdict and its reason, in mock and in live mode.

Every example runs the real suite twice: in mock mode, with the task policy from
``--iam-policy-file`` and the rest from ``fixtures/`` (``tags.toml``,
``table_resource_policy.json``, ``policies/boundary.json``, the trust policy), and in live
mode against the moto server seeded with the same role tags, table tags, table resource
policy, boundary and trust policy. Both must fail exactly the expected tests, and give the
expected reason in compliance.json and in the failure message.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from conftest import (
    ACCOUNT,
    CLASS,
    REQUIRED,
    ROLE_ARN,
    TABLE_ARN,
    VPC_ENDPOINT,
    MotoServer,
    ServerAccount,
    action_id,
    compliant_policy,
    ecs_trust_policy,
    runbook_policy,
    task_policy,
    write_policy,
)

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER = "111122223333"
ECS = "ecs-tasks.amazonaws.com"
BY_STATUS = f"{TABLE_ARN}/index/by-status"
#: The whole-role tests, by a short name.
WHOLE = {
    "all": f"{CLASS}::test_task_role_has_all_required_permissions",
    "trust": f"{CLASS}::test_task_role_trusts_ecs_tasks",
    "least": f"{CLASS}::test_dynamodb_access_is_least_privilege",
}
#: Scan, Query and DescribeTable: what the runbook's policy lacks.
JOBS = ["dynamodb:Scan", "dynamodb:Query", "dynamodb:DescribeTable"]


@dataclass(frozen=True)
class World:
    """One account state, seeded alike in the mock account and on the moto server."""

    #: The task policy (MLPlatformECSTaskPolicy v1).
    policy: dict[str, Any]
    #: The tests expected to fail: a key of WHOLE, or a requirement id.
    failing: frozenset[str]
    #: Requirement id -> fnmatch pattern of its compliance.json reason (and failure message).
    reasons: Mapping[str, str] = field(default_factory=dict)
    #: Requirement id -> its compliance.json verdict.
    verdicts: Mapping[str, str] = field(default_factory=dict)
    #: Requirement id -> evidence compliance.json must list: "kind policy, statement".
    evidence: Mapping[str, str] = field(default_factory=dict)
    #: The trust check's message.
    trust_message: str | None = None
    table_policy: dict[str, Any] | None = None
    role_tags: dict[str, str] = field(default_factory=dict)
    table_tags: dict[str, str] = field(default_factory=dict)
    boundary: dict[str, Any] | None = None
    trust: dict[str, Any] | None = None
    #: fixtures/request_context.toml, if any.
    declared: str | None = None
    #: fixtures/required_actions.toml, if not the suite's own.
    requirements: str | None = None
    #: --iam-context values.
    context: tuple[str, ...] = ()

    def nodeids(self) -> set[str]:
        return {WHOLE[name] if name in WHOLE else action_id(name) for name in self.failing}


def statement(effect: str, actions: Any, resource: Any = TABLE_ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resource, **extra}


def with_statements(base: dict[str, Any], *statements: dict[str, Any]) -> dict[str, Any]:
    return task_policy(*base["Statement"], *statements)


def denied_when(sid: str, condition: dict[str, Any]) -> World:
    """A compliant policy with a Deny of dynamodb:* under ``condition``: denied throughout."""
    deny = statement("Deny", "dynamodb:*", "*", Sid=sid, Condition=condition)
    return World(
        with_statements(compliant_policy(), deny),
        frozenset({"all", *REQUIRED}),
        reasons={
            action: f"{action} is explicitly denied by MLPlatformECSTaskPolicy v1, "
            f'statement "{sid}"'
            for action in REQUIRED
        },
        verdicts=dict.fromkeys(REQUIRED, "denied"),
    )


def granted_when(condition: dict[str, Any]) -> dict[str, Any]:
    """The runbook's policy, plus Scan, Query and DescribeTable under ``condition``."""
    return with_statements(
        runbook_policy(), statement("Allow", JOBS, Sid="Jobs", Condition=condition)
    )


def grant_to(
    principal: Any, sid: str = "Grant", effect: str = "Allow", **extra: Any
) -> dict[str, Any]:
    """The table's resource policy with one statement for ``principal``."""
    return task_policy(statement(effect, JOBS, Sid=sid, Principal=principal, **extra))


REGION_EU = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
IN_VPCE = {"StringEquals": {"aws:SourceVpce": VPC_ENDPOINT}}
DENIED_JOBS = frozenset({"all", *JOBS})
ONLY_BASICS = task_policy(
    statement("Allow", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], "*")
)
BY_PROJECT = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/${{aws:PrincipalTag/project}}"
NOT_ALLOWED_BY_PROJECT = (
    "{action} is not allowed: no statement in MLPlatformECSTaskPolicy v1 allows it on "
    f'{TABLE_ARN} (MLPlatformECSTaskPolicy v1, statement "ByProject" names '
    "${{aws:PrincipalTag/project}}, which has no value in this request, so its Resource "
    "matches nothing)"
)


def trusting(principal: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    """A trust policy statement about sts:AssumeRole for ``principal``."""
    return {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole", **extra}


SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
SOURCE_ARN = {"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:*"}}
INDEX_REQUIREMENTS = "".join(
    f'[[action]]\nname = "dynamodb:Query"\nreason = "{reason}"\n{resource}\n'
    for reason, resource in (
        ("Query jobs", ""),
        ("Query jobs by status", 'resource = "index/by-status"\n'),
        ("Query any index", 'resource = "index/*"\n'),
    )
)


def each(pattern: str, actions: list[str] = JOBS) -> dict[str, str]:
    return {action: pattern.format(action=action) for action in actions}


WORLDS: dict[str, World] = {
    # --- a Deny on a key IAM always sets (each was a false pass) ------------------------
    "deny-on-requested-region": denied_when(
        "Region", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    ),
    "deny-on-via-aws-service-false": denied_when(
        "NotViaService", {"Bool": {"aws:ViaAWSService": "false"}}
    ),
    "deny-after-current-time": denied_when(
        "Expired", {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
    ),
    "deny-on-principal-arn": denied_when(
        "Platform", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/MLPlatform*"}}
    ),
    # a role session's requests carry aws:MultiFactorAuthPresent, false without MFA
    "deny-without-mfa": denied_when("NoMfa", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
    # --- grants under a condition: the reason names the statement and the condition -----
    "grant-in-this-region": World(
        granted_when({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
        frozenset(),
        reasons=each(
            '{action} is allowed by MLPlatformECSTaskPolicy v1, statement "Jobs" '
            "(its conditions on aws:RequestedRegion hold)"
        ),
        verdicts=dict.fromkeys(JOBS, "conditional"),
    ),
    "grant-in-another-region": World(
        granted_when(REGION_EU),
        DENIED_JOBS,
        reasons=each(
            '{action} is not allowed: MLPlatformECSTaskPolicy v1, statement "Jobs" grants it '
            "only when aws:RequestedRegion is eu-west-1; this request's aws:RequestedRegion "
            "is us-east-1"
        ),
        verdicts=dict.fromkeys(JOBS, "denied"),
    ),
    "grant-through-an-undeclared-endpoint": World(
        granted_when(IN_VPCE),
        DENIED_JOBS,
        reasons=each(
            '{action} is not allowed: MLPlatformECSTaskPolicy v1, statement "Jobs" grants it '
            f"only when aws:SourceVpce is {VPC_ENDPOINT}; this request carries no "
            "aws:SourceVpce; that is assumed: declare aws:SourceVpce in "
            "fixtures/request_context.toml if the containers' requests carry it"
        ),
    ),
    "grant-through-an-endpoint-declared-in-the-file": World(
        granted_when(IN_VPCE),
        frozenset(),
        verdicts=dict.fromkeys(JOBS, "conditional"),
        declared=f'[context]\n"aws:SourceVpce" = "{VPC_ENDPOINT}"\n',
    ),
    "grant-through-an-endpoint-given-by-option": World(
        granted_when(IN_VPCE),
        frozenset(),
        verdicts=dict.fromkeys(JOBS, "conditional"),
        context=(f"aws:SourceVpce={VPC_ENDPOINT}",),
    ),
    # --- the corrected rules ------------------------------------------------------------
    "for-any-value-if-exists-with-the-key-absent-is-false": World(
        granted_when({"ForAnyValue:StringLikeIfExists": {"dynamodb:LeadingKeys": "job-*"}}),
        DENIED_JOBS,
        reasons=each(
            '{action} is not allowed: MLPlatformECSTaskPolicy v1, statement "Jobs" grants it '
            "only when dynamodb:LeadingKeys, in some value, matches job-*; this request "
            "carries no dynamodb:LeadingKeys*"
        ),
    ),
    "star-inside-a-segment-does-not-cross-a-colon": World(
        with_statements(
            runbook_policy(),
            statement("Allow", JOBS, "arn:aws:dynamodb:us-*6:table/ml-jobs", Sid="Mid"),
        ),
        DENIED_JOBS,
        reasons=each(
            "{action} is not allowed: no statement in MLPlatformECSTaskPolicy v1 allows it on "
            f"{TABLE_ARN}"
        ),
    ),
    "star-last-in-its-segment-expands": World(
        with_statements(
            runbook_policy(),
            statement("Allow", JOBS, "arn:aws:dynamodb:*:table/ml-jobs", Sid="Any"),
        ),
        frozenset({"least"}),
        reasons=each('{action} is allowed by MLPlatformECSTaskPolicy v1, statement "Any"'),
        verdicts=dict.fromkeys(JOBS, "allowed"),
    ),
    "allow-matching-only-when-case-is-ignored-is-undecided": World(
        with_statements(
            runbook_policy(),
            statement("Allow", JOBS, TABLE_ARN.replace("us-east-1", "US-EAST-1"), Sid="Upper"),
        ),
        DENIED_JOBS,
        reasons=each(
            "{action} could not be decided: whether the Allow in MLPlatformECSTaskPolicy v1, "
            'statement "Upper" applies cannot be determined (*only when letter case is ignored*'
        ),
        verdicts=dict.fromkeys(JOBS, "undecided"),
    ),
    "deny-matching-only-when-case-is-ignored-is-undecided": World(
        with_statements(
            compliant_policy(),
            statement(
                "Deny", "dynamodb:Scan", TABLE_ARN.replace("us-east-1", "US-EAST-1"), Sid="Upper"
            ),
        ),
        frozenset({"all", "dynamodb:Scan"}),
        reasons={
            "dynamodb:Scan": "dynamodb:Scan could not be decided: whether the Deny in "
            'MLPlatformECSTaskPolicy v1, statement "Upper" applies cannot be determined '
            "(*only when letter case is ignored*"
        },
        verdicts={"dynamodb:Scan": "undecided"},
    ),
    "policy-variable-with-no-value-matches-nothing": World(
        with_statements(runbook_policy(), statement("Allow", JOBS, BY_PROJECT, Sid="ByProject")),
        DENIED_JOBS | {"least"},
        reasons=each(NOT_ALLOWED_BY_PROJECT),
        verdicts=dict.fromkeys(JOBS, "denied"),
    ),
    "policy-variable-from-the-role-s-tag": World(
        with_statements(runbook_policy(), statement("Allow", JOBS, BY_PROJECT, Sid="ByProject")),
        # a Resource named by a tag may name another table: least privilege says so
        frozenset({"least"}),
        reasons=each('{action} is allowed by MLPlatformECSTaskPolicy v1, statement "ByProject"*'),
        role_tags={"project": "ml-jobs"},
    ),
    # --- the table's resource policy ------------------------------------------------------
    "table-policy-deny-to-the-account-root": World(
        compliant_policy(),
        frozenset({"all", "dynamodb:Scan"}),
        reasons={
            "dynamodb:Scan": "dynamodb:Scan is explicitly denied by table resource policy, "
            'statement "NoScan"'
        },
        evidence={"dynamodb:Scan": 'denied_by table resource policy, statement "NoScan"'},
        table_policy=task_policy(
            statement("Deny", "dynamodb:Scan", Sid="NoScan", Principal={"AWS": ROOT})
        ),
    ),
    "table-policy-deny-to-everyone-outside-an-endpoint": World(
        compliant_policy(),
        DENIED_JOBS,
        reasons=each(
            '{action} is explicitly denied by table resource policy, statement "OnlyViaVpce"; '
            "this assumes the request carries no aws:SourceVpce (declare it in "
            "fixtures/request_context.toml if the containers' requests do)"
        ),
        table_policy=grant_to(
            "*",
            "OnlyViaVpce",
            "Deny",
            Condition={"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        ),
    ),
    "table-policy-deny-to-everyone-through-the-declared-endpoint": World(
        compliant_policy(),
        frozenset(),
        table_policy=grant_to(
            "*",
            "OnlyViaVpce",
            "Deny",
            Condition={"StringNotEquals": {"aws:SourceVpce": VPC_ENDPOINT}},
        ),
        declared=f'[context]\n"aws:SourceVpce" = "{VPC_ENDPOINT}"\n',
    ),
    "table-policy-grants-the-role": World(
        runbook_policy(),
        frozenset(),
        reasons=each('{action} is allowed by table resource policy, statement "Grant"'),
        verdicts=dict.fromkeys(JOBS, "allowed"),
        evidence=each('resource_allowed_by table resource policy, statement "Grant"'),
        table_policy=grant_to({"AWS": ROLE_ARN}),
    ),
    "table-policy-grant-to-the-account-root-grants-nothing": World(
        runbook_policy(),
        DENIED_JOBS,
        reasons=each(
            "{action} is not allowed: no statement in MLPlatformECSTaskPolicy v1 allows it on "
            f"{TABLE_ARN}"
        ),
        table_policy=grant_to({"AWS": ROOT}),
    ),
    "table-policy-grant-to-the-role-is-limited-by-the-boundary": World(
        runbook_policy(),
        DENIED_JOBS,
        reasons=each(
            "{action} is allowed by the table resource policy but not by permissions boundary "
            f"*: none of its statements allows it on {TABLE_ARN}"
        ),
        table_policy=grant_to({"AWS": ROLE_ARN}),
        boundary=ONLY_BASICS,
    ),
    "table-policy-grant-to-everyone-outside-the-boundary-is-undecided": World(
        runbook_policy(),
        DENIED_JOBS,
        reasons=each(
            "{action} could not be decided: whether the Allow in table resource policy, "
            'statement "Grant" applies cannot be determined (it grants to Principal "*", and '
            "the role's permissions boundary does not allow the request; AWS documents*"
        ),
        verdicts=dict.fromkeys(JOBS, "undecided"),
        evidence=each('undecided_by table resource policy, statement "Grant"'),
        table_policy=grant_to("*"),
        boundary=ONLY_BASICS,
    ),
    # --- requirements on an index ---------------------------------------------------------
    "index-grant-on-the-table-only": World(
        task_policy(statement("Allow", "dynamodb:Query")),
        frozenset({"all", "dynamodb:Query@index/by-status", "dynamodb:Query@index/*"}),
        reasons={
            "dynamodb:Query@index/by-status": "dynamodb:Query is not allowed: no statement in "
            f"MLPlatformECSTaskPolicy v1 allows it on {BY_STATUS}",
            "dynamodb:Query@index/*": "dynamodb:Query is not allowed: no statement in "
            f"MLPlatformECSTaskPolicy v1 allows it on {TABLE_ARN}/index/*",
        },
        requirements=INDEX_REQUIREMENTS,
    ),
    "index-grant-on-every-index": World(
        task_policy(statement("Allow", "dynamodb:Query", [TABLE_ARN, f"{TABLE_ARN}/index/*"])),
        frozenset(),
        verdicts={"dynamodb:Query@index/by-status": "allowed", "dynamodb:Query@index/*": "allowed"},
        requirements=INDEX_REQUIREMENTS,
    ),
    "index-grant-on-one-index": World(
        task_policy(statement("Allow", "dynamodb:Query", [TABLE_ARN, BY_STATUS])),
        frozenset({"all", "dynamodb:Query@index/*"}),
        verdicts={"dynamodb:Query@index/by-status": "allowed", "dynamodb:Query@index/*": "denied"},
        requirements=INDEX_REQUIREMENTS,
    ),
    "index-deny-on-one-index-denies-every-index": World(
        task_policy(
            statement("Allow", "dynamodb:Query", [TABLE_ARN, f"{TABLE_ARN}/index/*"]),
            statement("Deny", "dynamodb:Query", BY_STATUS, Sid="NoByStatus"),
        ),
        frozenset({"all", "dynamodb:Query@index/by-status", "dynamodb:Query@index/*"}),
        reasons={
            rid: "dynamodb:Query is explicitly denied by MLPlatformECSTaskPolicy v1, statement "
            '"NoByStatus"'
            for rid in ("dynamodb:Query@index/by-status", "dynamodb:Query@index/*")
        },
        requirements=INDEX_REQUIREMENTS,
    ),
    # --- the trust check: ECS's sts:AssumeRole ----------------------------------------------
    "trust-deny-to-everyone-wins": World(
        compliant_policy(),
        frozenset({"trust"}),
        trust=with_statements(ecs_trust_policy(), trusting("*", "Deny", Sid="NoOne")),
        trust_message='trust policy of MLPlatformECSTaskRole, statement "NoOne" denies '
        f"{ECS} sts:AssumeRole",
    ),
    "trust-confused-deputy-deny-for-another-account": World(
        compliant_policy(),
        frozenset(),
        trust=task_policy(
            trusting({"Service": ECS}, Sid="Ecs", Condition=SOURCE_ACCOUNT),
            trusting("*", "Deny", Condition={"StringEquals": {"aws:SourceAccount": OTHER}}),
        ),
        trust_message=f"{ECS} may assume the role: trust policy of MLPlatformECSTaskRole, "
        'statement "Ecs" (conditions on aws:SourceAccount)',
    ),
    "trust-source-arn-undeclared": World(
        compliant_policy(),
        frozenset({"trust"}),
        trust=task_policy(trusting({"Service": ECS}, Sid="Ecs", Condition=SOURCE_ARN)),
        trust_message='trust policy of MLPlatformECSTaskRole, statement "Ecs" lets '
        f"{ECS} assume the role only when aws:SourceArn matches "
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:*; ECS's request carries no aws:SourceArn; that "
        "assumes ECS's request carries no aws:SourceArn: declare it under [assume_role] in "
        "fixtures/request_context.toml if it does",
    ),
    "trust-source-arn-declared": World(
        compliant_policy(),
        frozenset(),
        trust=task_policy(trusting({"Service": ECS}, Sid="Ecs", Condition=SOURCE_ARN)),
        trust_message=f"{ECS} may assume the role: trust policy of MLPlatformECSTaskRole, "
        'statement "Ecs" (conditions on aws:SourceArn)',
        declared=f'[assume_role]\n"aws:SourceArn" = "arn:aws:ecs:us-east-1:{ACCOUNT}:task/ml/1"\n',
    ),
}


def seed_mock(suite: pytest.Pytester, world: World) -> list[str]:
    """The fixtures of a mock run of ``world``; returns the options that go with them."""
    tags = "".join(
        f"[{name}]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in values.items())
        for name, values in (("role", world.role_tags), ("table", world.table_tags))
        if values
    )
    if tags:
        write_policy(suite, tags, "fixtures/tags.toml")
    if world.table_policy is not None:
        write_policy(suite, world.table_policy, "fixtures/table_resource_policy.json")
    if world.boundary is not None:
        write_policy(suite, world.boundary, "fixtures/policies/boundary.json")
    if world.trust is not None:
        write_policy(suite, world.trust, "fixtures/policies/ecs_tasks_trust_policy.json")
    if world.declared is not None:
        write_policy(suite, world.declared, "fixtures/request_context.toml")
    if world.requirements is not None:
        write_policy(suite, world.requirements, "fixtures/required_actions.toml")
    path = write_policy(suite, world.policy)
    return ["--iam-policy-file", str(path), *context_options(world)]


def seed_live(server: MotoServer, world: World) -> World:
    """Seed the moto server with ``world``; returns it as the server has it: a declared
    VPC endpoint exists there (a DynamoDB gateway endpoint with AWS's default policy),
    under the id moto gave it."""
    if VPC_ENDPOINT in json.dumps([world.declared, world.context]):
        world = renamed(world, VPC_ENDPOINT, ServerAccount(server).endpoint(service="dynamodb"))
    server.seed(
        managed=world.policy,
        role_tags=world.role_tags,
        table_tags=world.table_tags,
        table_policy=world.table_policy,
        boundary=world.boundary,
        trust=world.trust,
    )
    return world


def renamed(world: World, old: str, new: str) -> World:
    """``world`` with ``old`` replaced by ``new`` in its documents and declarations."""

    def swap(value: Any) -> Any:
        return json.loads(json.dumps(value).replace(old, new))

    return dataclasses.replace(
        world,
        policy=swap(world.policy),
        table_policy=swap(world.table_policy),
        declared=swap(world.declared),
        context=tuple(swap(list(world.context))),
        reasons=swap(dict(world.reasons)),
    )


def context_options(world: World) -> list[str]:
    return [arg for value in world.context for arg in ("--iam-context", value)]


def check(suite: pytest.Pytester, result: pytest.RunResult, world: World, mode: str) -> None:
    """The run failed exactly ``world``'s tests, with its reasons and verdicts."""
    report = json.loads((suite.path / "reports" / "compliance.json").read_text())
    failed = {test["nodeid"] for test in report["tests"] if test["outcome"] == "failed"}
    assert failed == world.nodeids(), mode
    assert result.ret == (1 if world.failing else 0), mode
    [target] = report["targets"]
    actions = {entry["id"]: entry for entry in target["actions"]}
    output = result.stdout.str()
    for rid, pattern in world.reasons.items():
        # In mock mode the reason ends with where its statement is in --iam-policy-file.
        reason = re.sub(r" \[[^\[\]]* line \d+, [^\[\]]*\]$", "", actions[rid]["reason"])
        assert fnmatch.fnmatchcase(reason, pattern), f"{mode}: {rid}: {reason!r}"
        if rid in world.failing:
            # the failure message is the reason, with where and what the action is needed
            # for (the resource, unless the reason names it already)
            entry = actions[rid]
            where = "" if entry["resource"] in entry["reason"] else f" on {entry['resource']}"
            assert f"{entry['reason']} (needed{where} to: " in output, mode
    for rid, verdict in world.verdicts.items():
        assert actions[rid]["verdict"] == verdict, f"{mode}: {rid}"
    for rid, wanted in world.evidence.items():
        listed = [f"{e['kind']} {e['policy']}, {e['statement']}" for e in actions[rid]["evidence"]]
        assert wanted in listed, f"{mode}: {rid}: {listed}"
    if world.trust_message is not None:
        message = target["checks"]["trusts_ecs_tasks"]["message"]
        assert message == world.trust_message, mode
        if "trust" in world.failing:
            assert message in output, mode


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in WORLDS])
def test_verdict_and_reason_in_mock_and_live_mode(
    suite: pytest.Pytester, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    world = WORLDS[name]
    options = seed_mock(suite, world)
    check(suite, suite.runpytest(*options), world, "mock")

    world = seed_live(moto_server, world)
    if world.declared is not None:
        write_policy(suite, world.declared, "fixtures/request_context.toml")
    moto_server.use(monkeypatch)
    live = suite.runpytest("--aws-mode", "live", *context_options(world))
    check(suite, live, world, "live")
