"""Dates that never fail a partition, records that always fit their schema, and the partition of
base credentials (in process)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import botocore.session
import botocore.utils
import pytest

from tap_aws_uvm.auth import base_partition, home_region
from tap_aws_uvm.conform import Conformer
from tap_aws_uvm.records import aws_timestamp, json_native, normalize_timestamp
from tap_aws_uvm.schemagen import load_schema
from tap_aws_uvm.validation import validate_settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999Z"),  # a leap second
        ("2016-12-31T23:59:60.250+00:00", "2016-12-31T23:59:59.999999Z"),
        ("2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00.123456Z"),  # 9 digits
        ("2019-06-21T19:13:22.979+0000", "2019-06-21T19:13:22.979000Z"),  # no colon
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00.000000Z"),
        ("2024-05-01T07:30:00-04:30", "2024-05-01T12:00:00.000000Z"),
        ("2024-05-01T12:00:00", "2024-05-01T12:00:00.000000Z"),  # no zone: UTC
        ("2024-05-01 12:00:00,5Z", "2024-05-01T12:00:00.500000Z"),
        ("2024-05-01", "2024-05-01T00:00:00.000000Z"),
        ("2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.123000Z"),
    ],
)
def test_every_iso_form_becomes_utc_with_z(text: str, expected: str) -> None:
    assert normalize_timestamp(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", "", "1714564800"])
def test_what_is_not_a_date_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - callers turn it into null, counted
        normalize_timestamp(text)


def securityhub_record(**severity: Any) -> dict[str, Any]:
    return {
        "id": "f-1",
        "product_arn": "arn:aws:securityhub:us-east-1::product/x/y",
        "account_id": "123456789012",
        "region": "us-east-1",
        "severity": {"Label": "HIGH", "Normalized": 70, **severity},
        "resources": [{"Id": 12345, "Type": "Other", "Tags": {"a": "b"}}],
        "product_fields": {"free": 1},
        "types": ["x", 7],
    }


def test_off_model_scalars_become_the_declared_type() -> None:
    conformer = Conformer(load_schema("securityhub_findings"))
    record = securityhub_record(Original=8.8)
    record["confidence"] = "75"  # integer in the model
    fitted = conformer.fit(record)
    assert fitted["severity"]["Original"] == "8.8"  # a number where the model says string
    assert fitted["severity"]["Normalized"] == 70
    assert fitted["resources"][0]["Id"] == "12345"
    assert fitted["types"] == ["x", "7"]
    assert fitted["confidence"] == 75
    assert fitted["product_fields"] == {"free": 1}  # a map: left as AWS sent it
    assert fitted["resources"][0]["Tags"] == {"a": "b"}


def test_a_value_that_cannot_fit_becomes_null() -> None:
    conformer = Conformer(load_schema("securityhub_findings"))
    record = securityhub_record(Normalized="very high")
    record["confidence"] = "sure"
    fitted = conformer.fit(record)
    assert fitted["severity"]["Normalized"] is None
    assert fitted["confidence"] is None


def test_a_record_that_fits_is_left_alone() -> None:
    conformer = Conformer(load_schema("securityhub_findings"))
    record = securityhub_record(Original="HIGH")
    record["resources"][0]["Id"] = "i-1"
    record["types"] = ["x"]
    before = copy.deepcopy(record)
    assert conformer.fit(record) is record
    assert record == before


@pytest.mark.parametrize(
    ("regions", "session_region", "partition", "sts"),
    [
        (["us-gov-west-1"], None, "aws-us-gov", "https://sts.us-gov-west-1.amazonaws.com"),
        (["cn-northwest-1"], None, "aws-cn", "https://sts.cn-north-1.amazonaws.com.cn"),
        (["eu-west-1"], None, "aws", "https://sts.us-east-1.amazonaws.com"),
        (["*"], "us-gov-east-1", "aws-us-gov", "https://sts.us-gov-west-1.amazonaws.com"),
        (["*"], "cn-north-1", "aws-cn", "https://sts.cn-north-1.amazonaws.com.cn"),
        (["*"], None, "aws", "https://sts.us-east-1.amazonaws.com"),
    ],
)
def test_base_credentials_are_identified_in_their_own_partition(
    regions: list[str], session_region: str | None, partition: str, sts: str
) -> None:
    settings = validate_settings({"regions": regions})
    found = base_partition(settings, session_region)
    assert found == partition
    client = botocore.session.get_session().create_client(
        "sts",
        region_name=home_region(found),
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    assert client.meta.endpoint_url == sts


# ---- botocore's timestamps, parsed straight to the canonical string --------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.123Z",
        "2024-05-01T12:00:00.123456Z",
        "2024-05-01T12:00:00.123456789Z",
        "2024-05-01T14:00:00+02:00",
        "2024-05-01T12:00:00.5-0330",
        "2024-05-01T12:00:00",
        "2024-05-01",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "1717000000",
        "1717000000.25",
        1717000000,
        1717000000.123456,
        0,
        -86400.5,
    ],
)
def test_aws_timestamp_is_what_botocore_then_json_native_give(value: object) -> None:
    assert aws_timestamp(value) == json_native(botocore.utils.parse_timestamp(value))


@pytest.mark.parametrize("value", ["yesterday", "", "2024-13-01T00:00:00Z"])
def test_aws_timestamp_refuses_what_botocore_refuses(value: str) -> None:
    with pytest.raises(ValueError, match="Invalid timestamp"):
        botocore.utils.parse_timestamp(value)
    with pytest.raises(ValueError, match="Invalid timestamp"):
        aws_timestamp(value)


def test_json_native_converts_inside_every_container() -> None:
    when = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    value = {"a": [when, (b"\x00\x01", Decimal("2"), Decimal("2.5"))], "b": {"c": None, "d": True}}
    assert json_native(value) == {
        "a": ["2024-05-01T12:00:00.000000Z", ["AAE=", 2, 2.5]],
        "b": {"c": None, "d": True},
    }
