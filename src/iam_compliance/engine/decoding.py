"""A policy document's text, decoded as strictly as IAM reads it.

JSON is decoded with what IAM would refuse refused, each with the input named and, where
the decoder knows it, the line and column: a document too large or nested too deep (refused
before the decoder recurses into it), NaN and infinities (Python accepts them, JSON does
not), a string that is no text (a lone surrogate). :mod:`.policy` parses what this returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, PolicyError

#: Documents nested deeper than this are refused before json.loads recurses into them.
MAX_NESTING = 64
#: Larger documents are refused unread: IAM's own limit is 10,240 characters for a role.
MAX_DOCUMENT_BYTES = 1_000_000


def read_file(path: Path, origin: str) -> str:
    """A UTF-8 text file's contents; ``origin`` names it in the error when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{origin}: file not found") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{origin}: is a directory, expected a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{origin}: cannot be read ({exc})") from None


def load_document(text: str, origin: str) -> dict[str, Any]:
    """Decode a policy document's JSON text, with line and column on error."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise PolicyError(
            origin,
            f"document is {size:,} bytes; refusing anything over {MAX_DOCUMENT_BYTES:,} "
            "(IAM's own limit is 10,240 characters)",
        )
    if not text.strip():
        raise PolicyError(origin, "document is empty; expected a JSON object")
    _check_nesting(text, origin)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotJson as exc:
        raise PolicyError(origin, f"not valid JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PolicyError(
            origin, f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        ) from None
    except ValueError as exc:  # a number too long to convert, which is not a decode error
        raise PolicyError(origin, f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PolicyError(origin, f"document must be a JSON object, got {json_type(value)}")
    _check_text(value, origin)
    return value


class _NotJson(ValueError):
    """A value Python's decoder accepts but JSON (and IAM) does not."""


def _refuse_constant(name: str) -> float:
    # NaN, Infinity and -Infinity: Python's extension, not JSON (RFC 8259, section 6).
    raise _NotJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _NotJson(f"the number {text} is out of range")
    return number


def _check_text(value: Any, origin: str) -> None:
    """Refuse strings that are not text: a lone surrogate (``\\ud800``) has no UTF-8 form,
    so IAM could never store the document."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            bad = next(char for char in value if 0xD800 <= ord(char) <= 0xDFFF)
            raise PolicyError(
                origin,
                f"not valid JSON text: the string {value[:40]!r} holds a lone surrogate "
                f"\\u{ord(bad):04x}, which is not a character",
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, origin)
            _check_text(item, origin)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, origin)


def _check_nesting(text: str, origin: str) -> None:
    """Refuse deeply nested JSON before the decoder recurses into it."""
    depth = 0
    in_string = escaped = False
    line, column = 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise PolicyError(
                    origin,
                    f"nested more than {MAX_NESTING} levels deep; a policy never is",
                    line=line,
                    column=column,
                )
        elif char in "]}":
            depth -= 1


def json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    for kind, label in names.items():
        if isinstance(value, kind):
            return label
    if value is None:
        return "null"
    return "a number"
