"""The (account, region) partitions a sync reads: region resolution and filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from tap_aws_uvm.auth import Account, ClientFactory, home_region
from tap_aws_uvm.settings import Settings, known_regions

ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})


@dataclass
class Scope:
    """Accounts entered and the regions read in each, in a stable order."""

    accounts: list[Account]
    regions: dict[str, list[str]]  # account id -> regions
    region_errors: dict[str, BaseException]  # account id -> why its regions are unknown

    def account(self, account_id: str) -> Account:
        return self._by_id[account_id]

    def __post_init__(self) -> None:
        self._by_id = {account.account_id: account for account in self.accounts}

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


def regions_enabled_for(factory: ClientFactory, account: Account) -> list[str]:
    """Every region enabled in an account: DescribeRegions, not-opted-in regions left out."""
    ec2 = factory.client(account.session, "ec2", home_region(account.partition))
    answer = ec2.describe_regions(AllRegions=True)
    return sorted(
        region["RegionName"]
        for region in answer.get("Regions", [])
        if region.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN
    )


def resolve_scope(
    settings: Settings,
    factory: ClientFactory,
    accounts: list[Account],
    run_all: Callable[[list[Callable[[], Any]]], list[Any]],
) -> Scope:
    """Regions per account: the configured ones of the account's partition, or all enabled."""
    regions: dict[str, list[str]] = {}
    errors: dict[str, BaseException] = {}
    if settings.all_regions:

        def describe(account: Account) -> list[str] | BaseException:
            try:
                return regions_enabled_for(factory, account)
            except Exception as exc:  # noqa: BLE001 - reported per account by the caller
                return exc

        answers = run_all([partial(describe, a) for a in accounts])
        for account, answer in zip(accounts, answers, strict=True):
            if isinstance(answer, BaseException):
                errors[account.account_id] = answer
                regions[account.account_id] = []
            else:
                regions[account.account_id] = [
                    r for r in answer if r not in settings.exclude_regions
                ]
    else:
        partition_of = known_regions()
        for account in accounts:
            regions[account.account_id] = [
                region
                for region in settings.regions
                if region not in settings.exclude_regions
                and partition_of.get(region) == account.partition
            ]
    return Scope(accounts=accounts, regions=regions, region_errors=errors)
