"""Every invalid configuration of the contract: one line naming the setting, no AWS call."""

from __future__ import annotations

import pytest
from aws_emulator import Emulator

from tap_aws_uvm.settings import SettingsError, validate_settings
from tests.conftest import total_requests
from tests.tap_runner import run_tap

SECRET = "sentinel-secret-value-0123456789"
ROLE = "arn:aws:iam::111111111111:role/TapReadRole"

INVALID = [
    # (setting named in the error, config overrides)
    ("regions", {"regions": ["us-east-9"]}),
    ("regions", {"regions": []}),
    ("regions", {"regions": "us-east-1"}),
    ("regions", {"regions": ["*", "us-east-1"]}),
    ("regions", {"regions": None}),
    ("exclude_regions", {"exclude_regions": ["mars-north-1"]}),
    ("role_arn", {"role_arn": "arn:aws:iam::12345:role/x"}),
    ("role_arn", {"role_arn": "arn:aws:s3:::bucket"}),
    ("role_arns", {"role_arns": ["arn:aws:iam::111111111111:user/alice"]}),
    ("role_arns", {"role_arns": []}),
    ("role_arns", {"role_arn": ROLE, "role_arns": [ROLE]}),
    ("aws_secret_access_key", {"aws_secret_access_key": None}),
    ("aws_access_key_id", {"aws_access_key_id": None}),
    ("aws_secret_access_key", {"aws_secret_access_key": 12345}),
    ("start_date", {"start_date": "yesterday"}),
    ("start_date", {"start_date": "2024-13-45T00:00:00Z"}),
    ("endpoint_url", {"endpoint_url": "not a url"}),
    ("endpoint_url", {"endpoint_url": "ftp://127.0.0.1"}),
    ("max_concurrency", {"max_concurrency": 0}),
    ("max_attempts", {"max_attempts": -1}),
    ("role_duration_seconds", {"role_duration_seconds": 60}),
    ("role_duration_seconds", {"role_duration_seconds": 50000}),
    ("findings_lookback_minutes", {"findings_lookback_minutes": -5}),
    ("retry_mode", {"retry_mode": "legacy"}),
    ("external_id", {"role_arn": ROLE, "external_id": "x"}),
    ("network_data_types", {"network_data_types": ["vpc_subnets", "firewalls"]}),
    ("network_data_types", {"network_data_types": []}),
    ("account_ids", {"account_ids": ["12345"]}),
    ("account_ids", {"account_ids": []}),
    ("exclude_account_ids", {"exclude_account_ids": ["abc"]}),
    ("org_accounts", {"org_accounts": True}),
    ("org_accounts", {"role_arn": ROLE, "org_accounts": "yes"}),
    ("fail_on_access_denied", {"fail_on_access_denied": "no"}),
    ("role_session_name", {"role_session_name": "has spaces"}),
]


@pytest.mark.parametrize(
    ("setting", "overrides"), INVALID, ids=[f"{s}-{i}" for i, (s, _) in enumerate(INVALID)]
)
def test_invalid_setting_stops_before_any_aws_call(
    emu: Emulator, setting: str, overrides: dict[str, object]
) -> None:
    config: dict[str, object] = {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": SECRET,
        "regions": ["us-east-1"],
        "endpoint_url": emu.endpoint_url,
    }
    config.update(overrides)
    config = {k: v for k, v in config.items() if v is not None}

    run = run_tap(config)

    assert run.returncode != 0
    errors = run.lines(f"Invalid setting '{setting}'")
    assert len(errors) == 1, run.stderr
    assert "Traceback" not in run.output
    assert SECRET not in run.output
    assert run.stdout == ""
    assert total_requests(emu.counts()) == 0


def test_secret_of_wrong_type_is_never_echoed(emu: Emulator) -> None:
    run = run_tap(
        {
            "aws_access_key_id": "testing",
            "aws_secret_access_key": ["sentinel-in-a-list"],
            "regions": ["us-east-1"],
        }
    )
    assert run.returncode != 0
    assert run.lines("Invalid setting 'aws_secret_access_key': must be a string (value not shown)")
    assert "sentinel-in-a-list" not in run.output


@pytest.mark.parametrize("name", ["TapReadRole", "audit/TapReadRole", "/audit/team/TapReadRole/"])
def test_member_role_name_may_carry_a_path(name: str) -> None:
    settings = validate_settings(
        {"regions": ["us-east-1"], "role_arn": ROLE, "org_accounts": True, "member_role_name": name}
    )
    assert settings.member_role_name == name.strip("/")


def test_member_role_name_must_be_a_role_name() -> None:
    with pytest.raises(SettingsError, match="Invalid setting 'member_role_name'"):
        validate_settings({"regions": ["us-east-1"], "member_role_name": "bad name!"})
