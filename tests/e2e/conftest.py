"""One emulator and one seeded organization per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_emulator import Emulator
from aws_emulator.seed import Organization, seed_organization

from tests.e2e.tap_runner import FAKE_KEYS

REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator.start() as started:
        yield started


@pytest.fixture(scope="session")
def org(emulator: Emulator) -> Organization:
    return seed_organization(emulator.endpoint_url, regions=REGIONS)


@pytest.fixture
def emu(emulator: Emulator, org: Organization) -> Iterator[Emulator]:
    """The seeded emulator with no faults and zeroed counts; faults cleared afterwards."""
    emulator.configure()
    emulator.reset_counts()
    yield emulator
    emulator.configure()


@pytest.fixture
def key_config(emu: Emulator) -> dict[str, object]:
    """Access-key mode on the management account."""
    return {**FAKE_KEYS, "regions": REGIONS, "endpoint_url": emu.endpoint_url}


@pytest.fixture
def roles_config(emu: Emulator, org: Organization) -> dict[str, object]:
    """Role-list mode over every ACTIVE account."""
    return {
        **FAKE_KEYS,
        "regions": REGIONS,
        "endpoint_url": emu.endpoint_url,
        "role_arns": [org.role_arn(a.id) for a in org.active_accounts],
    }


@pytest.fixture
def org_config(emu: Emulator, org: Organization) -> dict[str, object]:
    """Organization mode through the management account's role."""
    return {
        **FAKE_KEYS,
        "regions": REGIONS,
        "endpoint_url": emu.endpoint_url,
        "role_arn": org.management_role_arn,
        "org_accounts": True,
    }


def total_requests(counts: dict[str, object]) -> int:
    return sum(int(row["count"]) for row in counts["requests"])  # type: ignore[index, union-attr, attr-defined]


def requests_for(counts: dict, service: str, operation: str, account: str | None = None) -> int:
    return sum(
        row["count"]
        for row in counts["requests"]
        if row["service"] == service
        and row["operation"] == operation
        and (account is None or row["account"] == account)
    )
