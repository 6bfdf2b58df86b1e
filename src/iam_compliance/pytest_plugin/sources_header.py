"""What the run's header says about --iam-policy-file: the file's kind, and what it leaves
open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..engine.target import Target

if TYPE_CHECKING:
    from ..aws.mock import MockAccounts


def source_lines(mock: MockAccounts, targets: Sequence[Target]) -> list[str]:
    """What the header says about --iam-policy-file: its kind, and what it leaves open."""
    lines = []
    for target in targets:
        source = mock.source(target)
        if source is None:
            continue
        what = {
            "policy": "the task policy",
            "terraform-plan": "a Terraform plan",
            "cloudformation": "a CloudFormation template",
        }[source.kind]
        lines.append(f"  {source.label}: {what}, seeding the account of target {target.name}")
        if source.role_path != "/":
            lines.append(
                f"    role path {source.role_path}: the role's ARN is "
                f"arn:{target.partition}:iam::{target.account_id}:role{source.role_path}"
                f"{target.role_name}"
            )
        if source.describes_role and source.table_place is None:
            lines.append(f"    the table is not in {source.path}: seeded from the fixtures")
        lines.extend(f"    not known: {unknown.text}" for unknown in source.unknowns)
    return lines
