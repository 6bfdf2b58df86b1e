"""The command a target's hints repeat ("run: ... --fix-dry-run (then --fix)").

It must check that target again, the same way, and only it: the run's mode (a hint that
dropped ``--aws-mode live`` would "fix" the embedded account), policy file, request context
and guardrails, and the target's own env file. Not every env file of the run: ``--fix``
fixes every target of its run, so a hint naming them all would change other accounts too.

One catch: with several ``--iam-env-file``, each file's values win over the environment;
with one, the environment wins. So when the environment sets a value the file sets too,
the hint unsets it (``env -u AWS_ACCOUNT_ID pytest ...``), and the hint is checked by
resolving the target as its command would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from ..config import Settings
from ..engine.target import Target
from ..envfile import read_env_file
from ..errors import IamComplianceError
from ..targets import SETTINGS_KEYS, resolve_targets

#: Credentials a file's own win over with several targets, not with one.
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def rerun_command(settings: Settings, target: Target, environ: Mapping[str, str]) -> str:
    """The command that checks ``target`` again as this run did (without ``--fix``)."""
    own = (target.source,) if settings.env_files and target.source else ()
    words = dataclasses.replace(settings, env_files=own).command()
    if settings.guardrails != "auto":
        words += f" --guardrails {settings.guardrails}"
    if len(settings.env_files) < 2 or target.source is None:
        return words  # the same files as this run: the same precedence
    unset, same = _environment_to_unset(target, environ)
    prefix = "env " + " ".join(f"-u {name}" for name in unset) + " " if unset else ""
    if same:
        return prefix + words
    return (
        f"{prefix}{words}  (in an environment that does not set what "
        f"{target.source} sets: alone, an env file does not override the environment)"
    )


def _environment_to_unset(target: Target, environ: Mapping[str, str]) -> tuple[list[str], bool]:
    """The variables to unset so that ``target.source`` alone resolves to ``target``, and
    whether it then does."""
    source = target.source
    assert source is not None
    path = Path(source)
    try:
        values = read_env_file(
            path if path.is_absolute() else Path.cwd() / path, label=source, checked=SETTINGS_KEYS
        )
    except IamComplianceError:
        return [], False
    unset = [name for name in sorted(SETTINGS_KEYS) if name in environ and name in values]
    if "AWS_ACCESS_KEY_ID" in values:
        unset.extend(name for name in _CREDENTIALS if name in environ and name not in unset)
    remaining = {k: v for k, v in environ.items() if k not in unset}
    try:
        [alone] = resolve_targets([source], rootdir=Path.cwd(), environ=remaining)
    except IamComplianceError:
        return unset, False
    return unset, alone == target
