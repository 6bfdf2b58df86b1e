"""How far the live reads have got: targets read of the total, requests sent, time taken.

A run over many accounts reads for seconds, or minutes, before its first test; without a
sign of life a user (or a CI log, which shows nothing until a line ends) cannot tell a slow
account from a hung one. :class:`ReadProgress` keeps the counts and says when a line is due
(every ``interval`` seconds: 2 on a terminal, 10 in a log); :func:`report_until` writes the
due lines while the reads run. Nothing is written for reads shorter than the first
interval, so a run of one quick target reads as before. The clock and the wait are passed
in: the self-tests drive them without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds between two progress lines on a terminal, and in a log (a CI job's output).
TTY_INTERVAL = 2.0
LOG_INTERVAL = 10.0
#: Reads shorter than this end without a closing line.
QUIET_BELOW = 1.0


def interval_of(is_tty: bool) -> float:
    """Seconds between two lines: a terminal is watched, a log is read afterwards."""
    return TTY_INTERVAL if is_tty else LOG_INTERVAL


class ReadProgress:
    """Counts of one run's reads, safe to update from the reading threads."""

    def __init__(
        self,
        total: int,
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        requests: Callable[[], int] = lambda: 0,
    ) -> None:
        #: Targets to read.
        self.total = total
        #: Seconds between two lines.
        self.interval = interval
        self._clock = clock
        self._requests = requests
        self._read = 0
        self._lock = threading.Lock()
        self._started = clock()
        self._last = self._started
        #: Whether any line was written (then the reads also end with one).
        self.shown = False
        #: Whether the reads finished (an interrupted run gets no closing line).
        self.complete = False

    def target_read(self) -> None:
        """One more target read (or found unreadable)."""
        with self._lock:
            self._read += 1

    def line(self) -> str:
        """``read 120/1000 targets, 37 requests, 4.0 s``."""
        elapsed = self._clock() - self._started
        return (
            f"read {self._read}/{self.total} targets, {self._requests()} requests, {elapsed:.1f} s"
        )

    def due(self) -> str | None:
        """The line to write now, if ``interval`` seconds have passed since the last."""
        now = self._clock()
        late = now - self._last
        if late < self.interval:
            return None
        # On a fixed beat from the start: a line written late (a busy machine) does not
        # push the next ones later.
        self._last += self.interval * (late // self.interval)
        self.shown = True
        return self.line()

    def closing(self) -> str | None:
        """The last line, once the reads are done: none after a read under a second
        that wrote nothing, nor after reads that did not finish."""
        if not self.complete:
            return None
        if not self.shown and self._clock() - self._started < QUIET_BELOW:
            return None
        return self.line() + " (done)"

    def until_due(self) -> float:
        """Seconds until the next line is due."""
        return max(0.0, self.interval - (self._clock() - self._last))


def report_until(
    progress: ReadProgress, done: Callable[[float], bool], write: Callable[[str], None]
) -> None:
    """Write each due line until ``done(timeout)`` (an :class:`threading.Event`'s ``wait``)
    says the reads are over, then the closing line."""
    while not done(progress.until_due()):
        line = progress.due()
        if line is not None:
            write(line)
    closing = progress.closing()
    if closing is not None:
        write(closing)


def read_with_progress(
    read: Callable[[], T], progress: ReadProgress, write: Callable[[str], None]
) -> T:
    """``read()`` in this thread while another writes the due progress lines."""
    finished = threading.Event()
    ticker = threading.Thread(
        target=report_until,
        args=(progress, finished.wait, write),
        name="iam-compliance-progress",
        daemon=True,  # an interrupted run must not wait for it
    )
    ticker.start()
    try:
        result = read()
        progress.complete = True
        return result
    finally:
        finished.set()
        ticker.join()
