"""Can the ML platform's ECS task role do what its training containers need on ml-jobs?

Every verdict is IAM's own evaluation logic applied to the role's attached managed
policies, inline policies and permissions boundary; the fixtures come from the
iam-compliance plugin (``iam_assessment``, ``required_action``). Run:

    pytest tests/test_ecs_task_dynamodb_permissions.py -v

A failure's message is the whole explanation (which policy and statement decided it),
so tests fail with that message alone rather than a traceback of this file. Each test's
``iam_check`` marker says what it checks, which is how the reports classify its row.
"""

import pytest

from iam_compliance.engine.evaluate.assessment import Assessment


class TestECSTaskRoleDynamoDBPermissions:
    @pytest.mark.iam_check("all_actions")
    def test_task_role_has_all_required_permissions(self, iam_assessment: Assessment) -> None:
        if iam_assessment.missing:
            pytest.fail(iam_assessment.explain_missing(), pytrace=False)

    @pytest.mark.iam_check("action")
    def test_required_action_is_allowed(
        self, iam_assessment: Assessment, required_action: str
    ) -> None:
        verdict = iam_assessment.verdicts[required_action]
        if not verdict.is_allowed:
            need = iam_assessment.reason_for(required_action)
            pytest.fail(f"{verdict.reason} (needed to: {need})", pytrace=False)

    @pytest.mark.iam_check("attached")
    def test_policy_is_attached_to_task_role(self, iam_assessment: Assessment) -> None:
        if not iam_assessment.attachment.ok:
            pytest.fail(iam_assessment.attachment.message, pytrace=False)

    @pytest.mark.iam_check("trust")
    def test_task_role_trusts_ecs_tasks(self, iam_assessment: Assessment) -> None:
        if not iam_assessment.trust.ok:
            pytest.fail(iam_assessment.trust.message, pytrace=False)

    @pytest.mark.iam_check("least_privilege")
    def test_dynamodb_access_is_least_privilege(self, iam_assessment: Assessment) -> None:
        failing = iam_assessment.failing_findings
        if failing:
            lines = [f"  - [{f.id}] {f.message}" for f in failing]
            pytest.fail("broader access than the table needs:\n" + "\n".join(lines), pytrace=False)
