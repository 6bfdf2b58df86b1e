"""compliance.html and compliance.xml: written by pytest-html and junitxml in a private
folder, then renamed into the reports folder, so that no report is written through a link
planted there."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest
from _pytest import junitxml

HTML_NAME = "compliance.html"
XML_NAME = "compliance.xml"


def use_default_paths(config: pytest.Config, folder: Path) -> dict[Path, Path]:
    """Point pytest-html and junitxml at ``folder`` unless the user named files.

    Called from the plugin's ``pytest_configure``, which runs before theirs. A
    ``--collect-only`` or ``--help`` run checks nothing, so it must not replace the last
    real reports.

    pytest-html and junitxml open their file for writing, which follows a symbolic link
    planted there. So they write into a new private folder inside ``folder`` (created
    exclusively, mode 0700), and :class:`Publisher` renames each file into place, which
    replaces a link instead of following it. Returns each staged file's destination.
    """
    option = config.option
    if option.collectonly or getattr(option, "help", False):
        return {}
    wanted = []
    if hasattr(option, "htmlpath") and not option.htmlpath:
        wanted.append(("htmlpath", HTML_NAME))
        option.self_contained_html = True
    if hasattr(option, "xmlpath") and not option.xmlpath:
        wanted.append(("xmlpath", XML_NAME))
    if not wanted:
        return {}
    staging = Path(tempfile.mkdtemp(prefix=".iam-compliance-", dir=folder))
    for option_name, file_name in wanted:
        setattr(option, option_name, str(staging / file_name))
    return {staging / name: folder / name for _, name in wanted}


class Publisher:
    """Renames the staged HTML and JUnit files into the reports folder once written."""

    def __init__(self, config: pytest.Config, staged: dict[Path, Path]) -> None:
        self.config = config
        self.staged = staged

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        try:
            return (yield)  # pytest-html and junitxml write their files in there
        finally:
            self.publish()

    def publish(self) -> None:
        for staged, final in self.staged.items():
            if staged.is_file():
                os.replace(staged, final)  # replaces a planted link, never follows it
                _point_at(self.config, staged, final)
        for folder in {staged.parent for staged in self.staged}:
            shutil.rmtree(folder, ignore_errors=True)
        self.staged = {}

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # A run stopped before pytest_sessionfinish wrote nothing: drop the empty folder.
        for folder in {staged.parent for staged in self.staged}:
            shutil.rmtree(folder, ignore_errors=True)


def _point_at(config: pytest.Config, staged: Path, final: Path) -> None:
    """Let pytest-html's and junitxml's closing lines name the file where it now is.

    Both keep the path in an attribute of their own (``_report_path``, ``logfile``); each
    is changed only where it still holds the staged path, so a version that keeps it
    elsewhere merely names the staged file.
    """
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "_report_path", None) == staged:
            plugin._report_path = final
    xml = config.stash.get(junitxml.xml_key, None)
    if xml is not None and getattr(xml, "logfile", None) == str(staged):
        xml.logfile = str(final)
