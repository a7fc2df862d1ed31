"""The scale case of issue 20: the tap's memory and CPU per call against a bare botocore floor.

    uv run python -m benchmarks.scale [--quick] [--runs 3] [--sizes 25x4,400x4] [--json F]

For each size (accounts x regions: 25, 100, 400 and 1,000 x 4, and 1,000 x 17; ``--quick``:
25 and 100 x 4), one run is:

1. the canned server of :mod:`benchmarks.canned` for that organization (``--org N``), a
   process of its own;
2. the real tap (``tap-aws-uvm``, every stream, organization mode through ``role_arn`` with
   the canned server as ``endpoint_url``) as a process of its own; its peak RSS and CPU
   (user + system) come from ``wait4`` on that process alone; its stdout is read in 1 MB
   chunks and its RECORD messages counted per stream, which must equal what the canned
   organization implies (:meth:`benchmarks.org.Organization.expected`), or the run fails;
3. the calls the server answered for the tap (``/__bench/calls``), replayed by the bare
   floor of :mod:`benchmarks.bare` (``floor``: one ready client per service, the same number
   of each call with the same answers, no tap, no singer-sdk) in a process of its own; the
   server must count exactly the tap's calls again.

Figures per size (medians over ``--runs``; each run measures the tap and its floor back to
back): peak RSS, tap CPU seconds, AWS calls answered, tap CPU per call (the whole process:
start-up included, as a sync pays it), the floor's CPU per call (the replay loop only) and
their ratio. Across sizes: peak RSS at 400 / at 25, and the peak at 1,000 x 17. Issue 20's
targets: RSS ratio <= 1.5, RSS at 1,000 x 17 < 1 GB, CPU ratio <= 2.5 at 400 and 1,000 x 17.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import org as orgdata
from benchmarks.run import (
    BASE_KEYS,
    FANOUT_REGIONS,
    PYTHON,
    ROOT,
    TAP,
    Measured,
    canned,
    clean_env,
    log,
    median,
    wait_measured,
)
from benchmarks.run import TARGETS as ALL_TARGETS

FULL_SIZES = ((25, 4), (100, 4), (400, 4), (1000, 4), (1000, 17))
QUICK_SIZES = ((25, 4), (100, 4))
REGIONS = {4: list(FANOUT_REGIONS), 17: list(orgdata.DEFAULT_REGIONS)}
RECORD = re.compile(rb'^\{"type":"RECORD","stream":"([^"]+)"', re.MULTILINE)
TARGETS = {k: v for k, v in ALL_TARGETS.items() if k.startswith("scale_")}  # issue 20


def label(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def regions_of(count: int) -> list[str]:
    if count in REGIONS:
        return REGIONS[count]
    return list(orgdata.DEFAULT_REGIONS[:count])


# ---- the canned organization's server ---------------------------------------------------------


@dataclass
class CannedOrg:
    endpoint: str

    def _open(self, path: str, data: bytes | None = None) -> Any:
        with urllib.request.urlopen(f"{self.endpoint}{path}", data=data, timeout=120) as answer:
            return json.loads(answer.read())

    def reset(self) -> None:
        self._open("/__bench/reset", b"")

    def calls(self) -> dict[str, Any]:
        return dict(self._open("/__bench/calls"))


@contextmanager
def canned_org(accounts: int) -> Iterator[CannedOrg]:
    with canned("--org", str(accounts), start_timeout=120) as endpoint:
        yield CannedOrg(endpoint)


# ---- the tap, its records counted --------------------------------------------------------------


def run_counting(command: list[str], timeout: float = 4 * 3600) -> tuple[Measured, Counter[str]]:
    """Run ``command``; wall, its own CPU and peak RSS (``wait4``), and its RECORD messages per
    stream, counted from its stdout as it comes (1 MB reads, one regex pass a chunk)."""
    counts: Counter[str] = Counter()
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=clean_env(),
            cwd=ROOT,
        )
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            tail = b""
            while chunk := stdout.read1(1 << 20):  # type: ignore[attr-defined]
                chunk = tail + chunk
                cut = chunk.rfind(b"\n") + 1
                counts.update(m.decode() for m in RECORD.findall(chunk, 0, cut))
                tail = chunk[cut:]
            if tail:
                counts.update(m.decode() for m in RECORD.findall(tail))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wall, cpu, rss, code = wait_measured(process, started, timeout)
        reader.join()
        stdout.close()
        err.seek(0)
        return Measured(wall, cpu, rss, code, "", err.read().decode(errors="replace")), counts


_STREAMS: list[str] = []


def tap_streams() -> list[str]:
    """Every stream the tap has (``--discover``); a sync without a catalog selects them all."""
    if not _STREAMS:
        done = subprocess.run(
            [TAP, "--discover"], capture_output=True, text=True, env=clean_env(), check=True
        )
        _STREAMS.extend(entry["tap_stream_id"] for entry in json.loads(done.stdout)["streams"])
    return list(_STREAMS)


def org_config(endpoint: str, regions: list[str]) -> dict[str, Any]:
    return {
        **BASE_KEYS,
        "role_arn": orgdata.role_arn(0),
        "org_accounts": True,
        "regions": regions,
        "endpoint_url": endpoint,
    }


def check_records(counts: Counter[str], expected: dict[str, int], where: str) -> None:
    wrong = {
        stream: (counts.get(stream, 0), want)
        for stream, want in expected.items()
        if counts.get(stream, 0) != want
    }
    extra = {stream: n for stream, n in counts.items() if stream not in expected}
    if wrong or extra:
        lines = [
            f"{s}: tap wrote {got}, the canned organization implies {want}"
            for s, (got, want) in sorted(wrong.items())
        ]
        lines += [f"{s}: tap wrote {n}, no expectation" for s, n in sorted(extra.items())]
        raise RuntimeError(f"{where}: records are not exact:\n  " + "\n  ".join(lines))


def _aggregate(rows: list[list[Any]]) -> Counter[tuple[str, ...]]:
    return Counter({tuple(map(str, row[:5])): int(row[5]) for row in rows})


def _per_operation(rows: list[list[Any]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for service, operation, *_, count in rows:
        out[f"{service}.{operation}"] += int(count)
    return out


def one_run(accounts: int, regions: list[str], workdir: Path) -> dict[str, Any]:
    organization = orgdata.Organization(accounts)
    streams = tap_streams()
    expected = organization.expected(regions, streams)
    where = f"{accounts} accounts x {len(regions)} regions"
    with canned_org(accounts) as server:
        config_path = workdir / "scale-config.json"
        config_path.write_text(json.dumps(org_config(server.endpoint, regions)))
        server.reset()
        done, counts = run_counting([TAP, "--config", str(config_path)])
        if done.returncode != 0:
            raise RuntimeError(f"{where}: tap exited {done.returncode}:\n{done.stderr[-3000:]}")
        answered = server.calls()
        server_cpu = float(answered["cpu_seconds"])
        if answered["unknown"]:
            raise RuntimeError(
                f"{where}: the tap made calls the server does not know: {answered['unknown']}"
            )
        check_records(counts, expected, where)
        rows = answered["calls"]
        tap_calls = _aggregate(rows)
        plan = workdir / "scale-calls.json"
        plan.write_text(json.dumps({"calls": rows}))
        server.reset()
        floor = subprocess.run(
            [
                PYTHON,
                "-m",
                "benchmarks.bare",
                "floor",
                "--endpoint",
                server.endpoint,
                "--plan",
                str(plan),
            ],
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd=ROOT,
            timeout=4 * 3600,
            check=False,
        )
        if floor.returncode != 0:
            raise RuntimeError(
                f"{where}: bare floor exited {floor.returncode}:\n{floor.stderr[-3000:]}"
            )
        floor_result = json.loads(floor.stdout.strip().splitlines()[-1])
        floor_answered = server.calls()
        floor_calls = _aggregate(floor_answered["calls"])
        if floor_calls != tap_calls:
            diff = (floor_calls - tap_calls) + (tap_calls - floor_calls)
            raise RuntimeError(
                f"{where}: the floor's calls differ from the tap's: {list(diff.items())[:5]}"
            )
    calls = sum(tap_calls.values())
    return {
        "calls": calls,
        "calls_per_operation": dict(sorted(_per_operation(rows).items())),
        "records": dict(sorted(counts.items())),
        "tap_wall_s": done.wall,
        "tap_cpu_s": done.cpu,
        "tap_rss_mb": done.max_rss_mb,
        "tap_cpu_ms_per_call": 1000 * done.cpu / calls,
        "floor_cpu_s": floor_result["cpu_seconds"],
        "floor_cpu_ms_per_call": 1000 * floor_result["cpu_seconds"] / calls,
        "cpu_ratio": done.cpu / floor_result["cpu_seconds"],
        "server_cpu_s": server_cpu,
        "server_cpu_us_per_call": 1e6 * server_cpu / calls,
        "server_cpu_us_per_floor_call": 1e6 * float(floor_answered["cpu_seconds"]) / calls,
    }


def bench_scale(
    runs: int, quick: bool, workdir: Path, sizes: tuple[tuple[int, int], ...] | None = None
) -> dict[str, Any]:
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    per: dict[str, list[dict[str, Any]]] = {label(size): [] for size in sizes}
    for run in range(runs):
        for size in sizes:
            accounts, regions = size
            result = one_run(accounts, regions_of(regions), workdir)
            per[label(size)].append(result)
            log(
                f"scale run {run + 1} {label(size)}: {result['calls']:,} calls, tap cpu "
                f"{result['tap_cpu_s']:.1f} s ({result['tap_cpu_ms_per_call']:.2f} ms/call), "
                f"floor {result['floor_cpu_ms_per_call']:.2f} ms/call, ratio "
                f"{result['cpu_ratio']:.2f}, peak RSS {result['tap_rss_mb']:.0f} MB, wall "
                f"{result['tap_wall_s']:.1f} s, server {result['server_cpu_us_per_call']:.0f} "
                f"us/call ({result['server_cpu_us_per_floor_call']:.0f} for the floor), "
                f"records {sum(result['records'].values()):,} exact"
            )
    out: dict[str, Any] = {"runs": per, "medians": {}}
    for name, results in per.items():
        out["medians"][name] = {
            key: median([r[key] for r in results])
            for key in (
                "calls",
                "tap_wall_s",
                "tap_cpu_s",
                "tap_rss_mb",
                "tap_cpu_ms_per_call",
                "floor_cpu_ms_per_call",
                "cpu_ratio",
                "server_cpu_us_per_call",
            )
        }
    medians = out["medians"]
    if "25x4" in medians and "400x4" in medians:
        # one run's ratio each, then their median (the walls of one run share its load)
        ratios = [
            b["tap_rss_mb"] / a["tap_rss_mb"]
            for a, b in zip(per["25x4"], per["400x4"], strict=True)
        ]
        out["scale_rss_ratio_400_over_25"] = median(ratios)
    if "25x4" in medians and "100x4" in medians:
        ratios = [
            b["tap_rss_mb"] / a["tap_rss_mb"]
            for a, b in zip(per["25x4"], per["100x4"], strict=True)
        ]
        out["scale_rss_ratio_100_over_25"] = median(ratios)
    if "1000x17" in medians:
        out["scale_rss_mb_1000x17"] = medians["1000x17"]["tap_rss_mb"]
        out["scale_cpu_ratio_1000x17"] = medians["1000x17"]["cpu_ratio"]
    if "400x4" in medians:
        out["scale_cpu_ratio_400x4"] = medians["400x4"]["cpu_ratio"]
    return out


def _met(key: str, value: float) -> bool:
    op, target = TARGETS[key]
    return value >= target if op == ">=" else value <= target


def report_lines(result: dict[str, Any], *, targets: bool = True) -> list[str]:
    lines = [
        "  size      calls    tap CPU s  ms/call  floor ms/call  ratio  peak RSS MB  tap wall s",
    ]
    for name, m in result["medians"].items():
        runs = result["runs"][name]
        spread = "/".join(f"{r['cpu_ratio']:.2f}" for r in runs)
        rss = "/".join(f"{r['tap_rss_mb']:.0f}" for r in runs)
        lines.append(
            f"  {name:8s} {m['calls']:>8,.0f} {m['tap_cpu_s']:>10.1f}"
            f" {m['tap_cpu_ms_per_call']:>8.2f}"
            f" {m['floor_cpu_ms_per_call']:>14.3f} {m['cpu_ratio']:>6.2f} {m['tap_rss_mb']:>12.0f}"
            f" {m['tap_wall_s']:>11.1f}   (ratio per run {spread}; RSS {rss})"
        )
    for key in ("scale_rss_ratio_100_over_25", *(TARGETS if targets else ())):
        if key in result:
            if key in TARGETS:
                op, target = TARGETS[key]
                status = "ok" if _met(key, result[key]) else "MISSED"
                lines.append(f"  {key:28s} {result[key]:8.2f}   target {op} {target:<6} {status}")
            else:
                lines.append(f"  {key:28s} {result[key]:8.2f}")
    return lines


def all_met(result: dict[str, Any]) -> bool:
    return all(_met(key, result[key]) for key in TARGETS if key in result)


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in text.split(","):
        accounts, _, regions = part.strip().partition("x")
        out.append((int(accounts), int(regions or 4)))
    return tuple(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tap-aws-uvm scale benchmark (issue 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (medians)")
    parser.add_argument("--quick", action="store_true", help="only 25 and 100 accounts x 4")
    parser.add_argument("--sizes", help="e.g. 25x4,400x4,1000x17 (instead of the default set)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    sizes = _sizes(args.sizes) if args.sizes else None
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tap-bench-scale-") as tmp:
        result = bench_scale(args.runs, args.quick, Path(tmp), sizes)
    result["load_average_1m"] = [load, os.getloadavg()[0]]
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"tap-aws-uvm scale benchmark: medians of {args.runs} run(s)")
    print("\n".join(report_lines(result)))
    print(f"  (1-minute load average {load:.1f} -> {os.getloadavg()[0]:.1f})")
    return 0 if all_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
