"""Access-key and role-list modes: exact records from the seeded organization."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from aws_emulator import Emulator
from aws_emulator.seed import Organization

from tests.e2e.conftest import REGIONS, requests_for
from tests.e2e.tap_runner import run_tap


def expected_instances(org: Organization, accounts: list[str]) -> dict[str, dict[str, object]]:
    expected = {}
    for account in accounts:
        for region in REGIONS:
            for instance in org.resources(account, region).instances:
                expected[instance.arn] = {
                    "account_id": account,
                    "region": region,
                    "instance_id": instance.instance_id,
                    "reservation_id": instance.reservation_id,
                    "vpc_id": instance.vpc_id,
                    "subnet_id": instance.subnet_id,
                    "instance_type": instance.instance_type,
                    "tags": dict(instance.tags),
                }
    return expected


def expected_buckets(org: Organization, accounts: list[str]) -> dict[str, dict[str, object]]:
    return {
        bucket.arn: {"account_id": account, "region": bucket.region, "name": bucket.name}
        for account in accounts
        for bucket in org.buckets(account)
        if bucket.region in REGIONS
    }


def by_arn(records: list[dict[str, object]], fields: list[str]) -> dict[str, dict[str, object]]:
    result = {}
    for record in records:
        assert record["arn"] not in result, f"duplicate {record['arn']}"
        result[str(record["arn"])] = {f: record.get(f) for f in fields}
    return result


def assert_inventory(run, org: Organization, accounts: list[str]) -> None:  # type: ignore[no-untyped-def]
    instances = expected_instances(org, accounts)
    fields = list(next(iter(instances.values())))
    assert by_arn(run.records["ec2_instances"], fields) == instances
    buckets = expected_buckets(org, accounts)
    assert by_arn(run.records["s3_buckets"], ["account_id", "region", "name"]) == buckets
    per_partition = Counter((r["account_id"], r["region"]) for r in run.records["ec2_instances"])
    assert per_partition == Counter((v["account_id"], v["region"]) for v in instances.values())


def test_access_key_mode_reads_the_keys_own_account(
    emu: Emulator, org: Organization, key_config: dict[str, object]
) -> None:
    run = run_tap(key_config)

    assert run.returncode == 0, run.stderr
    assert_inventory(run, org, [org.management_account_id])
    assert run.records["accounts"] == []
    assert len(run.lines("accounts needs role_arn")) == 1
    assert "Traceback" not in run.stderr


def test_role_list_mode_reads_every_role_account(
    emu: Emulator, org: Organization, roles_config: dict[str, object]
) -> None:
    run = run_tap(roles_config)

    assert run.returncode == 0, run.stderr
    assert_inventory(run, org, [a.id for a in org.active_accounts])
    for account in org.active_accounts:
        assert emu.counts()["assume_role"][account.id] >= 1


def test_s3_lists_buckets_once_per_account(
    emu: Emulator, org: Organization, roles_config: dict[str, object]
) -> None:
    run = run_tap(roles_config)

    assert run.returncode == 0, run.stderr
    counts = emu.counts()
    for account in org.active_accounts:
        assert requests_for(counts, "s3", "ListBuckets", account.id) == 1
    assert requests_for(counts, "s3", "GetBucketLocation") == 0
    arns = [r["arn"] for r in run.records["s3_buckets"]]
    assert (
        len(arns)
        == len(set(arns))
        == len(expected_buckets(org, [a.id for a in org.active_accounts]))
    )


def test_s3_falls_back_to_bucket_location_when_region_is_missing(
    emu: Emulator, org: Organization, key_config: dict[str, object]
) -> None:
    emu.configure(s3_bucket_region=False)
    run = run_tap(key_config)

    assert run.returncode == 0, run.stderr
    account = org.management_account_id
    assert by_arn(run.records["s3_buckets"], ["account_id", "region", "name"]) == expected_buckets(
        org, [account]
    )
    counts = emu.counts()
    assert requests_for(counts, "s3", "ListBuckets", account) == 1
    assert requests_for(counts, "s3", "GetBucketLocation", account) == len(org.buckets(account))


@pytest.mark.parametrize("given", [None, "the-wrong-external-id"])
def test_assume_role_needs_the_right_external_id(
    emu: Emulator, org: Organization, roles_config: dict[str, object], given: str | None
) -> None:
    emu.configure(external_ids={"*": "the-right-external-id"})
    config = dict(roles_config)
    if given:
        config["external_id"] = given

    run = run_tap(config)

    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    lines = run.lines("No account could be entered: could not assume role arn:aws:iam::")
    assert len(lines) == 1, run.stderr
    assert "AccessDenied" in lines[0]
    # nothing read; the accounts not entered are coverage rows, one per selected stream
    records = dict(run.records)
    rows = records.pop("sync_coverage")
    assert records == {}
    assert {(r["account_id"], r["outcome"], r["error_code"]) for r in rows} == {
        (a.id, "not_entered", "AccessDenied") for a in org.active_accounts
    }


def test_assume_role_with_the_right_external_id(
    emu: Emulator, org: Organization, roles_config: dict[str, object]
) -> None:
    emu.configure(external_ids={"*": "the-right-external-id"})
    run = run_tap({**roles_config, "external_id": "the-right-external-id"})

    assert run.returncode == 0, run.stderr
    assert_inventory(run, org, [a.id for a in org.active_accounts])


def test_no_credentials_at_all_is_one_clear_line(emu: Emulator) -> None:
    run = run_tap({"regions": REGIONS, "endpoint_url": emu.endpoint_url})

    assert run.returncode != 0
    assert "Traceback" not in run.output
    (line,) = run.lines("ERROR")
    assert "No account could be entered: could not identify the base credentials" in line
    assert "NoCredentialsError" in line


def test_named_profile_supplies_the_base_credentials(
    emu: Emulator, org: Organization, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[uvm-reader]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    config = {"aws_profile": "uvm-reader", "regions": REGIONS, "endpoint_url": emu.endpoint_url}

    run = run_tap(config, env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)})

    assert run.returncode == 0, run.stderr
    assert_inventory(run, org, [org.management_account_id])

    missing = run_tap(
        {**config, "aws_profile": "no-such-profile"},
        env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)},
    )
    assert missing.returncode != 0
    assert "Traceback" not in missing.output
    assert len(missing.lines("no-such-profile")) == 1
