"""What a shard's page and a merged page say about the parts of the run, above the rest.

Rendered from ``templates/shard.html.j2`` with the same environment as the rest of the
page (autoescape on): target names come from file names, which are input too.
"""

from __future__ import annotations

from .html import _templates
from .shard_entries import MergeEntry, ShardEntry

#: The note names up to this many of a shard's targets, then counts the rest.
LISTED = 10


def parts_html(shard: ShardEntry | None, merged: MergeEntry | None, count: int = 0) -> str:
    """The note about ``shard`` (a shard's page) or ``merged`` (of ``count`` shards)."""
    return (
        _templates()
        .get_template("shard.html.j2")
        .render(shard=shard, merged=merged, count=count, listed=LISTED)
    )


def shard_title(title: str, shard: ShardEntry, mode: str) -> str:
    """``IAM compliance: ... (MOCK), shard 2 of 4``; an empty shard's says so instead of
    naming no role."""
    if not shard.targets:
        return (
            f"IAM compliance: nothing to check in shard {shard.index} of {shard.count} "
            f"({mode.upper()})"
        )
    return f"{title}, shard {shard.index} of {shard.count}"
