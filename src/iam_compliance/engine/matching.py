"""Match IAM wildcard patterns against actions, resource ARNs and condition values.

IAM has one wildcard language with two flavours: ``*`` matches any run of characters
(including none, and including ``:`` and ``/``), ``?`` matches exactly one. Actions
compare case-insensitively (``DynamoDB:scan`` is ``dynamodb:Scan``); resource ARNs and
``StringLike`` values compare case-sensitively. ``ArnLike`` differs once more: each of
the six colon-separated parts of an ARN is matched on its own, so a ``*`` there never
reaches across a ``:`` into the next part.

Patterns may also contain the escapes ``${*}``, ``${?}`` and ``${$}``, which IAM
(policy version 2012-10-17) reads as a literal ``*``, ``?`` and ``$``. Any other
``${...}`` is a policy variable; it must be replaced before matching (see
:func:`iam_compliance.conditions.substitute_variables`) and is compared literally here.

Compiled patterns are cached because the same few patterns are tried against every
action and resource the suite checks.
"""

from __future__ import annotations

import functools
import re

#: The escapes IAM reads as literal characters inside a pattern.
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}
_TOKEN_RE = re.compile(r"\$\{[*?$]\}|[*?]")
#: An ARN has six parts, the last of which may itself contain colons.
_ARN_PARTS = 6


def matches_action(pattern: str, action: str) -> bool:
    """Whether an Action/NotAction ``pattern`` matches ``action``, ignoring case.

    Only ASCII letters fold: IAM action names are ASCII, and Unicode case folding
    would let, say, the Kelvin sign match ``k``.
    """
    return _compile(pattern, re.IGNORECASE | re.ASCII).fullmatch(action) is not None


def matches_resource(pattern: str, arn: str) -> bool:
    """Whether a Resource/NotResource ``pattern`` matches ``arn``, case-sensitively."""
    return _compile(pattern, 0).fullmatch(arn) is not None


def matches_like(pattern: str, value: str) -> bool:
    """Whether a ``StringLike`` ``pattern`` matches ``value``: the same rules as resources."""
    return _compile(pattern, 0).fullmatch(value) is not None


def matches_arn(pattern: str, arn: str) -> bool:
    """Whether an ``ArnLike``/``ArnEquals`` ``pattern`` matches ``arn``, part by part.

    Both must have six colon-separated parts; callers check the pattern's shape
    first (:func:`is_arn_shaped`) because a malformed pattern is a policy problem,
    not a mismatch.
    """
    pattern_parts = pattern.split(":", _ARN_PARTS - 1)
    arn_parts = arn.split(":", _ARN_PARTS - 1)
    if len(pattern_parts) != _ARN_PARTS or len(arn_parts) != _ARN_PARTS:
        return False
    return all(
        matches_resource(part_pattern, part)
        for part_pattern, part in zip(pattern_parts, arn_parts, strict=True)
    )


def is_arn_shaped(text: str) -> bool:
    """Whether ``text`` has the six colon-separated parts of an ARN."""
    return len(text.split(":", _ARN_PARTS - 1)) == _ARN_PARTS


def has_wildcard(pattern: str) -> bool:
    """Whether ``pattern`` can match more than one string (an unescaped ``*`` or ``?``)."""
    return any(token in "*?" for token in _TOKEN_RE.findall(pattern))


@functools.lru_cache(maxsize=2048)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    # DOTALL: a wildcard must match every character, newlines included; anything
    # less would let an odd ARN slip past a Deny.
    return re.compile(_translate(pattern), flags | re.DOTALL)


def _translate(pattern: str) -> str:
    """Turn an IAM wildcard pattern into an equivalent regular expression."""
    parts: list[str] = []
    position = 0
    for token in _TOKEN_RE.finditer(pattern):
        parts.append(re.escape(pattern[position : token.start()]))
        text = token.group()
        if text == "*":
            parts.append(".*")
        elif text == "?":
            parts.append(".")
        else:
            parts.append(re.escape(_ESCAPES[text]))
        position = token.end()
    parts.append(re.escape(pattern[position:]))
    return "".join(parts)
