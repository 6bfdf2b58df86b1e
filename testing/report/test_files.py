"""Report files: written whole or not at all, never through a planted link, names reserved."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iam_compliance.report.files import dumps, reserve, write_json, write_text


def names(folder: Path) -> list[str]:
    """Everything in ``folder``, hidden files included."""
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------- write_text


def test_write_text_writes_utf8_and_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "nested" / "compliance.json"

    write_text(path, "Accès refusé \u2717\n")

    assert path.read_bytes() == "Accès refusé \u2717\n".encode()
    assert names(path.parent) == ["compliance.json"]


def test_write_text_replaces_the_file_rather_than_writing_into_it(tmp_path: Path) -> None:
    path = tmp_path / "compliance.json"
    path.write_text("old, and longer than the new text")
    # A reader that opened the old file keeps reading the old file, whole.
    with path.open() as reader:
        write_text(path, "new")
        assert reader.read() == "old, and longer than the new text"

    assert path.read_text() == "new"
    assert names(tmp_path) == ["compliance.json"]


def test_no_temporary_file_is_left_after_a_failing_write(tmp_path: Path) -> None:
    path = tmp_path / "compliance.json"
    path.write_text("the previous report")

    with pytest.raises(UnicodeEncodeError):
        write_text(path, "a lone surrogate \ud800 cannot be UTF-8")

    assert path.read_text() == "the previous report"
    assert names(tmp_path) == ["compliance.json"]


def test_no_temporary_file_is_left_when_the_rename_fails(tmp_path: Path) -> None:
    path = tmp_path / "compliance.json"
    path.mkdir()  # a folder where the file should go: os.replace refuses

    with pytest.raises(IsADirectoryError):
        write_text(path, "{}")

    assert names(tmp_path) == ["compliance.json"]
    assert path.is_dir()


def test_symlink_at_the_destination_is_replaced_not_followed(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("must not be overwritten")
    path = tmp_path / "reports" / "compliance.json"
    path.parent.mkdir()
    path.symlink_to(precious)

    write_text(path, "the report")

    assert not path.is_symlink()
    assert path.read_text() == "the report"
    assert precious.read_text() == "must not be overwritten"


def test_dangling_symlink_at_the_destination_creates_nothing_at_its_target(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere.txt"
    path = tmp_path / "compliance.json"
    path.symlink_to(target)

    write_text(path, "the report")

    assert not path.is_symlink()
    assert path.read_text() == "the report"
    assert not target.exists()


def test_write_json_writes_indented_json_with_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "compliance.json"

    write_json(path, {"verdict": "refusé", "actions": ["dynamodb:Scan"]})

    text = path.read_text(encoding="utf-8")
    assert text == '{\n  "verdict": "refusé",\n  "actions": [\n    "dynamodb:Scan"\n  ]\n}\n'
    assert json.loads(text) == {"verdict": "refusé", "actions": ["dynamodb:Scan"]}


def test_dumps_puts_each_entry_of_the_documents_lists_on_a_line_of_its_own() -> None:
    document = {
        "schema": 3,
        "targets": [{"name": "a", "actions": [{"id": "s", "ok": False}]}, {"name": "b"}],
        "tests": [],
        "error": None,
    }

    text = dumps(document)

    assert text.splitlines() == [
        "{",
        '  "schema": 3,',
        '  "targets": [',
        '    {"name": "a", "actions": [{"id": "s", "ok": false}]},',
        '    {"name": "b"}',
        "  ],",
        '  "tests": [],',
        '  "error": null',
        "}",
    ]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=_JSON_VALUES, levels=st.integers(min_value=0, max_value=4))
def test_dumps_reads_back_as_the_value_and_indents_as_json_down_to_its_levels(
    value: object, levels: int
) -> None:
    text = dumps(value, levels)  # type: ignore[arg-type]

    assert json.loads(text) == value
    deep = json.dumps(value, indent=2, ensure_ascii=False)
    if _depth(value) <= levels:  # nothing below the indented levels: json's own layout
        assert text == deep
    else:
        assert len(text.splitlines()) < len(deep.splitlines())


def _depth(value: object) -> int:
    """How many levels of non-empty containers ``value`` has."""
    if isinstance(value, dict) and value:
        return 1 + max(_depth(v) for v in value.values())
    if isinstance(value, list) and value:
        return 1 + max(_depth(v) for v in value)
    return 0


# ------------------------------------------------------------------------- reserve


def test_reserve_creates_the_name_then_numbered_ones(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    stem = "remediation-20261127T221405Z"

    reserved = [reserve(folder, stem) for _ in range(3)]

    assert [p.name for p in reserved] == [f"{stem}.json", f"{stem}-2.json", f"{stem}-3.json"]
    assert all(p.parent == folder and p.is_file() and p.read_text() == "" for p in reserved)


def test_reserve_keeps_the_suffix(tmp_path: Path) -> None:
    assert reserve(tmp_path, "plan", ".txt").name == "plan.txt"
    assert reserve(tmp_path, "plan", ".txt").name == "plan-2.txt"


def test_reserve_never_takes_an_existing_file(tmp_path: Path) -> None:
    taken = tmp_path / "remediation.json"
    taken.write_text("another run's record")

    path = reserve(tmp_path, "remediation")

    assert path.name == "remediation-2.json"
    assert taken.read_text() == "another run's record"


def test_reserve_does_not_follow_a_planted_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    (tmp_path / "remediation.json").symlink_to(target)

    path = reserve(tmp_path, "remediation")

    assert path.name == "remediation-2.json"
    assert not target.exists()


def test_reserve_gives_each_of_many_callers_its_own_name(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        reserved = list(pool.map(lambda _: reserve(tmp_path, "remediation"), range(24)))

    expected = {"remediation.json", *(f"remediation-{n}.json" for n in range(2, 25))}
    assert {p.name for p in reserved} == expected
    assert set(names(tmp_path)) == expected
