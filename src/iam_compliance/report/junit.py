"""JUnit XML suite properties: the mode, and each target's account, role, policy and version."""

from __future__ import annotations

from collections.abc import Mapping

from .. import __version__
from ..config import Settings
from .model import TargetSection


def junit_properties(
    settings: Settings, sections: Mapping[str, TargetSection]
) -> list[tuple[str, str]]:
    """Suite properties: mode, then each target's account, role, policy and version.

    With several targets each name is prefixed with the target's (``prod.account``).
    ``sections`` maps target names to what was judged; a target no test checked still
    gets its configuration, with ``policy_version`` ``unknown``.
    """
    properties = [("mode", settings.mode), ("iam_compliance_version", __version__)]
    several = len(settings.targets) > 1
    for target in settings.targets:
        prefix = f"{target.name}." if several else ""
        section = sections.get(target.name)
        version = "unknown"
        if section is not None:
            version = section.default_version or "not attached"
        values = [
            ("account", target.account_id),
            ("region", target.region),
            ("role", target.role_arn),
            ("policy", target.policy_arn),
            ("policy_version", version),
            ("table", target.table_arn),
        ]
        if section is not None:
            values.append(("compliant", "true" if section.compliant else "false"))
        properties.extend((prefix + name, value) for name, value in values)
    return properties
