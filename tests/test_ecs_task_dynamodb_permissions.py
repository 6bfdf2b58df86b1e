"""Can the ML platform's ECS task role do what its training containers need on ml-jobs?

Every verdict is IAM's own evaluation logic applied to the role's attached managed
policies, inline policies and permissions boundary; the fixtures come from the
iam-compliance plugin (``iam_assessment``, ``required_action``, ``forbidden_action``).
Run:

    pytest tests/test_ecs_task_dynamodb_permissions.py -v

The plugin provides these checks itself (``iam_compliance.pytest_plugin.checks``, collected
from the requirements file in a project without a module of its own); this module keeps
the node ids the runbook names, and asks the same questions through the same functions.
A failure's message is the whole explanation (which policy and statement decided it).
Each test's ``iam_check`` marker says what it checks, which is how the reports classify
its row.
"""

import pytest

from iam_compliance.engine.evaluate.assessment import Assessment
from iam_compliance.pytest_plugin import checks


class TestECSTaskRoleDynamoDBPermissions:
    @pytest.mark.iam_check("all_actions")
    def test_task_role_has_all_required_permissions(self, iam_assessment: Assessment) -> None:
        checks.all_allowed(iam_assessment)

    @pytest.mark.iam_check("action")
    def test_required_action_is_allowed(
        self, iam_assessment: Assessment, required_action: str
    ) -> None:
        checks.action_allowed(iam_assessment, required_action)

    @pytest.mark.iam_check("forbidden")
    def test_forbidden_action_is_denied(
        self, iam_assessment: Assessment, forbidden_action: str
    ) -> None:
        checks.forbidden_denied(iam_assessment, forbidden_action)

    @pytest.mark.iam_check("attached")
    def test_policy_is_attached_to_task_role(self, iam_assessment: Assessment) -> None:
        checks.policy_attached(iam_assessment)

    @pytest.mark.iam_check("trust")
    def test_task_role_trusts_ecs_tasks(self, iam_assessment: Assessment) -> None:
        checks.service_trusted(iam_assessment)

    @pytest.mark.iam_check("least_privilege")
    def test_dynamodb_access_is_least_privilege(self, iam_assessment: Assessment) -> None:
        checks.least_privilege(iam_assessment)
