"""The targets of a run: one per env file, or one from the environment and ``.env``.

Each target's values come, highest first, from the environment, its env file (which
never overrides a variable already set, unless several files each describe an account),
and the defaults below, which reproduce the runbook's account. Each value is checked
against the rules of the service that names it (IAM, DynamoDB, S3), so a typo fails here
rather than as an AWS error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from .engine.target import Credentials, Target
from .envfile import EnvValues, read_env_file
from .errors import ConfigurationError

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


def modes_in_files(env_files: Sequence[str], rootdir: Path) -> list[tuple[str, str]]:
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


def target_of_file(
    item: str, values: Mapping[str, str], environ: Mapping[str, str], *, several: bool
) -> Target:
    """The target of ``--iam-env-file item``, whose file holds ``values``; ``several``:
    one of several env files (each then brings its own credentials)."""
    path = Path(item)
    return resolve_target(
        path.stem.removesuffix(".env") or path.name,
        environ=environ,
        file_values=values,
        source=item,
        own_credentials=several,
    )


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
        label = f"--iam-env-file {item}"
        values = read_env_file(_absolute(Path(item)), label=label, checked=SETTINGS_KEYS)
        targets.append(target_of_file(item, values, environ, several=several))
    names = [t.name for t in targets]
    for name in names:
        if names.count(name) > 1:
            raise ConfigurationError(
                f"--iam-env-file: two files are both named {name!r}; each target needs its own "
                "file name, which names it in test ids"
            )
    return tuple(targets)
