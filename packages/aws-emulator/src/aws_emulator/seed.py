"""Seed an emulated AWS Organization and describe exactly what it holds.

:func:`seed_organization` talks to the emulator (moto's server, with or without our WSGI
wrapper) over HTTP with boto3 and fake credentials, creates an organization with ACTIVE and
SUSPENDED member accounts, a ``TapReadRole`` in every ACTIVE account, and inventory and findings
in every ACTIVE account and region. It returns an :class:`Organization`: frozen dataclasses
listing every resource the tap can see afterwards (moto's defaults included, read back with
describes at the end), so tests build expected records from the seed, never from the tap.

Names are deterministic; ids (account ids, instance ids, digests of random parts) come from
moto. Nothing is ever created in, or signed with the credentials of, a SUSPENDED account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
import requests
from botocore.config import Config

from aws_emulator.ecr_images import STATUS_ROUTE
from aws_emulator.ecr_scans import LOAD_ROUTE, RESET_ROUTE
from aws_emulator.shapes import (
    Package,
    Vulnerability,
    ecr_enhanced_finding,
    ecr_image_resource,
    package_finding,
)

MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default account: what "testing" keys map to
FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"
ORG_REGION = "us-east-1"
TAP_ROLE_NAME = "TapReadRole"
ORG_ACCESS_ROLE_NAME = "OrganizationAccountAccessRole"
EKS_ROLE_NAME = "uvm-eks-cluster-role"
AMI_ID = "ami-12c6146b"  # any id works: moto does not validate AMIs by default

# Fixed times so findings are reproducible (the tap's ecr_findings stream is full table).
SCAN_COMPLETED_AT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
SOURCE_UPDATED_AT = dt.datetime(2024, 4, 30, 0, 0, tzinfo=dt.UTC)
ARCHIVED_AT = dt.datetime(2024, 6, 1, 0, 0, tzinfo=dt.UTC)  # archived images (archive class)
ACTIVATED_AT = dt.datetime(2024, 7, 1, 0, 0, tzinfo=dt.UTC)  # restore asked (ACTIVATING)


_CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=16,
    connect_timeout=5,
    read_timeout=60,
)


# ---------------------------------------------------------------------------------------------
# What the seed returns


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    email: str
    arn: str
    status: Literal["ACTIVE", "SUSPENDED"]
    is_management: bool
    tags: Mapping[str, str]
    role_arn: str | None  # TapReadRole; None for SUSPENDED accounts (never entered)


@dataclass(frozen=True)
class Ec2Instance:
    instance_id: str
    arn: str  # arn:aws:ec2:<region>:<account>:instance/<id>
    reservation_id: str
    vpc_id: str
    subnet_id: str
    instance_type: str
    tags: Mapping[str, str]
    private_ip: str = ""
    public_ip: str | None = None  # on the instance and its ENI (web instances)
    image_id: str = AMI_ID


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str
    arn: str  # arn:aws:s3:::<name>
    creation_date: dt.datetime  # UTC, as ListBuckets answers


@dataclass(frozen=True)
class EcrFinding:
    kind: Literal["basic", "enhanced"]
    finding_id: str  # enhanced: findingArn; basic: name|package_name|package_version
    severity: str
    data: Mapping[str, Any]  # exactly the JSON object DescribeImageScanFindings returns


@dataclass(frozen=True)
class EcrScan:
    status: str  # imageScanStatus.status: COMPLETE (basic) or ACTIVE (enhanced)
    description: str
    completed_at: dt.datetime
    vulnerability_source_updated_at: dt.datetime
    findings: tuple[EcrFinding, ...]  # in the order the pages return them

    @property
    def severity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts


@dataclass(frozen=True)
class EcrImage:
    repository_name: str
    image_digest: str
    image_tags: tuple[str, ...]  # () for an untagged image
    scan: EcrScan | None  # None: never scanned, DescribeImageScanFindings -> ScanNotFound
    # Inspector's findings on the image (enhanced scanning), every status; ECR's enhanced
    # findings (``scan.findings``) are the ACTIVE ones, under the same findingArn
    inspector_findings: tuple[Mapping[str, Any], ...] = ()
    image_status: str = "ACTIVE"  # ACTIVE, ARCHIVED or ACTIVATING (archive storage class)
    arn: str = ""  # arn:aws:ecr:<region>:<account>:repository/<name>/<digest>

    @property
    def findings(self) -> tuple[EcrFinding, ...]:
        if self.image_status != "ACTIVE":
            return ()  # an archived image cannot be scanned: IMAGE_ARCHIVED, no findings
        return self.scan.findings if self.scan else ()


@dataclass(frozen=True)
class EcrRepository:
    name: str
    arn: str
    uri: str
    images: tuple[EcrImage, ...]


@dataclass(frozen=True)
class EksCluster:
    name: str
    arn: str


@dataclass(frozen=True)
class RdsInstance:
    identifier: str
    arn: str
    publicly_accessible: bool
    engine: str
    subnet_group: str
    security_group_ids: tuple[str, ...]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class LoadBalancer:
    kind: Literal["application", "classic"]
    name: str
    arn: str  # the real ARN (v2) or the built one (classic)
    dns_name: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Address:
    allocation_id: str
    public_ip: str


@dataclass(frozen=True)
class RegionResources:
    """Everything in one ACTIVE account and region after seeding (moto's defaults included)."""

    account_id: str
    region: str
    vpc_id: str  # the seeded, non-default VPC
    default_vpc_id: str | None
    subnet_ids: tuple[str, ...]  # the seeded subnets (the default VPC's are in ``network``)
    security_group_id: str  # the seeded one, used by instances and RDS
    instances: tuple[Ec2Instance, ...]
    ecr_repositories: tuple[EcrRepository, ...]
    eks_clusters: tuple[EksCluster, ...]
    rds_instances: tuple[RdsInstance, ...]
    load_balancers: tuple[LoadBalancer, ...]
    addresses: tuple[Address, ...]
    # data type (the tap's network_data_types) -> every resource id the network stream emits
    network: Mapping[str, tuple[str, ...]]

    @property
    def ecr_images(self) -> tuple[EcrImage, ...]:
        return tuple(image for repo in self.ecr_repositories for image in repo.images)

    @property
    def reservation_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.reservation_id for i in self.instances))


@dataclass(frozen=True)
class Organization:
    endpoint_url: str
    organization_id: str
    management_account_id: str
    regions: tuple[str, ...]
    accounts: tuple[Account, ...]  # management first, then members in creation order
    buckets_by_account: Mapping[str, tuple[Bucket, ...]]
    resources_by_partition: Mapping[tuple[str, str], RegionResources]
    findings_served_by: Literal["emulator", "moto"]  # who answers DescribeImageScanFindings
    external_id: str | None  # required by every TapReadRole's trust policy, when set
    seconds: float = field(compare=False)

    @property
    def active_accounts(self) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if a.status == "ACTIVE")

    @property
    def suspended_accounts(self) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if a.status == "SUSPENDED")

    @property
    def member_accounts(self) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if not a.is_management)

    @property
    def management_role_arn(self) -> str:
        return self.role_arn(self.management_account_id)

    def account(self, account_id: str) -> Account:
        for candidate in self.accounts:
            if candidate.id == account_id:
                return candidate
        raise KeyError(account_id)

    def role_arn(self, account_id: str) -> str:
        role = self.account(account_id).role_arn
        if role is None:
            raise KeyError(f"{account_id} is SUSPENDED: it has no role the tap may assume")
        return role

    def resources(self, account_id: str, region: str) -> RegionResources:
        return self.resources_by_partition[(account_id, region)]

    def partitions(self) -> Iterator[RegionResources]:
        """Every ACTIVE (account, region), accounts in order, then regions in order."""
        for acct in self.active_accounts:
            for region in self.regions:
                yield self.resources_by_partition[(acct.id, region)]

    def buckets(self, account_id: str | None = None) -> tuple[Bucket, ...]:
        if account_id is not None:
            return self.buckets_by_account.get(account_id, ())
        return tuple(b for acct in self.active_accounts for b in self.buckets_by_account[acct.id])

    def session(self, account_id: str) -> boto3.Session:
        """A boto3 session inside an ACTIVE account, through OrganizationAccountAccessRole."""
        if self.account(account_id).status != "ACTIVE":
            raise KeyError(f"{account_id} is not ACTIVE")
        return account_session(self.endpoint_url, account_id, self.management_account_id)


# ---------------------------------------------------------------------------------------------
# Sessions and clients


def _management_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=FAKE_ACCESS_KEY_ID,
        aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
        region_name=ORG_REGION,
    )


def _member_credentials(
    endpoint_url: str, account_id: str, sts: Any | None = None
) -> dict[str, str]:
    """Credentials inside a member, through OrganizationAccountAccessRole (moto maps
    assumed-role keys to the role's account)."""
    if sts is None:
        sts = _management_session().client("sts", endpoint_url=endpoint_url, config=_CLIENT_CONFIG)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ORG_ACCESS_ROLE_NAME}",
        RoleSessionName="uvm-seed",
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def account_session(
    endpoint_url: str, account_id: str, management_account_id: str = MANAGEMENT_ACCOUNT_ID
) -> boto3.Session:
    """Fake-key session for the management account, an assumed-role one for a member."""
    if account_id == management_account_id:
        return _management_session()
    creds = _member_credentials(endpoint_url, account_id)
    return boto3.Session(
        aws_access_key_id=creds["aws_access_key_id"],
        aws_secret_access_key=creds["aws_secret_access_key"],
        aws_session_token=creds["aws_session_token"],
        region_name=ORG_REGION,
    )


class _Clients:
    """boto3 clients per (account, service, region), all from one botocore session (its model
    cache is shared); creation is serialized, as sessions are not thread-safe."""

    _lock = threading.Lock()

    def __init__(self, endpoint_url: str, credentials: Mapping[str, Mapping[str, str]]) -> None:
        self.endpoint_url = endpoint_url
        self.credentials = credentials
        self._session = boto3.Session(region_name=ORG_REGION)
        self._cache: dict[tuple[str, str, str], Any] = {}

    def __call__(self, account_id: str, service: str, region: str = ORG_REGION) -> Any:
        key = (account_id, service, region)
        with self._lock:
            client = self._cache.get(key)
            if client is None:
                client = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=_CLIENT_CONFIG,
                    **self.credentials[account_id],
                )
                self._cache[key] = client
            return client


# ---------------------------------------------------------------------------------------------
# Helpers


def _tags_map(tags: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or ()}


def _tag_list(tags: Mapping[str, str]) -> list[Any]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _hex(*parts: object, length: int = 32) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:length]


def _epoch(value: dt.datetime) -> float:
    return value.timestamp()


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def _trust_policy(principal: Mapping[str, str], external_id: str | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": dict(principal),
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


_READ_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:Describe*",
                    "ecr:Describe*",
                    "ecr:List*",
                    "eks:Describe*",
                    "eks:List*",
                    "elasticloadbalancing:Describe*",
                    "inspector2:List*",
                    "organizations:List*",
                    "organizations:Describe*",
                    "rds:Describe*",
                    "s3:GetBucketLocation",
                    "s3:ListAllMyBuckets",
                    "securityhub:GetFindings",
                ],
                "Resource": "*",
            }
        ],
    }
)


# ---------------------------------------------------------------------------------------------
# ECR content: which images exist, which are scanned, and their findings


@dataclass(frozen=True)
class _ImagePlan:
    tags: tuple[str, ...]
    scan: Literal["none", "empty", "basic", "enhanced"]
    count: int = 0


def _repository_plan(index: int) -> tuple[_ImagePlan, ...]:
    """Per account-region, repositories 0,1,2 (then repeating) hold these images.

    Covered: an image with two tags, untagged images, basic findings (enough to need several
    pages at a small maxResults), enhanced findings, a scanned image without findings, and
    never-scanned images (ScanNotFoundException).
    """
    kind = index % 3
    if kind == 0:
        return (
            _ImagePlan(("v1", "latest"), "basic", 12),
            _ImagePlan(("v0",), "empty"),
            _ImagePlan((), "none"),
        )
    if kind == 1:
        return (_ImagePlan(("stable",), "enhanced", 6), _ImagePlan((), "basic", 2))
    return (_ImagePlan(("v1",), "none"),)


_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
_PACKAGES = ("openssl", "zlib", "glibc", "curl", "busybox", "libxml2")


def _basic_findings(seed: str, count: int) -> tuple[EcrFinding, ...]:
    findings = []
    for n in range(count):
        name = f"CVE-2024-{10000 + int(_hex(seed, n, length=6), 16) % 90000}"
        package = _PACKAGES[n % len(_PACKAGES)]
        version = f"1.{n}.{int(_hex(seed, 'v', n, length=2), 16) % 10}"
        severity = _SEVERITIES[n % len(_SEVERITIES)]
        data = {
            "name": name,
            "description": f"Demo vulnerability {name} in {package} {version}.",
            "uri": f"https://security-tracker.debian.org/tracker/{name}",
            "severity": severity,
            "attributes": [
                {"key": "package_version", "value": version},
                {"key": "package_name", "value": package},
                {"key": "CVSS2_VECTOR", "value": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
                {"key": "CVSS2_SCORE", "value": "7.5"},
            ],
        }
        findings.append(EcrFinding("basic", f"{name}|{package}|{version}", severity, data))
    return tuple(findings)


# (vulnerability id, related, severity, score, packages, status) of an enhanced image's findings
_IMAGE_VULNERABILITIES = (
    ("CVE-2024-3094", (), "CRITICAL", 10.0, ("xz-utils", "liblzma5"), "ACTIVE"),
    ("GHSA-9wx4-h78v-vm56", ("CVE-2024-35195",), "HIGH", 7.5, ("requests",), "ACTIVE"),
    ("CVE-2023-44487", (), "MEDIUM", 5.3, ("nghttp2", "libnghttp2"), "ACTIVE"),
    ("CVE-2023-5678", (), "LOW", 3.1, ("openssl",), "ACTIVE"),
    ("CVE-2024-0001", (), "UNTRIAGED", None, ("busybox",), "SUPPRESSED"),
    ("CVE-2022-40897", (), "HIGH", 7.5, ("setuptools",), "CLOSED"),
)


def _image_vulnerabilities(count: int) -> list[tuple[Vulnerability, str]]:
    out = []
    for n in range(count):
        vid, related, severity, score, names, status = _IMAGE_VULNERABILITIES[
            n % len(_IMAGE_VULNERABILITIES)
        ]
        manager = "PYTHONPKG" if vid.startswith("GHSA-") or names == ("setuptools",) else "OS"
        packages = tuple(
            Package(name, f"{n + 1}.{k}.0", f"{n + 1}.{k}.1", manager)
            for k, name in enumerate(names)
        )
        out.append((Vulnerability(vid, related, severity, score, packages), status))
    return out


def _enhanced_findings(
    account_id: str,
    region: str,
    repo: EcrRepositoryDraft,
    digest: str,
    tags: Sequence[str],
    *,
    count: int,
) -> tuple[tuple[EcrFinding, ...], tuple[dict[str, Any], ...]]:
    """ECR's enhanced findings (the ACTIVE ones) and Inspector's findings on the image."""
    first = round(_epoch(SOURCE_UPDATED_AT) * 1_000_000)
    last = round(_epoch(SCAN_COMPLETED_AT) * 1_000_000)
    resource = ecr_image_resource(account_id, region, repo.name, digest, tags=tags, pushed_us=first)
    ecr: list[EcrFinding] = []
    inspector: list[dict[str, Any]] = []
    for n, (vuln, status) in enumerate(_image_vulnerabilities(count)):
        arn = (
            f"arn:aws:inspector2:{region}:{account_id}:finding/"
            f"{_hex(account_id, region, repo.name, digest, n)}"
        )
        finding = package_finding(
            arn,
            account_id,
            resource,
            vuln,
            status=status,
            first_us=first,
            last_us=last,
            updated_us=last,
        )
        inspector.append(finding)
        if status == "ACTIVE":
            ecr.append(EcrFinding("enhanced", arn, vuln.severity, ecr_enhanced_finding(finding)))
    return tuple(ecr), tuple(inspector)


@dataclass(frozen=True)
class EcrRepositoryDraft:
    name: str
    arn: str
    uri: str


def _manifest(seed: str) -> str:
    layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1470,
                "digest": "sha256:" + hashlib.sha256(f"config-{seed}".encode()).hexdigest(),
            },
            # moto derives the digest from the layer digests alone: one distinct layer each
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 2811969,
                    "digest": layer,
                }
            ],
        },
        sort_keys=True,
    )


def _scan_payload(account_id: str, region: str, repo_name: str, image: EcrImage) -> dict[str, Any]:
    assert image.scan is not None
    return {
        "account_id": account_id,
        "region": region,
        "repository_name": repo_name,
        "image_digest": image.image_digest,
        "image_tags": list(image.image_tags),
        "image_scan_status": {"status": image.scan.status, "description": image.scan.description},
        "image_scan_completed_at": _epoch(image.scan.completed_at),
        "vulnerability_source_updated_at": _epoch(image.scan.vulnerability_source_updated_at),
        "findings": [dict(f.data) for f in image.scan.findings if f.kind == "basic"],
        "enhanced_findings": [dict(f.data) for f in image.scan.findings if f.kind == "enhanced"],
    }


def _moto_scan_result(account_id: str, region: str, repo_name: str, image: EcrImage) -> Any:
    """The same result in the shape of moto's static scan-finding-results API (no paging)."""
    assert image.scan is not None
    findings: dict[str, Any] = {
        "imageScanCompletedAt": _epoch(image.scan.completed_at),
        "vulnerabilitySourceUpdatedAt": _epoch(image.scan.vulnerability_source_updated_at),
        "findingSeverityCounts": dict(sorted(image.scan.severity_counts.items())),
    }
    basic = [dict(f.data) for f in image.scan.findings if f.kind == "basic"]
    enhanced = [dict(f.data) for f in image.scan.findings if f.kind == "enhanced"]
    if basic or not enhanced:
        findings["findings"] = basic
    if enhanced:
        findings["enhancedFindings"] = enhanced
    image_id = {"imageDigest": image.image_digest}
    return {
        "registryId": account_id,
        "repositoryName": repo_name,
        "imageId": image_id,
        "imageScanStatus": {"status": image.scan.status, "description": image.scan.description},
        "imageScanFindings": findings,
    }


# ---------------------------------------------------------------------------------------------
# The seed


def seed_organization(
    endpoint_url: str,
    *,
    regions: Sequence[str] = ("us-east-1", "eu-west-1"),
    members: int = 2,
    suspended: int = 1,
    scale: int = 1,
    external_id: str | None = None,
    max_workers: int = 6,
    archived_images: bool = False,
) -> Organization:
    """Create the demo organization in a fresh emulator and return what it holds.

    ``members`` ACTIVE and ``suspended`` SUSPENDED member accounts join the management account
    (moto's 123456789012); ``scale`` multiplies the per-partition sizes. With ``external_id``,
    every TapReadRole's trust policy requires it (``sts:ExternalId``), as a StackSet would.
    With ``archived_images`` (our emulator only, not bare moto), in every partition the first
    repository's second image is ARCHIVED and its third ACTIVATING (ECR's archive storage class:
    DescribeImages lists them only with ``filter.imageStatus``).
    """
    if not regions:
        raise ValueError("regions must not be empty")
    if members < 0 or suspended < 0 or scale < 1:
        raise ValueError("members and suspended must be >= 0, scale >= 1")
    started = time.monotonic()
    endpoint_url = endpoint_url.rstrip("/")
    regions = tuple(regions)
    mgmt = MANAGEMENT_ACCOUNT_ID

    findings_served_by = _findings_backend(endpoint_url)
    archived_images = archived_images and findings_served_by == "emulator"

    # -- organization and accounts -----------------------------------------------------------
    mgmt_session = _management_session()
    org = mgmt_session.client(
        "organizations", endpoint_url=endpoint_url, region_name=ORG_REGION, config=_CLIENT_CONFIG
    )
    organization = org.create_organization(FeatureSet="ALL")["Organization"]
    member_ids: list[str] = []
    for n in range(members + suspended):
        kind = "member" if n < members else "closed"
        name = f"uvm-{kind}-{n + 1}"
        status = org.create_account(
            AccountName=name,
            Email=f"{name}@example.com",
            Tags=_tag_list({"Environment": "demo" if n < members else "retired"}),
        )["CreateAccountStatus"]
        member_ids.append(status["AccountId"])
    suspended_ids = set(member_ids[members:])
    for account_id in member_ids:
        org.tag_resource(
            ResourceId=account_id,
            Tags=_tag_list({"Owner": "uvm-seed", "CostCenter": f"cc-{account_id[-4:]}"}),
        )
    org.tag_resource(
        ResourceId=mgmt,
        Tags=_tag_list({"Owner": "uvm-seed", "Environment": "management"}),
    )
    for account_id in sorted(suspended_ids):
        org.close_account(AccountId=account_id)

    active_ids = [mgmt, *(a for a in member_ids if a not in suspended_ids)]
    credentials: dict[str, Mapping[str, str]] = {
        mgmt: {
            "aws_access_key_id": FAKE_ACCESS_KEY_ID,
            "aws_secret_access_key": FAKE_SECRET_ACCESS_KEY,
        }
    }
    sts = mgmt_session.client("sts", endpoint_url=endpoint_url, config=_CLIENT_CONFIG)
    for account_id in active_ids[1:]:
        credentials[account_id] = _member_credentials(endpoint_url, account_id, sts)
    clients = _Clients(endpoint_url, credentials)

    # -- accounts: roles and buckets ---------------------------------------------------------
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="uvm-seed") as pool:
        role_futures = {
            a: pool.submit(_seed_account_roles, clients, a, mgmt, external_id) for a in active_ids
        }
        for future in role_futures.values():
            future.result()
        region_futures = {
            (a, r): pool.submit(_seed_region, clients, a, r, scale, archived_images)
            for a in active_ids
            for r in regions
        }
        bucket_futures = {
            a: pool.submit(_seed_buckets, clients, a, regions, scale) for a in active_ids
        }
        resources = {key: future.result() for key, future in region_futures.items()}
        buckets = {a: future.result() for a, future in bucket_futures.items()}

    # -- findings ----------------------------------------------------------------------------
    _load_findings(endpoint_url, resources.values(), findings_served_by)

    # -- accounts as ListAccounts answers ----------------------------------------------------
    listed = {a["Id"]: a for a in _paginate(org, "list_accounts", "Accounts")}
    accounts = []
    for account_id in [mgmt, *member_ids]:
        entry = listed[account_id]
        tags = _tags_map(_paginate(org, "list_tags_for_resource", "Tags", ResourceId=account_id))
        active = account_id not in suspended_ids
        if entry["Status"] != ("ACTIVE" if active else "SUSPENDED"):
            raise RuntimeError(f"{account_id}: unexpected status {entry['Status']}")
        accounts.append(
            Account(
                id=account_id,
                name=entry["Name"],
                email=entry["Email"],
                arn=entry["Arn"],
                status="ACTIVE" if active else "SUSPENDED",
                is_management=account_id == mgmt,
                tags=tags,
                role_arn=f"arn:aws:iam::{account_id}:role/{TAP_ROLE_NAME}" if active else None,
            )
        )

    return Organization(
        endpoint_url=endpoint_url,
        organization_id=organization["Id"],
        management_account_id=mgmt,
        regions=regions,
        accounts=tuple(accounts),
        buckets_by_account=buckets,
        resources_by_partition=resources,
        findings_served_by=findings_served_by,
        external_id=external_id,
        seconds=time.monotonic() - started,
    )


def _findings_backend(endpoint_url: str) -> Literal["emulator", "moto"]:
    """Our emulator wrapper serves paged findings; a bare moto server gets moto's static API."""
    try:
        response = requests.post(f"{endpoint_url}/_emulator/{RESET_ROUTE}", json={}, timeout=10)
    except requests.RequestException:
        return "moto"
    return "emulator" if response.status_code == 200 else "moto"


def _load_findings(
    endpoint_url: str, partitions: Iterable[RegionResources], served_by: str
) -> None:
    partitions_list = list(partitions)
    partitions = partitions_list
    images: list[dict[str, Any]] = []
    moto_results: dict[tuple[str, str], list[Any]] = {}
    for res in partitions:
        for repo in res.ecr_repositories:
            for image in repo.images:
                if image.scan is None:
                    continue
                images.append(_scan_payload(res.account_id, res.region, repo.name, image))
                moto_results.setdefault((res.account_id, res.region), []).append(
                    _moto_scan_result(res.account_id, res.region, repo.name, image)
                )
    if served_by == "emulator":
        response = requests.post(
            f"{endpoint_url}/_emulator/{LOAD_ROUTE}", json={"images": images}, timeout=60
        )
        response.raise_for_status()
        for res in partitions_list:
            for repo in res.ecr_repositories:
                for image in repo.images:
                    if image.image_status == "ACTIVE":
                        continue
                    response = requests.post(
                        f"{endpoint_url}/_emulator/{STATUS_ROUTE}",
                        json={
                            "account_id": res.account_id,
                            "region": res.region,
                            "repository_name": repo.name,
                            "image_digest": image.image_digest,
                            "status": image.image_status,
                            "last_archived_at": _epoch(ARCHIVED_AT),
                            "last_activated_at": _epoch(ACTIVATED_AT)
                            if image.image_status == "ACTIVATING"
                            else None,
                        },
                        timeout=60,
                    )
                    response.raise_for_status()
        return
    for (account_id, region), results in moto_results.items():
        response = requests.post(
            f"{endpoint_url}/moto-api/static/ecr/scan-finding-results",
            json={"results": results, "region": region, "account_id": account_id},
            timeout=60,
        )
        response.raise_for_status()


def _seed_account_roles(
    clients: _Clients, account_id: str, mgmt: str, external_id: str | None
) -> None:
    iam = clients(account_id, "iam")
    # the management account's principals (its TapReadRole session in org mode)
    principal = {"AWS": f"arn:aws:iam::{mgmt}:root"}
    iam.create_role(
        RoleName=TAP_ROLE_NAME,
        AssumeRolePolicyDocument=_trust_policy(principal, external_id),
        Description="Read-only role assumed by tap-aws-uvm",
        Tags=[{"Key": "Owner", "Value": "uvm-seed"}],
    )
    iam.put_role_policy(
        RoleName=TAP_ROLE_NAME, PolicyName="tap-aws-uvm-read", PolicyDocument=_READ_POLICY
    )
    iam.create_role(
        RoleName=EKS_ROLE_NAME,
        AssumeRolePolicyDocument=_trust_policy({"Service": "eks.amazonaws.com"}),
    )
    # moto maps assumed-role credentials to the role's account: check we are where we think
    arn = clients(account_id, "sts").get_caller_identity()["Account"]
    if arn != account_id:
        raise RuntimeError(f"credentials for {account_id} act in {arn}")


def _seed_buckets(
    clients: _Clients, account_id: str, regions: Sequence[str], scale: int
) -> tuple[Bucket, ...]:
    for n in range(3 * scale):
        region = regions[n % len(regions)]
        name = f"uvm-{account_id}-{n + 1}-{region}"
        s3 = clients(account_id, "s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3 = clients(account_id, "s3", ORG_REGION)
    result = []
    for entry in s3.list_buckets()["Buckets"]:
        name = entry["Name"]
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
        result.append(
            Bucket(
                name=name,
                region=location or "us-east-1",
                arn=f"arn:aws:s3:::{name}",
                creation_date=_utc(entry["CreationDate"]),
            )
        )
    return tuple(sorted(result, key=lambda b: b.name))


def _seed_region(
    clients: _Clients, account_id: str, region: str, scale: int, archived_images: bool = False
) -> RegionResources:
    client: Callable[[str], Any] = lambda service: clients(account_id, service, region)  # noqa: E731
    ec2 = client("ec2")
    prefix = f"uvm-{region}"
    base_tags = {"Owner": "uvm-seed", "Environment": "demo"}

    # -- network -----------------------------------------------------------------------------
    vpc_id = ec2.create_vpc(
        CidrBlock="10.20.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": _tag_list({"Name": f"{prefix}-vpc", **base_tags})}
        ],
    )["Vpc"]["VpcId"]
    subnet_ids = []
    for n, az in enumerate(("a", "b")):
        subnet_ids.append(
            ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=f"10.20.{n}.0/24",
                AvailabilityZone=f"{region}{az}",
                TagSpecifications=[
                    {"ResourceType": "subnet", "Tags": _tag_list({"Name": f"{prefix}-subnet-{az}"})}
                ],
            )["Subnet"]["SubnetId"]
        )
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=[
            {"ResourceType": "internet-gateway", "Tags": _tag_list({"Name": f"{prefix}-igw"})}
        ]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    nat_eip = ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": _tag_list({"Name": f"{prefix}-nat-eip"})}
        ],
    )["AllocationId"]
    ec2.create_nat_gateway(
        SubnetId=subnet_ids[0],
        AllocationId=nat_eip,
        TagSpecifications=[
            {"ResourceType": "natgateway", "Tags": _tag_list({"Name": f"{prefix}-nat"})}
        ],
    )
    for n in range(scale):
        ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=[
                {"ResourceType": "elastic-ip", "Tags": _tag_list({"Name": f"{prefix}-eip-{n}"})}
            ],
        )
    sg_id = ec2.create_security_group(
        GroupName=f"{prefix}-sg", Description="uvm seed", VpcId=vpc_id
    )["GroupId"]
    for n in range(scale):
        ec2.create_network_interface(
            SubnetId=subnet_ids[1],
            Groups=[sg_id],
            Description=f"{prefix}-eni-{n}",
            TagSpecifications=[
                {
                    "ResourceType": "network-interface",
                    "Tags": _tag_list({"Name": f"{prefix}-eni-{n}"}),
                }
            ],
        )

    # -- EC2 instances -----------------------------------------------------------------------
    for batch in range(scale):
        for group, count in (("web", 3), ("worker", 2)):
            placement: dict[str, Any] = (
                {  # web instances get a public IP, on the instance and its ENI
                    "NetworkInterfaces": [
                        {
                            "DeviceIndex": 0,
                            "SubnetId": subnet_ids[0],
                            "Groups": [sg_id],
                            "AssociatePublicIpAddress": True,
                        }
                    ]
                }
                if group == "web"
                else {"SubnetId": subnet_ids[1], "SecurityGroupIds": [sg_id]}
            )
            ec2.run_instances(
                ImageId=AMI_ID,
                MinCount=count,
                MaxCount=count,
                InstanceType="t3.micro" if group == "web" else "m5.large",
                **placement,
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": _tag_list(
                            {"Name": f"{prefix}-{group}-{batch}", "Role": group, **base_tags}
                        ),
                    }
                ],
            )

    # -- load balancers ----------------------------------------------------------------------
    elbv2 = client("elbv2")
    for n in range(2 * scale):
        elbv2.create_load_balancer(
            Name=f"uvm-alb-{n + 1}",
            Subnets=subnet_ids,
            SecurityGroups=[sg_id],
            Scheme="internet-facing" if n % 2 == 0 else "internal",
            Type="application",
            Tags=_tag_list({"Name": f"uvm-alb-{n + 1}", **base_tags}),
        )
    elb = client("elb")
    for n in range(scale):
        elb.create_load_balancer(
            LoadBalancerName=f"uvm-clb-{n + 1}",
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
            Subnets=subnet_ids,
            SecurityGroups=[sg_id],
            Tags=_tag_list({"Name": f"uvm-clb-{n + 1}", **base_tags}),
        )

    # -- EKS ---------------------------------------------------------------------------------
    eks = client("eks")
    eks_clusters = []
    for n in range(2 * scale):
        cluster = eks.create_cluster(
            name=f"uvm-eks-{n + 1}",
            roleArn=f"arn:aws:iam::{account_id}:role/{EKS_ROLE_NAME}",
            resourcesVpcConfig={"subnetIds": subnet_ids, "securityGroupIds": [sg_id]},
            tags={"Owner": "uvm-seed"},
        )["cluster"]
        eks_clusters.append(EksCluster(name=cluster["name"], arn=cluster["arn"]))

    # -- RDS ---------------------------------------------------------------------------------
    rds = client("rds")
    subnet_group = "uvm-db-subnets"
    rds.create_db_subnet_group(
        DBSubnetGroupName=subnet_group,
        DBSubnetGroupDescription="uvm seed",
        SubnetIds=subnet_ids,
    )
    rds_instances = []
    for n in range(2 * scale):
        public = n % 2 == 0
        tags = {"Name": f"uvm-db-{n + 1}", "Exposure": "public" if public else "private"}
        db = rds.create_db_instance(
            DBInstanceIdentifier=f"uvm-db-{n + 1}",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="uvmadmin",
            MasterUserPassword="not-a-real-password",
            PubliclyAccessible=public,
            DBSubnetGroupName=subnet_group,
            VpcSecurityGroupIds=[sg_id],
            Tags=_tag_list(tags),
        )["DBInstance"]
        rds_instances.append(
            RdsInstance(
                identifier=db["DBInstanceIdentifier"],
                arn=db["DBInstanceArn"],
                publicly_accessible=bool(db["PubliclyAccessible"]),
                engine=db["Engine"],
                subnet_group=subnet_group,
                security_group_ids=(sg_id,),
                tags=tags,
            )
        )

    # -- ECR ---------------------------------------------------------------------------------
    ecr = client("ecr")
    repositories = []
    for n in range(3 * scale):
        repo = ecr.create_repository(
            repositoryName=f"uvm/app-{n + 1}",
            imageScanningConfiguration={"scanOnPush": False},
            tags=_tag_list({"Owner": "uvm-seed"}),
        )["repository"]
        draft = EcrRepositoryDraft(
            repo["repositoryName"], repo["repositoryArn"], repo["repositoryUri"]
        )
        images = []
        for i, plan in enumerate(_repository_plan(n)):
            manifest = _manifest(f"{account_id}/{region}/{draft.name}/{i}")
            digest = None
            for tag in plan.tags or (None,):
                kwargs: dict[str, Any] = {"repositoryName": draft.name, "imageManifest": manifest}
                if tag is not None:
                    kwargs["imageTag"] = tag
                digest = ecr.put_image(**kwargs)["image"]["imageId"]["imageDigest"]
            assert digest is not None
            scan, inspector = _plan_scan(account_id, region, draft, digest, plan)
            if scan is not None:
                # moto then knows the image was scanned (a fallback answer, not ScanNotFound)
                ecr.start_image_scan(repositoryName=draft.name, imageId={"imageDigest": digest})
            status = "ACTIVE"
            if archived_images and n % 3 == 0 and i == 1:
                status = "ARCHIVED"
            elif archived_images and n % 3 == 0 and i == 2:
                status = "ACTIVATING"
            images.append(
                EcrImage(
                    draft.name,
                    digest,
                    plan.tags,
                    scan,
                    inspector,
                    status,
                    f"{draft.arn}/{digest}",
                )
            )
        repositories.append(EcrRepository(draft.name, draft.arn, draft.uri, tuple(images)))

    # -- read back everything that exists here -----------------------------------------------
    return _read_back(
        clients,
        account_id,
        region,
        vpc_id=vpc_id,
        subnet_ids=tuple(subnet_ids),
        sg_id=sg_id,
        repositories=tuple(repositories),
        eks_clusters=tuple(eks_clusters),
        rds_instances=tuple(rds_instances),
    )


def _plan_scan(
    account_id: str, region: str, repo: EcrRepositoryDraft, digest: str, plan: _ImagePlan
) -> tuple[EcrScan | None, tuple[dict[str, Any], ...]]:
    if plan.scan == "none":
        return None, ()
    if plan.scan == "enhanced":
        findings, inspector = _enhanced_findings(
            account_id, region, repo, digest, plan.tags, count=plan.count
        )
        scan = EcrScan(
            status="ACTIVE",
            description="Continuous scan is selected for image.",
            completed_at=SCAN_COMPLETED_AT,
            vulnerability_source_updated_at=SOURCE_UPDATED_AT,
            findings=findings,
        )
        return scan, inspector
    basic = _basic_findings(f"{account_id}/{region}/{repo.name}/{digest}", plan.count)
    return EcrScan(
        status="COMPLETE",
        description="The scan was completed successfully.",
        completed_at=SCAN_COMPLETED_AT,
        vulnerability_source_updated_at=SOURCE_UPDATED_AT,
        findings=basic,
    ), ()


def _read_back(
    clients: _Clients,
    account_id: str,
    region: str,
    *,
    vpc_id: str,
    subnet_ids: tuple[str, ...],
    sg_id: str,
    repositories: tuple[EcrRepository, ...],
    eks_clusters: tuple[EksCluster, ...],
    rds_instances: tuple[RdsInstance, ...],
) -> RegionResources:
    ec2 = clients(account_id, "ec2", region)
    vpcs = _paginate(ec2, "describe_vpcs", "Vpcs")
    default_vpc = next((v["VpcId"] for v in vpcs if v.get("IsDefault")), None)
    instances = []
    for reservation in _paginate(ec2, "describe_instances", "Reservations"):
        for inst in reservation["Instances"]:
            instances.append(
                Ec2Instance(
                    instance_id=inst["InstanceId"],
                    arn=f"arn:aws:ec2:{region}:{account_id}:instance/{inst['InstanceId']}",
                    reservation_id=reservation["ReservationId"],
                    vpc_id=inst.get("VpcId", ""),
                    subnet_id=inst.get("SubnetId", ""),
                    instance_type=inst["InstanceType"],
                    tags=_tags_map(inst.get("Tags")),
                    private_ip=inst.get("PrivateIpAddress", ""),
                    public_ip=inst.get("PublicIpAddress") or None,
                    image_id=inst.get("ImageId", AMI_ID),
                )
            )
    addresses = tuple(
        Address(a["AllocationId"], a["PublicIp"])
        for a in ec2.describe_addresses()["Addresses"]  # not paginated
    )
    elbv2 = clients(account_id, "elbv2", region)
    elb = clients(account_id, "elb", region)
    load_balancers: list[LoadBalancer] = []
    v2 = _paginate(elbv2, "describe_load_balancers", "LoadBalancers")
    if v2:
        described = elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"] for lb in v2])
        v2_tags = {d["ResourceArn"]: _tags_map(d.get("Tags")) for d in described["TagDescriptions"]}
        for lb in v2:
            load_balancers.append(
                LoadBalancer(
                    "application",
                    lb["LoadBalancerName"],
                    lb["LoadBalancerArn"],
                    lb["DNSName"],
                    v2_tags.get(lb["LoadBalancerArn"], {}),
                )
            )
    classic = _paginate(elb, "describe_load_balancers", "LoadBalancerDescriptions")
    if classic:
        names = [lb["LoadBalancerName"] for lb in classic]
        described = elb.describe_tags(LoadBalancerNames=names)
        classic_tags = {
            d["LoadBalancerName"]: _tags_map(d.get("Tags")) for d in described["TagDescriptions"]
        }
        for lb in classic:
            name = lb["LoadBalancerName"]
            load_balancers.append(
                LoadBalancer(
                    "classic",
                    name,
                    f"arn:aws:elasticloadbalancing:{region}:{account_id}:loadbalancer/{name}",
                    lb["DNSName"],
                    classic_tags.get(name, {}),
                )
            )
    network = {
        "internet_gateways": tuple(
            g["InternetGatewayId"]
            for g in _paginate(ec2, "describe_internet_gateways", "InternetGateways")
        ),
        "nat_gateways": tuple(
            g["NatGatewayId"] for g in _paginate(ec2, "describe_nat_gateways", "NatGateways")
        ),
        "load_balancers": tuple(lb.arn for lb in load_balancers),
        "vpc_cidrs": tuple(v["VpcId"] for v in vpcs),
        "vpc_subnets": tuple(s["SubnetId"] for s in _paginate(ec2, "describe_subnets", "Subnets")),
        "addresses": tuple(a.allocation_id for a in addresses),
        "network_interfaces": tuple(
            n["NetworkInterfaceId"]
            for n in _paginate(ec2, "describe_network_interfaces", "NetworkInterfaces")
        ),
    }
    # the ECR and EKS read-back: the describes must agree with what was created
    eks_names = set(_paginate(clients(account_id, "eks", region), "list_clusters", "clusters"))
    if eks_names != {c.name for c in eks_clusters}:
        raise RuntimeError(f"{account_id}/{region}: EKS clusters {sorted(eks_names)} unexpected")
    return RegionResources(
        account_id=account_id,
        region=region,
        vpc_id=vpc_id,
        default_vpc_id=default_vpc,
        subnet_ids=subnet_ids,
        security_group_id=sg_id,
        instances=tuple(instances),
        ecr_repositories=repositories,
        eks_clusters=eks_clusters,
        rds_instances=rds_instances,
        load_balancers=tuple(load_balancers),
        addresses=addresses,
        network={k: tuple(sorted(v)) for k, v in network.items()},
    )
