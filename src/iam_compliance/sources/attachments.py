"""What a Terraform plan leaves the role with: its inline and managed policies, its boundary.

Every resource type of the AWS provider that gives a role policies, takes them away or
replaces them is read (each type's page under
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/):

- ``aws_iam_role``: its ``inline_policy`` blocks and ``managed_policy_arns``. Unless the
  configuration sets them, the provider fills them from the account: they say what the
  role has today (less what this plan detaches). Set, each is exclusive: the role has
  exactly those;
- ``aws_iam_role_policy``: one inline policy;
- ``aws_iam_role_policy_attachment``: one managed policy;
- ``aws_iam_policy_attachment``: one managed policy for the ``roles`` it lists, and
  exclusive across the account: it detaches the policy from every role it does not list;
- ``aws_iam_role_policy_attachments_exclusive``: the role's managed policies are exactly
  its ``policy_arns`` (it attaches them and detaches any other);
- ``aws_iam_role_policies_exclusive``: the role's inline policies are exactly its
  ``policy_names`` (it deletes any other);
- the role's ``permissions_boundary``.

Where two of them disagree (an attachment an exclusive resource does not list) the result
depends on the order Terraform applies them, so it is open; so is a policy attached by an
ARN the plan does not define (an AWS managed policy: its document is not in the plan), and
any other ``aws_iam_*polic*`` type that names the role, which is not read here. Open
values make the verdicts they touch "could not be decided" (:mod:`..engine.evaluate.unknowns`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .model import SourcePolicy
from .plan import Plan, Resource, has_unknown

#: The resource types read here.
READ = frozenset(
    {
        "aws_iam_role",
        "aws_iam_policy",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_iam_policy_attachment",
        "aws_iam_role_policy_attachments_exclusive",
        "aws_iam_role_policies_exclusive",
    }
)
#: A managed policy the plan defines (its resource), or one it only names (its ARN).
Key = Resource | str
_ORDER = "so whether the role has it after apply depends on the order Terraform applies them"


def role_policies(plan: Plan, role: Resource) -> list[SourcePolicy]:
    """The role's policies as the plan leaves them: inline, managed, the boundary."""
    policies = plan.of_type("aws_iam_policy")
    by_arn: dict[Any, Resource] = {p.get("arn"): p for p in policies if p.get("arn")}
    found = _inline(plan, role)
    found.extend(_managed(plan, role, policies, by_arn))
    found.extend(_boundary(plan, role, by_arn))
    _unread(plan, role)
    return found


def _label(key: Key) -> str:
    return key if isinstance(key, str) else key.address


class _Given:
    """Who gives the role each policy, and whether the configuration asks for it (True)
    or it is only the account's state, which an exclusive resource replaces (False)."""

    def __init__(self) -> None:
        self.by: dict[Any, dict[str, bool]] = {}

    def give(self, key: Any, holder: Resource, asked: bool = True) -> None:
        self.by.setdefault(key, {})[holder.address] = asked

    def only(self, plan: Plan, holder: Resource, attribute: str, listed: set[Any]) -> None:
        """``holder`` says the role has exactly ``listed``: the state's others go; one the
        configuration asks for elsewhere is a conflict."""
        for key, by in list(self.by.items()):
            if key in listed:
                continue
            asked = [address for address, wanted in by.items() if wanted]
            if asked:
                plan.open(
                    holder,
                    f"{attribute} ({_label(key)})",
                    f"does not list {_label(key)}, which {', '.join(asked)} gives the role, "
                    + _ORDER,
                )
            else:
                del self.by[key]


def _inline(plan: Plan, role: Resource) -> list[SourcePolicy]:
    given = _Given()
    documents: dict[str, Callable[[], SourcePolicy]] = {}
    configured = plan.configured(role, "inline_policy")
    deleted = {
        item.get("name")
        for item in plan.deleted
        if item.type == "aws_iam_role_policy" and item.get("role") == role.get("name")
    }
    blocks = [
        (i, item)
        for i, item in enumerate(role.get("inline_policy") or [])
        if item.get("name") or item.get("policy")  # "inline_policy {}": none at all
    ]
    for i, item in blocks:
        name = str(item.get("name") or f"inline_policy[{i}]")
        if configured or name not in deleted:
            given.give(name, role, configured)
            documents[name] = _document(plan, role, name, "inline_policy", i, "policy")
    for item in plan.of_type("aws_iam_role_policy"):
        if _names(plan, item, "role", role):
            name = str(item.get("name"))
            given.give(name, item)
            documents[name] = _document(plan, item, name, "policy")
    if configured:
        given.only(plan, role, "inline_policy", {str(item.get("name")) for _, item in blocks})
    for item in plan.of_type("aws_iam_role_policies_exclusive"):
        if _names(plan, item, "role_name", role):
            if item.is_unknown("policy_names"):
                plan.open(item, "policy_names", "is known only after apply")
            listed = set(item.get("policy_names") or ())
            given.only(plan, item, "policy_names", listed)
            for name in sorted(listed - set(documents)):
                plan.open(
                    item,
                    f"inline policy {name}",
                    "is kept on the role but is not in the plan, so its document is not known",
                )
    return [documents[name]() for name in given.by]


def _managed(
    plan: Plan, role: Resource, policies: list[Resource], by_arn: Mapping[Any, Resource]
) -> list[SourcePolicy]:
    given = _Given()
    exclusive: list[tuple[Resource, str, set[Any]]] = []
    configured = plan.configured(role, "managed_policy_arns")
    if configured or not role.is_unknown("managed_policy_arns"):
        keys = _named(plan, role, "managed_policy_arns", policies, by_arn)
        detached = set() if configured else _detached(plan, role, by_arn)
        for key in keys:
            if key not in detached:
                given.give(key, role, configured)
        if configured:
            exclusive.append((role, "managed_policy_arns", set(keys)))
    for item in plan.of_type("aws_iam_role_policy_attachment"):
        if _names(plan, item, "role", role):
            for key in _named(plan, item, "policy_arn", policies, by_arn):
                given.give(key, item)
    account_wide: list[tuple[Resource, list[Key]]] = []
    for item in plan.of_type("aws_iam_policy_attachment"):
        keys = _named(plan, item, "policy_arn", policies, by_arn)
        if _names(plan, item, "roles", role):
            for key in keys:
                given.give(key, item)
        else:
            account_wide.append((item, keys))
    for item in plan.of_type("aws_iam_role_policy_attachments_exclusive"):
        if _names(plan, item, "role_name", role):
            keys = _named(plan, item, "policy_arns", policies, by_arn)
            for key in keys:
                given.give(key, item)
            exclusive.append((item, "policy_arns", set(keys)))
    for holder, attribute, listed in exclusive:
        given.only(plan, holder, attribute, listed)
    # aws_iam_policy_attachment detaches its policy from every role it does not list.
    for item, keys in account_wide:
        for key in keys:
            if key in given.by:
                plan.open(
                    item,
                    f"roles ({_label(key)})",
                    f"does not list the role, so it detaches {_label(key)}, which "
                    f"{', '.join(given.by[key])} attaches, " + _ORDER,
                )
    found = []
    for key, by in given.by.items():
        if isinstance(key, str):
            plan.open(
                next(iter(by)),
                f"managed policy {key}",
                "is not in the plan, so its document is not known",
            )
        else:
            found.append(plan.document(key, str(key.get("name")), "managed", "policy"))
    return found


def _boundary(plan: Plan, role: Resource, by_arn: Mapping[Any, Resource]) -> list[SourcePolicy]:
    boundary = role.get("permissions_boundary")
    if role.is_unknown("permissions_boundary"):
        plan.open(role, "permissions_boundary", "is known only after apply")
    elif boundary:
        linked = by_arn.get(boundary)
        if linked is not None:
            return [plan.document(linked, str(linked.get("name")), "boundary", "policy")]
        plan.open(
            role,
            f"permissions boundary {boundary}",
            "is not in the plan, so its document is not known",
        )
    return []


def _document(
    plan: Plan, holder: Resource, name: str, *attribute: str | int
) -> Callable[[], SourcePolicy]:
    """The inline policy's document, read only if the role keeps it."""
    return lambda: plan.document(holder, name, "inline", *attribute)


def _names(plan: Plan, item: Resource, attribute: str, role: Resource) -> bool:
    """Whether ``item`` names the role; when that is known only after apply, open."""
    named = plan.names(item, attribute, role)
    if named is None:
        plan.open(
            item, attribute, "is known only after apply, so whether it names the role is not known"
        )
    return bool(named)


def _named(
    plan: Plan,
    holder: Resource,
    attribute: str,
    policies: list[Resource],
    by_arn: Mapping[Any, Resource],
) -> list[Key]:
    """The managed policies ``attribute`` (an ARN or a list of them) names.

    A policy the plan creates has no ARN yet: the configuration's reference names it. A
    value known only after apply that refers to no policy of the plan is open.
    """
    keys: list[Key] = [p for p in policies if plan.refers(holder, attribute, p)]
    value = holder.get(attribute)
    for arn in value if isinstance(value, list) else [value]:
        if isinstance(arn, str) and by_arn.get(arn, arn) not in keys:
            keys.append(by_arn.get(arn, arn))
    if has_unknown(holder.unknown.get(attribute)) and not any(
        isinstance(key, Resource) and plan.refers(holder, attribute, key) for key in keys
    ):
        plan.open(holder, attribute, "is known only after apply")
    return keys


def _detached(plan: Plan, role: Resource, by_arn: Mapping[Any, Resource]) -> set[Any]:
    """The managed policies this plan detaches from the role (attachments it deletes)."""
    found: set[Any] = set()
    for item in plan.deleted:
        names = item.get("role") if item.type == "aws_iam_role_policy_attachment" else None
        if item.type == "aws_iam_policy_attachment":
            names = item.get("roles")
        if role.get("name") in (names if isinstance(names, list) else [names]):
            arn = item.get("policy_arn")
            found.add(by_arn.get(arn, arn))
    return found


def _unread(plan: Plan, role: Resource) -> None:
    """Another policy resource type that names the role: open, never silently dropped."""
    for item in plan.resources:
        if item.type in READ or not (item.type.startswith("aws_iam_") and "polic" in item.type):
            continue
        for attribute in ("role", "role_name", "roles"):
            present = attribute in item.after or attribute in item.unknown
            if present and plan.names(item, attribute, role) is not False:
                plan.open(
                    item,
                    item.type,
                    "names the role but is not read here, so what it does to the role's "
                    "policies is not known",
                )
                break
