"""Bad state and config files through the real command: one line, no AWS call; a bookmark from
the future is not trusted (every rule in tests/unit/test_bad_input.py)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.findings import generate_findings, generated_findings
from aws_emulator.seed import Organization

from tests.e2e.conftest import total_requests
from tests.e2e.tap_runner import FAKE_KEYS, TAP, catalog_selecting, clean_env, run_tap

REGION = "ap-southeast-2"  # the seeded inventory does not use it: these findings are ours
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
START_DATE = NOW - dt.timedelta(days=10)
COUNT = 120
CATALOG = catalog_selecting({"securityhub_findings"})


@pytest.fixture
def findings(emu: Emulator, org: Organization) -> Iterator[dict[str, str]]:
    """COUNT findings, UpdatedAt spread over the last 20 days: key -> UpdatedAt."""
    spec = {
        "start": (NOW - dt.timedelta(days=20)).isoformat(),
        "end": (NOW - dt.timedelta(hours=1)).isoformat(),
        "seed": 7,
    }
    account = org.management_account_id
    generate_findings(emu.endpoint_url, "securityhub", account, REGION, COUNT, **spec)
    found = generated_findings("securityhub", account, REGION, COUNT, **spec)
    yield {f"{f['Id']}|{f['ProductArn']}": f["UpdatedAt"] for f in found}
    generate_findings(emu.endpoint_url, "securityhub", account, REGION, 0, **spec)


def config(emu: Emulator) -> dict[str, Any]:
    return {
        **FAKE_KEYS,
        "regions": [REGION],
        "endpoint_url": emu.endpoint_url,
        "start_date": START_DATE.isoformat(),
    }


def test_a_bookmark_from_the_future_is_not_trusted(
    emu: Emulator, org: Organization, findings: dict[str, str]
) -> None:
    account = org.management_account_id
    future = (NOW + dt.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    state = {
        "bookmarks": {
            "securityhub_findings": {
                "partitions": [
                    {
                        "context": {"account_id": account, "region": REGION},
                        "replication_key": "updated_at",
                        "replication_key_value": future,
                    }
                ]
            }
        }
    }

    run = run_tap(config(emu), state=state, catalog=CATALOG)

    assert run.returncode == 0, run.stderr
    (warning,) = run.lines("WARNING")
    assert (
        f"stream=securityhub_findings account={account} region={REGION}: bookmark {future} is "
        "later than this sync's start"
    ) in warning
    assert warning.endswith("not trusted, the partition is read from start_date")
    since = START_DATE.strftime("%Y-%m-%dT%H:%M:%S")
    expected = {key for key, updated in findings.items() if updated[:19] >= since}
    emitted = {f"{r['id']}|{r['product_arn']}" for r in run.records["securityhub_findings"]}
    assert emitted == expected
    assert 0 < len(expected) < COUNT
    (partition,) = run.final_state["bookmarks"]["securityhub_findings"]["partitions"]
    newest = max(r["updated_at"] for r in run.records["securityhub_findings"])
    assert partition["replication_key_value"] == newest
    assert "progress_markers" not in partition


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not JSON"),
        ("", "it is empty"),
        ("[]", "must hold a JSON object, not list"),
        (
            '{"bookmarks": {"securityhub_findings": {"partitions": [{"replication_key_value": '
            '"2024-01-01T00:00:00Z"}]}}}',
            "'bookmarks.securityhub_findings.partitions[0]' has no 'context' object",
        ),
        (
            '{"bookmarks": {"securityhub_findings": {"partitions": [{"context": {"account_id": '
            '"123456789012", "region": "us-east-1"}, "replication_key_value": "soon"}]}}}',
            "is not a date-time: 'soon'",
        ),
    ],
)
def test_a_malformed_state_is_one_line_before_any_aws_call(
    emu: Emulator, text: str, problem: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps(config(emu)))
        state_path = Path(tmp) / "state.json"
        state_path.write_text(text)
        done = subprocess.run(
            [TAP, "--config", str(config_path), "--state", str(state_path)],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert f"Invalid state file {state_path}: " in line
    assert problem in line
    assert total_requests(emu.counts()) == 0


@pytest.mark.parametrize("text", ["regions: [us-east-1]\n", ""])
def test_a_config_file_that_is_not_json_is_one_line(emu: Emulator, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(text)
        done = subprocess.run(
            [TAP, "--config", str(path)],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert f"Invalid config file {path}: " in line
    assert total_requests(emu.counts()) == 0


def test_a_misspelt_setting_stops_the_run(emu: Emulator) -> None:
    run = run_tap({**config(emu), "org_account": True})
    assert run.returncode == 1
    assert run.lines("Unknown setting 'org_account' (did you mean 'org_accounts'?)")
    assert "Traceback" not in run.output
    assert total_requests(emu.counts()) == 0


def test_the_first_line_says_what_the_run_reads(emu: Emulator, findings: dict[str, str]) -> None:
    run = run_tap(config(emu), catalog=CATALOG)
    assert run.returncode == 0, run.stderr
    (line,) = run.lines("Sync of ")
    synced_at = run.records["securityhub_findings"][0]["synced_at"]
    assert line.endswith(
        f"Sync of access key at {synced_at}: 1 account(s) entered, 0 not entered, 0 suspended; "
        f"regions: {REGION}; streams: securityhub_findings"
    )
