"""Resolve what to check and how: the run's settings, its mode, its targets.

Precedence, highest first: command-line options; environment variables; an env file
(``.env`` at the project root, or each ``--iam-env-file``), which never overrides a variable
already set; the defaults, which reproduce the runbook's account.

Each env file is one target (:mod:`.targets`). With no ``--iam-env-file`` there is one
target, named ``default``, read from ``.env`` when it exists.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .engine.evaluate.guardrails import GuardrailsSetting
from .engine.target import Target
from .errors import ConfigurationError
from .targets import modes_in_files, resolve_targets

#: ``--aws-mode``: the embedded moto account, or a real (or moto server) account.
AwsMode = Literal["mock", "live"]
GUARDRAILS_SETTINGS: tuple[GuardrailsSetting, ...] = ("auto", "off", "required")

#: How many targets a live run reads at once. The reads wait on the network; eight keeps
#: a run over many accounts short without bursting IAM's per-account request rate.
READ_CONCURRENCY = 8
MODES: tuple[AwsMode, ...] = ("mock", "live")


@dataclass(frozen=True)
class Invocation:
    """How pytest was started, as far as a command that checks the same way must repeat it."""

    #: What pytest was asked to run: the test paths and node ids as given, else the files
    #: that hold the compliance checks (a test module, or the requirements file when the
    #: plugin provides the checks), relative to where pytest was started.
    paths: tuple[str, ...] = ()
    #: The options, as given, that choose the configuration, rootdir, ini values or plugins
    #: (``-c``, ``--rootdir``, ``-o``, ``-p``): without them the command may not be a
    #: compliance run at all.
    options: tuple[str, ...] = ()
    #: The name the run has for each of the plugin's options, by its ``--iam-`` name: the
    #: short one (``--fix``) where the run registered it. Any other: its ``--iam-`` name.
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, option: str) -> str:
        """What this run calls the option ``option`` (an ``--iam-`` name)."""
        return self.names.get(option, option)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once per process."""

    mode: AwsMode
    targets: tuple[Target, ...]
    #: A policy document that seeds the mock account's policy instead of the fixture.
    policy_file: Path | None = None
    #: Request context for condition evaluation: key -> values.
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fix: bool = False
    fix_dry_run: bool = False
    #: Whether the organization's SCPs and RCPs take part (see docs/accounts.md).
    guardrails: GuardrailsSetting = "auto"
    #: Live mode: compare every verdict with IAM's policy simulator.
    cross_check: bool = False
    #: --fix-shared-policy: fix the task policy even when other principals have it too.
    fix_shared_policy: bool = False
    #: The --iam-env-file paths, as given.
    env_files: tuple[str, ...] = ()
    #: --iam-requirements, as given: the required actions instead of the fixtures' file.
    requirements_file: str | None = None
    #: --iam-strict-resources: a resource whose own policy is not read (a service the
    #: checker does not read) makes its verdicts undecided instead of carrying a note.
    strict_resources: bool = False

    def command(self, invocation: Invocation | None = None) -> str:
        """The pytest command that checks what this run checks, the same way: what it was
        asked to run, its configuration, mode, env files, policy file and request context
        (for hints to run it again), with the option names ``invocation`` has."""
        how = invocation or Invocation()
        words = ["pytest", *how.paths, *how.options, how.name("--iam-aws-mode"), self.mode]
        for path in self.env_files:
            words += ["--iam-env-file", path]
        if self.policy_file is not None:
            words += ["--iam-policy-file", str(self.policy_file)]
        for key, values in self.context.items():
            words.extend(w for value in values for w in ("--iam-context", f"{key}={value}"))
        if self.requirements_file is not None:
            words += ["--iam-requirements", self.requirements_file]
        if self.strict_resources:
            words.append("--iam-strict-resources")
        return shlex.join(words)


def resolve_mode(option: str | None, environ: Mapping[str, str]) -> AwsMode:
    """``--aws-mode``, else IAM_COMPLIANCE_MODE, else mock."""
    if option is not None:
        where, value = "--aws-mode", option
    elif "IAM_COMPLIANCE_MODE" in environ:
        where, value = "IAM_COMPLIANCE_MODE", environ["IAM_COMPLIANCE_MODE"]
    else:
        return "mock"
    return _mode(value, where)


def _mode(value: str, where: str) -> AwsMode:
    for mode in MODES:
        if value == mode:
            return mode
    raise ConfigurationError(f"{where} must be one of {', '.join(MODES)}; got {value!r}")


def resolve_run_mode(
    option: str | None, environ: Mapping[str, str], env_files: Sequence[str], rootdir: Path
) -> AwsMode:
    """``--aws-mode``, else IAM_COMPLIANCE_MODE in the environment, else in ``.env`` (or the
    ``--iam-env-file`` files), else mock.

    A target's file exists to describe an account, not to switch the run between the mock
    and a real account: an ``--iam-env-file`` whose mode differs from the run's is refused.
    """
    in_files = modes_in_files(env_files, rootdir)
    if option is not None or "IAM_COMPLIANCE_MODE" in environ:
        mode = resolve_mode(option, environ)
        how = f"--aws-mode {option}" if option is not None else "IAM_COMPLIANCE_MODE"
    elif in_files:
        label, value = in_files[0]
        mode, how = _mode(value, f"{label}: IAM_COMPLIANCE_MODE"), label
    else:
        return "mock"
    for label, value in in_files if env_files else ():
        if value != mode:
            raise ConfigurationError(
                f"{label}: IAM_COMPLIANCE_MODE={value}, but this run is in {mode} mode "
                f"({how}); a target's file cannot change the run's mode: remove the line, "
                f"or run every target with --aws-mode {value}"
            )
    return mode


def parse_context(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Turn repeated ``--iam-context KEY=VALUE`` into key -> values (a repeated key adds values)."""
    context: dict[str, tuple[str, ...]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigurationError(
                f"--iam-context {item!r}: expected KEY=VALUE, for example aws:SourceVpc=vpc-1234"
            )
        context[key] = (*context.get(key, ()), value)
    return context


def resolve_settings(
    *,
    aws_mode: str | None,
    env_files: Sequence[str],
    policy_file: str | None,
    context: Sequence[str],
    fix: bool,
    fix_dry_run: bool,
    rootdir: Path,
    environ: Mapping[str, str],
    guardrails: GuardrailsSetting = "auto",
    cross_check: bool = False,
    fix_shared_policy: bool = False,
    requirements_file: str | None = None,
    strict_resources: bool = False,
) -> Settings:
    """Everything a run needs, from the command line's values and the environment."""
    mode = resolve_run_mode(aws_mode, environ, env_files, rootdir)
    if cross_check and mode != "live":
        raise ConfigurationError(
            "--cross-check asks IAM's policy simulator, which exists only in live mode "
            "(--aws-mode live); the embedded moto account has none"
        )
    if policy_file and mode == "live":
        raise ConfigurationError(
            "--iam-policy-file seeds the mock account; it cannot be used with --aws-mode "
            "live (a live run checks the policy that is in the account)"
        )
    if fix and fix_dry_run:
        raise ConfigurationError("--fix and --fix-dry-run: choose one")
    return Settings(
        mode=mode,
        targets=resolve_targets(env_files, rootdir=rootdir, environ=environ),
        policy_file=Path(policy_file) if policy_file else None,
        context=parse_context(context),
        fix=fix,
        fix_dry_run=fix_dry_run,
        guardrails=guardrails,
        cross_check=cross_check,
        fix_shared_policy=fix_shared_policy,
        env_files=tuple(env_files),
        requirements_file=requirements_file,
        strict_resources=strict_resources,
    )


def resolve_guardrails(option: str | None, ini: str, where: str) -> GuardrailsSetting:
    """``--guardrails``, else the ini setting, else ``auto``."""
    label, value = ("--guardrails", option) if option else (where, ini.strip() or "auto")
    for setting in GUARDRAILS_SETTINGS:
        if value == setting:
            return setting
    raise ConfigurationError(
        f"{label} must be one of {', '.join(GUARDRAILS_SETTINGS)}; got {value!r}"
    )


def parse_positive_int(raw: str, *, name: str, where: str, default: int) -> int:
    """An ini setting that must be a whole number of at least 1 (empty: ``default``)."""
    text = raw.strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(
            f"{name} ({where}): expected a whole number of at least 1, got {text!r}"
        )
    return value
