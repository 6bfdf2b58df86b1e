"""Policy variables and the request context they are read from.

A request context maps condition keys (compared case-insensitively) to their values.
Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'none'}``) exist in
policies of version 2012-10-17 only; in older ones ``${`` is plain text, as IAM reads it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

#: Request context: condition key (any case) -> its values.
Context = Mapping[str, Sequence[str]]
#: Keys the request carries with a value not known here: lower-cased key -> the known
#: start of the value ("" when nothing of it is known).
UnknownValues = Mapping[str, str]

_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
#: The inside of ``${key}`` or ``${key, 'default'}``.
_REFERENCE_RE = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_PATTERN_SPECIALS_RE = re.compile(r"[*?$]")


@dataclass(frozen=True)
class Substitution:
    """A text with its policy variables replaced from the request context."""

    #: The text with every variable replaced; None when one could not be.
    text: str | None
    #: The condition keys the variables named, as written.
    keys: tuple[str, ...] = ()
    #: A variable whose key has no value in the request (and no default): AWS documents
    #: that such a value matches nothing. Set when ``text`` is None for that reason.
    missing: str | None = None
    #: Why a variable could not be replaced otherwise (the result is undecided).
    note: str | None = None
    #: The key whose absence is only assumed, when that is what left it undecided.
    assumed: str | None = None


def shown_unknown(prefix: str) -> str:
    """How a value known only by its start reads in reasons and reports."""
    return f"{prefix}<unknown>"


class _Folded(dict[str, tuple[str, ...]]):
    """A context :func:`normalize_context` made: folding it again changes nothing."""


def normalize_context(context: Context | None) -> dict[str, tuple[str, ...]]:
    """Lower-case the keys of ``context``, merging keys that differ only in case.

    A bare string value is one value, not a sequence of characters. The result is not to
    be changed: it is returned as is when normalized again (each statement's Resource
    and Condition looks at the request's context, once normalized).
    """
    if isinstance(context, _Folded):
        return context
    merged: dict[str, tuple[str, ...]] = _Folded()
    for key, values in (context or {}).items():
        items = (values,) if isinstance(values, str) else tuple(values)
        folded = key.lower()
        merged[folded] = merged.get(folded, ()) + tuple(str(item) for item in items)
    return merged


def substitute_variables(
    text: str,
    context: Context | None,
    *,
    pattern: bool,
    enabled: bool = True,
    unknown: Container[str] = frozenset(),
    unknown_values: UnknownValues | None = None,
) -> Substitution:
    """Replace the policy variables in ``text`` with their values from ``context``.

    With ``pattern=True`` the result is a wildcard pattern for :mod:`.matching`:
    substituted values and the ``${*}``/``${?}``/``${$}`` escapes stay literal. With
    ``pattern=False`` it is plain text. ``enabled=False`` is for policies older than
    version 2012-10-17, where ``${`` has no special meaning.

    A variable whose key is absent from the request (and has no default) has no value;
    AWS documents what that means ("Policy variables with no value",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value):
    in Resource the ARN matches no resource, and in a condition the value matches no
    request value. The result then says which key was ``missing``. A key in ``unknown``
    (lower-cased) is one whose absence is only assumed: the result is then undecided, as
    it is for a variable IAM cannot substitute (malformed, or a multivalued key), and for
    a key in ``unknown_values``, which the request carries with a value not known here
    (its default does not apply: the key is there).
    """
    # Long only because of its docstring and IAM's rules it cites; the scan is short.
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
            note = f"{variable.group()} is not a valid policy variable"
            return Substitution(None, tuple(keys), note=note)
        key, default = reference.group(1), reference.group(2)
        keys.append(key)
        values = values_by_key.get(key.lower(), ())
        if len(values) > 1:
            note = (
                f"policy variable ${{{key}}} has {len(values)} values in the request "
                "context; IAM substitutes only single-valued keys"
            )
            return Substitution(None, tuple(keys), note=note)
        if values:
            value = values[0]
        elif unknown_values and key.lower() in unknown_values:
            note = (
                f"policy variable ${{{key}}} is replaced with the request's {key}, whose "
                "value is not known here"
            )
            return Substitution(None, tuple(keys), note=note)
        elif default is not None:
            value = default
        elif key.lower() in unknown:
            note = f"policy variable ${{{key}}} depends on whether the request carries {key}"
            return Substitution(None, tuple(keys), note=note, assumed=key)
        else:
            return Substitution(None, tuple(keys), missing=key)
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
