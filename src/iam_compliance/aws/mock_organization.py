"""The embedded account's organization, seeded from ``fixtures/guardrails/organization.toml``.

The file (optional; without it the embedded account is in no organization)::

    management_account = "000000000001"       # optional
    path = ["Workloads", "ML"]                # the OUs from the root down to the account
    detach_full_aws_access = ["ML"]           # optional: levels without FullAWSAccess

    [[policy]]
    name = "DenyOutsideUsEast1"
    type = "scp"                              # or "rcp"
    attach = "root"                           # "root", an OU of path, or "account"
    file = "deny-other-regions.json"          # next to organization.toml; ${AWS_REGION}...

moto's Organizations backend holds it, as it would in AWS: FullAWSAccess and
RCPFullAWSAccess attached everywhere, the policies above attached where they say. It is
read back through the same :class:`~.organization.OrganizationReader` as a live one, as the
management account (moto, like AWS, lets only it read the organization).
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from ..engine.decoding import load_document
from ..engine.target import Target
from ..errors import ConfigurationError

ORGANIZATION_FILE = Path("guardrails/organization.toml")
#: The management account when the file names none.
MANAGEMENT_ACCOUNT = "000000000001"
_TYPES = {"scp": "SERVICE_CONTROL_POLICY", "rcp": "RESOURCE_CONTROL_POLICY"}


def read_layout(fixtures_dir: Path) -> dict[str, Any] | None:
    """The organization file, checked; None when there is none."""
    path = fixtures_dir / ORGANIZATION_FILE
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read as TOML ({exc})") from None
    ous = data.get("path", [])
    if not isinstance(ous, list) or not all(isinstance(name, str) and name for name in ous):
        raise ConfigurationError(f'{path}: path must be a list of OU names, e.g. ["Workloads"]')
    detached = data.get("detach_full_aws_access", [])
    if not isinstance(detached, list) or not all(
        name in ("root", "account", *ous) for name in detached
    ):
        raise ConfigurationError(
            f'{path}: detach_full_aws_access must list "root", "account" or OUs of path '
            f"{ous}, got {detached!r}"
        )
    for number, policy in enumerate(data.get("policy", []), start=1):
        where = f"{path}: policy #{number}"
        if not isinstance(policy, dict) or policy.get("type") not in _TYPES:
            raise ConfigurationError(f'{where}: type must be "scp" or "rcp"')
        if policy.get("attach") not in ("root", "account", *ous):
            raise ConfigurationError(
                f'{where}: attach must be "root", "account" or one of path {ous}, '
                f"got {policy.get('attach')!r}"
            )
        if not isinstance(policy.get("name"), str) or not isinstance(policy.get("file"), str):
            raise ConfigurationError(f'{where}: "name" and "file" must be strings')
    return data


def seed_organization(
    layout: dict[str, Any],
    fixtures_dir: Path,
    target: Target,
    organizations: Any,
    fill: Callable[[str, Target, str], str],
) -> None:
    """Create the organization with ``organizations``, a client of the management account.

    ``fill`` replaces the ``${...}`` placeholders of a policy file for ``target``.
    """
    errors = organizations.exceptions
    _forget_stale_memberships()
    # Another target of the run may already have made the organization.
    with contextlib.suppress(errors.AlreadyInOrganizationException):
        organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    for policy_type in _TYPES.values():
        with contextlib.suppress(errors.PolicyTypeAlreadyEnabledException):
            organizations.enable_policy_type(RootId=root, PolicyType=policy_type)
    parent, ids = root, {"root": root, "account": target.account_id}
    if management_account(layout) == target.account_id:
        _attach(layout, fixtures_dir, target, organizations, fill, ids)
        return  # the management account is the organization's own, under its root
    # moto cannot invite an existing account, and makes up the id of a new one: it is given
    # the target's id here, so that the organization holds the account being checked.
    with mock.patch(
        "moto.organizations.utils.make_random_account_id", return_value=target.account_id
    ):
        organizations.create_account(AccountName=target.name, Email=f"{target.name}@example.com")
    for name in layout.get("path", []):
        units = organizations.list_organizational_units_for_parent(ParentId=parent)
        existing = [u["Id"] for u in units["OrganizationalUnits"] if u["Name"] == name]
        parent = (
            existing[0]
            if existing
            else organizations.create_organizational_unit(ParentId=parent, Name=name)[
                "OrganizationalUnit"
            ]["Id"]
        )
        ids[name] = parent
    organizations.move_account(
        AccountId=target.account_id, SourceParentId=root, DestinationParentId=parent
    )
    _attach(layout, fixtures_dir, target, organizations, fill, ids)


def _forget_stale_memberships() -> None:
    """Drop moto's memberships whose organization is gone.

    moto keeps "account -> its management account" in a registry that outlives a reset of
    its backends, so an account made a member by an earlier embedded account in the same
    process (several in-process runs, as under pytester) would look like a member of an
    organization that no longer exists, and could not create its own.
    """
    from moto.organizations.models import organizations_backends

    registry = organizations_backends.master_accounts
    for account, (management, partition) in list(registry.items()):
        if organizations_backends[management][partition].org is None:
            del registry[account]


def _attach(
    layout: dict[str, Any],
    fixtures_dir: Path,
    target: Target,
    organizations: Any,
    fill: Callable[[str, Target, str], str],
    ids: dict[str, str],
) -> None:
    """Detach FullAWSAccess where the layout says, and attach its policies."""
    errors = organizations.exceptions
    for level in layout.get("detach_full_aws_access", []):
        # Not there when another target of the run already detached it.
        with contextlib.suppress(errors.PolicyNotAttachedException):
            organizations.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ids[level])
    for policy in layout.get("policy", []):
        path = fixtures_dir / ORGANIZATION_FILE.parent / policy["file"]
        try:
            text = fill(path.read_text(encoding="utf-8"), target, str(path))
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot be read ({exc})") from None
        document = load_document(text, str(path))
        listed = organizations.list_policies(Filter=_TYPES[policy["type"]])["Policies"]
        existing = [p["Id"] for p in listed if p["Name"] == policy["name"]]
        created = (
            existing[0]
            if existing
            else organizations.create_policy(
                Name=policy["name"],
                Description=policy["name"],
                Type=_TYPES[policy["type"]],
                Content=json.dumps(document),
            )["Policy"]["PolicySummary"]["Id"]
        )
        organizations.attach_policy(PolicyId=created, TargetId=ids[policy["attach"]])


def management_account(layout: dict[str, Any]) -> str:
    return str(layout.get("management_account", MANAGEMENT_ACCOUNT))
