"""Names vulture cannot see used: each is used by name, by code outside the project.

``vulture`` (run by ``.ci/run`` and ``testing/test_code_quality.py``, configured in
pyproject.toml's ``[tool.vulture]``) reads this file beside ``src``; nothing imports it.
pytest's hooks (``pytest_*``, called by name) and fixtures (``@pytest.fixture``) are left
out there, by name and by decorator. Anything else it reports is dead: remove it, or add
it here with the reason it is used.
"""

import argparse

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

from iam_compliance import __getattr__
from iam_compliance.pytest_plugin.checks import TestRoleCompliance
from iam_compliance.pytest_plugin.collection import PackagedClass, RequirementsFile
from iam_compliance.pytest_plugin.transcript import RecordedFailure
from iam_compliance.report.document import ReportDocument
from iam_compliance.report.labels import Outcome
from iam_compliance.report.model import ActionEntry, ForbiddenEntry

_ = (
    # Python's module __getattr__ (PEP 562): the package's lazy ``__version__``.
    __getattr__,
    # Read field by field by report/codec.py's to_json, into compliance.json.
    ReportDocument.schema,
    ReportDocument.tool,
    ActionEntry.assumes_absent,
    # Made from pytest's own word by Outcome(report.outcome) (pytest_plugin/ledger.py).
    Outcome.FAILED,
    # pytest-html's option, set for the reports the plugin publishes
    # (pytest_plugin/publishing.py).
    argparse.Namespace().self_contained_html,
    # xdist calls it to group a target's tests on one worker (pytest_plugin/xdist.py).
    LoadScopeScheduling._split_scope,
    # pytest's TerminalReporter calls it on a report's longrepr (a replayed report's).
    RecordedFailure.toterminal,
    # The packaged checks: pytest collects their tests by name (pytest_plugin/collection.py).
    TestRoleCompliance.test_role_has_all_required_permissions,
    TestRoleCompliance.test_required_action_is_allowed,
    TestRoleCompliance.test_forbidden_action_is_denied,
    TestRoleCompliance.test_policy_is_attached_to_role,
    TestRoleCompliance.test_role_trusts_its_service,
    TestRoleCompliance.test_access_is_least_privilege,
    # pytest's collection calls them on its nodes.
    RequirementsFile.collect,
    PackagedClass.funcnamefilter,
    # Read by the HTML templates (report/templates/) and into compliance.json.
    ForbiddenEntry.forbidden_because,
)
