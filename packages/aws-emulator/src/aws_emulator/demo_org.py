"""The demo organization: what ``tap-aws-uvm-demo`` and ``aws-emulator seed`` put into an emulator.

A management account, two ACTIVE members and one SUSPENDED member, in two regions, with
inventory and findings. :func:`seed_demo` seeds it and returns the records each of the tap's
streams must load from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aws_emulator.findings import generate_findings
from aws_emulator.seed import seed_organization

DEMO_REGIONS = ("us-east-1", "eu-west-1")
DEMO_MEMBERS = 2
DEMO_SUSPENDED = 1
# findings generated per (service, account, region) of the demo organization
DEMO_FINDINGS = {"securityhub": 40, "inspector2": 30}
FINDING_STREAMS = {"securityhub": "securityhub_findings", "inspector2": "inspector_findings"}


def seed_demo(endpoint_url: str) -> dict[str, int]:
    """Seed the demo organization and its findings; the records each stream should load."""
    org = seed_organization(
        endpoint_url, regions=DEMO_REGIONS, members=DEMO_MEMBERS, suspended=DEMO_SUSPENDED
    )
    partitions = list(org.partitions())
    expected = {
        "accounts": len(org.accounts),
        "ec2_instances": sum(len(p.instances) for p in partitions),
        "s3_buckets": sum(1 for b in org.buckets() if b.region in DEMO_REGIONS),
        "ecr_images": sum(len(p.ecr_images) for p in partitions),
        "ecr_findings": sum(len(i.findings) for p in partitions for i in p.ecr_images),
        "eks_clusters": sum(len(p.eks_clusters) for p in partitions),
        "rds_instances": sum(len(p.rds_instances) for p in partitions),
        "network": sum(len(ids) for p in partitions for ids in p.network.values()),
    }
    expected.update(seed_findings(endpoint_url, [(p.account_id, p.region) for p in partitions]))
    return expected


def seed_findings(endpoint_url: str, partitions: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Security Hub and Inspector findings in every partition."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now - dt.timedelta(days=30), now - dt.timedelta(hours=2)
    totals = dict.fromkeys(FINDING_STREAMS.values(), 0)
    for service, count in DEMO_FINDINGS.items():
        for n, (account_id, region) in enumerate(partitions):
            generate_findings(
                endpoint_url, service, account_id, region, count, start=start, end=end, seed=n
            )
            totals[FINDING_STREAMS[service]] += count
    return totals
