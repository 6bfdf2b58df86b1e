"""The HTML report's own parts, rendered from Jinja2 templates with autoescape on.

pytest-html builds the page; this module renders what iam-compliance adds to it: the
verdict summary above the results, each row's Verdict and Decided-by cells and details,
and the Environment rows. Templates and CSS live in ``templates/``. Everything read from a
policy is untrusted input, and the templates escape every value they interpolate.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Mapping, Sequence, Sized
from datetime import datetime
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from .. import __version__
from ..config import Settings
from ..engine.fix.planning import MANAGED_POLICY_SIZE_LIMIT
from ..errors import ConfigurationError
from .build import utc_text
from .document import ChecksEntry, ErrorEntry, RowPayload
from .model import JSON, TargetSection

#: A longer title (the roles and accounts of many targets) gives their counts instead.
TITLE_LENGTH = 100
#: Up to this many targets the Environment table lists each one's account, ARNs and version.
LISTED_TARGETS = 3
#: The summary grid names up to this many of a target's missing actions, then counts them.
GRID_MISSING = 5
#: ``iam_compliance_html_rows = auto`` lists every test up to this many targets, and
#: beyond it only the tests that did not pass: pytest-html's page renders each row with
#: its script when it opens, and ten thousand rows take tens of seconds, so many
#: targets' page would be slow to open and huge.
ROWS_FOR_PASSED_UP_TO = 100
HTML_ROWS = ("auto", "all", "failures")


def lists_passed_tests(setting: str, targets: int, *, where: str) -> bool:
    """Whether the page lists the tests that passed (``iam_compliance_html_rows``)."""
    value = setting.strip() or "auto"
    if value not in HTML_ROWS:
        raise ConfigurationError(
            f"iam_compliance_html_rows ({where}): expected one of {', '.join(HTML_ROWS)}, "
            f"got {setting!r}"
        )
    return value == "all" or (value == "auto" and targets <= ROWS_FOR_PASSED_UP_TO)


@functools.cache
def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("iam_compliance.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        finalize=_escaped,
        bytecode_cache=_bytecode_cache(),
    )
    environment.filters["diff_kind"] = _diff_kind
    environment.filters["pretty_json"] = _pretty_json
    environment.globals["anchor"] = anchor
    return environment


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's own cache of compiled templates (a private folder in the temporary
    directory, keyed by each template's source): compiling them costs a tenth of a second
    per run. None where no safe folder can be made; templates are then compiled anew."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def anchor(kind: str, target: str, key: str = "") -> str:
    """An element id of the page: ``iamc-diff-default``, ``iamc-json-prod-dynamodb-Scan``.

    The report's links to the proposed diff and to a verdict's JSON point at these ids
    in the page itself (pytest-html would make text and JSON extras ``data:`` URLs, which
    browsers do not open from a click).
    """
    parts = [kind, target, key] if key else [kind, target]
    return "iamc-" + "-".join(re.sub(r"[^A-Za-z0-9_]+", "-", part).strip("-") for part in parts)


def links_cell(cell: str, extras: Sequence[Mapping[str, object]]) -> str:
    """pytest-html's Links ``cell`` of a row, with the links within the page opening in
    place (pytest-html opens every link in a new tab).

    Only a cell made of exactly the row's own link ``extras`` is rendered anew (pytest-html
    would make the same cell of them); any other, such as one with another plugin's
    processed extras, is left as it is.
    """
    links = [x for x in extras if x.get("format_type") in ("json", "text", "url")]
    if not links or _cells().links_cell(links, False) != cell:
        return cell
    return str(_cells().links_cell(links, True))


def _escaped(value: object) -> object:
    """Escape what a template prints the way the rest of the page does (``&quot;``).

    Markup (macros, the stylesheet) passes through; autoescape leaves the result alone.
    """
    if isinstance(value, Markup):
        return value
    return Markup(escape(str(value)))


def _css() -> Markup:
    # Our own stylesheet, not input: it may contain ">" and must not be escaped.
    text = resources.files("iam_compliance.report").joinpath("templates/style.css").read_text()
    return Markup(text)


def _diff_kind(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+") and not line.startswith("+++"):
        return "add"
    if line.startswith("-") and not line.startswith("---"):
        return "del"
    return "ctx"


def _pretty_json(document: JSON) -> str:
    return json.dumps(document, indent=4, ensure_ascii=False)


def summary_html(
    settings: Settings,
    sections: tuple[TargetSection, ...],
    *,
    error: ErrorEntry | None = None,
    exit_status: int | None = None,
    partial: str | None = None,
    checks: ChecksEntry | None = None,
    documents: Mapping[str, JSON] | None = None,
    unlisted: tuple[int, int] | None = None,
) -> str:
    """The top of the report: the mode, why the run could not check or did not finish
    (``error``, with the run's ``exit_status``, and how many ``checks`` ran), that it was
    partial (``partial``: the line saying how many checks ran), with several targets a
    grid of them, then each target's verdicts and what to do.

    ``documents`` holds each target's current default policy document: the page shows it
    once, in the target's section, and the rows link to it. ``unlisted``: how many passed
    tests, and failed required-action tests (each listed by its target's failed "all
    required permissions" row), the results table leaves out (None: it lists every test).
    """
    judged = {section.name for section in sections}
    return (
        _templates()
        .get_template("summary.html.j2")
        .render(
            css=_css(),
            mode=settings.mode,
            mode_description=mode_description(settings),
            sections=sections,
            unchecked=[t.name for t in settings.targets if t.name not in judged],
            documents=documents or {},
            size_limit=MANAGED_POLICY_SIZE_LIMIT,
            error=error,
            exit_status=exit_status,
            partial=partial,
            checks=checks,
            grid_missing=GRID_MISSING,
            unlisted=unlisted,
            compact=unlisted is not None,
            rows_up_to=ROWS_FOR_PASSED_UP_TO,
        )
    )


def row_details_html(payload: RowPayload, section: TargetSection, verdict: JSON = None) -> str:
    """The details shown under one test's row: its verdict (``verdict``: as JSON, for a
    per-action row), and for a failure links to the fix and the policy document, which
    the target's section shows once however many rows fail."""
    return (
        _templates()
        .get_template("row_details.html.j2")
        .render(
            check=payload.check.value if payload.check is not None else "",
            action=payload.action,
            section=section,
            verdict=verdict,
        )
    )


def row_cells(payload: RowPayload | None) -> list[str]:
    """The Verdict and Decided-by cells of one results row."""
    cells = _cells()
    return [str(cells.verdict_cell(payload)), str(cells.decided_cell(payload))]


def header_cells() -> list[str]:
    """The two columns iam-compliance adds after pytest-html's Result and Test columns;
    the Verdict column sorts (see templates/cells.html.j2)."""
    cells = _cells()
    return [str(cells.header_cells()), str(cells.decided_header())]


@functools.cache
def _cells() -> Any:
    """The macros of templates/cells.html.j2, called once per row."""
    return _templates().get_template("cells.html.j2").module


def stand_in_page(message: str, *, mode: str, exit_status: int | None) -> str:
    """The page of a run that could not start (``exit_status`` 4), or that has not
    finished (None: what a run leaves at its start, replaced at its end)."""
    return (
        _templates()
        .get_template("stand_in.html.j2")
        .render(
            message=message,
            mode=mode,
            exit_status=exit_status,
            finished=exit_status is not None,
        )
    )


def report_title(settings: Settings) -> str:
    """``IAM compliance: MLPlatformECSTaskRole in account 618574523116 (MOCK)``.

    With so many targets that the list would be long, their counts instead:
    ``IAM compliance: 1,000 targets, 1,000 roles in 1 account (MOCK)``. Plain text:
    pytest-html's template escapes the title itself.
    """
    roles = list(dict.fromkeys(t.role_name for t in settings.targets))
    accounts = list(dict.fromkeys(t.account_id for t in settings.targets))
    where = f"account{'s' if len(accounts) > 1 else ''} {', '.join(accounts)}"
    title = f"IAM compliance: {', '.join(roles)} in {where} ({settings.mode.upper()})"
    if len(title) <= TITLE_LENGTH:
        return title
    return (
        f"IAM compliance: {_count(settings.targets, 'target')}, {_count(roles, 'role')} in "
        f"{_count(accounts, 'account')} ({settings.mode.upper()})"
    )


def _count(items: Sized, noun: str) -> str:
    return f"{len(items):,} {noun}{'s' if len(items) != 1 else ''}"


def mode_description(settings: Settings) -> str:
    if settings.mode == "mock":
        return "MOCK: an embedded moto account, NOT a check of a real AWS account"
    return "LIVE: the account behind boto3's default credential chain"


def environment(settings: Settings, started: datetime) -> dict[str, str]:
    """The rows iam-compliance adds to pytest-html's Environment table, escaped.

    pytest-html inserts the values as markup, so they are escaped here. The default
    versions are only known once the role is read; :func:`version_key` names the row
    that is filled in then. With more than :data:`LISTED_TARGETS` targets the rows sum
    them up (how many, which accounts and regions): each target's details are in the
    summary grid and its own section, above the table.
    """
    rows = {"Mode": mode_description(settings)}
    if lists_targets(settings):
        for target in settings.targets:
            suffix = _target_suffix(settings, target.name)
            rows[f"Account{suffix}"] = target.account_id
            rows[f"Region{suffix}"] = target.region
            rows[f"Role ARN{suffix}"] = target.role_arn
            rows[f"Policy ARN{suffix}"] = target.policy_arn
            rows[version_key(settings, target.name)] = "not read (no check ran)"
            rows[f"Table ARN{suffix}"] = target.table_arn
    else:
        rows["Targets"] = (
            f"{len(settings.targets):,}; each one's account, role, policy, default version "
            "and table are in the summary above"
        )
        rows["Accounts"] = _some([t.account_id for t in settings.targets])
        rows["Regions"] = _some([t.region for t in settings.targets])
    if settings.policy_file is not None:
        rows["Policy file"] = str(settings.policy_file)
    if settings.context:
        rows["Request context"] = ", ".join(
            f"{key}={value}" for key, values in settings.context.items() for value in values
        )
    rows["Time (UTC)"] = utc_text(started)
    rows["iam-compliance version"] = __version__
    return {key: escape(value) for key, value in rows.items()}


def lists_targets(settings: Settings) -> bool:
    """Whether the Environment table has a row per target and value (few targets)."""
    return len(settings.targets) <= LISTED_TARGETS


def _some(values: Sequence[str], shown: int = 5) -> str:
    """``3: a, b, c`` or ``1,000: a, b, c, d, e and 995 more``, each value once."""
    distinct = list(dict.fromkeys(values))
    text = f"{len(distinct):,}: {', '.join(distinct[:shown])}"
    return text + (f" and {len(distinct) - shown:,} more" if len(distinct) > shown else "")


def version_key(settings: Settings, name: str) -> str:
    """The Environment row of a target's policy default version."""
    return f"Policy default version{_target_suffix(settings, name)}"


def escape(value: str) -> str:
    return html.escape(value, quote=True)


def _target_suffix(settings: Settings, name: str) -> str:
    return f" ({name})" if len(settings.targets) > 1 else ""
