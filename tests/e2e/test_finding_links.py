"""Findings in one shape, linked to the assets they name (issue 18): the real tap in
organization mode over the demo organization, checked against what its seed says.

One emulator of its own (the session ``org`` fixture seeds a different organization), one sync
of the finding streams and the asset streams they link to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.demo_org import DEMO_REGIONS, DemoExpectations, seed_demo_expectations

from tap_aws_uvm.finding_columns import COLUMNS
from tests.e2e.tap_runner import FAKE_KEYS, TapRun, catalog_selecting, run_tap

KEYS = {
    "securityhub_findings": ("id", "product_arn"),
    "inspector_findings": ("finding_arn",),
    "ecr_findings": ("account_id", "region", "repository_name", "image_digest", "finding_id"),
}
FINDING_STREAMS = tuple(KEYS)
ASSET_STREAMS = ("accounts", "ec2_instances", "ecr_images", "s3_buckets")
# which stream's view of a finding seen in several counts (Inspector's severity is the source's)
SOURCE_RANK = {"inspector_findings": 0, "securityhub_findings": 1, "ecr_findings": 2}


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Emulator, DemoExpectations]]:
    with Emulator.start() as aws:
        yield aws, seed_demo_expectations(aws.endpoint_url)


@pytest.fixture(scope="module")
def expected(demo: tuple[Emulator, DemoExpectations]) -> DemoExpectations:
    return demo[1]


@pytest.fixture(scope="module")
def run(demo: tuple[Emulator, DemoExpectations]) -> TapRun:
    aws, seeded = demo
    config = {
        **FAKE_KEYS,
        "regions": list(DEMO_REGIONS),
        "endpoint_url": aws.endpoint_url,
        "role_arn": seeded.organization.management_role_arn,
        "org_accounts": True,
    }
    done = run_tap(config, catalog=catalog_selecting({*FINDING_STREAMS, *ASSET_STREAMS}))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done


def records_by_key(run: TapRun, stream: str) -> dict[tuple[str, ...], dict[str, Any]]:
    records = run.records[stream]
    keyed = {tuple(str(r[k]) for k in KEYS[stream]): r for r in records}
    assert len(keyed) == len(records), f"{stream}: a key was emitted twice"
    return keyed


def five(values: Mapping[str, Any]) -> dict[str, Any]:
    return {column: values[column] for column in COLUMNS}


def basic_scores(expected: DemoExpectations) -> dict[tuple[str, ...], float | None]:
    """Basic ECR findings' CVSS score from the seed's scan results: the tap's severity_score
    (CVSS3_SCORE, else CVSS2_SCORE), where the demo's expectations leave it null."""
    scores: dict[tuple[str, ...], float | None] = {}
    for part in expected.organization.partitions():
        for image in part.ecr_images:
            for finding in image.findings:
                if finding.kind != "basic":
                    continue
                attributes = {a["key"]: a["value"] for a in finding.data["attributes"]}
                score = attributes.get("CVSS3_SCORE") or attributes.get("CVSS2_SCORE")
                key = (
                    part.account_id,
                    part.region,
                    image.repository_name,
                    image.image_digest,
                    finding.finding_id,
                )
                scores[key] = float(score) if score else None
    return scores


def expected_columns(expected: DemoExpectations, stream: str) -> dict[tuple[str, ...], Any]:
    basic = basic_scores(expected) if stream == "ecr_findings" else {}
    out = {}
    for f in expected.findings:
        if f.stream != stream:
            continue
        key = tuple(f.key[k] for k in KEYS[stream])
        out[key] = {
            "severity_label": f.severity_label,
            "severity_score": basic.get(key, f.severity_score),
            "vulnerability_ids": list(f.vulnerability_ids),
            "resource_ids": list(f.resource_ids),
            "finding_status": f.finding_status,
        }
    return out


@pytest.mark.parametrize("stream", FINDING_STREAMS)
def test_five_columns_of_every_finding(
    run: TapRun, expected: DemoExpectations, stream: str
) -> None:
    records = records_by_key(run, stream)
    assert len(records) == expected.records[stream]
    want = expected_columns(expected, stream)
    assert {key: five(r) for key, r in records.items()} == want
    # the table covers what the columns must tell apart
    values = list(want.values())
    labels = {v["severity_label"] for v in values}
    assert {"CRITICAL", "HIGH", "MEDIUM", "LOW"} <= labels
    assert {v["finding_status"] for v in values} == (
        {"ACTIVE"} if stream == "ecr_findings" else {"ACTIVE", "SUPPRESSED", "CLOSED"}
    )
    assert any(v["severity_score"] is not None for v in values)
    assert any(i.startswith("CVE-") for v in values for i in v["vulnerability_ids"])
    assert any(i.startswith("GHSA-") for v in values for i in v["vulnerability_ids"])
    if stream != "ecr_findings":  # ECR shows an image's ACTIVE findings: no UNTRIAGED one
        assert any(v["severity_score"] is None for v in values)


def test_ecr_findings_list_every_package(run: TapRun, expected: DemoExpectations) -> None:
    records = records_by_key(run, "ecr_findings")
    seen = 0
    for part in expected.organization.partitions():
        for image in part.ecr_images:
            for finding in image.findings:
                key = (
                    part.account_id,
                    part.region,
                    image.repository_name,
                    image.image_digest,
                    finding.finding_id,
                )
                record = records[key]
                if finding.kind == "enhanced":
                    packages = finding.data["packageVulnerabilityDetails"]["vulnerablePackages"]
                else:
                    attrs = {a["key"]: a["value"] for a in finding.data["attributes"]}
                    packages = [
                        {"name": attrs["package_name"], "version": attrs["package_version"]}
                    ]
                assert record["vulnerable_packages"] == packages
                assert record["package_name"] == packages[0]["name"]
                assert record["package_version"] == packages[0]["version"]
                seen += 1
    assert seen == expected.records["ecr_findings"]
    assert any(len(r["vulnerable_packages"]) > 1 for r in records.values())


def asset_arns(run: TapRun) -> dict[str, str]:
    """arn -> the asset stream that wrote it."""
    arns: dict[str, str] = {}
    for stream in ASSET_STREAMS:
        for record in run.records[stream]:
            assert record["arn"], f"{stream} record without arn"
            arns[record["arn"]] = stream
    return arns


def test_links_are_asset_arns(run: TapRun, expected: DemoExpectations) -> None:
    assets = asset_arns(run)
    assert expected.asset_ids - set(assets) <= {
        i for i in expected.asset_ids if ":eks:" in i or ":rds:" in i
    }  # the streams not synced here
    has_asset = {
        (f.stream, tuple(f.key[k] for k in KEYS[f.stream])): f.has_asset
        for f in expected.findings
        if f.stream in KEYS
    }
    linked: dict[str, int] = defaultdict(int)
    unlinked = 0
    for stream in FINDING_STREAMS:
        for key, record in records_by_key(run, stream).items():
            ids = record["resource_ids"]
            assert ids, (stream, key)
            assert all(i in assets for i in ids) == has_asset[(stream, key)], (stream, key, ids)
            for i in ids:
                if i in assets:
                    linked[assets[i]] += 1
                else:
                    unlinked += 1
    # findings link to instances, images, accounts and buckets; a few name resources outside
    # the inventory (a default security group, an IAM access key)
    assert set(linked) == set(ASSET_STREAMS), dict(linked)
    assert unlinked > 0


# ---- the day-one answers -----------------------------------------------------------------


FINDING_ID = {"securityhub_findings": "id", "inspector_findings": "finding_arn"}


def finding_id(stream: str, record: Mapping[str, Any]) -> str:
    """The finding's identity across streams (an Inspector ARN is the same in all three)."""
    return str(record[FINDING_ID.get(stream, "finding_id")])


def own_account(stream: str, record: Mapping[str, Any]) -> str:
    return str(record["account_id"] if stream == "ecr_findings" else record["aws_account_id"])


def distinct(rows: Iterable[tuple[str, str, str, Mapping[str, Any]]]) -> dict[str, Any]:
    """(stream, finding id, own account, five columns) -> one row per finding id, the view of
    the best-ranked stream kept."""
    best: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
    for stream, fid, account, values in rows:
        current = best.get(fid)
        if current is None or SOURCE_RANK[stream] < SOURCE_RANK[current[0]]:
            best[fid] = (stream, account, values)
    return best


def tap_rows(run: TapRun) -> list[tuple[str, str, str, Mapping[str, Any]]]:
    return [
        (stream, finding_id(stream, r), own_account(stream, r), five(r))
        for stream in FINDING_STREAMS
        for r in run.records[stream]
    ]


def expected_rows(expected: DemoExpectations) -> list[tuple[str, str, str, Mapping[str, Any]]]:
    return [
        (
            f.stream,
            f.finding_id,
            f.aws_account_id,
            {
                "severity_label": f.severity_label,
                "finding_status": f.finding_status,
                "vulnerability_ids": list(f.vulnerability_ids),
                "resource_ids": list(f.resource_ids),
            },
        )
        for f in expected.findings
        if f.stream in KEYS
    ]


def critical_high(rows: list[Any], *, active_only: bool) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for _, account, values in distinct(rows).values():
        if values["severity_label"] in ("CRITICAL", "HIGH") and (
            not active_only or values["finding_status"] == "ACTIVE"
        ):
            counts[account] += 1
    return dict(sorted(counts.items()))


def test_critical_and_high_per_account(run: TapRun, expected: DemoExpectations) -> None:
    rows = tap_rows(run)
    answer = critical_high(rows, active_only=False)
    assert answer == expected.critical_high_by_account
    active = critical_high(rows, active_only=True)
    assert active == expected.critical_high_active_by_account
    active_accounts = {a.id for a in expected.organization.active_accounts}
    assert set(answer) == active_accounts
    assert all(active.get(a, 0) < answer[a] for a in active_accounts)


def test_public_instances_and_their_findings(run: TapRun, expected: DemoExpectations) -> None:
    public = {
        r["arn"]: r["public_ip_address"]
        for r in run.records["ec2_instances"]
        if r.get("public_ip_address")
    }
    assert public == dict(expected.public_ips)
    assert sorted(public) == list(expected.public_instances)

    def findings_on_public(rows: list[Any]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for fid, (_, _, values) in distinct(rows).items():
            for resource in values["resource_ids"]:
                if resource in public:
                    out[resource].add(fid)
        return dict(out)

    answer = findings_on_public(tap_rows(run))
    assert answer == findings_on_public(expected_rows(expected))
    assert set(answer) == set(public)  # every public instance has findings


def images_with_critical_cves(rows: list[Any], images: set[str]) -> list[str]:
    return sorted(
        {
            resource
            for _, _, values in distinct(rows).values()
            if values["severity_label"] == "CRITICAL"
            and values["finding_status"] == "ACTIVE"
            and any(v.startswith("CVE-") for v in values["vulnerability_ids"])
            for resource in values["resource_ids"]
            if resource in images
        }
    )


def test_images_with_critical_cves(run: TapRun, expected: DemoExpectations) -> None:
    images = {r["arn"] for r in run.records["ecr_images"]}
    rows = tap_rows(run)
    # across sources (Inspector through ECR enhanced scanning, basic scans too)
    every = images_with_critical_cves(rows, images)
    assert every == list(expected.images_with_critical_cves)
    assert every == images_with_critical_cves(expected_rows(expected), images)
    # Inspector alone names fewer of them
    inspector = [row for row in rows if row[0] == "inspector_findings"]
    assert 0 < len(images_with_critical_cves(inspector, images)) < len(every)


def test_suspended_accounts(run: TapRun, expected: DemoExpectations) -> None:
    suspended = sorted(
        r["id"]
        for r in run.records["accounts"]
        if (r.get("state") or r.get("status")) == "SUSPENDED"
    )
    assert suspended == sorted(expected.suspended_accounts)
    assert suspended
