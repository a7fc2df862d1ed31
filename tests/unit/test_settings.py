"""Every rule of the settings table, in process: one line naming the setting, never a secret."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tap_aws_uvm.settings import CONFIG_SCHEMA, SETTINGS, Settings, SettingsError
from tap_aws_uvm.tap import TapAwsUvm
from tap_aws_uvm.validation import unknown_settings, validate_settings

SECRET = "sentinel-secret-value-0123456789"
ROLE = "arn:aws:iam::111111111111:role/TapReadRole"
BASE: dict[str, Any] = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": SECRET,
    "regions": ["us-east-1"],
}

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
    ("max_attempts", {"max_attempts": 21}),
    ("connect_timeout_seconds", {"connect_timeout_seconds": 0}),
    ("read_timeout_seconds", {"read_timeout_seconds": "30"}),
    ("call_timeout_seconds", {"call_timeout_seconds": 0}),
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


def problem(overrides: dict[str, Any]) -> str:
    config = {k: v for k, v in {**BASE, **overrides}.items() if v is not None}
    with pytest.raises(SettingsError) as caught:
        validate_settings(config)
    return str(caught.value)


@pytest.mark.parametrize(
    ("setting", "overrides"), INVALID, ids=[f"{s}-{i}" for i, (s, _) in enumerate(INVALID)]
)
def test_invalid_setting_is_one_line_naming_it(setting: str, overrides: dict[str, Any]) -> None:
    message = problem(overrides)
    assert message.startswith(f"Invalid setting '{setting}': ")
    assert "\n" not in message
    assert SECRET not in message


def test_exact_messages() -> None:
    assert problem({"regions": ["us-east-9"]}) == (
        "Invalid setting 'regions': unknown AWS region, got 'us-east-9'"
    )
    assert problem({"aws_secret_access_key": 12345}) == (
        "Invalid setting 'aws_secret_access_key': must be a string (value not shown)"
    )
    assert problem({"max_concurrency": 0}) == (
        "Invalid setting 'max_concurrency': must be between 1 and 1024, got 0"
    )
    assert problem({"role_arn": ROLE, "role_arns": [ROLE]}) == (
        "Invalid setting 'role_arns': cannot be combined with role_arn, "
        "got ['arn:aws:iam::111111111111:role/TapReadRole']"
    )


def test_a_secret_of_the_wrong_type_is_never_echoed() -> None:
    message = problem({"aws_secret_access_key": ["sentinel-in-a-list"]})
    assert message == "Invalid setting 'aws_secret_access_key': must be a string (value not shown)"


@pytest.mark.parametrize("name", ["TapReadRole", "audit/TapReadRole", "/audit/team/TapReadRole/"])
def test_member_role_name_may_carry_a_path(name: str) -> None:
    settings = validate_settings(
        {"regions": ["us-east-1"], "role_arn": ROLE, "org_accounts": True, "member_role_name": name}
    )
    assert settings.member_role_name == name.strip("/")


def test_member_role_name_must_be_a_role_name() -> None:
    with pytest.raises(SettingsError, match="Invalid setting 'member_role_name'"):
        validate_settings({"regions": ["us-east-1"], "member_role_name": "bad name!"})


def test_defaults_apply() -> None:
    settings = validate_settings({"regions": ["us-east-1"]})
    assert settings.role_session_name == "tap-aws-uvm"
    assert settings.role_duration_seconds == 3600
    assert settings.max_concurrency == 64
    assert settings.max_attempts == 10
    assert settings.findings_lookback_minutes == 60
    assert settings.accounts_include_tags is True
    assert settings.org_accounts is False
    assert settings.account_ids is None
    assert settings.exclude_account_ids == frozenset()
    assert settings.role_arns == ()
    assert len(settings.network_data_types) == 7


# ---- the one table --------------------------------------------------------------------------


def test_settings_dataclass_has_one_field_per_row_of_the_table() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [s.name for s in SETTINGS]


def test_schema_is_built_from_the_table() -> None:
    properties = CONFIG_SCHEMA["properties"]
    assert list(properties) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        schema = properties[setting.name]
        assert schema["description"] == setting.description
        assert schema.get("secret", False) is setting.secret
        if setting.default is not None:
            default = setting.default
            assert schema["default"] == (list(default) if isinstance(default, tuple) else default)
    assert CONFIG_SCHEMA["required"] == ["regions"]


def test_every_default_passes_its_own_validation() -> None:
    config: dict[str, Any] = {"regions": ["us-east-1"]}
    for setting in SETTINGS:
        if setting.default is not None:
            value = setting.default
            config[setting.name] = list(value) if isinstance(value, tuple) else value
    validate_settings(config)


def test_sdk_built_in_settings_are_known_to_the_tap() -> None:
    known = TapAwsUvm.known_settings()
    assert {"stream_maps", "stream_map_config", "flattening_enabled", "batch_config"} <= known
    assert set(CONFIG_SCHEMA["properties"]) <= known
    assert unknown_settings({"stream_maps": {}, "regions": ["us-east-1"]}, known) is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "org_account",
            "Unknown setting 'org_account' (did you mean 'org_accounts'?): "
            "not a setting of tap-aws-uvm",
        ),
        (
            "exclude_account_id",
            "Unknown setting 'exclude_account_id' (did you mean 'exclude_account_ids'?): "
            "not a setting of tap-aws-uvm",
        ),
        ("zzz", "Unknown setting 'zzz': not a setting of tap-aws-uvm"),
    ],
)
def test_an_unknown_setting_is_named_with_the_closest_one(key: str, message: str) -> None:
    error = unknown_settings({"regions": ["us-east-1"], key: True}, TapAwsUvm.known_settings())
    assert str(error) == message
