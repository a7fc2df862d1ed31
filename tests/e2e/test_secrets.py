"""No secret reaches any output at any log level: a full organization sync at DEBUG, its stdout,
stderr and state searched for every secret, the assumed-role keys the emulator issued included."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from aws_emulator import Emulator
from aws_emulator.seed import Organization

from tests.e2e.conftest import REGIONS
from tests.e2e.tap_runner import run_tap

BASE_SECRET = "sentinel-base-secret-0123456789abcdef"
BASE_TOKEN = "sentinel-base-session-token-0123456789"
EXTERNAL_ID = "sentinel-external-id-0123456789"

LOG_CONFIG = """
version: 1
disable_existing_loggers: false
formatters:
  plain: {format: "%(levelname)s %(name)s %(message)s"}
handlers:
  err: {class: logging.StreamHandler, stream: ext://sys.stderr, formatter: plain, level: DEBUG}
root: {level: DEBUG, handlers: [err]}
loggers:
  botocore.endpoint: {level: DEBUG}
  botocore.parsers: {level: DEBUG}
  urllib3: {level: DEBUG}
"""


@pytest.mark.parametrize("how", ["LOGLEVEL", "TAP_AWS_UVM_LOGLEVEL", "SINGER_SDK_LOG_CONFIG"])
def test_no_secret_at_the_most_verbose_level(emu: Emulator, org: Organization, how: str) -> None:
    emu.configure(external_ids={"*": EXTERNAL_ID})
    before = len(emu.issued_credentials())  # those issued to earlier tests' runs
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LOGLEVEL": "DEBUG"} if how == "LOGLEVEL" else {"TAP_AWS_UVM_LOGLEVEL": "DEBUG"}
        if how == "SINGER_SDK_LOG_CONFIG":
            path = Path(tmp) / "logging.yaml"
            path.write_text(LOG_CONFIG)
            env = {"SINGER_SDK_LOG_CONFIG": str(path)}
        run = run_tap(
            {
                "aws_access_key_id": "testing",
                "aws_secret_access_key": BASE_SECRET,
                "aws_session_token": BASE_TOKEN,
                "role_arn": org.management_role_arn,
                "org_accounts": True,
                "external_id": EXTERNAL_ID,
                "regions": REGIONS,
                "endpoint_url": emu.endpoint_url,
            },
            env=env,
        )
    issued = emu.issued_credentials()[before:]
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.stderr.splitlines()) > 200  # DEBUG it was
    assert len(issued) >= len(org.active_accounts)
    secrets = {"base secret": BASE_SECRET, "base token": BASE_TOKEN, "external id": EXTERNAL_ID}
    for n, credentials in enumerate(issued):
        secrets[f"issued secret {n}"] = credentials["SecretAccessKey"]
        secrets[f"issued token {n}"] = credentials["SessionToken"]
    everything = run.output + json.dumps(run.states)
    leaked = {
        name: everything.count(value) for name, value in secrets.items() if value in everything
    }
    assert leaked == {}
