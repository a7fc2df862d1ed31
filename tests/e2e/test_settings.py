"""Invalid settings through the real command: one line naming the setting, no AWS call."""

from __future__ import annotations

import pytest
from aws_emulator import Emulator

from tests.e2e.conftest import total_requests
from tests.e2e.tap_runner import run_tap

SECRET = "sentinel-secret-value-0123456789"

# One invalid setting of each kind, through the real command (every rule: tests/unit).
INVALID = [
    ("regions", {"regions": ["us-east-9"]}),
    ("aws_secret_access_key", {"aws_secret_access_key": 12345}),
    ("endpoint_url", {"endpoint_url": "not a url"}),
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
