"""The plugin's command-line options and ini settings, and where their short names work.

The plugin is active in every pytest run of an environment where the package is
installed, so it must not take option names other projects use. Every option therefore
has an ``--iam-`` name, registered in every run; the short names the runbook uses
(``--fix``, ``--aws-mode``, ...) are added only where the compliance suite is on
(``iam_compliance_fixtures`` is set), and only those no conftest or other plugin defines:
a project with its own ``--fix`` keeps it, and uses ``--iam-fix``.

This module imports nothing but pytest: it is all a run without the suite pays for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

#: The ini setting that turns the compliance suite on.
FIXTURES_INI = "iam_compliance_fixtures"
GROUP = "iam-compliance"
#: config.READ_CONCURRENCY, written out so that ``pytest --help`` imports no engine
#: (a self-test keeps the two equal).
READ_CONCURRENCY_HELP = 8


@dataclass(frozen=True)
class Option:
    """One command-line option of the plugin."""

    #: The name that works in every project: ``--iam-fix``.
    name: str
    #: The name that also works where the suite is on (``--fix``), or None.
    short: str | None
    #: Where pytest keeps the value: ``config.option.<dest>``.
    dest: str
    help: str
    #: The rest of argparse's ``add_argument`` arguments.
    attrs: Mapping[str, Any] = field(default_factory=dict)
    #: Whether it is refused where the suite is off (--iam-record works in any project).
    needs_suite: bool = True


_FLAG = {"action": "store_true", "default": False}

OPTIONS = (
    Option(
        "--iam-aws-mode",
        "--aws-mode",
        "iam_aws_mode",
        "mock (default: an embedded moto account seeded from fixtures/) or live "
        "(boto3's default credential chain). Environment: IAM_COMPLIANCE_MODE.",
        {"default": None, "metavar": "MODE"},
    ),
    Option(
        "--iam-env-file",
        None,
        "iam_env_file",
        "read the target from this env file instead of .env; repeat for several "
        "targets (each file is one account, named by its stem).",
        {"action": "append", "default": [], "metavar": "PATH"},
    ),
    Option(
        "--iam-shard",
        None,
        "iam_shard",
        "check shard I of N of the targets (I/N, counted from 1): each account's targets in "
        "one shard; merge the shards' reports with iam-compliance merge.",
        {"default": None, "metavar": "I/N"},
    ),
    Option(
        "--iam-policy-file",
        None,
        "iam_policy_file",
        "mock mode: seed the task policy with this JSON document instead of the "
        "fixture, to check a proposed policy before it is applied.",
        {"default": None, "metavar": "PATH"},
    ),
    Option(
        "--iam-context",
        None,
        "iam_context",
        "a key of the containers' requests (repeatable), e.g. "
        "aws:SourceVpce=vpce-0a1b2c3d; wins over fixtures/request_context.toml and the keys "
        "derived from the account.",
        {"action": "append", "default": [], "metavar": "KEY=VALUE"},
    ),
    Option(
        "--iam-fix",
        "--fix",
        "iam_fix",
        "make the role compliant by creating a new default version of the task "
        "policy, then check the fixed state.",
        _FLAG,
    ),
    Option(
        "--iam-fix-dry-run",
        "--fix-dry-run",
        "iam_fix_dry_run",
        "show what --iam-fix would change (new document, diff, version to delete); change nothing.",
        _FLAG,
    ),
    Option(
        "--iam-fix-shared-policy",
        "--fix-shared-policy",
        "iam_fix_shared_policy",
        "let --iam-fix change the task policy even when it is attached to other roles, "
        "users or groups too (they get the added actions as well).",
        _FLAG,
    ),
    Option(
        "--iam-guardrails",
        "--guardrails",
        "iam_guardrails",
        "the organization's SCPs and RCPs: auto (default: when they can be read), "
        "required (exit 4 when they cannot), off. Ini: iam_compliance_guardrails.",
        {"default": None, "choices": ("auto", "off", "required")},
    ),
    Option(
        "--iam-cross-check",
        "--cross-check",
        "iam_cross_check",
        "live mode: compare every verdict with IAM's policy simulator "
        "(iam:SimulatePrincipalPolicy); a disagreement fails that action's test.",
        _FLAG,
    ),
    Option(
        "--iam-strict-resources",
        None,
        "iam_strict_resources",
        "a requirement's resource whose own policy the checker does not read (a service "
        'other than DynamoDB, S3, KMS, SQS, SNS, Secrets Manager) is "could not be '
        "decided\" instead of judged by the role's policies alone.",
        _FLAG,
    ),
    Option(
        "--iam-sarif",
        "--sarif",
        "iam_sarif",
        "with --iam-policy-file: write the SARIF 2.1.0 log here instead of "
        "<reports>/compliance.sarif.",
        {"default": None, "metavar": "PATH"},
    ),
    Option(
        "--iam-requirements",
        None,
        "iam_requirements",
        "read the required actions from this file instead of "
        "<fixtures>/required_actions.toml (e.g. one written by --iam-record).",
        {"default": None, "metavar": "PATH"},
    ),
    Option(
        "--iam-terraform-dir",
        "--terraform-dir",
        "iam_terraform_dir",
        "with a Terraform plan as --iam-policy-file and --iam-fix or --iam-fix-dry-run: the "
        "configuration to patch (the .tf file that holds the policy).",
        {"default": None, "metavar": "DIR"},
    ),
)

#: --iam-record and its companions: any project's tests, with or without the suite. Any of
#: them loads the recording (:mod:`.recording`, botocore), and only then.
RECORDING = (
    Option(
        "--iam-record",
        None,
        "iam_record",
        "any test run: record the AWS calls the tests make (through botocore) and "
        "write them as IAM requirements to PATH, in the format of required_actions.toml.",
        {"default": None, "metavar": "PATH"},
        needs_suite=False,
    ),
    Option(
        "--iam-record-check",
        None,
        "iam_record_check",
        "any test run: fail when a recorded call is not covered by the requirements "
        "in PATH; warn about requirements no test exercised.",
        {"default": None, "metavar": "PATH"},
        needs_suite=False,
    ),
    Option(
        "--iam-record-strict",
        None,
        "iam_record_strict",
        "with --iam-record-check: a requirement no test exercised fails the run too.",
        _FLAG,
        needs_suite=False,
    ),
    Option(
        "--iam-record-fixtures",
        None,
        "iam_record_fixtures",
        "also record the calls fixtures make in setup and teardown (seeding moto, "
        "say); by default only test bodies are recorded.",
        _FLAG,
        needs_suite=False,
    ),
    Option(
        "--iam-record-account",
        None,
        "iam_record_account",
        "the recording run's own account, written as ${AWS_ACCOUNT_ID} "
        "(default: MOTO_ACCOUNT_ID, else moto's 123456789012).",
        {"default": None, "metavar": "ID"},
        needs_suite=False,
    ),
    Option(
        "--iam-record-region",
        None,
        "iam_record_region",
        "the recording run's own region, written as ${AWS_REGION} (default: each "
        "client's own region).",
        {"default": None, "metavar": "REGION"},
        needs_suite=False,
    ),
)

#: The options whose value is a path, by every name (see :mod:`.rootdir`).
PATH_DESTS = frozenset({"iam_env_file", "iam_policy_file", "iam_sarif", "iam_terraform_dir"})

#: The short names this run added (where the suite is on), in the run's stash.
short_names_key = pytest.StashKey[tuple[str, ...]]()


def add_options(parser: pytest.Parser) -> None:
    """The ``--iam-`` options and the ini settings: registered in every run."""
    group = parser.getgroup(GROUP, "IAM role compliance")
    for option in (*OPTIONS, *RECORDING):
        group.addoption(option.name, dest=option.dest, help=option.help, **option.attrs)
    parser.addini(
        FIXTURES_INI,
        default="",
        help="directory (relative to rootdir) with required_actions.toml and the mock "
        "account's seed policies; setting it turns the compliance suite on (and the short "
        "option names: --fix, --aws-mode, ...).",
    )
    parser.addini(
        "iam_compliance_reports",
        default="",
        help="directory (relative to rootdir) for compliance.html/.xml/.json and "
        "remediation records (default: reports).",
    )
    parser.addini(
        "iam_compliance_guardrails",
        default="",
        help="auto (default), required or off: see --iam-guardrails.",
    )
    parser.addini(
        "iam_compliance_html_rows",
        default="",
        help="the HTML results table: auto (default: every test up to 100 targets, "
        "beyond that the tests that did not pass), all, or failures.",
    )
    parser.addini(
        "iam_compliance_read_concurrency",
        default="",
        help=f"live mode: how many targets are read at once (default {READ_CONCURRENCY_HELP}; "
        "1 reads them one by one).",
    )


def is_suite_on(config: pytest.Config) -> bool:
    """Whether this pytest configuration turns the compliance suite on."""
    return bool(config.getini(FIXTURES_INI))


def add_short_names(parser: pytest.Parser) -> tuple[str, ...]:
    """Add the short names that no conftest or other plugin defines; return those added."""
    group = parser.getgroup(GROUP)
    added = []
    for option in OPTIONS:
        if option.short is None or is_defined(parser, option.short):
            continue
        group.addoption(
            option.short, dest=option.dest, help=f"same as {option.name}.", **option.attrs
        )
        added.append(option.short)
    return tuple(added)


def is_defined(parser: pytest.Parser, name: str) -> bool:
    """Whether option ``name`` is already defined, asked through the parser's public API.

    An unknown flag comes back as unknown; a known one is consumed, or is a usage error
    when it wants a value.
    """
    try:
        _, unknown = parser.parse_known_and_unknown_args([name])
    except pytest.UsageError:
        return True
    return name not in unknown


def path_option_names(config: pytest.Config) -> tuple[str, ...]:
    """The names of the path options that work in this run."""
    names = [o.name for o in OPTIONS if o.dest in PATH_DESTS]
    shorts = config.stash.get(short_names_key, ())
    names += [o.short for o in OPTIONS if o.dest in PATH_DESTS and o.short in shorts]
    return tuple(names)


def option_names(config: pytest.Config) -> dict[str, str]:
    """The ``--iam-`` name -> the name this run has for it, for each option whose short
    name the run registered (the others go by their ``--iam-`` name)."""
    shorts = config.stash.get(short_names_key, ())
    return {o.name: o.short for o in OPTIONS if o.short is not None and o.short in shorts}


def used_without_suite(config: pytest.Config) -> list[str]:
    """The plugin's options given in a run whose configuration does not turn it on."""
    return [o.name for o in OPTIONS if o.needs_suite and getattr(config.option, o.dest, None)]
