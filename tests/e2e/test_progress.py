"""The operator's view: progress lines while a sync runs, and the summary with its wall time."""

from __future__ import annotations

import re
from typing import Any

from aws_emulator import Emulator
from aws_emulator.seed import Organization

from tests.e2e.conftest import REGIONS
from tests.e2e.tap_runner import catalog_selecting, run_tap

LINE = re.compile(
    r"Progress(?: \((?P<reason>[^)]*)\))?: (?P<done>[\d,]+)/(?P<planned>[\d,]+) partitions"
    r"(?: \(\d+%\))?, (?P<records>[\d,]+) records, (?P<against>[\d,]+) counting against the "
    r"run(?:, about (?P<left>\S+) left)?"
)
STREAMS = {"ec2_instances", "network", "rds_instances", "eks_clusters", "s3_buckets"}


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_progress_lines_rise_to_the_coverage_and_estimate_the_time_left(
    emu: Emulator, org: Organization, org_config: dict[str, Any]
) -> None:
    emu.configure(latency_ms=150)
    config = {**org_config, "progress_interval_seconds": 1, "max_concurrency": 2}

    run = run_tap(config, catalog=catalog_selecting(STREAMS))

    assert run.returncode == 0, run.stderr
    lines = [m for line in run.stderr.splitlines() if (m := LINE.search(line))]
    timed = [m for m in lines if m["reason"] is None]
    assert len(timed) >= 2, run.stderr[-3000:]
    done = [number(m["done"]) for m in lines]
    records = [number(m["records"]) for m in lines]
    assert done == sorted(done)
    assert records == sorted(records)
    assert any(m["left"] for m in timed), "no estimate of the time left"
    partitions = len(org.active_accounts) * len(REGIONS)
    planned = (len(STREAMS) - 1) * partitions + len(org.active_accounts)  # s3: one per account
    assert {number(m["planned"]) for m in lines} == {planned}
    last = lines[-1]
    assert number(last["done"]) == planned
    assert number(last["records"]) == sum(len(r) for r in run.records.values())
    assert number(last["against"]) == 0
    finished_for = {m["reason"] for m in lines if m["reason"]}
    assert finished_for == {f"stream {s} done" for s in STREAMS}
    (summary,) = run.lines("Sync finished in ")
    assert re.search(
        rf"Sync finished in \d+(m\d\ds)?s?: {planned}/{planned} partitions, "
        rf"{number(last['records']):,} records, 0 counting against the run; exit 0$",
        summary,
    ), summary
