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

from .operators import OPERATORS, Operator
from .policy import Condition
from .variables import Context, normalize_context, substitute_variables

_FOR_ALL = "ForAllValues:"
_FOR_ANY = "ForAnyValue:"
_IF_EXISTS = "IfExists"


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
        set_operator, _, _ = _split_operator(self.operator)
        scope = {_FOR_ALL: ", in every value,", _FOR_ANY: ", in some value,"}.get(
            set_operator or "", ""
        )
        return f"{self.key}{scope} {_phrase(self.operator, self.wanted)}"

    def found(self) -> str:
        """``this request's aws:RequestedRegion is us-east-1``: what the request has."""
        if not self.request:
            return f"this request carries no {self.key}"
        return f"this request's {self.key} is {_either(self.request, 'and')}"


@dataclass(frozen=True)
class ConditionResult:
    """The outcome of a statement's conditions, with the keys they looked at."""

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
) -> ConditionResult:
    """Evaluate a statement's conditions (ANDed) against ``context``.

    ``policy_variables`` says whether ``${...}`` in values is a variable, which it is
    in policies of version 2012-10-17 only. ``unknown`` holds lower-cased keys whose
    absence from ``context`` is an assumption: conditions on them are undecided.
    """
    values_by_key = normalize_context(context)
    outcomes = [_evaluate_one(c, values_by_key, policy_variables, unknown) for c in conditions]
    keys = _unique(key for outcome in outcomes for key in outcome.keys)
    failed = tuple(
        outcome.failed for outcome in outcomes if outcome.value is False and outcome.failed
    )
    if any(outcome.value is False for outcome in outcomes):
        return ConditionResult(ConditionState.DOES_NOT_HOLD, keys, failed=failed)
    undecided = [outcome for outcome in outcomes if outcome.value is None]
    if undecided:
        notes = "; ".join(outcome.note or "cannot be evaluated" for outcome in undecided)
        assumed = _unique(key for outcome in undecided for key in outcome.assumed)
        return ConditionResult(ConditionState.UNDECIDED, keys, notes, assumed=assumed)
    return ConditionResult(ConditionState.HOLDS, keys)


# --- one condition ------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """One condition's three-valued result: True, False or None (undecided)."""

    value: bool | None
    keys: tuple[str, ...]
    note: str | None = None
    #: What failed, when ``value`` is False.
    failed: FailedCondition | None = None
    #: Keys whose absence is only assumed and that left the outcome undecided.
    assumed: tuple[str, ...] = ()


def _evaluate_one(
    condition: Condition,
    values_by_key: Mapping[str, tuple[str, ...]],
    variables: bool,
    unknown: Container[str],
) -> _Outcome:
    name = condition.operator
    keys: tuple[str, ...] = (condition.key,)
    request_values = values_by_key.get(condition.key.lower(), ())
    if not request_values and condition.key.lower() in unknown:
        why = f"{name} {condition.key}: {_ASSUMED.format(condition.key)}"
        return _Outcome(None, keys, why, assumed=(condition.key,))
    set_operator, base, if_exists = _split_operator(name)
    if base == "Null" and not set_operator and not if_exists:
        return _evaluate_null(condition, request_values)
    spec = OPERATORS.get(base)
    if spec is None:  # includes Null with a prefix or IfExists, which IAM does not define
        return _Outcome(None, keys, f"{name!r} is not a supported condition operator")
    policy_values, keys, note, assumed = _policy_values(
        condition, spec, values_by_key, variables, unknown
    )
    if note is not None:
        return _Outcome(None, keys, note, assumed=assumed)
    outcome = _compare(condition, spec, set_operator, if_exists, policy_values, request_values)
    if outcome.value is False:
        failed = FailedCondition(name, condition.key, condition.values, request_values)
        return _Outcome(False, keys, failed=failed)
    return _Outcome(outcome.value, keys, outcome.note)


#: Why a condition on a key the request model only assumes absent is undecided.
_ASSUMED = "depends on whether the request carries {}"


def _policy_values(
    condition: Condition,
    spec: Operator,
    values_by_key: Mapping[str, tuple[str, ...]],
    variables: bool,
    unknown: Container[str],
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
                values_by_key,
                pattern=spec.variables == "pattern",
                enabled=variables,
                unknown=unknown,
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
) -> _Outcome:
    """Compare the request's values for the key with the policy's."""
    keys = (condition.key,)
    where = f"{condition.operator} {condition.key}"
    if not request_values:
        if set_operator == _FOR_ANY:
            return _Outcome(False, keys)
        if if_exists or set_operator == _FOR_ALL:
            return _Outcome(True, keys)
        return _Outcome(spec.negated, keys)

    parsed: list[Any] = []
    for raw in request_values:
        try:
            parsed.append(spec.parse_request(raw))
        except ValueError:
            return _Outcome(None, keys, f"{where}: request value {raw!r} is not {spec.expects}")
    results = [_matches_value(spec, value, policy_values) for value in parsed]
    if set_operator == _FOR_ALL:
        return _Outcome(all(results), keys)
    if set_operator == _FOR_ANY:
        return _Outcome(any(results), keys)
    if all(results) or not any(results):
        return _Outcome(results[0], keys)
    return _Outcome(
        None,
        keys,
        f"{where}: the request has {len(results)} values, some matching and some not, "
        "and without ForAllValues/ForAnyValue the outcome is not defined",
    )


def _phrase(operator: str, values: tuple[str, ...]) -> str:
    """How a condition reads in a sentence: ``is eu-west-1``, ``matches vpc-*``."""
    set_operator, base, if_exists = _split_operator(operator)
    words = _PHRASES.get(base)
    if words is None:
        return f"{operator} {_either(values, 'or')}"
    verb, joiner = words
    text = f"{verb} {_either(values, joiner)}"
    return f"{text}, or is absent" if if_exists and set_operator != _FOR_ANY else text


#: Base operator -> (verb, how several values join).
_PHRASES: Mapping[str, tuple[str, str]] = {
    "StringEquals": ("is", "or"),
    "StringNotEquals": ("is not", "nor"),
    "StringEqualsIgnoreCase": ("is, ignoring case,", "or"),
    "StringNotEqualsIgnoreCase": ("is not, ignoring case,", "nor"),
    "StringLike": ("matches", "or"),
    "StringNotLike": ("does not match", "nor"),
    "ArnEquals": ("is", "or"),
    "ArnLike": ("matches", "or"),
    "ArnNotEquals": ("is not", "nor"),
    "ArnNotLike": ("does not match", "nor"),
    "Bool": ("is", "or"),
    "IpAddress": ("is in", "or"),
    "NotIpAddress": ("is not in", "nor"),
    "NumericEquals": ("is", "or"),
    "NumericNotEquals": ("is not", "nor"),
    "NumericLessThan": ("is less than", "or"),
    "NumericLessThanEquals": ("is at most", "or"),
    "NumericGreaterThan": ("is more than", "or"),
    "NumericGreaterThanEquals": ("is at least", "or"),
    "DateEquals": ("is", "or"),
    "DateNotEquals": ("is not", "nor"),
    "DateLessThan": ("is before", "or"),
    "DateLessThanEquals": ("is at or before", "or"),
    "DateGreaterThan": ("is after", "or"),
    "DateGreaterThanEquals": ("is at or after", "or"),
    "Null": ("is absent:", "or"),
}


def _either(values: Sequence[str], joiner: str) -> str:
    """``["a", "b", "c"]`` -> ``"a, b or c"``."""
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {joiner} {values[-1]}"


def _split_operator(name: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> (``ForAnyValue:``, ``StringLike``, True)."""
    set_operator = None
    base = name
    for prefix in (_FOR_ALL, _FOR_ANY):
        if base.startswith(prefix):
            set_operator, base = prefix, base[len(prefix) :]
            break
    if_exists = base.endswith(_IF_EXISTS) and base != _IF_EXISTS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    return set_operator, base, if_exists


def _matches_value(spec: Operator, value: Any, policy_values: Sequence[Any]) -> bool:
    matched = any(spec.test(value, wanted) for wanted in policy_values)
    return not matched if spec.negated else matched


def _evaluate_null(condition: Condition, request_values: tuple[str, ...]) -> _Outcome:
    keys = (condition.key,)
    wanted: list[bool] = []
    for raw in condition.values:
        if raw.lower() not in ("true", "false"):
            return _Outcome(
                None,
                keys,
                f'Null {condition.key}: policy value {raw!r} is not "true" or "false"',
            )
        wanted.append(raw.lower() == "true")
    absent = not request_values
    return _Outcome(any(want == absent for want in wanted), keys)


# --- small helpers ------------------------------------------------------------------


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
