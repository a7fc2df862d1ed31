"""The demo organization's linked findings and coverage in the session's organization, for
the modules that test the finding and coverage streams against them."""

from __future__ import annotations

from aws_emulator.findings import fail_after_pages, load_coverage, load_findings, set_enabled
from aws_emulator.seed import Organization

FINDING_KINDS = ("securityhub", "inspector2", "securityhub_ocsf")


def clear_findings(endpoint_url: str, org: Organization, regions: list[str]) -> None:
    """No finding or coverage entry left in the ACTIVE accounts' ``regions``; every service
    enabled and every failure rule gone (what the session's organization starts with)."""
    for account in org.active_accounts:
        for region in regions:
            for kind in FINDING_KINDS:
                load_findings(endpoint_url, kind, account.id, region, [], replace=True)
                set_enabled(endpoint_url, kind, account.id, region, True)
                fail_after_pages(endpoint_url, kind, account.id, region, None)
            load_coverage(endpoint_url, account.id, region, [], replace=True)
