"""The seeded demo organization: what seed_organization reports is exactly what exists.

Every check reads the emulator back with independent boto3 calls, signed in the right account
(OrganizationAccountAccessRole assumed here, not through the seed's helpers).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from aws_emulator import Emulator, ecr_scans
from aws_emulator.ecr_scans import EcrScanStore
from aws_emulator.handlers import AwsRequest
from aws_emulator.seed import (
    MANAGEMENT_ACCOUNT_ID,
    Organization,
    RegionResources,
    seed_organization,
)
from botocore.exceptions import ClientError

REGIONS = ("us-east-1", "eu-west-1")

# The tap's `network_data_types` (its README): the seed covers every one.
NETWORK_DATA_TYPES = {
    "internet_gateways",
    "nat_gateways",
    "load_balancers",
    "vpc_cidrs",
    "vpc_subnets",
    "addresses",
    "network_interfaces",
}


# ---------------------------------------------------------------------------------------------
# A moto server of our own


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/moto-api/data.json", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The emulator (our wrapper around moto's server): what the tap's tests run against."""
    with Emulator.start() as emulator:
        yield emulator.endpoint_url


@pytest.fixture(scope="module")
def org(endpoint: str) -> Organization:
    return seed_organization(endpoint, regions=REGIONS, members=2, suspended=1)


def _session(endpoint: str, account_id: str) -> boto3.Session:
    base = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    if account_id == MANAGEMENT_ACCOUNT_ID:
        return base
    creds = base.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="test-seed",
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


@pytest.fixture(scope="module")
def sessions(endpoint: str, org: Organization) -> dict[str, boto3.Session]:
    return {a.id: _session(endpoint, a.id) for a in org.active_accounts}


def _client(
    sessions: dict[str, boto3.Session],
    endpoint: str,
    account: str,
    service: str,
    region: str = "us-east-1",
) -> Any:
    return sessions[account].client(service, region_name=region, endpoint_url=endpoint)


def _all(client: Any, op: str, key: str, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    for page in client.get_paginator(op).paginate(**kwargs):
        out.extend(page[key])
    return out


# ---------------------------------------------------------------------------------------------
# Organization and accounts


def test_accounts_and_statuses(endpoint: str, org: Organization, sessions: dict) -> None:
    assert org.seconds < 120, org.seconds
    assert len(org.accounts) == 4
    assert org.accounts[0].id == MANAGEMENT_ACCOUNT_ID
    assert org.accounts[0].is_management
    assert org.active_accounts[0].id == MANAGEMENT_ACCOUNT_ID
    assert len(org.active_accounts) == 3
    assert len(org.suspended_accounts) == 1
    assert len({a.id for a in org.accounts}) == 4

    orgs = _client(sessions, endpoint, MANAGEMENT_ACCOUNT_ID, "organizations")
    listed = {a["Id"]: a for a in _all(orgs, "list_accounts", "Accounts")}
    assert set(listed) == {a.id for a in org.accounts}
    for account in org.accounts:
        assert listed[account.id]["Status"] == account.status
        assert listed[account.id]["Name"] == account.name
        assert listed[account.id]["Arn"] == account.arn
        tags = orgs.list_tags_for_resource(ResourceId=account.id)["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == account.tags
        assert account.tags  # accounts_include_tags has something to read
    for account in org.suspended_accounts:
        assert listed[account.id]["Status"] == "SUSPENDED"
        assert account.role_arn is None
        with pytest.raises(KeyError):
            org.role_arn(account.id)
    assert org.organization_id == orgs.describe_organization()["Organization"]["Id"]


def test_tap_roles_live_in_their_accounts(endpoint: str, org: Organization, sessions: dict) -> None:
    assert org.management_role_arn == f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/TapReadRole"
    for account in org.active_accounts:
        assert org.role_arn(account.id) == f"arn:aws:iam::{account.id}:role/TapReadRole"
        iam = _client(sessions, endpoint, account.id, "iam")
        role = iam.get_role(RoleName="TapReadRole")["Role"]
        assert role["Arn"] == org.role_arn(account.id)
        sts = _client(sessions, endpoint, account.id, "sts")
        assert sts.get_caller_identity()["Account"] == account.id
        # the tap's way in: assume TapReadRole, land in that account
        creds = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).assume_role(RoleArn=org.role_arn(account.id), RoleSessionName="tap")["Credentials"]
        who = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).get_caller_identity()
        assert who["Account"] == account.id


# ---------------------------------------------------------------------------------------------
# Per account and region


def _partitions(org: Organization) -> list[RegionResources]:
    return list(org.partitions())


def test_every_partition_is_seeded(org: Organization) -> None:
    keys = {(r.account_id, r.region) for r in _partitions(org)}
    assert keys == {(a.id, r) for a in org.active_accounts for r in REGIONS}
    assert set(org.resources_by_partition) == keys
    for res in _partitions(org):
        assert len(res.instances) == 5
        assert sorted(
            sum(1 for i in res.instances if i.reservation_id == rid) for rid in res.reservation_ids
        ) == [2, 3]
        assert len(res.eks_clusters) == 2
        assert sorted(d.publicly_accessible for d in res.rds_instances) == [False, True]
        assert [lb.kind for lb in res.load_balancers].count("application") == 2
        assert [lb.kind for lb in res.load_balancers].count("classic") == 1
        assert len(res.ecr_repositories) == 3
        assert res.default_vpc_id in res.network["vpc_cidrs"]
        assert res.vpc_id in res.network["vpc_cidrs"]
        assert set(res.network) == NETWORK_DATA_TYPES
        for ids in res.network.values():
            assert ids
    # no id is shared between two partitions
    seen: set[str] = set()
    for res in _partitions(org):
        ids = {i.instance_id for i in res.instances} | {x for v in res.network.values() for x in v}
        assert not ids & seen
        seen |= ids


@pytest.mark.parametrize("index", range(6))
def test_ec2_and_network_exact(
    endpoint: str, org: Organization, sessions: dict, index: int
) -> None:
    res = _partitions(org)[index]
    ec2 = _client(sessions, endpoint, res.account_id, "ec2", res.region)
    reservations = _all(ec2, "describe_instances", "Reservations")
    got = {
        i["InstanceId"]: (r["ReservationId"], {t["Key"]: t["Value"] for t in i.get("Tags", [])})
        for r in reservations
        for i in r["Instances"]
    }
    assert got == {i.instance_id: (i.reservation_id, dict(i.tags)) for i in res.instances}
    for inst in res.instances:
        assert inst.arn == f"arn:aws:ec2:{res.region}:{res.account_id}:instance/{inst.instance_id}"
        assert inst.tags["Name"].startswith("uvm-")

    def ids(op: str, key: str, id_key: str) -> list[str]:
        return sorted(x[id_key] for x in _all(ec2, op, key))

    assert ids("describe_vpcs", "Vpcs", "VpcId") == list(res.network["vpc_cidrs"])
    assert ids("describe_subnets", "Subnets", "SubnetId") == list(res.network["vpc_subnets"])
    assert ids("describe_internet_gateways", "InternetGateways", "InternetGatewayId") == list(
        res.network["internet_gateways"]
    )
    assert ids("describe_nat_gateways", "NatGateways", "NatGatewayId") == list(
        res.network["nat_gateways"]
    )
    assert ids("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId") == list(
        res.network["network_interfaces"]
    )
    addresses = ec2.describe_addresses()["Addresses"]
    assert sorted(a["AllocationId"] for a in addresses) == list(res.network["addresses"])
    assert {(a["AllocationId"], a["PublicIp"]) for a in addresses} == {
        (a.allocation_id, a.public_ip) for a in res.addresses
    }
    vpc = ec2.describe_vpcs(VpcIds=[res.vpc_id])["Vpcs"][0]
    assert not vpc["IsDefault"]
    assert {t["Key"] for t in vpc["Tags"]} >= {"Name", "Owner"}
    igw = ec2.describe_internet_gateways()["InternetGateways"]
    assert any(a["VpcId"] == res.vpc_id for g in igw for a in g.get("Attachments", []))

    elbv2 = _client(sessions, endpoint, res.account_id, "elbv2", res.region)
    elb = _client(sessions, endpoint, res.account_id, "elb", res.region)
    v2 = _all(elbv2, "describe_load_balancers", "LoadBalancers")
    classic = _all(elb, "describe_load_balancers", "LoadBalancerDescriptions")
    built = [
        f"arn:aws:elasticloadbalancing:{res.region}:{res.account_id}:loadbalancer/"
        f"{lb['LoadBalancerName']}"
        for lb in classic
    ]
    assert sorted([lb["LoadBalancerArn"] for lb in v2] + built) == list(
        res.network["load_balancers"]
    )
    tags = elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"] for lb in v2])
    for description in tags["TagDescriptions"]:
        assert description["Tags"]
    for lb in res.load_balancers:
        assert lb.tags


@pytest.mark.parametrize("index", range(6))
def test_eks_rds_exact(endpoint: str, org: Organization, sessions: dict, index: int) -> None:
    res = _partitions(org)[index]
    eks = _client(sessions, endpoint, res.account_id, "eks", res.region)
    names = _all(eks, "list_clusters", "clusters")
    assert sorted(names) == sorted(c.name for c in res.eks_clusters)
    for cluster in res.eks_clusters:
        arn = eks.describe_cluster(name=cluster.name)["cluster"]["arn"]
        assert arn == cluster.arn
        assert f":{res.account_id}:" in arn
        assert f":{res.region}:" in arn

    rds = _client(sessions, endpoint, res.account_id, "rds", res.region)
    dbs = _all(rds, "describe_db_instances", "DBInstances")
    got = {(d["DBInstanceIdentifier"], d["DBInstanceArn"], d["PubliclyAccessible"]) for d in dbs}
    assert got == {(d.identifier, d.arn, d.publicly_accessible) for d in res.rds_instances}
    for db in dbs:
        assert f":{res.account_id}:" in db["DBInstanceArn"]
        assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "uvm-db-subnets"
        assert {t["Key"] for t in db["TagList"]} >= {"Name"}


@pytest.mark.parametrize("index", range(6))
def test_ecr_images_and_findings_exact(
    endpoint: str, org: Organization, sessions: dict, index: int
) -> None:
    res = _partitions(org)[index]
    ecr = _client(sessions, endpoint, res.account_id, "ecr", res.region)
    _check_ecr(ecr, res, paged=org.findings_served_by == "emulator")


def _check_ecr(ecr: Any, res: RegionResources, *, paged: bool) -> None:
    repos = _all(ecr, "describe_repositories", "repositories")
    assert {(r["repositoryName"], r["repositoryArn"]) for r in repos} == {
        (r.name, r.arn) for r in res.ecr_repositories
    }
    images = res.ecr_images
    # the mix the tap's tests need, in every account-region
    assert any(not i.image_tags for i in images)
    assert any(len(i.image_tags) == 2 for i in images)
    assert any(i.scan is None for i in images)
    kinds = {f.kind for i in images for f in i.findings}
    assert kinds == {"basic", "enhanced"}
    assert any(i.scan is not None and not i.findings for i in images)
    assert any(len(i.findings) > 5 for i in images)  # several pages at PageSize 5
    assert len({i.image_digest for i in images}) == len(images)

    for repo in res.ecr_repositories:
        details = _all(ecr, "describe_images", "imageDetails", repositoryName=repo.name)
        assert sorted(
            (d["imageDigest"], tuple(sorted(d.get("imageTags", [])))) for d in details
        ) == sorted((i.image_digest, tuple(sorted(i.image_tags))) for i in repo.images)
        for image in repo.images:
            image_id = {"imageDigest": image.image_digest}
            if image.scan is None:
                with pytest.raises(ClientError) as raised:
                    ecr.describe_image_scan_findings(repositoryName=repo.name, imageId=image_id)
                assert raised.value.response["Error"]["Code"] == "ScanNotFoundException"
                continue
            pages = list(
                ecr.get_paginator("describe_image_scan_findings").paginate(
                    repositoryName=repo.name,
                    imageId=image_id,
                    PaginationConfig={"PageSize": 5},
                )
            )
            got = [
                f
                for p in pages
                for key in ("findings", "enhancedFindings")
                for f in p["imageScanFindings"].get(key, [])
            ]
            assert [_finding_id(f) for f in got] == [f.finding_id for f in image.findings]
            assert _plain(got) == [dict(f.data) for f in image.findings]
            first = pages[0]
            assert first["imageScanStatus"]["status"] == image.scan.status
            assert first["imageScanFindings"]["imageScanCompletedAt"] == image.scan.completed_at
            assert first["imageScanFindings"]["findingSeverityCounts"] == image.scan.severity_counts
            if paged:
                assert len(pages) == max(1, -(-len(image.findings) // 5))


def _plain(value: Any) -> Any:
    """boto3 parses epoch timestamps into datetimes: back to epoch seconds, as the seed has."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _finding_id(finding: dict[str, Any]) -> str:
    if "findingArn" in finding:
        return str(finding["findingArn"])
    attrs = {a["key"]: a.get("value") for a in finding.get("attributes", [])}
    return f"{finding['name']}|{attrs.get('package_name')}|{attrs.get('package_version')}"


def test_buckets_exact(endpoint: str, org: Organization, sessions: dict) -> None:
    for account in org.active_accounts:
        s3 = _client(sessions, endpoint, account.id, "s3")
        listed = s3.list_buckets()["Buckets"]
        expected = org.buckets(account.id)
        assert sorted(b["Name"] for b in listed) == [b.name for b in expected]
        assert len(expected) == 3
        assert {b.region for b in expected} == set(REGIONS)
        for bucket in expected:
            assert bucket.arn == f"arn:aws:s3:::{bucket.name}"
            assert account.id in bucket.name
            location = s3.get_bucket_location(Bucket=bucket.name)["LocationConstraint"]
            assert (location or "us-east-1") == bucket.region
            assert bucket.creation_date.tzinfo is not None
    assert len(org.buckets()) == 9


def test_small_org_and_scale_on_bare_moto() -> None:
    """No wrapper: findings go through moto's static results (whole, unpaged)."""
    with moto_server() as url:
        small = seed_organization(url, regions=("eu-west-1",), members=0, suspended=0, scale=2)
        assert small.findings_served_by == "moto"
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        _check_ecr(ecr, small.resources(MANAGEMENT_ACCOUNT_ID, "eu-west-1"), paged=False)
    assert [a.id for a in small.accounts] == [MANAGEMENT_ACCOUNT_ID]
    assert small.suspended_accounts == ()
    res = small.resources(MANAGEMENT_ACCOUNT_ID, "eu-west-1")
    assert len(res.instances) == 10
    assert len(res.reservation_ids) == 4
    assert len(res.ecr_repositories) == 6
    assert len(res.eks_clusters) == 4
    assert len(res.rds_instances) == 4
    assert len(small.buckets(MANAGEMENT_ACCOUNT_ID)) == 6
    assert {b.region for b in small.buckets()} == {"eu-west-1"}


# ---------------------------------------------------------------------------------------------
# The DescribeImageScanFindings handler on its own


class _App:
    def __init__(self) -> None:
        self.operations: dict[tuple[str, str], Any] = {}
        self.routes: dict[str, Any] = {}

    def add_operation_handler(self, service: str, operation: str, handler: Any) -> None:
        self.operations[(service, operation)] = handler

    def add_control_route(self, path: str, handler: Any) -> None:
        self.routes[path] = handler


def _request(
    params: dict[str, Any], account: str = "111111111111", region: str = "eu-west-1"
) -> AwsRequest:
    body = json.dumps(params).encode()
    return AwsRequest(
        service="ecr",
        operation="DescribeImageScanFindings",
        protocol="json",
        account_id=account,
        region=region,
        method="POST",
        path="/",
        query={},
        headers={"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeImageScanFindings"},
        body=body,
        params=params,
    )


def _basic(n: int) -> dict[str, Any]:
    return {
        "name": f"CVE-2024-{n:05d}",
        "severity": ("HIGH", "LOW")[n % 2],
        "attributes": [
            {"key": "package_name", "value": "zlib"},
            {"key": "package_version", "value": f"1.{n}"},
        ],
    }


@pytest.fixture
def store() -> tuple[EcrScanStore, _App]:
    app = _App()
    scans = ecr_scans.install(app)
    app.routes["ecr-scans/load"](
        {
            "images": [
                {
                    "account_id": "111111111111",
                    "region": "eu-west-1",
                    "repository_name": "repo",
                    "image_digest": "sha256:aaa",
                    "image_tags": ["v1", "latest"],
                    "image_scan_completed_at": 1714564800.0,
                    "vulnerability_source_updated_at": 1714435200.0,
                    "findings": [_basic(n) for n in range(7)],
                },
                {
                    "account_id": "111111111111",
                    "region": "eu-west-1",
                    "repository_name": "repo",
                    "image_digest": "sha256:bbb",
                    "image_scan_status": {"status": "ACTIVE", "description": "continuous"},
                    "enhanced_findings": [
                        {
                            "findingArn": f"arn:aws:inspector2:eu-west-1:111111111111:finding/{n}",
                            "severity": "CRITICAL",
                        }
                        for n in range(2)
                    ],
                },
            ]
        }
    )
    return scans, app


def _call(app: _App, params: dict[str, Any], **kw: Any) -> tuple[int, dict[str, Any]] | None:
    response = app.operations[("ecr", "DescribeImageScanFindings")](_request(params, **kw))
    if response is None:
        return None
    return response.status, json.loads(response.body)


def test_handler_pages_findings(store: tuple[EcrScanStore, _App]) -> None:
    _, app = store
    params: dict[str, Any] = {
        "repositoryName": "repo",
        "imageId": {"imageDigest": "sha256:aaa"},
        "maxResults": 3,
    }
    names: list[str] = []
    pages = 0
    while True:
        result = _call(app, params)
        assert result is not None
        status, body = result
        assert status == 200
        pages += 1
        findings = body["imageScanFindings"]
        assert findings["findingSeverityCounts"] == {"HIGH": 4, "LOW": 3}
        assert findings["imageScanCompletedAt"] == 1714564800.0
        assert "enhancedFindings" not in findings
        assert body["imageScanStatus"]["status"] == "COMPLETE"
        assert body["imageId"]["imageDigest"] == "sha256:aaa"
        assert len(findings["findings"]) <= 3
        names += [f["name"] for f in findings["findings"]]
        if "nextToken" not in body:
            break
        params = {**params, "nextToken": body["nextToken"]}
    assert pages == 3
    assert names == [f"CVE-2024-{n:05d}" for n in range(7)]

    # default page size holds everything; a tag names the image too
    result = _call(app, {"repositoryName": "repo", "imageId": {"imageTag": "latest"}})
    assert result is not None
    assert len(result[1]["imageScanFindings"]["findings"]) == 7
    assert "nextToken" not in result[1]
    assert result[1]["imageId"] == {"imageDigest": "sha256:aaa", "imageTag": "latest"}


def test_handler_enhanced_and_errors(store: tuple[EcrScanStore, _App]) -> None:
    scans, app = store
    result = _call(
        app, {"repositoryName": "repo", "imageId": {"imageDigest": "sha256:bbb"}, "maxResults": 1}
    )
    assert result is not None
    _, body = result
    assert body["imageScanStatus"]["status"] == "ACTIVE"
    assert len(body["imageScanFindings"]["enhancedFindings"]) == 1
    assert "findings" not in body["imageScanFindings"]
    assert body["imageScanFindings"]["findingSeverityCounts"] == {"CRITICAL": 2}
    assert body["nextToken"]

    # unknown image, repository, region, account, or a registryId elsewhere: moto answers
    for params, kw in (
        ({"repositoryName": "repo", "imageId": {"imageDigest": "sha256:ccc"}}, {}),
        ({"repositoryName": "other", "imageId": {"imageDigest": "sha256:aaa"}}, {}),
        ({"repositoryName": "repo", "imageId": {"imageTag": "nope"}}, {}),
        (
            {"repositoryName": "repo", "imageId": {"imageDigest": "sha256:aaa"}},
            {"region": "us-east-1"},
        ),
        (
            {"repositoryName": "repo", "imageId": {"imageDigest": "sha256:aaa"}},
            {"account": "222222222222"},
        ),
        (
            {
                "repositoryName": "repo",
                "imageId": {"imageDigest": "sha256:aaa"},
                "registryId": "222222222222",
            },
            {},
        ),
    ):
        assert _call(app, params, **kw) is None
    # cross-account read of the registry that holds the image
    assert (
        _call(
            app,
            {
                "repositoryName": "repo",
                "imageId": {"imageDigest": "sha256:aaa"},
                "registryId": "111111111111",
            },
            account="222222222222",
        )
        is not None
    )

    for bad in (0, 1001, "5"):
        result = _call(
            app,
            {"repositoryName": "repo", "imageId": {"imageDigest": "sha256:aaa"}, "maxResults": bad},
        )
        assert result is not None
        assert result[0] == 400
        assert result[1]["__type"] == "InvalidParameterException"
    other_token = base64.urlsafe_b64encode(b'{"o": 1, "d": "nothing"}').decode()
    for token in ("garbage!", other_token):
        result = _call(
            app,
            {
                "repositoryName": "repo",
                "imageId": {"imageDigest": "sha256:aaa"},
                "nextToken": token,
            },
        )
        assert result is not None
        assert result[0] == 400

    assert app.routes["ecr-scans/reset"]({}) == {"reset": True}
    assert _call(app, {"repositoryName": "repo", "imageId": {"imageDigest": "sha256:aaa"}}) is None
    with pytest.raises(ValueError, match="images"):
        scans.load({})


def test_handler_and_external_id_through_the_emulator() -> None:
    """Findings pages and ScanNotFoundException over HTTP; TapReadRole requires ExternalId."""
    with Emulator.start() as emulator:
        url = emulator.endpoint_url
        small = seed_organization(
            url, regions=("us-east-1",), members=1, suspended=0, external_id="uvm-demo-external"
        )
        assert small.findings_served_by == "emulator"
        assert small.external_id == "uvm-demo-external"
        sts = boto3.client(
            "sts",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for account in small.active_accounts:
            role = small.role_arn(account.id)
            with pytest.raises(ClientError):
                sts.assume_role(RoleArn=role, RoleSessionName="tap")
            with pytest.raises(ClientError):
                sts.assume_role(RoleArn=role, RoleSessionName="tap", ExternalId="wrong-one")
            sts.assume_role(RoleArn=role, RoleSessionName="tap", ExternalId="uvm-demo-external")

        res = small.resources(MANAGEMENT_ACCOUNT_ID, "us-east-1")
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for repo in res.ecr_repositories:
            for image in repo.images:
                image_id = {"imageDigest": image.image_digest}
                if image.scan is None:
                    with pytest.raises(ClientError) as raised:
                        ecr.describe_image_scan_findings(repositoryName=repo.name, imageId=image_id)
                    assert raised.value.response["Error"]["Code"] == "ScanNotFoundException"
                    continue
                pages = list(
                    ecr.get_paginator("describe_image_scan_findings").paginate(
                        repositoryName=repo.name,
                        imageId=image_id,
                        PaginationConfig={"PageSize": 2},
                    )
                )
                got = [
                    f
                    for p in pages
                    for k in ("findings", "enhancedFindings")
                    for f in p["imageScanFindings"].get(k, [])
                ]
                assert _plain(got) == [dict(f.data) for f in image.findings]
                assert len(pages) == max(1, -(-len(image.findings) // 2))
                # by tag too, when it has one
                for tag in image.image_tags:
                    answer = ecr.describe_image_scan_findings(
                        repositoryName=repo.name, imageId={"imageTag": tag}, maxResults=1000
                    )
                    assert answer["imageId"]["imageDigest"] == image.image_digest
        # the emulator's reset forgets loaded findings with the rest
        emulator.reset()
        assert requests.post(f"{url}/_emulator/ecr-scans/reset", json={}, timeout=10).ok
