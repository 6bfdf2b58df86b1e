"""SARIF 2.1.0 for a run on a source file, for code scanning on pull requests.

One rule per check kind: a required action that is not allowed, a forbidden action that
is not proved denied, the trust check (of the workload's service), the attachment check
and each least-privilege finding id
(:data:`iam_compliance.engine.evaluate.privilege.FINDING_KINDS`, and
:data:`iam_compliance.engine.evaluate.unknowns.UNKNOWN_POLICY`). Each result points at the line
of the statement (or resource) in the source file, relative to the repository root, and
carries a fingerprint that stays the same while the problem does, so code scanning
tracks it across commits.

The format: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html (GitHub's
subset: https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.evaluate.privilege import FINDING_KINDS
from ..engine.evaluate.unknowns import UNKNOWN_POLICY
from ..sources.locations import Where, locate
from ..sources.model import Source
from .model import JSONObject, TargetSection

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MISSING_ACTION = "MISSING_ACTION"
#: The trust check's rule: ECS's tasks' for a task role (the default workload), any other
#: service's under a rule of its own, so the ECS rule's alerts keep their meaning.
TRUST = "ECS_TASKS_TRUST"
SERVICE_TRUST = "SERVICE_TRUST"
ATTACHED = "TASK_POLICY_ATTACHED"
FORBIDDEN = "FORBIDDEN_ACTION"
_ECS_TASKS = "ecs-tasks.amazonaws.com"

_RULES: tuple[tuple[str, str, str, str], ...] = (
    (
        MISSING_ACTION,
        "Required action not allowed",
        "error",
        "The workload needs this action on its resource, and IAM would not allow it (or it "
        "could not be decided). Add it to the task policy: run the suite with "
        "--fix-dry-run to get a patch of this file.",
    ),
    (
        ATTACHED,
        "Task policy not attached to the role",
        "error",
        "The configured managed policy must exist and be attached to the task role.",
    ),
    *(
        (kind.id, kind.title, "error" if kind.severity == "fail" else "note", kind.help)
        for kind in (*FINDING_KINDS.values(), UNKNOWN_POLICY)
    ),
    (
        FORBIDDEN,
        "Forbidden action not proved denied",
        "error",
        "The workload's role must never be able to do this action on this resource "
        "([[forbid]] in required_actions.toml), but IAM would allow it, or whether it "
        "would could not be decided, or it is denied only while a condition key is assumed "
        "absent. Narrow or remove the statement that grants it (a fix never removes one).",
    ),
)


def trust_rule(service: str) -> tuple[str, str, str, str]:
    """The trust check's rule for a workload whose role ``service`` must be able to assume."""
    if service == _ECS_TASKS:
        return (
            TRUST,
            "ECS tasks cannot assume the role",
            "error",
            "The role's trust policy must allow the service principal ecs-tasks.amazonaws.com "
            "to call sts:AssumeRole.",
        )
    return (
        SERVICE_TRUST,
        f"{service} cannot assume the role",
        "error",
        f"The role's trust policy must allow the service principal {service} (the "
        "workload's trusted_service) to call sts:AssumeRole.",
    )


def sarif_document(
    sections: Sequence[TargetSection],
    sources: Mapping[str, Source],
    *,
    root: Path,
) -> JSONObject:
    """The SARIF log of a run: ``sources`` by target name; paths relative to ``root``."""
    service = sections[0].trusted_service if sections else _ECS_TASKS
    missing, *others = _RULES
    rules: list[Any] = [
        {
            "id": rule_id,
            "name": "".join(word.title() for word in rule_id.split("_")),
            "shortDescription": {"text": title},
            "fullDescription": {"text": help_text},
            "help": {"text": help_text},
            "defaultConfiguration": {"level": level},
        }
        for rule_id, title, level, help_text in (missing, trust_rule(service), *others)
    ]
    results: list[Any] = []
    for section in sections:
        source = sources.get(section.name)
        if source is not None:
            results.extend(_results(section, source, root))
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "iam-compliance",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
                # Only a complete run writes a log (see pytest_plugin/sourcing.py): one that
                # did not finish writes none, so code scanning closes no alert it left open.
                "invocations": [{"executionSuccessful": True}],
                "results": results,
            }
        ],
    }


def _results(section: TargetSection, source: Source, root: Path) -> list[Any]:
    found: list[Any] = []
    task_policy = locate(source, section.policy_arn.rsplit("/", 1)[-1])
    role = (
        Where(str(source.path), source.role_place.line, source.role_place.address)
        if source.role_place is not None
        else task_policy
    )
    # Where nothing decided a missing action, the statement the fix extends is the place.
    extended = section.proposed_fix.statement if section.proposed_fix is not None else None
    policy_name = section.policy_arn.rsplit("/", 1)[-1]
    for entry in section.missing:
        where = None
        if entry.deciding is not None:
            where = locate(source, entry.deciding.policy, entry.deciding.statement)
        elif extended is not None:
            where = locate(source, policy_name, extended)
        where = where or task_policy
        text = f"{entry.id} ({entry.needed_for}) is {entry.verdict.label}: {entry.reason}"
        found.append(_result(MISSING_ACTION, "error", text, where, source, root, section, entry.id))
    for forbid in section.not_denied:
        where = None
        if forbid.deciding is not None:
            where = locate(source, forbid.deciding.policy, forbid.deciding.statement)
        where = where or task_policy
        key = f"{forbid.id}:forbidden"
        found.append(_result(FORBIDDEN, "error", forbid.message, where, source, root, section, key))
    for finding in section.findings:
        where = locate(source, finding.policy, finding.statement) or task_policy
        level = "error" if finding.severity == "fail" else "note"
        key = f"{finding.id}:{finding.policy}:{finding.statement}"
        found.append(_result(finding.id, level, finding.message, where, source, root, section, key))
    for rule_id, check in (
        (trust_rule(section.trusted_service)[0], section.checks.trusts_ecs_tasks),
        (ATTACHED, section.checks.attached),
    ):
        if not check.ok:
            found.append(
                _result(rule_id, "error", check.message, role, source, root, section, rule_id)
            )
    return found


def _result(
    rule_id: str,
    level: str,
    text: str,
    where: Where | None,
    source: Source,
    root: Path,
    section: TargetSection,
    key: str,
) -> JSONObject:
    path = relative_path(source.path, root)
    line = where.line if where is not None else 1
    address = where.address if where is not None else str(source.path)
    fingerprint = hashlib.sha256(
        "\0".join((rule_id, path, address, section.role_arn, key)).encode()
    ).hexdigest()
    return {
        "ruleId": rule_id,
        "level": level,
        "message": {"text": f"{text} ({address})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": line},
                },
                "logicalLocations": [{"fullyQualifiedName": address}],
            }
        ],
        "partialFingerprints": {"iamCompliance/v1": fingerprint},
    }


def source_root(path: Path, rootdir: Path) -> Path:
    """The folder a source file's SARIF paths are relative to (``%SRCROOT%``).

    Code scanning places a result by its path relative to the checkout it uploads from
    (upload-sarif's ``checkout_path``), so an absolute path is never placed. A file in the
    project is relative to the project's rootdir; one outside it, to the git work tree that
    holds it (the checkout of the repository that keeps the infrastructure), else to its
    own folder.
    """
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    if absolute.is_relative_to(rootdir.resolve()):
        return rootdir.resolve()
    for folder in absolute.parents:
        if (folder / ".git").exists():
            return folder
    return absolute.parent


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in URI form (forward slashes), when it is under it."""
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
