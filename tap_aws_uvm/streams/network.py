"""Network inventory: one stream, one record per resource of each selected data type."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tap_aws_uvm.client import AwsStream, Job
from tap_aws_uvm.records import tag_map
from tap_aws_uvm.settings import NETWORK_DATA_TYPES, Settings

TAGS_PER_CALL = 20  # DescribeTags takes at most 20 load balancers (ARNs or names)
GONE_CIDR_STATES = frozenset({"disassociating", "disassociated", "failing", "failed"})


def _record(
    job: Job,
    data_type: str,
    typed_property: str,
    aws_object: Mapping[str, Any],
    *,
    resource_id: str,
    arn: str | None = None,
    vpc_id: str | None = None,
    cidr_blocks: list[str] | None = None,
    public_ips: list[str] | None = None,
    private_ips: list[str] | None = None,
    state: str | None = None,
    tags: Any = None,
) -> dict[str, Any]:
    return job.record(
        {},
        data_type=data_type,
        resource_id=resource_id,
        arn=arn,
        vpc_id=vpc_id,
        cidr_blocks=cidr_blocks,
        public_ips=public_ips,
        private_ips=private_ips,
        state=state,
        tags=tag_map(tags),
        **{typed_property: aws_object},
    )


def _present(values: Iterable[Any]) -> list[str]:
    """The non-empty values, first occurrence kept."""
    return list(dict.fromkeys(str(value) for value in values if value))


def _ec2_arn(job: Job, resource: str, owner: str | None) -> str:
    return job.arn("ec2", resource, account_id=owner or job.account_id)


def _internet_gateways(job: Job) -> Iterator[dict[str, Any]]:
    ec2 = job.client("ec2")
    for gateway in job.paginate(
        ec2, "describe_internet_gateways", "InternetGateways", page_size=1000
    ):
        gateway_id = gateway["InternetGatewayId"]
        attachments = gateway.get("Attachments") or [{}]
        attachment = attachments[0]  # one VPC at most
        yield _record(
            job,
            "internet_gateways",
            "internet_gateway",
            gateway,
            resource_id=gateway_id,
            arn=_ec2_arn(job, f"internet-gateway/{gateway_id}", gateway.get("OwnerId")),
            vpc_id=attachment.get("VpcId"),
            state=attachment.get("State"),
            tags=gateway.get("Tags"),
        )


def _nat_gateways(job: Job) -> Iterator[dict[str, Any]]:
    ec2 = job.client("ec2")
    for gateway in job.paginate(ec2, "describe_nat_gateways", "NatGateways", page_size=1000):
        gateway_id = gateway["NatGatewayId"]
        addresses = gateway.get("NatGatewayAddresses") or ()
        yield _record(
            job,
            "nat_gateways",
            "nat_gateway",
            gateway,
            resource_id=gateway_id,
            arn=_ec2_arn(job, f"natgateway/{gateway_id}", None),
            vpc_id=gateway.get("VpcId"),
            public_ips=_present(a.get("PublicIp") for a in addresses),
            private_ips=_present(a.get("PrivateIp") for a in addresses),
            state=gateway.get("State"),
            tags=gateway.get("Tags"),
        )


def _batches(items: list[Any]) -> list[list[Any]]:
    return [items[start : start + TAGS_PER_CALL] for start in range(0, len(items), TAGS_PER_CALL)]


def _tags_by(job: Job, client: Any, key: str, param: str, ids: list[str]) -> dict[str, Any]:
    """DescribeTags in batches over the fan-out: ``{arn or name: AWS tag list}``."""

    def describe(batch: list[str]) -> list[dict[str, Any]]:
        answer = job.call(client, "describe_tags", **{param: batch}) or {}
        return list(answer.get("TagDescriptions") or ())

    return {
        described[key]: described.get("Tags") or []
        for descriptions in job.map(describe, _batches(ids))
        for described in descriptions
    }


def _load_balancers(job: Job) -> Iterator[dict[str, Any]]:
    elbv2 = job.client("elbv2")
    current = list(job.paginate(elbv2, "describe_load_balancers", "LoadBalancers", page_size=400))
    tags = _tags_by(
        job, elbv2, "ResourceArn", "ResourceArns", [lb["LoadBalancerArn"] for lb in current]
    )
    for balancer in current:
        arn = balancer["LoadBalancerArn"]
        addresses = [
            address
            for zone in balancer.get("AvailabilityZones") or ()
            for address in zone.get("LoadBalancerAddresses") or ()
        ]
        yield _record(
            job,
            "load_balancers",
            "load_balancer",
            {**balancer, "Tags": tags.get(arn, [])},
            resource_id=arn,
            arn=arn,
            vpc_id=balancer.get("VpcId"),
            public_ips=_present(a.get("IpAddress") for a in addresses),
            private_ips=_present(a.get("PrivateIPv4Address") for a in addresses),
            state=(balancer.get("State") or {}).get("Code"),
            tags=tags.get(arn),
        )

    elb = job.client("elb")
    classic = list(
        job.paginate(elb, "describe_load_balancers", "LoadBalancerDescriptions", page_size=400)
    )
    tags = _tags_by(
        job,
        elb,
        "LoadBalancerName",
        "LoadBalancerNames",
        [lb["LoadBalancerName"] for lb in classic],
    )
    for balancer in classic:
        name = balancer["LoadBalancerName"]
        # Classic load balancers have no ARN in their description: build it.
        arn = job.arn("elasticloadbalancing", f"loadbalancer/{name}")
        yield _record(
            job,
            "load_balancers",
            "classic_load_balancer",
            {**balancer, "Tags": tags.get(name, [])},
            resource_id=arn,
            arn=arn,
            vpc_id=balancer.get("VPCId"),
            tags=tags.get(name),
        )


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


def _vpcs(job: Job) -> Iterator[dict[str, Any]]:
    ec2 = job.client("ec2")
    for vpc in job.paginate(ec2, "describe_vpcs", "Vpcs", page_size=1000):
        vpc_id = vpc["VpcId"]
        yield _record(
            job,
            "vpc_cidrs",
            "vpc",
            vpc,
            resource_id=vpc_id,
            arn=_ec2_arn(job, f"vpc/{vpc_id}", vpc.get("OwnerId")),
            vpc_id=vpc_id,
            cidr_blocks=_cidrs(
                vpc.get("CidrBlock"),
                vpc.get("CidrBlockAssociationSet") or (),
                vpc.get("Ipv6CidrBlockAssociationSet") or (),
            ),
            state=vpc.get("State"),
            tags=vpc.get("Tags"),
        )


def _subnets(job: Job) -> Iterator[dict[str, Any]]:
    ec2 = job.client("ec2")
    for subnet in job.paginate(ec2, "describe_subnets", "Subnets", page_size=1000):
        subnet_id = subnet["SubnetId"]
        yield _record(
            job,
            "vpc_subnets",
            "subnet",
            subnet,
            resource_id=subnet_id,
            arn=subnet.get("SubnetArn")
            or _ec2_arn(job, f"subnet/{subnet_id}", subnet.get("OwnerId")),
            vpc_id=subnet.get("VpcId"),
            cidr_blocks=_cidrs(
                subnet.get("CidrBlock"), (), subnet.get("Ipv6CidrBlockAssociationSet") or ()
            ),
            state=subnet.get("State"),
            tags=subnet.get("Tags"),
        )


def _addresses(job: Job) -> Iterator[dict[str, Any]]:
    ec2 = job.client("ec2")
    answer = job.call(ec2, "describe_addresses") or {}  # DescribeAddresses is not paginated
    for address in answer.get("Addresses") or ():
        allocation_id = address.get("AllocationId")
        yield _record(
            job,
            "addresses",
            "address",
            address,
            resource_id=allocation_id or address["PublicIp"],  # EC2-Classic: no allocation id
            arn=_ec2_arn(job, f"elastic-ip/{allocation_id}", None) if allocation_id else None,
            public_ips=_present([address.get("PublicIp"), address.get("CarrierIp")]),
            private_ips=_present([address.get("PrivateIpAddress")]),
            tags=address.get("Tags"),
        )


def _network_interfaces(job: Job) -> Iterator[dict[str, Any]]:
    ec2 = job.client("ec2")
    for interface in job.paginate(
        ec2, "describe_network_interfaces", "NetworkInterfaces", page_size=1000
    ):
        interface_id = interface["NetworkInterfaceId"]
        private = interface.get("PrivateIpAddresses") or ()
        yield _record(
            job,
            "network_interfaces",
            "network_interface",
            interface,
            resource_id=interface_id,
            arn=_ec2_arn(job, f"network-interface/{interface_id}", interface.get("OwnerId")),
            vpc_id=interface.get("VpcId"),
            public_ips=_present(
                [(interface.get("Association") or {}).get("PublicIp")]
                + [(p.get("Association") or {}).get("PublicIp") for p in private]
            ),
            private_ips=_present(
                [interface.get("PrivateIpAddress")] + [p.get("PrivateIpAddress") for p in private]
            ),
            state=interface.get("Status"),
            tags=interface.get("TagSet"),
        )


@dataclass(frozen=True)
class DataType:
    """What one network data type calls, and how its records are made."""

    actions: tuple[str, ...]
    fetch: Callable[[Job], Iterator[dict[str, Any]]]


DATA_TYPES: dict[str, DataType] = {
    "internet_gateways": DataType(("ec2:DescribeInternetGateways",), _internet_gateways),
    "nat_gateways": DataType(("ec2:DescribeNatGateways",), _nat_gateways),
    "load_balancers": DataType(
        (
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
        ),
        _load_balancers,
    ),
    "vpc_cidrs": DataType(("ec2:DescribeVpcs",), _vpcs),
    "vpc_subnets": DataType(("ec2:DescribeSubnets",), _subnets),
    "addresses": DataType(("ec2:DescribeAddresses",), _addresses),
    "network_interfaces": DataType(("ec2:DescribeNetworkInterfaces",), _network_interfaces),
}
if tuple(DATA_TYPES) != NETWORK_DATA_TYPES:  # pragma: no cover - a programming error
    raise ImportError("streams.network.DATA_TYPES and settings.NETWORK_DATA_TYPES differ")


class NetworkStream(AwsStream):
    """Gateways, load balancers (v2 and classic), VPC and subnet CIDRs, Elastic IPs and
    network interfaces: only the data types selected in ``network_data_types``.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcs.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
    https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html
    """

    name = "network"
    primary_keys = ("account_id", "region", "data_type", "resource_id")
    iam_actions = tuple(action for data in DATA_TYPES.values() for action in data.actions)

    @classmethod
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

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        selected = set(job.runtime.settings.network_data_types)
        for name, data_type in DATA_TYPES.items():
            if name in selected:
                yield from data_type.fetch(job)
