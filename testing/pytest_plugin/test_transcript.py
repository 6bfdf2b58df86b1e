"""What a shard writes down of a report is the JSON of it at that moment: the same as a
JSON round trip, and untouched by what later changes the report."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from iam_compliance.pytest_plugin.transcript import _plain


class Kind(enum.Enum):
    CHECK = "check"


class Level(enum.IntEnum):
    HIGH = 3


def as_json_reads_it(value: object) -> Any:
    def text(other: object) -> str:
        if isinstance(other, bytes):
            return other.decode("utf-8", "replace")
        return str(other)

    return json.loads(json.dumps(value, default=text))


LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from([Kind.CHECK, Level.HIGH, Path("reports/x.html")]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=3),
    ),
    max_leaves=20,
)


@given(VALUES)
def test_a_copy_is_what_json_reads(value: object) -> None:
    assert _plain(value) == as_json_reads_it(value)


def test_a_copy_does_not_change_with_the_report() -> None:
    extras = [{"name": "row", "content": "<p>verdict</p>"}]
    payload = {"verdict": "allowed", "notes": ["a"]}

    copied = _plain({"extras": extras, "payload": payload})
    extras.append({"name": "later"})
    extras[0]["content"] = "<p>rewritten</p>"
    payload["notes"].append("b")  # type: ignore[attr-defined]

    assert copied == {
        "extras": [{"name": "row", "content": "<p>verdict</p>"}],
        "payload": {"verdict": "allowed", "notes": ["a"]},
    }
