"""ECR, EKS, network and RDS streams: exact records from the seeded organization, no field
lost, network data types that cost no call when unselected, real paging, and discovery."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.seed import Organization

from tap_aws_uvm.records import column_name, json_native, utc_timestamp
from tap_aws_uvm.schemagen import load_schema
from tap_aws_uvm.settings import NETWORK_DATA_TYPES
from tap_aws_uvm.streams.network import NetworkStream
from tap_aws_uvm.validation import validate_settings
from tests.e2e.conftest import REGIONS, requests_for
from tests.e2e.tap_runner import TAP, TapRun, catalog_selecting, clean_env, run_tap

STREAMS = {"ecr_images", "ecr_findings", "eks_clusters", "network", "rds_instances"}
NORMALIZED = {
    "account_id",
    "region",
    "data_type",
    "resource_id",
    "arn",
    "vpc_id",
    "cidr_blocks",
    "public_ips",
    "private_ips",
    "state",
    "tags",
}
TYPED_PROPERTY = {
    "internet_gateways": {"internet_gateway"},
    "nat_gateways": {"nat_gateway"},
    "load_balancers": {"load_balancer", "classic_load_balancer"},
    "vpc_cidrs": {"vpc"},
    "vpc_subnets": {"subnet"},
    "addresses": {"address"},
    "network_interfaces": {"network_interface"},
}
NETWORK_OPERATIONS = [
    ("ec2", "DescribeInternetGateways"),
    ("ec2", "DescribeNatGateways"),
    ("ec2", "DescribeVpcs"),
    ("ec2", "DescribeSubnets"),
    ("ec2", "DescribeAddresses"),
    ("ec2", "DescribeNetworkInterfaces"),
    ("elbv2", "DescribeLoadBalancers"),
    ("elbv2", "DescribeTags"),
    ("elb", "DescribeLoadBalancers"),
    ("elb", "DescribeTags"),
]


@pytest.fixture(params=["roles_config", "org_config"])
def any_config(request: pytest.FixtureRequest) -> dict[str, object]:
    """Role-list mode, then organization mode."""
    config: dict[str, object] = request.getfixturevalue(request.param)
    return config


def run_streams(config: dict[str, object], streams: set[str] = STREAMS) -> TapRun:
    run = run_tap(config, catalog=catalog_selecting(streams))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return run


def partitions(org: Organization) -> Iterator[tuple[str, str]]:
    for account in org.active_accounts:
        for region in REGIONS:
            yield account.id, region


def unique(records: list[dict[str, Any]], *key: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        ident = tuple(record[k] for k in key)
        assert ident not in result, f"duplicate key {ident}"
        result[ident] = record
    return result


# --------------------------------------------------------------------------- exact records


def test_streams_emit_exactly_the_seed(
    emu: Emulator, org: Organization, any_config: dict[str, object]
) -> None:
    run = run_streams(any_config)

    for stream in STREAMS:
        assert run.records[stream], f"{stream} emitted nothing"
        schema = load_schema(stream)
        for record in run.records[stream]:
            assert set(record) <= set(schema["properties"]), stream
            assert all(record.get(k) is not None for k in schema["required"]), stream
    assert_ecr_images(run, org)
    assert_ecr_findings(run, org)
    assert_eks_clusters(run, org)
    assert_network(run, org)
    assert_rds_instances(run, org)


def assert_ecr_images(run: TapRun, org: Organization) -> None:
    expected = {
        (account, region, image.repository_name, image.image_digest): sorted(image.image_tags)
        for account, region in partitions(org)
        for image in org.resources(account, region).ecr_images
    }
    records = unique(
        run.records["ecr_images"], "account_id", "region", "repository_name", "image_digest"
    )
    assert {key: sorted(r.get("image_tags") or []) for key, r in records.items()} == expected
    assert any(not tags for tags in expected.values())  # untagged images are listed too
    for (account, region, name, _), record in records.items():
        repository = next(
            r for r in org.resources(account, region).ecr_repositories if r.name == name
        )
        assert record["repository_uri"] == repository.uri
        assert record["repository"]["repositoryArn"] == repository.arn


def assert_ecr_findings(run: TapRun, org: Organization) -> None:
    expected = {}
    for account, region in partitions(org):
        for image in org.resources(account, region).ecr_images:
            for finding in image.findings:
                assert image.scan is not None
                key = (account, region, image.repository_name, image.image_digest)
                expected[(*key, finding.finding_id)] = {
                    "severity": finding.severity,
                    "finding_type": finding.kind,
                    "image_tags": sorted(image.image_tags),
                    "image_scan_status": {
                        "status": image.scan.status,
                        "description": image.scan.description,
                    },
                    "image_scan_completed_at": utc_timestamp(image.scan.completed_at),
                    "vulnerability_source_updated_at": utc_timestamp(
                        image.scan.vulnerability_source_updated_at
                    ),
                }
    records = unique(
        run.records["ecr_findings"],
        "account_id",
        "region",
        "repository_name",
        "image_digest",
        "finding_id",
    )
    actual = {
        key: {
            **{field: r.get(field) for field in next(iter(expected.values()))},
            "image_tags": sorted(r["image_tags"]),
        }
        for key, r in records.items()
    }
    assert actual == expected
    kinds = {r["finding_type"] for r in records.values()}
    assert kinds == {"basic", "enhanced"}
    for record in records.values():
        raw = record[f"{record['finding_type']}_finding"]
        if record["finding_type"] == "enhanced":
            assert record["finding_id"] == raw["findingArn"]
            details = raw["packageVulnerabilityDetails"]
            assert record["vulnerability_id"] == details["vulnerabilityId"]
            assert record["package_name"] == details["vulnerablePackages"][0]["name"]
            assert record["cvss_score"] == raw["score"]
        else:
            attributes = {a["key"]: a["value"] for a in raw["attributes"]}
            assert record["package_name"] == attributes["package_name"]
            assert record["package_version"] == attributes["package_version"]
            assert record["vulnerability_id"] == raw["name"]
            assert record["cvss_score"] == float(attributes["CVSS2_SCORE"])


def assert_eks_clusters(run: TapRun, org: Organization) -> None:
    expected = {
        cluster.arn: (account, region, cluster.name)
        for account, region in partitions(org)
        for cluster in org.resources(account, region).eks_clusters
    }
    records = unique(run.records["eks_clusters"], "arn")
    assert {k[0]: (r["account_id"], r["region"], r["name"]) for k, r in records.items()} == (
        expected
    )
    assert all(r["tags"] == {"Owner": "uvm-seed"} for r in records.values())


def assert_network(run: TapRun, org: Organization) -> None:
    expected = {
        (account, region, data_type, resource_id)
        for account, region in partitions(org)
        for data_type, ids in org.resources(account, region).network.items()
        for resource_id in ids
    }
    records = unique(run.records["network"], "account_id", "region", "data_type", "resource_id")
    assert set(records) == expected
    assert {key[2] for key in records} == set(NETWORK_DATA_TYPES)
    for (_, _, data_type, _), record in records.items():
        typed = set(record) - NORMALIZED - {"synced_at"}
        assert len(typed) == 1, record
        assert typed <= TYPED_PROPERTY[data_type], record
    for account, region in partitions(org):
        resources = org.resources(account, region)
        assert {lb.kind for lb in resources.load_balancers} == {"application", "classic"}
        for lb in resources.load_balancers:
            record = records[(account, region, "load_balancers", lb.arn)]
            kind = "load_balancer" if lb.kind == "application" else "classic_load_balancer"
            assert record[kind]["LoadBalancerName"] == lb.name
            assert record[kind]["DNSName"] == lb.dns_name
            assert record["arn"] == lb.arn
            assert record["tags"] == dict(lb.tags)
            assert {t["Key"]: t["Value"] for t in record[kind]["Tags"]} == dict(lb.tags)
        for address in resources.addresses:
            record = records[(account, region, "addresses", address.allocation_id)]
            assert record["public_ips"] == [address.public_ip]
        vpc = records[(account, region, "vpc_cidrs", resources.vpc_id)]
        assert vpc["cidr_blocks"] == ["10.20.0.0/16"]
        assert vpc["vpc_id"] == resources.vpc_id
        for n, subnet_id in enumerate(resources.subnet_ids):
            subnet = records[(account, region, "vpc_subnets", subnet_id)]
            assert subnet["cidr_blocks"] == [f"10.20.{n}.0/24"]
            assert subnet["vpc_id"] == resources.vpc_id
            assert subnet["arn"] == f"arn:aws:ec2:{region}:{account}:subnet/{subnet_id}"


def assert_rds_instances(run: TapRun, org: Organization) -> None:
    expected = {
        db.arn: {
            "account_id": account,
            "region": region,
            "db_instance_identifier": db.identifier,
            "publicly_accessible": db.publicly_accessible,
            "engine": db.engine,
            "tags": dict(db.tags),
        }
        for account, region in partitions(org)
        for db in org.resources(account, region).rds_instances
    }
    records = unique(run.records["rds_instances"], "arn")
    fields = list(next(iter(expected.values())))
    assert {k[0]: {f: r.get(f) for f in fields} for k, r in records.items()} == expected
    assert {r["publicly_accessible"] for r in expected.values()} == {True, False}


# --------------------------------------------------------------------------- no field lost


def columns_of(aws_object: dict[str, Any]) -> dict[str, Any]:
    """The columns an AWS object becomes at the top level of a record."""
    return {column_name(name): json_native(value) for name, value in aws_object.items()}


def test_no_field_is_lost(
    emu: Emulator, org: Organization, roles_config: dict[str, object]
) -> None:
    run = run_streams(roles_config)
    account, region = org.management_account_id, REGIONS[0]
    session = org.session(account)
    (synced_at,) = {r["synced_at"] for records in run.records.values() for r in records}

    def aws(service: str) -> Any:
        return session.client(  # type: ignore[call-overload]
            service, region_name=region, endpoint_url=emu.endpoint_url
        )

    def ours(stream: str, **match: Any) -> dict[str, Any]:
        found = [
            r
            for r in run.records[stream]
            if r["account_id"] == account
            and r["region"] == region
            and all(r.get(k) == v for k, v in match.items())
        ]
        assert len(found) == 1, (stream, match)
        record = dict(found[0])
        assert record.pop("synced_at") == synced_at  # the run's start, on every record
        return record

    # ecr_images: ImageDetail + its repository
    ecr = aws("ecr")
    repository = ecr.describe_repositories()["repositories"][0]
    image = ecr.describe_images(repositoryName=repository["repositoryName"])["imageDetails"][0]
    record = ours("ecr_images", image_digest=image["imageDigest"])
    expected = columns_of(image) | {
        "account_id": account,
        "region": region,
        "arn": f"{repository['repositoryArn']}/{image['imageDigest']}",
        "repository": json_native(repository),
        "repository_uri": repository["repositoryUri"],
    }
    assert record == expected

    # ecr_findings: the raw finding, whole, under basic_finding / enhanced_finding
    for kind, aws_list in (("basic", "findings"), ("enhanced", "enhancedFindings")):
        image_ = next(
            i
            for i in org.resources(account, region).ecr_images
            if any(f.kind == kind for f in i.findings)
        )
        answer = ecr.describe_image_scan_findings(
            repositoryName=image_.repository_name,
            imageId={"imageDigest": image_.image_digest},
            maxResults=1000,
        )
        raw = answer["imageScanFindings"][aws_list][0]
        finding_id = (
            raw["findingArn"]
            if kind == "enhanced"
            else next(f.finding_id for f in image_.findings if f.data["name"] == raw["name"])
        )
        record = ours("ecr_findings", image_digest=image_.image_digest, finding_id=finding_id)
        assert record[f"{kind}_finding"] == json_native(raw)
        assert record["image_scan_status"] == answer["imageScanStatus"]
        assert f"{'enhanced' if kind == 'basic' else 'basic'}_finding" not in record
        assert set(record) <= set(load_schema("ecr_findings")["properties"])

    # eks_clusters: the whole cluster
    cluster = aws("eks").describe_cluster(name=org.resources(account, region).eks_clusters[0].name)
    record = ours("eks_clusters", arn=cluster["cluster"]["arn"])
    assert record == columns_of(cluster["cluster"]) | {"account_id": account, "region": region}

    # rds_instances: every DBInstance member (LatestRestorableTime moves on each describe)
    db = aws("rds").describe_db_instances()["DBInstances"][0]
    record = ours("rds_instances", arn=db["DBInstanceArn"])
    expected = columns_of(db) | {
        "account_id": account,
        "region": region,
        "arn": db["DBInstanceArn"],
        "tags": {t["Key"]: t["Value"] for t in db["TagList"]},
    }
    assert set(record) == set(expected)
    volatile = {"latest_restorable_time"}
    assert {k: v for k, v in record.items() if k not in volatile} == {
        k: v for k, v in expected.items() if k not in volatile
    }

    # network: each data type's AWS object, whole, under its typed property
    ec2, elbv2, elb = aws("ec2"), aws("elbv2"), aws("elb")
    v2 = elbv2.describe_load_balancers()["LoadBalancers"][0]
    classic = elb.describe_load_balancers()["LoadBalancerDescriptions"][0]
    v2_tags = elbv2.describe_tags(ResourceArns=[v2["LoadBalancerArn"]])["TagDescriptions"][0]
    classic_tags = elb.describe_tags(LoadBalancerNames=[classic["LoadBalancerName"]])
    samples = [
        ("internet_gateways", "internet_gateway", "InternetGatewayId",
         ec2.describe_internet_gateways()["InternetGateways"][0]),
        ("nat_gateways", "nat_gateway", "NatGatewayId",
         ec2.describe_nat_gateways()["NatGateways"][0]),
        ("vpc_cidrs", "vpc", "VpcId", ec2.describe_vpcs()["Vpcs"][0]),
        ("vpc_subnets", "subnet", "SubnetId", ec2.describe_subnets()["Subnets"][0]),
        ("addresses", "address", "AllocationId", ec2.describe_addresses()["Addresses"][0]),
        ("network_interfaces", "network_interface", "NetworkInterfaceId",
         ec2.describe_network_interfaces()["NetworkInterfaces"][0]),
        ("load_balancers", "load_balancer", "LoadBalancerArn",
         {**v2, "Tags": v2_tags["Tags"]}),
        ("load_balancers", "classic_load_balancer", None,
         {**classic, "Tags": classic_tags["TagDescriptions"][0]["Tags"]}),
    ]  # fmt: skip
    for data_type, typed, id_name, aws_object in samples:
        resource_id = (
            aws_object[id_name]
            if id_name
            else f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/"
            f"{aws_object['LoadBalancerName']}"
        )
        record = ours("network", data_type=data_type, resource_id=resource_id)
        assert set(record) == NORMALIZED | {typed}, data_type
        assert record[typed] == json_native(aws_object), data_type


# --------------------------------------------------------------------------- network types


def test_unselected_network_data_types_cost_no_call(
    emu: Emulator, org: Organization, roles_config: dict[str, object]
) -> None:
    config = {**roles_config, "network_data_types": ["vpc_subnets"]}

    run = run_streams(config, {"network"})

    expected = {
        (account, region, subnet_id)
        for account, region in partitions(org)
        for subnet_id in org.resources(account, region).network["vpc_subnets"]
    }
    records = run.records["network"]
    assert {(r["account_id"], r["region"], r["resource_id"]) for r in records} == expected
    assert len(records) == len(expected)
    assert {r["data_type"] for r in records} == {"vpc_subnets"}
    assert all(set(r) == NORMALIZED | {"subnet", "synced_at"} for r in records)
    counts = emu.counts()
    described = {
        (row["account"], row["region"])
        for row in counts["requests"]
        if (row["service"], row["operation"]) == ("ec2", "DescribeSubnets")
    }
    assert described == set(partitions(org))
    calls = {op: requests_for(counts, *op) for op in NETWORK_OPERATIONS}
    assert calls == {op: calls[op] if op[1] == "DescribeSubnets" else 0 for op in calls}
    assert NetworkStream.required_actions(validate_settings(config)) == ("ec2:DescribeSubnets",)
    assert set(NetworkStream.required_actions(validate_settings(roles_config))) == set(
        NetworkStream.iam_actions
    )


# --------------------------------------------------------------------------- paging


# Every paginated operation a sync calls; DescribeAddresses and DescribeTags have no pages.
PAGINATED = [
    "organizations:ListAccounts",
    "ec2:DescribeInstances",
    "s3:ListBuckets",
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:DescribeImageScanFindings",
    "eks:ListClusters",
    "rds:DescribeDBInstances",
    "elbv2:DescribeLoadBalancers",
    "elb:DescribeLoadBalancers",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeNetworkInterfaces",
]
# The seed makes one internet gateway, NAT gateway and classic ELB per partition: a region of
# its own holds two of each while the paging test runs.
EXTRA_REGION = "ca-central-1"


@pytest.fixture
def two_of_each(emu: Emulator, org: Organization) -> Iterator[str]:
    session = org.session(org.management_account_id)

    def aws(service: str) -> Any:
        return session.client(  # type: ignore[call-overload]
            service, region_name=EXTRA_REGION, endpoint_url=emu.endpoint_url
        )

    ec2, elb = aws("ec2"), aws("elb")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    gateways = [ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]]
    gateways.append(ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"])
    nats = [
        ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")["NatGateway"][
            "NatGatewayId"
        ]
        for _ in range(2)
    ]
    names = ["uvm-paging-clb-1", "uvm-paging-clb-2"]
    for name in names:
        elb.create_load_balancer(
            LoadBalancerName=name,
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
            Subnets=[subnet],
        )
    try:
        yield EXTRA_REGION
    finally:
        for name in names:
            elb.delete_load_balancer(LoadBalancerName=name)
        for nat in nats:
            ec2.delete_nat_gateway(NatGatewayId=nat)
        for gateway in gateways:
            ec2.delete_internet_gateway(InternetGatewayId=gateway)


def test_every_paginated_operation_reads_several_pages(
    emu: Emulator, org: Organization, org_config: dict[str, object], two_of_each: str
) -> None:
    emu.configure(max_page_items=1)  # the tap asks for realistic page sizes; serve one item
    config = {**org_config, "regions": [*REGIONS, two_of_each]}
    streams = {"accounts", "ec2_instances", "s3_buckets", *STREAMS}

    run = run_streams(config, streams)

    counts = emu.counts()
    missing = {op for op in PAGINATED if counts["multi_page"].get(op, 0) < 1}
    assert not missing, f"one page only: {sorted(missing)}; multi_page={counts['multi_page']}"
    # every page was read: the records are complete
    assert len(run.records["accounts"]) == len(org.accounts)
    for account, region in partitions(org):
        resources = org.resources(account, region)
        ids = {
            r["resource_id"]
            for r in run.records["network"]
            if (r["account_id"], r["region"]) == (account, region)
        }
        assert ids == {i for values in resources.network.values() for i in values}
    findings = sum(len(image.findings) for r in org.partitions() for image in r.ecr_images)
    assert len(run.records["ecr_findings"]) == findings
    extra = [r for r in run.records["network"] if r["region"] == two_of_each]
    assert {r["data_type"] for r in extra} >= {"internet_gateways", "nat_gateways"}


# --------------------------------------------------------------------------- discovery

# stream -> (key properties, replication key or None for full table), as DESIGN.md lists them
CONTRACT = {
    "accounts": ["id"],
    "ec2_instances": ["arn"],
    "ecr_images": ["account_id", "region", "repository_name", "image_digest"],
    "ecr_findings": ["account_id", "region", "repository_name", "image_digest", "finding_id"],
    "eks_clusters": ["arn"],
    "network": ["account_id", "region", "data_type", "resource_id"],
    "rds_instances": ["arn"],
    "s3_buckets": ["arn"],
    "inspector_findings": ["finding_arn"],
    "securityhub_findings": ["id", "product_arn"],
    "inspector_coverage": ["account_id", "region", "resource_id", "scan_type"],
    "securityhub_ocsf_findings": ["finding_uid", "product_uid"],
    "sync_coverage": ["synced_at", "stream", "account_id", "region"],
}
INCREMENTAL = {
    "inspector_findings": "updated_at",
    "securityhub_findings": "updated_at",
    "securityhub_ocsf_findings": "modified_time",
}


def test_discover_lists_the_contract_streams() -> None:
    done = subprocess.run(
        [TAP, "--discover"], capture_output=True, text=True, env=clean_env(), check=True
    )
    catalog = {entry["tap_stream_id"]: entry for entry in json.loads(done.stdout)["streams"]}

    assert set(CONTRACT) == set(catalog)
    for name, keys in CONTRACT.items():
        entry = catalog[name]
        top = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        assert entry["key_properties"] == keys, name
        assert top["table-key-properties"] == keys, name
        if name in INCREMENTAL:
            assert entry["replication_method"] == "INCREMENTAL", name
            assert entry["replication_key"] == INCREMENTAL[name], name
            assert top["valid-replication-keys"] == [INCREMENTAL[name]], name
        else:
            assert entry.get("replication_method", "FULL_TABLE") == "FULL_TABLE", name
            assert not entry.get("replication_key"), name
        assert entry["schema"] == load_schema(name), name
