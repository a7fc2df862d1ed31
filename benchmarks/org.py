"""The canned organization of the scale case: what every account and region holds.

Deterministic and small, shaped like a real organization: workloads live in one or two
regions of each account ("busy": instances, load balancers, ECR images with scans, an EKS
cluster, RDS, ~120 Security Hub and 30 Inspector findings), every other region holds what
AWS puts there by itself ("quiet": the default VPC, its subnets and internet gateway, and a
few Security Hub control findings). ``us-east-1`` is busy in every account, ``eu-west-1`` in
every odd-numbered one.

Values are boto3's form of each answer with two placeholders, ``@@A@@`` (the account) and
``@@R@@`` (the region), which the server replaces in the pre-encoded bytes of each call;
:mod:`benchmarks.wire` encodes them from botocore's output shapes. :meth:`Organization.expected`
is what a correct sync of this organization emits, stream by stream.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

A, R = "@@A@@", "@@R@@"
FIRST_ACCOUNT = 200_000_000_000  # the management account; members follow
ORGANIZATION_ID = "o-bench0scale"
ROOT_ID = "r-bnch"
ROLE_NAME = "TapAwsUvmRead"
BUSY_EVERYWHERE, BUSY_ODD = "us-east-1", "eu-west-1"
BUSY, QUIET = "busy", "quiet"
# What the tap's streams read per (account, region) partition, and how many records each is.
REGIONAL_STREAMS = (
    "ec2_instances",
    "ecr_findings",
    "ecr_images",
    "eks_clusters",
    "inspector_findings",
    "network",
    "rds_instances",
    "securityhub_findings",
    "securityhub_ocsf_findings",
    "inspector_coverage",
)
# The regions enabled by default, and a few opt-in ones (not enabled in the canned accounts).
DEFAULT_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
)
OPT_IN_REGIONS = ("af-south-1", "ap-east-1", "eu-south-1", "me-south-1")
RESOURCE_TIME = dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC)


def account_id(index: int) -> str:
    return f"{FIRST_ACCOUNT + index:012d}"


def role_arn(index: int = 0) -> str:
    return f"arn:aws:iam::{account_id(index)}:role/{ROLE_NAME}"


def profile_of(account: str, region: str) -> str:
    if region == BUSY_EVERYWHERE or (region == BUSY_ODD and int(account) % 2 == 1):
        return BUSY
    return QUIET


def _hex(*parts: Any, n: int = 17) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:n]


def _tags(**tags: str) -> list[dict[str, str]]:
    return [{"Key": k.replace("_", ":"), "Value": v} for k, v in tags.items()]


def _at(days: float = 0) -> dt.datetime:
    return RESOURCE_TIME + dt.timedelta(days=days)


# ---- EC2 and the network -----------------------------------------------------------------------


@dataclass
class Net:
    """The ids one partition's network uses (the same in every partition of a profile)."""

    vpc: str = "vpc-0a1b2c3d4e5f60718"
    default_vpc: str = "vpc-0d3fa017c5e2b9a41"
    subnets: tuple[str, ...] = ("subnet-0a11", "subnet-0b22", "subnet-0c33", "subnet-0d44")
    default_subnets: tuple[str, ...] = ("subnet-0e55", "subnet-0f66", "subnet-0a77")
    group: str = "sg-0b7e2c9d1f3a4e5b6"


NET = Net()


def _eni(
    n: int,
    *,
    subnet: str,
    private_ip: str,
    public_ip: str | None,
    instance: str | None,
    description: str = "",
) -> dict[str, Any]:
    eni_id = f"eni-0{_hex('eni', n)}"
    association = (
        {
            "IpOwnerId": "amazon",
            "PublicDnsName": f"ec2-{public_ip.replace('.', '-')}.{R}.compute.amazonaws.com",
            "PublicIp": public_ip,
        }
        if public_ip
        else None
    )
    private = {
        "Primary": True,
        "PrivateDnsName": f"ip-{private_ip.replace('.', '-')}.{R}.compute.internal",
        "PrivateIpAddress": private_ip,
        "Association": association,
    }
    eni: dict[str, Any] = {
        "AvailabilityZone": f"{R}a",
        "Description": description or f"Primary network interface {n}",
        "Groups": [{"GroupId": NET.group, "GroupName": "app"}],
        "InterfaceType": "interface",
        "Ipv6Addresses": [],
        "MacAddress": f"0e:{n:02x}:5a:9c:21:7f",
        "NetworkInterfaceId": eni_id,
        "OwnerId": A,
        "PrivateDnsName": private["PrivateDnsName"],
        "PrivateIpAddress": private_ip,
        "PrivateIpAddresses": [private],
        "RequesterManaged": instance is None,
        "SourceDestCheck": True,
        "Status": "in-use",
        "SubnetId": subnet,
        "VpcId": NET.vpc,
        "TagSet": [],
        "Association": association,
    }
    if instance:
        eni["Attachment"] = {
            "AttachTime": _at(n),
            "AttachmentId": f"eni-attach-0{_hex('attach', n)}",
            "DeleteOnTermination": True,
            "DeviceIndex": 0,
            "InstanceId": instance,
            "InstanceOwnerId": A,
            "Status": "attached",
            "NetworkCardIndex": 0,
        }
    return eni


def _instance(n: int, *, public: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """An instance and its primary network interface."""
    instance_id = f"i-0{_hex('instance', n)}"
    subnet = NET.subnets[n % 2 if public else 2 + n % 2]
    private_ip = f"10.20.{n % 4}.{10 + n}"
    public_ip = f"52.{10 + n}.{n * 7 % 250}.{n * 13 % 250}" if public else None
    eni = _eni(n, subnet=subnet, private_ip=private_ip, public_ip=public_ip, instance=instance_id)
    nic = {
        k: v
        for k, v in eni.items()
        if k not in ("AvailabilityZone", "RequesterManaged", "TagSet", "InterfaceType")
    }
    nic["InterfaceType"] = "interface"
    nic["Attachment"] = {
        k: v for k, v in eni["Attachment"].items() if k not in ("InstanceId", "InstanceOwnerId")
    }
    role = "web" if public else "worker"
    instance = {
        "InstanceId": instance_id,
        "ImageId": "ami-0c02fb55956c7d316",
        "State": {"Code": 16, "Name": "running"},
        "PrivateDnsName": eni["PrivateDnsName"],
        "PublicDnsName": (eni["Association"] or {}).get("PublicDnsName"),
        "KeyName": "ops-2026",
        "AmiLaunchIndex": 0,
        "ProductCodes": [],
        "InstanceType": "m6i.large" if public else "c6i.xlarge",
        "LaunchTime": _at(n),
        "Placement": {"AvailabilityZone": f"{R}a", "GroupName": "", "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "SubnetId": subnet,
        "VpcId": NET.vpc,
        "PrivateIpAddress": private_ip,
        "PublicIpAddress": public_ip,
        "Architecture": "x86_64",
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {
                    "AttachTime": _at(n),
                    "DeleteOnTermination": True,
                    "Status": "attached",
                    "VolumeId": f"vol-0{_hex('volume', n)}",
                },
            }
        ],
        "ClientToken": f"terraform-{_hex('token', n, n=24)}",
        "EbsOptimized": True,
        "EnaSupport": True,
        "Hypervisor": "xen",
        "IamInstanceProfile": {
            "Arn": f"arn:aws:iam::{A}:instance-profile/{role}",
            "Id": f"AIPA{_hex('profile', role, n=17).upper()}",
        },
        "NetworkInterfaces": [nic],
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": "ebs",
        "SecurityGroups": [{"GroupId": NET.group, "GroupName": "app"}],
        "SourceDestCheck": True,
        "Tags": _tags(Name=f"{role}-{n}", env="prod", team=f"team-{n % 3}"),
        "VirtualizationType": "hvm",
        "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
        "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
        "HibernationOptions": {"Configured": False},
        "MetadataOptions": {
            "State": "applied",
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": 2,
            "HttpEndpoint": "enabled",
            "HttpProtocolIpv6": "disabled",
            "InstanceMetadataTags": "disabled",
        },
        "EnclaveOptions": {"Enabled": False},
        "BootMode": "uefi-preferred",
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "UsageOperationUpdateTime": _at(n),
        "PrivateDnsNameOptions": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "MaintenanceOptions": {"AutoRecovery": "default"},
        "CurrentInstanceBootMode": "legacy-bios",
    }
    if not public_ip:
        del instance["PublicDnsName"]
    return instance, eni


def _vpc(vpc_id: str, cidr: str, *, default: bool) -> dict[str, Any]:
    return {
        "CidrBlock": cidr,
        "DhcpOptionsId": "dopt-0c5d1e2f3a4b5c6d7",
        "State": "available",
        "VpcId": vpc_id,
        "OwnerId": A,
        "InstanceTenancy": "default",
        "CidrBlockAssociationSet": [
            {
                "AssociationId": f"vpc-cidr-assoc-0{_hex('cidr', vpc_id)}",
                "CidrBlock": cidr,
                "CidrBlockState": {"State": "associated"},
            }
        ],
        "IsDefault": default,
        "Tags": [] if default else _tags(Name="prod"),
    }


def _subnet(subnet_id: str, vpc_id: str, cidr: str, zone: str, *, default: bool) -> dict[str, Any]:
    return {
        "AvailabilityZone": f"{R}{zone}",
        "AvailabilityZoneId": f"use1-az{ord(zone) - 96}",
        "AvailableIpAddressCount": 4088 if default else 243,
        "CidrBlock": cidr,
        "DefaultForAz": default,
        "MapPublicIpOnLaunch": default,
        "State": "available",
        "SubnetId": subnet_id,
        "VpcId": vpc_id,
        "OwnerId": A,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "SubnetArn": f"arn:aws:ec2:{R}:{A}:subnet/{subnet_id}",
        "EnableDns64": False,
        "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "Tags": [] if default else _tags(Name=f"prod-{zone}"),
    }


def _internet_gateway(gateway_id: str, vpc_id: str) -> dict[str, Any]:
    return {
        "InternetGatewayId": gateway_id,
        "OwnerId": A,
        "Attachments": [{"State": "available", "VpcId": vpc_id}],
        "Tags": _tags(Name="prod") if vpc_id == NET.vpc else [],
    }


def _load_balancer(kind: str, n: int) -> dict[str, Any]:
    name = f"prod-{kind}-{n}"
    suffix = _hex("lb", kind, n, n=16)
    zones = [
        {
            "ZoneName": f"{R}{zone}",
            "SubnetId": subnet,
            "LoadBalancerAddresses": (
                [{"IpAddress": f"3.{n}.{i}.9", "AllocationId": f"eipalloc-0{_hex(zone, n)}"}]
                if kind == "net"
                else []
            ),
        }
        for i, (zone, subnet) in enumerate(zip("ab", NET.subnets[:2], strict=True))
    ]
    return {
        "LoadBalancerArn": (
            f"arn:aws:elasticloadbalancing:{R}:{A}:loadbalancer/{kind}/{name}/{suffix}"
        ),
        "DNSName": f"{name}-{suffix[:10]}.elb.{R}.amazonaws.com",
        "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K",
        "CreatedTime": _at(3 + n),
        "LoadBalancerName": name,
        "Scheme": "internet-facing",
        "VpcId": NET.vpc,
        "State": {"Code": "active"},
        "Type": "application" if kind == "app" else "network",
        "AvailabilityZones": zones,
        "SecurityGroups": [NET.group] if kind == "app" else [],
        "IpAddressType": "ipv4",
    }


def _classic_load_balancer(n: int, instances: Sequence[str]) -> dict[str, Any]:
    name = f"legacy-web-{n}"
    return {
        "LoadBalancerName": name,
        "DNSName": f"{name}-1234567890.{R}.elb.amazonaws.com",
        "CanonicalHostedZoneName": f"{name}-1234567890.{R}.elb.amazonaws.com",
        "CanonicalHostedZoneNameID": "Z35SXDOTRQ7X7K",
        "ListenerDescriptions": [
            {
                "Listener": {
                    "Protocol": "HTTP",
                    "LoadBalancerPort": 80,
                    "InstanceProtocol": "HTTP",
                    "InstancePort": 8080,
                },
                "PolicyNames": [],
            }
        ],
        "Policies": {
            "AppCookieStickinessPolicies": [],
            "LBCookieStickinessPolicies": [],
            "OtherPolicies": [],
        },
        "BackendServerDescriptions": [],
        "AvailabilityZones": [f"{R}a", f"{R}b"],
        "Subnets": list(NET.subnets[:2]),
        "VPCId": NET.vpc,
        "Instances": [{"InstanceId": i} for i in instances],
        "HealthCheck": {
            "Target": "HTTP:8080/health",
            "Interval": 30,
            "Timeout": 5,
            "UnhealthyThreshold": 2,
            "HealthyThreshold": 5,
        },
        "SourceSecurityGroup": {"OwnerAlias": A, "GroupName": "app"},
        "SecurityGroups": [NET.group],
        "CreatedTime": _at(2),
        "Scheme": "internet-facing",
    }


# ---- ECR, EKS, RDS -----------------------------------------------------------------------------


@dataclass
class Image:
    detail: dict[str, Any]
    scan: dict[str, Any] | None  # DescribeImageScanFindings' answer; None: ScanNotFoundException

    @property
    def findings(self) -> int:
        if self.scan is None:
            return 0
        scan = self.scan["imageScanFindings"]
        return len(scan.get("findings") or ()) + len(scan.get("enhancedFindings") or ())


def _digest(*parts: Any) -> str:
    return "sha256:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _repository(name: str, enhanced: bool) -> dict[str, Any]:
    return {
        "repositoryArn": f"arn:aws:ecr:{R}:{A}:repository/{name}",
        "registryId": A,
        "repositoryName": name,
        "repositoryUri": f"{A}.dkr.ecr.{R}.amazonaws.com/{name}",
        "createdAt": _at(-30),
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": not enhanced},
        "encryptionConfiguration": {"encryptionType": "AES256"},
    }


def _basic_finding(n: int, package: str, version: str, severity: str) -> dict[str, Any]:
    cve = f"CVE-2025-{41000 + n}"
    return {
        "name": cve,
        "description": f"A flaw in {package} before {version}-2 allows a remote attacker to "
        "cause a denial of service.",
        "uri": f"https://security-tracker.debian.org/tracker/{cve}",
        "severity": severity,
        "attributes": [
            {"key": "package_version", "value": version},
            {"key": "package_name", "value": package},
            {"key": "CVSS3_VECTOR", "value": "AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},
            {"key": "CVSS3_SCORE", "value": "7.5"},
        ],
    }


def _enhanced_finding(repo: str, digest: str, tags: Sequence[str], n: int) -> dict[str, Any]:
    cve = f"CVE-2026-{2100 + n}"
    url = f"https://nvd.nist.gov/vuln/detail/{cve}"
    return {
        "awsAccountId": A,
        "description": "Improper input validation in urllib3 allows header injection.",
        "findingArn": f"arn:aws:inspector2:{R}:{A}:finding/{_hex('enhanced', repo, n, n=32)}",
        "firstObservedAt": _at(10),
        "lastObservedAt": _at(40),
        "updatedAt": _at(40),
        "packageVulnerabilityDetails": {
            "cvss": [
                {
                    "baseScore": 6.1,
                    "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                    "source": "NVD",
                    "version": "3.1",
                }
            ],
            "referenceUrls": [url],
            "relatedVulnerabilities": [],
            "source": "NVD",
            "sourceUrl": url,
            "vendorCreatedAt": _at(-60),
            "vendorSeverity": "MEDIUM",
            "vendorUpdatedAt": _at(-50),
            "vulnerabilityId": cve,
            "vulnerablePackages": [
                {
                    "arch": "X86_64",
                    "epoch": 0,
                    "name": "urllib3",
                    "packageManager": "PYTHONPKG",
                    "version": f"1.26.{n}",
                    "fixedInVersion": "1.26.19",
                    "filePath": "/usr/lib/python3/site-packages/urllib3",
                }
            ],
        },
        "remediation": {"recommendation": {"text": "Upgrade urllib3 to 1.26.19 or later."}},
        "resources": [
            {
                "details": {
                    "awsEcrContainerImage": {
                        "architecture": "amd64",
                        "imageHash": digest,
                        "imageTags": list(tags),
                        "platform": "DEBIAN_12",
                        "pushedAt": _at(5),
                        "registry": A,
                        "repositoryName": repo,
                    }
                },
                "id": f"arn:aws:ecr:{R}:{A}:repository/{repo}/{digest}",
                "type": "AWS_ECR_CONTAINER_IMAGE",
            }
        ],
        "score": 6.1,
        "severity": "MEDIUM",
        "status": "ACTIVE",
        "title": f"{cve} - urllib3",
        "type": "PACKAGE_VULNERABILITY",
        "fixAvailable": "YES",
        "exploitAvailable": "NO",
    }


def _image(repo: str, n: int, tags: Sequence[str], findings: int | None, enhanced: bool) -> Image:
    digest = _digest(repo, n)
    detail: dict[str, Any] = {
        "registryId": A,
        "repositoryName": repo,
        "imageDigest": digest,
        "imageTags": list(tags) or None,
        "imageSizeInBytes": 48_000_000 + n * 1_234_567,
        "imagePushedAt": _at(5 + n),
        "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "artifactMediaType": "application/vnd.docker.container.image.v1+json",
        "lastRecordedPullTime": _at(60 + n),
        "imageStatus": "ACTIVE",
    }
    if findings is None:
        return Image(detail, None)
    severity_counts = {"HIGH": findings} if findings else {}
    detail["imageScanStatus"] = {"status": "ACTIVE" if enhanced else "COMPLETE"}
    detail["imageScanFindingsSummary"] = {
        "imageScanCompletedAt": _at(6 + n),
        "vulnerabilitySourceUpdatedAt": _at(6 + n),
        "findingSeverityCounts": severity_counts,
    }
    scan_findings: dict[str, Any] = {
        "imageScanCompletedAt": _at(6 + n),
        "vulnerabilitySourceUpdatedAt": _at(6 + n),
        "findingSeverityCounts": severity_counts,
    }
    if enhanced:
        scan_findings["enhancedFindings"] = [
            _enhanced_finding(repo, digest, tags, i) for i in range(findings)
        ]
    else:
        packages = (("openssl", "3.0.11"), ("zlib", "1.2.13"), ("libxml2", "2.9.14"))
        scan_findings["findings"] = [
            _basic_finding(n * 10 + i, *packages[i % 3], "HIGH") for i in range(findings)
        ]
    scan = {
        "registryId": A,
        "repositoryName": repo,
        "imageId": {"imageDigest": digest, "imageTag": tags[0] if tags else None},
        "imageScanStatus": {
            "status": "ACTIVE" if enhanced else "COMPLETE",
            "description": "The scan was completed successfully.",
        },
        "imageScanFindings": scan_findings,
    }
    return Image(detail, scan)


def _cluster(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "arn": f"arn:aws:eks:{R}:{A}:cluster/{name}",
        "createdAt": _at(-90),
        "version": "1.33",
        "endpoint": f"https://{_hex('eks', name, n=32).upper()}.gr7.{R}.eks.amazonaws.com",
        "roleArn": f"arn:aws:iam::{A}:role/eks-cluster-{name}",
        "resourcesVpcConfig": {
            "subnetIds": list(NET.subnets),
            "securityGroupIds": [NET.group],
            "clusterSecurityGroupId": "sg-0c1d2e3f4a5b6c7d8",
            "vpcId": NET.vpc,
            "endpointPublicAccess": True,
            "endpointPrivateAccess": True,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
        "kubernetesNetworkConfig": {
            "serviceIpv4Cidr": "172.20.0.0/16",
            "ipFamily": "ipv4",
            "elasticLoadBalancing": {"enabled": False},
        },
        "logging": {
            "clusterLogging": [
                {"types": ["api", "audit", "authenticator"], "enabled": True},
                {"types": ["controllerManager", "scheduler"], "enabled": False},
            ]
        },
        "identity": {
            "oidc": {"issuer": f"https://oidc.eks.{R}.amazonaws.com/id/{_hex('oidc', n=32)}"}
        },
        "status": "ACTIVE",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVh"},
        "platformVersion": "eks.12",
        "tags": {"env": "prod", "team": "platform"},
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
        "upgradePolicy": {"supportType": "STANDARD"},
    }


def _db_instance(name: str, engine: str, version: str) -> dict[str, Any]:
    return {
        "DBInstanceIdentifier": name,
        "DBInstanceClass": "db.r6g.large",
        "Engine": engine,
        "DBInstanceStatus": "available",
        "MasterUsername": "admin",
        "DBName": "app",
        "Endpoint": {
            "Address": f"{name}.c9akciq32.{R}.rds.amazonaws.com",
            "Port": 5432 if engine == "postgres" else 3306,
            "HostedZoneId": "Z2R2ITUGPM61AM",
        },
        "AllocatedStorage": 100,
        "InstanceCreateTime": _at(-120),
        "PreferredBackupWindow": "03:00-04:00",
        "BackupRetentionPeriod": 7,
        "DBSecurityGroups": [],
        "VpcSecurityGroups": [{"VpcSecurityGroupId": NET.group, "Status": "active"}],
        "DBParameterGroups": [
            {"DBParameterGroupName": f"default.{engine}16", "ParameterApplyStatus": "in-sync"}
        ],
        "AvailabilityZone": f"{R}a",
        "DBSubnetGroup": {
            "DBSubnetGroupName": "prod-db",
            "DBSubnetGroupDescription": "prod databases",
            "VpcId": NET.vpc,
            "SubnetGroupStatus": "Complete",
            "Subnets": [
                {
                    "SubnetIdentifier": subnet,
                    "SubnetAvailabilityZone": {"Name": f"{R}{zone}"},
                    "SubnetStatus": "Active",
                }
                for zone, subnet in zip("ab", NET.subnets[2:], strict=True)
            ],
        },
        "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
        "PendingModifiedValues": {},
        "LatestRestorableTime": _at(180),
        "MultiAZ": True,
        "EngineVersion": version,
        "AutoMinorVersionUpgrade": True,
        "ReadReplicaDBInstanceIdentifiers": [],
        "LicenseModel": "postgresql-license" if engine == "postgres" else "general-public-license",
        "OptionGroupMemberships": [
            {"OptionGroupName": f"default:{engine}-16", "Status": "in-sync"}
        ],
        "PubliclyAccessible": False,
        "StorageType": "gp3",
        "DbInstancePort": 0,
        "StorageEncrypted": True,
        "KmsKeyId": f"arn:aws:kms:{R}:{A}:key/{_hex('kms', n=8)}-1a2b-4c3d-8e9f-{_hex('k', n=12)}",
        "DbiResourceId": f"db-{_hex('dbi', name, n=26).upper()}",
        "CACertificateIdentifier": "rds-ca-rsa2048-g1",
        "DomainMemberships": [],
        "CopyTagsToSnapshot": True,
        "MonitoringInterval": 60,
        "DBInstanceArn": f"arn:aws:rds:{R}:{A}:db:{name}",
        "IAMDatabaseAuthenticationEnabled": False,
        "PerformanceInsightsEnabled": True,
        "DeletionProtection": True,
        "AssociatedRoles": [],
        "TagList": _tags(env="prod", team="data"),
        "CustomerOwnedIpEnabled": False,
        "BackupTarget": "region",
        "NetworkType": "IPV4",
        "StorageThroughput": 125,
        "Iops": 3000,
        "CertificateDetails": {"CAIdentifier": "rds-ca-rsa2048-g1", "ValidTill": _at(400)},
        "DedicatedLogVolume": False,
        "EngineLifecycleSupport": "open-source-rds-extended-support",
    }


# ---- findings ----------------------------------------------------------------------------------


def _findings(service: str, count: int, seed: int, now: dt.datetime) -> list[dict[str, Any]]:
    from aws_emulator.findings import generated_findings  # noqa: PLC0415

    return generated_findings(
        service,
        A,
        R,
        count,
        start=(now - dt.timedelta(days=3)).isoformat(),
        end=(now - dt.timedelta(hours=1)).isoformat(),
        seed=seed,
    )


def control_findings(
    count: int, now: dt.datetime, account: str = A, region: str = R, *, compact: bool = False
) -> list[dict[str, Any]]:
    """Security Hub CSPM control findings (~1.5 KB each): what every enabled region has.

    ``compact``: without ``ProductFields``, ``FindingProviderFields``, the associated standards
    and the deprecated ``WorkflowState`` (~1 KB each: the small-record emission case)."""
    from aws_emulator.shapes import asff_control_finding  # noqa: PLC0415

    controls = (
        (
            "EC2.2",
            "VPC default security groups should not allow inbound or outbound traffic",
            "HIGH",
            "AwsEc2SecurityGroup",
            "security-group/sg-0d1e2f3a4b5c6d7e8",
        ),
        (
            "EC2.6",
            "VPC flow logging should be enabled in all VPCs",
            "MEDIUM",
            "AwsEc2Vpc",
            "vpc/vpc-0d3fa017c5e2b9a41",
        ),
        (
            "Config.1",
            "AWS Config should be enabled and use the service-linked role",
            "CRITICAL",
            "AwsAccount",
            "",
        ),
        (
            "SSM.1",
            "EC2 instances should be managed by AWS Systems Manager",
            "MEDIUM",
            "AwsEc2Instance",
            "instance/i-0bench",
        ),
        ("EC2.7", "EBS default encryption should be enabled", "MEDIUM", "AwsAccount", ""),
    )
    statuses = ("FAILED", "PASSED", "FAILED", "WARNING")
    base_us = int((now - dt.timedelta(days=2)).timestamp()) * 1_000_000
    out = []
    for i in range(count):
        control, title, severity, kind, resource = controls[i % len(controls)]
        resource_id = (
            f"arn:aws:ec2:{region}:{account}:{resource}"
            if resource
            else f"AWS::::Account:{account}"
        )
        finding_id = (
            f"arn:aws:securityhub:{region}:{account}:security-control/{control}/finding/"
            f"{_hex('control', control, i, n=8)}-{_hex('c', i, n=4)}-4{_hex('d', i, n=3)}-"
            f"8{_hex('e', i, n=3)}-{_hex('f', i, n=12)}"
        )
        updated_us = base_us + i * 61_000_000
        out.append(
            asff_control_finding(
                finding_id=finding_id,
                account=account,
                region=region,
                partition="aws",
                control=control,
                title=title,
                status=statuses[i % len(statuses)],
                severity=severity,
                resource_type=kind,
                resource_id=resource_id,
                created_us=updated_us - 86_400_000_000,
                updated_us=updated_us,
            )
        )
        if compact:
            finding = out[-1]
            for name in ("ProductFields", "FindingProviderFields", "WorkflowState"):
                del finding[name]
            del finding["Compliance"]["AssociatedStandards"]
    return out


def _coverage(
    instances: Iterable[str], images: Iterable[Image], repos: Iterable[str]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for instance in instances:
        out.append(
            {
                "resourceType": "AWS_EC2_INSTANCE",
                "resourceId": instance,
                "accountId": A,
                "scanType": "PACKAGE",
                "scanStatus": {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"},
                "resourceMetadata": {
                    "ec2": {
                        "tags": {"env": "prod"},
                        "amiId": "ami-0c02fb55956c7d316",
                        "platform": "LINUX",
                    }
                },
                "lastScannedAt": _at(60),
                "scanMode": "EC2_SSM_AGENT_BASED",
            }
        )
    for image in images:
        digest = image.detail["imageDigest"]
        repo = image.detail["repositoryName"]
        active = image.scan is not None
        out.append(
            {
                "resourceType": "AWS_ECR_CONTAINER_IMAGE",
                "resourceId": f"arn:aws:ecr:{R}:{A}:repository/{repo}/{digest}",
                "accountId": A,
                "scanType": "PACKAGE",
                "scanStatus": (
                    {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"}
                    if active
                    else {"statusCode": "INACTIVE", "reason": "PENDING_INITIAL_SCAN"}
                ),
                "resourceMetadata": {
                    "ecrImage": {
                        "tags": image.detail.get("imageTags") or [],
                        "imagePulledAt": _at(60),
                    }
                },
                "lastScannedAt": _at(60) if active else None,
            }
        )
    for repo in repos:
        out.append(
            {
                "resourceType": "AWS_ECR_REPOSITORY",
                "resourceId": f"arn:aws:ecr:{R}:{A}:repository/{repo}",
                "accountId": A,
                "scanType": "PACKAGE",
                "scanStatus": {"statusCode": "ACTIVE", "reason": "SUCCESSFUL"},
                "resourceMetadata": {
                    "ecrRepository": {"name": repo, "scanFrequency": "SCAN_ON_PUSH"}
                },
                "lastScannedAt": _at(60),
            }
        )
    return out


# ---- one partition -----------------------------------------------------------------------------


@dataclass
class Partition:
    """What one (account, region) holds, in boto3's form, with the placeholders."""

    reservations: list[dict[str, Any]] = field(default_factory=list)
    internet_gateways: list[dict[str, Any]] = field(default_factory=list)
    nat_gateways: list[dict[str, Any]] = field(default_factory=list)
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    classic_load_balancers: list[dict[str, Any]] = field(default_factory=list)
    vpcs: list[dict[str, Any]] = field(default_factory=list)
    subnets: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    network_interfaces: list[dict[str, Any]] = field(default_factory=list)
    repositories: list[tuple[dict[str, Any], list[Image]]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    db_instances: list[dict[str, Any]] = field(default_factory=list)
    securityhub: list[dict[str, Any]] = field(default_factory=list)
    inspector: list[dict[str, Any]] = field(default_factory=list)
    ocsf: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    lb_tags: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    classic_lb_tags: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def records(self) -> dict[str, int]:
        """Records a sync emits for this partition, per regional stream."""
        images = [image for _, listed in self.repositories for image in listed]
        return {
            "ec2_instances": sum(len(r["Instances"]) for r in self.reservations),
            "ecr_images": len(images),
            "ecr_findings": sum(image.findings for image in images),
            "eks_clusters": len(self.clusters),
            "inspector_findings": len(self.inspector),
            "network": sum(
                len(items)
                for items in (
                    self.internet_gateways,
                    self.nat_gateways,
                    self.load_balancers,
                    self.classic_load_balancers,
                    self.vpcs,
                    self.subnets,
                    self.addresses,
                    self.network_interfaces,
                )
            ),
            "rds_instances": len(self.db_instances),
            "securityhub_findings": len(self.securityhub),
            "securityhub_ocsf_findings": len(self.ocsf),
            "inspector_coverage": len(self.coverage),
        }


def _default_network(part: Partition) -> None:
    part.vpcs.append(_vpc(NET.default_vpc, "172.31.0.0/16", default=True))
    part.internet_gateways.append(_internet_gateway("igw-0d3fa017c5e2b9a41", NET.default_vpc))
    part.subnets.extend(
        _subnet(subnet, NET.default_vpc, f"172.31.{16 * i}.0/20", "abc"[i], default=True)
        for i, subnet in enumerate(NET.default_subnets)
    )


def quiet_partition(now: dt.datetime) -> Partition:
    part = Partition()
    _default_network(part)
    part.securityhub = control_findings(3, now)
    part.ocsf = _findings("securityhub_ocsf", 2, seed=7, now=now)
    return part


def busy_partition(now: dt.datetime) -> Partition:
    part = Partition()
    _default_network(part)
    part.vpcs.append(_vpc(NET.vpc, "10.20.0.0/16", default=False))
    part.internet_gateways.append(_internet_gateway("igw-0a1b2c3d4e5f60718", NET.vpc))
    part.subnets.extend(
        _subnet(subnet, NET.vpc, f"10.20.{i}.0/24", "abab"[i], default=False)
        for i, subnet in enumerate(NET.subnets)
    )
    pairs = [_instance(n, public=n < 2) for n in range(5)]
    instances = [instance for instance, _ in pairs]
    part.reservations = [
        {
            "ReservationId": f"r-0{_hex('reservation', i)}",
            "OwnerId": A,
            "Groups": [],
            "Instances": group,
        }
        for i, group in enumerate((instances[:3], instances[3:]))
    ]
    part.network_interfaces = [eni for _, eni in pairs]
    nat_eni = _eni(
        20,
        subnet=NET.subnets[0],
        private_ip="10.20.0.200",
        public_ip="54.80.1.20",
        instance=None,
        description="Interface for NAT Gateway",
    )
    part.network_interfaces.append(nat_eni)
    for n in (21, 22):
        part.network_interfaces.append(
            _eni(
                n,
                subnet=NET.subnets[n % 2],
                private_ip=f"10.20.{n % 2}.{n}",
                public_ip=None,
                instance=None,
                description="ELB app/prod-app-0",
            )
        )
    nat_id = f"nat-0{_hex('nat')}"
    part.nat_gateways = [
        {
            "CreateTime": _at(1),
            "NatGatewayAddresses": [
                {
                    "AllocationId": "eipalloc-0a1b2c3d4e5f6071",
                    "NetworkInterfaceId": nat_eni["NetworkInterfaceId"],
                    "PrivateIp": "10.20.0.200",
                    "PublicIp": "54.80.1.20",
                    "AssociationId": "eipassoc-0a1b2c3d4e5f6071",
                    "IsPrimary": True,
                    "Status": "succeeded",
                }
            ],
            "NatGatewayId": nat_id,
            "State": "available",
            "SubnetId": NET.subnets[0],
            "VpcId": NET.vpc,
            "Tags": _tags(Name="prod-nat"),
            "ConnectivityType": "public",
        }
    ]
    part.addresses = [
        {
            "AllocationId": "eipalloc-0a1b2c3d4e5f6071",
            "AssociationId": "eipassoc-0a1b2c3d4e5f6071",
            "Domain": "vpc",
            "NetworkInterfaceId": nat_eni["NetworkInterfaceId"],
            "NetworkInterfaceOwnerId": A,
            "PrivateIpAddress": "10.20.0.200",
            "PublicIp": "54.80.1.20",
            "PublicIpv4Pool": "amazon",
            "NetworkBorderGroup": R,
            "Tags": _tags(Name="prod-nat"),
        },
        {
            "AllocationId": "eipalloc-0f9e8d7c6b5a4f3e",
            "Domain": "vpc",
            "PublicIp": "54.80.1.21",
            "PublicIpv4Pool": "amazon",
            "NetworkBorderGroup": R,
            "Tags": _tags(Name="spare"),
        },
    ]
    part.load_balancers = [_load_balancer("app", 0), _load_balancer("net", 1)]
    part.classic_load_balancers = [
        _classic_load_balancer(0, [i["InstanceId"] for i in instances[:2]])
    ]
    part.lb_tags = {
        lb["LoadBalancerArn"]: _tags(env="prod", service=lb["LoadBalancerName"])
        for lb in part.load_balancers
    }
    part.classic_lb_tags = {
        lb["LoadBalancerName"]: _tags(env="prod", legacy="true")
        for lb in part.classic_load_balancers
    }
    web = [
        _image("web", 0, ["v1.4.2", "latest"], 4, enhanced=False),
        _image("web", 1, ["v1.4.1"], 2, enhanced=False),
        _image("web", 2, [], None, enhanced=False),  # untagged, never scanned
    ]
    api = [
        _image("team/api", 0, ["2026.11.30"], 3, enhanced=True),
        _image("team/api", 1, ["2026.11.02"], 0, enhanced=True),
    ]
    part.repositories = [
        (_repository("web", enhanced=False), web),
        (_repository("team/api", enhanced=True), api),
    ]
    part.clusters = [_cluster("prod")]
    part.db_instances = [
        _db_instance("orders-db", "postgres", "16.4"),
        _db_instance("legacy-db", "mysql", "8.0.39"),
    ]
    part.securityhub = _findings("securityhub", 117, seed=1, now=now) + control_findings(3, now)
    part.inspector = _findings("inspector2", 30, seed=2, now=now)
    part.ocsf = _findings("securityhub_ocsf", 20, seed=3, now=now)
    part.coverage = _coverage(
        [i["InstanceId"] for i in instances],
        [image for _, images in part.repositories for image in images],
        [repo["repositoryName"] for repo, _ in part.repositories],
    )
    return part


# ---- account-wide ------------------------------------------------------------------------------

# (name suffix, region): the buckets of every account; af-south-1 is never synced here.
BUCKETS = (
    ("logs", "us-east-1"),
    ("data", "us-east-1"),
    ("artifacts", "us-east-1"),
    ("backup", "eu-west-1"),
    ("sydney", "ap-southeast-2"),
    ("capetown", "af-south-1"),
)


def bucket_name(account: str, suffix: str) -> str:
    return f"bench-{account}-{suffix}"


def buckets(with_region: bool) -> dict[str, Any]:
    return {
        "Buckets": [
            {
                "Name": bucket_name(A, suffix),
                "CreationDate": _at(-200 + i),
                "BucketRegion": region if with_region else None,
                "BucketArn": f"arn:aws:s3:::{bucket_name(A, suffix)}" if with_region else None,
            }
            for i, (suffix, region) in enumerate(BUCKETS)
        ],
        "Owner": {"DisplayName": "bench", "ID": _hex("owner", n=64)},
    }


@dataclass
class Organization:
    """``accounts`` ACTIVE accounts (the first is the management account) and ``suspended``
    SUSPENDED ones after them."""

    accounts: int
    suspended: int = -1
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        if self.suspended < 0:
            self.suspended = max(1, self.accounts // 50)
        self.partitions = {BUSY: busy_partition(self.now), QUIET: quiet_partition(self.now)}

    @property
    def management(self) -> str:
        return account_id(0)

    def listed(self) -> list[dict[str, Any]]:
        """ListAccounts' accounts: ACTIVE ones, then SUSPENDED ones."""
        out = []
        for i in range(self.accounts + self.suspended):
            account = account_id(i)
            ou = "ou-bnch-prod0001" if i % 3 else "ou-bnch-core0001"
            out.append(
                {
                    "Id": account,
                    "Arn": f"arn:aws:organizations::{self.management}:account/{ORGANIZATION_ID}/"
                    f"{account}",
                    "Email": f"aws+{account}@example.com",
                    "Name": "management" if i == 0 else f"workload-{i:04d}",
                    "State": "ACTIVE" if i < self.accounts else "SUSPENDED",
                    "Paths": [f"{ORGANIZATION_ID}/{ROOT_ID}/{ou}/"],
                    "JoinedMethod": "INVITED" if i == 0 else "CREATED",
                    "JoinedTimestamp": _at(-365 + i % 300),
                }
            )
        return out

    def active(self) -> list[str]:
        return [account_id(i) for i in range(self.accounts)]

    def expected(self, regions: Sequence[str], streams: Iterable[str]) -> dict[str, int]:
        """Records a correct sync of ``streams`` over ``regions`` emits, per stream."""
        streams = list(streams)
        per: Mapping[str, dict[str, int]] = {
            name: part.records() for name, part in self.partitions.items()
        }
        out: dict[str, int] = {}
        for stream in streams:
            if stream == "accounts":
                out[stream] = self.accounts + self.suspended
            elif stream == "s3_buckets":
                out[stream] = self.accounts * sum(1 for _, r in BUCKETS if r in regions)
            elif stream in REGIONAL_STREAMS:
                out[stream] = sum(
                    per[profile_of(account, region)][stream]
                    for account in self.active()
                    for region in regions
                )
            elif stream == "sync_coverage":
                continue
            else:
                raise KeyError(
                    f"the canned organization does not know stream {stream!r}: "
                    "add its data to benchmarks/org.py"
                )
        if "sync_coverage" in streams:
            # DESIGN: one row per partition attempted (s3_buckets: one per region in scope;
            # accounts: one) and one per selected stream x account not entered (suspended).
            data = [s for s in streams if s != "sync_coverage"]
            cells = self.accounts * len(regions)
            out["sync_coverage"] = sum(
                1 if s == "accounts" else cells for s in data
            ) + self.suspended * len(data)
        return out
