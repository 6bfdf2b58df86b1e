"""Env files (``.env``, ``--iam-env-file``), read with python-dotenv's parser, strictly."""

from __future__ import annotations

import io
import os
from pathlib import Path

from dotenv.parser import parse_stream
from dotenv.variables import Variable, parse_variables

from .errors import ConfigurationError


def read_env_file(
    path: Path, *, label: str, checked: frozenset[str] = frozenset()
) -> dict[str, str]:
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
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{label}: cannot be read ({exc})") from None
    raw: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None and not binding.error:
            continue  # a blank line or a comment
        if binding.error or binding.value is None:
            line = binding.original.string.strip().splitlines()[0][:60]
            raise ConfigurationError(
                f"{label}: line {binding.original.line}: expected KEY=VALUE, got {line!r}"
            )
        assert binding.key is not None
        raw[binding.key] = binding.value
    # Expand ${VAR} references the way python-dotenv does, against the file and environment;
    # but a setting of the suite that names an unset variable is refused, not left empty.
    values: dict[str, str] = {}
    for key, value in raw.items():
        env = {**os.environ, **values}
        atoms = list(parse_variables(value))
        unset = [
            atom.name
            for atom in atoms
            if isinstance(atom, Variable) and atom.default is None and atom.name not in env
        ]
        if unset and key in checked:
            raise ConfigurationError(
                f"{label}: {key}={value} refers to ${{{unset[0]}}}, which is not set in this "
                "file or the environment"
            )
        values[key] = "".join(atom.resolve(env) for atom in atoms)
    return values
