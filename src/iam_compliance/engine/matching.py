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
:func:`iam_compliance.engine.evaluate.variables.substitute_variables`) and is compared
literally here.

Every match goes through one linear-time matcher (:mod:`.wildcards`); patterns come
from policies, and a backtracking regular expression would let one pattern such as
``dynamodb:*****...x`` stall a run for minutes.
"""

from __future__ import annotations

import functools

from .wildcards import compile_glob, intersects, scan

#: Actions compare ignoring the case of ASCII letters only: IAM action names are ASCII,
#: and Unicode case folding would let, say, the Kelvin sign match ``k``.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: An ARN has six parts, the last of which may itself contain colons.
_ARN_PARTS = 6


@functools.lru_cache(maxsize=1 << 16)
def matches_action(pattern: str, action: str) -> bool:
    """Whether an Action/NotAction ``pattern`` matches ``action``, ignoring case.

    Only ASCII letters fold: IAM action names are ASCII, and Unicode case folding
    would let, say, the Kelvin sign match ``k``. Remembered: a fix's proof asks each
    target's few patterns about the same hundreds of actions.
    """
    if pattern.isascii() and action.isascii():
        pattern, action = pattern.lower(), action.lower()
    else:
        pattern, action = pattern.translate(_ASCII_LOWER), action.translate(_ASCII_LOWER)
    simple = _simple(pattern)
    if simple is not None:
        text, prefix = simple
        return action.startswith(text) if prefix else action == text
    # A pattern of another service cannot match, whatever its wildcards after the colon.
    service, colon, _ = pattern.partition(":")
    if colon and _simple(service) == (service, False) and service != action.partition(":")[0]:
        return False
    return compile_glob(pattern).matches(action)


def match_resource(pattern: str, arn: str) -> tuple[bool | None, str | None]:
    """Whether a Resource/NotResource ``pattern`` matches ``arn``: True, False or None.

    None (undecided) when the documented rules say no but an undocumented reading says
    yes; the second value then says which. See the module docstring.
    """
    simple = _simple(pattern) is not None
    if simple:
        # No ? and no escape: the strict and the loose reading are one (most patterns).
        if _simple_match(pattern, arn):
            return True, None
    elif compile_glob(pattern, "resource").matches(arn):
        return True, None
    elif compile_glob(pattern, "resource-loose").matches(arn):
        return None, (
            f"{pattern!r} matches {arn} only if a ? may stand for a colon, which AWS "
            "does not document"
        )
    folded_pattern, folded_arn = _fold_head(pattern), _fold_head(arn)
    if (folded_pattern, folded_arn) != (pattern, arn) and (
        _simple_match(folded_pattern, folded_arn)
        if simple
        else compile_glob(folded_pattern, "resource-loose").matches(folded_arn)
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
    return compile_glob(pattern).matches(value)


def match_like_prefix(pattern: str, prefix: str) -> bool | None:
    """Whether a ``StringLike`` ``pattern`` matches a value known only to start with
    ``prefix``: True when it matches whatever follows, False when it matches nothing
    that starts so, None when that depends on the rest."""
    glob = compile_glob(pattern)
    states = glob.run(prefix, glob.start)
    if not glob.spread(states, colon=True) & glob.accept:
        return False
    return True if glob.accepts_anything_after(states) else None


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
    return ("*" in pattern or "?" in pattern) and any(
        item in ("*", "?") for item, _ in scan(pattern)
    )


def _simple(pattern: str) -> tuple[str, bool] | None:
    """(text, whether it is a prefix) for a pattern that is a literal, or a literal and one
    final ``*``: compared with string methods alone. None for any other pattern."""
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


def _fold_head(text: str) -> str:
    """``text`` with its partition, service, region and account segments lower-cased."""
    parts = text.split(":", _ARN_PARTS - 1)
    return ":".join(part.lower() if 1 <= index <= 4 else part for index, part in enumerate(parts))


# --- a request for many resources at once ----------------------------------------------
#
# A requirement may name a pattern of resources (``table/ml-jobs/index/*``: the containers
# query whichever index they need). An Allow must then cover every resource the pattern
# stands for, and a Deny that reaches any one of them denies the requirement.

#: Stands for "some resource name" when a requested pattern is made concrete: characters
#: no ARN pattern in a policy contains, so only a wildcard of the policy can match them.
_STAND_IN = "\u2063" * 8
#: ... and a run that crosses a colon, as a ``*`` at the end of a segment may: a policy's
#: ``*`` in the middle of a segment does not cover that.
_ACROSS = f"{_STAND_IN}:{_STAND_IN}"


def covers_resource(pattern: str, requested: str) -> bool | None:
    """Whether a Resource ``pattern`` matches every ARN the ``requested`` pattern stands for.

    Checked on two instances of ``requested``, its wildcards standing for nothing and for
    a run of characters no policy names; None when either match is undecided.
    """
    results = [
        match_resource(pattern, _instance(requested, stand_in))[0]
        for stand_in in ("", _STAND_IN, _ACROSS)
    ]
    if all(result is True for result in results):
        return True
    if any(result is False for result in results):
        return False
    return None


def overlaps_resource(pattern: str, requested: str) -> bool | None:
    """Whether some ARN matches both the Resource ``pattern`` and the ``requested`` one.

    A ``?`` is taken to reach across a colon (undocumented), so a Deny's overlap is never
    missed. None when they share an ARN only if letter case is ignored in the partition,
    service, region or account, which AWS does not document.
    """
    if _overlap(pattern, requested):
        return True
    return None if _overlap(_fold_head(pattern), _fold_head(requested)) else False


def is_pattern(text: str) -> bool:
    """Whether ``text`` stands for several ARNs (has an unescaped ``*`` or ``?``)."""
    return has_wildcard(text)


def _overlap(first: str, second: str) -> bool:
    return intersects(compile_glob(first, "resource-loose"), compile_glob(second, "resource-loose"))


def _instance(requested: str, stand_in: str) -> str:
    """``requested`` with each ``*`` replaced by ``stand_in`` and each ``?`` by one character.

    A ``*`` that is not the last character of its segment stays within it, so it never
    stands for :data:`_ACROSS`'s colon: it gets the plain stand-in instead.
    """
    pieces: list[str] = []
    for item, end in scan(requested):
        if item == "*":
            last_of_segment = end == len(requested) or requested[end] == ":"
            pieces.append(stand_in if last_of_segment or stand_in != _ACROSS else _STAND_IN)
        else:
            pieces.append(_STAND_IN[0] if item == "?" else item[1:])
    return "".join(pieces)
