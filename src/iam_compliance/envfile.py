"""Env files (``.env``, ``--iam-env-file``), read with python-dotenv's parser, strictly.

An env file holds credentials, so its errors name the file, the line and the key, and
never quote a value or a line: a malformed line is as likely to be the one with
``AWS_SECRET_ACCESS_KEY`` as any other. python-dotenv's parser, used directly, logs
nothing (its "could not parse statement" warning comes from ``load_dotenv``/``dotenv_values``,
which are not used).
"""

from __future__ import annotations

import io
import os
import re
from collections import ChainMap
from pathlib import Path

from dotenv.parser import Original, parse_stream
from dotenv.variables import Variable, parse_variables

from .errors import ConfigurationError


class EnvValues(dict[str, str]):
    """An env file's values (expanded), and the line each key was set on, for errors."""

    def __init__(self, values: dict[str, str], lines: dict[str, int]) -> None:
        super().__init__(values)
        #: key -> line number (1-based).
        self.lines = lines


def read_env_file(path: Path, *, label: str, checked: frozenset[str] = frozenset()) -> EnvValues:
    """Read an env file with python-dotenv's parser, refusing lines it cannot parse.

    python-dotenv itself only warns about a bad line and skips it; here a skipped line
    could silently point the check at the wrong account, so it is an error. So is a
    ``checked`` key whose value names a variable that is set nowhere (``${STAGING_TABLE}``).
    """
    if not path.exists():
        raise ConfigurationError(f"{label}: file not found")
    if not path.is_file():
        raise ConfigurationError(f"{label}: is not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{label}: cannot be read ({exc.strerror})") from None
    raw, lines = _parsed(data, label, checked)
    # Expand ${VAR} references the way python-dotenv does, against the file and environment;
    # but a setting of the suite that names an unset variable is refused, not left empty.
    values: dict[str, str] = {}
    # The file's earlier values first, then the environment (looked up, not copied).
    env = ChainMap(values, os.environ)
    for key, value in raw.items():
        atoms = list(parse_variables(value))
        unset = [
            atom.name
            for atom in atoms
            if isinstance(atom, Variable) and atom.default is None and atom.name not in env
        ]
        if unset and key in checked:
            raise ConfigurationError(
                f"{label}: line {lines[key]}: {key} refers to ${{{unset[0]}}}, which is not "
                "set in this file or the environment"
            )
        values[key] = "".join(atom.resolve(env) for atom in atoms)
    return EnvValues(values, lines)


#: Each text read so far, parsed: a run reads an env file up to four times (its mode, its
#: targets, each target's command to check it again). Keyed by the bytes themselves, so a
#: file that changed is parsed again.
_PARSED: dict[bytes, tuple[dict[str, str], dict[str, int]]] = {}
_PARSED_LIMIT = 4096
#: A text longer than this is parsed each time rather than kept (an env file is a few lines).
_PARSED_MAX_BYTES = 64 * 1024


def _parsed(
    data: bytes, label: str, checked: frozenset[str]
) -> tuple[dict[str, str], dict[str, int]]:
    """The file's keys and raw values, and the line each is on (copies: callers may keep
    them); a line python-dotenv cannot parse is an error."""
    if len(data) > _PARSED_MAX_BYTES:
        return _parse(data, label, checked)
    if data not in _PARSED:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[data] = _parse(data, label, checked)
    raw, lines = _PARSED[data]
    return dict(raw), dict(lines)


def _parse(
    data: bytes, label: str, checked: frozenset[str]
) -> tuple[dict[str, str], dict[str, int]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data[: exc.start].count(b"\n") + 1
        raise ConfigurationError(f"{label}: line {number}: not UTF-8 text") from None
    raw: dict[str, str] = {}
    lines: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None and not binding.error:
            continue  # a blank line or a comment
        number = _line_number(binding.original)
        if binding.error or binding.value is None:
            line = binding.original.string
            raise ConfigurationError(
                f"{label}: line {number}: expected {_key_of(line, checked)}=VALUE, "
                f"{_fault_of(line)} (the line is not shown: it may hold a credential)"
            )
        assert binding.key is not None
        raw[binding.key] = binding.value
        lines[binding.key] = number
    return raw, lines


def _line_number(original: Original) -> int:
    """The line a binding is on: python-dotenv counts from the blank lines before it."""
    text = original.string
    return original.line + text[: len(text) - len(text.lstrip())].count("\n")


#: What an env file's line starts with: its variable's name, perhaps after ``export``.
_NAME_RE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def _key_of(line: str, known: frozenset[str]) -> str:
    """The variable name the malformed line starts with, when it is safe to show; else KEY.

    A line may be a credential pasted without its name, and python-dotenv then takes the
    credential for the name: only a name the suite reads, or one with an underscore (AWS's
    keys and tokens are base64, which has none), is shown.
    """
    match = _NAME_RE.match(line)
    name = match.group(1) if match else ""
    return name if name in known or "_" in name else "KEY"


def _fault_of(line: str) -> str:
    """What is wrong with a malformed line, said without its text."""
    first = line.strip().splitlines()[0] if line.strip() else ""
    name, equals, value = first.partition("=")
    if not equals:
        return "but it has no '='"
    value = value.strip()
    if value[:1] in ("'", '"') and value.count(value[0]) < 2:
        return "but the quoted value is not closed"
    if not _NAME_RE.fullmatch(name.rstrip()):
        return "but what comes before '=' is not a variable name"
    return "but the value has text after its closing quote"
