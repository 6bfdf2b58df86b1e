"""The documentation: the README's links reach real pages and headings, the README stays
short, and the pages' marked code blocks run and end as the pages say.

The site itself is built with ``mkdocs build --strict`` by ``.ci/run`` (mkdocs is not part
of the ``dev`` extra); this module needs neither mkdocs nor a network.

Markers (an HTML comment on the line before a fenced block; see CONTRIBUTING.md):
``<!-- run -->`` / ``<!-- run: exit N -->`` runs the block with bash, ``<!-- run: server -->``
is the moto server the self-test's own stands in for, ``<!-- file: PATH -->`` writes the
block, ``<!-- output -->`` lists lines the last run must print.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, MotoServer

README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: The README is an entry point, not the manual: what it says fits on a page or two.
README_LIMIT = 10 * 1024
#: The moto server the pages start, and its address; the self-test's server stands in.
SERVER_COMMAND = "moto_server -p 5000"
SERVER_URL = "http://127.0.0.1:5000"
#: The pages whose marked blocks run, and where: a copy of this project's suite ("clone"),
#: or an empty folder beside it ("empty", with $IAM_COMPLIANCE naming this repository).
RUNNABLE_PAGES = {"getting-started.md": "clone", "adopting.md": "empty", "recording.md": "empty"}
#: What a clone holds: what the suite and the pages' commands need.
CLONED = ("tests", "fixtures", "docs", "pyproject.toml", "conftest.py")

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_MARKER = re.compile(r"<!-- (run|file|output)(?::\s*(.*?))?\s*-->")
_FENCE = re.compile(r"^(```+)")
_TIMING = re.compile(r"\bin \d+(\.\d+)?s\b")


# ------------------------------------------------------------------ reading Markdown


def slug_mkdocs(text: str) -> str:
    """Python-Markdown's toc ``slugify`` (MkDocs' default): ASCII, runs of - and space
    collapse to one -."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def slug_github(text: str) -> str:
    """GitHub's heading anchors: lower case, punctuation dropped, each space a -."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def heading_texts(path: Path) -> list[str]:
    """The page's headings as rendered text (code and link markup removed)."""
    texts = []
    fence = None
    for line in path.read_text().splitlines():
        opened = _FENCE.match(line)
        if opened:
            fence = None if fence == opened.group(1) else fence or opened.group(1)
            continue
        if fence is None and re.match(r"#{1,6} ", line):
            text = line.lstrip("#").strip()
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
            texts.append(text.replace("`", "").replace("*", ""))
    return texts


@dataclass(frozen=True)
class Block:
    #: run, file or output
    kind: str
    #: What follows the marker's colon: ``exit 1``, ``server``, a path; "" without one.
    argument: str
    code: str
    #: Where it is, for messages: ``docs/getting-started.md:83``.
    where: str


def marked_blocks(path: Path) -> list[Block]:
    """The fenced blocks that a marker comment directly precedes, in page order."""
    lines = path.read_text().splitlines()
    blocks = []
    for number, line in enumerate(lines):
        marker = _MARKER.fullmatch(line.strip())
        if not marker:
            continue
        fence = _FENCE.match(lines[number + 1]) if number + 1 < len(lines) else None
        assert fence, f"{path.name}:{number + 1}: a marker must be followed by a code block"
        end = next(i for i in range(number + 2, len(lines)) if lines[i].strip() == fence.group(1))
        blocks.append(
            Block(
                marker.group(1),
                marker.group(2) or "",
                "\n".join(lines[number + 2 : end]),
                f"{path.relative_to(ROOT)}:{number + 1}",
            )
        )
    return blocks


def nav_pages() -> set[str]:
    """The pages mkdocs.yml's navigation lists (each one a page of the site)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)

    walk(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    return found


def readme_links() -> list[str]:
    return [link for link in _LINK.findall(README.read_text()) if "://" not in link]


# ------------------------------------------------------------------------- the README


def test_readme_stays_under_10_kb() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size:,} bytes; the limit is {README_LIMIT:,}"


@pytest.mark.parametrize("link", readme_links())
def test_readme_link_reaches_a_page_and_heading(link: str) -> None:
    path, _, anchor = link.partition("#")
    target = (ROOT / path).resolve()
    assert target.exists(), f"README.md links to {link}: {path} does not exist"
    if target.parent == DOCS and target.suffix == ".md":
        assert target.name in nav_pages(), f"{path} is not in mkdocs.yml's nav: no site page"
    if anchor:
        headings = heading_texts(target)
        # The same heading must give the anchor on GitHub and on the site.
        assert any(slug_github(h) == anchor == slug_mkdocs(h) for h in headings), (
            f"README.md links to {link}, but {path} has no heading with that anchor on both "
            f"GitHub and the site; its headings: {headings}"
        )


def test_the_readme_has_links_into_the_site() -> None:
    linked = {link.partition("#")[0] for link in readme_links()}
    assert {"docs/getting-started.md", "docs/configuration.md"} <= linked


def test_every_docs_page_is_in_the_nav() -> None:
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages == nav_pages()


def test_the_slugs_agree_where_github_and_mkdocs_do() -> None:
    heading = "Guardrails: the organization's SCPs and RCPs"
    assert slug_github(heading) == slug_mkdocs(heading)
    assert slug_mkdocs(heading) == "guardrails-the-organizations-scps-and-rcps"
    # ... and differ where they do: the README must not link to such a heading.
    assert slug_github("The --fix option") != slug_mkdocs("The --fix option")


# --------------------------------------------------------------- running the samples


def command_environment() -> dict[str, str]:
    """This interpreter's tools first on the PATH, pytest's own worker settings left out,
    a fixed terminal width (pytest pads its section lines to it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["IAM_COMPLIANCE"] = str(ROOT)
    env["COLUMNS"] = "80"
    # Installed for the self-tests, not part of what the pages describe; it only costs time.
    env["PYTEST_ADDOPTS"] = "-p no:hypothesispytest"
    return env


def clone_into(folder: Path) -> None:
    folder.mkdir()
    for name in CLONED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / name)


def normalized(line: str) -> str:
    """A line without pytest's padding and timing, which vary from run to run."""
    return _TIMING.sub("in <time>", line.strip().strip("=_").strip())


def assert_printed(block: Block, output: str, replace: tuple[str, str]) -> None:
    printed = [normalized(line) for line in output.splitlines()]
    for line in block.code.replace(*replace).splitlines():
        expected = normalized(line)
        assert any(expected in each for each in printed), (
            f"{block.where}: the page says the output has {line.strip()!r}; it is:\n{output}"
        )


def test_the_runnable_pages_are_the_ones_with_markers() -> None:
    marked = {p.name for p in DOCS.glob("*.md") if any(b.kind == "run" for b in marked_blocks(p))}
    assert marked == set(RUNNABLE_PAGES)


@pytest.mark.parametrize("page", sorted(RUNNABLE_PAGES))
def test_page_commands_run_as_the_page_says(
    page: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    blocks = marked_blocks(DOCS / page)
    workspace = tmp_path / "work"
    if RUNNABLE_PAGES[page] == "clone":
        clone_into(workspace)
    else:
        workspace.mkdir()
    url = SERVER_URL
    exports: list[str] = []
    output: str | None = None
    ran = 0
    for block in blocks:
        if block.kind == "run" and block.argument == "server":
            assert block.code.strip() == SERVER_COMMAND, block.where
            server: MotoServer = request.getfixturevalue("moto_server")
            url = server.url
        elif block.kind == "file":
            path = workspace / block.argument
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code + "\n")
        elif block.kind == "run":
            code = block.code.replace(SERVER_URL, url)
            expected = int(block.argument.removeprefix("exit ") or 0)
            result = subprocess.run(
                ["bash", "-e", "-c", "\n".join([*exports, code])],
                cwd=workspace,
                env=command_environment(),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            output = result.stdout + result.stderr
            assert result.returncode == expected, (
                f"{block.where}: the page says exit code {expected}, got "
                f"{result.returncode}:\n{output}"
            )
            exports += [line for line in code.splitlines() if line.startswith("export ")]
            ran += 1
        else:
            assert output is not None, f"{block.where}: an output block before any run"
            assert_printed(block, output, (SERVER_URL, url))
    assert ran >= 2


def test_readme_sample_is_what_the_first_command_prints(tmp_path: Path) -> None:
    text = README.read_text()
    first = re.search(r"^python3 -m venv \.venv && (.*) && \.venv/bin/(pytest .*)$", text, re.M)
    assert first, "README.md: the quick start's first command is missing"
    # Only what the suite needs: the development tools are not part of a user's install.
    assert first.group(1) == ".venv/bin/pip install -q -e ."
    # The second is the command CI runs (.ci/run), verbatim.
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
        ".venv/bin/python -m pytest testing -n 2\n"
    ) in text
    workspace = tmp_path / "work"
    clone_into(workspace)
    result = subprocess.run(
        ["bash", "-c", first.group(2)],
        cwd=workspace,
        env=command_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    (sample,) = [b for b in marked_blocks(README) if b.kind == "output"]
    assert_printed(sample, result.stdout, ("", ""))
