"""singer-sdk's standard tap tests (``get_tap_test_class``), in process, as one layer among the
others: against the demo organization on an emulator of this module's own, with thousands of
Security Hub findings in one partition (the SDK's test mode stops reading early: every worker
must still be released)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.demo_org import DEMO_REGIONS, seed_demo
from aws_emulator.findings import generate_findings
from aws_emulator.seed import MANAGEMENT_ACCOUNT_ID, TAP_ROLE_NAME
from singer_sdk.testing import get_tap_test_class

from tap_aws_uvm.tap import TapAwsUvm
from tests.e2e.tap_runner import FAKE_KEYS

BIG_PARTITION_FINDINGS = 3000
# the SDK notes optional AWS fields the demo's resources leave out: not a finding about the tap
pytestmark = pytest.mark.filterwarnings(
    "ignore:Fields in transformed catalog but not in records:UserWarning"
)
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)

# Filled in by the module's emulator before the class's runner syncs (the SDK's test runner
# keeps this very dict).
CONFIG: dict[str, Any] = {
    **FAKE_KEYS,
    "role_arn": f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/{TAP_ROLE_NAME}",
    "org_accounts": True,
    "regions": list(DEMO_REGIONS),
    "endpoint_url": "http://127.0.0.1:1",
}


@pytest.fixture(scope="module", autouse=True)
def demo_organization() -> Iterator[Emulator]:
    with Emulator.start() as emulator:
        seed_demo(emulator.endpoint_url)
        generate_findings(
            emulator.endpoint_url,
            "securityhub",
            MANAGEMENT_ACCOUNT_ID,
            DEMO_REGIONS[0],
            BIG_PARTITION_FINDINGS,
            start=(NOW - dt.timedelta(days=10)).isoformat(),
            end=(NOW - dt.timedelta(days=1)).isoformat(),
            replace=False,
        )
        CONFIG["endpoint_url"] = emulator.endpoint_url
        yield emulator


TestTapAwsUvm = get_tap_test_class(TapAwsUvm, config=CONFIG)
