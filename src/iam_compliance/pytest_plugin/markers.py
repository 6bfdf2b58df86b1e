"""What each compliance test checks: its ``iam_check`` marker, never its name.

A test of the compliance suite says what it checks with ``@pytest.mark.iam_check(KIND)``,
KIND one of :class:`~..report.labels.CheckKind`'s values: ``all_actions``, ``action`` (one
required action, the test that takes ``required_action``), ``attached``, ``trust``,
``least_privilege`` or ``forbidden`` (one forbidden action, the test that takes
``forbidden_action``). The reports classify its row by the marker, so renaming the test
changes nothing. A test that uses the ``iam_assessment`` fixture without a right marker
is a usage error at collection, naming the test and the marker to add
(:class:`MarkerCheck`); the reports of that run say why.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from ..report.labels import CheckKind
from .failures import FailureTracker

MARKER = "iam_check"
#: The fixture that makes a test a compliance test.
ASSESSMENT_FIXTURE = "iam_assessment"
#: The fixture the test of each required action takes.
ACTION_FIXTURE = "required_action"
#: The fixture the test of each forbidden action takes.
FORBIDDEN_FIXTURE = "forbidden_action"
#: The check each parametrizing fixture belongs to.
_PARAMETER_OF = {CheckKind.ACTION: ACTION_FIXTURE, CheckKind.FORBIDDEN: FORBIDDEN_FIXTURE}
#: The collection report attribute that carries a marker error to the xdist controller.
ERROR_ATTRIBUTE = "iam_compliance_marker_error"


def check_of(item: pytest.Item) -> CheckKind | None:
    """The check ``item``'s marker names; None without a marker naming a known kind."""
    marker = item.get_closest_marker(MARKER)
    if marker is None or len(marker.args) != 1 or marker.kwargs:
        return None
    try:
        return CheckKind(marker.args[0])
    except (ValueError, TypeError):
        return None


def misuse(item: pytest.Item) -> str | None:
    """What is wrong with a compliance test's marker; None when it is right (or ``item``
    is no compliance test)."""
    fixtures = getattr(item, "fixturenames", ())
    if ASSESSMENT_FIXTURE not in fixtures:
        return None
    kinds = ", ".join(f'"{kind.value}"' for kind in CheckKind)
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return (
            f"{item.nodeid}: uses the {ASSESSMENT_FIXTURE} fixture but has no {MARKER} marker; "
            f"add @pytest.mark.{MARKER}(KIND) with KIND one of {kinds}, to say what it checks"
        )
    check = check_of(item)
    if check is None:
        shown = ", ".join(
            [*map(repr, marker.args), *(f"{k}={v!r}" for k, v in marker.kwargs.items())]
        )
        return (
            f"{item.nodeid}: @pytest.mark.{MARKER}({shown}) names no check; expected one "
            f"argument, one of {kinds}"
        )
    for kind, fixture in _PARAMETER_OF.items():
        marked = f'@pytest.mark.{MARKER}("{kind.value}")'
        if check is kind and fixture not in fixtures:
            return (
                f"{item.nodeid}: is marked {marked} but does not take the {fixture} "
                "fixture, which names the action it checks"
            )
        if check is not kind and fixture in fixtures:
            return f"{item.nodeid}: takes the {fixture} fixture; mark it {marked}"
    return None


class MarkerCheck:
    """Stops a run whose compliance tests do not all say what they check.

    The check is made as pytest collects each class or module, so a wrong marker is that
    collector's collection error, with and without xdist (whose controller collects
    nothing: its workers do, and send it their collection reports): the test is not run,
    the run stops with exit code 4 (:meth:`.FailureTracker.refuse`), and its reports say
    why.
    """

    def __init__(self, failures: FailureTracker) -> None:
        self.failures = failures

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self,
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if report.passed:
            items = [node for node in report.result if isinstance(node, pytest.Item)]
            problems = [problem for item in items if (problem := misuse(item)) is not None]
            if problems:
                report.outcome = "failed"
                report.longrepr = "\n".join(problems)
                report.result = []
                setattr(report, ERROR_ATTRIBUTE, report.longrepr)
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Every process (an xdist controller too, with its workers' reports): the run is
        refused, and its reports say why."""
        message = getattr(report, ERROR_ATTRIBUTE, None)
        if isinstance(message, str):
            self.failures.refuse(message)
