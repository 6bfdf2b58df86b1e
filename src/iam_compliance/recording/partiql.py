"""The verb and the table (and index) of a PartiQL for DynamoDB statement.

IAM authorises a statement by its verb (``dynamodb:PartiQLSelect`` ...) on the table or
index it names (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html).
The statement forms (the "PartiQL select/insert/update/delete statements for DynamoDB"
pages, e.g. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.select.html):

* ``SELECT ... FROM table[.index] ...``
* ``INSERT INTO table VALUE ...``
* ``UPDATE table SET|REMOVE ...``
* ``DELETE FROM table WHERE ...``

A name is a double-quoted identifier (``"ml-jobs"``, ``""`` for a quote inside it) or a
plain word. Strings in single quotes are skipped, so ``WHERE "from" = 'FROM x'`` does not
confuse the reader. Anything else (``EXISTS(...)``, whose action AWS does not document)
is not read: the caller records the call as unmapped rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """What a statement does, and where."""

    #: ``SELECT``, ``INSERT``, ``UPDATE`` or ``DELETE``.
    verb: str
    #: The table's name (or ARN), unquoted.
    table: str
    #: The index a SELECT reads, or None.
    index: str | None = None


# Token kinds: a plain word, a quoted identifier, a dot; everything else is skipped.
_WORD, _QUOTED, _DOT = "word", "quoted", "dot"
#: Characters that end a word and are no part of a name.
_PUNCTUATION = frozenset("()[]{},;=<>!")


def read_statement(text: str) -> Statement | None:
    """The statement's verb, table and index; None when it is not one of the four forms."""
    tokens = _tokens(text)
    if not tokens or tokens[0][0] != _WORD:
        return None
    verb = tokens[0][1].upper()
    if verb == "SELECT":
        start = _after_keyword(tokens, "FROM")
    elif verb == "INSERT":
        start = 2 if _is_keyword(tokens, 1, "INTO") else None
    elif verb == "UPDATE":
        start = 1
    elif verb == "DELETE":
        start = 2 if _is_keyword(tokens, 1, "FROM") else None
    else:
        return None
    if start is None or start >= len(tokens) or tokens[start][0] == _DOT:
        return None
    table, index, following = tokens[start][1], None, start + 1
    if following < len(tokens) and tokens[following][0] == _DOT:
        # Only a SELECT reads an index: "table"."index".
        name = following + 1
        if verb != "SELECT" or name >= len(tokens) or tokens[name][0] == _DOT:
            return None
        index = tokens[name][1]
    return Statement(verb, table, index)


def _is_keyword(tokens: list[tuple[str, str]], position: int, word: str) -> bool:
    return (
        position < len(tokens)
        and tokens[position][0] == _WORD
        and tokens[position][1].upper() == word
    )


def _after_keyword(tokens: list[tuple[str, str]], word: str) -> int | None:
    for position in range(1, len(tokens)):
        if _is_keyword(tokens, position, word):
            return position + 1
    return None


def _tokens(text: str) -> list[tuple[str, str]]:
    """Words, quoted identifiers and dots, in order; nothing of what is inside '...'.

    A word runs to the next blank, quote, dot or punctuation mark, so an unquoted
    ``ml-jobs`` is read whole rather than as a table ``ml``.
    """
    found: list[tuple[str, str]] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char in "\"'":
            value, position = _quoted(text, position, char)
            if char == '"':
                found.append((_QUOTED, value))
        elif char == ".":
            found.append((_DOT, "."))
            position += 1
        elif char.isspace() or char in _PUNCTUATION:
            position += 1
        else:
            end = position
            while end < length and not (
                text[end].isspace() or text[end] in _PUNCTUATION or text[end] in "\"'."
            ):
                end += 1
            found.append((_WORD, text[position:end]))
            position = end
    return found


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The text between ``quote`` at ``start`` and its closing quote (doubled quotes are
    one), and the position after it; an unclosed quote runs to the end."""
    pieces: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == quote:
            if text[position + 1 : position + 2] == quote:
                pieces.append(quote)
                position += 2
                continue
            return "".join(pieces), position + 1
        pieces.append(char)
        position += 1
    return "".join(pieces), position
