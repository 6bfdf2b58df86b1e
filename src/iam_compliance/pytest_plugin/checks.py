"""The compliance checks the plugin provides: a project needs no test module of its own.

:class:`TestRoleCompliance` asks every question of a target, one test per check, each
marked with what it checks (``@pytest.mark.iam_check``); the fixtures come from the plugin
(``iam_assessment``, ``required_action``, ``forbidden_action``). The requirements file is
their test module (:mod:`.collection`): ``pytest`` collects them from
``<iam_compliance_fixtures>/required_actions.toml`` as
``required_actions.toml::TestRoleCompliance::test_required_action_is_allowed[dynamodb:Scan]``.
A project that keeps a module of its own calls the same functions (:func:`all_allowed`,
...), as this repository's ``tests/test_ecs_task_dynamodb_permissions.py`` does.

A failure's message is the whole explanation (which policy and statement decided it),
so the tests fail with that message alone rather than a traceback of this file.
"""

from __future__ import annotations

import pytest

from ..engine.evaluate.assessment import Assessment


def all_allowed(found: Assessment) -> None:
    """Every required action is allowed; the failure lists each missing one."""
    if found.missing:
        pytest.fail(found.explain_missing(), pytrace=False)


def action_allowed(found: Assessment, required: str) -> None:
    """The required action ``required`` (its id) is allowed on its resource."""
    verdict = found.verdicts[required]
    if not verdict.is_allowed:
        # The reason names the resource when nothing allows it; otherwise say it here.
        where = "" if verdict.resource in verdict.reason else f" on {verdict.resource}"
        pytest.fail(
            f"{verdict.reason} (needed{where} to: {found.reason_for(required)})", pytrace=False
        )


def forbidden_denied(found: Assessment, forbidden: str) -> None:
    """The forbidden action ``forbidden`` (its id) is proved denied on its resource."""
    check = found.forbidden_check(forbidden)
    if not check.ok:
        pytest.fail(check.message, pytrace=False)


def policy_attached(found: Assessment) -> None:
    """The configured managed policy exists and is attached to the role."""
    if not found.attachment.ok:
        pytest.fail(found.attachment.message, pytrace=False)


def service_trusted(found: Assessment) -> None:
    """The role's trust policy lets the workload's service assume it."""
    if not found.trust.ok:
        pytest.fail(found.trust.message, pytrace=False)


def least_privilege(found: Assessment) -> None:
    """No Allow that grants a required action grants more than it is required on."""
    failing = found.failing_findings
    if failing:
        lines = [f"  - [{f.id}] {f.message}" for f in failing]
        pytest.fail("broader access than the workload needs:\n" + "\n".join(lines), pytrace=False)


class TestRoleCompliance:
    """Can the workload's role do what it needs, and nothing it must never do?"""

    @pytest.mark.iam_check("all_actions")
    def test_role_has_all_required_permissions(self, iam_assessment: Assessment) -> None:
        all_allowed(iam_assessment)

    @pytest.mark.iam_check("action")
    def test_required_action_is_allowed(
        self, iam_assessment: Assessment, required_action: str
    ) -> None:
        action_allowed(iam_assessment, required_action)

    @pytest.mark.iam_check("forbidden")
    def test_forbidden_action_is_denied(
        self, iam_assessment: Assessment, forbidden_action: str
    ) -> None:
        forbidden_denied(iam_assessment, forbidden_action)

    @pytest.mark.iam_check("attached")
    def test_policy_is_attached_to_role(self, iam_assessment: Assessment) -> None:
        policy_attached(iam_assessment)

    @pytest.mark.iam_check("trust")
    def test_role_trusts_its_service(self, iam_assessment: Assessment) -> None:
        service_trusted(iam_assessment)

    @pytest.mark.iam_check("least_privilege")
    def test_access_is_least_privilege(self, iam_assessment: Assessment) -> None:
        least_privilege(iam_assessment)
