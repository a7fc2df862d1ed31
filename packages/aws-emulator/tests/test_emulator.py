"""The AWS emulator: moto behind our wrapper, driven by real boto3 clients over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_emulator import Emulator, EmulatorError
from aws_emulator.faults import throttle_draw
from aws_emulator.handlers import AwsRequest, AwsResponse
from aws_emulator.server import EmulatorServer
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.serving import make_server

DEFAULT_ACCOUNT = "123456789012"
MEMBER = "111111111111"
ROLE = f"arn:aws:iam::{MEMBER}:role/audit"
AMI = "ami-12c6146b"


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    with Emulator.start() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(aws: Emulator) -> None:
    aws.reset()


def client(
    aws: Emulator,
    service: str,
    region: str = "us-east-1",
    *,
    attempts: int = 3,
    creds: dict[str, str] | None = None,
    pool: int = 10,
) -> Any:
    credentials = creds or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=aws.endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            max_pool_connections=pool,
        ),
        **credentials,
    )


def assume(aws: Emulator, role_arn: str = ROLE, **kwargs: Any) -> dict[str, Any]:
    answer = client(aws, "sts").assume_role(RoleArn=role_arn, RoleSessionName="test", **kwargs)
    return dict(answer["Credentials"])


def creds_of(credentials: dict[str, Any]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def request_count(aws: Emulator, service: str, operation: str, **match: str) -> int:
    return sum(
        row["count"]
        for row in aws.counts()["requests"]
        if row["service"] == service
        and row["operation"] == operation
        and all(row[k] == v for k, v in match.items())
    )


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return str(info.value.response["Error"]["Code"])


# ---- counting -----------------------------------------------------------------------------


def test_counts_requests_per_operation_account_and_region(aws: Emulator) -> None:
    client(aws, "ec2").describe_vpcs()
    client(aws, "ec2", "eu-west-1").describe_vpcs()
    member = creds_of(assume(aws))
    member_ec2 = client(aws, "ec2", "eu-west-1", creds=member)
    member_ec2.describe_vpcs()
    member_ec2.describe_vpcs()
    assert client(aws, "sts", creds=member).get_caller_identity()["Account"] == MEMBER

    counts = aws.counts()
    rows = {
        (r["service"], r["operation"], r["account"], r["region"]): r["count"]
        for r in counts["requests"]
    }
    assert rows == {
        ("ec2", "DescribeVpcs", DEFAULT_ACCOUNT, "us-east-1"): 1,
        ("ec2", "DescribeVpcs", DEFAULT_ACCOUNT, "eu-west-1"): 1,
        ("ec2", "DescribeVpcs", MEMBER, "eu-west-1"): 2,
        ("sts", "AssumeRole", DEFAULT_ACCOUNT, "us-east-1"): 1,
        ("sts", "GetCallerIdentity", MEMBER, "us-east-1"): 1,
    }
    assert counts["signed_by"] == {DEFAULT_ACCOUNT: 3, MEMBER: 3}
    assert counts["assume_role"] == {MEMBER: 1}
    assert counts["injected"] == {}

    aws.reset_counts()
    assert aws.counts()["requests"] == []


def test_operation_names_for_every_protocol(aws: Emulator) -> None:
    client(aws, "ecr").describe_repositories()  # json
    client(aws, "eks").list_clusters()  # rest-json
    client(aws, "s3").list_buckets()  # rest-xml
    client(aws, "iam").list_roles()  # query
    client(aws, "elbv2").describe_load_balancers()  # query, signs as elasticloadbalancing
    client(aws, "elb").describe_load_balancers()  # same signing name, older API version
    seen = {(r["service"], r["operation"]) for r in aws.counts()["requests"]}
    assert seen == {
        ("ecr", "DescribeRepositories"),
        ("eks", "ListClusters"),
        ("s3", "ListBuckets"),
        ("iam", "ListRoles"),
        ("elbv2", "DescribeLoadBalancers"),
        ("elb", "DescribeLoadBalancers"),
    }


# ---- throttling ---------------------------------------------------------------------------

THROTTLED_CALLS: list[tuple[str, str, str, Callable[[Any], Any]]] = [
    ("ec2", "DescribeVpcs", "RequestLimitExceeded", lambda c: c.describe_vpcs()),
    ("sts", "GetCallerIdentity", "Throttling", lambda c: c.get_caller_identity()),
    ("ecr", "DescribeRepositories", "ThrottlingException", lambda c: c.describe_repositories()),
    ("eks", "ListClusters", "ThrottlingException", lambda c: c.list_clusters()),
    ("s3", "ListBuckets", "SlowDown", lambda c: c.list_buckets()),
]


def seed_throttling_first(rate: float, throttled: int, key: str) -> int:
    """A seed whose first ``throttled`` attempts of ``key`` throttle and whose next does not."""
    for seed in range(10_000):
        draws = [throttle_draw(seed, key, attempt) < rate for attempt in range(throttled + 1)]
        if all(draws[:throttled]) and not draws[throttled]:
            return seed
    raise AssertionError("no seed")


@pytest.mark.parametrize(("service", "operation", "code", "call"), THROTTLED_CALLS)
def test_throttling_is_retried_by_botocore(
    aws: Emulator, service: str, operation: str, code: str, call: Callable[[Any], Any]
) -> None:
    aws_client = client(aws, service, attempts=5)
    key = f"{service}:{operation}:123456789012:us-east-1"
    aws.configure(throttle_rate=0.5, seed=seed_throttling_first(0.5, 2, key))
    call(aws_client)  # two throttled answers, then the real one
    assert aws.counts()["injected"] == {code: 2}
    assert request_count(aws, service, operation) == 3


def test_throttling_exhausts_retries_and_is_restricted_by_service(aws: Emulator) -> None:
    aws.configure(throttle_rate=1.0, throttle_services=["ec2"])
    assert (
        error_code(lambda: client(aws, "ec2", attempts=2).describe_vpcs()) == "RequestLimitExceeded"
    )
    client(aws, "sts").get_caller_identity()
    assert aws.counts()["injected"] == {"RequestLimitExceeded": 2}
    aws.configure()
    client(aws, "ec2").describe_vpcs()


# ---- denied and disabled ------------------------------------------------------------------

FAULT_CALLS: list[tuple[str, Callable[[Any], Any], str, str, str]] = [
    # service, call, denied code, disabled-region code, expired-token code
    ("ec2", lambda c: c.describe_vpcs(), "UnauthorizedOperation", "AuthFailure", "RequestExpired"),
    (
        "sts",
        lambda c: c.get_caller_identity(),
        "AccessDenied",
        "InvalidClientTokenId",
        "ExpiredToken",
    ),
    (
        "ecr",
        lambda c: c.describe_repositories(),
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
    ),
    (
        "eks",
        lambda c: c.list_clusters(),
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
    ),
    ("s3", lambda c: c.list_buckets(), "AccessDenied", "InvalidAccessKeyId", "ExpiredToken"),
]


@pytest.mark.parametrize(("service", "call", "denied", "disabled", "expired"), FAULT_CALLS)
def test_access_denied_codes(
    aws: Emulator,
    service: str,
    call: Callable[[Any], Any],
    denied: str,
    disabled: str,
    expired: str,
) -> None:
    aws.configure(deny=[{"service": service, "region": "eu-west-1"}])
    call(client(aws, service))  # another region: allowed
    assert error_code(lambda: call(client(aws, service, "eu-west-1"))) == denied
    assert aws.counts()["injected"] == {denied: 1}


def test_deny_rule_matches_account_and_operation(aws: Emulator) -> None:
    member = creds_of(assume(aws))
    aws.configure(deny=[{"account": MEMBER, "operation": "DescribeSubnets"}])
    client(aws, "ec2").describe_subnets()
    client(aws, "ec2", creds=member).describe_vpcs()
    assert (
        error_code(lambda: client(aws, "ec2", creds=member).describe_subnets())
        == "UnauthorizedOperation"
    )


@pytest.mark.parametrize(("service", "call", "denied", "disabled", "expired"), FAULT_CALLS)
def test_disabled_region_codes(
    aws: Emulator,
    service: str,
    call: Callable[[Any], Any],
    denied: str,
    disabled: str,
    expired: str,
) -> None:
    member = creds_of(assume(aws))
    aws.configure(disabled_regions=[{"account": MEMBER, "region": "af-south-1"}])
    call(client(aws, service, "af-south-1"))  # the default account has it enabled
    assert error_code(lambda: call(client(aws, service, "af-south-1", creds=member))) == disabled
    assert aws.counts()["injected"] == {disabled: 1}  # not retried


# ---- AssumeRole: ExternalId, denial, expiry -----------------------------------------------


def test_external_id_from_config(aws: Emulator) -> None:
    aws.configure(external_ids={ROLE: "expected-id"})
    sts = client(aws, "sts")
    with pytest.raises(ClientError) as info:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="test", ExternalId="wrong-id")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert f"is not authorized to perform: sts:AssumeRole on resource: {ROLE}" in str(info.value)
    assert (
        error_code(lambda: sts.assume_role(RoleArn=ROLE, RoleSessionName="test")) == "AccessDenied"
    )
    sts.assume_role(RoleArn=ROLE, RoleSessionName="test", ExternalId="expected-id")
    other = f"arn:aws:iam::{MEMBER}:role/other"
    sts.assume_role(RoleArn=other, RoleSessionName="test")  # not configured: not checked

    counts = aws.counts()
    assert counts["assume_role"] == {MEMBER: 2}
    assert counts["assume_role_denied"] == {ROLE: 2}
    assert counts["injected"] == {"AccessDenied": 2}


def test_external_id_from_trust_policy_of_a_moto_role(aws: Emulator) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "trust-id"}},
            }
        ],
    }
    arn = client(aws, "iam").create_role(
        RoleName="scanner", Path="/uvm/", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    sts = client(aws, "sts")
    assert (
        error_code(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="test")) == "AccessDenied"
    )
    assert (
        error_code(
            lambda: sts.assume_role(RoleArn=arn, RoleSessionName="test", ExternalId="nope-id")
        )
        == "AccessDenied"
    )
    sts.assume_role(RoleArn=arn, RoleSessionName="test", ExternalId="trust-id")
    assert aws.counts()["assume_role"] == {DEFAULT_ACCOUNT: 1}


def test_deny_assume_role(aws: Emulator) -> None:
    aws.configure(deny_assume_role=[ROLE])
    assert error_code(lambda: assume(aws)) == "AccessDenied"
    assume(aws, f"arn:aws:iam::{MEMBER}:role/other")
    aws.configure(deny_assume_role=["*"])
    assert error_code(lambda: assume(aws, f"arn:aws:iam::{MEMBER}:role/other")) == "AccessDenied"
    counts = aws.counts()
    assert counts["assume_role_denied"] == {ROLE: 1, f"arn:aws:iam::{MEMBER}:role/other": 1}
    assert counts["assume_role"] == {MEMBER: 1}
    assert counts["signed_by"] == {DEFAULT_ACCOUNT: 3}


def test_expiration_rewrite_and_expired_token(aws: Emulator) -> None:
    aws.configure(assume_role_expiration_seconds=2)
    before = datetime.now(UTC)
    credentials = assume(aws)
    left = (credentials["Expiration"] - before).total_seconds()
    assert 0 < left <= 3
    member = creds_of(credentials)
    for service, call, *_ in FAULT_CALLS:
        call(client(aws, service, creds=member))
    time.sleep(max(0.0, (credentials["Expiration"] - datetime.now(UTC)).total_seconds()) + 0.3)
    expected = {}
    for service, call, _, _, expired in FAULT_CALLS:
        assert error_code(lambda c=call, s=service: c(client(aws, s, creds=member))) == expired
        expected[expired] = expected.get(expired, 0) + 1
    assert aws.counts()["injected"] == expected
    call_ok = FAULT_CALLS[0][1]
    call_ok(client(aws, "ec2", creds=creds_of(assume(aws))))  # fresh credentials work


# ---- DescribeRegions ----------------------------------------------------------------------


def test_describe_regions_opt_in(aws: Emulator) -> None:
    ec2 = client(aws, "ec2")
    moto_regions = {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
    assert "us-east-1" in moto_regions
    aws.configure(
        regions={
            "*": {"enabled": ["us-east-1", "eu-west-1"], "not_opted_in": ["af-south-1"]},
            MEMBER: {"enabled": ["us-east-1"], "not_opted_in": ["ap-east-1", "me-south-1"]},
        }
    )
    regions = ec2.describe_regions()["Regions"]
    assert [(r["RegionName"], r["OptInStatus"]) for r in regions] == [
        ("us-east-1", "opt-in-not-required"),
        ("eu-west-1", "opt-in-not-required"),
    ]
    all_regions = {
        r["RegionName"]: r["OptInStatus"] for r in ec2.describe_regions(AllRegions=True)["Regions"]
    }
    assert all_regions == {
        "us-east-1": "opt-in-not-required",
        "eu-west-1": "opt-in-not-required",
        "af-south-1": "not-opted-in",
    }
    member_ec2 = client(aws, "ec2", creds=creds_of(assume(aws)))
    member_all = member_ec2.describe_regions(AllRegions=True)["Regions"]
    assert {r["RegionName"]: r["OptInStatus"] for r in member_all} == {
        "us-east-1": "opt-in-not-required",
        "ap-east-1": "not-opted-in",
        "me-south-1": "not-opted-in",
    }
    assert [r["RegionName"] for r in member_ec2.describe_regions()["Regions"]] == ["us-east-1"]


def test_disabled_regions_as_describe_regions_shows_them(aws: Emulator) -> None:
    aws.configure(
        disabled_regions=[
            {"account": MEMBER, "region": "eu-south-1"},
            {"account": MEMBER, "region": "us-west-2"},
            {"region": "ap-east-1"},  # every account
        ]
    )
    member = creds_of(assume(aws))
    moto_all = {
        r["RegionName"]: r["OptInStatus"]
        for r in client(aws, "ec2").describe_regions(AllRegions=True)["Regions"]
    }
    assert moto_all["us-west-2"] == "opt-in-not-required"
    # asked in any region, the disabled ones included
    for region in ("us-east-1", "eu-south-1"):
        ec2 = client(aws, "ec2", region, creds=member)
        listed = {r["RegionName"]: r["OptInStatus"] for r in ec2.describe_regions()["Regions"]}
        assert "us-west-2" not in listed
        assert "eu-south-1" not in listed
        assert "ap-east-1" not in listed
        assert set(listed.values()) <= {"opt-in-not-required", "opted-in"}
        everything = {
            r["RegionName"]: r["OptInStatus"]
            for r in ec2.describe_regions(AllRegions=True)["Regions"]
        }
        assert everything == {
            **moto_all,
            "us-west-2": "not-opted-in",
            "eu-south-1": "not-opted-in",
            "ap-east-1": "not-opted-in",
        }
        named = ec2.describe_regions(RegionNames=["us-west-2", "us-east-1"], AllRegions=True)
        assert sorted((r["RegionName"], r["OptInStatus"]) for r in named["Regions"]) == [
            ("us-east-1", "opt-in-not-required"),
            ("us-west-2", "not-opted-in"),
        ]
        filtered = ec2.describe_regions(
            AllRegions=True, Filters=[{"Name": "opt-in-status", "Values": ["not-opted-in"]}]
        )["Regions"]
        assert {r["RegionName"] for r in filtered} == {
            name for name, status in everything.items() if status == "not-opted-in"
        }
    # the management account only has the rule without an account
    mgmt = {
        r["RegionName"]: r["OptInStatus"]
        for r in client(aws, "ec2").describe_regions(AllRegions=True)["Regions"]
    }
    assert mgmt == {**moto_all, "ap-east-1": "not-opted-in"}
    # every other call in a disabled region keeps failing as AWS does
    member_ec2 = client(aws, "ec2", "eu-south-1", creds=member)
    assert error_code(member_ec2.describe_vpcs) == "AuthFailure"
    assert error_code(client(aws, "sts", "us-west-2", creds=member).get_caller_identity) == (
        "InvalidClientTokenId"
    )


def test_disabled_regions_with_the_regions_config(aws: Emulator) -> None:
    aws.configure(
        regions={MEMBER: {"enabled": ["us-east-1", "eu-west-1"], "not_opted_in": ["af-south-1"]}},
        disabled_regions=[{"account": MEMBER, "region": "eu-west-1"}],
    )
    member = creds_of(assume(aws))
    for region in ("us-east-1", "eu-west-1"):
        ec2 = client(aws, "ec2", region, creds=member)
        assert [r["RegionName"] for r in ec2.describe_regions()["Regions"]] == ["us-east-1"]
        assert [
            (r["RegionName"], r["OptInStatus"])
            for r in ec2.describe_regions(AllRegions=True)["Regions"]
        ] == [
            ("us-east-1", "opt-in-not-required"),
            ("eu-west-1", "not-opted-in"),
            ("af-south-1", "not-opted-in"),
        ]
    assert error_code(client(aws, "ec2", "eu-west-1", creds=member).describe_vpcs) == "AuthFailure"


# ---- paging -------------------------------------------------------------------------------


def _ec2_many(aws: Emulator, create: Callable[[Any, int], Any]) -> None:
    ec2 = client(aws, "ec2")
    for i in range(6):
        create(ec2, i)


def _vpc_with_subnet(ec2: Any) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    return vpc, subnet


def setup_nat_gateways(aws: Emulator) -> None:
    ec2 = client(aws, "ec2")
    _, subnet = _vpc_with_subnet(ec2)
    for _ in range(6):
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)


def setup_network_interfaces(aws: Emulator) -> None:
    ec2 = client(aws, "ec2")
    _, subnet = _vpc_with_subnet(ec2)
    for _ in range(6):
        ec2.create_network_interface(SubnetId=subnet)


def setup_accounts(aws: Emulator) -> None:
    orgs = client(aws, "organizations")
    orgs.create_organization(FeatureSet="ALL")
    for i in range(3):
        orgs.create_account(Email=f"member{i}@example.com", AccountName=f"member-{i}")


def setup_images(aws: Emulator) -> None:
    ecr = client(aws, "ecr")
    ecr.create_repository(repositoryName="app")
    for i in range(3):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": f"sha256:{i:064x}", "size": 1, "mediaType": "x"},
            "layers": [],
        }
        ecr.put_image(repositoryName="app", imageManifest=json.dumps(manifest), imageTag=f"v{i}")


def setup_db_instances(aws: Emulator) -> None:
    rds = client(aws, "rds")
    for i in range(21):  # botocore's smallest MaxRecords is 20
        rds.create_db_instance(
            DBInstanceIdentifier=f"db-{i}",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="admin",
            MasterUserPassword="password-1",
            AllocatedStorage=20,
        )


def setup_load_balancers_v2(aws: Emulator) -> None:
    subnets = [s["SubnetId"] for s in client(aws, "ec2").describe_subnets()["Subnets"]][:2]
    elbv2 = client(aws, "elbv2")
    for i in range(3):
        elbv2.create_load_balancer(Name=f"alb-{i}", Subnets=subnets)


def setup_classic_load_balancers(aws: Emulator) -> None:
    elb = client(aws, "elb")
    for i in range(3):
        elb.create_load_balancer(
            LoadBalancerName=f"clb-{i}",
            Listeners=[{"Protocol": "http", "LoadBalancerPort": 80, "InstancePort": 8080}],
            AvailabilityZones=["us-east-1a"],
        )


PAGED: list[
    tuple[
        str,
        str,
        str,
        dict[str, Any],
        int,
        Callable[[Emulator], None],
        Callable[[dict[str, Any]], list[Any]],
    ]
] = [
    # service, operation (counts key), paginator, params, smallest page size, setup, page -> ids
    (
        "ec2",
        "DescribeInstances",
        "describe_instances",
        {},
        5,
        lambda aws: _ec2_many(
            aws, lambda ec2, _: ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)
        ),
        lambda page: [r["ReservationId"] for r in page["Reservations"]],
    ),
    (
        "ec2",
        "DescribeInternetGateways",
        "describe_internet_gateways",
        {},
        5,
        lambda aws: _ec2_many(aws, lambda ec2, _: ec2.create_internet_gateway()),
        lambda page: [g["InternetGatewayId"] for g in page["InternetGateways"]],
    ),
    (
        "ec2",
        "DescribeNatGateways",
        "describe_nat_gateways",
        {},
        5,
        setup_nat_gateways,
        lambda page: [g["NatGatewayId"] for g in page["NatGateways"]],
    ),
    (
        "ec2",
        "DescribeVpcs",
        "describe_vpcs",
        {},
        5,
        lambda aws: _ec2_many(aws, lambda ec2, i: ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")),
        lambda page: [v["VpcId"] for v in page["Vpcs"]],
    ),
    (
        "ec2",
        "DescribeSubnets",
        "describe_subnets",
        {},
        5,
        lambda aws: None,  # the default VPC has one subnet per availability zone
        lambda page: [s["SubnetId"] for s in page["Subnets"]],
    ),
    (
        "ec2",
        "DescribeNetworkInterfaces",
        "describe_network_interfaces",
        {},
        5,
        setup_network_interfaces,
        lambda page: [n["NetworkInterfaceId"] for n in page["NetworkInterfaces"]],
    ),
    (
        "s3",
        "ListBuckets",
        "list_buckets",
        {},
        1,
        lambda aws: [client(aws, "s3").create_bucket(Bucket=f"bucket-{i}") for i in range(3)],
        lambda page: [b["Name"] for b in page["Buckets"]],
    ),
    (
        "organizations",
        "ListAccounts",
        "list_accounts",
        {},
        1,
        setup_accounts,
        lambda page: [a["Id"] for a in page["Accounts"]],
    ),
    (
        "ecr",
        "DescribeRepositories",
        "describe_repositories",
        {},
        1,
        lambda aws: [
            client(aws, "ecr").create_repository(repositoryName=f"r{i}") for i in range(3)
        ],
        lambda page: [r["repositoryName"] for r in page["repositories"]],
    ),
    (
        "ecr",
        "DescribeImages",
        "describe_images",
        {"repositoryName": "app"},
        1,
        setup_images,
        lambda page: [i["imageDigest"] for i in page["imageDetails"]],
    ),
    (
        "eks",
        "ListClusters",
        "list_clusters",
        {},
        1,
        lambda aws: [
            client(aws, "eks").create_cluster(
                name=f"c{i}",
                roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/eks",
                resourcesVpcConfig={},
            )
            for i in range(3)
        ],
        lambda page: list(page["clusters"]),
    ),
    (
        "rds",
        "DescribeDBInstances",
        "describe_db_instances",
        {},
        20,
        setup_db_instances,
        lambda page: [d["DBInstanceIdentifier"] for d in page["DBInstances"]],
    ),
    (
        "elbv2",
        "DescribeLoadBalancers",
        "describe_load_balancers",
        {},
        1,
        setup_load_balancers_v2,
        lambda page: [lb["LoadBalancerArn"] for lb in page["LoadBalancers"]],
    ),
    (
        "elb",
        "DescribeLoadBalancers",
        "describe_load_balancers",
        {},
        1,
        setup_classic_load_balancers,
        lambda page: [lb["LoadBalancerName"] for lb in page["LoadBalancerDescriptions"]],
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "paginator", "params", "size", "setup", "ids"),
    PAGED,
    ids=[f"{p[0]}:{p[1]}" for p in PAGED],
)
def test_pages_honour_the_smallest_page_size(
    aws: Emulator,
    service: str,
    operation: str,
    paginator: str,
    params: dict[str, Any],
    size: int,
    setup: Callable[[Emulator], None],
    ids: Callable[[dict[str, Any]], list[Any]],
) -> None:
    setup(aws)
    pager = client(aws, service).get_paginator(paginator)
    everything = [i for page in pager.paginate(**params) for i in ids(page)]
    assert len(everything) > size
    aws.reset_counts()

    pages = [ids(page) for page in pager.paginate(**params, PaginationConfig={"PageSize": size})]
    assert all(0 < len(page) <= size for page in pages)
    assert sorted(i for page in pages for i in page) == sorted(everything)
    assert len(pages) >= 2
    counts = aws.counts()
    key = f"{service}:{operation}"
    assert counts["pages"] == {key: len(pages)}
    assert counts["multi_page"] == {key: len(pages) - 1}


def test_list_buckets_bucket_region(aws: Emulator) -> None:
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="east-bucket")
    s3.create_bucket(
        Bucket="west-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert all("BucketRegion" not in b for b in s3.list_buckets()["Buckets"])
    paged = s3.list_buckets(MaxBuckets=10)["Buckets"]
    assert {b["Name"]: b["BucketRegion"] for b in paged} == {
        "east-bucket": "us-east-1",
        "west-bucket": "eu-west-1",
    }
    aws.configure(s3_bucket_region=False)
    assert all("BucketRegion" not in b for b in s3.list_buckets(MaxBuckets=10)["Buckets"])


def test_a_page_token_from_another_request_is_refused(aws: Emulator) -> None:
    ecr = client(aws, "ecr")
    for i in range(3):
        ecr.create_repository(repositoryName=f"r{i}")
    token = ecr.describe_repositories(maxResults=1)["nextToken"]
    assert (
        error_code(
            lambda: ecr.describe_repositories(
                maxResults=1, nextToken=token, registryId="000000000000"
            )
        )
        == "InvalidParameterException"
    )


# ---- concurrency and latency --------------------------------------------------------------


def test_peak_in_flight_with_latency(aws: Emulator) -> None:
    threads = 64
    sts = client(aws, "sts", pool=threads)
    aws.configure(latency_ms=500)
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            sts.get_caller_identity()
        except BaseException as exc:
            errors.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    assert errors == []
    counts = aws.counts()
    assert counts["peak_in_flight"] == threads
    assert request_count(aws, "sts", "GetCallerIdentity") == threads
    assert elapsed < 5, elapsed  # served concurrently, not one after another


# ---- configuration and handlers -----------------------------------------------------------


def test_unknown_fault_key_is_rejected(aws: Emulator) -> None:
    with pytest.raises(EmulatorError, match="throttle_ratio"):
        aws.configure(throttle_ratio=0.5)


def test_operation_handlers_and_control_routes() -> None:
    """In-process: our handlers answer before moto and still meet faults and counting."""
    app = EmulatorServer()
    resets: list[dict[str, Any]] = []
    answer_with: list[bool] = [True]

    def get_findings(req: AwsRequest) -> AwsResponse | None:
        if not answer_with[0]:
            return None
        assert (req.service, req.protocol, req.account_id) == (
            "securityhub",
            "rest-json",
            DEFAULT_ACCOUNT,
        )
        return AwsResponse.json(
            {"Findings": [{"Id": "f-1", "Title": str(req.json().get("MaxResults"))}]}
        )

    app.add_operation_handler("securityhub", "GetFindings", get_findings)
    app.add_control_route("demo/reset", resets.append)
    app.add_control_route("demo/echo", lambda payload: {"got": payload})
    with pytest.raises(ValueError, match="built in"):
        app.add_control_route("counts", lambda payload: None)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        local = Emulator.__new__(Emulator)
        local.endpoint_url = f"http://127.0.0.1:{server.port}"
        hub = client(local, "securityhub", attempts=1)
        assert hub.get_findings(MaxResults=7)["Findings"] == [{"Id": "f-1", "Title": "7"}]
        answer_with[0] = False
        assert hub.get_findings()["Findings"] == []  # moto's own answer
        local.configure(throttle_rate=1.0)
        assert error_code(hub.get_findings) == "ThrottlingException"
        assert local.control("demo/echo", {"a": 1}) == {"got": {"a": 1}}
        local.control("reset")
        assert resets == [{}]
        assert local.counts()["requests"] == []
    finally:
        server.shutdown()
        thread.join()
