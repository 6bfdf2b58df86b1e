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

import base64
import binascii
import enum
import ipaddress
import operator as op
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from .matching import is_arn_shaped, matches_arn, matches_like
from .policy import Condition

#: Request context: condition key (any case) -> its values.
Context = Mapping[str, Sequence[str]]

_FOR_ALL = "ForAllValues:"
_FOR_ANY = "ForAnyValue:"
_IF_EXISTS = "IfExists"
_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
#: The inside of ``${key}`` or ``${key, 'default'}``.
_REFERENCE_RE = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_PATTERN_SPECIALS_RE = re.compile(r"[*?$]")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH_RE = re.compile(r"[+-]?\d+(?:\.\d+)?")


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


@dataclass(frozen=True)
class Substitution:
    """A text with its policy variables replaced from the request context."""

    #: The text with every variable replaced, or None when one could not be.
    text: str | None
    #: The condition keys the variables named, as written.
    keys: tuple[str, ...] = ()
    #: Why a variable could not be replaced; None when ``text`` is set.
    note: str | None = None


def normalize_context(context: Context | None) -> dict[str, tuple[str, ...]]:
    """Lower-case the keys of ``context``, merging keys that differ only in case.

    A bare string value is one value, not a sequence of characters.
    """
    merged: dict[str, tuple[str, ...]] = {}
    for key, values in (context or {}).items():
        items = (values,) if isinstance(values, str) else tuple(values)
        folded = key.lower()
        merged[folded] = merged.get(folded, ()) + tuple(str(item) for item in items)
    return merged


def substitute_variables(
    text: str, context: Context | None, *, pattern: bool, enabled: bool = True
) -> Substitution:
    """Replace the policy variables in ``text`` with their values from ``context``.

    With ``pattern=True`` the result is a wildcard pattern for :mod:`.matching`:
    substituted values and the ``${*}``/``${?}``/``${$}`` escapes stay literal. With
    ``pattern=False`` it is plain text. ``enabled=False`` is for policies older than
    version 2012-10-17, where ``${`` has no special meaning.

    A variable whose key is missing (and has no default) or has several values
    cannot be replaced: IAM would not match the statement for such a request, but the
    context here is what the user supplied, not necessarily all a real request
    carries, so the caller gets a note instead of a guess.
    """
    if not enabled:
        # Escaping every "$" makes the matcher read the text character by character.
        return Substitution(text.replace("$", "${$}") if pattern else text)
    values_by_key = normalize_context(context)
    pieces: list[str] = []
    keys: list[str] = []
    position = 0
    for variable in _VARIABLE_RE.finditer(text):
        pieces.append(text[position : variable.start()])
        position = variable.end()
        inner = variable.group(1)
        if inner in ("*", "?", "$"):
            pieces.append(variable.group() if pattern else inner)
            continue
        reference = _REFERENCE_RE.fullmatch(inner)
        if reference is None:
            return Substitution(
                None, tuple(keys), f"{variable.group()} is not a valid policy variable"
            )
        key, default = reference.group(1), reference.group(2)
        keys.append(key)
        values = values_by_key.get(key.lower(), ())
        if len(values) > 1:
            return Substitution(
                None,
                tuple(keys),
                f"policy variable ${{{key}}} has {len(values)} values in the request "
                "context; IAM substitutes only single-valued keys",
            )
        if values:
            value = values[0]
        elif default is not None:
            value = default
        else:
            return Substitution(
                None,
                tuple(keys),
                f"policy variable ${{{key}}} has no value in the request context",
            )
        pieces.append(_literal_pattern(value) if pattern else value)
    pieces.append(text[position:])
    return Substitution("".join(pieces), tuple(keys))


def widen_variables(text: str, *, enabled: bool = True) -> str:
    """``text`` as a wildcard pattern in which each policy variable is a ``*``.

    The result matches everything ``text`` could match for some request, which is
    what a question like "could this Resource cover that table?" needs.
    """
    if not enabled:
        return text.replace("$", "${$}")
    return _VARIABLE_RE.sub(
        lambda variable: variable.group() if variable.group(1) in ("*", "?", "$") else "*",
        text,
    )


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


@dataclass(frozen=True)
class _Operator:
    """How one base operator (without prefix or IfExists) reads and compares values."""

    #: What a value has to be, for notes about values that are not (``"a number"``).
    expects: str
    #: Reads a policy value into what ``test`` compares; raises ValueError if malformed.
    parse_policy: Callable[[str], Any]
    #: Reads a request value into what ``test`` compares; raises ValueError if malformed.
    parse_request: Callable[[str], Any]
    #: Whether a request value (first) matches a policy value (second).
    test: Callable[[Any, Any], bool]
    #: The Not... operators hold when the request value matches none of the policy's.
    negated: bool = False
    #: How policy variables in values are replaced: not at all, as text, or as pattern.
    variables: Literal["none", "text", "pattern"] = "none"


def _evaluate_one(
    condition: Condition, values_by_key: Mapping[str, tuple[str, ...]], variables: bool
) -> _Outcome:
    name = condition.operator
    keys: tuple[str, ...] = (condition.key,)
    set_operator, base, if_exists = _split_operator(name)
    if base == "Null" and not set_operator and not if_exists:
        return _evaluate_null(condition, values_by_key.get(condition.key.lower(), ()))
    spec = _OPERATORS.get(base)
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


def _matches_value(spec: _Operator, value: Any, policy_values: Sequence[Any]) -> bool:
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


# --- reading values -----------------------------------------------------------------


def _number(text: str) -> Decimal:
    # Decimal, not float, so that 0.1 + 0.2 style rounding never flips a comparison.
    if not _NUMBER_RE.fullmatch(text):
        raise ValueError(text)
    try:
        return Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal can hold
        raise ValueError(text) from None


def _date(text: str) -> datetime:
    try:
        if _EPOCH_RE.fullmatch(text):
            return datetime.fromtimestamp(float(Decimal(text)), tz=UTC)
        moment = datetime.fromisoformat(text)
    except (ArithmeticError, OSError, ValueError):
        raise ValueError(text) from None
    # IAM reads a date without a zone as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _boolean(text: str) -> bool:
    folded = text.lower()
    if folded not in ("true", "false"):
        raise ValueError(text)
    return folded == "true"


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(text) from None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _arn(text: str) -> str:
    if not is_arn_shaped(text):
        raise ValueError(text)
    return text


def _text(text: str) -> str:
    return text


def _folded(text: str) -> str:
    return text.casefold()


def _contains(address: Any, network: Any) -> bool:
    # An IPv4 address is never inside an IPv6 network; "in" answers False for that.
    return bool(address in network)


def _like(value: Any, pattern: Any) -> bool:
    return matches_like(pattern, value)


def _arn_like(value: Any, pattern: Any) -> bool:
    return matches_arn(pattern, value)


def _family(
    names: Mapping[str, tuple[Callable[[Any, Any], bool], bool]],
    expects: str,
    parse: Callable[[str], Any],
    *,
    request: Callable[[str], Any] | None = None,
    variables: Literal["none", "text", "pattern"] = "none",
) -> dict[str, _Operator]:
    return {
        name: _Operator(expects, parse, request or parse, test, negated, variables)
        for name, (test, negated) in names.items()
    }


_COMPARISONS = {
    "Equals": (op.eq, False),
    "NotEquals": (op.eq, True),
    "LessThan": (op.lt, False),
    "LessThanEquals": (op.le, False),
    "GreaterThan": (op.gt, False),
    "GreaterThanEquals": (op.ge, False),
}

#: Every supported base operator but ``Null``, which works on presence, not values.
_OPERATORS: Mapping[str, _Operator] = {
    **_family(
        {"StringEquals": (op.eq, False), "StringNotEquals": (op.eq, True)},
        "a string",
        _text,
        variables="text",
    ),
    **_family(
        {
            "StringEqualsIgnoreCase": (op.eq, False),
            "StringNotEqualsIgnoreCase": (op.eq, True),
        },
        "a string",
        _folded,
        variables="text",
    ),
    **_family(
        {"StringLike": (_like, False), "StringNotLike": (_like, True)},
        "a string",
        _text,
        variables="pattern",
    ),
    **_family({f"Numeric{k}": v for k, v in _COMPARISONS.items()}, "a number", _number),
    **_family(
        {f"Date{k}": v for k, v in _COMPARISONS.items()},
        "an ISO 8601 date or epoch seconds",
        _date,
    ),
    **_family({"Bool": (op.eq, False)}, '"true" or "false"', _boolean),
    **_family({"BinaryEquals": (op.eq, False)}, "base64", _binary),
    **_family(
        {"IpAddress": (_contains, False), "NotIpAddress": (_contains, True)},
        "an IP address or CIDR block",
        _network,
        request=_address,
    ),
    **_family(
        {
            "ArnEquals": (_arn_like, False),
            "ArnLike": (_arn_like, False),
            "ArnNotEquals": (_arn_like, True),
            "ArnNotLike": (_arn_like, True),
        },
        "an ARN",
        _arn,
        variables="pattern",
    ),
}


# --- small helpers ------------------------------------------------------------------


def _literal_pattern(value: str) -> str:
    """Escape ``value`` so a wildcard pattern matches it character for character."""
    return _PATTERN_SPECIALS_RE.sub(lambda special: f"${{{special.group()}}}", value)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
