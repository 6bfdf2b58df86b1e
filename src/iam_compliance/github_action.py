"""The composite GitHub Action's step (``action.yml``).

``python -m iam_compliance.github_action`` is the one step of the action.

It reads the action's inputs from ``INPUT_*`` variables (``action.yml`` passes each
one): ``INPUT_MODE`` (``mock``, the default, or ``live``), ``INPUT_ENV_FILES`` (env
files, one per line, each may be a glob such as ``accounts/*.env``),
``INPUT_POLICY_FILE`` (a policy document, Terraform plan JSON or CloudFormation
template), ``INPUT_SHARD`` (``I/N``), ``INPUT_REPORTS`` (the reports folder, default
``reports``), ``INPUT_SUITE`` (the suite's test module or folder; default: the pytest
configuration's) and ``INPUT_ARGS`` (more pytest arguments, as shell words). It builds
the compliance suite's pytest command, runs it, and writes the step's outputs to
``$GITHUB_OUTPUT``.

Outputs: ``exit-code`` (0 compliant, 1 not compliant, else could not check), ``reports``
(the folder), ``json``, ``html``, ``xml`` and ``sarif`` (the files written; ``sarif`` is
empty when no SARIF log was written) and ``sarif-category`` (one per shard, so that the
shards' uploads do not close each other's alerts). The step's own exit code is the run's,
so the step is the gate. An input that is wrong is exit code 4, with an ``::error::``
annotation naming it.
"""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MODES = ("mock", "live")
#: Exit code 4: could not check.
COULD_NOT_CHECK = 4


class InputError(ValueError):
    """An input of the action that cannot be used (the message names it)."""


@dataclass(frozen=True)
class Inputs:
    mode: str
    env_files: tuple[str, ...]
    policy_file: str | None
    shard: str | None
    reports: Path
    suite: str | None
    args: tuple[str, ...]


def read_inputs(environ: Mapping[str, str], cwd: Path) -> Inputs:
    """The action's inputs; globs expanded (sorted), the reports folder made absolute."""

    def value(name: str) -> str:
        return environ.get(f"INPUT_{name}", "").strip()

    mode = value("MODE") or "mock"
    if mode not in MODES:
        raise InputError(f"input mode: expected one of {', '.join(MODES)}; got {mode!r}")
    env_files: list[str] = []
    for line in value("ENV_FILES").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        if glob.has_magic(pattern):
            found = sorted(glob.glob(pattern, root_dir=cwd, recursive=True))
            if not found:
                raise InputError(f"input env-files: {pattern!r} matches no file (in {cwd})")
            env_files.extend(found)
        else:
            env_files.append(pattern)
    try:
        args = tuple(shlex.split(value("ARGS")))
    except ValueError as exc:
        raise InputError(f"input args: {exc}") from None
    reports = Path(value("REPORTS") or "reports")
    return Inputs(
        mode=mode,
        env_files=tuple(dict.fromkeys(env_files)),
        policy_file=value("POLICY_FILE") or None,
        shard=value("SHARD") or None,
        reports=reports if reports.is_absolute() else cwd / reports,
        suite=value("SUITE") or None,
        args=args,
    )


def pytest_command(inputs: Inputs, python: str = sys.executable) -> list[str]:
    """The run of the compliance suite the inputs ask for."""
    # Each option and its value as one word: pytest chooses its rootdir (and with it the
    # configuration that turns the suite on) before it knows the plugin's options, and
    # would take a separate path value for a test path.
    words = [python, "-m", "pytest", *([inputs.suite] if inputs.suite else [])]
    words.append(f"--iam-aws-mode={inputs.mode}")
    words.extend(f"--iam-env-file={path}" for path in inputs.env_files)
    if inputs.policy_file:
        words.append(f"--iam-policy-file={inputs.policy_file}")
    if inputs.shard:
        words.append(f"--iam-shard={inputs.shard}")
    # An absolute folder: the ini setting is read from the rootdir, wherever that is.
    words += ["-o", f"iam_compliance_reports={inputs.reports}", "-v", *inputs.args]
    return words


def outputs(inputs: Inputs, code: int) -> dict[str, str]:
    """The step's outputs once the run ended with ``code``."""
    folder = inputs.reports
    sarif = folder / "compliance.sarif"
    category = "iam-compliance"
    if inputs.shard:
        category += "-shard-" + inputs.shard.replace("/", "-of-").replace(" ", "")
    return {
        "exit-code": str(code),
        "reports": str(folder),
        "json": str(folder / "compliance.json"),
        "html": str(folder / "compliance.html"),
        "xml": str(folder / "compliance.xml"),
        "sarif": str(sarif) if sarif.is_file() else "",
        "sarif-category": category,
    }


def write_outputs(values: Mapping[str, str], path: str | None) -> None:
    """Append ``name=value`` lines to ``$GITHUB_OUTPUT`` (printed when it is not set)."""
    lines = "".join(f"{name}={value}\n" for name, value in values.items())
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        print(lines, end="")


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    cwd = Path.cwd()
    try:
        inputs = read_inputs(environ, cwd)
    except InputError as exc:
        print(f"::error title=iam-compliance::{exc}")
        write_outputs({"exit-code": str(COULD_NOT_CHECK)}, environ.get("GITHUB_OUTPUT"))
        return COULD_NOT_CHECK
    command = pytest_command(inputs)
    print(f"iam-compliance: {shlex.join(command)}", flush=True)
    code = subprocess.run(command, check=False).returncode
    write_outputs(outputs(inputs, code), environ.get("GITHUB_OUTPUT"))
    if code == 1:
        print(f"::error title=iam-compliance::not compliant; see {inputs.reports}")
    elif code != 0:
        print(f"::error title=iam-compliance::could not check (exit code {code}); see the log")
    return code


if __name__ == "__main__":
    sys.exit(main())
