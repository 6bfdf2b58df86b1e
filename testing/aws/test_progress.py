"""The progress of the reads: when a line is due, what it says, and nothing for a quick run.

A fake clock and a fake wait drive it: no test sleeps.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from iam_compliance.aws.connection import Sessions
from iam_compliance.aws.progress import (
    LOG_INTERVAL,
    TTY_INTERVAL,
    ReadProgress,
    interval_of,
    read_with_progress,
    report_until,
)
from iam_compliance.aws.reading import RoleReader

from conftest import TARGET, MotoServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_gets_a_line_every_2_seconds_and_a_log_every_10() -> None:
    assert (interval_of(True), interval_of(False)) == (TTY_INTERVAL, LOG_INTERVAL) == (2, 10)


@pytest.mark.parametrize("interval", [pytest.param(2.0, id="tty"), pytest.param(10.0, id="log")])
def test_a_line_is_due_once_per_interval(interval: float) -> None:
    clock = FakeClock()
    progress = ReadProgress(1000, interval=interval, clock=clock, requests=lambda: 37)
    clock.now += interval - 0.1
    assert progress.due() is None
    progress.target_read()
    clock.now += 0.1
    assert progress.due() == f"read 1/1000 targets, 37 requests, {interval:.1f} s"
    assert progress.due() is None  # not twice for the same interval
    clock.now += interval / 2
    assert progress.until_due() == pytest.approx(interval / 2)


def test_a_late_line_does_not_push_the_next_ones_later() -> None:
    clock = FakeClock()
    progress = ReadProgress(1000, interval=TTY_INTERVAL, clock=clock)
    clock.now += 2.5  # the thread that writes woke half a second late
    assert progress.due() is not None
    assert progress.until_due() == pytest.approx(1.5)
    clock.now += 3.6  # more than a whole beat late: the beats missed are not made up
    assert progress.due() is not None
    assert progress.due() is None
    assert progress.until_due() == pytest.approx(1.9)


def test_a_quick_read_of_one_target_writes_nothing() -> None:
    clock = FakeClock()
    progress = ReadProgress(1, interval=TTY_INTERVAL, clock=clock)
    waits = iter([False, True])  # one wait times out early, then the reads are done

    def done(timeout: float) -> bool:
        clock.now += 0.4
        progress.complete = next(waits)
        return progress.complete

    lines: list[str] = []
    progress.target_read()
    report_until(progress, done, lines.append)
    assert lines == []


def test_slow_reads_write_a_line_per_interval_then_a_closing_one() -> None:
    clock = FakeClock()
    requests = iter(range(1, 100))
    progress = ReadProgress(
        300, interval=TTY_INTERVAL, clock=clock, requests=lambda: next(requests)
    )
    asked: list[float] = []

    def done(timeout: float) -> bool:
        # The reads go on for 5 s: a wait times out after ``timeout`` seconds meanwhile.
        asked.append(timeout)
        clock.now += timeout
        for _ in range(20):
            progress.target_read()
        progress.complete = clock.now - 100.0 > 5
        return progress.complete

    lines: list[str] = []
    report_until(progress, done, lines.append)
    assert asked == [2.0, 2.0, 2.0]
    assert lines == [
        "read 20/300 targets, 1 requests, 2.0 s",
        "read 40/300 targets, 2 requests, 4.0 s",
        "read 60/300 targets, 3 requests, 6.0 s (done)",
    ]


def test_a_read_of_a_second_or_more_ends_with_a_line_even_without_one_before() -> None:
    clock = FakeClock()
    progress = ReadProgress(1, interval=LOG_INTERVAL, clock=clock)
    clock.now += 1.5
    progress.target_read()
    assert progress.closing() is None  # not while the reads run
    progress.complete = True
    assert progress.closing() == "read 1/1 targets, 0 requests, 1.5 s (done)"


def test_interrupted_reads_end_without_a_closing_line() -> None:
    clock = FakeClock()
    progress = ReadProgress(1000, interval=TTY_INTERVAL, clock=clock)
    lines: list[str] = []

    def read() -> None:
        clock.now += 5
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        read_with_progress(read, progress, lines.append)
    assert lines == []


def test_the_reads_run_in_the_calling_thread_and_their_result_is_returned() -> None:
    progress = ReadProgress(1, interval=TTY_INTERVAL)
    lines: list[str] = []
    result = read_with_progress(threading.current_thread, progress, lines.append)
    assert result is threading.current_thread()
    assert lines == []  # well under a second
    assert not any(t.name == "iam-compliance-progress" for t in threading.enumerate())


def test_the_reader_counts_each_target_and_the_sessions_each_request(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.seed()
    moto_server.use(monkeypatch)
    targets = [
        dataclasses.replace(TARGET, name=name, endpoint_url=moto_server.url)
        for name in ("one", "two")
    ]
    sessions = Sessions()
    reader = RoleReader(sessions.live, concurrency=1)
    reader.plan(targets)
    seeding = len(moto_server.requests())
    reads: list[int] = []
    reader.read_all(targets, lambda: reads.append(sessions.requests()))
    sent = len(moto_server.requests()) - seeding
    assert len(reads) == 2
    assert 0 < reads[0] <= reads[1] == sessions.requests() == sent
