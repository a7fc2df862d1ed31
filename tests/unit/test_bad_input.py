"""Bad state, config and settings never crash or silently shrink the run: each is one line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tap_aws_uvm.errors import safe_text
from tap_aws_uvm.settings import SettingsError
from tap_aws_uvm.state import state_problem
from tap_aws_uvm.tap import InputFileError, _checked_file, _json_object
from tap_aws_uvm.validation import is_loopback, validate_settings

INCREMENTAL = {"securityhub_findings": "updated_at", "inspector_findings": "updated_at"}
GOOD_PARTITION = {
    "context": {"account_id": "123456789012", "region": "us-east-1"},
    "replication_key": "updated_at",
    "replication_key_value": "2024-05-01T12:00:00.000000Z",
}


# ---- state ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ({"bookmarks": []}, "'bookmarks' must be an object, not list"),
        (
            {"bookmarks": {"securityhub_findings": 3}},
            "'bookmarks.securityhub_findings' must be an object, not int",
        ),
        (
            {"bookmarks": {"securityhub_findings": {"partitions": {"a": 1}}}},
            "'bookmarks.securityhub_findings.partitions' must be a list, not dict",
        ),
        (
            {"bookmarks": {"securityhub_findings": {"partitions": ["x"]}}},
            "'bookmarks.securityhub_findings.partitions[0]' must be an object, not str",
        ),
        (
            {"bookmarks": {"inspector_findings": {"partitions": [{"replication_key_value": "x"}]}}},
            "'bookmarks.inspector_findings.partitions[0]' has no 'context' object",
        ),
        (
            {
                "bookmarks": {
                    "inspector_findings": {
                        "partitions": [
                            GOOD_PARTITION,
                            {**GOOD_PARTITION, "replication_key_value": "last tuesday"},
                        ]
                    }
                }
            },
            "'bookmarks.inspector_findings.partitions[1].replication_key_value' is not a "
            "date-time: 'last tuesday'",
        ),
        (
            {
                "bookmarks": {
                    "inspector_findings": {
                        "partitions": [
                            {**GOOD_PARTITION, "context": {"account_id": "12", "region": "x"}}
                        ]
                    }
                }
            },
            "'bookmarks.inspector_findings.partitions[0].context.account_id' must be a 12-digit "
            "account id",
        ),
        (
            {"bookmarks": {"inspector_findings": {"replication_key_value": 17}}},
            "'bookmarks.inspector_findings.replication_key_value' must be a date-time string",
        ),
    ],
)
def test_a_malformed_state_is_named(state: dict[str, Any], problem: str) -> None:
    assert state_problem(state, INCREMENTAL) == problem


def test_a_good_state_and_other_streams_pass() -> None:
    state = {
        "bookmarks": {
            "securityhub_findings": {"partitions": [GOOD_PARTITION]},
            "some_other_stream": {"anything": ["goes"]},
        }
    }
    assert state_problem(state, INCREMENTAL) is None
    assert state_problem({}, INCREMENTAL) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Invalid state file state.json: it is empty"),
        ("   \n", "Invalid state file state.json: it is empty"),
        (
            "{not json",
            "Invalid state file state.json: not JSON (Expecting property name enclosed "
            "in double quotes at line 1 column 2)",
        ),
        ("[1, 2]", "Invalid state file state.json: must hold a JSON object, not list"),
        (
            '{"bookmarks": []}',
            "Invalid state file state.json: 'bookmarks' must be an object, not list",
        ),
    ],
)
def test_state_files_are_checked_before_the_sdk_reads_them(text: str, message: str) -> None:
    from tap_aws_uvm.tap import _state_problem  # noqa: PLC0415

    handle = io.StringIO(text)
    handle.name = "state.json"  # type: ignore[misc]
    with pytest.raises(InputFileError) as caught:
        _checked_file(handle, "state", _state_problem)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regions:\n  - us-east-1\n", "not JSON (Expecting value at line 1 column 1)"),
        ("", "it is empty"),
        ('"just a string"', "must hold a JSON object, not str"),
    ],
)
def test_config_files_that_are_not_json_objects(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(InputFileError) as caught:
        _json_object(str(path), "config")
    assert str(caught.value) == f"Invalid config file {path}: {message}"


# ---- whole values, ASCII only -----------------------------------------------------------------

ROLE = "arn:aws:iam::111111111111:role/TapReadRole"
ARABIC_INDIC_12 = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


@pytest.mark.parametrize(
    ("setting", "overrides"),
    [
        ("account_ids", {"account_ids": ["123456789012\n"]}),
        (
            "account_ids",
            {
                "account_ids": [
                    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"
                ]
            },
        ),
        ("exclude_account_ids", {"exclude_account_ids": ["123456789012\n"]}),
        ("role_arn", {"role_arn": ROLE + "\n"}),
        ("role_arns", {"role_arns": [ROLE + "\n"]}),
        (
            "role_arn",
            {"role_arn": "arn:aws:iam::" + ARABIC_INDIC_12 + ":role/x"},
        ),
        ("external_id", {"role_arn": ROLE, "external_id": "caf\u00e9-external-id"}),
        ("external_id", {"role_arn": ROLE, "external_id": "good-external-id\n"}),
        ("role_session_name", {"role_session_name": "tap\u00e9"}),
        ("role_session_name", {"role_session_name": "tap-aws-uvm\n"}),
        ("regions", {"regions": ["us-east-1\n"]}),
        (
            "member_role_name",
            {"role_arn": ROLE, "org_accounts": True, "member_role_name": "Role\n"},
        ),
    ],
)
def test_values_are_matched_whole_and_ascii(setting: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(SettingsError) as caught:
        validate_settings({"regions": ["us-east-1"], **overrides})
    assert str(caught.value).startswith(f"Invalid setting '{setting}': ")


# ---- endpoints --------------------------------------------------------------------------------


def test_credentials_in_the_endpoint_are_refused_and_never_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        validate_settings(
            {"regions": ["us-east-1"], "endpoint_url": "https://user:hunter2@proxy.example:8443"}
        )
    assert str(caught.value) == (
        "Invalid setting 'endpoint_url': must not carry credentials (user:password@) "
        "(value not shown)"
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:4566", True),
        ("http://127.9.9.9:4566", True),
        ("http://localhost:4566", True),
        ("http://[::1]:4566", True),
        ("https://localstack.internal:4566", True),
        ("http://localstack.internal:4566", False),
        ("http://10.0.0.5:4566", False),
    ],
)
def test_plain_http_only_to_loopback_unless_allowed(url: str, allowed: bool) -> None:
    config = {"regions": ["us-east-1"], "endpoint_url": url}
    if allowed:
        assert validate_settings(config).endpoint_url == url
    else:
        with pytest.raises(SettingsError, match="plain http to a host that is not loopback"):
            validate_settings(config)
        assert validate_settings({**config, "allow_insecure_endpoint": True}).endpoint_url == url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("LOCALHOST", True),
        ("192.168.1.1", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("line one\r\nline two", "line one line two"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("bell\x07", "bell\\x07"),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_text_from_an_endpoint_is_escaped_to_one_short_line(text: str, logged: str) -> None:
    assert safe_text(text) == logged
