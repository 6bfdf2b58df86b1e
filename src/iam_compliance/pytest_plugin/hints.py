"""The command a target's hints repeat ("run: ... --fix-dry-run (then --fix)").

It must check that target again, the same way, and only it: what pytest was asked to run
(the paths and node ids given, else the files that hold the compliance checks), the
options that choose its configuration (``-c``, ``--rootdir``, ``-o``) and, where plugins are
not loaded automatically (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), its plugins (``-p``),
the run's mode (a hint that dropped ``--aws-mode live`` would "fix" the embedded
account), policy file, request context and guardrails, and the target's own env file. Not
every env file of the run: ``--fix`` fixes every target of its run, so a hint naming them
all would change other accounts too. Each option by the name this run has for it: the
short one only where the run registered it (a project with its own ``--fix`` gets
``--iam-fix``). Under pytest-xdist the workers build the hints, so the controller hands
them what it was given (:class:`InvocationHandover`).

One catch: with several ``--iam-env-file``, each file's values win over the environment;
with one, the environment wins. So when the environment sets a value the file sets too,
the hint unsets it (``env -u AWS_ACCOUNT_ID pytest ...``), and the hint is checked by
resolving the target as its command would.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ..config import Invocation, Settings
from ..engine.target import Target
from ..envfile import read_env_file
from ..errors import IamComplianceError
from ..targets import SETTINGS_KEYS, target_of_file

#: Credentials a file's own win over with several targets, not with one.
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


#: The key of what the controller was given, in an xdist worker's ``workerinput``.
WORKER_INPUT = "iam_compliance_invocation"
#: Options that choose the configuration, rootdir, ini values or plugins: a command that
#: checks the same way repeats them. Those that take a value (as ``-p x``, ``-px`` or
#: ``--rootdir=x``).
_KEPT = ("-p", "-c", "-o", "--config-file", "--rootdir", "--override-ini", "--confcutdir")
_KEPT_FLAGS = ("--noconftest",)
#: Ini values that do not change what is checked: where the reports go (a shard's
#: differ from shard to shard, and the command is the same for each).
_UNKEPT_INI = ("iam_compliance_reports",)


def rerun_command(
    settings: Settings,
    target: Target,
    environ: Mapping[str, str],
    invocation: Invocation | None = None,
) -> str:
    """The command that checks ``target`` again as this run did (without ``--fix``)."""
    how = invocation or Invocation()
    own = (target.source,) if settings.env_files and target.source else ()
    words = dataclasses.replace(settings, env_files=own).command(how)
    if settings.guardrails != "auto":
        words += f" {how.name('--iam-guardrails')} {settings.guardrails}"
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
    try:  # as ``--iam-env-file source`` alone resolves it
        alone = target_of_file(source, values, remaining, several=False)
    except IamComplianceError:
        return unset, False
    return unset, alone == target


def invocation(
    config: pytest.Config, items: Sequence[pytest.Item], names: Mapping[str, str]
) -> Invocation:
    """How this run was started: the paths given (else the files of the compliance checks
    among ``items``), the options that matter, and ``names``, its names for the plugin's
    options."""
    given = _given(config)
    paths = given["paths"]
    if paths is None:
        start = Path(given["dir"])
        files = dict.fromkeys(
            item.path for item in items if "iam_assessment" in getattr(item, "fixturenames", ())
        )
        paths = [_relative(path, start) for path in files]
    return Invocation(tuple(paths), tuple(given["options"]), dict(names))


def _given(config: pytest.Config) -> dict[str, Any]:
    """What this pytest was given (an xdist worker: what its controller was given)."""
    handed = getattr(config, "workerinput", {}).get(WORKER_INPUT)
    if isinstance(handed, dict):
        return handed
    explicit = config.args_source is pytest.Config.ArgsSource.ARGS
    return {
        "paths": list(config.args) if explicit else None,
        "options": kept_options(
            config.invocation_params.args,
            plugins=bool(os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")),
        ),
        "dir": str(config.invocation_params.dir),
    }


def kept_options(args: Sequence[str], *, plugins: bool = False) -> list[str]:
    """The options of ``args`` a command that checks the same way repeats (``_KEPT``);
    ``-p`` only with ``plugins`` (autoload is off: without them it is no compliance run;
    with it, ``-p xdist`` or ``-p no:randomly`` change how tests run, not what is checked)."""
    kept: list[str] = []
    words = list(args)
    while words:
        word = words.pop(0)
        if word == "--":
            break
        if word in _KEPT_FLAGS:
            kept.append(word)
        elif word in _KEPT and words:
            value = words.pop(0)
            if not _sets_unkept_ini(word, value, plugins):
                kept.extend((word, value))
        elif word.partition("=")[0] in _KEPT or _is_joined_short(word):
            name, value = (word[:2], word[2:]) if _is_joined_short(word) else word.split("=", 1)
            if not _sets_unkept_ini(name, value, plugins):
                kept.append(word)
    return kept


def _sets_unkept_ini(option: str, value: str, plugins: bool) -> bool:
    """Whether ``option value`` is left out: an ini value of ``_UNKEPT_INI``, or a plugin
    where plugins load without ``-p``."""
    if option == "-p":
        return not plugins
    is_ini = option in ("-o", "--override-ini")
    return is_ini and value.partition("=")[0].strip() in _UNKEPT_INI


def _is_joined_short(word: str) -> bool:
    """``-pxdist``, ``-opython_files=x``: a short option of ``_KEPT`` with its value."""
    return len(word) > 2 and word[:2] in _KEPT and not word.startswith("--")


def _relative(path: Path, start: Path) -> str:
    """``path`` as a command run in ``start`` names it."""
    try:
        return path.relative_to(start).as_posix()
    except ValueError:
        return os.path.relpath(path, start)


class InvocationHandover:
    """The xdist controller hands each worker what it was given: a worker's own arguments
    are the ones xdist chose for it, not the user's."""

    def __init__(self, config: pytest.Config) -> None:
        self.given = _given(config)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_INPUT] = self.given
