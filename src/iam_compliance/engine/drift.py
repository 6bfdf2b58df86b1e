"""Tell when a role or policy is managed as code, so a live fix would drift from it.

CloudFormation tags what a stack creates with ``aws:cloudformation:stack-name``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html);
teams using Terraform, Pulumi or the CDK commonly tag with ``ManagedBy`` and the like.
A live ``--fix`` of such a role changes what the next deploy puts back.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Tag keys (lower-cased) that say a resource is deployed from code.
IAC_TAG_KEYS = (
    "aws:cloudformation:stack-name",
    "aws:cloudformation:stack-id",
    "managedby",
    "managed-by",
    "managed_by",
    "terraform",
    "pulumi:project",
    "aws-cdk:stack",
)


def iac_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags among ``tags`` that say the resource is deployed from code."""
    return {key: value for key, value in tags.items() if key.lower() in IAC_TAG_KEYS}


def drift_warning(name: str, tags: Mapping[str, str]) -> str | None:
    """The warning a live fix of ``name`` gets when its tags say it is managed as code."""
    found = iac_tags(tags)
    if not found:
        return None
    listed = ", ".join(f"{key}={value}" for key, value in found.items())
    return (
        f"{name} is managed as code ({listed}): a live fix will drift from the code and the "
        "next deploy will undo it. Fix the code instead: run the suite on the plan or "
        "template with --iam-policy-file and --fix-dry-run, and apply the patch it writes "
        "to reports/fix/"
    )
