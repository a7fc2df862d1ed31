"""Incremental Security Hub and Inspector findings: bookmarks per (account, region) that never
lose a finding, whatever fails or is interrupted."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.findings import (
    fail_after_pages,
    generate_findings,
    generated_findings,
    set_enabled,
    update_findings,
)
from aws_emulator.seed import Organization

from tap_aws_uvm.records import parse_timestamp
from tests.e2e.tap_runner import TAP, TapRun, catalog_selecting, clean_env, run_tap

# Regions the seeded inventory does not use, so these tests own every finding in them.
REGIONS = ["us-west-2", "ca-central-1"]
SERVICES = {"securityhub": "securityhub_findings", "inspector2": "inspector_findings"}
PER_PARTITION = 1600
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OLDEST = NOW - dt.timedelta(days=30)
NEWEST = NOW - dt.timedelta(days=1)
START_DATE = NOW - dt.timedelta(days=20)
SECRET = "sentinel-secret-never-in-state"
EXTERNAL_ID = "sentinel-external-id-never-in-state"


def key_of(service: str, finding: dict[str, Any]) -> str:
    if service == "securityhub":
        return f"{finding['Id']}|{finding['ProductArn']}"
    return str(finding["findingArn"])


def record_key(stream: str, record: dict[str, Any]) -> str:
    if stream == "securityhub_findings":
        return f"{record['id']}|{record['product_arn']}"
    return str(record["finding_arn"])


def updated_of(service: str, finding: dict[str, Any]) -> dt.datetime:
    if service == "securityhub":
        return parse_timestamp(finding["UpdatedAt"])
    return dt.datetime.fromtimestamp(finding["updatedAt"], dt.UTC)


@pytest.fixture
def accounts(org: Organization) -> list[str]:
    return [org.management_account_id, org.member_accounts[0].id]


@pytest.fixture
def findings(
    emu: Emulator, accounts: list[str]
) -> Iterator[dict[tuple[str, str, str], dict[str, dt.datetime]]]:
    """PER_PARTITION findings of each service in each (account, region): key -> UpdatedAt."""
    generated: dict[tuple[str, str, str], dict[str, dt.datetime]] = {}
    for service in SERVICES:
        for account in accounts:
            for number, region in enumerate(REGIONS):
                spec = {"start": OLDEST.isoformat(), "end": NEWEST.isoformat(), "seed": number}
                generate_findings(emu.endpoint_url, service, account, region, PER_PARTITION, **spec)
                found = generated_findings(service, account, region, PER_PARTITION, **spec)
                generated[(service, account, region)] = {
                    key_of(service, f): updated_of(service, f) for f in found
                }
    yield generated
    for service in SERVICES:
        for account in accounts:
            for region in REGIONS:
                set_enabled(emu.endpoint_url, service, account, region, True)
                fail_after_pages(emu.endpoint_url, service, account, region, None)
                generate_findings(
                    emu.endpoint_url,
                    service,
                    account,
                    region,
                    0,
                    start=OLDEST.isoformat(),
                    end=NEWEST.isoformat(),
                )


@pytest.fixture
def config(emu: Emulator, org: Organization, accounts: list[str]) -> dict[str, Any]:
    emu.configure(external_ids={"*": EXTERNAL_ID})
    return {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": SECRET,
        "external_id": EXTERNAL_ID,
        "role_arns": [org.role_arn(a) for a in accounts],
        "regions": REGIONS,
        "endpoint_url": emu.endpoint_url,
        "start_date": START_DATE.isoformat(),
        "findings_lookback_minutes": 60,
    }


CATALOG = catalog_selecting(set(SERVICES.values()))


def sync(config: dict[str, Any], state: dict[str, Any] | None = None) -> TapRun:
    run = run_tap(config, state=state, catalog=CATALOG)
    assert "Traceback" not in run.stderr
    return run


def emitted(run: TapRun, stream: str, account: str, region: str) -> set[str]:
    return {
        record_key(stream, r)
        for r in run.records[stream]
        if r["account_id"] == account and r["region"] == region
    }


def bookmark(state: dict[str, Any], stream: str, account: str, region: str) -> str | None:
    for partition in state.get("bookmarks", {}).get(stream, {}).get("partitions", []):
        if partition["context"] == {"account_id": account, "region": region}:
            return partition.get("replication_key_value")
    return None


def all_bookmarks(state: dict[str, Any]) -> dict[tuple[str, str, str], str | None]:
    return {
        (stream, p["context"]["account_id"], p["context"]["region"]): p.get("replication_key_value")
        for stream in SERVICES.values()
        for p in state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    }


def test_first_and_second_sync_read_exactly_what_changed(
    emu: Emulator, config: dict[str, Any], accounts: list[str], findings: dict
) -> None:
    first = sync(config)
    assert first.returncode == 0, first.stderr
    for (service, account, region), updated in findings.items():
        stream = SERVICES[service]
        expected = {k for k, when in updated.items() if when >= START_DATE}
        assert emitted(first, stream, account, region) == expected
        newest = max(when for when in updated.values())
        mark = bookmark(first.final_state, stream, account, region)
        assert mark is not None
        assert parse_timestamp(mark) == newest
    counts = emu.counts()
    for account in accounts:
        for service, operation in (("securityhub", "GetFindings"), ("inspector2", "ListFindings")):
            pages = [
                r["count"]
                for r in counts["requests"]
                if (r["service"], r["operation"], r["account"]) == (service, operation, account)
            ]
            assert len(pages) == len(REGIONS), pages
            assert min(pages) >= 10, pages  # pages of 100

    changed: dict[tuple[str, str, str], set[str]] = {}
    for service in SERVICES:
        for account in accounts:
            for region in REGIONS:
                closed = (
                    {"record_state": "ARCHIVED"}
                    if service == "securityhub"
                    else {"status": "CLOSED"}
                )
                moved = update_findings(
                    emu.endpoint_url, service, account, region, count=40, seed=7, **closed
                )
                changed[(service, account, region)] = {m["id"] for m in moved}

    second = sync(config, state=first.final_state)
    assert second.returncode == 0, second.stderr
    for service, account, region in findings:
        stream = SERVICES[service]
        got = emitted(second, stream, account, region)
        ids = {k.split("|")[0] for k in got}
        assert changed[(service, account, region)] <= ids
        floor = parse_timestamp(
            bookmark(first.final_state, stream, account, region) or ""
        ) - dt.timedelta(minutes=60)
        for record in second.records[stream]:
            if record["account_id"] == account and record["region"] == region:
                assert parse_timestamp(record["updated_at"]) >= floor
        assert len(got) < len(emitted(first, stream, account, region))
    assert_never_decrease(first.final_state, second.final_state)


def assert_never_decrease(before: dict[str, Any], after: dict[str, Any]) -> None:
    old, new = all_bookmarks(before), all_bookmarks(after)
    for key, value in old.items():
        assert value is None or (new[key] is not None and new[key] >= value), key


def test_denied_and_failing_partitions_keep_their_bookmarks(
    emu: Emulator, config: dict[str, Any], accounts: list[str], findings: dict
) -> None:
    first = sync(config)
    assert first.returncode == 0, first.stderr
    denied, failing, healthy = (
        (accounts[0], REGIONS[0]),
        (accounts[1], REGIONS[0]),
        (accounts[0], REGIONS[1]),
    )
    fresh: dict[tuple[str, str, str], set[str]] = {}
    for service in SERVICES:
        for account, region in (denied, failing, healthy):
            # more than one page of changes, so "fail after the first page" fails mid-way
            moved = update_findings(emu.endpoint_url, service, account, region, count=150, seed=3)
            fresh[(service, account, region)] = {m["id"] for m in moved}
    emu.configure(
        external_ids={"*": EXTERNAL_ID},
        deny=[
            {"account": denied[0], "region": denied[1], "service": "securityhub"},
            {"account": denied[0], "region": denied[1], "service": "inspector2"},
        ],
    )
    for service in SERVICES:
        fail_after_pages(emu.endpoint_url, service, failing[0], failing[1], 1)

    second = sync(config, state=first.final_state)

    # a partition that failed mid-way lost data: the run says so (denied alone would not)
    assert second.returncode == 1, second.stderr
    assert second.lines("Sync incomplete: stream securityhub_findings: 1 partition(s) failed")
    assert second.lines("Sync incomplete: stream inspector_findings: 1 partition(s) failed")
    for stream in SERVICES.values():
        for account, region in (denied, failing):
            assert bookmark(second.final_state, stream, account, region) == bookmark(
                first.final_state, stream, account, region
            )
        healthy_mark = bookmark(second.final_state, stream, *healthy)
        assert healthy_mark is not None
        assert healthy_mark > (bookmark(first.final_state, stream, *healthy) or "")
    assert len(second.lines("WARNING")) == 4
    assert (
        len(second.lines(f"account={denied[0]} region={denied[1]}: AccessDeniedException (denied)"))
        == 2
    )

    emu.configure(external_ids={"*": EXTERNAL_ID})
    for service in SERVICES:
        fail_after_pages(emu.endpoint_url, service, failing[0], failing[1], None)
    third = sync(config, state=second.final_state)
    assert third.returncode == 0, third.stderr
    for service, stream in SERVICES.items():
        for account, region in (denied, failing):
            ids = {k.split("|")[0] for k in emitted(third, stream, account, region)}
            assert fresh[(service, account, region)] <= ids
    assert_never_decrease(second.final_state, third.final_state)


def test_an_interrupted_sync_resumes_without_losing_findings(
    emu: Emulator, config: dict[str, Any], findings: dict
) -> None:
    full = sync(config)
    assert full.returncode == 0, full.stderr
    everything = {s: {record_key(s, r) for r in full.records[s]} for s in SERVICES.values()}
    emu.configure(external_ids={"*": EXTERNAL_ID}, latency_ms=30)

    killed, last_state = run_until_a_bookmark_moves(config)

    assert killed
    emu.configure(external_ids={"*": EXTERNAL_ID})
    resumed = sync(config, state=last_state)
    assert resumed.returncode == 0, resumed.stderr
    read_again = sum(len(resumed.records[s]) for s in SERVICES.values())
    assert read_again < sum(len(v) for v in everything.values())
    for stream in SERVICES.values():
        together = {record_key(stream, r) for r in killed.records[stream]} | {
            record_key(stream, r) for r in resumed.records[stream]
        }
        assert together >= everything[stream]


def run_until_a_bookmark_moves(config: dict[str, Any]) -> tuple[TapRun, dict[str, Any]]:
    """Run the tap and SIGKILL it right after a STATE message that set a bookmark."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"{name}.json" for name in ("config", "catalog")}
        paths["config"].write_text(json.dumps(config))
        paths["catalog"].write_text(json.dumps(CATALOG))
        process = subprocess.Popen(
            [TAP, "--config", str(paths["config"]), "--catalog", str(paths["catalog"])],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=clean_env(),
        )
        run = TapRun(returncode=0, stdout="", stderr="")
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            run.messages.append(message)
            if message["type"] == "STATE" and any(all_bookmarks(message["value"]).values()):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
        run.returncode = process.returncode
    assert run.returncode == -signal.SIGKILL, "the sync ended before a bookmark moved"
    return run, run.final_state


def test_state_holds_ids_and_timestamps_only(
    emu: Emulator, config: dict[str, Any], findings: dict
) -> None:
    run = sync(config)
    assert run.returncode == 0, run.stderr
    for state in run.states:
        text = json.dumps(state)
        for forbidden in (SECRET, EXTERNAL_ID, "testing", "SessionToken", "AccessKeyId", "ASIA"):
            assert forbidden not in text
        for stream, partitions in state["bookmarks"].items():
            for partition in partitions.get("partitions", []):
                assert set(partition["context"]) <= {"account_id", "region"}, stream


def test_service_not_enabled_is_skipped_with_one_line(
    emu: Emulator, config: dict[str, Any], accounts: list[str], findings: dict
) -> None:
    set_enabled(emu.endpoint_url, "securityhub", accounts[0], REGIONS[0], False)
    set_enabled(emu.endpoint_url, "inspector2", accounts[1], REGIONS[1], False)

    run = sync(config)

    assert run.returncode == 0, run.stderr
    assert run.lines("WARNING") == []
    assert (
        len(
            run.lines(
                f"stream=securityhub_findings account={accounts[0]} region={REGIONS[0]}: "
                "InvalidAccessException (not_enabled)"
            )
        )
        == 1
    )
    assert (
        len(
            run.lines(
                f"stream=inspector_findings account={accounts[1]} region={REGIONS[1]}: "
                "AccessDeniedException (not_enabled)"
            )
        )
        == 1
    )
    assert emitted(run, "securityhub_findings", accounts[0], REGIONS[0]) == set()
    assert emitted(run, "securityhub_findings", accounts[1], REGIONS[1]) != set()
    assert bookmark(run.final_state, "securityhub_findings", accounts[0], REGIONS[0]) is None
    assert run.lines("coverage securityhub_findings: ok=3 denied=0 disabled=0 not_enabled=1")
