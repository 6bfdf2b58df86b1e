"""Match IAM wildcard patterns against actions, resource ARNs and condition values.

``*`` matches any run of characters (including none), ``?`` exactly one. Actions compare
case-insensitively (``DynamoDB:scan`` is ``dynamodb:Scan``); resource ARNs and
``StringLike`` values compare case-sensitively. Where a ``*`` may reach differs:

* ``StringLike``: anywhere, ``:`` and ``/`` included.
* ``Resource``/``NotResource`` (:func:`match_resource`): within its colon-separated
  segment, except that a ``*`` that is the last character of a segment may expand
  beyond the colon. AWS documents exactly this ("If the * wildcard is the last character
  of a resource ARN segment, it can expand to match beyond the colon boundaries",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
  AWS does not say whether a ``?`` may match a colon, nor whether the partition,
  service, region and account segments compare ignoring case; where the answer would
  depend on either, the match is *undecided* (None), never assumed.
* ``ArnLike``/``ArnEquals``: each of the six colon-separated parts of an ARN is matched
  on its own, so a ``*`` there never reaches across a ``:`` into the next part.

Patterns may also contain the escapes ``${*}``, ``${?}`` and ``${$}``, which IAM
(policy version 2012-10-17) reads as a literal ``*``, ``?`` and ``$``. Any other
``${...}`` is a policy variable; it must be replaced before matching (see
:func:`iam_compliance.conditions.substitute_variables`) and is compared literally here.

Compiled patterns are cached for the life of the process, without a size limit: the
patterns come from the policies a run reads, and a bounded cache that overflows makes
every later match compile again.
"""

from __future__ import annotations

import functools
import re

#: The escapes IAM reads as literal characters inside a pattern.
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}
_TOKEN_RE = re.compile(r"\$\{[*?$]\}|[*?]")
#: Actions compare ignoring the case of ASCII letters only.
_ACTION_FLAGS = re.IGNORECASE | re.ASCII
#: An ARN has six parts, the last of which may itself contain colons.
_ARN_PARTS = 6


def matches_action(pattern: str, action: str) -> bool:
    """Whether an Action/NotAction ``pattern`` matches ``action``, ignoring case.

    Only ASCII letters fold: IAM action names are ASCII, and Unicode case folding
    would let, say, the Kelvin sign match ``k``.
    """
    if pattern.isascii() and action.isascii():
        simple = _simple(pattern)
        if simple is not None:
            text, prefix = simple
            folded = action.lower()
            return folded.startswith(text.lower()) if prefix else folded == text.lower()
        # A pattern of another service cannot match, whatever its wildcards after the colon.
        service, colon, _ = pattern.partition(":")
        if (
            colon
            and _simple(service) == (service, False)
            and service.lower() != action.partition(":")[0].lower()
        ):
            return False
    return _compile(pattern, _ACTION_FLAGS).fullmatch(action) is not None


def match_resource(pattern: str, arn: str) -> tuple[bool | None, str | None]:
    """Whether a Resource/NotResource ``pattern`` matches ``arn``: True, False or None.

    None (undecided) when the documented rules say no but an undocumented reading says
    yes; the second value then says which. See the module docstring.
    """
    simple = _simple(pattern) is not None
    if simple:
        # No ? and no escape: the strict and the loose reading are one, and a regular
        # expression is not needed (most patterns: compiling one costs more than a match).
        if _simple_match(pattern, arn):
            return True, None
    elif _resource_regex(pattern, loose=False).fullmatch(arn) is not None:
        return True, None
    elif _resource_regex(pattern, loose=True).fullmatch(arn) is not None:
        return None, (
            f"{pattern!r} matches {arn} only if a ? may stand for a colon, which AWS "
            "does not document"
        )
    folded_pattern, folded_arn = _fold_head(pattern), _fold_head(arn)
    if (folded_pattern, folded_arn) != (pattern, arn) and (
        _simple_match(folded_pattern, folded_arn)
        if simple
        else _resource_regex(folded_pattern, loose=True).fullmatch(folded_arn) is not None
    ):
        return None, (
            f"{pattern!r} matches {arn} only when letter case is ignored in the partition, "
            "service, region or account; AWS does not document how those compare"
        )
    return False, None


def matches_resource(pattern: str, arn: str) -> bool:
    """Whether ``pattern`` certainly matches ``arn`` (:func:`match_resource` is True)."""
    return match_resource(pattern, arn)[0] is True


def may_match_resource(pattern: str, arn: str) -> bool:
    """Whether ``pattern`` matches ``arn`` or might (:func:`match_resource` is not False)."""
    return match_resource(pattern, arn)[0] is not False


def matches_like(pattern: str, value: str) -> bool:
    """Whether a ``StringLike`` ``pattern`` matches ``value``, case-sensitively."""
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
        matches_like(part_pattern, part)
        for part_pattern, part in zip(pattern_parts, arn_parts, strict=True)
    )


def is_arn_shaped(text: str) -> bool:
    """Whether ``text`` has the six colon-separated parts of an ARN."""
    return len(text.split(":", _ARN_PARTS - 1)) == _ARN_PARTS


def has_wildcard(pattern: str) -> bool:
    """Whether ``pattern`` can match more than one string (an unescaped ``*`` or ``?``)."""
    return any(token in "*?" for token in _TOKEN_RE.findall(pattern))


def _simple(pattern: str) -> tuple[str, bool] | None:
    """(text, whether it is a prefix) for a pattern that is a literal, or a literal and one
    final ``*``: matched without a regular expression. None for any other pattern."""
    if "?" in pattern or "$" in pattern:
        return None
    star = pattern.find("*")
    if star == -1:
        return pattern, False
    return (pattern[:-1], True) if star == len(pattern) - 1 else None


def _simple_match(pattern: str, text: str) -> bool:
    """Whether ``pattern``, which :func:`_simple` accepts, matches ``text``."""
    literal, prefix = _simple(pattern) or (pattern, False)
    return text.startswith(literal) if prefix else text == literal


@functools.cache
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    # DOTALL: a wildcard must match every character, newlines included; anything
    # less would let an odd ARN slip past a Deny.
    return re.compile(_translate(pattern), flags | re.DOTALL)


@functools.cache
def _resource_regex(pattern: str, *, loose: bool) -> re.Pattern[str]:
    """A Resource pattern as a regular expression, segment by segment.

    ``loose`` lets a ``?`` match a colon, the reading AWS does not document.
    """
    parts: list[str] = []
    position = 0
    for token in _TOKEN_RE.finditer(pattern):
        parts.append(re.escape(pattern[position : token.start()]))
        text = token.group()
        if text == "*":
            last_of_segment = token.end() == len(pattern) or pattern[token.end()] == ":"
            parts.append(".*" if last_of_segment else "[^:]*")
        elif text == "?":
            parts.append("." if loose else "[^:]")
        else:
            parts.append(re.escape(_ESCAPES[text]))
        position = token.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("".join(parts), re.DOTALL)


def _fold_head(text: str) -> str:
    """``text`` with its partition, service, region and account segments lower-cased."""
    parts = text.split(":", _ARN_PARTS - 1)
    return ":".join(part.lower() if 1 <= index <= 4 else part for index, part in enumerate(parts))


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


# --- a request for many resources at once ----------------------------------------------
#
# A requirement may name a pattern of resources (``table/ml-jobs/index/*``: the containers
# query whichever index they need). An Allow must then cover every resource the pattern
# stands for, and a Deny that reaches any one of them denies the requirement.

#: Stands for "some resource name" when a requested pattern is made concrete: characters
#: no ARN pattern in a policy contains, so only a wildcard of the policy can match them.
_STAND_IN = "\u2063" * 8


def covers_resource(pattern: str, requested: str) -> bool | None:
    """Whether a Resource ``pattern`` matches every ARN the ``requested`` pattern stands for.

    Checked on two instances of ``requested``, its wildcards standing for nothing and for
    a run of characters no policy names; None when either match is undecided.
    """
    results = [
        match_resource(pattern, _instance(requested, stand_in))[0] for stand_in in ("", _STAND_IN)
    ]
    if all(result is True for result in results):
        return True
    if any(result is False for result in results):
        return False
    return None


def overlaps_resource(pattern: str, requested: str) -> bool | None:
    """Whether some ARN matches both the Resource ``pattern`` and the ``requested`` one.

    None when they share an ARN only if letter case is ignored in the partition, service,
    region or account, which AWS does not document.
    """
    if _intersect(_tokens(pattern), _tokens(requested)):
        return True
    folded = _intersect(_tokens(_fold_head(pattern)), _tokens(_fold_head(requested)))
    return None if folded else False


def is_pattern(text: str) -> bool:
    """Whether ``text`` stands for several ARNs (has an unescaped ``*`` or ``?``)."""
    return has_wildcard(text)


def _instance(requested: str, stand_in: str) -> str:
    """``requested`` with each ``*`` replaced by ``stand_in`` and each ``?`` by one character."""
    pieces: list[str] = []
    position = 0
    for token in _TOKEN_RE.finditer(requested):
        pieces.append(requested[position : token.start()])
        text = token.group()
        if text == "*":
            pieces.append(stand_in)
        elif text == "?":
            pieces.append(_STAND_IN[0])
        else:
            pieces.append(_ESCAPES[text])
        position = token.end()
    pieces.append(requested[position:])
    return "".join(pieces)


#: A pattern as tokens: ("lit", char), ("one", crosses_colon) or ("any", crosses_colon).
_Token = tuple[str, str | bool]


def _tokens(pattern: str) -> tuple[_Token, ...]:
    found: list[_Token] = []
    position = 0
    for token in _TOKEN_RE.finditer(pattern):
        found.extend(("lit", char) for char in pattern[position : token.start()])
        text = token.group()
        if text == "*":
            last_of_segment = token.end() == len(pattern) or pattern[token.end()] == ":"
            found.append(("any", last_of_segment))
        elif text == "?":
            # A ? standing for a colon is not documented; a Deny is assumed to reach
            # that far, so an overlap is never missed.
            found.append(("one", True))
        else:
            found.append(("lit", _ESCAPES[text]))
        position = token.end()
    found.extend(("lit", char) for char in pattern[position:])
    return tuple(found)


def _intersect(first: tuple[_Token, ...], second: tuple[_Token, ...]) -> bool:
    """Whether some string matches both token patterns (a walk of their product)."""
    literals = {str(value) for kind, value in (*first, *second) if kind == "lit"}
    alphabet = literals | {":", "\ue000"}  # "\ue000": any other character
    start = _closure(first, second, {(0, 0)})
    seen, frontier = set(start), list(start)
    while frontier:
        i, j = frontier.pop()
        if i == len(first) and j == len(second):
            return True
        for char in alphabet:
            following = {(a, b) for a in _step(first, i, char) for b in _step(second, j, char)}
            for state in _closure(first, second, following) - seen:
                seen.add(state)
                frontier.append(state)
    return False


def _step(tokens: tuple[_Token, ...], index: int, char: str) -> set[int]:
    if index >= len(tokens):
        return set()
    kind, value = tokens[index]
    if kind == "lit":
        return {index + 1} if value == char else set()
    if char == ":" and not value:
        return set()
    return {index + 1} if kind == "one" else {index}


def _closure(
    first: tuple[_Token, ...], second: tuple[_Token, ...], states: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """``states`` and every state reached from them by letting a ``*`` match nothing."""
    found = set(states)
    frontier = list(states)
    while frontier:
        i, j = frontier.pop()
        for state in (
            (i + 1, j) if i < len(first) and first[i][0] == "any" else None,
            (i, j + 1) if j < len(second) and second[j][0] == "any" else None,
        ):
            if state is not None and state not in found:
                found.add(state)
                frontier.append(state)
    return found
