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
  true; ``...IfExists`` makes any operator true (even under ``ForAnyValue:``);
  ``Null`` is true for ``"true"`` and false for ``"false"``; ``ForAllValues:`` is true
  and ``ForAnyValue:`` false.
* ``ForAllValues:`` holds when every request value matches, ``ForAnyValue:`` when at
  least one does. Without either prefix a key with several request values is decided
  only when every value gives the same answer, because IAM expects a set operator for
  multivalued keys and what it does without one is not documented.
* Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``) in the
  values of string and ARN operators are replaced from the context in policies of
  version 2012-10-17; older policies treat them as plain text, as IAM does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
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
class ConditionResult:
    """The outcome of a statement's conditions, with the keys they looked at."""

    state: ConditionState
    #: Condition keys the conditions used (including keys named by policy variables),
    #: as written in the policy, each once, in policy order.
    keys: tuple[str, ...] = ()
    #: Why the conditions could not be decided; None unless ``state`` is UNDECIDED.
    note: str | None = None

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
) -> ConditionResult:
    """Evaluate a statement's conditions (ANDed) against ``context``.

    ``policy_variables`` says whether ``${...}`` in values is a variable, which it is
    in policies of version 2012-10-17 only.
    """
    values_by_key = normalize_context(context)
    outcomes = [_evaluate_one(c, values_by_key, policy_variables) for c in conditions]
    keys = _unique(key for outcome in outcomes for key in outcome.keys)
    if any(outcome.value is False for outcome in outcomes):
        return ConditionResult(ConditionState.DOES_NOT_HOLD, keys)
    undecided = [outcome for outcome in outcomes if outcome.value is None]
    if undecided:
        notes = "; ".join(outcome.note or "cannot be evaluated" for outcome in undecided)
        return ConditionResult(ConditionState.UNDECIDED, keys, notes)
    return ConditionResult(ConditionState.HOLDS, keys)


# --- one condition ------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """One condition's three-valued result: True, False or None (undecided)."""

    value: bool | None
    keys: tuple[str, ...]
    note: str | None = None


def _evaluate_one(
    condition: Condition, values_by_key: Mapping[str, tuple[str, ...]], variables: bool
) -> _Outcome:
    name = condition.operator
    keys: tuple[str, ...] = (condition.key,)
    set_operator, base, if_exists = _split_operator(name)
    if base == "Null" and not set_operator and not if_exists:
        return _evaluate_null(condition, values_by_key.get(condition.key.lower(), ()))
    spec = OPERATORS.get(base)
    if spec is None:  # includes Null with a prefix or IfExists, which IAM does not define
        return _Outcome(None, keys, f"{name!r} is not a supported condition operator")
    where = f"{name} {condition.key}"

    policy_values: list[Any] = []
    for raw in condition.values:
        text = raw
        if spec.variables != "none":
            substitution = substitute_variables(
                raw, values_by_key, pattern=spec.variables == "pattern", enabled=variables
            )
            keys = _unique((*keys, *substitution.keys))
            if substitution.text is None:
                return _Outcome(None, keys, f"{where}: {substitution.note}")
            text = substitution.text
        try:
            policy_values.append(spec.parse_policy(text))
        except ValueError:
            return _Outcome(None, keys, f"{where}: policy value {raw!r} is not {spec.expects}")

    request_values = values_by_key.get(condition.key.lower(), ())
    if not request_values:
        # IfExists is checked first: it is the policy author's explicit word on
        # what an absent key means, even under ForAnyValue.
        if if_exists or set_operator == _FOR_ALL:
            return _Outcome(True, keys)
        if set_operator == _FOR_ANY:
            return _Outcome(False, keys)
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
