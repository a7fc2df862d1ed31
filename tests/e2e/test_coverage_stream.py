"""Coverage as data: the ``sync_coverage`` stream and ``synced_at`` (DESIGN.md "Warehouse
columns and the coverage stream")."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_emulator import Emulator
from aws_emulator.seed import Organization

from tests.e2e.conftest import REGIONS
from tests.e2e.tap_runner import catalog_selecting, run_tap

STREAMS = {"ec2_instances", "s3_buckets", "accounts", "sync_coverage"}


def test_one_row_per_partition_and_per_account_not_read(
    emu: Emulator, org: Organization, org_config: dict[str, Any]
) -> None:
    management = org.management_account_id
    denied, disabled = org.member_accounts[0].id, management
    not_entered = org.member_accounts[1]
    suspended = [a.id for a in org.accounts if a.status != "ACTIVE"]
    assert suspended
    emu.configure(
        deny=[{"account": denied, "region": "us-east-1", "operation": "DescribeInstances"}],
        disabled_regions=[{"account": disabled, "region": "eu-west-1"}],
        deny_assume_role=[org.role_arn(not_entered.id)],
    )

    run = run_tap(org_config, catalog=catalog_selecting(STREAMS))

    assert run.returncode == 0, run.stderr
    rows = run.records["sync_coverage"]
    (synced_at,) = {r["synced_at"] for records in run.records.values() for r in records}
    entered = [a.id for a in org.active_accounts if a.id != not_entered.id]

    def key(row: dict[str, Any]) -> tuple[str, str, str]:
        return row["stream"], row["account_id"], row["region"]

    by_key = {key(r): r for r in rows}
    assert len(by_key) == len(rows), "a coverage key twice"
    expected: dict[tuple[str, str, str], tuple[str, str | None, int]] = {}
    emitted = Counter((r["account_id"], r["region"]) for r in run.records["ec2_instances"])
    buckets = Counter((r["account_id"], r["region"]) for r in run.records["s3_buckets"])
    for account in entered:
        for region in REGIONS:
            if (account, region) == (denied, "us-east-1"):
                outcome: tuple[str, str | None, int] = ("denied", "UnauthorizedOperation", 0)
            elif (account, region) == (disabled, "eu-west-1"):
                outcome = ("disabled", "RegionNotEnabled", 0)
            else:
                outcome = ("ok", None, len(org.resources(account, region).instances))
                assert emitted[(account, region)] == outcome[2]
            expected[("ec2_instances", account, region)] = outcome
            # one ListBuckets per account, one row per region in scope
            in_region = sum(1 for b in org.buckets(account) if b.region == region)
            assert buckets[(account, region)] == in_region
            expected[("s3_buckets", account, region)] = ("ok", None, in_region)
    expected[("accounts", management, "global")] = ("ok", None, len(org.accounts))
    not_read = [(a, "suspended", "SUSPENDED") for a in suspended]
    not_read.append((not_entered.id, "not_entered", "AccessDenied"))
    for account, outcome_name, code in not_read:
        for stream in ("accounts", "ec2_instances", "s3_buckets"):
            expected[(stream, account, "global")] = (outcome_name, code, 0)

    got = {k: (r["outcome"], r["error_code"], r["records"]) for k, r in by_key.items()}
    assert got == expected
    for row in rows:
        assert row["synced_at"] == synced_at
        assert all(row[k] is not None for k in ("synced_at", "stream", "account_id", "region"))
        assert row["started_at"] <= row["finished_at"]
        message = row["error_message"]
        assert (message is None) == (row["outcome"] == "ok"), row
        assert message is None or "\n" not in message
    assert "testing" not in str(rows)  # no credential in any message


def test_the_tap_never_emits_activate_version(org_config: dict[str, Any]) -> None:
    run = run_tap(org_config, catalog=catalog_selecting({"ec2_instances", "s3_buckets"}))
    assert run.returncode == 0, run.stderr
    assert {m["type"] for m in run.messages} == {"SCHEMA", "RECORD", "STATE"}
