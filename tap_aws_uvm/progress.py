"""The operator's view while a sync runs: one INFO line every ``progress_interval_seconds`` and
at each stream's end, then one summary line with the wall time.

    Progress: 1,204/5,100 partitions (23%), 310,455 records, 0 counting against the run,
    about 4m10s left; ec2_instances 425/425, securityhub_findings 354/425, network 0/425

A partition counts against the run when it ended unreachable or failed (and, under
``fail_on_access_denied``, denied): the exit code will not be 0. The time left is estimated
from the partitions done so far, once there is a basis for it (a few percent of them, or ten
seconds).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from tap_aws_uvm.coverage import DENIED, FAILED, UNREACHABLE

LOGGER = logging.getLogger("tap-aws-uvm")
BASIS_FRACTION = 0.02  # partitions done before the time left is estimated
BASIS_SECONDS = 10.0


def duration(seconds: float) -> str:
    """``4m10s``, ``1h02m``, ``12s``."""
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """Partitions planned and done per stream, records emitted, and the lines about them."""

    def __init__(
        self,
        interval_seconds: float,
        *,
        strict: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval_seconds
        self.strict = strict
        self._clock = clock
        self.started = clock()
        self._last = self.started
        self.planned: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.records = 0
        self.against = 0

    def plan(self, stream: str, partitions: int) -> None:
        self.planned[stream] += partitions

    def add_records(self, count: int) -> None:
        self.records += count

    def partition_done(self, stream: str, outcome: str) -> None:
        self.done[stream] += 1
        if outcome in (UNREACHABLE, FAILED) or (self.strict and outcome == DENIED):
            self.against += 1
        if self.done[stream] == self.planned[stream]:
            self.log(f"stream {stream} done")

    def tick(self) -> None:
        """Log the progress line when the interval has passed (called often, cheap)."""
        if self._clock() - self._last >= self.interval:
            self.log()

    def log(self, reason: str | None = None) -> None:
        self._last = self._clock()
        LOGGER.info("%s", self.line(reason))

    def line(self, reason: str | None = None) -> str:
        planned, done = sum(self.planned.values()), sum(self.done.values())
        share = f" ({100 * done // planned}%)" if planned else ""
        parts = [
            f"Progress{f' ({reason})' if reason else ''}: {done:,}/{planned:,} partitions{share}",
            f"{self.records:,} records",
            f"{self.against:,} counting against the run",
        ]
        left = self.time_left()
        if left is not None:
            parts.append(f"about {duration(left)} left")
        pending = [(s, n) for s, n in self.planned.items() if self.done[s] < n]
        streams = ", ".join(f"{s} {self.done[s]:,}/{n:,}" for s, n in pending)
        return f"{', '.join(parts)}" + (f"; {streams}" if streams else "")

    def time_left(self) -> float | None:
        planned, done = sum(self.planned.values()), sum(self.done.values())
        elapsed = self._clock() - self.started
        if not planned or not done or done >= planned:
            return None
        if done < BASIS_FRACTION * planned and elapsed < BASIS_SECONDS:
            return None
        return elapsed * (planned - done) / done

    def summary(self, code: int) -> str:
        planned, done = sum(self.planned.values()), sum(self.done.values())
        return (
            f"Sync finished in {duration(self._clock() - self.started)}: {done:,}/{planned:,} "
            f"partitions, {self.records:,} records, {self.against:,} counting against the run; "
            f"exit {code}"
        )
