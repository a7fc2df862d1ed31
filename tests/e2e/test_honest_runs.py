"""Honest runs: the exit code matches what was read, and no outage, signal, hang or dead target
goes unreported (DESIGN.md "Partition outcomes and exit codes").

Network failures come from a TCP proxy in front of the session's emulator (aws_emulator.netfault),
so the emulator keeps its state through an "outage".
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.findings import generate_findings, generated_findings
from aws_emulator.netfault import NotAwsServer, TcpProxy
from aws_emulator.seed import Organization

from tests.e2e.conftest import REGIONS, total_requests
from tests.e2e.tap_runner import FAKE_KEYS, TAP, TapRun, catalog_selecting, clean_env, run_tap

# Regions the seeded inventory does not use: these tests own every finding in them.
FINDING_REGIONS = ["us-west-2", "ca-central-1"]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
FINDINGS_PER_PARTITION = 2500
INVENTORY = {"ec2_instances", "network", "rds_instances", "eks_clusters"}


def metric(run: TapRun) -> dict[str, Any]:
    (line,) = run.lines("partition_coverage")
    loaded: dict[str, Any] = json.loads(line.split("METRIC: ", 1)[1])
    return loaded


def no_traceback(run: TapRun) -> None:
    assert "Traceback" not in run.output, run.stderr[-3000:]


# ---- a tap process the test can watch, signal, and stop reading -------------------------------


class LiveTap:
    """``tap-aws-uvm`` as a child process: its stdout lines as they come, stderr collected."""

    def __init__(
        self, config: dict[str, Any], *, catalog: dict[str, Any], state: dict[str, Any] | None
    ) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="tap-honest-"))
        command = [TAP, "--config", str(self._write("config.json", config))]
        command += ["--catalog", str(self._write("catalog.json", catalog))]
        if state is not None:
            command += ["--state", str(self._write("state.json", state))]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean_env(),
            text=True,
        )
        self.stderr_lines: list[str] = []
        self._stderr_seen = threading.Condition()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self.messages: list[dict[str, Any]] = []

    def _write(self, name: str, payload: dict[str, Any]) -> Path:
        path = self._dir / name
        path.write_text(json.dumps(payload))
        return path

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._stderr_seen:
                self.stderr_lines.append(line.rstrip("\n"))
                self._stderr_seen.notify_all()

    def read_records(self, count: int) -> None:
        """Read stdout until ``count`` RECORD messages have come."""
        assert self.process.stdout is not None
        records = 0
        while records < count:
            line = self.process.stdout.readline()
            assert line, f"the tap ended early:\n{self.stderr()[-3000:]}"
            message = json.loads(line)
            self.messages.append(message)
            records += message["type"] == "RECORD"

    def wait_for_stderr(self, text: str, timeout: float = 120) -> float:
        """Seconds since start when a stderr line containing ``text`` appeared."""
        deadline = time.monotonic() + timeout
        with self._stderr_seen:
            while not any(text in line for line in self.stderr_lines):
                left = deadline - time.monotonic()
                assert left > 0, f"no {text!r} on stderr:\n{self.stderr()[-3000:]}"
                self._stderr_seen.wait(left)
        return time.monotonic() - self.started

    def finish(self, timeout: float = 300) -> TapRun:
        """Read the rest of stdout, wait for the exit."""
        assert self.process.stdout is not None
        rest = self.process.stdout.read()
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        self.messages += [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
        return TapRun(self.process.returncode, "", self.stderr(), self.messages)

    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)


@pytest.fixture
def proxy(emu: Emulator) -> Iterator[TcpProxy]:
    with TcpProxy(emu.port) as started:
        yield started


@pytest.fixture
def findings(emu: Emulator, org: Organization) -> Iterator[dict[tuple[str, str, str], set[str]]]:
    """FINDINGS_PER_PARTITION Security Hub findings in two partitions: keys per partition."""
    account = org.management_account_id
    spec = {
        "start": (NOW - dt.timedelta(days=20)).isoformat(),
        "end": (NOW - dt.timedelta(days=1)).isoformat(),
    }
    keys: dict[tuple[str, str, str], set[str]] = {}
    for number, region in enumerate(FINDING_REGIONS):
        generate_findings(
            emu.endpoint_url,
            "securityhub",
            account,
            region,
            FINDINGS_PER_PARTITION,
            seed=number,
            **spec,
        )
        found = generated_findings(
            "securityhub", account, region, FINDINGS_PER_PARTITION, seed=number, **spec
        )
        keys[("securityhub_findings", account, region)] = {
            f"{f['Id']}|{f['ProductArn']}" for f in found
        }
    yield keys
    for region in FINDING_REGIONS:
        generate_findings(emu.endpoint_url, "securityhub", account, region, 0, **spec)


def findings_config(emu_url: str) -> dict[str, Any]:
    return {**FAKE_KEYS, "regions": FINDING_REGIONS, "endpoint_url": emu_url}


FINDINGS_CATALOG = catalog_selecting({"securityhub_findings"})


# ---- 1. outcomes and exit codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "deny"),
    [
        ("ec2_instances", {"service": "ec2", "operation": "DescribeInstances"}),
        ("inspector_findings", {"service": "inspector2", "operation": "ListFindings"}),
    ],
)
def test_denied_everywhere_fails_the_run_even_beside_a_disabled_region(
    emu: Emulator, org: Organization, org_config: dict[str, Any], stream: str, deny: dict[str, str]
) -> None:
    member = org.member_accounts[0].id
    emu.configure(deny=[deny], disabled_regions=[{"account": member, "region": "eu-west-1"}])

    run = run_tap(org_config, catalog=catalog_selecting({stream}))

    no_traceback(run)
    assert run.returncode == 1
    assert run.lines(
        f"Sync incomplete: stream {stream} was denied in every partition it could read"
    )
    partitions = len(org.active_accounts) * len(REGIONS)
    counts = metric(run)["tags"]["streams"][stream]
    assert counts == {
        "ok": 0,
        "denied": partitions - 1,
        "disabled": 1,
        "not_enabled": 0,
        "unreachable": 0,
        "failed": 0,
    }
    assert run.records.get(stream, []) == []


def test_accounts_not_entered_and_suspended_are_outcomes_of_their_own(
    emu: Emulator, org: Organization, org_config: dict[str, Any]
) -> None:
    member = org.member_accounts[1]
    emu.configure(deny_assume_role=[org.role_arn(member.id)])

    run = run_tap(org_config, catalog=catalog_selecting({"rds_instances"}))

    no_traceback(run)
    assert run.returncode == 0, run.stderr
    (skipped,) = run.lines(f"Skipped account={member.id}: AccessDenied (not_entered)")
    assert "could not assume role" in skipped
    assert run.lines("coverage accounts: not_entered=1 suspended=1")
    accounts = metric(run)["tags"]["accounts"]
    assert accounts == {
        "not_entered": [member.id],
        "suspended": sorted(a.id for a in org.accounts if a.status != "ACTIVE"),
    }
    strict = run_tap(
        {**org_config, "fail_on_access_denied": True}, catalog=catalog_selecting({"rds_instances"})
    )
    assert strict.returncode == 1
    assert strict.lines(
        "Sync incomplete: 1 account(s) could not be entered (fail_on_access_denied)"
    )


# ---- 2. enrichment calls never drop records -----------------------------------------------------


def test_denied_enrichment_keeps_every_record_with_one_warning_each(
    emu: Emulator, org: Organization, org_config: dict[str, Any]
) -> None:
    emu.configure(
        s3_bucket_region=False,  # ListBuckets without BucketRegion: GetBucketLocation is asked
        deny=[
            {"service": "organizations", "operation": "ListTagsForResource"},
            {"service": "elasticloadbalancing", "operation": "DescribeTags"},
            {"service": "s3", "operation": "GetBucketLocation"},
        ],
    )
    config = {**org_config, "network_data_types": ["load_balancers"]}

    run = run_tap(config, catalog=catalog_selecting({"accounts", "network", "s3_buckets"}))

    no_traceback(run)
    assert run.returncode == 0, run.stderr
    accounts = run.records["accounts"]
    assert sorted(a["id"] for a in accounts) == sorted(a.id for a in org.accounts)
    assert all(a["tags"] is None for a in accounts)
    (tags_line,) = run.lines("organizations:ListTagsForResource denied")
    assert (
        f"stream=accounts account={org.management_account_id} region=global: "
        f"organizations:ListTagsForResource denied (AccessDeniedException): "
        f"{len(org.accounts)} record(s) emitted without it"
    ) in tags_line
    balancers = run.records["network"]
    expected = sum(
        len(org.resources(a.id, r).network["load_balancers"])
        for a in org.active_accounts
        for r in REGIONS
    )
    assert len(balancers) == expected > 0
    assert all(b["tags"] is None for b in balancers)
    with_balancers = {
        (a.id, r)
        for a in org.active_accounts
        for r in REGIONS
        if org.resources(a.id, r).network["load_balancers"]
    }
    assert len(run.lines("elasticloadbalancing:DescribeTags denied")) == len(with_balancers)
    buckets = run.records["s3_buckets"]
    assert sorted(b["name"] for b in buckets) == sorted(b.name for b in org.buckets())
    assert all(b["region"] is None for b in buckets)
    assert len(run.lines("s3:GetBucketLocation denied")) == len(org.active_accounts)


# ---- 3. transient outages are survived ----------------------------------------------------------


def test_a_few_seconds_of_refused_connections_lose_nothing(
    emu: Emulator, proxy: TcpProxy, findings: dict[tuple[str, str, str], set[str]]
) -> None:
    config = findings_config(proxy.endpoint_url)
    tap = LiveTap(config, catalog=FINDINGS_CATALOG, state=None)
    tap.read_records(300)
    proxy.outage(5.0, "refuse")

    run = tap.finish()

    no_traceback(run)
    assert run.returncode == 0, run.stderr
    for (stream, account, region), keys in findings.items():
        emitted = {
            f"{r['id']}|{r['product_arn']}"
            for r in run.records[stream]
            if (r["account_id"], r["region"]) == (account, region)
        }
        assert emitted == keys
    assert len(run.lines("Cannot reach")) == 1
    assert run.lines("answers again")
    assert metric(run)["tags"]["streams"]["securityhub_findings"]["ok"] == 2


def test_an_endpoint_gone_for_good_mid_sync_is_unreachable_and_fails_the_run(
    emu: Emulator, proxy: TcpProxy, findings: dict[tuple[str, str, str], set[str]]
) -> None:
    config = {**findings_config(proxy.endpoint_url), "call_timeout_seconds": 4}
    tap = LiveTap(config, catalog=FINDINGS_CATALOG, state=None)
    tap.read_records(300)
    proxy.set_mode("refuse")

    run = tap.finish()

    no_traceback(run)
    assert run.returncode == 1
    counts = metric(run)["tags"]["streams"]["securityhub_findings"]
    assert counts["unreachable"] >= 1
    assert counts["ok"] + counts["unreachable"] == 2
    assert run.lines("Sync incomplete: stream securityhub_findings:")
    assert len(run.lines("Cannot reach")) == 1


# ---- 4. bounded waits ----------------------------------------------------------------------------


def test_a_black_holed_endpoint_fails_a_demo_sync_within_180_seconds_at_the_defaults(
    proxy: TcpProxy, org_config: dict[str, Any]
) -> None:
    proxy.set_mode("blackhole")
    started = time.monotonic()

    run = run_tap({**org_config, "endpoint_url": proxy.endpoint_url}, timeout=400)

    took = time.monotonic() - started
    no_traceback(run)
    assert run.returncode == 1
    assert took < 180, took
    (error,) = run.lines("ERROR")
    assert "No account could be entered" in error
    assert "ReadTimeoutError" in error


def test_the_breaker_ends_the_partitions_on_a_dead_endpoint_without_calls(
    emu: Emulator, proxy: TcpProxy, org_config: dict[str, Any]
) -> None:
    config = {
        **org_config,
        "endpoint_url": proxy.endpoint_url,
        "read_timeout_seconds": 2,
        "call_timeout_seconds": 3,
        "max_concurrency": 2,
    }
    tap = LiveTap(config, catalog=catalog_selecting(INVENTORY | {"s3_buckets"}), state=None)
    tap.read_records(5)
    proxy.set_mode("blackhole")
    opened = tap.wait_for_stderr("unreachable in 3 partitions in a row", timeout=120)
    connections_then = proxy.stats().get("blackhole", 0)

    run = tap.finish()

    took = time.monotonic() - tap.started
    no_traceback(run)
    assert run.returncode == 1
    assert took - opened < 30, (took, opened)
    # at most the calls already in flight when the breaker opened reach the endpoint afterwards
    assert proxy.stats().get("blackhole", 0) - connections_then <= config["max_concurrency"]
    counts = metric(run)["tags"]["streams"]
    assert sum(c["unreachable"] for c in counts.values()) > 3


# ---- 5. signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_exits_with_its_code_after_a_consistent_state(
    emu: Emulator,
    findings: dict[tuple[str, str, str], set[str]],
    signum: int,
    code: int,
) -> None:
    emu.configure(latency_ms=20)  # a sync long enough to be interrupted in its middle
    tap = LiveTap(findings_config(emu.endpoint_url), catalog=FINDINGS_CATALOG, state=None)
    tap.read_records(FINDINGS_PER_PARTITION + 200)  # the first partition is done, not the second
    tap.process.send_signal(signum)
    tap.process.send_signal(signum)  # a second signal changes nothing

    run = tap.finish()

    no_traceback(run)
    assert run.returncode == code
    name = signal.Signals(signum).name
    assert run.lines(f"Sync interrupted by {name}")
    state = run.final_state
    partitions = state["bookmarks"]["securityhub_findings"]["partitions"]
    marked = {
        (p["context"]["account_id"], p["context"]["region"])
        for p in partitions
        if p.get("replication_key_value")
    }
    first = ("securityhub_findings", *sorted(marked)[0]) if marked else None
    assert len(marked) == 1, partitions  # the partition read to the end, not the interrupted one
    assert first is not None
    emitted = {
        f"{r['id']}|{r['product_arn']}"
        for r in run.records["securityhub_findings"]
        if (r["account_id"], r["region"]) == first[1:]
    }
    assert emitted == findings[first]  # no bookmark ahead of the records emitted
    for partition in partitions:
        assert "progress_markers" not in partition


# ---- 6. broken pipe -----------------------------------------------------------------------------


def test_a_dead_target_is_one_line_and_no_call_starts_after_it(
    emu: Emulator, findings: dict[tuple[str, str, str], set[str]]
) -> None:
    emu.configure(latency_ms=20)
    config = {**findings_config(emu.endpoint_url), "max_concurrency": 1}
    tap = LiveTap(config, catalog=FINDINGS_CATALOG, state=None)
    tap.read_records(100)
    assert tap.process.stdout is not None
    tap.process.stdout.close()  # the target goes away
    tap.wait_for_stderr("The target stopped reading")
    counts = emu.counts()
    started_by_then = total_requests(counts) + counts["in_flight"]  # counted when answered
    tap.process.wait(timeout=60)
    tap._reader.join(timeout=10)

    assert tap.process.returncode == 1
    assert total_requests(emu.counts()) == started_by_then
    stderr = tap.stderr()
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert len([line for line in tap.stderr_lines if "The target stopped reading" in line]) == 1


# ---- 7. early stops release every worker --------------------------------------------------------


def test_sdk_test_mode_ends_with_thousands_of_findings_in_a_partition(
    emu: Emulator, findings: dict[tuple[str, str, str], set[str]]
) -> None:
    started = time.monotonic()
    run = run_tap(findings_config(emu.endpoint_url), args=("--test",), timeout=120)
    no_traceback(run)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < 60
    assert len(run.records["securityhub_findings"]) == 1


# ---- 8. endpoints that are not AWS or not there ------------------------------------------------


def test_an_endpoint_that_is_not_aws_is_one_line() -> None:
    with NotAwsServer() as server:
        run = run_tap({**FAKE_KEYS, "regions": ["us-east-1"], "endpoint_url": server.endpoint_url})
    no_traceback(run)
    assert run.returncode == 1
    (error,) = run.lines("ERROR")
    assert error.endswith(
        f"No account could be entered: could not identify the base credentials: EndpointNotAws: "
        f"{server.endpoint_url} answered HTTP 200 with an HTML page: not an AWS endpoint"
    )


def test_a_closed_port_says_so_at_once_then_retries_quietly_within_the_budget() -> None:
    started = time.monotonic()
    run = run_tap(
        {
            **FAKE_KEYS,
            "regions": ["us-east-1"],
            "endpoint_url": "http://127.0.0.1:9",
            "call_timeout_seconds": 6,
        }
    )
    took = time.monotonic() - started
    no_traceback(run)
    assert run.returncode == 1
    (warning,) = run.lines("Cannot reach http://127.0.0.1:9")
    assert "retrying quietly for up to 6s per call" in warning
    assert re.search(r"EndpointConnectionError", run.lines("ERROR")[0])
    assert 3 < took < 30, took
