"""No new access: a fix may change the verdicts of the required requests only."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iam_compliance.engine.evaluate.decision import Decision
from iam_compliance.engine.evaluate.evaluation import evaluate
from iam_compliance.engine.evaluate.keys import key_uses
from iam_compliance.engine.fix import reach
from iam_compliance.engine.fix.planning import plan_fix, reparse, replacing, with_document
from iam_compliance.engine.fix.proof import check_plan, probes, prove_document, prove_no_new_access
from iam_compliance.engine.policy import PolicyVersion, RolePolicies
from iam_compliance.engine.requirements import Need
from iam_compliance.errors import PolicyError

from conftest import (
    MISSING,
    NOW,
    REQUIRED,
    TABLE_ARN,
    parsed_task_policy,
    runbook_policy,
    task_policy,
)

DYNAMODB = ["GetItem", "PutItem", "UpdateItem", "Scan", "Query", "DescribeTable", "DeleteTable"]
S3 = ["GetObject", "PutObject", "ListBucket", "DeleteObject"]
LOGS = ["CreateLogGroup", "CreateLogStream", "PutLogEvents", "DeleteLogGroup"]


def actions(service: str) -> list[str]:
    return {"dynamodb": DYNAMODB, "s3": S3, "logs": LOGS}.get(service, [])


def judge(policies: RolePolicies, action: str, resource: str) -> Any:
    return evaluate(policies, action, resource, {})


NEEDS = [Need(action, TABLE_ARN, action) for action in REQUIRED]
TARGET = parsed_task_policy(runbook_policy(), "v1")
ROLE = RolePolicies((TARGET,))


def planned() -> Any:
    versions = [PolicyVersion("v1", is_default=True, created=NOW)]
    return plan_fix(ROLE, TARGET, NEEDS, TABLE_ARN, versions, judge=judge)


def test_the_planner_grants_exactly_the_required_actions() -> None:
    plan = check_plan(planned(), ROLE, TARGET, judge, NEEDS, actions, TABLE_ARN)

    assert plan.can_apply
    assert plan.proof is not None
    assert plan.proof.startswith(f"new access: exactly the {len(MISSING)} required action(s) (")


@pytest.mark.parametrize(
    ("index", "widen", "newly"),
    [
        pytest.param(
            1,  # the DynamoDB statement, which the planner extended
            lambda s: s.update(Resource="*"),
            "dynamodb:Scan on arn:aws:dynamodb:us-east-1:618574523116:table/iam-compliance-probe",
            id="resource-star",
        ),
        pytest.param(
            1,
            lambda s: s.update(Action="dynamodb:*"),
            f"dynamodb:DeleteTable on {TABLE_ARN}",
            id="dynamodb-star",
        ),
        pytest.param(
            0,  # the S3 statement
            lambda s: s.update(Action=[*s["Action"], "s3:DeleteObject"]),
            "s3:DeleteObject on arn:aws:s3:::ml-platform-artifacts/iam-compliance-probe",
            id="another-service",
        ),
    ],
)
def test_a_plan_that_would_widen_is_refused(index: int, widen: Any, newly: str) -> None:
    # What a planner bug would produce: the right actions, on too much.
    plan = planned()
    assert plan.new_document is not None
    widened = {**plan.new_document, "Statement": [dict(s) for s in plan.new_document["Statement"]]}
    widen(widened["Statement"][index])
    bad = dataclasses.replace(plan, new_document=widened)

    checked = check_plan(bad, ROLE, TARGET, judge, NEEDS, actions, TABLE_ARN)
    proof = prove_no_new_access(
        ROLE,
        replacing(ROLE, reparse(widened, TARGET)),
        judge,
        probes([TARGET], TABLE_ARN, [], actions),
        [(need.action, need.resource) for need in NEEDS],
    )

    assert not checked.can_apply
    assert checked.proof is not None
    assert checked.proof.startswith("the proposed document would newly grant ")
    assert any("a fix may add only the required actions" in r for r in checked.refusals)
    assert any(item.startswith(newly + " (was not allowed") for item in proof.new_access)


def test_probes_cover_the_table_its_indexes_stream_another_table_and_star() -> None:
    found = probes([TARGET], TABLE_ARN, [], actions)

    resources = {resource for action, resource in found if action == "dynamodb:DeleteTable"}
    assert resources == {
        TABLE_ARN,
        f"{TABLE_ARN}/index/iam-compliance-probe",
        f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000",
        "arn:aws:dynamodb:us-east-1:618574523116:table/iam-compliance-probe",
        "*",
    }
    # The other services the document mentions, on the resources it names and on "*".
    assert ("s3:DeleteObject", "arn:aws:s3:::ml-platform-artifacts/iam-compliance-probe") in found
    assert ("logs:DeleteLogGroup", "*") in found


def test_a_proof_counts_what_it_compared() -> None:
    proof = prove_no_new_access(ROLE, ROLE, judge, [("dynamodb:Scan", TABLE_ARN)] * 3, [])

    assert (proof.holds, proof.probes, proof.new_access) == (True, 1, ())


def test_a_required_pattern_covers_every_resource_it_stands_for() -> None:
    """dynamodb:Query on index/* is required: a grant on any one index is no new access,
    while the same action on the table itself still is."""
    index = f"{TABLE_ARN}/index/*"
    logs = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
    before = RolePolicies(identity=(parsed_task_policy(task_policy(logs)),))
    grant = task_policy(logs, {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": index})
    after = RolePolicies(identity=(parsed_task_policy(grant),))
    probes = [("dynamodb:Query", f"{TABLE_ARN}/index/by-status"), ("dynamodb:Query", TABLE_ARN)]

    found = prove_no_new_access(before, after, judge, probes, [("dynamodb:Query", index)])

    assert found.holds
    assert found.granted == (
        f"dynamodb:Query on {TABLE_ARN}/index/by-status (was not allowed, would be allowed)",
    )


@pytest.mark.parametrize(
    ("change", "exact", "said"),
    [
        pytest.param(lambda s: None, True, "new access: exactly the 3", id="as-planned"),
        pytest.param(
            lambda s: s.update(Action=s["Action"][:-1]),
            False,
            "would still not allow dynamodb:DescribeTable",
            id="one-action-short",
        ),
        pytest.param(
            lambda s: s.update(Resource=[TABLE_ARN, f"{TABLE_ARN}-archive"]),
            False,
            "would newly grant",
            id="another-table-too",
        ),
    ],
)
def test_a_document_as_written_is_proved_on_its_own(change: Any, exact: bool, said: str) -> None:
    """What a patched file reads as is proved again: short or wide, it is not the fix."""
    document = dict(planned().new_document)
    change(document["Statement"][1])
    found = prove_document(document, ROLE, TARGET, judge, NEEDS, actions, TABLE_ARN)
    assert found.exact is exact
    assert said in found.describe()


def test_a_grant_onto_another_table_the_policy_names_is_new_access() -> None:
    """The probes include every DynamoDB resource the documents name, not only the table
    and a made-up one: Scan added to the Archive table's statement is caught."""
    document = copy.deepcopy(runbook_policy())
    archive = f"{TABLE_ARN}-archive"
    document["Statement"].append(
        {"Sid": "Archive", "Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": archive}
    )
    proposed = reparse(document, TARGET)
    required = [(need.action, need.resource) for need in NEEDS]
    found = prove_no_new_access(
        ROLE,
        replacing(ROLE, proposed),
        judge,
        probes([TARGET, proposed], TABLE_ARN, required, actions),
        required,
    )
    assert found.new_access == (f"dynamodb:Scan on {archive} (was not allowed, would be allowed)",)


#: Statements a fix (or a planner bug) might add, each reaching probes another way.
ADDED = [
    pytest.param({"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": TABLE_ARN}, id="table"),
    pytest.param({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}, id="star"),
    pytest.param({"Effect": "Allow", "NotAction": "s3:*", "Resource": TABLE_ARN}, id="not-action"),
    pytest.param(
        {"Effect": "Allow", "Action": "dynamodb:Query", "NotResource": TABLE_ARN},
        id="not-resource",
    ),
    pytest.param(
        {"Effect": "Allow", "Action": "*", "Resource": f"{TABLE_ARN}/*"},
        id="every-action",
    ),
    pytest.param(
        {
            "Effect": "Allow",
            "Action": "dynamodb:Scan",
            "Resource": "arn:aws:dynamodb:us-east-1:618574523116:table/${aws:PrincipalTag/t}",
        },
        id="variable",
    ),
    pytest.param(
        {
            "Effect": "Deny",
            "Action": "logs:*",
            "Resource": "*",
            "Condition": {"Bool": {"a:b": "1"}},
        },
        id="conditional-deny",
    ),
]


@pytest.mark.parametrize("statement", ADDED)
def test_only_probes_a_changed_statement_reaches_are_evaluated_and_nothing_is_missed(
    monkeypatch: pytest.MonkeyPatch, statement: dict[str, Any]
) -> None:
    """Skipping the probes no added or removed statement can reach gives the very proof
    that evaluating every probe gives."""
    before = RolePolicies((TARGET,))
    changed = runbook_policy()
    changed["Statement"][1]["Action"] = changed["Statement"][1]["Action"][:2]  # one removed
    changed["Statement"].append(statement)
    after = replacing(before, reparse(changed, TARGET))
    probed = probes([TARGET, after.identity[0]], TABLE_ARN, [], actions)
    required = [(need.action, need.resource) for need in NEEDS]
    evaluated: list[tuple[str, str]] = []

    def counting(policies: RolePolicies, action: str, resource: str) -> Any:
        evaluated.append((action, resource))
        return judge(policies, action, resource)

    pruned = prove_no_new_access(before, after, counting, probed, required)
    monkeypatch.setattr(reach, "changed_statements", lambda before, after: None)
    full = prove_no_new_access(before, after, judge, probed, required)

    assert (pruned.new_access, pruned.granted, pruned.probes) == (
        full.new_access,
        full.granted,
        full.probes,
    )
    assert len(evaluated) < 2 * full.probes


FORBIDDEN = [
    Need("dynamodb:DeleteTable", TABLE_ARN, "dynamodb:DeleteTable"),
    # Not among the probes the documents' resources give: probed because it is forbidden.
    Need(
        "s3:DeleteObject",
        "arn:aws:s3:::ml-platform-artifacts/models/*",
        "s3:DeleteObject@arn:aws:s3:::ml-platform-artifacts/models/*",
    ),
]


def test_a_plan_that_leaves_the_forbidden_pairs_denied_is_applied() -> None:
    plan = check_plan(planned(), ROLE, TARGET, judge, NEEDS, actions, TABLE_ARN, FORBIDDEN)

    assert plan.can_apply, plan.refusals


@pytest.mark.parametrize(
    ("index", "widen", "forbid"),
    [
        pytest.param(1, lambda s: s.update(Action="dynamodb:*"), 0, id="dynamodb-star"),
        pytest.param(
            0,
            lambda s: s.update(Action=[*s["Action"], "s3:DeleteObject"]),
            1,
            id="a-forbidden-pair-no-probe-reaches",
        ),
    ],
)
def test_a_plan_that_would_grant_a_forbidden_pair_is_refused(
    index: int, widen: Any, forbid: int
) -> None:
    plan = planned()
    assert plan.new_document is not None
    widened = {**plan.new_document, "Statement": [dict(s) for s in plan.new_document["Statement"]]}
    widen(widened["Statement"][index])

    checked = check_plan(
        dataclasses.replace(plan, new_document=widened),
        ROLE,
        TARGET,
        judge,
        NEEDS,
        actions,
        TABLE_ARN,
        FORBIDDEN,
    )

    assert not checked.can_apply
    [refusal] = [r for r in checked.refusals if "must never be able to do" in r]
    need = FORBIDDEN[forbid]
    assert f"{need.action} on {need.resource} (was " in refusal
    assert f"forbidden by {need.id}" in refusal
    assert refusal.endswith("a fix never grants a forbidden action")


_PAIRS = st.lists(
    st.tuples(
        st.sampled_from(["dynamodb:Scan", "dynamodb:Query", "s3:GetObject"]),
        st.sampled_from([TABLE_ARN, "*", f"{TABLE_ARN}/index/x"]),
    ),
    max_size=12,
)


@given(pairs=_PAIRS, more=_PAIRS)
def test_a_probe_sets_runs_are_its_pairs_once_each_in_order(
    pairs: list[tuple[str, str]], more: list[tuple[str, str]]
) -> None:
    runs = reach.runs(reach.ProbeSet.of(pairs), more)

    flat = [(action, resource) for action, resources in runs for resource in resources]
    assert flat == list(dict.fromkeys([*pairs, *more]))


@given(pairs=_PAIRS)
def test_a_proof_over_a_probe_set_is_the_proof_over_its_pairs(
    pairs: list[tuple[str, str]],
) -> None:
    plan = planned()
    after = replacing(ROLE, reparse(plan.new_document, TARGET))
    required = [("dynamodb:Scan", TABLE_ARN)]
    forbidden = {("s3:GetObject", "*"): "no-reads"}

    listed = prove_no_new_access(ROLE, after, judge, list(pairs), required, forbidden)
    grouped = prove_no_new_access(ROLE, after, judge, reach.ProbeSet.of(pairs), required, forbidden)

    assert grouped == listed
    assert listed.probes == len(dict.fromkeys([*pairs, *forbidden]))


def test_the_proof_reads_the_planned_document_as_the_objects_the_planner_judged() -> None:
    plan = planned()
    assert plan.new_document is not None
    planned_proposed, planned_after = with_document(ROLE, plan.new_document, TARGET)

    again = with_document(ROLE, copy.deepcopy(plan.new_document), TARGET)

    assert again == (planned_proposed, planned_after)
    assert again[0] is planned_proposed
    assert again[1] is planned_after
    assert planned_proposed == reparse(plan.new_document, TARGET)
    assert planned_after == replacing(ROLE, planned_proposed)


def test_a_document_with_the_same_json_but_other_types_is_read_again() -> None:
    plan = planned()
    assert plan.new_document is not None
    with_document(ROLE, plan.new_document, TARGET)  # the planner's reading, remembered
    changed = copy.deepcopy(plan.new_document)
    changed["Statement"] = tuple(changed["Statement"])  # the same JSON, but not a list

    with pytest.raises(PolicyError, match='"Statement" must be an object or a non-empty list'):
        with_document(ROLE, changed, TARGET)


_ACTIONS = st.sampled_from(
    ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:*", "s3:GetObject"]
)
_EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which statement
        st.sampled_from(["add", "drop", "resource", "deny", "condition", "duplicate"]),
        _ACTIONS,
    ),
    min_size=1,
    max_size=3,
)


@given(edits=_EDITS)
def test_twin_statements_change_no_verdict_of_an_action_both_cover(
    edits: list[tuple[int, str, str]],
) -> None:
    """A statement whose Action list alone changed is not evaluated again for the actions
    it covered before and after: the proof is still the one evaluating every probe."""
    changed = runbook_policy()
    statements = changed["Statement"]
    for index, edit, action in edits:
        statement = statements[index % len(statements)]
        granted = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if edit == "add":
            statement["Action"] = [*granted, action]
        elif edit == "drop" and len(granted) > 1:
            statement["Action"] = granted[1:]
        elif edit == "resource":
            statement["Resource"] = "*"
        elif edit == "deny":
            statement["Effect"] = "Deny"
        elif edit == "condition":
            statement["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
        elif edit == "duplicate":
            statements.append({**statement, "Action": [action]})
    after = replacing(ROLE, reparse(changed, TARGET))
    probed = probes([TARGET, after.identity[0]], TABLE_ARN, [], actions)
    required = [(need.action, need.resource) for need in NEEDS]

    pruned = prove_no_new_access(ROLE, after, judge, probed, required)
    everything = reach.ProbeSet.of(probed)
    full = prove_no_new_access(ROLE, after, judge, everything, required)
    unpruned = _unpruned(ROLE, after, everything, required)

    assert pruned == full == unpruned


def _unpruned(before: RolePolicies, after: RolePolicies, probed: Any, required: Any) -> Any:
    original = reach.changed_statements
    reach.changed_statements = lambda before, after: None  # type: ignore[assignment]
    try:
        return prove_no_new_access(before, after, judge, probed, required)
    finally:
        reach.changed_statements = original


def test_an_action_added_to_a_statement_is_the_only_one_evaluated_again() -> None:
    changed = runbook_policy()
    changed["Statement"][1]["Action"] = [*changed["Statement"][1]["Action"], "dynamodb:Scan"]
    after = replacing(ROLE, reparse(changed, TARGET))
    asked: list[str] = []

    def counting(policies: RolePolicies, action: str, resource: str) -> Any:
        asked.append(action)
        return judge(policies, action, resource)

    found = prove_no_new_access(
        ROLE, after, counting, [("dynamodb:GetItem", "*"), ("dynamodb:Scan", "*")], []
    )

    assert set(asked) == {"dynamodb:Scan"}
    assert found.probes == 2


KEY = "arn:aws:kms:us-east-1:618574523116:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def judge_through_key(policies: RolePolicies, action: str, resource: str) -> Any:
    """As the run judges a table encrypted with a customer managed key: a data action is
    allowed only when the key use it implies is (the fold of .judgement, in small)."""
    verdict = evaluate(policies, action, resource, {})
    for use in key_uses(action):
        if verdict.is_allowed and not evaluate(policies, use.action, KEY, {}).is_allowed:
            return dataclasses.replace(verdict, decision=Decision.IMPLICIT_DENY)
    return verdict


def test_a_key_use_the_fix_grants_reaches_the_data_actions_that_need_it() -> None:
    """The role may already Scan the table but for the key: granting the required
    kms:Decrypt makes Scan allowed, new access that no changed statement covers."""
    current = runbook_policy()
    current["Statement"][1]["Action"] = ["dynamodb:GetItem", "dynamodb:Scan"]
    before = RolePolicies((parsed_task_policy(current, "v1"),))
    fixed = copy.deepcopy(current)
    fixed["Statement"].append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY})
    after = replacing(before, reparse(fixed, before.identity[0]))
    required = [("kms:Decrypt", KEY), ("dynamodb:GetItem", TABLE_ARN)]
    probed = [("dynamodb:Scan", TABLE_ARN), ("dynamodb:GetItem", TABLE_ARN), ("kms:Decrypt", KEY)]

    found = prove_no_new_access(before, after, judge_through_key, probed, required)

    assert found.new_access == (
        f"dynamodb:Scan on {TABLE_ARN} (was not allowed, would be allowed)",
    )
    assert not found.holds
