"""Security Hub's OCSF findings (GetFindingsV2): exact records in organization and role-list
modes, a bookmark per (account, region), second syncs that read only what changed, and
partitions that lose nothing when they were denied or failed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.demo_org import DemoExpectations, ExpectedFinding, load_demo_findings
from aws_emulator.findings import (
    fail_after_pages,
    findings_stats,
    generate_findings,
    generated_findings,
    set_enabled,
    update_findings,
)
from aws_emulator.seed import Organization

from tap_aws_uvm.records import normalize_timestamp, parse_timestamp
from tests.e2e.conftest import REGIONS
from tests.e2e.demo_findings import clear_findings
from tests.e2e.tap_runner import TapRun, catalog_selecting, run_tap

STREAM = "securityhub_ocsf_findings"
KIND = "securityhub_ocsf"
CATALOG = catalog_selecting({STREAM})
FIELD = "finding_info.modified_time_dt"
LOOKBACK = dt.timedelta(minutes=60)
# Regions no other stream's test puts OCSF findings in: the generated findings tests own them.
OWN_REGIONS = ["us-west-2", "ca-central-1"]
PER_PARTITION = 250  # three pages of 100
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OLDEST, NEWEST = NOW - dt.timedelta(days=20), NOW - dt.timedelta(days=1)
START_DATE = NOW - dt.timedelta(days=10)


def key(record: dict[str, Any]) -> tuple[str, str]:
    return record["finding_uid"], record["product_uid"]


def doc_key(doc: dict[str, Any]) -> tuple[str, str]:
    return doc["finding_info"]["uid"], doc["metadata"]["product"]["uid"]


def modified(doc: dict[str, Any]) -> str:
    text = normalize_timestamp(doc["finding_info"]["modified_time_dt"])
    assert text is not None
    return text


def sync(config: dict[str, Any], state: dict[str, Any] | None = None) -> TapRun:
    run = run_tap(config, state=state, catalog=CATALOG)
    assert "Traceback" not in run.output, run.stderr[-3000:]
    return run


def bookmarks(state: dict[str, Any]) -> dict[tuple[str, str], str | None]:
    return {
        (p["context"]["account_id"], p["context"]["region"]): p.get("replication_key_value")
        for p in state.get("bookmarks", {}).get(STREAM, {}).get("partitions", [])
    }


def in_partition(run: TapRun, account: str, region: str) -> list[dict[str, Any]]:
    return [r for r in run.records[STREAM] if (r["account_id"], r["region"]) == (account, region)]


# ---- the demo organization's findings in the session's organization --------------------------


@pytest.fixture(scope="module")
def demo(emulator: Emulator, org: Organization) -> Iterator[DemoExpectations]:
    """The demo's linked findings (Inspector, ASFF, OCSF) and coverage, loaded into the
    session's organization; removed afterwards."""
    yield load_demo_findings(emulator.endpoint_url, org)
    clear_findings(emulator.endpoint_url, org, REGIONS)


@pytest.fixture(scope="module")
def documents(demo: DemoExpectations, org: Organization) -> dict[tuple[str, str], dict[str, Any]]:
    """Every OCSF finding as GetFindingsV2 answers it, read independently of the tap."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for account in org.active_accounts:
        for region in REGIONS:
            client = org.session(account.id).client(
                "securityhub", region_name=region, endpoint_url=org.endpoint_url
            )
            for page in client.get_paginator("get_findings_v2").paginate():
                for doc in page["Findings"]:
                    found[doc_key(doc)] = doc
    assert len(found) == demo.records[STREAM] == 153
    return found


def expected_ocsf(demo: DemoExpectations) -> list[ExpectedFinding]:
    return [f for f in demo.findings if f.stream == STREAM]


def as_record(
    expected: ExpectedFinding, doc: dict[str, Any], *, account_arns: bool
) -> dict[str, Any]:
    """The record the tap must emit for ``expected``; without the organization listed (role
    list mode) an account-level resource keeps Security Hub's ``AWS::::Account:<id>``."""
    resources = [
        r if account_arns or ":account/o-" not in r else f"AWS::::Account:{r.rsplit('/', 1)[1]}"
        for r in expected.resource_ids
    ]
    info = doc["finding_info"]
    return {
        "finding_uid": expected.key["finding_uid"],
        "product_uid": expected.key["product_uid"],
        "account_id": expected.account_id,
        "region": expected.region,
        "aws_account_id": expected.aws_account_id,
        "finding_region": doc["cloud"]["region"],
        "title": info["title"],
        "created_time": normalize_timestamp(info["created_time_dt"]),
        "modified_time": modified(doc),
        "severity_label": expected.severity_label,
        "severity_score": expected.severity_score,
        "vulnerability_ids": list(expected.vulnerability_ids),
        "resource_ids": resources,
        "finding_status": expected.finding_status,
        "finding": doc,
    }


def newest_of(records: dict[Any, dict[str, Any]]) -> dict[tuple[str, str], str]:
    """The newest modified_time per partition read."""
    newest: dict[tuple[str, str], str] = {}
    for record in records.values():
        where = (record["account_id"], record["region"])
        newest[where] = max(newest.get(where, ""), record["modified_time"])
    return newest


def without_synced_at(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "synced_at"}


@pytest.mark.parametrize("mode", ["organization", "role list"])
def test_exact_records_and_a_bookmark_per_partition(
    mode: str,
    demo: DemoExpectations,
    documents: dict[tuple[str, str], dict[str, Any]],
    org_config: dict[str, Any],
    roles_config: dict[str, Any],
    emu: Emulator,
    org: Organization,
) -> None:
    config = org_config if mode == "organization" else roles_config
    run = sync(config)

    assert run.returncode == 0, run.stderr
    assert run.lines("WARNING") == []
    expected = {
        (f.key["finding_uid"], f.key["product_uid"]): as_record(
            f,
            documents[(f.key["finding_uid"], f.key["product_uid"])],
            account_arns=mode == "organization",
        )
        for f in expected_ocsf(demo)
    }
    records = run.records[STREAM]
    assert len(records) == len({key(r) for r in records}) == len(expected) == 153
    assert {key(r): without_synced_at(r) for r in records} == expected
    # IAM.6 and Account.1 name the account in every partition: the mapping is exercised
    account_form = ":account/o-" if mode == "organization" else "AWS::::Account:"
    account_level = {r["finding_uid"] for r in records if account_form in r["resource_ids"][0]}
    assert len(account_level) == 2 * len(newest_of(expected))

    newest = newest_of(expected)
    assert bookmarks(run.final_state) == newest
    assert len(newest) == len(org.active_accounts) * len(REGIONS)


def test_requests_filter_and_sort_on_modified_time_and_never_send_scopes(
    demo: DemoExpectations, org_config: dict[str, Any], emu: Emulator, org: Organization
) -> None:
    run = sync({**org_config, "start_date": "2020-01-01T00:00:00Z"})
    assert run.returncode == 0, run.stderr
    started = parse_timestamp(run.records[STREAM][0]["synced_at"])
    for account in org.active_accounts:
        for region in REGIONS:
            (stats,) = findings_stats(emu.endpoint_url, KIND, account.id, region)
            request = stats["requests"][-1]
            assert request["operation"] == "GetFindingsV2"
            assert request["max_results"] == 100
            assert request["sort"] == [{"Field": FIELD, "SortOrder": "asc"}]
            (composite,) = request["filters"]["CompositeFilters"]
            (date_filter,) = composite["DateFilters"]
            assert date_filter["FieldName"] == FIELD
            assert date_filter["Filter"]["Start"] == "2020-01-01T00:00:00.000000Z"
            # the window ends at the sync's start
            assert parse_timestamp(date_filter["Filter"]["End"]) == started
            assert set(request["filters"]) == {"CompositeFilters"}
    # Scopes are the delegated administrator's only: any other account is refused with
    # AccessDeniedException, so a sent Scopes would show as a denied partition
    assert run.lines(f"coverage {STREAM}: ok=6 denied=0 disabled=0 not_enabled=0")


def test_not_enabled_is_skipped_with_one_line_and_no_warning(
    demo: DemoExpectations, org_config: dict[str, Any], emu: Emulator, org: Organization
) -> None:
    member = org.member_accounts[0].id
    set_enabled(emu.endpoint_url, KIND, member, REGIONS[1], False)
    try:
        run = sync(org_config)
    finally:
        set_enabled(emu.endpoint_url, KIND, member, REGIONS[1], True)

    assert run.returncode == 0, run.stderr
    assert run.lines("WARNING") == []
    assert (
        len(
            run.lines(
                f"stream={STREAM} account={member} region={REGIONS[1]}: AccessDeniedException "
                "(not_enabled)"
            )
        )
        == 1
    )
    assert in_partition(run, member, REGIONS[1]) == []
    assert bookmarks(run.final_state).get((member, REGIONS[1])) is None
    assert run.lines(f"coverage {STREAM}: ok=5 denied=0 disabled=0 not_enabled=1")


# ---- generated findings, three pages per partition -----------------------------------------


@pytest.fixture
def generated(
    emu: Emulator, org: Organization
) -> Iterator[dict[tuple[str, str], dict[tuple[str, str], str]]]:
    """PER_PARTITION OCSF findings in each (account, region): key -> modified time."""
    found: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
    for account in (org.management_account_id, org.member_accounts[0].id):
        for number, region in enumerate(OWN_REGIONS):
            spec = {"start": OLDEST.isoformat(), "end": NEWEST.isoformat(), "seed": number}
            generate_findings(emu.endpoint_url, KIND, account, region, PER_PARTITION, **spec)
            docs = generated_findings(KIND, account, region, PER_PARTITION, **spec)
            found[(account, region)] = {doc_key(d): modified(d) for d in docs}
    yield found
    clear_findings(emu.endpoint_url, org, OWN_REGIONS)


@pytest.fixture
def generated_config(emu: Emulator, org: Organization) -> dict[str, Any]:
    return {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "role_arns": [
            org.role_arn(org.management_account_id),
            org.role_arn(org.member_accounts[0].id),
        ],
        "regions": OWN_REGIONS,
        "endpoint_url": emu.endpoint_url,
        "start_date": START_DATE.isoformat(),
        "findings_lookback_minutes": 60,
    }


def test_second_sync_reads_what_changed_and_nothing_older_than_bookmark_minus_lookback(
    emu: Emulator,
    generated: dict[tuple[str, str], dict[tuple[str, str], str]],
    generated_config: dict[str, Any],
) -> None:
    floor = normalize_timestamp(START_DATE.strftime("%Y-%m-%dT%H:%M:%SZ"))
    first = sync(generated_config)
    assert first.returncode == 0, first.stderr
    for (account, region), found in generated.items():
        got = {key(r): r["modified_time"] for r in in_partition(first, account, region)}
        assert got == {k: when for k, when in found.items() if floor is not None and when >= floor}
        assert bookmarks(first.final_state)[(account, region)] == max(found.values())
    counts = emu.counts()
    pages = [
        r["count"]
        for r in counts["requests"]
        if r["operation"] == "GetFindingsV2" and r["region"] in OWN_REGIONS
    ]
    assert len(pages) == 4
    assert all(n >= 2 for n in pages), pages  # about half of 250 are after start_date: 2 pages

    changed: dict[tuple[str, str], set[str]] = {}
    for account, region in generated:
        moved = update_findings(
            emu.endpoint_url, KIND, account, region, count=30, seed=5, status="CLOSED"
        )
        changed[(account, region)] = {m["id"] for m in moved}

    second = sync(generated_config, state=first.final_state)

    assert second.returncode == 0, second.stderr
    for (account, region), found in generated.items():
        mark = parse_timestamp(bookmarks(first.final_state)[(account, region)] or "")
        since = mark - LOOKBACK
        rereads = {uid for (uid, _), when in found.items() if parse_timestamp(when) >= since}
        records = in_partition(second, account, region)
        assert len(records) == len({key(r) for r in records})
        assert {r["finding_uid"] for r in records} == changed[(account, region)] | rereads
        for record in records:
            if record["finding_uid"] in changed[(account, region)]:
                assert record["finding_status"] == "CLOSED"
                assert parse_timestamp(record["modified_time"]) > mark
            else:
                assert parse_timestamp(record["modified_time"]) >= since
        new_mark = bookmarks(second.final_state)[(account, region)]
        assert new_mark == max(r["modified_time"] for r in records)
        assert new_mark > (bookmarks(first.final_state)[(account, region)] or "")


def test_denied_and_failing_partitions_lose_nothing_once_they_recover(
    emu: Emulator,
    org: Organization,
    generated: dict[tuple[str, str], dict[tuple[str, str], str]],
    generated_config: dict[str, Any],
) -> None:
    first = sync(generated_config)
    assert first.returncode == 0, first.stderr
    management, member = org.management_account_id, org.member_accounts[0].id
    denied, failing, healthy = (
        (management, OWN_REGIONS[0]),
        (member, OWN_REGIONS[0]),
        (management, OWN_REGIONS[1]),
    )
    fresh: dict[tuple[str, str], set[str]] = {}
    for account, region in (denied, failing, healthy):
        # more than a page of changes, so "fail after the first page" fails half-way
        moved = update_findings(emu.endpoint_url, KIND, account, region, count=150, seed=9)
        fresh[(account, region)] = {m["id"] for m in moved}
    emu.configure(
        deny=[
            {
                "account": denied[0],
                "region": denied[1],
                "service": "securityhub",
                "operation": "GetFindingsV2",
            }
        ]
    )
    fail_after_pages(emu.endpoint_url, KIND, failing[0], failing[1], 1)

    second = sync(generated_config, state=first.final_state)

    assert second.returncode == 1, second.stderr  # the half-read partition lost data
    assert second.lines(f"Sync incomplete: stream {STREAM}: 1 partition(s) failed")
    assert (
        len(
            second.lines(
                f"stream={STREAM} account={denied[0]} region={denied[1]}: "
                "AccessDeniedException (denied)"
            )
        )
        == 1
    )
    assert len(second.lines("WARNING")) == 2
    assert second.lines(f"coverage {STREAM}: ok=2 denied=1 disabled=0 not_enabled=0")
    before, after = bookmarks(first.final_state), bookmarks(second.final_state)
    assert after[denied] == before[denied]
    assert after[failing] == before[failing]
    assert (after[healthy] or "") > (before[healthy] or "")
    assert in_partition(second, *denied) == []

    emu.configure()
    fail_after_pages(emu.endpoint_url, KIND, failing[0], failing[1], None)
    third = sync(generated_config, state=second.final_state)

    assert third.returncode == 0, third.stderr
    for where in (denied, failing):
        assert fresh[where] <= {r["finding_uid"] for r in in_partition(third, *where)}
        assert (bookmarks(third.final_state)[where] or "") > (before[where] or "")


def test_state_holds_ids_and_timestamps_only(
    generated: dict[tuple[str, str], dict[tuple[str, str], str]],
    generated_config: dict[str, Any],
) -> None:
    run = sync(generated_config)
    assert run.returncode == 0, run.stderr
    partitions = run.final_state["bookmarks"][STREAM]["partitions"]
    assert len(partitions) == 4
    for partition in partitions:
        assert set(partition) == {"context", "replication_key", "replication_key_value"}
        assert set(partition["context"]) == {"account_id", "region"}
        assert partition["replication_key"] == "modified_time"
    assert "testing" not in json.dumps(run.states)
