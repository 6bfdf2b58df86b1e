"""One linear-time matcher for IAM's wildcard patterns (``*``, ``?`` and their escapes).

A pattern is read once into a chain of tokens, one state per token, and a text is run
through that chain one character at a time with the set of live states held in the bits
of one integer (the bit-parallel "shift-and" simulation of a nondeterministic automaton).
Each character costs a handful of integer operations whatever the pattern, so a match
takes time linear in the text (times the pattern's length over the machine word). A
backtracking regular expression, by contrast, takes exponential time on patterns such
as ``dynamodb:***...*x`` or ``*?*?*?...*b``, which IAM accepts; no policy text reaches
:mod:`re` as a pattern.

Where a wildcard may reach depends on the element (see :mod:`.matching`):

* ``like`` (StringLike, ArnLike parts, actions): ``*`` and ``?`` match any character.
* ``resource`` (Resource/NotResource as AWS documents it): a ``*`` stays within its
  colon-separated segment unless it is the last character of the segment; a ``?``
  never matches a colon.
* ``resource-loose``: the same, except that a ``?`` may match a colon (the reading AWS
  does not document, used to tell "no" from "undecided").

``${*}``, ``${?}`` and ``${$}`` are a literal ``*``, ``?`` and ``$``; any other text
(policy variables included) is literal.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

#: Where a wildcard may reach (see above): ``like``, ``resource`` or ``resource-loose``.
Reach = Literal["like", "resource", "resource-loose"]

#: The escapes IAM reads as literal characters inside a pattern.
ESCAPES = ("${*}", "${?}", "${$}")


@dataclass(frozen=True)
class Token:
    """One element of a pattern."""

    #: ``literal``, ``one`` (``?``) or ``any`` (``*``).
    kind: Literal["literal", "one", "any"]
    #: The character of a literal; empty for a wildcard.
    char: str = ""
    #: Whether the wildcard may match a colon.
    colon: bool = True


def scan(pattern: str) -> Iterator[tuple[str, int]]:
    """Each ``*`` (``"*"``), ``?`` (``"?"``) and literal character (``"=x"``) of ``pattern``,
    with the index just past it."""
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "$" and pattern.startswith(ESCAPES, index):
            index += 4
            yield "=" + pattern[index - 2], index
        else:
            index += 1
            yield (char if char in "*?" else "=" + char), index


def tokenize(pattern: str, reach: Reach = "like") -> list[Token]:
    """``pattern`` as tokens, escapes read and each run of ``*`` made one ``*``.

    A run of ``*`` matches what its last ``*`` matches: only the last can be the last
    character of a segment, and ``[^:]*`` followed by ``.*`` is ``.*``.
    """
    found: list[Token] = []
    for item, end in scan(pattern):
        if item == "*":
            end_of_segment = end == len(pattern) or pattern[end] == ":"
            star = Token("any", colon=reach == "like" or end_of_segment)
            if found and found[-1].kind == "any":
                found[-1] = star
            else:
                found.append(star)
        elif item == "?":
            found.append(Token("one", colon=reach != "resource"))
        else:
            found.append(Token("literal", item[1]))
    return found


@dataclass(frozen=True)
class Glob:
    """A compiled pattern. States are bits: bit ``i`` set means "the first ``i`` tokens
    matched what was read"; bit ``size`` is the accepting state."""

    tokens: tuple[Token, ...]
    #: Bits of the ``*`` tokens (each may match nothing: its state also sets the next).
    stars: int
    #: Character -> (bits that advance on it, bits that stay on it), for every literal
    #: character of the pattern and ``:``.
    table: Mapping[str, tuple[int, int]]
    #: The same for any other character.
    other: tuple[int, int]
    #: Bits of the tokens that some character advances (literals and ``?``).
    advancing: int
    #: Bits of the literal ``:`` tokens.
    colons: int
    #: Per colon-free stretch of states, its bits: a literal ``:`` ends a stretch.
    segments: tuple[int, ...]
    #: Whether the last token is a ``*`` that may match a colon.
    open_end: bool

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def start(self) -> int:
        return self._close(1)

    @property
    def accept(self) -> int:
        return 1 << self.size

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` matches."""
        return bool(self.run(text, self.start) & self.accept)

    def run(self, text: str, states: int) -> int:
        """The states after reading ``text`` from ``states``."""
        table, other, stars = self.table, self.other, self.stars
        for char in text:
            advance, stay = table.get(char, other)
            states = ((states & advance) << 1) | (states & stay)
            states |= (states & stars) << 1
            if not states:
                break
        return states

    def step(self, states: int, char: str) -> int:
        """The states after reading ``char``."""
        return self.run(char, states)

    def step_any(self, states: int, *, colon: bool = True) -> int:
        """The states after reading some one character (other than a colon unless
        ``colon``), whichever it is."""
        advancing = self.advancing if colon else self.advancing & ~self.colons
        return self._close(((states & advancing) << 1) | (states & self.stars))

    def spread(self, states: int, *, colon: bool) -> int:
        """The states reached from ``states`` by reading some string (of any length,
        without a colon unless ``colon``): a literal ``:`` is the only token some
        character cannot get past, so each state reaches every later one up to it."""
        if not states:
            return 0
        if colon:
            lowest = states & -states
            return ((self.accept << 1) - 1) & ~(lowest - 1)
        found = 0
        for segment in self.segments:
            inside = states & segment
            if inside:
                lowest = inside & -inside
                found |= segment & ~(lowest - 1)
        return found

    def accepts_anything_after(self, states: int) -> bool:
        """Whether every continuation of what was read matches (the last token is an
        unrestricted ``*`` and ``states`` has reached it)."""
        return self.open_end and bool(states & (1 << (self.size - 1)))

    def _close(self, states: int) -> int:
        # Stars are never adjacent (tokenize merges runs), so one step reaches past each.
        return states | ((states & self.stars) << 1)


def compile_glob(pattern: str, reach: Reach = "like") -> Glob:
    """``pattern`` compiled for ``reach``; cached for the life of the process, without a
    size limit: the patterns come from the policies a run reads, and a bounded cache that
    overflows makes every later match compile again."""
    return _compile(pattern, reach)


@functools.cache
def _compile(pattern: str, reach: Reach) -> Glob:
    tokens = tokenize(pattern, reach)
    literal: dict[str, int] = {":": 0}
    one = one_colon = star = star_colon = 0
    segments: list[int] = []
    segment_start = 0
    for index, token in enumerate(tokens):
        bit = 1 << index
        if token.kind == "literal":
            literal[token.char] = literal.get(token.char, 0) | bit
            if token.char == ":":
                segments.append(_bits(segment_start, index))
                segment_start = index + 1
        elif token.kind == "one":
            one |= bit
            one_colon |= bit if token.colon else 0
        else:
            star |= bit
            star_colon |= bit if token.colon else 0
    segments.append(_bits(segment_start, len(tokens)))
    table = {
        char: (bits | one_colon, star_colon) if char == ":" else (bits | one, star)
        for char, bits in literal.items()
    }
    return Glob(
        tokens=tuple(tokens),
        stars=star,
        table=table,
        other=(one, star),
        advancing=((1 << len(tokens)) - 1) & ~star,
        colons=literal[":"],
        segments=tuple(segments),
        open_end=bool(tokens) and tokens[-1].kind == "any" and tokens[-1].colon,
    )


def _bits(first: int, last: int) -> int:
    """The bits ``first`` to ``last``, both included."""
    return ((1 << (last + 1)) - 1) & ~((1 << first) - 1)


def intersects(first: Glob, second: Glob) -> bool:
    """Whether some string matches both patterns.

    A walk of the first pattern's tokens, carrying the set of states of the second that
    the same string reaches: the first pattern's states form a chain (each token leads
    only to itself or the next), so each token is visited once and the walk takes time
    linear in the first pattern's length.
    """
    states = second.start
    for token in first.tokens:
        if token.kind == "any":
            states = second.spread(states, colon=token.colon)
        elif token.kind == "one":
            states = second.step_any(states, colon=token.colon)
        else:
            states = second.step(states, token.char)
        if not states:
            return False
    return bool(states & second.accept)
