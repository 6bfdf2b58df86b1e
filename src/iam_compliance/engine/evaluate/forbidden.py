"""Is a forbidden action proved impossible? The forbidden check, on the evaluator's verdict.

A ``[[forbid]]`` entry says what the workload's role must never be able to do
(``dynamodb:DeleteTable`` on the jobs table). Its request is judged by the one evaluator,
exactly as a required action's is: identity policies, boundary, the resource's policy,
guardrails, the request's context. The check passes only on a proof that the request is
refused: an explicit Deny, nothing that allows it, the permissions boundary or the
organization's guardrails. Anything else fails:

* allowed, unconditionally or under conditions this request meets: the message names the
  statement that grants it;
* could not be decided: it might be allowed, so nothing is proved; the message names the
  condition keys it depends on;
* denied only while a key the request model merely assumes absent (``aws:SourceVpce``,
  which only the running container's request can tell) stays absent: the evaluator tries
  such keys as present with an unknown value (:func:`.evaluation.evaluate`), and when the
  answer then changes, the denial is no proof that the workload cannot do it. The message
  says which key to declare;
* denied because nothing evaluated allows it, while the resource's own policy is not part
  of the verdict (not read, or not applied): in the role's account a resource-based policy
  that names the role grants the request without any identity policy ("Cross-account
  policy evaluation logic" and "Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
  and one naming the role is not limited by an implicit deny in its permissions boundary
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), so
  only an explicit Deny or the organization's guardrails prove the request refused then.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..resources import ResourceState, state_for
from .decision import Decision, either
from .evaluation import Verdict
from .trust import CheckResult

#: The decisions that prove a request refused.
DENIALS = frozenset(
    {
        Decision.EXPLICIT_DENY,
        Decision.IMPLICIT_DENY,
        Decision.BOUNDARY_DENY,
        Decision.GUARDRAIL_DENY,
    }
)


def is_proved_denied(verdict: Verdict) -> bool:
    """Whether ``verdict`` proves its request refused, whatever the keys only assumed absent."""
    return verdict.decision in DENIALS and not verdict.assumed_absent


#: Denials a resource-based policy naming the role could overturn: nothing allows it, or
#: the boundary does not (the boundary does not limit a grant to the role itself).
_OVERTURNABLE = frozenset({Decision.IMPLICIT_DENY, Decision.BOUNDARY_DENY})


def unseen_policy(
    resource: str, applied: bool, resources: Mapping[str, ResourceState]
) -> str | None:
    """Why the resource-based policy governing ``resource`` is not part of its verdict, or
    None when it is: ``applied`` (the evaluation took it in) or known to be absent."""
    if applied:
        return None
    state = state_for(resource, resources)
    if state.status == "none":
        return None
    if state.status == "read":
        return f"the resource-based policy of {state.arn} is not part of this verdict"
    return f"the resource-based policy of {state.arn} is not known ({state.detail})"


def check_forbidden(verdict: Verdict, why: str, unseen: str | None = None) -> CheckResult:
    """The forbidden check of ``verdict``'s request; ``why`` is the entry's reason;
    ``unseen``: why the resource's own policy is not part of the verdict (:func:`unseen_policy`)."""
    what = f"{verdict.action} on {verdict.resource}"
    because = f" ({why})" if why else ""
    must = f"{what} must never be allowed{because}"
    if is_proved_denied(verdict) and unseen is not None and verdict.decision in _OVERTURNABLE:
        return CheckResult(
            False,
            f"{must}, and nothing evaluated allows it ({verdict.reason}), but {unseen}: a "
            "resource-based policy that names the role could grant it, so the denial is not "
            "proved",
        )
    if is_proved_denied(verdict):
        return CheckResult(True, f"{what} is denied, as it must be{because}: {verdict.reason}")
    if verdict.is_allowed:
        return CheckResult(False, f"{must}, but {verdict.reason}")
    if verdict.decision is Decision.UNDECIDED:
        keys = tuple(dict.fromkeys(k for e in verdict.undecided_by for k in e.condition_keys))
        depends = f"; it depends on {either(keys, 'and')}" if keys else ""
        return CheckResult(
            False,
            f"{must}, but whether it is denied could not be decided, so it may be allowed: "
            f"{verdict.reason}{depends}",
        )
    keys = verdict.assumed_absent
    named = either(keys, "and")
    return CheckResult(
        False,
        f"{must}, but it is denied only while the request is assumed to carry no {named}, "
        f"which is not known: with {'it' if len(keys) == 1 else 'them'} present the answer "
        f"could differ. Declare {named} in fixtures/request_context.toml (or "
        f"--iam-context {keys[0]}=VALUE) with the value the workload's requests carry to "
        f"prove it denied ({verdict.reason})",
    )
