"""The resource's side of a request: the policy that governs it, how that policy combines
with the role's, and what keeps it from being known.

The governing resource of a requirement's ARN (a table for its indexes, a bucket for
its objects: :func:`~iam_compliance.engine.resources.governing_resource`) is looked up
among what the run read
(``RoleSnapshot.resources``). Its policy is applied as AWS documents for its service:

* DynamoDB table, index and stream, SQS queue, SNS topic, Secrets Manager secret: the
  resource-based policy, with IAM's same-account union (:class:`.combination.Combination`
  ``EITHER``): "If an action is allowed by an identity-based policy, a resource-based
  policy, or both, then AWS allows the action. An explicit deny in either of these
  policies overrides the allow"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
  a table's policy governs its indexes ("You can control index permissions using the base
  table's policy",
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html).
* S3 bucket and its objects: the bucket policy, with the same union when the bucket is
  the role's account's: S3 authorizes the request in the user context (the role's
  policies) and the bucket context (the bucket policy), and "If the requester is an IAM
  principal ... the parent AWS account to which the principal belongs" owning the bucket
  lets either grant it
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html).
  S3 ACLs are not read: since April 2023 new buckets have them disabled (Object
  Ownership "bucket owner enforced"), and they never grant a role of the bucket owner's
  account anything its policies do not.
* KMS key: the key policy, ``KEY_POLICY``; its grants (:mod:`.keys`).
* A resource of another account (``ResourceState.cross_account``; for a bucket, its
  owner as S3 confirmed it): ``BOTH``, identity and resource policy must allow.

A governing resource whose policy could not be read, or does not exist, leaves every
verdict that depends on it undecided, naming the read and the permission the checker
lacks. One whose policy is not read at all (another service, a pattern over several
resources) takes no part; the verdict says so, and ``--iam-strict-resources`` makes it
undecided instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..policy import Policy
from ..resources import (
    ResourceState,
    account_in,
    governing_resource,
    not_read,
    policy_name,
    state_for,
)
from .combination import Combination

#: The option that makes a policy that was not read leave its verdicts undecided.
STRICT_OPTION = "--iam-strict-resources"


@dataclass(frozen=True)
class ResourceSide:
    """What a request's resource contributes to its verdict."""

    #: The governing resource as read; None when there is none, or it was not read.
    state: ResourceState | None
    #: Its policy (the table's, the bucket's, the key policy); None: it has none here.
    policy: Policy | None = None
    combination: Combination = Combination.EITHER
    #: How sentences name the resource's side; None for the target's table (its policy
    #: is "the table resource policy").
    label: str | None = None
    #: Why the resource's policy cannot be known: its verdicts are undecided.
    blocked: str = ""
    #: Why the resource's policy takes no part (it is not read): a note in the verdict.
    not_read: str = ""
    #: Whether the resource is the target's own table (or one of its indexes).
    is_target_table: bool = False

    @property
    def account(self) -> str | None:
        if self.state is None:
            return None
        return self.state.account or account_in(self.state.arn)


#: The side of a request on ``*`` (an action that takes no resource): no resource policy.
NO_RESOURCE = ResourceSide(None)


def side_of(
    resource: str,
    resources: Mapping[str, ResourceState] | None,
    *,
    role_account: str,
    table_arn: str | None,
    table_policy: Policy | None,
    strict: bool = False,
) -> ResourceSide:
    """The resource side of a request on ``resource`` (an ARN, or a pattern of them)."""
    if resource == "*":
        return NO_RESOURCE
    governing = governing_resource(resource)
    found = resources or {}
    if governing is not None and governing.arn == table_arn:
        # The target's own table: its policy as read with the role (TableState).
        return ResourceSide(found.get(table_arn), table_policy, is_target_table=True)
    state = state_for(resource, found) if governing is not None else not_read(resource)
    if state.status == "unsupported":
        why = f"its own policy was not read: {state.detail}"
        if strict:
            label = "the resource's own policy"
            return ResourceSide(state, label=label, blocked=f"{why} ({STRICT_OPTION})")
        return ResourceSide(state, not_read=why)
    what = policy_name(state.kind, state.arn)
    if not state.is_read:
        return ResourceSide(state, label=f"the {what}", blocked=unread(what, state))
    account = state.account or account_in(state.arn)
    cross = state.cross_account
    if cross is None and not account:
        # Whose resource it is decides how the two policies combine (one Allow is enough in
        # the same account, both are needed across accounts:
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
        # Not known, neither reading proves an allow, nor a denial (a forbid's proof).
        return ResourceSide(
            state,
            label=f"the {what}",
            blocked=f"the account that owns {state.arn} is not known",
        )
    if cross is None:
        cross = account != role_account
    if state.service == "kms":
        combination = Combination.BOTH if cross else Combination.KEY_POLICY
    else:
        combination = Combination.BOTH if cross else Combination.EITHER
    policy = state.resource_policy
    if policy is not None and policy.name != what:
        policy = dataclasses.replace(policy, name=what)
    kind_of_policy = what.split(" of ")[0]
    label = f"the {what}" if policy is not None else f"{state.arn} (it has no {kind_of_policy})"
    return ResourceSide(state, policy, combination, label)


def unread(what: str, state: ResourceState) -> str:
    """Why a resource's policy is not known: the read the checker was refused (naming the
    permission it lacks), or what went wrong."""
    if state.status == "not-found":
        return f"{state.arn} was not found ({state.detail})"
    if state.missing_action is not None:
        return (
            f"the {what} could not be read: the identity running the checker needs "
            f"{state.missing_action} on {state.arn}"
        )
    return f"the {what} could not be read: {state.detail}"
