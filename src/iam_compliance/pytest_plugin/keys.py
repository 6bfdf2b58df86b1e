"""The stash keys of the plugin's objects: one per feature, set by :mod:`.wiring`.

The classes are named as strings, so that importing the keys (as :mod:`.plugin` does in
every pytest run) imports neither boto3 nor the report layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..aws.redaction import CredentialRedactor  # noqa: F401
    from .checker import Checker  # noqa: F401
    from .failures import FailureTracker  # noqa: F401
    from .fixing import Fixer  # noqa: F401
    from .ledger import VerdictLedger  # noqa: F401
    from .reports import ReportWriter  # noqa: F401

checker_key = pytest.StashKey["Checker"]()
fixer_key = pytest.StashKey["Fixer"]()
failures_key = pytest.StashKey["FailureTracker"]()
ledger_key = pytest.StashKey["VerdictLedger"]()
writer_key = pytest.StashKey["ReportWriter"]()
redactor_key = pytest.StashKey["CredentialRedactor"]()
