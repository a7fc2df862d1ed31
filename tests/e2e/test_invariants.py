"""Invariants every stream keeps, checked on a full organization sync (CloudQuery-style)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from aws_emulator import Emulator
from aws_emulator.findings import generate_findings, load_coverage
from aws_emulator.seed import Organization, RegionResources

from tap_aws_uvm.records import normalize_timestamp
from tap_aws_uvm.schemagen import load_schema
from tap_aws_uvm.streams import STREAM_TYPES
from tests.e2e.conftest import REGIONS
from tests.e2e.tap_runner import TapRun, catalog_selecting, run_tap

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
ACCOUNT = re.compile(r"^\d{12}$")
ARN = re.compile(r"^arn:aws(-[a-z-]+)?:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$")
UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FINDING_SERVICES = ("securityhub", "inspector2", "securityhub_ocsf")


@pytest.fixture(scope="module")
def full_sync(emulator: Emulator, org: Organization) -> Iterator[TapRun]:
    """Every stream, every network data type, findings in every partition, org mode."""
    emulator.configure()
    now = dt.datetime.now(dt.UTC)
    window = {"start": (now - dt.timedelta(days=3)).isoformat(), "end": now.isoformat()}
    for service in FINDING_SERVICES:
        for account in org.active_accounts:
            for region in REGIONS:
                generate_findings(emulator.endpoint_url, service, account.id, region, 30, **window)
    for res in org.partitions():  # Inspector's coverage of every instance
        load_coverage(emulator.endpoint_url, res.account_id, res.region, coverage_of(res))
    yield run_tap(
        {
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "role_arn": org.management_role_arn,
            "org_accounts": True,
            "regions": REGIONS,
            "endpoint_url": emulator.endpoint_url,
        }
    )
    for service in FINDING_SERVICES:
        for account in org.active_accounts:
            for region in REGIONS:
                generate_findings(emulator.endpoint_url, service, account.id, region, 0, **window)
    for res in org.partitions():
        load_coverage(emulator.endpoint_url, res.account_id, res.region, [], replace=True)


def coverage_of(res: RegionResources) -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "AWS_EC2_INSTANCE",
            "resourceId": instance.instance_id,
            "accountId": res.account_id,
            "scanType": "PACKAGE",
            "scanStatus": {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"},
            "resourceMetadata": {"ec2": {"platform": "LINUX"}},
            "lastScannedAt": "2024-05-01T12:00:00Z",
        }
        for instance in res.instances
    ]


def stream_names() -> list[str]:
    return [stream_type.name for stream_type in STREAM_TYPES]


def test_the_full_sync_succeeds_and_every_stream_has_records(full_sync: TapRun) -> None:
    assert full_sync.returncode == 0, full_sync.stderr
    assert full_sync.lines("WARNING") == []
    for name in stream_names():
        assert full_sync.records[name], f"{name} emitted no record: the invariants would be vacuous"


def test_every_record_carries_the_start_of_its_sync(full_sync: TapRun) -> None:
    stamps = {r["synced_at"] for records in full_sync.records.values() for r in records}
    assert len(stamps) == 1, stamps
    (stamp,) = stamps
    assert UTC.match(stamp)


@pytest.mark.parametrize("name", stream_names())
def test_stream_invariants(full_sync: TapRun, name: str) -> None:
    schema = load_schema(name)
    properties = schema["properties"]
    (stream_type,) = [s for s in STREAM_TYPES if s.name == name]
    keys = list(stream_type.primary_keys or ())
    schemas = [
        m["schema"] for m in full_sync.messages if m["type"] == "SCHEMA" and m["stream"] == name
    ]
    assert schemas
    assert all(s == schema for s in schemas)
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    arn_required = "arn" in keys or "null" not in _types(properties.get("arn", {}))
    for record in full_sync.records[name]:
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"
        for column, value in record.items():
            assert SNAKE.match(column), f"{name}.{column} is not snake_case"
            assert "type" in properties.get(column, {}), f"{name}.{column} is untyped"
            if properties[column].get("format") == "date-time" and value is not None:
                assert UTC.match(value), f"{name}.{column}={value!r} is not UTC with Z"
        assert ACCOUNT.match(record["account_id"]), record["account_id"]
        assert "region" in record
        if name == "sync_coverage":
            assert record["region"] in [*REGIONS, "global"], record["region"]
        elif name != "accounts":
            assert record["region"] in REGIONS, record["region"]
        for key in keys:
            assert record.get(key) is not None, f"{name}: key {key} missing or null"
        if "arn" in properties:
            if arn_required:
                assert record.get("arn"), f"{name}: record without arn"
            if record.get("arn") is not None:
                assert ARN.match(record["arn"]), record["arn"]
        if "tags" in record and record["tags"] is not None:
            assert isinstance(record["tags"], dict)
            assert all(
                isinstance(k, str) and (v is None or isinstance(v, str))
                for k, v in record["tags"].items()
            )


def _types(schema: dict[str, Any]) -> list[str]:
    types = schema.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def test_deselected_properties_are_dropped_nested_ones_included(
    full_sync: TapRun, key_config: dict[str, Any]
) -> None:
    # the tap skips singer-sdk's deselection walk when nothing is deselected (client.py)
    everything = catalog_selecting({"securityhub_findings"})
    fewer = catalog_selecting({"securityhub_findings"})
    (entry,) = [e for e in fewer["streams"] if e["tap_stream_id"] == "securityhub_findings"]
    for item in entry["metadata"]:
        if item["breadcrumb"] == ["properties", "description"]:
            item["metadata"]["selected"] = False
    nested = ["properties", "remediation", "properties", "Recommendation"]
    entry["metadata"].append({"breadcrumb": nested, "metadata": {"selected": False}})
    full = run_tap(key_config, catalog=everything)
    narrowed = run_tap(key_config, catalog=fewer)
    assert full.returncode == narrowed.returncode == 0, narrowed.stderr
    expected = full.records["securityhub_findings"]
    assert len(expected) == 30 * len(REGIONS)
    assert all(r["description"] for r in expected)
    recommended = [r for r in expected if "Recommendation" in (r.get("remediation") or {})]
    assert recommended
    for record in expected + narrowed.records["securityhub_findings"]:
        del record["synced_at"]  # two runs, two starts
    for record in expected:
        del record["description"]
    for record in recommended:
        del record["remediation"]["Recommendation"]
    assert narrowed.records["securityhub_findings"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.123000Z"),
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000000Z"),
        ("2024-05-01T12:00:00.1Z", "2024-05-01T12:00:00.100000Z"),
        ("2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z"),
        ("2024-05-01T14:00:00.5+02:00", "2024-05-01T12:00:00.500000Z"),
        ("2024-05-01T12:00:00", "2024-05-01T12:00:00.000000Z"),
        ("2024-12-31T23:59:59.999Z", "2024-12-31T23:59:59.999000Z"),
        (None, None),
    ],
)
def test_aws_date_strings_are_normalized_to_microseconds_utc(
    text: str | None, expected: str | None
) -> None:
    assert normalize_timestamp(text) == expected


def test_an_invalid_date_string_is_refused_not_passed_through() -> None:
    with pytest.raises(ValueError, match=r"month must be in 1\.\.12"):
        normalize_timestamp("2024-13-01T12:00:00Z")
