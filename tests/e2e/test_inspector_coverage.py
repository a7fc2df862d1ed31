"""Inspector's scan coverage (ListCoverage) and ECR's archive storage class: exact coverage
records in organization mode, pages of 200, a denied partition reported as denied, archived
and activating images listed with their status and never asked for scan findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aws_emulator import Emulator
from aws_emulator.demo_org import DemoExpectations, load_demo_findings
from aws_emulator.ecr_images import set_image_status
from aws_emulator.findings import load_coverage, set_enabled
from aws_emulator.seed import Organization

from tap_aws_uvm.records import utc_timestamp
from tests.e2e.conftest import REGIONS, requests_for
from tests.e2e.demo_findings import clear_findings
from tests.e2e.tap_runner import TapRun, catalog_selecting, run_tap

STREAM = "inspector_coverage"
KEY = ("account_id", "region", "resource_id", "scan_type")


@pytest.fixture(scope="module")
def demo(emulator: Emulator, org: Organization) -> Iterator[DemoExpectations]:
    yield load_demo_findings(emulator.endpoint_url, org)
    clear_findings(emulator.endpoint_url, org, REGIONS)


def sync(config: dict[str, Any], streams: set[str]) -> TapRun:
    run = run_tap(config, catalog=catalog_selecting(streams))
    assert "Traceback" not in run.output, run.stderr[-3000:]
    return run


def by_key(run: TapRun) -> dict[tuple[str, ...], dict[str, Any]]:
    records = {tuple(r[k] for k in KEY): r for r in run.records[STREAM]}
    assert len(records) == len(run.records[STREAM]), "a coverage key was emitted twice"
    return records


def aws_entries(org: Organization, account: str, region: str) -> list[dict[str, Any]]:
    """ListCoverage's answer, read independently of the tap."""
    client = org.session(account).client(
        "inspector2", region_name=region, endpoint_url=org.endpoint_url
    )
    return [
        entry
        for page in client.get_paginator("list_coverage").paginate()
        for entry in page["coveredResources"]
    ]


def metric(run: TapRun) -> dict[str, Any]:
    (line,) = run.lines("partition_coverage")
    loaded: dict[str, Any] = json.loads(line.split("METRIC: ", 1)[1])
    return loaded


def test_exact_coverage_records_in_organization_mode(
    demo: DemoExpectations, org: Organization, org_config: dict[str, Any], emu: Emulator
) -> None:
    run = sync(org_config, {STREAM})

    assert run.returncode == 0, run.stderr
    assert run.lines("WARNING") == []
    assert requests_for(emu.counts(), "inspector2", "ListCoverage") == 6  # one page each
    records = by_key(run)
    assert len(records) == demo.records[STREAM] == 96
    assert {
        (r["account_id"], r["resource_id"], r["scan_type"]): (r["status_code"], r["reason"])
        for r in records.values()
    } == dict(demo.coverage)
    for account in org.active_accounts:
        for region in REGIONS:
            entries = aws_entries(org, account.id, region)
            assert entries
            for entry in entries:
                record = records[(account.id, region, entry["resourceId"], entry["scanType"])]
                scanned = entry.get("lastScannedAt")
                assert {k: v for k, v in record.items() if k != "synced_at"} == {
                    "account_id": account.id,
                    "region": region,
                    "aws_account_id": entry["accountId"],
                    "resource_id": entry["resourceId"],
                    "resource_type": entry["resourceType"],
                    "scan_type": entry["scanType"],
                    "scan_status": entry["scanStatus"],
                    "status_code": entry["scanStatus"]["statusCode"],
                    "reason": entry["scanStatus"]["reason"],
                    "resource_metadata": entry["resourceMetadata"],
                    **({"scan_mode": entry["scanMode"]} if "scanMode" in entry else {}),
                    **({"last_scanned_at": utc_timestamp(scanned)} if scanned else {}),
                }
    # what the coverage shows: an instance Inspector does not manage, never-scanned images
    reasons = {r["reason"] for r in records.values() if r["status_code"] == "INACTIVE"}
    assert reasons == {
        "UNMANAGED_EC2_INSTANCE",
        "SCAN_FREQUENCY_MANUAL",
        "SCAN_ELIGIBILITY_EXPIRED",
    }


def test_pages_of_200_read_to_the_end(
    emu: Emulator, org: Organization, key_config: dict[str, Any]
) -> None:
    account, region = org.management_account_id, "us-west-2"
    entries = [
        {
            "resourceType": "AWS_EC2_INSTANCE",
            "resourceId": f"i-{n:017x}",
            "accountId": account,
            "scanType": "PACKAGE",
            "scanStatus": {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"},
            "resourceMetadata": {"ec2": {"platform": "LINUX"}},
        }
        for n in range(450)
    ]
    load_coverage(emu.endpoint_url, account, region, entries, replace=True)
    try:
        run = sync({**key_config, "regions": [region]}, {STREAM})
    finally:
        load_coverage(emu.endpoint_url, account, region, [], replace=True)

    assert run.returncode == 0, run.stderr
    assert set(by_key(run)) == {(account, region, e["resourceId"], "PACKAGE") for e in entries}
    assert requests_for(emu.counts(), "inspector2", "ListCoverage") == 3  # 200 + 200 + 50


def test_a_denied_partition_is_reported_as_denied(
    demo: DemoExpectations, org: Organization, org_config: dict[str, Any], emu: Emulator
) -> None:
    member, region = org.member_accounts[0].id, REGIONS[1]
    emu.configure(
        deny=[
            {
                "account": member,
                "region": region,
                "service": "inspector2",
                "operation": "ListCoverage",
            }
        ]
    )
    run = sync(org_config, {STREAM, "sync_coverage"})

    assert run.returncode == 0, run.stderr  # five partitions were read: a partial denial
    (warning,) = run.lines("WARNING")
    assert f"stream={STREAM} account={member} region={region}: AccessDeniedException (denied)" in (
        warning
    )
    assert run.lines(f"coverage {STREAM}: ok=5 denied=1 disabled=0 not_enabled=0")
    counters = metric(run)["tags"]["streams"][STREAM]
    assert counters == {
        "ok": 5,
        "denied": 1,
        "disabled": 0,
        "not_enabled": 0,
        "unreachable": 0,
        "failed": 0,
    }
    records = by_key(run)
    assert {(a, r) for a, r, _, _ in records} == {
        (a.id, r) for a in org.active_accounts for r in REGIONS
    } - {(member, region)}
    rows = {
        (row["account_id"], row["region"]): row
        for row in run.records["sync_coverage"]
        if row["stream"] == STREAM
    }
    (suspended,) = org.suspended_accounts  # never entered: one row per selected stream
    assert rows.pop((suspended.id, "global"))["outcome"] == "suspended"
    assert len(rows) == 6
    denied = rows[(member, region)]
    assert (denied["outcome"], denied["error_code"], denied["records"]) == (
        "denied",
        "AccessDeniedException",
        0,
    )
    assert "not authorized" in denied["error_message"]
    for where, row in rows.items():
        if where != (member, region):
            emitted = sum(1 for a, r, _, _ in records if (a, r) == where)
            assert (row["outcome"], row["error_code"], row["records"]) == ("ok", None, emitted)


def test_inspector_not_activated_is_not_enabled(
    demo: DemoExpectations, org: Organization, org_config: dict[str, Any], emu: Emulator
) -> None:
    member, region = org.member_accounts[1].id, REGIONS[0]
    set_enabled(emu.endpoint_url, "inspector2", member, region, False)
    try:
        run = sync(org_config, {STREAM})
    finally:
        set_enabled(emu.endpoint_url, "inspector2", member, region, True)

    assert run.returncode == 0, run.stderr
    assert run.lines("WARNING") == []
    assert run.lines(
        f"stream={STREAM} account={member} region={region}: AccessDeniedException (not_enabled)"
    )
    assert run.lines(f"coverage {STREAM}: ok=5 denied=0 disabled=0 not_enabled=1")


# ---- ECR's archive storage class ----------------------------------------------------------


@pytest.fixture
def archived(emu: Emulator, org: Organization) -> Iterator[dict[str, str]]:
    """Two scanned images of the management account's first partition: one ARCHIVED, one
    ACTIVATING (digest -> status); every image ACTIVE again afterwards."""
    account, region = org.management_account_id, REGIONS[0]
    scanned = [i for i in org.resources(account, region).ecr_images if i.findings]
    assert len(scanned) >= 2
    statuses = {scanned[0].image_digest: "ARCHIVED", scanned[1].image_digest: "ACTIVATING"}
    for image in scanned[:2]:
        set_image_status(
            emu.endpoint_url,
            account,
            region,
            image.repository_name,
            image.image_digest,
            status=statuses[image.image_digest],
            last_archived_at="2024-06-01T00:00:00Z",
            last_activated_at=(
                "2024-07-01T00:00:00Z" if statuses[image.image_digest] == "ACTIVATING" else None
            ),
        )
    yield statuses
    response = requests.post(f"{emu.endpoint_url}/_emulator/ecr-images/reset", json={}, timeout=60)
    response.raise_for_status()


def test_archived_and_activating_images_are_listed_with_their_status(
    archived: dict[str, str], org: Organization, key_config: dict[str, Any], emu: Emulator
) -> None:
    run = sync(key_config, {"ecr_images", "ecr_findings"})

    assert run.returncode == 0, run.stderr
    account = org.management_account_id
    images = {
        (r["region"], r["repository_name"], r["image_digest"]): r for r in run.records["ecr_images"]
    }
    expected = {
        (region, image.repository_name, image.image_digest)
        for region in REGIONS
        for image in org.resources(account, region).ecr_images
    }
    assert set(images) == expected
    statuses = {digest: r["image_status"] for (_, _, digest), r in images.items()}
    assert {d: s for d, s in statuses.items() if s != "ACTIVE"} == archived
    for (_, _, digest), record in images.items():
        if digest in archived:
            assert record["last_archived_at"] == "2024-06-01T00:00:00.000000Z"
            assert record.get("last_activated_at") == (
                "2024-07-01T00:00:00.000000Z" if archived[digest] == "ACTIVATING" else None
            )
    # no scan findings are asked for (or emitted) for an image that cannot be scanned
    findings_of = {r["image_digest"] for r in run.records["ecr_findings"]}
    assert findings_of.isdisjoint(archived)
    assert findings_of  # the other scanned images' findings are there
    asked = requests_for(emu.counts(), "ecr", "DescribeImageScanFindings", account)
    assert asked == len(expected) - len(archived)
