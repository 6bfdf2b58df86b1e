"""Which statements of a policy apply to a request: action, resource, conditions.

A statement *applies* when its Action matches the action (or its NotAction matches none
of the patterns), its Resource matches the resource (or its NotResource matches none),
and its conditions hold. Whether it applies can also be *undecided* (None): a condition
the evaluator cannot evaluate, a resource match AWS does not document, or a key whose
absence from the request is only assumed. A statement whose action and resource match
but whose conditions fail is a *near miss*: it says what the request would need.

When the requested resource is itself a pattern (a requirement on every index of a
table), an Allow applies only if it covers every resource the pattern stands for, and a
Deny as soon as it reaches one of them (:func:`.matching.covers_resource`,
:func:`.matching.overlaps_resource`).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from ..matching import covers_resource, is_pattern, match_resource, overlaps_resource
from ..policy import Policy, Statement
from .conditions import ConditionState, FailedCondition, evaluate_conditions
from .variables import UnknownValues, substitute_variables


@dataclass(frozen=True)
class Request:
    """What is being decided."""

    action: str
    #: The resource's ARN, or a pattern of ARNs (a requirement on many resources).
    resource: str
    #: The context with lower-cased keys (see :func:`.variables.normalize_context`).
    context: Mapping[str, tuple[str, ...]]
    #: Lower-cased keys absent from ``context`` whose absence is only assumed.
    unknown: Container[str] = frozenset()
    #: Keys the request carries with a value not known here (lower-cased) -> its start.
    unknown_values: UnknownValues = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """One statement that took part in a decision."""

    #: The policy's label (``MLPlatformECSTaskPolicy v1``, ``inline policy X``,
    #: ``permissions boundary B v1``, ``table resource policy``).
    policy: str
    #: The statement's label (``statement "DynamoDBJobs"`` or ``statement #2``).
    statement: str
    effect: str
    #: Condition keys whether the statement applies hinged on, as written in the policy.
    condition_keys: tuple[str, ...] = ()
    #: Why a condition could not be decided, for UNDECIDED evidence.
    note: str | None = None

    def describe(self) -> str:
        text = f"{self.policy}, {self.statement}"
        if self.condition_keys:
            text += f" (conditions on {', '.join(self.condition_keys)})"
        if self.note:
            text += f": {self.note}"
        return text


@dataclass(frozen=True)
class NearMiss:
    """An Allow that covers the action and resource, but whose conditions fail here."""

    policy: str
    statement: str
    failed: tuple[FailedCondition, ...]

    def describe(self) -> str:
        """``P v3, statement "Jobs": grants it only when K is V; this request's K is W``."""
        first = self.failed[0]
        text = f"{self.policy}, {self.statement} grants it only when {first.requirement()}"
        return f"{text}; {first.found()}"


@dataclass(frozen=True)
class EmptyVariable:
    """An Allow whose Resource names a policy variable this request has no value for."""

    policy: str
    statement: str
    #: The variable's key (``aws:PrincipalTag/project``).
    key: str

    def describe(self) -> str:
        return (
            f"{self.policy}, {self.statement} names ${{{self.key}}}, which has no value in "
            "this request, so its Resource matches nothing"
        )


@dataclass(frozen=True)
class Match:
    """A statement that applies to the request, or might."""

    statement: Statement
    #: True when the statement applies, None when that cannot be decided.
    applies: bool | None
    evidence: Evidence
    #: Keys in the request's ``unknown`` that left it undecided.
    assumed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scan:
    """What one policy says about a request."""

    matches: tuple[Match, ...]
    near_misses: tuple[NearMiss, ...]
    #: Condition keys looked at by the statements that cover the action and resource.
    keys: tuple[str, ...]
    #: Allows that cover the action but name a resource variable with no value.
    empty_variables: tuple[EmptyVariable, ...] = ()


def scan(policy: Policy, request: Request) -> Scan:
    """The statements of ``policy`` that apply to ``request`` or might, in order."""
    matches: list[Match] = []
    near: list[NearMiss] = []
    empty: list[EmptyVariable] = []
    keys: list[str] = []
    for statement in policy.statements:
        if not statement.covers_action(request.action):
            continue
        resource_applies, resource_keys, resource_note, missing = _resource_matches(
            policy, statement, request
        )
        if resource_applies is False:
            if missing and statement.effect == "Allow":
                empty.append(EmptyVariable(policy.label, statement.label, missing))
            continue
        conditions = evaluate_conditions(
            statement.conditions,
            request.context,
            policy_variables=policy.has_variables,
            unknown=request.unknown,
            unknown_values=request.unknown_values,
        )
        used = tuple(dict.fromkeys((*resource_keys, *conditions.keys)))
        keys.extend(used)
        if conditions.state is ConditionState.DOES_NOT_HOLD:
            if statement.effect == "Allow" and resource_applies and conditions.failed:
                near.append(NearMiss(policy.label, statement.label, conditions.failed))
            continue
        applies = True if resource_applies and conditions.holds else None
        notes = [note for note in (resource_note, conditions.note) if note]
        evidence = Evidence(
            policy=policy.label,
            statement=statement.label,
            effect=statement.effect,
            condition_keys=used,
            note="; ".join(notes) if applies is None else None,
        )
        matches.append(Match(statement, applies, evidence, conditions.assumed))
    return Scan(tuple(matches), tuple(near), tuple(dict.fromkeys(keys)), tuple(empty))


def _resource_matches(
    policy: Policy, statement: Statement, request: Request
) -> tuple[bool | None, tuple[str, ...], str | None, str | None]:
    """Whether the statement's Resource/NotResource covers the resource (None: unknown).

    Also returns the keys of any policy variables used, why the match is undecided, and
    the key of a variable with no value that left a pattern matching nothing.
    """
    negated = statement.resources is None
    patterns = statement.not_resources if negated else statement.resources
    if patterns is None:
        # Only a role's trust policy lacks both: it is the role's own resource-based policy
        # ("The IAM resource-based policy type is a role trust policy",
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html),
        # so each of its statements is about the role, the resource of sts:AssumeRole.
        return True, (), None, None
    element = "NotResource" if negated else "Resource"
    # Does any pattern match? For a NotResource, "match" means "excludes the resource":
    # an Allow must exclude none of the requested resources to apply, a Deny applies
    # unless it excludes all of them.
    wide = negated == (statement.effect == "Allow")
    matched: bool | None = False
    keys: list[str] = []
    notes: list[str] = []
    missing: str | None = None
    for pattern in patterns:
        substitution = substitute_variables(
            pattern,
            request.context,
            pattern=True,
            enabled=policy.has_variables,
            unknown=request.unknown,
            unknown_values=request.unknown_values,
        )
        keys.extend(substitution.keys)
        if substitution.missing is not None:
            # Documented: an ARN with a variable that has no value matches nothing.
            missing = missing or substitution.missing
            continue
        if substitution.text is None:
            matched = None
            notes.append(f"{element} {pattern!r}: {substitution.note}")
            continue
        found, note = _match(substitution.text, request.resource, wide=wide)
        if found is True:
            matched, notes = True, []
            break
        if found is None:
            matched = None
            notes.append(note or f"{element} {pattern!r}: undecided")
    if negated and matched is not None:
        matched = not matched
    return matched, tuple(keys), "; ".join(notes) or None, missing


def _match(pattern: str, resource: str, *, wide: bool) -> tuple[bool | None, str | None]:
    """``pattern`` against the requested resource; ``wide``: any overlap counts."""
    if not is_pattern(resource):
        return match_resource(pattern, resource)
    if wide:
        found = overlaps_resource(pattern, resource)
        note = "matches some of them only when letter case is ignored" if found is None else None
        return found, note
    found = covers_resource(pattern, resource)
    return found, (
        f"{pattern!r} may not cover every resource of {resource}" if found is None else None
    )
