"""The requirements file is a test module of its own: it holds the plugin's checks.

A project that turns the suite on (``iam_compliance_fixtures``) needs no test module:
when pytest's collection reaches ``<fixtures>/required_actions.toml`` (a bare ``pytest``
in the project, ``pytest compliance/``, or the file itself), :meth:`ChecksCollection.
pytest_collect_file` collects it as :class:`RequirementsFile`, whose one class is the
packaged :class:`~.checks.TestRoleCompliance` (pytest's way for non-Python tests: a
node of its own from ``pytest_collect_file``; a ``pytest.Module``, as the checks are
Python test functions).

The rule that keeps a project from getting the checks twice: the packaged checks are
collected only when the run collected no compliance test of its own, that is, no test
that uses the ``iam_assessment`` fixture (this repository's
``tests/test_ecs_task_dynamodb_permissions.py``, or a module that subclasses or calls the
packaged checks). It is decided on what was *collected*, before ``-k``, ``--deselect`` or
``--lf`` choose among it, so they cannot bring the packaged checks back; to decide it
there, every collector leads to the requirements file last: a collector's children that
hold it are moved after their siblings, as cacheprovider's ``--lf`` reorders them. Each
xdist worker collects the same way, so they agree.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import Path

import pytest

from .markers import ASSESSMENT_FIXTURE

#: The packaged class's name: the node id's part after the file.
CLASS_NAME = "TestRoleCompliance"


class ChecksCollection:
    """Collects the packaged checks from the requirements file, unless the run collected
    compliance tests of its own."""

    def __init__(self, requirements_file: Path) -> None:
        self.path = requirements_file.absolute()
        #: Whether a compliance test of the project's own was collected.
        self.own_checks = False

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.File | None:
        if file_path.absolute() != self.path:
            return None
        return RequirementsFile.from_parent(parent, path=file_path, collection=self)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        """The children that lead to the requirements file last: by then every other
        compliance test of the run has been collected."""
        report = yield
        if report.passed and len(report.result) > 1:
            report.result = sorted(report.result, key=self._holds_requirements)
        return report

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        if ASSESSMENT_FIXTURE in getattr(item, "fixturenames", ()) and not _is_packaged(item):
            self.own_checks = True

    def _holds_requirements(self, node: pytest.Item | pytest.Collector) -> bool:
        path = node.path.absolute()
        return path == self.path or path in self.path.parents


class RequirementsFile(pytest.Module):
    """``required_actions.toml`` as a test module: the packaged checks, when the run has
    none of its own.

    A ``pytest.Module`` (its tests are Python functions, which pytest collects only under
    a module) whose module object is :mod:`.checks`, given through the node's ``obj``;
    the file itself is never imported.
    """

    def __init__(self, *, collection: ChecksCollection, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.collection = collection
        from . import checks  # the engine only now: the suite is on

        self.obj = checks

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        if self.collection.own_checks:
            return []
        found = PackagedClass.from_parent(self, name=CLASS_NAME)
        found.obj = self.obj.TestRoleCompliance
        return [found]


class PackagedClass(pytest.Class):
    """The packaged checks' class: its tests whatever the project's ``python_functions``."""

    def funcnamefilter(self, name: str) -> bool:
        return name.startswith("test_")


def _is_packaged(item: pytest.Item) -> bool:
    return any(isinstance(node, RequirementsFile) for node in item.listchain())
