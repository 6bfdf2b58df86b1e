"""The condition operators IAM defines: how each reads its values, compares them, and reads
in a sentence.

Each base operator (without a ``ForAllValues:``/``ForAnyValue:`` prefix or ``IfExists``
suffix) is an :class:`Operator`; ``Null`` is not among them because it works on whether
a key is present, not on values (see :mod:`.conditions`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator as op
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from ..matching import is_arn_shaped, matches_arn, matches_like

FOR_ALL = "ForAllValues:"
FOR_ANY = "ForAnyValue:"
IF_EXISTS = "IfExists"

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH_RE = re.compile(r"[+-]?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Operator:
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
) -> dict[str, Operator]:
    return {
        name: Operator(expects, parse, request or parse, test, negated, variables)
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
OPERATORS: Mapping[str, Operator] = {
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


# --- how an operator reads ------------------------------------------------------


def split_operator(name: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> (``ForAnyValue:``, ``StringLike``, True)."""
    set_operator = None
    base = name
    for prefix in (FOR_ALL, FOR_ANY):
        if base.startswith(prefix):
            set_operator, base = prefix, base[len(prefix) :]
            break
    if_exists = base.endswith(IF_EXISTS) and base != IF_EXISTS
    if if_exists:
        base = base[: -len(IF_EXISTS)]
    return set_operator, base, if_exists


def phrase(operator: str, values: tuple[str, ...]) -> str:
    """How a condition reads in a sentence: ``is eu-west-1``, ``matches vpc-*``."""
    set_operator, base, if_exists = split_operator(operator)
    words = _PHRASES.get(base)
    if words is None:
        return f"{operator} {either(values, 'or')}"
    verb, joiner = words
    text = f"{verb} {either(values, joiner)}"
    return f"{text}, or is absent" if if_exists and set_operator != FOR_ANY else text


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


def either(values: Sequence[str], joiner: str) -> str:
    """``["a", "b", "c"]`` -> ``"a, b or c"``."""
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {joiner} {values[-1]}"
