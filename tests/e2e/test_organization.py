"""Organization scale: org discovery, refreshing roles, regions, fan-out and the error model."""

from __future__ import annotations

import json
from collections import Counter

from aws_emulator import Emulator
from aws_emulator.faults import throttle_draw
from aws_emulator.seed import Organization

from tap_aws_uvm.streams import STREAM_TYPES
from tests.e2e.conftest import REGIONS, requests_for
from tests.e2e.tap_runner import TapRun, catalog_selecting, run_tap
from tests.e2e.test_foundation import assert_inventory

INVENTORY = {"accounts", "ec2_instances", "s3_buckets"}


def coverage(run: TapRun) -> dict[str, dict[str, int]]:
    """The coverage counters of the METRIC line the tap ends with."""
    (line,) = run.lines("partition_coverage")
    metric = json.loads(line.split("METRIC: ", 1)[1])
    assert metric["metric"] == "partition_coverage"
    return metric["tags"]["streams"]


# moto answers these with the time of the request, so they differ between any two runs.
VOLATILE = {"rds_instances": {"latest_restorable_time"}}


def stable_records(run: TapRun) -> dict[str, list[str]]:
    """Records that two syncs of the same resources write alike: without the sync's start and
    its coverage times."""
    return {
        stream: sorted(
            json.dumps(
                {
                    k: v
                    for k, v in r.items()
                    if k not in VOLATILE.get(stream, ()) and k != "synced_at"
                },
                sort_keys=True,
            )
            for r in records
        )
        for stream, records in run.records.items()
        if stream != "sync_coverage"
    }


def test_org_mode_reads_every_active_account_and_never_a_suspended_one(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    run = run_tap(org_config, catalog=catalog_selecting(INVENTORY))

    assert run.returncode == 0, run.stderr
    assert_inventory(run, org, [a.id for a in org.active_accounts])
    accounts = {r["id"]: r for r in run.records["accounts"]}
    assert set(accounts) == {a.id for a in org.accounts}
    for account in org.accounts:
        record = accounts[account.id]
        assert record["account_id"] == account.id
        assert record["region"] is None
        assert record["arn"] == account.arn
        assert record["name"] == account.name
        assert record["email"] == account.email
        assert record["status"] == account.status
        assert record["tags"] == dict(account.tags)
    counts = emu.counts()
    assert org.suspended_accounts
    for suspended in org.suspended_accounts:
        assert suspended.id not in counts["signed_by"]
        assert suspended.id not in counts["assume_role"]
    for member in org.member_accounts:
        if member.status == "ACTIVE":
            assert counts["assume_role"][member.id] >= 1
    assert requests_for(counts, "organizations", "ListAccounts") >= 1


def test_account_filters_narrow_the_organization(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    kept, dropped = org.member_accounts[0].id, org.member_accounts[1].id
    run = run_tap(
        {
            **org_config,
            "account_ids": [org.management_account_id, kept, dropped],
            "exclude_account_ids": [dropped],
        },
        catalog=catalog_selecting(INVENTORY),
    )

    assert run.returncode == 0, run.stderr
    assert_inventory(run, org, [org.management_account_id, kept])
    # the filters narrow the accounts entered, never those listed: no shard hides another's
    assert {r["id"] for r in run.records["accounts"]} == {a.id for a in org.accounts}
    assert dropped not in emu.counts()["signed_by"]


def test_credentials_refresh_during_a_long_sync(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    clean = run_tap(org_config, catalog=catalog_selecting(INVENTORY))
    emu.configure(assume_role_expiration_seconds=3, latency_ms=300)
    emu.reset_counts()

    run = run_tap({**org_config, "max_concurrency": 1}, catalog=catalog_selecting(INVENTORY))

    assert run.returncode == 0, run.stderr
    counts = emu.counts()
    for account in org.active_accounts:
        assert counts["assume_role"][account.id] >= 2, counts["assume_role"]
    assert not any("Expired" in code for code in counts["injected"]), counts["injected"]
    assert "Expired" not in run.output
    assert stable_records(run) == stable_records(clean)


def test_disabled_region_and_denied_service_are_skipped_and_counted(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    disabled_account, denied_account = org.member_accounts[0].id, org.member_accounts[1].id
    emu.configure(
        disabled_regions=[{"account": disabled_account, "region": "eu-west-1"}],
        deny=[{"account": denied_account, "service": "ec2"}],
    )

    run = run_tap(org_config, catalog=catalog_selecting(INVENTORY))

    assert run.returncode == 0, run.stderr
    warnings = run.lines("WARNING")
    assert len(warnings) == 4, warnings
    # the disabled region: its DescribeRegions says so, so no call is made there
    assert (
        sum(
            f"stream=ec2_instances account={disabled_account} region=eu-west-1: "
            "RegionNotEnabled (disabled)" in w
            for w in warnings
        )
        == 1
    )
    # ec2 denied: its DescribeRegions too (the regions listed are still read)
    assert (
        sum(
            f"account={denied_account}: could not list its enabled regions "
            "(UnauthorizedOperation)" in w
            for w in warnings
        )
        == 1
    )
    for region in REGIONS:
        assert (
            sum(
                f"stream=ec2_instances account={denied_account} region={region}: "
                "UnauthorizedOperation" in w
                for w in warnings
            )
            == 1
        )
    expected = [a.id for a in org.active_accounts if a.id != denied_account]
    got = Counter((r["account_id"], r["region"]) for r in run.records["ec2_instances"])
    assert (disabled_account, "eu-west-1") not in got
    assert all(account != denied_account for account, _ in got)
    for account in expected:
        for region in REGIONS:
            if (account, region) != (disabled_account, "eu-west-1"):
                assert got[(account, region)] == len(org.resources(account, region).instances)
    partitions = len(org.active_accounts) * len(REGIONS)
    assert coverage(run)["ec2_instances"] == {
        "ok": partitions - 3,
        "denied": 2,
        "disabled": 1,
        "not_enabled": 0,
        "unreachable": 0,
        "failed": 0,
    }
    # one ListBuckets per account, recorded as one partition per region in scope
    assert coverage(run)["s3_buckets"]["ok"] == len(org.active_accounts) * len(REGIONS)
    assert run.lines(
        "coverage ec2_instances: ok=3 denied=2 disabled=1 not_enabled=0 unreachable=0 failed=0"
    )

    strict = run_tap(
        {**org_config, "fail_on_access_denied": True}, catalog=catalog_selecting(INVENTORY)
    )
    assert strict.returncode != 0
    assert strict.lines(
        "Sync incomplete: stream ec2_instances was denied in 2 partition(s) (fail_on_access_denied)"
    )


def test_every_assume_role_denied_stops_with_one_line(
    emu: Emulator, org: Organization, roles_config: dict[str, object], org_config: dict[str, object]
) -> None:
    emu.configure(deny_assume_role=["*"])
    for config in (roles_config, org_config):
        run = run_tap(config)
        assert run.returncode != 0
        assert "Traceback" not in run.output
        (line,) = run.lines("ERROR")
        assert "No account could be entered: could not assume role arn:aws:iam::" in line
        assert "AccessDenied" in line
        records = dict(run.records)
        rows = records.pop("sync_coverage", [])
        assert records == {}
        if config is org_config:  # the management role itself: no account is known
            assert rows == []
            continue
        # role list: each account not entered is a row, one per selected stream
        streams = {s.name for s in STREAM_TYPES} - {"sync_coverage"}
        assert {(r["stream"], r["account_id"], r["outcome"]) for r in rows} == {
            (stream, account.id, "not_entered")
            for stream in streams
            for account in org.active_accounts
        }
        assert len(rows) == len(streams) * len(org.active_accounts)


def seed_throttling_each_protocol(org: Organization) -> int:
    """A seed that throttles (among 25% of all calls) the first attempt of one call per protocol.

    Calls the sync surely makes: STS AssumeRole (query), EC2 DescribeInstances (ec2),
    Organizations ListAccounts (json), S3 ListBuckets (rest-xml), all in the management account.
    """
    keys = [
        f"{call}:{org.management_account_id}:us-east-1"
        for call in (
            "sts:AssumeRole",
            "ec2:DescribeInstances",
            "organizations:ListAccounts",
            "s3:ListBuckets",
        )
    ]
    for seed in range(100_000):
        if all(throttle_draw(seed, key, 0) < 0.25 for key in keys):
            return seed
    raise AssertionError("no seed")


def test_throttling_changes_nothing_but_the_retry_count(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    clean = run_tap(org_config)
    emu.configure(throttle_rate=0.25, seed=seed_throttling_each_protocol(org))
    emu.reset_counts()

    run = run_tap(org_config)

    assert run.returncode == 0, run.stderr
    injected = emu.counts()["injected"]
    for code in ("RequestLimitExceeded", "Throttling", "ThrottlingException", "SlowDown"):
        assert injected.get(code, 0) > 0, injected
    assert stable_records(run) == stable_records(clean)
    assert run.lines("WARNING") == []


def test_concurrency_is_bounded_by_max_concurrency(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    emu.configure(latency_ms=150)
    for limit in (4, 1):
        emu.reset_counts()
        run = run_tap(
            {**org_config, "max_concurrency": limit}, catalog=catalog_selecting(INVENTORY)
        )
        assert run.returncode == 0, run.stderr
        assert emu.counts()["peak_in_flight"] == limit


def test_all_regions_reaches_exactly_the_enabled_ones(
    emu: Emulator, org: Organization, org_config: dict[str, object]
) -> None:
    management, member = org.management_account_id, org.member_accounts[0].id
    emu.configure(
        regions={
            management: {
                "enabled": ["us-east-1", "eu-west-1", "ap-southeast-2"],
                "not_opted_in": ["me-south-1", "af-south-1"],
            },
            member: {"enabled": ["us-east-1"], "not_opted_in": ["eu-west-1"]},
            "*": {"enabled": ["us-east-1", "eu-west-1"], "not_opted_in": ["ap-east-1"]},
        }
    )

    run = run_tap(
        {**org_config, "regions": ["*"], "exclude_regions": ["ap-southeast-2"]},
        catalog=catalog_selecting({"ec2_instances"}),
    )

    assert run.returncode == 0, run.stderr
    visited = {
        (row["account"], row["region"])
        for row in emu.counts()["requests"]
        if row["operation"] == "DescribeInstances"
    }
    expected = {(management, "us-east-1"), (management, "eu-west-1"), (member, "us-east-1")}
    for account in org.active_accounts:
        if account.id not in (management, member):
            expected |= {(account.id, "us-east-1"), (account.id, "eu-west-1")}
    assert visited == expected
    for account in org.active_accounts:
        assert requests_for(emu.counts(), "ec2", "DescribeRegions", account.id) == 1
