"""The demo organization: what ``tap-aws-uvm-demo`` and ``aws-emulator seed`` put into an emulator.

A management account, two ACTIVE members and one SUSPENDED member, in two regions, with
inventory and findings linked like a real organization's:

- web instances have public IPs (instance and ENI); Inspector has PACKAGE_VULNERABILITY findings
  on seeded instances and images and NETWORK_REACHABILITY findings on the public instances, with
  CVE and GHSA ids, CVSS scores, every severity (UNTRIAGED included) and status;
- ECR's enhanced findings of an image are its ACTIVE Inspector findings (same findingArn);
- Security Hub holds every Inspector finding as Inspector's integration imports it, control
  findings on the accounts (``AWS::::Account:<id>``), instances and buckets, and a few on
  resources outside the inventory (a default security group, an IAM access key);
- Security Hub's OCSF findings (GetFindingsV2) mirror the Inspector and control findings;
- Inspector coverage for instances, images and repositories: ACTIVE, INACTIVE with AWS's reason
  codes, and one instance per partition with no entry at all;
- a few ARCHIVED / ACTIVATING images (ECR's archive storage class).

:func:`seed_demo_expectations` seeds it and returns :class:`DemoExpectations`, the "day-one
answers" the tap's output and the warehouse models are checked against; :func:`seed_demo`
returns only the records per stream (``DemoExpectations.records``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_emulator.findings_client import load_coverage, load_findings
from aws_emulator.ocsf import compliance_from_asff, vulnerability_from_inspector
from aws_emulator.seed import (
    SCAN_COMPLETED_AT,
    Organization,
    RegionResources,
    seed_organization,
)
from aws_emulator.shapes import (
    Package,
    Vulnerability,
    asff_control_finding,
    asff_from_inspector,
    ec2_instance_resource,
    inspector_resource_arn,
    network_finding,
    package_finding,
)
from aws_emulator.times import epoch_from_us

DEMO_REGIONS = ("us-east-1", "eu-west-1")
DEMO_MEMBERS = 2
DEMO_SUSPENDED = 1
STREAMS = {
    "securityhub": "securityhub_findings",
    "inspector2": "inspector_findings",
    "ecr": "ecr_findings",
    "securityhub_ocsf": "securityhub_ocsf_findings",
}
_BASE_US = round(SCAN_COMPLETED_AT.timestamp() * 1_000_000)
_HOUR = 3_600_000_000
# per instance finding slot: (id, related, severity, score, packages, status)
_INSTANCE_VULNERABILITIES = (
    ("CVE-2024-6387", (), "CRITICAL", 9.8, ("openssh-server",), "ACTIVE"),
    ("CVE-2023-4911", (), "HIGH", 7.8, ("glibc", "glibc-common"), "ACTIVE"),
    ("GHSA-jfh8-c2jp-5v3q", ("CVE-2021-44228",), "CRITICAL", 10.0, ("log4j-core",), "SUPPRESSED"),
    ("CVE-2023-38545", (), "MEDIUM", 5.9, ("curl", "libcurl"), "CLOSED"),
    ("CVE-2024-2511", (), "LOW", 3.7, ("openssl",), "ACTIVE"),
    ("CVE-2024-0002", (), "UNTRIAGED", None, ("tzdata",), "ACTIVE"),
)


@dataclass(frozen=True)
class ExpectedFinding:
    """One record a finding stream must emit, with what the tap must lift from it."""

    stream: str  # securityhub_findings, inspector_findings, ecr_findings, securityhub_ocsf_findings
    key: Mapping[str, str]  # the stream's key columns (ecr_findings: account_id ... finding_id)
    finding_id: str  # identity across streams: the Inspector ARN, or Security Hub's Id
    account_id: str  # the partition read (the tap's account_id)
    region: str
    aws_account_id: str  # the finding's own account
    severity_label: str  # CRITICAL HIGH MEDIUM LOW INFORMATIONAL UNTRIAGED, as DESIGN maps it
    finding_status: str  # ACTIVE SUPPRESSED CLOSED
    vulnerability_ids: tuple[str, ...]  # sorted unique CVE / GHSA ids
    severity_score: float | None
    resource_ids: tuple[str, ...]  # each resource as the asset streams write its arn
    has_asset: bool  # every resource id is a seeded asset


@dataclass(frozen=True)
class DemoExpectations:
    """The day-one answers of the seeded demo organization."""

    records: Mapping[str, int]  # records per stream
    assets: Mapping[str, int]  # assets per type (network: per data type, as network_<type>)
    findings: tuple[ExpectedFinding, ...]
    public_instances: tuple[str, ...]  # instance ARNs with a public IP
    public_ips: Mapping[str, str]  # instance ARN -> public IP
    images_with_critical_cves: tuple[str, ...]  # image ARNs with an ACTIVE CRITICAL CVE finding
    # (any source: Inspector through ECR enhanced scanning, or a basic scan)
    # distinct findings (deduplicated across streams) per finding's own account
    critical_high_by_account: Mapping[str, int]  # every status
    critical_high_active_by_account: Mapping[str, int]  # ACTIVE only
    suspended_accounts: tuple[str, ...]
    uncovered_instances: tuple[str, ...]  # instance ARNs with no Inspector coverage entry
    coverage: Mapping[tuple[str, str, str], tuple[str, str]]  # (account, resource id, scan type)
    # -> (statusCode, reason)
    asset_ids: frozenset[str]
    organization: Organization  # the seed itself: accounts, resources, sessions


def coverage_rows(streams: Sequence[str], org: Organization, regions: Sequence[str]) -> int:
    """The sync_coverage records a full organization sync of ``streams`` writes over the seed:
    one per partition (s3_buckets: per region in scope; accounts: one), and one per stream x
    account not read (the suspended ones)."""
    read = [s for s in streams if s != "sync_coverage"]
    partitions = len(org.active_accounts) * len(regions)
    rows = sum(1 if s == "accounts" else partitions for s in read)
    return rows + len(org.suspended_accounts) * len(read)


def seed_demo(endpoint_url: str) -> dict[str, int]:
    """Seed the demo organization; the records each stream should load."""
    return dict(seed_demo_expectations(endpoint_url).records)


def seed_demo_expectations(endpoint_url: str) -> DemoExpectations:
    """Seed the demo organization, its findings and coverage; return the day-one answers."""
    org = seed_organization(
        endpoint_url,
        regions=DEMO_REGIONS,
        members=DEMO_MEMBERS,
        suspended=DEMO_SUSPENDED,
        archived_images=True,
    )
    return load_demo_findings(endpoint_url, org)


def load_demo_findings(endpoint_url: str, org: Organization) -> DemoExpectations:
    """Load the linked findings and coverage of ``org`` (seeded) and say what they imply."""
    assets = _asset_ids(org)
    expected: list[ExpectedFinding] = []
    coverage_all: dict[tuple[str, str, str], tuple[str, str]] = {}
    uncovered: list[str] = []
    counts: dict[str, int] = defaultdict(int)
    for index, res in enumerate(org.partitions()):
        linked = _partition_findings(org, res, index)
        load_findings(endpoint_url, "inspector2", res.account_id, res.region, linked.inspector)
        load_findings(endpoint_url, "securityhub", res.account_id, res.region, linked.asff)
        load_findings(endpoint_url, "securityhub_ocsf", res.account_id, res.region, linked.ocsf)
        load_coverage(endpoint_url, res.account_id, res.region, linked.coverage)
        counts["inspector_findings"] += len(linked.inspector)
        counts["securityhub_findings"] += len(linked.asff)
        counts["securityhub_ocsf_findings"] += len(linked.ocsf)
        counts["inspector_coverage"] += len(linked.coverage)
        uncovered.extend(linked.uncovered)
        for entry in linked.coverage:
            status = entry["scanStatus"]
            coverage_all[(res.account_id, entry["resourceId"], entry["scanType"])] = (
                status["statusCode"],
                status["reason"],
            )
        expected += [_expect_inspector(res, f, assets) for f in linked.inspector]
        expected += [_expect_asff(org, res, f, assets) for f in linked.asff]
        expected += [_expect_ocsf(org, res, f, assets) for f in linked.ocsf]
        for image in res.ecr_images:
            for finding in image.findings:
                expected.append(_expect_ecr(res, image, finding.data, finding.kind, assets))
    partitions = list(org.partitions())
    records = {
        "accounts": len(org.accounts),
        "ec2_instances": sum(len(p.instances) for p in partitions),
        "s3_buckets": sum(1 for b in org.buckets() if b.region in org.regions),
        "ecr_images": sum(len(p.ecr_images) for p in partitions),
        "ecr_findings": sum(len(i.findings) for p in partitions for i in p.ecr_images),
        "eks_clusters": sum(len(p.eks_clusters) for p in partitions),
        "rds_instances": sum(len(p.rds_instances) for p in partitions),
        "network": sum(len(ids) for p in partitions for ids in p.network.values()),
        **counts,
    }
    asset_counts = {k: v for k, v in records.items() if not k.endswith(("findings", "coverage"))}
    asset_counts.pop("network")
    for p in partitions:
        for data_type, ids in p.network.items():
            asset_counts[f"network_{data_type}"] = asset_counts.get(
                f"network_{data_type}", 0
            ) + len(ids)
    public = {i.arn: i.public_ip for p in partitions for i in p.instances if i.public_ip}
    # an image with an ACTIVE CRITICAL CVE finding, from any source (Inspector's through ECR
    # enhanced scanning, and basic scans alike)
    critical_images = sorted(
        {
            resource
            for f in expected
            if f.severity_label == "CRITICAL"
            and f.finding_status == "ACTIVE"
            and any(v.startswith("CVE-") for v in f.vulnerability_ids)
            for resource in f.resource_ids
            if ":ecr:" in resource
        }
    )
    return DemoExpectations(
        records=records,
        assets=asset_counts,
        findings=tuple(expected),
        public_instances=tuple(sorted(public)),
        public_ips={arn: str(ip) for arn, ip in public.items()},
        images_with_critical_cves=tuple(critical_images),
        critical_high_by_account=_critical_high(expected, active_only=False),
        critical_high_active_by_account=_critical_high(expected, active_only=True),
        suspended_accounts=tuple(a.id for a in org.suspended_accounts),
        uncovered_instances=tuple(sorted(uncovered)),
        coverage=coverage_all,
        asset_ids=frozenset(assets),
        organization=org,
    )


# ---------------------------------------------------------------------------- building


@dataclass
class _Linked:
    inspector: list[dict[str, Any]]
    asff: list[dict[str, Any]]
    ocsf: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    uncovered: list[str]


def _hexid(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def _partition_findings(org: Organization, res: RegionResources, index: int) -> _Linked:
    account, region = res.account_id, res.region
    inspector: list[dict[str, Any]] = []
    coverage: list[dict[str, Any]] = []
    uncovered: list[str] = []
    instances = sorted(res.instances, key=lambda i: (i.tags.get("Name", ""), i.instance_id))
    igw = res.network["internet_gateways"][0] if res.network["internet_gateways"] else "igw-0"
    scanned_at = epoch_from_us(_BASE_US)
    for j, inst in enumerate(instances):
        resource = ec2_instance_resource(
            inst.instance_id,
            account,
            region,
            instance_type=inst.instance_type,
            image_id=inst.image_id,
            vpc_id=inst.vpc_id,
            subnet_id=inst.subnet_id,
            private_ips=[inst.private_ip] if inst.private_ip else [],
            public_ips=[inst.public_ip] if inst.public_ip else [],
            tags=inst.tags,
            launched_us=_BASE_US - 30 * 24 * _HOUR,
        )
        metadata = {"ec2": {"tags": dict(inst.tags), "amiId": inst.image_id, "platform": "LINUX"}}
        if j == len(instances) - 1:
            uncovered.append(inst.arn)  # Inspector does not know it: no coverage entry at all
            continue
        if j == len(instances) - 2:
            coverage.append(
                _coverage(
                    account,
                    inst.instance_id,
                    "AWS_EC2_INSTANCE",
                    "PACKAGE",
                    metadata,
                    ("INACTIVE", "UNMANAGED_EC2_INSTANCE"),
                    None,
                    "EC2_SSM_AGENT_BASED",
                )
            )
            continue
        coverage.append(
            _coverage(
                account,
                inst.instance_id,
                "AWS_EC2_INSTANCE",
                "PACKAGE",
                metadata,
                ("ACTIVE", "SUCCESSFUL"),
                scanned_at,
                "EC2_SSM_AGENT_BASED",
            )
        )
        for slot in range(2):
            n = (index + 2 * j + slot) % len(_INSTANCE_VULNERABILITIES)
            vid, related, severity, score, names, status = _INSTANCE_VULNERABILITIES[n]
            vuln = Vulnerability(
                vid,
                related,
                severity,
                score,
                tuple(
                    Package(p, f"1.{k}.{j}", f"1.{k}.{j + 1}", "OS") for k, p in enumerate(names)
                ),
            )
            arn = f"arn:aws:inspector2:{region}:{account}:finding/{_hexid(inst.arn, vid)}"
            first = _BASE_US - (48 + n) * _HOUR
            inspector.append(
                package_finding(
                    arn,
                    account,
                    resource,
                    vuln,
                    status=status,
                    first_us=first,
                    last_us=_BASE_US - n * _HOUR,
                    updated_us=_BASE_US - n * _HOUR,
                )
            )
        if inst.public_ip:
            coverage.append(
                _coverage(
                    account,
                    inst.instance_id,
                    "AWS_EC2_INSTANCE",
                    "NETWORK",
                    metadata,
                    ("ACTIVE", "SUCCESSFUL"),
                    scanned_at,
                    "EC2_AGENTLESS",
                )
            )
            arn = f"arn:aws:inspector2:{region}:{account}:finding/{_hexid(inst.arn, 'port-22')}"
            inspector.append(
                network_finding(
                    arn,
                    account,
                    resource,
                    port=22,
                    severity="HIGH" if j % 2 else "MEDIUM",
                    status="ACTIVE",
                    first_us=_BASE_US - 72 * _HOUR,
                    last_us=_BASE_US - _HOUR,
                    updated_us=_BASE_US - _HOUR,
                    igw_id=igw,
                    sg_id=res.security_group_id,
                )
            )
    for repo in res.ecr_repositories:
        enhanced = any(image.inspector_findings for image in repo.images)
        coverage.append(
            _coverage(
                account,
                repo.arn,
                "AWS_ECR_REPOSITORY",
                "PACKAGE",
                {
                    "ecrRepository": {
                        "name": repo.name,
                        "scanFrequency": "CONTINUOUS_SCAN" if enhanced else "MANUAL",
                    }
                },
                ("ACTIVE", "SUCCESSFUL") if enhanced else ("INACTIVE", "SCAN_FREQUENCY_MANUAL"),
                scanned_at if enhanced else None,
                None,
            )
        )
        for image in repo.images:
            inspector.extend(dict(f) for f in image.inspector_findings)
            active = bool(image.inspector_findings) and image.image_status == "ACTIVE"
            coverage.append(
                _coverage(
                    account,
                    image.arn,
                    "AWS_ECR_CONTAINER_IMAGE",
                    "PACKAGE",
                    {"ecrImage": {"tags": list(image.image_tags)}},
                    ("ACTIVE", "SUCCESSFUL")
                    if active
                    else ("INACTIVE", "SCAN_ELIGIBILITY_EXPIRED"),
                    scanned_at if active else None,
                    None,
                )
            )
    asff = [asff_from_inspector(f) for f in inspector]
    controls = _control_findings(org, res, instances)
    asff += controls
    ocsf = [vulnerability_from_inspector(f) for f in inspector]
    ocsf += [compliance_from_asff(c) for c in controls]
    return _Linked(inspector, asff, ocsf, coverage, uncovered)


def _coverage(  # noqa: PLR0917 - one entry's fields, in CoveredResource's order
    account: str,
    resource_id: str,
    resource_type: str,
    scan_type: str,
    metadata: dict[str, Any],
    status: tuple[str, str],
    scanned_at: float | int | None,
    scan_mode: str | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resourceType": resource_type,
        "resourceId": resource_id,
        "accountId": account,
        "scanType": scan_type,
        "scanStatus": {"statusCode": status[0], "reason": status[1]},
        "resourceMetadata": metadata,
    }
    if scanned_at is not None:
        entry["lastScannedAt"] = scanned_at
    if scan_mode is not None:
        entry["scanMode"] = scan_mode
    return entry


def _control_findings(
    org: Organization, res: RegionResources, instances: list[Any]
) -> list[dict[str, Any]]:
    account, region = res.account_id, res.region
    base = f"arn:aws:securityhub:{region}:{account}:security-control"
    out = []

    def control(  # noqa: PLR0917 - a table row
        control_id: str, title: str, status: str, severity: str, rtype: str, rid: str, hours: int
    ) -> None:
        out.append(
            asff_control_finding(
                finding_id=f"{base}/{control_id}/finding/{_hexid(account, control_id, rid)}",
                account=account,
                region=region,
                partition="aws",
                control=control_id,
                title=title,
                status=status,
                severity=severity,
                resource_type=rtype,
                resource_id=rid,
                created_us=_BASE_US - 240 * _HOUR,
                updated_us=_BASE_US - hours * _HOUR,
            )
        )

    account_id = f"AWS::::Account:{account}"
    control(
        "IAM.6",
        "Hardware MFA should be enabled for the root user",
        "FAILED",
        "CRITICAL",
        "AwsAccount",
        account_id,
        3,
    )
    control(
        "Account.1",
        "Security contact information should be provided for an AWS account",
        "FAILED",
        "MEDIUM",
        "AwsAccount",
        account_id,
        4,
    )
    for j, inst in enumerate(instances):
        control(
            "EC2.8",
            "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)",
            "FAILED" if inst.public_ip else "PASSED",
            "HIGH",
            "AwsEc2Instance",
            inst.arn,
            5 + j,
        )
    for bucket in org.buckets(account):
        if bucket.region == region:
            control(
                "S3.1",
                "S3 general purpose buckets should have block public access settings enabled",
                "FAILED",
                "MEDIUM",
                "AwsS3Bucket",
                bucket.arn,
                6,
            )
    # outside the inventory: the default security group, an IAM access key
    sg_arn = f"arn:aws:ec2:{region}:{account}:security-group/sg-default{account[-4:]}"
    control(
        "EC2.2",
        "VPC default security groups should not allow inbound or outbound traffic",
        "FAILED",
        "HIGH",
        "AwsEc2SecurityGroup",
        sg_arn,
        7,
    )
    control(
        "IAM.3",
        "IAM users' access keys should be rotated every 90 days or less",
        "FAILED",
        "MEDIUM",
        "AwsIamAccessKey",
        f"AWS::IAM::AccessKey:AKIA{_hexid(account)[:16].upper()}",
        8,
    )
    return out


# ---------------------------------------------------------------------------- expectations


def _asset_ids(org: Organization) -> set[str]:
    ids = {a.arn for a in org.accounts}
    for p in org.partitions():
        ids.update(i.arn for i in p.instances)
        ids.update(image.arn for image in p.ecr_images)
        ids.update(c.arn for c in p.eks_clusters)
        ids.update(r.arn for r in p.rds_instances)
    ids.update(b.arn for b in org.buckets())
    return ids


def _account_arn(org: Organization, resource_id: str) -> str:
    if resource_id.startswith("AWS::::Account:"):
        return org.account(resource_id.rsplit(":", 1)[-1]).arn
    return resource_id


def _expect(  # noqa: PLR0917 - ExpectedFinding's fields in order
    stream: str,
    key: Mapping[str, str],
    finding_id: str,
    res: RegionResources,
    aws_account_id: str,
    severity: str,
    status: str,
    vuln_ids: Any,
    score: float | None,
    resources: list[str],
    assets: set[str],
) -> ExpectedFinding:
    return ExpectedFinding(
        stream=stream,
        key=dict(key),
        finding_id=finding_id,
        account_id=res.account_id,
        region=res.region,
        aws_account_id=aws_account_id,
        severity_label=severity,
        finding_status=status,
        vulnerability_ids=tuple(sorted(set(vuln_ids))),
        severity_score=score,
        resource_ids=tuple(resources),
        has_asset=all(r in assets for r in resources),
    )


def _inspector_ids(f: Mapping[str, Any]) -> list[str]:
    pkg = f.get("packageVulnerabilityDetails")
    return [] if pkg is None else [pkg["vulnerabilityId"], *pkg.get("relatedVulnerabilities", [])]


def _expect_inspector(res: RegionResources, f: dict[str, Any], assets: set[str]) -> ExpectedFinding:
    account = f["awsAccountId"]
    return _expect(
        "inspector_findings",
        {"finding_arn": f["findingArn"]},
        f["findingArn"],
        res,
        account,
        f["severity"],
        f["status"],
        _inspector_ids(f),
        f.get("inspectorScore"),
        [inspector_resource_arn(r, account) for r in f["resources"]],
        assets,
    )


def _expect_ecr(
    res: RegionResources, image: Any, data: Mapping[str, Any], kind: str, assets: set[str]
) -> ExpectedFinding:
    if kind == "enhanced":
        finding_id, vulns = str(data["findingArn"]), _inspector_ids(data)
        score = data.get("score")
    else:
        attrs = {a["key"]: a["value"] for a in data["attributes"]}
        finding_id = f"{data['name']}|{attrs['package_name']}|{attrs['package_version']}"
        # the CVSS base score a basic finding carries, as the tap lifts it
        cvss = attrs.get("CVSS3_SCORE") or attrs.get("CVSS2_SCORE")
        vulns, score = [data["name"]], float(cvss) if cvss else None
    key = {
        "account_id": res.account_id,
        "region": res.region,
        "repository_name": image.repository_name,
        "image_digest": image.image_digest,
        "finding_id": finding_id,
    }
    status = str(data.get("status", "ACTIVE"))
    return _expect(
        "ecr_findings",
        key,
        finding_id,
        res,
        res.account_id,
        str(data["severity"]),
        status,
        vulns,
        score,
        [image.arn],
        assets,
    )


def _asff_status(f: Mapping[str, Any]) -> str:
    workflow = f.get("Workflow", {}).get("Status")
    if f.get("RecordState") == "ARCHIVED" or workflow == "RESOLVED":
        return "CLOSED"
    return "SUPPRESSED" if workflow == "SUPPRESSED" else "ACTIVE"


def _expect_asff(
    org: Organization, res: RegionResources, f: dict[str, Any], assets: set[str]
) -> ExpectedFinding:
    vulns = [
        v
        for vuln in f.get("Vulnerabilities", [])
        for v in (vuln["Id"], *vuln.get("RelatedVulnerabilities", []))
    ]
    scores = [c["BaseScore"] for v in f.get("Vulnerabilities", []) for c in v.get("Cvss", [])]
    return _expect(
        "securityhub_findings",
        {"id": f["Id"], "product_arn": f["ProductArn"]},
        f["Id"],
        res,
        f["AwsAccountId"],
        f["Severity"]["Label"],
        _asff_status(f),
        vulns,
        max(scores) if scores else None,
        [_account_arn(org, r["Id"]) for r in f["Resources"]],
        assets,
    )


_OCSF_LABEL = {0: "UNTRIAGED", 1: "INFORMATIONAL", 2: "LOW", 3: "MEDIUM", 4: "HIGH", 5: "CRITICAL"}
_OCSF_LABEL.update({6: "CRITICAL", 99: "UNTRIAGED"})


def _expect_ocsf(
    org: Organization, res: RegionResources, f: dict[str, Any], assets: set[str]
) -> ExpectedFinding:
    status = {3: "SUPPRESSED", 4: "CLOSED", 5: "CLOSED", 6: "CLOSED"}.get(f["status_id"], "ACTIVE")
    vulns = [
        uid
        for v in f.get("vulnerabilities", [])
        for uid in (v.get("cve", {}).get("uid"), v.get("advisory", {}).get("uid"))
        if uid
    ]
    scores = [
        c["base_score"]
        for v in f.get("vulnerabilities", [])
        for c in v.get("cve", {}).get("cvss", [])
    ]
    uid, product_uid = f["finding_info"]["uid"], f["metadata"]["product"]["uid"]
    return _expect(
        "securityhub_ocsf_findings",
        {"finding_uid": uid, "product_uid": product_uid},
        uid,
        res,
        f["cloud"]["account"]["uid"],
        _OCSF_LABEL[f["severity_id"]],
        status,
        vulns,
        max(scores) if scores else None,
        [_account_arn(org, r["uid"]) for r in f["resources"]],
        assets,
    )


_SOURCE_RANK = {"inspector_findings": 0, "securityhub_findings": 1}


def _critical_high(expected: list[ExpectedFinding], *, active_only: bool) -> dict[str, int]:
    """Distinct findings per own account whose severity (Inspector's, else Security Hub's) is
    CRITICAL or HIGH: an Inspector finding seen in several streams counts once."""
    best: dict[str, ExpectedFinding] = {}
    for f in expected:
        current = best.get(f.finding_id)
        if current is None or _SOURCE_RANK.get(f.stream, 9) < _SOURCE_RANK.get(current.stream, 9):
            best[f.finding_id] = f
    out: dict[str, int] = defaultdict(int)
    for f in best.values():
        if f.severity_label in ("CRITICAL", "HIGH") and (
            not active_only or f.finding_status == "ACTIVE"
        ):
            out[f.aws_account_id] += 1
    return dict(sorted(out.items()))


__all__ = [
    "DEMO_MEMBERS",
    "DEMO_REGIONS",
    "DEMO_SUSPENDED",
    "DemoExpectations",
    "ExpectedFinding",
    "load_demo_findings",
    "seed_demo",
    "seed_demo_expectations",
]
