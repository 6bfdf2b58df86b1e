"""Merge the reports of a sharded run (``iam-compliance merge``): read, check, combine.

Each shard's compliance.json (``--iam-shard I/N``) is read and checked to belong to one
run (the same shard count, targets, configuration, mode, policy file, request context,
checks per target and version); then the shards' tests are put in the order a single run
over every target runs them, and what could not be checked is listed: a shard that is
missing or unreadable, that could not check, was partial or did not finish. A merge
treats a missing or failed part as "could not check", never as a pass (c7n-org's
``report``, junitparser's merge and SARIF's one ``run`` per invocation do the same).

The files are then written from :class:`MergedRun` by
:mod:`iam_compliance.pytest_plugin.replay`, through the plugins a run writes them with.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import MODES, Settings
from ..engine.target import Target
from .codec import to_json
from .document import TestEntry
from .files import SARIF_NAME
from .labels import ErrorKind
from .model import TargetSection
from .shard_entries import MergedShard, MergeEntry
from .shard_files import JSON_NAME, MergeError, ShardFile

#: A test's outcomes from the best to the worst: of a test that several shards ran (one
#: that checks no target), the merge keeps the worst.
_SEVERITY = ("passed", "xfailed", "skipped", "xpassed", "failed", "error")


@dataclass(frozen=True)
class MergedRun:
    """What the merged reports say: the run's settings, every test in a single run's
    order, each target's section, and why anything could not be checked."""

    settings: Settings
    shards: tuple[ShardFile, ...]
    count: int
    #: Every test, in the order a run over every target runs them.
    tests: tuple[TestEntry, ...]
    #: What was judged about each target, by name.
    sections: Mapping[str, TargetSection]
    #: The suite's checks of all the run's targets.
    expected: int
    lists_passed: bool
    entry: MergeEntry
    #: Each reason the merged run could not check everything, one line each.
    problems: tuple[str, ...]
    #: The names of the targets no shard checked.
    unchecked: tuple[str, ...] = field(default=())


# -- one run? -----------------------------------------------------------------------------

#: What every shard of one run has in common, and how to say it.
_SAME: tuple[tuple[str, Callable[[ShardFile], object]], ...] = (
    ("shard count", lambda f: f.shard.count),
    ("targets", lambda f: f.shard.all_targets),
    ("targets' accounts, regions and names", lambda f: to_json(f.shard.configured)),
    ("mode", lambda f: f.document.mode),
    ("policy file", lambda f: f.document.policy_file),
    ("request context", lambda f: to_json(f.document.context)),
    ("iam-compliance version", lambda f: f.document.tool.version),
    ("HTML rows setting", lambda f: f.shard.lists_passed_tests),
)


def check_one_run(files: Sequence[ShardFile]) -> None:
    """Refuse shards of different runs, a shard given twice, and overlapping shards."""
    for what, value in _SAME:
        groups: dict[str, list[str]] = {}
        for shard_file in files:
            shown = json.dumps(value(shard_file), sort_keys=True)
            groups.setdefault(shown, []).append(str(shard_file.path))
        if len(groups) > 1:
            sides = "; ".join(
                f"{_short(shown)} in {', '.join(paths)}" for shown, paths in groups.items()
            )
            raise MergeError(
                f"these reports are not shards of one run: they differ in {what}: {sides}"
            )
    per_target = {
        f.document.checks.expected // len(f.shard.targets): str(f.path)
        for f in files
        if f.document.checks is not None and f.shard.targets
    }
    if len(per_target) > 1:
        sides = "; ".join(f"{n} in {path}" for n, path in per_target.items())
        raise MergeError(
            "these reports are not shards of one run: they differ in checks per target "
            f"(another requirements file?): {sides}"
        )
    by_index: dict[int, list[str]] = {}
    for shard_file in files:
        by_index.setdefault(shard_file.shard.index, []).append(str(shard_file.path))
    for index, paths in sorted(by_index.items()):
        if len(paths) > 1:
            raise MergeError(f"shard {index} is given more than once: {', '.join(paths)}")
    seen: dict[str, str] = {}
    for shard_file in files:
        shard = shard_file.shard
        if not 1 <= shard.index <= shard.count:
            raise MergeError(
                f"{shard_file.path}: shard {shard.index} of {shard.count} does not exist"
            )
        for name in shard.targets:
            if name not in shard.all_targets:
                raise MergeError(
                    f"{shard_file.path}: target {name} is not one of the run's targets"
                )
            if name in seen:
                raise MergeError(
                    f"target {name} is in two shards ({seen[name]}, {shard_file.path}): the "
                    "shards overlap"
                )
            seen[name] = str(shard_file.path)


def _short(shown: str, limit: int = 120) -> str:
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


# -- combining ----------------------------------------------------------------------------


def merge_run(
    files: Sequence[ShardFile], unreadable: Sequence[str], *, error_attribute: str
) -> MergedRun:
    """The merged run of ``files`` (every shard's compliance.json that could be read);
    ``unreadable``: a line for each input that could not be. ``error_attribute``: the
    test report attribute that carries a target's read error (those errors are said again
    by the tests' reports, so are not repeated here)."""
    if not files:
        raise MergeError(
            "no shard's report to merge" + (": " + "; ".join(unreadable) if unreadable else "")
        )
    check_one_run(files)
    files = sorted(files, key=lambda f: f.shard.index)
    first = files[0]
    shard = first.shard
    problems = list(unreadable)
    present = {f.shard.index for f in files}
    checked = {name for f in files for name in f.shard.targets}
    missing = tuple(n for n in range(1, shard.count + 1) if n not in present)
    unchecked = tuple(name for name in shard.all_targets if name not in checked)
    if missing:
        what = (
            f"could not check its targets: {', '.join(unchecked)}"
            if unchecked
            else "the shards given hold every target, but whether it ran is not known"
        )
        problems.append(
            f"shard{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of "
            f"{shard.count} missing (no readable {JSON_NAME} of it among the inputs): {what}"
        )
    for shard_file in files:
        problems.extend(_problems_of(shard_file, error_attribute))
    per_target = next(
        (
            f.document.checks.expected // len(f.shard.targets)
            for f in files
            if f.document.checks is not None and f.shard.targets
        ),
        0,
    )
    return MergedRun(
        settings=_settings(first),
        shards=tuple(files),
        count=shard.count,
        tests=ordered_tests(files),
        sections={s.name: s for f in files for s in f.document.targets},
        expected=per_target * len(shard.all_targets),
        lists_passed=shard.lists_passed_tests,
        entry=MergeEntry(
            shards=tuple(
                MergedShard(
                    index=f.shard.index,
                    file=str(f.path),
                    generated_at=f.document.generated_at,
                    exit_status=f.document.exit_status,
                    targets=f.shard.targets,
                )
                for f in files
            ),
            missing=missing,
        ),
        problems=tuple(dict.fromkeys(problems)),
        unchecked=unchecked,
    )


def _problems_of(shard_file: ShardFile, error_attribute: str) -> list[str]:
    """Why a shard's checks are not all in the merge: they could not be made, some did
    not run, or the run did not finish. What its tests' reports say, they say again."""
    document, shard = shard_file.document, shard_file.shard
    name = f"shard {shard.index} of {shard.count} ({shard_file.path})"
    error = document.error
    if error is not None and error.kind in (ErrorKind.INTERRUPTED, ErrorKind.INTERNAL_ERROR):
        return [f"{name} did not finish (exit code {document.exit_status}): {error.message}"]
    found: list[str] = []
    carried = False
    if error is not None:
        rest = error.message
        for test in document.tests:
            for phase in test.reports:
                told = (phase.attributes or {}).get(error_attribute)
                if isinstance(told, str):
                    rest, carried = rest.replace(told, ""), True
        found.extend(line for line in rest.splitlines() if line.strip())
    checks = document.checks
    if checks is not None and checks.partial and error is None:
        found.append(f"{name} was partial: {checks.ran:,} of {checks.expected:,} checks ran")
    if not found and not carried and (error is not None or document.exit_status not in (0, 1)):
        found.append(f"{name} could not check everything (exit code {document.exit_status})")
    failed = any(test.outcome.value in ("failed", "error") for test in document.tests)
    if document.exit_status == 1 and not failed:
        # Never a pass from a report that does not add up.
        found.append(f"{name} ended with exit code 1, but none of its tests failed")
    return found


def _settings(shard_file: ShardFile) -> Settings:
    document, shard = shard_file.document, shard_file.shard
    mode = next((m for m in MODES if m == document.mode), None)
    if mode is None:
        raise MergeError(
            f"{shard_file.path}: mode must be one of {', '.join(MODES)}; got {document.mode!r}"
        )
    return Settings(
        mode=mode,
        targets=tuple(
            Target(
                name=c.name,
                region=c.region,
                account_id=c.account,
                table_name=c.table_name,
                role_name=c.role_name,
                policy_name=c.policy_name,
                s3_bucket=c.s3_bucket,
            )
            for c in shard.configured
        ),
        policy_file=Path(document.policy_file) if document.policy_file else None,
        context=dict(document.context),
    )


def ordered_tests(files: Sequence[ShardFile]) -> tuple[TestEntry, ...]:
    """Every shard's tests in the order of one run over every target: file by file (in
    the order the shards ran them), by target in the order the run was given them, then
    in the shard's own order. A test of no target, which every shard ran, is listed once,
    with its worst outcome."""
    names = files[0].shard.all_targets
    index = {name: n for n, name in enumerate(names)}
    by_length = sorted(names, key=len, reverse=True)
    file_rank: dict[str, int] = {}
    keyed: dict[str, tuple[tuple[int, int, int, int], TestEntry]] = {}
    for shard_file in files:
        for position, test in enumerate(shard_file.document.tests):
            module = test.nodeid.partition("::")[0]
            file_rank.setdefault(module, len(file_rank))
            target = test.target if test.target in index else _target_in(test.nodeid, by_length)
            place = index[target] if target is not None else -1
            key = (file_rank[module], place, shard_file.shard.index, position)
            if test.nodeid in keyed:
                kept_key, kept = keyed[test.nodeid]
                if _SEVERITY.index(test.outcome.value) <= _SEVERITY.index(kept.outcome.value):
                    continue
                key = kept_key
            keyed[test.nodeid] = (key, test)
    return tuple(test for _, test in sorted(keyed.values(), key=lambda item: item[0]))


def _target_in(nodeid: str, names: Sequence[str]) -> str | None:
    """The target a test's id names (``test_x[prod-dynamodb:Scan]``, ``test_y[prod]``),
    longest name first so that ``prod`` does not claim ``prod-eu``'s tests."""
    param = nodeid.partition("[")[2]
    for name in names:
        if param == f"{name}]" or param.startswith(f"{name}-"):
            return name
    return None


# -- SARIF --------------------------------------------------------------------------------


def merged_sarif(run: MergedRun) -> tuple[dict[str, Any] | None, str | None]:
    """One SARIF log of the whole run, or why there is none.

    GitHub's code scanning no longer combines several runs of one tool and category in
    an upload (it fails since June 2025:
    https://github.blog/changelog/2024-05-06-code-scanning-will-stop-combining-runs-from-a-single-upload/),
    so the shards' results become one ``run``, as a single run writes it. And as a single
    run, the merge writes a log only when every check was made: a log without some
    shard's problems would close their alerts.
    """
    if run.settings.policy_file is None:
        return None, None
    if run.problems:
        return None, "not every shard checked everything"
    logs = [f for f in run.shards if f.shard.targets]
    unreadable = [f.sarif_problem for f in logs if f.sarif_problem is not None]
    if unreadable:
        return None, "; ".join(unreadable)
    without = [str(f.path) for f in logs if f.sarif is None]
    if without:
        return None, f"no {SARIF_NAME} beside {', '.join(without)}"
    if not logs:
        return None, None
    base = logs[0].sarif
    assert base is not None
    runs = [r for f in logs if f.sarif is not None for r in f.sarif["runs"]]
    merged_run = dict(runs[0])
    merged_run["results"] = [result for r in runs for result in r.get("results", [])]
    merged_run["invocations"] = [{"executionSuccessful": True}]
    return {**base, "runs": [merged_run]}, None
