"""The (account, region) partitions a sync reads: region resolution and filters.

Every account's enabled regions come from its own DescribeRegions, asked once per account
whatever ``regions`` says: with ``["*"]`` they are the regions read; with a list they tell a
region that is not enabled for the account (its partitions end ``disabled`` without a call)
from one that is (where an auth error is a failure, not a disabled region).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tap_aws_uvm.auth import Account, ClientFactory, bound, home_region
from tap_aws_uvm.settings import Settings, known_regions

ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})


@dataclass
class Scope:
    """Accounts entered and the regions read in each, in a stable order."""

    accounts: list[Account]
    regions: dict[str, list[str]]  # account id -> regions of its partitions
    region_errors: dict[str, BaseException]  # account id -> why its regions are unknown
    enabled: dict[str, frozenset[str]] = field(default_factory=dict)  # as DescribeRegions says

    def account(self, account_id: str) -> Account:
        return self._by_id[account_id]

    def __post_init__(self) -> None:
        self._by_id = {account.account_id: account for account in self.accounts}

    def region_enabled(self, account_id: str, region: str) -> bool | None:
        """Whether the account has the region enabled; None when DescribeRegions failed."""
        enabled = self.enabled.get(account_id)
        return None if enabled is None else region in enabled

    def regional_partitions(self) -> list[dict[str, Any]]:
        return [
            {"account_id": account.account_id, "region": region}
            for account in self.accounts
            for region in self.regions.get(account.account_id, [])
        ]

    def account_partitions(self) -> list[dict[str, Any]]:
        return [
            {"account_id": account.account_id}
            for account in self.accounts
            if self.regions.get(account.account_id)
        ]


def regions_enabled_for(factory: ClientFactory, account: Account) -> frozenset[str]:
    """Every region enabled in an account: DescribeRegions, not-opted-in regions left out."""
    ec2 = factory.shared_client("ec2", home_region(account.partition))
    with bound(account.credentials):
        answer = ec2.describe_regions(AllRegions=True)
    return frozenset(
        region["RegionName"]
        for region in answer.get("Regions", [])
        if region.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN
    )


def resolve_scope(
    settings: Settings,
    factory: ClientFactory,
    accounts: list[Account],
    run_all: Callable[[list[Callable[[], Any]]], list[Any]],
    needs_regions: bool = True,
) -> Scope:
    """Regions per account: the configured ones of the account's partition, or all enabled.

    ``needs_regions`` False (only the organization-wide ``accounts`` is selected): no
    DescribeRegions at all.
    """
    if not needs_regions:
        return Scope(
            accounts=accounts, regions={a.account_id: [] for a in accounts}, region_errors={}
        )

    def describe(account: Account) -> frozenset[str] | BaseException:
        try:
            return regions_enabled_for(factory, account)
        except Exception as exc:  # noqa: BLE001 - reported per account by the caller
            return exc

    regions: dict[str, list[str]] = {}
    errors: dict[str, BaseException] = {}
    enabled: dict[str, frozenset[str]] = {}
    partition_of = known_regions()
    answers = run_all([partial(describe, a) for a in accounts])
    for account, answer in zip(accounts, answers, strict=True):
        if isinstance(answer, BaseException):
            errors[account.account_id] = answer
        else:
            enabled[account.account_id] = answer
        if settings.all_regions:
            found = sorted(answer) if not isinstance(answer, BaseException) else []
        else:
            found = [r for r in settings.regions if partition_of.get(r) == account.partition]
        regions[account.account_id] = [r for r in found if r not in settings.exclude_regions]
    return Scope(accounts=accounts, regions=regions, region_errors=errors, enabled=enabled)
