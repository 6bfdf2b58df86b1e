"""What the benchmark scripts share: a clean environment, a copy of the suite, pytest runs
timed, a moto server on loopback.

Each part (``bench.py`` and the scripts it runs) imports its helpers from here, so that no
two scripts import each other. The self-tests' own helpers (``testing/conftest.py``)
are importable through the path set below.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "testing"))

from conftest import AMBIENT, MotoServer  # noqa: E402


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AMBIENT}
    env.update(
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def make_project(folder: Path, actions: Sequence[str] = ()) -> Path:
    """A copy of the compliance suite, as the self-tests build it."""
    (folder / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "test_ecs_task_dynamodb_permissions.py", folder / "tests")
    shutil.copytree(ROOT / "fixtures", folder / "fixtures")
    # The project's own pytest settings, as a user's copy of the suite has them.
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings["ini_options"].items()]
    (folder / "pyproject.toml").write_text("[tool.pytest.ini_options]\n" + "\n".join(lines))
    if actions:
        (folder / "fixtures" / "required_actions.toml").write_text(
            "".join(f'[[action]]\nname = "dynamodb:{a}"\nreason = "r"\n\n' for a in actions)
        )
    return folder


#: Roles per account in the many-target benchmarks: shards split by account.
ROLES_PER_ACCOUNT = 20


def targets_project(folder: Path, targets: int) -> tuple[Path, list[str]]:
    """The suite against ``targets`` roles of the mock, ``ROLES_PER_ACCOUNT`` to an account
    (one env file each), and the options that name them."""
    project = make_project(folder)
    (project / "envs").mkdir()
    args: list[str] = []
    for n in range(targets):
        account = 100000000000 + n // ROLES_PER_ACCOUNT
        path = project / "envs" / f"t{n:04}.env"
        path.write_text(f"AWS_ACCOUNT_ID={account}\nECS_TASK_ROLE_NAME=Role{n}\n")
        args.append(f"--iam-env-file={path}")
    return project, args


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time of a running process (from /proc), or of this process's finished children."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pytest_seconds(folder: Path, *args: str, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env or clean_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


def pytest_times(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds (user and system, the run's own process) of one pytest run."""
    cpu = cpu_seconds()
    wall = pytest_seconds(folder, *args, env=env)
    return wall, cpu_seconds() - cpu


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "testing" / "moto_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_environment(),
    )
    assert process.stdout is not None
    assert process.stdin is not None
    server = MotoServer(f"http://127.0.0.1:{int(process.stdout.readline())}")
    server.pid = process.pid  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def live_environment(server: MotoServer, account: str = "618574523116") -> dict[str, str]:
    creds = server.session(account).get_credentials()
    assert creds is not None
    env = clean_environment()
    env.update(
        AWS_ACCESS_KEY_ID=creds.access_key,
        AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_SESSION_TOKEN=creds.token or "",
        AWS_ENDPOINT_URL=server.url,
        AWS_REGION="us-east-1",
    )
    return env


def chromium_seconds(page: Path) -> float | None:
    """Wall time of headless Chromium loading ``page`` and printing its rendered DOM."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        return None
    started = time.perf_counter()
    subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=900,
    )
    return time.perf_counter() - started
