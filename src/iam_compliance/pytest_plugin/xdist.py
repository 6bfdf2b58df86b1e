"""pytest-xdist: which process this is, and keeping each target's tests on one worker."""

from __future__ import annotations

from collections.abc import Sequence

import pytest


def is_xdist_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (xdist gives workers ``workerinput``)."""
    return hasattr(config, "workerinput")


class TargetScheduling:
    """With several targets, keep each target's tests on one worker.

    Each worker then reads only the targets it checks. An explicit ``--dist`` wins.
    """

    def __init__(self, target_names: Sequence[str]) -> None:
        # Longest first, so "prod" does not claim "prod-eu"'s tests.
        self.names = sorted(target_names, key=len, reverse=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: object) -> object:
        explicit = any(a == "-d" or a.startswith("--dist") for a in config.invocation_params.args)
        if len(self.names) < 2 or explicit or config.option.dist != "load":
            return None
        from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

        names = self.names

        class ByTarget(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                param = nodeid.partition("[")[2]
                for name in names:
                    if param == f"{name}]" or param.startswith(f"{name}-"):
                        return name
                return nodeid

        return ByTarget(config, log)
