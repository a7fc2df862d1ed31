"""Partition outcomes: what each partition of a sync ended in, the summary, and the exit rule.

The contract's table ("Partition outcomes and exit codes") in code. Every partition (stream x
account x region) ends in one outcome, and every account in scope that is not read in one too
(per selected stream); :meth:`Coverage.problems` says which of them count against the run.
The same rows become the ``sync_coverage`` stream.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

OK, DENIED, DISABLED, NOT_ENABLED = "ok", "denied", "disabled", "not_enabled"
UNREACHABLE, FAILED, NOT_ENTERED, SUSPENDED = "unreachable", "failed", "not_entered", "suspended"
PARTITION_OUTCOMES = (OK, DENIED, DISABLED, NOT_ENABLED, UNREACHABLE, FAILED)
ACCOUNT_OUTCOMES = (NOT_ENTERED, SUSPENDED)
OUTCOMES = PARTITION_OUTCOMES + ACCOUNT_OUTCOMES
ALWAYS_COUNTS = frozenset({UNREACHABLE, FAILED})
GLOBAL = "global"  # the region of a partition that has none (a key column: never empty)


@dataclass(slots=True)
class Outcome:
    """One partition's (or one account's, per stream) outcome: a row of ``sync_coverage``."""

    stream: str
    account_id: str
    region: str
    outcome: str
    error_code: str | None = None
    error_message: str | None = None
    records: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    notes: dict[str, int] = field(default_factory=dict)  # enrichment call -> records without it


@dataclass(slots=True)
class AccountOutcome:
    account_id: str
    outcome: str  # not_entered | suspended
    error_code: str | None
    error_message: str | None


class Coverage:
    """Every partition's outcome and every account not read, in the order they ended."""

    def __init__(self) -> None:
        self.partitions: list[Outcome] = []
        self.accounts: dict[str, AccountOutcome] = {}
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.codes: dict[str, Counter[str]] = defaultdict(Counter)

    def record(self, outcome: Outcome) -> None:
        self.partitions.append(outcome)
        self.counts[outcome.stream][outcome.outcome] += 1
        if outcome.error_code:
            self.codes[outcome.stream][outcome.error_code] += 1

    def account(self, account_id: str, outcome: str, code: str | None, message: str | None) -> None:
        self.accounts[account_id] = AccountOutcome(account_id, outcome, code, message)

    @property
    def not_entered(self) -> list[str]:
        return [a for a, o in self.accounts.items() if o.outcome == NOT_ENTERED]

    def account_rows(self, streams: list[str], at: dt.datetime) -> list[Outcome]:
        """One row per selected stream x account that was not entered or is suspended."""
        return [
            Outcome(
                stream,
                account.account_id,
                GLOBAL,
                account.outcome,
                account.error_code,
                account.error_message,
                0,
                at,
                at,
            )
            for account in self.accounts.values()
            for stream in streams
        ]

    def summary_lines(self) -> list[str]:
        lines = []
        for stream in sorted(self.counts):
            counts = self.counts[stream]
            parts = " ".join(f"{outcome}={counts[outcome]}" for outcome in PARTITION_OUTCOMES)
            codes = ", ".join(f"{c} x{n}" for c, n in sorted(self.codes[stream].items()))
            lines.append(f"coverage {stream}: {parts}" + (f" ({codes})" if codes else ""))
        by_outcome = Counter(a.outcome for a in self.accounts.values())
        if self.accounts:
            lines.append(
                f"coverage accounts: not_entered={by_outcome[NOT_ENTERED]} "
                f"suspended={by_outcome[SUSPENDED]}"
            )
        return lines

    def metric(self) -> dict[str, Any]:
        return {
            "type": "counter",
            "metric": "partition_coverage",
            "value": len(self.partitions),
            "tags": {
                "streams": {
                    s: {o: self.counts[s][o] for o in PARTITION_OUTCOMES}
                    for s in sorted(self.counts)
                },
                "accounts": {
                    outcome: sorted(a for a, o in self.accounts.items() if o.outcome == outcome)
                    for outcome in ACCOUNT_OUTCOMES
                },
            },
        }

    def problems(self, selected: list[str], *, strict: bool) -> list[str]:
        """What counts against the run, one line each; empty when the exit code is 0.

        Always: an unreachable or failed partition, and a selected stream with a denied
        partition and no ok one. Under ``strict`` (fail_on_access_denied): any denied
        partition and any account not entered.
        """
        problems = []
        for name in selected:
            counts = self.counts.get(name, Counter())
            for outcome in (UNREACHABLE, FAILED):
                if counts[outcome]:
                    codes = ", ".join(sorted(self._codes(name, outcome)))
                    problems.append(
                        f"stream {name}: {counts[outcome]} partition(s) {outcome} ({codes})"
                    )
            if counts[DENIED] and not counts[OK]:
                problems.append(f"stream {name} was denied in every partition it could read")
            elif strict and counts[DENIED]:
                problems.append(
                    f"stream {name} was denied in {counts[DENIED]} partition(s) "
                    "(fail_on_access_denied)"
                )
        if strict and self.not_entered:
            problems.append(
                f"{len(self.not_entered)} account(s) could not be entered (fail_on_access_denied)"
            )
        return problems

    def _codes(self, stream: str, outcome: str) -> set[str]:
        return {
            p.error_code or "-"
            for p in self.partitions
            if p.stream == stream and p.outcome == outcome
        }
