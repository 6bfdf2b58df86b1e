"""Remediation records: their file names, and one file per fix however many start at once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from iam_compliance.report import records as record_files
from iam_compliance.report.records import record_filename

from conftest import NOW


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(NOW, "remediation-20261127T221405Z.json", id="utc"),
        pytest.param(
            datetime(2026, 11, 28, 0, 14, 5, tzinfo=timezone(timedelta(hours=2))),
            "remediation-20261127T221405Z.json",
            id="converted-to-utc",
        ),
    ],
)
def test_record_filename(now: datetime, expected: str) -> None:
    assert record_filename(now) == expected


def test_record_filename_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        record_filename(datetime(2026, 11, 27, 22, 14, 5))


def test_records_of_fixes_started_in_the_same_second_never_overwrite_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = [record_files.RecordWriter(tmp_path, clock=lambda: NOW) for _ in range(3)]
    # The second run picks its name while the first is still writing its record, as two
    # CI jobs started together can.
    write_text, others = record_files.write_text, [1, 2]
    saved: dict[int, str] = {}

    def interleaved(path: Path, text: str) -> None:
        if others:
            n = others.pop(0)
            saved[n] = writers[n]({"writer": n})
        write_text(path, text)

    monkeypatch.setattr(record_files, "write_text", interleaved)
    saved[0] = writers[0]({"writer": 0})
    monkeypatch.setattr(record_files, "write_text", write_text)
    paths = [saved[n] for n in range(3)]

    assert [Path(p).name for p in paths] == [
        "remediation-20261127T221405Z.json",
        "remediation-20261127T221405Z-2.json",
        "remediation-20261127T221405Z-3.json",
    ]
    assert [json.loads(Path(p).read_text()) for p in paths] == [
        {"writer": 0},
        {"writer": 1},
        {"writer": 2},
    ]
    # Each writer keeps its own file on later saves.
    writers[0]({"writer": 0, "status": "applied"})
    assert json.loads(Path(paths[0]).read_text())["status"] == "applied"
    assert json.loads(Path(paths[1]).read_text()) == {"writer": 1}
