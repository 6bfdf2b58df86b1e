"""Policy variables and the request context they are read from.

A request context maps condition keys (compared case-insensitively) to their values.
Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``) exist in
policies of version 2012-10-17 only; in older ones ``${`` is plain text, as IAM reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Request context: condition key (any case) -> its values.
Context = Mapping[str, Sequence[str]]

_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
#: The inside of ``${key}`` or ``${key, 'default'}``.
_REFERENCE_RE = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_PATTERN_SPECIALS_RE = re.compile(r"[*?$]")


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


def _literal_pattern(value: str) -> str:
    """Escape ``value`` so a wildcard pattern matches it character for character."""
    return _PATTERN_SPECIALS_RE.sub(lambda special: f"${{{special.group()}}}", value)
