"""Partition outcomes: what each partition of a sync ended in, the summary, and the exit rule.

The contract's table ("Partition outcomes and exit codes") in code: every partition (stream x
account x region) ends in one outcome, every account in scope that was not read in one too,
and :meth:`Coverage.problems` says which of them count against the run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

OK, DENIED, DISABLED, NOT_ENABLED, FAILED = "ok", "denied", "disabled", "not_enabled", "failed"
OUTCOMES = (OK, DENIED, DISABLED, NOT_ENABLED, FAILED)


class Coverage:
    """Partitions per stream and outcome, and the accounts that could not be entered."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.codes: dict[str, Counter[str]] = defaultdict(Counter)
        self.accounts_skipped: dict[str, str] = {}

    def record(self, stream: str, outcome: str, code: str | None = None) -> None:
        self.counts[stream][outcome] += 1
        if code:
            self.codes[stream][code] += 1

    def summary_lines(self) -> list[str]:
        lines = []
        for stream in sorted(self.counts):
            counts = self.counts[stream]
            parts = " ".join(f"{outcome}={counts[outcome]}" for outcome in OUTCOMES)
            codes = ", ".join(f"{c} x{n}" for c, n in sorted(self.codes[stream].items()))
            lines.append(f"coverage {stream}: {parts}" + (f" ({codes})" if codes else ""))
        if self.accounts_skipped:
            lines.append(f"coverage accounts not entered: {len(self.accounts_skipped)}")
        return lines

    def metric(self) -> dict[str, Any]:
        return {
            "type": "counter",
            "metric": "partition_coverage",
            "value": sum(sum(c.values()) for c in self.counts.values()),
            "tags": {
                "streams": {
                    s: {o: self.counts[s][o] for o in OUTCOMES} for s in sorted(self.counts)
                },
                "accounts_not_entered": sorted(self.accounts_skipped),
            },
        }

    def problems(self, selected: list[str], *, strict: bool) -> list[str]:
        """What counts against the run, one line each; empty when the exit code is 0."""
        problems = []
        for name in selected:
            counts = self.counts.get(name)
            if not counts:
                continue
            bad = counts[DENIED] + counts[FAILED]
            if bad and bad == sum(counts.values()):
                problems.append(f"stream {name} was denied or failed in every partition")
            elif strict and bad:
                problems.append(
                    f"stream {name} was denied or failed in {bad} partition(s) "
                    "(fail_on_access_denied)"
                )
        if strict and self.accounts_skipped:
            problems.append(
                f"{len(self.accounts_skipped)} account(s) could not be "
                "entered (fail_on_access_denied)"
            )
        return problems
