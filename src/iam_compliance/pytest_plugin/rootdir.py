"""Option values never choose pytest's rootdir.

pytest chooses its rootdir and configuration file before it loads plugins, so at that
moment ``--iam-env-file /elsewhere/prod.env`` is an unknown option followed by a path, and
the path is taken for a test path: the rootdir (and with it the configuration file, the
fixtures and the reports folder) can become ``/elsewhere``. The ``=`` form
(``--iam-env-file=/elsewhere/prod.env``) is one argument and never taken for a path.

When a value given the other way did change the choice, the run stops before anything is
read or written, and says how to write it; when it changed nothing, the run goes on.
"""

from __future__ import annotations

import inspect
import itertools
import os
import shlex
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest


def misplaced_values(args: Sequence[str], options: Collection[str]) -> list[tuple[str, str]]:
    """(option, value) pairs of ``options`` given as two arguments whose value exists as a
    path."""
    return [
        (option, value)
        for option, value in itertools.pairwise(args)
        if option in options and not value.startswith("-") and os.path.exists(value)
    ]


def misled_by(
    config: pytest.Config, options: Collection[str]
) -> tuple[str, str, Path, Path | None] | None:
    """The first of ``options`` whose value changed pytest's rootdir or configuration file:
    (option, value, the rootdir and file pytest would have chosen without it)."""
    args = [
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *config.invocation_params.args,
    ]
    misplaced = misplaced_values(args, options)
    if not misplaced:
        return None
    expected = _setup_without(config)
    if expected is None or expected == (config.rootpath, config.inipath):
        return None
    return (*misplaced[0], *expected)


def check_rootdir(config: pytest.Config, options: Collection[str]) -> None:
    """Stop the run when the value of one of the path ``options`` changed pytest's rootdir
    or configuration."""
    misled = misled_by(config, options)
    if misled is None:
        return
    option, value, root, ini = misled
    raise pytest.UsageError(
        f"{option} {value}: pytest took this value for a test path when it chose its rootdir "
        f"({config.rootpath}, configuration file {config.inipath or 'none'}) instead of "
        f"{root} ({ini or 'none'}): it reads a plugin's options only after choosing. "
        f"Write {option}={value} (one argument), or give --rootdir={root}"
    )


def _setup_without(config: pytest.Config) -> tuple[Path, Path | None] | None:
    """The rootdir and configuration file pytest would have chosen from the test paths
    alone; None when this pytest cannot tell."""
    try:
        # pytest's own choice, made again without the option values: the only way to
        # compare with what it chose, short of copying its rules.
        from _pytest.config.findpaths import determine_setup

        namespace = config.known_args_namespace
        arguments = {
            "inifile": namespace.inifilename,
            "args": list(namespace.file_or_dir),
            "rootdir_cmd_arg": namespace.rootdir or None,
            "invocation_dir": config.invocation_params.dir,
            "override_ini": namespace.override_ini,
        }
        accepted = inspect.signature(determine_setup).parameters
        found = determine_setup(**{k: v for k, v in arguments.items() if k in accepted})
        return Path(found[0]), None if found[1] is None else Path(found[1])
    except Exception:  # a pytest whose internals differ: the check is skipped, not the run
        return None
