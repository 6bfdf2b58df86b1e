"""Evaluate a statement's Condition block against a request context, as IAM does.

The answer is three-valued. Besides "holds" and "does not hold" there is "undecided":
an operator this module does not know, a policy value the operator cannot read (a
non-numeric ``NumericEquals`` value, an invalid date or CIDR), a request value it
cannot read, or a policy variable the context does not supply. Guessing in any of
those cases could report access IAM would refuse, so the caller is told instead, with
a note saying why.

The rules, from AWS's documentation of condition operators:

* Several values for one key are ORed; for a negated operator (``StringNotEquals``,
  ``NotIpAddress``, ...) the condition holds only when the request value matches none
  of them. Several keys under one operator, and several operators, are ANDed.
  Undecided parts combine with three-valued logic: ``false AND undecided`` is false,
  ``true AND undecided`` is undecided.
* Condition keys compare case-insensitively; values compare case-sensitively except
  for the ``...IgnoreCase`` operators (and ``Bool``, whose values are words).
* A key absent from the context makes an ordinary operator false and a negated one
  true; ``...IfExists`` makes an operator true; ``Null`` is true for ``"true"`` and false
  for ``"false"``; ``ForAllValues:`` is true and ``ForAnyValue:`` false, with or without
  ``IfExists``: "ForAnyValue ... returns false if there are no keys in the request"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html),
  and IfExists only says what happens when a key is absent, which ForAnyValue already
  says.
* A key the request model only *assumes* absent (see :mod:`.request`) can be named in
  ``unknown``: every condition on it is then undecided. Evaluating once with and once
  without ``unknown`` shows whether a verdict depends on such an assumption.
* A key the request carries with a value not known here (``unknown_values``: the
  session's ``aws:TokenIssueTime``; its ``aws:userid``, of which only the start is known)
  is *present*: ``Null`` is false for ``"true"``, and ``...IfExists`` compares as without
  it. A comparison is decided only where the known start decides it (``StringEquals``
  with a value that starts otherwise is false; ``StringLike`` is decided by
  :func:`.matching.match_like_prefix`); any other is undecided, never guessed.
* ``ForAllValues:`` holds when every request value matches, ``ForAnyValue:`` when at
  least one does. Without either prefix a key with several request values is decided
  only when every value gives the same answer, because IAM expects a set operator for
  multivalued keys and what it does without one is not documented.
* Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``) in the
  values of string and ARN operators are replaced from the context in policies of
  version 2012-10-17; older policies treat them as plain text, as IAM does. A value whose
  variable has no value matches nothing (:func:`.variables.substitute_variables`), so an
  ordinary operator with only such values is false and a negated one true.
"""

from __future__ import annotations

import enum
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..matching import match_like_prefix
from ..policy import Condition
from .operators import FOR_ALL, FOR_ANY, OPERATORS, Operator, either, phrase, split_operator
from .variables import (
    Context,
    UnknownValues,
    normalize_context,
    shown_unknown,
    substitute_variables,
)


class ConditionState(enum.Enum):
    """Whether a Condition block holds for a request."""

    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    #: The block cannot be evaluated; see :attr:`ConditionResult.note`.
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class FailedCondition:
    """One condition that does not hold for the request, for reasons people can act on."""

    #: The operator as written (``StringEquals``, ``ForAnyValue:StringLike``, ...).
    operator: str
    #: The condition key as written.
    key: str
    #: The policy's values, as written.
    wanted: tuple[str, ...]
    #: The request's values for the key; empty when the request does not carry it.
    request: tuple[str, ...]

    def requirement(self) -> str:
        """``aws:RequestedRegion is eu-west-1``: what the condition asks for."""
        set_operator, _, _ = split_operator(self.operator)
        scope = {FOR_ALL: ", in every value,", FOR_ANY: ", in some value,"}.get(
            set_operator or "", ""
        )
        return f"{self.key}{scope} {phrase(self.operator, self.wanted)}"

    def found(self, request: str = "this request") -> str:
        """``this request's aws:RequestedRegion is us-east-1``: what the request has;
        ``request`` names the request (``ECS's request``)."""
        if not self.request:
            return f"{request} carries no {self.key}"
        return f"{request}'s {self.key} is {either(self.request, 'and')}"


@dataclass(frozen=True)
class ConditionResult:
    """What a statement's conditions come to, with the keys they looked at."""

    state: ConditionState
    #: Condition keys the conditions used (including keys named by policy variables),
    #: as written in the policy, each once, in policy order.
    keys: tuple[str, ...] = ()
    #: Why the conditions could not be decided; None unless ``state`` is UNDECIDED.
    note: str | None = None
    #: The conditions that do not hold; set when ``state`` is DOES_NOT_HOLD.
    failed: tuple[FailedCondition, ...] = ()
    #: Keys in ``unknown`` that left the conditions undecided.
    assumed: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return self.state is ConditionState.HOLDS

    @property
    def undecided(self) -> bool:
        return self.state is ConditionState.UNDECIDED


def evaluate_conditions(
    conditions: Sequence[Condition],
    context: Context | None,
    *,
    policy_variables: bool = True,
    unknown: Container[str] = frozenset(),
    unknown_values: UnknownValues | None = None,
) -> ConditionResult:
    """Evaluate a statement's conditions (ANDed) against ``context``.

    ``policy_variables`` says whether ``${...}`` in values is a variable, which it is
    in policies of version 2012-10-17 only. ``unknown`` holds lower-cased keys whose
    absence from ``context`` is an assumption: conditions on them are undecided.
    ``unknown_values`` holds the keys the request carries with a value not known here.
    """
    values_by_key = normalize_context(context)
    request = _Request(values_by_key, unknown, unknown_values or {})
    results = [_evaluate_one(c, request, policy_variables) for c in conditions]
    keys = _unique(key for result in results for key in result.keys)
    failed = tuple(result.failed for result in results if result.value is False and result.failed)
    if any(result.value is False for result in results):
        return ConditionResult(ConditionState.DOES_NOT_HOLD, keys, failed=failed)
    undecided = [result for result in results if result.value is None]
    if undecided:
        notes = "; ".join(result.note or "cannot be evaluated" for result in undecided)
        assumed = _unique(key for result in undecided for key in result.assumed)
        return ConditionResult(ConditionState.UNDECIDED, keys, notes, assumed=assumed)
    return ConditionResult(ConditionState.HOLDS, keys)


# --- one condition ------------------------------------------------------------------


@dataclass(frozen=True)
class _Evaluated:
    """One condition's three-valued result: True, False or None (undecided)."""

    value: bool | None
    keys: tuple[str, ...]
    note: str | None = None
    #: What failed, when ``value`` is False.
    failed: FailedCondition | None = None
    #: Keys whose absence is only assumed and that left the result undecided.
    assumed: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Request:
    """What the conditions are evaluated against."""

    #: Lower-cased key -> values.
    values: Mapping[str, tuple[str, ...]]
    #: Lower-cased keys whose absence is only assumed.
    unknown: Container[str]
    #: Lower-cased keys the request carries with a value not known here -> its start.
    unknown_values: UnknownValues


def _evaluate_one(condition: Condition, request: _Request, variables: bool) -> _Evaluated:
    name = condition.operator
    keys: tuple[str, ...] = (condition.key,)
    folded = condition.key.lower()
    request_values = request.values.get(folded, ())
    known_prefix = None if request_values else request.unknown_values.get(folded)
    if not request_values and known_prefix is None and folded in request.unknown:
        why = f"{name} {condition.key}: {_ASSUMED.format(condition.key)}"
        return _Evaluated(None, keys, why, assumed=(condition.key,))
    set_operator, base, if_exists = split_operator(name)
    if base == "Null" and not set_operator and not if_exists:
        return _evaluate_null(condition, present=bool(request_values) or known_prefix is not None)
    spec = OPERATORS.get(base)
    if spec is None:  # includes Null with a prefix or IfExists, which IAM does not define
        return _Evaluated(None, keys, f"{name!r} is not a supported condition operator")
    policy_values, keys, note, assumed = _policy_values(condition, spec, request, variables)
    if note is not None:
        return _Evaluated(None, keys, note, assumed=assumed)
    if known_prefix is not None:
        # The key is there (IfExists compares), with one value known only by its start.
        result = _compare_unknown(condition, spec, base, policy_values, known_prefix)
        request_values = (shown_unknown(known_prefix),)
    else:
        result = _compare(condition, spec, set_operator, if_exists, policy_values, request_values)
    if result.value is False:
        failed = FailedCondition(name, condition.key, condition.values, request_values)
        return _Evaluated(False, keys, failed=failed)
    return _Evaluated(result.value, keys, result.note)


#: Why a condition on a key the request model only assumes absent is undecided.
_ASSUMED = "depends on whether the request carries {}"


def _policy_values(
    condition: Condition, spec: Operator, request: _Request, variables: bool
) -> tuple[list[Any], tuple[str, ...], str | None, tuple[str, ...]]:
    """The policy's values, read; a value whose variable has no value is left out.

    Also returns the keys looked at, why the values could not be read (or None), and the
    assumed-absent key that made them unreadable.
    """
    where = f"{condition.operator} {condition.key}"
    keys: tuple[str, ...] = (condition.key,)
    found: list[Any] = []
    for raw in condition.values:
        text = raw
        if spec.variables != "none":
            substitution = substitute_variables(
                raw,
                request.values,
                pattern=spec.variables == "pattern",
                enabled=variables,
                unknown=request.unknown,
                unknown_values=request.unknown_values,
            )
            keys = _unique((*keys, *substitution.keys))
            if substitution.missing is not None:
                continue  # documented: a value with no value matches nothing
            if substitution.text is None:
                assumed = (substitution.assumed,) if substitution.assumed else ()
                return found, keys, f"{where}: {substitution.note}", assumed
            text = substitution.text
        try:
            found.append(spec.parse_policy(text))
        except ValueError:
            return found, keys, f"{where}: policy value {raw!r} is not {spec.expects}", ()
    return found, keys, None, ()


def _compare(
    condition: Condition,
    spec: Operator,
    set_operator: str | None,
    if_exists: bool,
    policy_values: Sequence[Any],
    request_values: tuple[str, ...],
) -> _Evaluated:
    """Compare the request's values for the key with the policy's."""
    keys = (condition.key,)
    where = f"{condition.operator} {condition.key}"
    if not request_values:
        if set_operator == FOR_ANY:
            return _Evaluated(False, keys)
        if if_exists or set_operator == FOR_ALL:
            return _Evaluated(True, keys)
        return _Evaluated(spec.negated, keys)

    parsed: list[Any] = []
    for raw in request_values:
        try:
            parsed.append(spec.parse_request(raw))
        except ValueError:
            return _Evaluated(None, keys, f"{where}: request value {raw!r} is not {spec.expects}")
    results = [_matches_value(spec, value, policy_values) for value in parsed]
    if set_operator == FOR_ALL:
        return _Evaluated(all(results), keys)
    if set_operator == FOR_ANY:
        return _Evaluated(any(results), keys)
    if all(results) or not any(results):
        return _Evaluated(results[0], keys)
    return _Evaluated(
        None,
        keys,
        f"{where}: the request has {len(results)} values, some matching and some not, "
        "and without ForAllValues/ForAnyValue the outcome is not defined",
    )


def _compare_unknown(
    condition: Condition, spec: Operator, base: str, policy_values: Sequence[Any], prefix: str
) -> _Evaluated:
    """Compare a value known only to start with ``prefix`` (one value: the keys the
    request model leaves unknown are single-valued, so a set operator changes nothing)."""
    found = [_test_unknown(base, wanted, prefix) for wanted in policy_values]
    matched = True if True in found else None if None in found else False
    if matched is not None:
        return _Evaluated(not matched if spec.negated else matched, (condition.key,))
    start = f", beyond its start {prefix!r}," if prefix else ""
    return _Evaluated(
        None,
        (condition.key,),
        f"{condition.operator} {condition.key}: the request carries {condition.key}, but its "
        f"value{start} is not known here",
    )


def _test_unknown(base: str, wanted: Any, prefix: str) -> bool | None:
    """Whether a value that starts with ``prefix`` matches the policy value ``wanted``:
    decided only where the start decides it."""
    if base in ("StringEquals", "StringNotEquals"):
        return None if wanted.startswith(prefix) else False
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return None if wanted.startswith(prefix.casefold()) else False
    if base in ("StringLike", "StringNotLike"):
        return match_like_prefix(wanted, prefix)
    return None


def _matches_value(spec: Operator, value: Any, policy_values: Sequence[Any]) -> bool:
    matched = any(spec.test(value, wanted) for wanted in policy_values)
    return not matched if spec.negated else matched


def _evaluate_null(condition: Condition, *, present: bool) -> _Evaluated:
    keys = (condition.key,)
    wanted: list[bool] = []
    for raw in condition.values:
        if raw.lower() not in ("true", "false"):
            return _Evaluated(
                None,
                keys,
                f'Null {condition.key}: policy value {raw!r} is not "true" or "false"',
            )
        wanted.append(raw.lower() == "true")
    return _Evaluated(any(want is not present for want in wanted), keys)


# --- small helpers ------------------------------------------------------------------


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
