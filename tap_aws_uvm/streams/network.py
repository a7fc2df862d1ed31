"""Network inventory: one stream, one record per resource of each selected data type.

Declarative: ``DATA_TYPES`` maps each ``network_data_types`` value to the AWS listings it
reads. A :class:`Listing` names the operation, its result key and page size, the typed
property the AWS object goes under, and a ``columns`` function giving the record's
``resource_id``, ``arn`` and normalized columns; load balancers add their DescribeTags.

https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcs.html
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from typing_extensions import override

from tap_aws_uvm.client import AwsStream, Job
from tap_aws_uvm.settings import NETWORK_DATA_TYPES, Settings

TAGS_PER_CALL = 20  # DescribeTags takes at most 20 load balancers (ARNs or names)
GONE_CIDR_STATES = frozenset({"disassociating", "disassociated", "failing", "failed"})
Columns = dict[str, Any]


def _present(values: Iterable[Any]) -> list[str]:
    """The non-empty values, first occurrence kept."""
    return list(dict.fromkeys(str(value) for value in values if value))


def _ec2_arn(job: Job, resource: str, owner: str | None = None) -> str:
    return job.arn("ec2", resource, account_id=owner or job.account_id)


def _cidrs(primary: str | None, ipv4: Iterable[Any], ipv6: Iterable[Any]) -> list[str]:
    """The primary CIDR and every associated IPv4 / IPv6 one."""
    associated = [
        a.get("CidrBlock")
        for a in ipv4
        if (a.get("CidrBlockState") or {}).get("State") not in GONE_CIDR_STATES
    ] + [
        a.get("Ipv6CidrBlock")
        for a in ipv6
        if (a.get("Ipv6CidrBlockState") or {}).get("State") not in GONE_CIDR_STATES
    ]
    return _present([primary, *associated])


# ---- columns of each AWS object ------------------------------------------------------------


def _internet_gateway(job: Job, gateway: Mapping[str, Any]) -> Columns:
    gateway_id = gateway["InternetGatewayId"]
    attachment = (gateway.get("Attachments") or [{}])[0]  # one VPC at most
    return {
        "resource_id": gateway_id,
        "arn": _ec2_arn(job, f"internet-gateway/{gateway_id}", gateway.get("OwnerId")),
        "vpc_id": attachment.get("VpcId"),
        "state": attachment.get("State"),
        "tags": gateway.get("Tags"),
    }


def _nat_gateway(job: Job, gateway: Mapping[str, Any]) -> Columns:
    gateway_id = gateway["NatGatewayId"]
    addresses = gateway.get("NatGatewayAddresses") or ()
    return {
        "resource_id": gateway_id,
        "arn": _ec2_arn(job, f"natgateway/{gateway_id}"),
        "vpc_id": gateway.get("VpcId"),
        "public_ips": _present(a.get("PublicIp") for a in addresses),
        "private_ips": _present(a.get("PrivateIp") for a in addresses),
        "state": gateway.get("State"),
        "tags": gateway.get("Tags"),
    }


def _load_balancer(job: Job, balancer: Mapping[str, Any]) -> Columns:
    addresses = [
        address
        for zone in balancer.get("AvailabilityZones") or ()
        for address in zone.get("LoadBalancerAddresses") or ()
    ]
    return {
        "resource_id": balancer["LoadBalancerArn"],
        "arn": balancer["LoadBalancerArn"],
        "vpc_id": balancer.get("VpcId"),
        "public_ips": _present(a.get("IpAddress") for a in addresses),
        "private_ips": _present(a.get("PrivateIPv4Address") for a in addresses),
        "state": (balancer.get("State") or {}).get("Code"),
        "tags": balancer.get("Tags"),
    }


def _classic_load_balancer(job: Job, balancer: Mapping[str, Any]) -> Columns:
    # Classic load balancers have no ARN in their description: build it.
    arn = job.arn("elasticloadbalancing", f"loadbalancer/{balancer['LoadBalancerName']}")
    return {
        "resource_id": arn,
        "arn": arn,
        "vpc_id": balancer.get("VPCId"),
        "tags": balancer.get("Tags"),
    }


def _vpc(job: Job, vpc: Mapping[str, Any]) -> Columns:
    vpc_id = vpc["VpcId"]
    return {
        "resource_id": vpc_id,
        "arn": _ec2_arn(job, f"vpc/{vpc_id}", vpc.get("OwnerId")),
        "vpc_id": vpc_id,
        "cidr_blocks": _cidrs(
            vpc.get("CidrBlock"),
            vpc.get("CidrBlockAssociationSet") or (),
            vpc.get("Ipv6CidrBlockAssociationSet") or (),
        ),
        "state": vpc.get("State"),
        "tags": vpc.get("Tags"),
    }


def _subnet(job: Job, subnet: Mapping[str, Any]) -> Columns:
    subnet_id = subnet["SubnetId"]
    return {
        "resource_id": subnet_id,
        "arn": subnet.get("SubnetArn")
        or _ec2_arn(job, f"subnet/{subnet_id}", subnet.get("OwnerId")),
        "vpc_id": subnet.get("VpcId"),
        "cidr_blocks": _cidrs(
            subnet.get("CidrBlock"), (), subnet.get("Ipv6CidrBlockAssociationSet") or ()
        ),
        "state": subnet.get("State"),
        "tags": subnet.get("Tags"),
    }


def _address(job: Job, address: Mapping[str, Any]) -> Columns:
    allocation_id = address.get("AllocationId")
    return {
        "resource_id": allocation_id or address["PublicIp"],  # EC2-Classic: no allocation id
        "arn": _ec2_arn(job, f"elastic-ip/{allocation_id}") if allocation_id else None,
        "public_ips": _present([address.get("PublicIp"), address.get("CarrierIp")]),
        "private_ips": _present([address.get("PrivateIpAddress")]),
        "tags": address.get("Tags"),
    }


def _network_interface(job: Job, interface: Mapping[str, Any]) -> Columns:
    interface_id = interface["NetworkInterfaceId"]
    private = interface.get("PrivateIpAddresses") or ()
    return {
        "resource_id": interface_id,
        "arn": _ec2_arn(job, f"network-interface/{interface_id}", interface.get("OwnerId")),
        "vpc_id": interface.get("VpcId"),
        "public_ips": _present(
            [(interface.get("Association") or {}).get("PublicIp")]
            + [(p.get("Association") or {}).get("PublicIp") for p in private]
        ),
        "private_ips": _present(
            [interface.get("PrivateIpAddress")] + [p.get("PrivateIpAddress") for p in private]
        ),
        "state": interface.get("Status"),
        "tags": interface.get("TagSet"),
    }


# ---- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tags:
    """A DescribeTags enrichment: the id field of the listed object and the call's parameter."""

    id_field: str  # "LoadBalancerArn" / "LoadBalancerName"
    key: str  # the same id in DescribeTags' answer: "ResourceArn" / "LoadBalancerName"
    param: str  # "ResourceArns" / "LoadBalancerNames"


@dataclass(frozen=True)
class Listing:
    """One AWS listing: its call, and how each listed object becomes a record."""

    service: str
    operation: str
    result_key: str
    page_size: int | None  # None: the operation is not paginated (DescribeAddresses)
    typed_property: str  # the one property holding the full AWS object
    columns: Callable[[Job, Mapping[str, Any]], Columns]
    tags: Tags | None = None


@dataclass(frozen=True)
class DataType:
    """What one network data type calls (its IAM actions) and lists."""

    actions: tuple[str, ...]
    listings: tuple[Listing, ...]


_ELB_TAGS = "elasticloadbalancing:DescribeTags"
DATA_TYPES: dict[str, DataType] = {
    "internet_gateways": DataType(
        ("ec2:DescribeInternetGateways",),
        (
            Listing(
                "ec2",
                "describe_internet_gateways",
                "InternetGateways",
                1000,
                "internet_gateway",
                _internet_gateway,
            ),
        ),
    ),
    "nat_gateways": DataType(
        ("ec2:DescribeNatGateways",),
        (
            Listing(
                "ec2", "describe_nat_gateways", "NatGateways", 1000, "nat_gateway", _nat_gateway
            ),
        ),
    ),
    "load_balancers": DataType(
        ("elasticloadbalancing:DescribeLoadBalancers", _ELB_TAGS),
        (
            Listing(
                "elbv2",
                "describe_load_balancers",
                "LoadBalancers",
                400,
                "load_balancer",
                _load_balancer,
                Tags("LoadBalancerArn", "ResourceArn", "ResourceArns"),
            ),
            Listing(
                "elb",
                "describe_load_balancers",
                "LoadBalancerDescriptions",
                400,
                "classic_load_balancer",
                _classic_load_balancer,
                Tags("LoadBalancerName", "LoadBalancerName", "LoadBalancerNames"),
            ),
        ),
    ),
    "vpc_cidrs": DataType(
        ("ec2:DescribeVpcs",), (Listing("ec2", "describe_vpcs", "Vpcs", 1000, "vpc", _vpc),)
    ),
    "vpc_subnets": DataType(
        ("ec2:DescribeSubnets",),
        (Listing("ec2", "describe_subnets", "Subnets", 1000, "subnet", _subnet),),
    ),
    "addresses": DataType(
        ("ec2:DescribeAddresses",),
        (Listing("ec2", "describe_addresses", "Addresses", None, "address", _address),),
    ),
    "network_interfaces": DataType(
        ("ec2:DescribeNetworkInterfaces",),
        (
            Listing(
                "ec2",
                "describe_network_interfaces",
                "NetworkInterfaces",
                1000,
                "network_interface",
                _network_interface,
            ),
        ),
    ),
}
if tuple(DATA_TYPES) != NETWORK_DATA_TYPES:  # pragma: no cover - a programming error
    raise ImportError("streams.network.DATA_TYPES and settings.NETWORK_DATA_TYPES differ")


def _listed(job: Job, listing: Listing) -> list[tuple[Mapping[str, Any], bool]]:
    """Every object of a listing, with whether its tags are known (DescribeTags allowed)."""
    client = job.client(listing.service)
    if listing.page_size is None:
        answer = job.call(client, listing.operation) or {}
        items = list(answer.get(listing.result_key) or ())
    else:
        items = list(
            job.paginate(client, listing.operation, listing.result_key, page_size=listing.page_size)
        )
    if listing.tags is None:
        return [(item, True) for item in items]
    tags = _tags_by(job, client, listing.tags, [item[listing.tags.id_field] for item in items])
    listed: list[tuple[Mapping[str, Any], bool]] = []
    for item in items:
        found = tags.get(item[listing.tags.id_field], [])
        listed.append(({**item, "Tags": found}, True) if found is not None else (item, False))
    return listed


def _tags_by(job: Job, client: Any, tags: Tags, ids: list[str]) -> dict[str, Any]:
    """DescribeTags in batches over the fan-out: ``{arn or name: AWS tag list}``; ``None`` for
    the ids of a batch whose DescribeTags was denied (counted by ``job.enrich``)."""

    def describe(batch: list[str]) -> dict[str, Any]:
        answer = job.enrich(
            "elasticloadbalancing:DescribeTags",
            len(batch),
            lambda: job.call(client, "describe_tags", **{tags.param: batch}),
        )
        if answer is None:
            return dict.fromkeys(batch)
        return {d[tags.key]: d.get("Tags") or [] for d in answer.get("TagDescriptions") or ()}

    batches = [ids[start : start + TAGS_PER_CALL] for start in range(0, len(ids), TAGS_PER_CALL)]
    return {key: value for found in job.map(describe, batches) for key, value in found.items()}


class NetworkStream(AwsStream):
    """Gateways, load balancers (v2 and classic), VPC and subnet CIDRs, Elastic IPs and
    network interfaces: only the data types selected in ``network_data_types``."""

    name = "network"
    primary_keys = ("account_id", "region", "data_type", "resource_id")
    iam_actions = tuple(action for data in DATA_TYPES.values() for action in data.actions)

    @classmethod
    @override
    def required_actions(cls, settings: Settings | None) -> tuple[str, ...]:
        if settings is None:
            return cls.iam_actions
        selected = set(settings.network_data_types)
        return tuple(
            action
            for name, data_type in DATA_TYPES.items()
            if name in selected
            for action in data_type.actions
        )

    @override
    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        selected = set(job.settings.network_data_types)
        for name, data_type in DATA_TYPES.items():
            if name not in selected:
                continue
            for listing in data_type.listings:
                for item, tags_known in _listed(job, listing):
                    columns = {"data_type": name, **_NORMALIZED, **listing.columns(job, item)}
                    record = job.record({}, **columns, **{listing.typed_property: item})
                    if not tags_known:
                        record["tags"] = None  # DescribeTags denied: unknown, not empty
                    yield record


# Every network record has every normalized column (null where it does not apply).
_NORMALIZED: Columns = dict.fromkeys(
    ("arn", "vpc_id", "cidr_blocks", "public_ips", "private_ips", "state", "tags")
)
