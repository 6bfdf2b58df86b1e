"""Resolve what to check: the targets (account, role, policy, table) and how.

Precedence, highest first: command-line options; environment variables; an env file
(``.env`` at the project root, or each ``--iam-env-file``), which never overrides a variable
already set; the defaults below, which reproduce the runbook's account.

Each env file is one target. With no ``--iam-env-file`` there is one target, named
``default``, read from ``.env`` when it exists.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .engine.evaluate.guardrails import Mode as GuardrailsMode
from .engine.target import Credentials, Target
from .envfile import EnvValues, read_env_file
from .errors import ConfigurationError

Mode = Literal["mock", "live"]
GUARDRAILS_MODES: tuple[GuardrailsMode, ...] = ("auto", "off", "required")

#: How many targets a live run reads at once. The reads wait on the network; eight keeps
#: a run over many accounts short without bursting IAM's per-account request rate.
READ_CONCURRENCY = 8
MODES: tuple[Mode, ...] = ("mock", "live")
#: The compliance suite, as hints name it.
SUITE_PATH = "tests/test_ecs_task_dynamodb_permissions.py"

#: What the runbook describes; every one can be overridden.
DEFAULTS: Mapping[str, str] = {
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID": "618574523116",
    "DYNAMODB_TABLE_NAME": "ml-jobs",
    "ECS_TASK_ROLE_NAME": "MLPlatformECSTaskRole",
    "ECS_TASK_POLICY_NAME": "MLPlatformECSTaskPolicy",
    "S3_BUCKET_NAME": "ml-platform-artifacts",
}

#: Every variable the suite reads: an empty or unresolved one is refused, never defaulted.
SETTINGS_KEYS = frozenset(
    {
        *DEFAULTS,
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "IAM_COMPLIANCE_MODE",
    }
)

# IAM's own rules for names, so a typo fails here rather than as an AWS error.
_ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$", re.ASCII)
_TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once per process."""

    mode: Mode
    targets: tuple[Target, ...]
    #: A policy document that seeds the mock account's policy instead of the fixture.
    policy_file: Path | None = None
    #: Request context for condition evaluation: key -> values.
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fix: bool = False
    fix_dry_run: bool = False
    #: Whether the organization's SCPs and RCPs take part (see docs/accounts.md).
    guardrails: GuardrailsMode = "auto"
    #: Live mode: compare every verdict with IAM's policy simulator.
    cross_check: bool = False
    #: --fix-shared-policy: fix the task policy even when other principals have it too.
    fix_shared_policy: bool = False
    #: The --iam-env-file paths, as given.
    env_files: tuple[str, ...] = ()
    #: --iam-requirements, as given: the required actions instead of the fixtures' file.
    requirements_file: str | None = None

    def command(self, suite: str = SUITE_PATH) -> str:
        """The pytest command that checks what this run checks, the same way: its mode,
        env files, policy file and request context (for hints to run it again)."""
        words = ["pytest", suite, "--aws-mode", self.mode]
        for path in self.env_files:
            words += ["--iam-env-file", path]
        if self.policy_file is not None:
            words += ["--iam-policy-file", str(self.policy_file)]
        for key, values in self.context.items():
            words.extend(w for value in values for w in ("--iam-context", f"{key}={value}"))
        if self.requirements_file is not None:
            words += ["--iam-requirements", self.requirements_file]
        return shlex.join(words)


def resolve_mode(option: str | None, environ: Mapping[str, str]) -> Mode:
    """``--aws-mode``, else IAM_COMPLIANCE_MODE, else mock."""
    if option is not None:
        where, value = "--aws-mode", option
    elif "IAM_COMPLIANCE_MODE" in environ:
        where, value = "IAM_COMPLIANCE_MODE", environ["IAM_COMPLIANCE_MODE"]
    else:
        return "mock"
    return _mode(value, where)


def _mode(value: str, where: str) -> Mode:
    for mode in MODES:
        if value == mode:
            return mode
    raise ConfigurationError(f"{where} must be one of {', '.join(MODES)}; got {value!r}")


def resolve_run_mode(
    option: str | None, environ: Mapping[str, str], env_files: Sequence[str], rootdir: Path
) -> Mode:
    """``--aws-mode``, else IAM_COMPLIANCE_MODE in the environment, else in ``.env`` (or the
    ``--iam-env-file`` files), else mock.

    A target's file exists to describe an account, not to switch the run between the mock
    and a real account: an ``--iam-env-file`` whose mode differs from the run's is refused.
    """
    in_files = _modes_in_files(env_files, rootdir)
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


def _modes_in_files(env_files: Sequence[str], rootdir: Path) -> list[tuple[str, str]]:
    """(where, IAM_COMPLIANCE_MODE) of each env file that sets it (.env without files);
    where: the file and the line."""
    if env_files:
        paths = [(f"--iam-env-file {item}", _absolute(Path(item))) for item in env_files]
    else:
        paths = [(".env", rootdir / ".env")] if (rootdir / ".env").is_file() else []
    found = []
    for label, path in paths:
        values = read_env_file(path, label=label, checked=SETTINGS_KEYS)
        if "IAM_COMPLIANCE_MODE" in values:
            place = _place(label, values, "IAM_COMPLIANCE_MODE")
            found.append(
                (place, _not_empty(values["IAM_COMPLIANCE_MODE"], "IAM_COMPLIANCE_MODE", place))
            )
    return found


def _absolute(path: Path) -> Path:
    return path if path.is_absolute() else Path.cwd() / path


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


def resolve_target(
    name: str,
    *,
    environ: Mapping[str, str],
    file_values: Mapping[str, str],
    source: str | None,
    own_credentials: bool,
) -> Target:
    """Build one target: environment over file over defaults.

    With several targets each file's own values win over the environment for the target
    settings, since each file exists to describe a different account.
    """

    # Long because it is a list: one line per setting, each with its own rule.
    where = source or "environment"
    named = ((source or ".env", file_values), ("environment", environ))
    layers = named if own_credentials else named[::-1]
    origins: dict[str, str] = {}
    #: key -> (where its value was set, for errors: ".env: line 3"; the name it was set as)
    places: dict[str, tuple[str, str]] = {}

    def value(key: str, *aliases: str) -> str:
        # AWS_DEFAULT_REGION after AWS_REGION, as boto3 reads them.
        for name_ in (key, *aliases):
            for origin, layer in layers:
                if name_ in layer:
                    origins[key] = f"{name_} in {origin}" if name_ != key else origin
                    places[key] = (_place(origin, layer, name_), name_)
                    return _not_empty(layer[name_], name_, places[key][0])
        origins[key] = "built-in default"
        return DEFAULTS[key]

    def optional(key: str) -> str | None:
        for _, layer in layers[:1] if own_credentials else layers:
            if layer.get(key):
                return layer[key]
        return None

    def run_wide(key: str) -> str | None:
        """A setting the environment may give the whole run, even with several targets."""
        return next((layer[key] for _, layer in layers if layer.get(key)), None)

    target = Target(
        name=name,
        region=value("AWS_REGION", "AWS_DEFAULT_REGION"),
        account_id=value("AWS_ACCOUNT_ID"),
        table_name=value("DYNAMODB_TABLE_NAME"),
        role_name=value("ECS_TASK_ROLE_NAME"),
        policy_name=value("ECS_TASK_POLICY_NAME"),
        s3_bucket=value("S3_BUCKET_NAME"),
        source=source,
        profile=optional("AWS_PROFILE"),
        # A file never overrides credentials the environment already has.
        credentials=_credentials(
            file_values
            if own_credentials
            or not (environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE"))
            else {},
            where,
        ),
        endpoint_url=optional("AWS_ENDPOINT_URL"),
        org_read_profile=run_wide("ORG_READ_PROFILE"),
        org_read_role_arn=run_wide("ORG_READ_ROLE_ARN"),
        account_origin=origins["AWS_ACCOUNT_ID"],
    )
    _validate(target, places)
    return target


def _place(origin: str, layer: Mapping[str, str], key: str) -> str:
    """Where ``key`` of ``layer`` was set: the file and its line, or the environment."""
    line = layer.lines.get(key) if isinstance(layer, EnvValues) else None
    return f"{origin}: line {line}" if line else origin


def _not_empty(value: str, key: str, origin: str) -> str:
    """A set value must say something: an empty one would silently become the default."""
    if not value.strip():
        default = f" ({DEFAULTS[key]})" if key in DEFAULTS else ""
        raise ConfigurationError(
            f"{origin}: {key} is set but empty; give it a value, or remove it to use the "
            f"default{default}"
        )
    return value


def _credentials(values: Mapping[str, str], where: str) -> Credentials | None:
    key, secret = values.get("AWS_ACCESS_KEY_ID"), values.get("AWS_SECRET_ACCESS_KEY")
    if not key and not secret:
        return None
    if not key or not secret:
        raise ConfigurationError(
            f"{where}: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"
        )
    return Credentials(key, secret, values.get("AWS_SESSION_TOKEN") or None)


def _validate(target: Target, places: Mapping[str, tuple[str, str]]) -> None:
    """Refuse a value IAM, DynamoDB or S3 would refuse. The value is quoted: none of these
    settings is a credential."""
    checks = (
        ("AWS_ACCOUNT_ID", target.account_id, _ACCOUNT_RE, "12 digits"),
        ("AWS_REGION", target.region, _REGION_RE, "a region such as us-east-1"),
        (
            "ECS_TASK_ROLE_NAME",
            target.role_name,
            _ROLE_NAME_RE,
            "1-64 characters of letters, digits and +=,.@_-",
        ),
        (
            "ECS_TASK_POLICY_NAME",
            target.policy_name,
            _POLICY_NAME_RE,
            "1-128 characters of letters, digits and +=,.@_-",
        ),
        (
            "DYNAMODB_TABLE_NAME",
            target.table_name,
            _TABLE_NAME_RE,
            "3-255 characters of letters, digits and _.-",
        ),
        (
            "S3_BUCKET_NAME",
            target.s3_bucket,
            _BUCKET_RE,
            "3-63 lowercase letters, digits, dots and hyphens",
        ),
    )
    for key, value, pattern, expected in checks:
        if not pattern.match(value):
            place, name = places.get(key, ("built-in default", key))
            raise ConfigurationError(f"{place}: {name} must be {expected}; got {value!r}")


def resolve_targets(
    env_files: Sequence[str],
    *,
    rootdir: Path,
    environ: Mapping[str, str],
) -> tuple[Target, ...]:
    """One target per ``--iam-env-file``; without any, one from the environment and ``.env``."""
    if not env_files:
        dotenv = rootdir / ".env"
        values = (
            read_env_file(dotenv, label=".env", checked=SETTINGS_KEYS) if dotenv.is_file() else {}
        )
        source = ".env" if dotenv.is_file() else None
        return (
            resolve_target(
                "default",
                environ=environ,
                file_values=values,
                source=source,
                own_credentials=False,
            ),
        )
    several = len(env_files) > 1
    targets: list[Target] = []
    for item in env_files:
        path = Path(item)
        label = f"--iam-env-file {item}"
        values = read_env_file(_absolute(path), label=label, checked=SETTINGS_KEYS)
        targets.append(
            resolve_target(
                path.stem.removesuffix(".env") or path.name,
                environ=environ,
                file_values=values,
                source=item,
                own_credentials=several,
            )
        )
    names = [t.name for t in targets]
    for name in names:
        if names.count(name) > 1:
            raise ConfigurationError(
                f"--iam-env-file: two files are both named {name!r}; each target needs its own "
                "file name, which names it in test ids"
            )
    return tuple(targets)


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
    guardrails: GuardrailsMode = "auto",
    cross_check: bool = False,
    fix_shared_policy: bool = False,
    requirements_file: str | None = None,
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
    )


def resolve_guardrails(option: str | None, ini: str, where: str) -> GuardrailsMode:
    """``--guardrails``, else the ini setting, else ``auto``."""
    label, value = ("--guardrails", option) if option else (where, ini.strip() or "auto")
    for mode in GUARDRAILS_MODES:
        if value == mode:
            return mode
    raise ConfigurationError(f"{label} must be one of {', '.join(GUARDRAILS_MODES)}; got {value!r}")


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
