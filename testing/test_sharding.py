"""Shards by target (--iam-shard I/N): the split itself, a pure function of the targets."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from iam_compliance.config import resolve_targets
from iam_compliance.engine.target import Credentials, Target
from iam_compliance.errors import ConfigurationError
from iam_compliance.sharding import Shard, account_groups, assign_shards, parse_shard, plan_shard

from conftest import ROOT, TARGET


def many_env_files(folder: Path, count: int, *, seed: int = 7) -> list[str]:
    """``count`` env files, many sharing an account: 1 to 40 targets per account."""
    rng = random.Random(seed)
    files, n, account = [], 0, 100000000000
    while n < count:
        account += 1
        for _ in range(min(rng.choice([1, 1, 2, 3, 5, 8, 13, 40]), count - n)):
            path = folder / f"t{n:04}.env"
            path.write_text(f"AWS_ACCOUNT_ID={account}\nECS_TASK_ROLE_NAME=Role{n}\n")
            files.append(str(path))
            n += 1
    return files


def names(shards: tuple[tuple[Target, ...], ...]) -> list[list[str]]:
    return [[t.name for t in shard] for shard in shards]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2/4", Shard(2, 4), id="plain"),
        pytest.param(" 1 / 1 ", Shard(1, 1), id="spaces"),
        pytest.param("4/4", Shard(4, 4), id="last"),
    ],
)
def test_a_shard_is_read_as_i_of_n(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param("0/3", "; I must be from 1 to 3", id="zero"),
        pytest.param("4/3", "; I must be from 1 to 3", id="past-the-last"),
        pytest.param("1/0", "; N must be at least 1", id="no-shards"),
        pytest.param("x", "", id="not-a-fraction"),
        pytest.param("1/3/5", "", id="too-many-parts"),
        pytest.param("-1/3", "", id="negative"),
        pytest.param("", "", id="empty"),
    ],
)
def test_a_bad_shard_names_the_option_and_what_is_expected(text: str, why: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_shard(text)
    assert str(raised.value) == (
        f"--iam-shard {text!r}: expected I/N, shard I of N counted from 1, such as 2/4{why}"
    )


def test_a_thousand_targets_in_four_shards(tmp_path: Path) -> None:
    files = many_env_files(tmp_path, 1000)
    targets = resolve_targets(files, rootdir=tmp_path, environ={})
    shards = assign_shards(targets, 4)

    every = [t.name for shard in shards for t in shard]
    assert sorted(every) == sorted(t.name for t in targets)  # covering ...
    assert len(every) == len(set(every))  # ... and disjoint
    shard_of_account: dict[str, set[int]] = {}
    for n, shard in enumerate(shards):
        for target in shard:
            shard_of_account.setdefault(target.account_id, set()).add(n)
    assert all(len(found) == 1 for found in shard_of_account.values())  # one reader each
    # Balanced by targets: no shard further from another than the largest account.
    largest = max(Counter(t.account_id for t in targets).values())
    loads = [len(shard) for shard in shards]
    assert max(loads) - min(loads) <= largest, loads
    assert min(loads) > 0
    # Each shard keeps the order the targets were given in.
    position = {t.name: n for n, t in enumerate(targets)}
    for shard in shards:
        assert [position[t.name] for t in shard] == sorted(position[t.name] for t in shard)


def test_the_split_does_not_depend_on_the_order_of_the_files(tmp_path: Path) -> None:
    files = many_env_files(tmp_path, 300)
    shuffled = list(files)
    random.Random(3).shuffle(shuffled)
    given = resolve_targets(files, rootdir=tmp_path, environ={})
    other = resolve_targets(shuffled, rootdir=tmp_path, environ={})

    assert [sorted(s) for s in names(assign_shards(given, 4))] == [
        sorted(s) for s in names(assign_shards(other, 4))
    ]


def test_the_split_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    files = many_env_files(tmp_path, 300)
    program = (
        "import json, sys, pathlib\n"
        "from iam_compliance.config import resolve_targets\n"
        "from iam_compliance.sharding import assign_shards\n"
        "files = sys.argv[1:]\n"
        "targets = resolve_targets(files, rootdir=pathlib.Path('.'), environ={})\n"
        "print(json.dumps([[t.name for t in s] for s in assign_shards(targets, 4)]))\n"
    )
    found = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", program, *files],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
                env={"PYTHONHASHSEED": seed, "PATH": ""},
            ).stdout
        )
        for seed in ("1", "2")
    ]
    assert found[0] == found[1]


def test_targets_read_with_the_same_credentials_share_a_shard() -> None:
    key = Credentials("AKIAEXAMPLE", "secret")
    one = Target("one", "us-east-1", "111111111111", "t", "R", "P", "b", credentials=key)
    two = Target("two", "us-east-1", "222222222222", "t", "R", "P", "b", credentials=key)
    three = Target("three", "us-east-1", "333333333333", "t", "R", "P", "b")

    assert [[t.name for t in g] for g in account_groups([one, three, two])] == [
        ["one", "two"],
        ["three"],
    ]
    assert names(assign_shards([one, two, three], 2)) == [["one", "two"], ["three"]]


def test_more_shards_than_accounts_leaves_shards_empty() -> None:
    targets = [
        Target(f"t{n}", "us-east-1", f"11111111111{n % 2}", "t", f"R{n}", "P", "b")
        for n in range(5)
    ]
    plans = [plan_shard(targets, Shard(n, 4)) for n in range(1, 5)]

    assert [len(plan.targets) for plan in plans] == [3, 2, 0, 0]
    assert plans[2].is_empty
    assert plans[2].assignment == (("t0", "t2", "t4"), ("t1", "t3"), (), ())
    assert plans[2].all_targets == tuple(targets)


def test_one_shard_is_the_whole_run() -> None:
    plan = plan_shard([TARGET], Shard(1, 1))
    assert plan.targets == (TARGET,)
    assert plan.accounts == (TARGET.account_id,)
