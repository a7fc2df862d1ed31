"""Deterministic findings for tests, benchmarks and the demo: Security Hub (ASFF), Inspector2
and Security Hub's OCSF findings.

:func:`generated_findings` is a pure function: the same arguments give the same findings in any
process, so a test recomputes what ``findings/generate`` stored and compares them with
:func:`findings_digest`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from aws_emulator.ocsf import compliance_from_asff, vulnerability_from_inspector
from aws_emulator.times import epoch_from_us, iso_from_us, parse_time_us

SECURITYHUB = "securityhub"
INSPECTOR2 = "inspector2"
SECURITYHUB_OCSF = "securityhub_ocsf"
GENERATED_SERVICES = (SECURITYHUB, INSPECTOR2, SECURITYHUB_OCSF)

_SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_SEV_NORMALIZED = {"INFORMATIONAL": 0, "LOW": 20, "MEDIUM": 50, "HIGH": 75, "CRITICAL": 95}
_WORKFLOW_STATE = {
    "NEW": "NEW",
    "NOTIFIED": "ASSIGNED",
    "RESOLVED": "RESOLVED",
    "SUPPRESSED": "DEFERRED",
}


def _table(*weighted: tuple[str, int]) -> tuple[str, ...]:
    """A 100-slot lookup table for a weighted choice from 7 random bits."""
    out: list[str] = []
    for value, weight in weighted:
        out.extend([value] * weight)
    assert len(out) == 100
    return tuple(out)


_SEV_TABLE = _table(
    ("INFORMATIONAL", 10), ("LOW", 25), ("MEDIUM", 35), ("HIGH", 20), ("CRITICAL", 10)
)
_WORKFLOW_TABLE = _table(("NEW", 50), ("NOTIFIED", 20), ("RESOLVED", 20), ("SUPPRESSED", 10))
_RECORD_TABLE = _table(("ACTIVE", 80), ("ARCHIVED", 20))
_COMPLIANCE_TABLE = _table(("PASSED", 30), ("FAILED", 50), ("WARNING", 10), ("NOT_AVAILABLE", 10))
_I2_STATUS_TABLE = _table(("ACTIVE", 70), ("SUPPRESSED", 10), ("CLOSED", 20))
_FIX_TABLE = _table(("YES", 60), ("NO", 30), ("PARTIAL", 10))
_CONTROLS = (
    ("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)"),
    ("S3.1", "S3 general purpose buckets should have block public access settings enabled"),
    ("IAM.6", "Hardware MFA should be enabled for the root user"),
    ("EC2.2", "VPC default security groups should not allow inbound or outbound traffic"),
    ("ECR.1", "ECR private repositories should have image scanning configured"),
)
_PACKAGES = (
    ("openssl", "3.0.7", "3.0.13", "OS"),
    ("glibc", "2.26", "2.26-64", "OS"),
    ("log4j-core", "2.14.1", "2.17.1", "JAR"),
    ("requests", "2.25.0", "2.31.0", "PYTHONPKG"),
    ("lodash", "4.17.15", "4.17.21", "NODEPKG"),
    ("curl", "7.79.1", "8.4.0", "OS"),
)
_GUARDDUTY_TYPES = (
    "Recon:EC2/PortProbeUnprotectedPort",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
)
_FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
_CVSS_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
_DAY = 86_400_000_000
_HOUR = 3_600_000_000


class _Bits:
    """A stream of random bits: one ``getrandbits`` call feeds many draws (fast, seeded)."""

    __slots__ = ("n", "rng", "v")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.v = 0
        self.n = 0

    def take(self, nbits: int) -> int:
        if self.n < nbits:
            self.v |= self.rng.getrandbits(2048) << self.n
            self.n += 2048
        x = self.v & ((1 << nbits) - 1)
        self.v >>= nbits
        self.n -= nbits
        return x

    def hex(self, n: int) -> str:
        return f"{self.take(4 * n):0{n}x}"

    def uuid4(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def below(self, n: int) -> int:
        return self.take(40) % n

    def pct(self, table: tuple[str, ...]) -> str:
        return table[self.take(16) % 100]

    def score(self) -> float:
        return (self.take(16) % 91 + 10) / 10  # 1.0 .. 10.0


def _spread(bits: _Bits, count: int, start_us: int, end_us: int) -> list[int]:
    """UpdatedAt values in [start, end] at millisecond precision, with exact ties."""
    lo, span = -(-start_us // 1000), end_us // 1000 - -(-start_us // 1000) + 1
    if span <= 0:
        raise ValueError("no millisecond between start and end")
    out: list[int] = []
    for i in range(count):
        if i % 10 == 9 and out:
            out.append(out[-1])  # deliberate ties: bookmarks must compare >= and use ids
        else:
            out.append((lo + bits.below(span)) * 1000)
    return out


def generated_findings(
    service: str,
    account_id: str,
    region: str,
    count: int,
    *,
    start: Any,
    end: Any,
    seed: int = 0,
    aws_account_ids: Sequence[str] | None = None,
    partition: str = "aws",
) -> list[dict[str, Any]]:
    """The findings ``findings/generate`` stores: a pure, deterministic function.

    ``start``/``end`` bound ``UpdatedAt`` (inclusive; ISO strings, epoch seconds or datetimes;
    millisecond precision). ``aws_account_ids`` spreads the findings' own account (an
    administrator account sees its members' findings); default ``[account_id]``. The same
    arguments give the same findings in any process (``random.Random`` seeded with a string is
    stable across runs and platforms). About 1/10 of the findings share the UpdatedAt of the
    finding before them.
    """
    return [
        f
        for f, _ in iter_generated_findings(
            service,
            account_id,
            region,
            count,
            start=start,
            end=end,
            seed=seed,
            aws_account_ids=aws_account_ids,
            partition=partition,
        )
    ]


def iter_generated_findings(
    service: str,
    account_id: str,
    region: str,
    count: int,
    *,
    start: Any,
    end: Any,
    seed: int = 0,
    aws_account_ids: Sequence[str] | None = None,
    partition: str = "aws",
) -> Iterator[tuple[dict[str, Any], int]]:
    """:func:`generated_findings` one at a time, with each finding's UpdatedAt in epoch µs."""
    if service not in GENERATED_SERVICES:
        raise ValueError(f"service must be one of {GENERATED_SERVICES}, not {service!r}")
    if count < 0:
        raise ValueError("count must be >= 0")
    start_us, end_us = parse_time_us(start), parse_time_us(end)
    if end_us < start_us:
        raise ValueError("end is before start")
    members = [str(a) for a in (aws_account_ids or [account_id])]
    bits = _Bits(random.Random(f"{service}|{account_id}|{region}|{seed}"))
    updated = _spread(bits, count, start_us, end_us)
    make = {SECURITYHUB: _asff, INSPECTOR2: _inspector, SECURITYHUB_OCSF: _ocsf}[service]
    for i in range(count):
        yield make(bits, i, (members[i % len(members)], region, partition), updated[i]), updated[i]


def _asff(bits: _Bits, i: int, where: tuple[str, str, str], updated_us: int) -> dict[str, Any]:
    account, region, partition = where
    created_us = updated_us - bits.below(30 * 86_400) * 1_000_000
    last_us = max(created_us, updated_us - bits.below(3600) * 1_000_000)
    label = bits.pct(_SEV_TABLE)
    record_state = bits.pct(_RECORD_TABLE)
    workflow = bits.pct(_WORKFLOW_TABLE)
    kind = i % 3
    instance_id = f"i-{bits.hex(17)}"
    ec2 = {
        "Type": "AwsEc2Instance",
        "Id": f"arn:{partition}:ec2:{region}:{account}:instance/{instance_id}",
        "Partition": partition,
        "Region": region,
        "Tags": {"Name": f"web-{i % 50}", "env": ("prod", "dev")[i % 2]},
        "Details": {
            "AwsEc2Instance": {
                "Type": ("t3.micro", "m5.large", "c6i.xlarge")[i % 3],
                "ImageId": f"ami-{bits.hex(17)}",
                "IpV4Addresses": [f"10.{i % 256}.{(i // 256) % 256}.{1 + bits.below(254)}"],
                "VpcId": f"vpc-{bits.hex(17)}",
                "SubnetId": f"subnet-{bits.hex(17)}",
                "LaunchedAt": iso_from_us(created_us - _DAY),
            }
        },
    }
    finding: dict[str, Any] = {"SchemaVersion": "2018-10-08"}
    if kind == 0:  # Security Hub CSPM control finding
        control, title = _CONTROLS[i % len(_CONTROLS)]
        fid = (
            f"arn:{partition}:securityhub:{region}:{account}:subscription/"
            f"aws-foundational-security-best-practices/v/1.0.0/{control}/finding/"
            f"{bits.uuid4()}"
        )
        product_arn = f"arn:{partition}:securityhub:{region}::product/aws/securityhub"
        types = ["Software and Configuration Checks/Industry and Regulatory Standards"]
        finding.update(
            {
                "Id": fid,
                "ProductArn": product_arn,
                "GeneratorId": f"security-control/{control}",
                "AwsAccountId": account,
                "Region": region,
                "Types": types,
                "Title": title,
                "Description": f"This control checks: {title.lower()}.",
                "Remediation": {
                    "Recommendation": {
                        "Text": "For information on how to correct this issue, consult the "
                        "AWS Security Hub controls documentation.",
                        "Url": f"https://docs.aws.amazon.com/console/securityhub/{control}/remediation",
                    }
                },
                "ProductFields": {
                    "RelatedAWSResources:0/name": f"securityhub-{control.lower()}-{bits.hex(8)}",
                    "RelatedAWSResources:0/type": "AWS::Config::ConfigRule",
                    "aws/securityhub/ProductName": "Security Hub",
                    "aws/securityhub/CompanyName": "AWS",
                    "Resources:0/Id": ec2["Id"],
                    "aws/securityhub/FindingId": f"{product_arn}/{fid}",
                },
                "ProductName": "Security Hub",
                "CompanyName": "AWS",
                "Resources": [ec2],
                "Compliance": {
                    "Status": bits.pct(_COMPLIANCE_TABLE),
                    "SecurityControlId": control,
                    "AssociatedStandards": [{"StandardsId": _FSBP}],
                },
                "FindingProviderFields": {
                    "Severity": {"Label": label, "Original": label},
                    "Types": types,
                },
            }
        )
    elif kind == 1:  # Inspector finding imported into Security Hub
        name, version, fixed, manager = _PACKAGES[i % len(_PACKAGES)]
        cve = f"CVE-20{18 + bits.below(7)}-{1000 + bits.below(49000)}"
        fid = f"arn:{partition}:inspector2:{region}:{account}:finding/{bits.hex(32)}"
        product_arn = f"arn:{partition}:securityhub:{region}::product/aws/inspector"
        score = bits.score()
        types = ["Software and Configuration Checks/Vulnerabilities/CVE"]
        finding.update(
            {
                "Id": fid,
                "ProductArn": product_arn,
                "GeneratorId": "AWSInspector",
                "AwsAccountId": account,
                "Region": region,
                "Types": types,
                "Title": f"{cve} - {name}",
                "Description": f"A vulnerability in {name} {version} allows remote attackers to "
                "cause a denial of service.",
                "Remediation": {"Recommendation": {"Text": f"Upgrade {name} to {fixed} or later."}},
                "ProductFields": {
                    "aws/inspector/ProductVersion": "2",
                    "aws/inspector/FindingStatus": "ACTIVE",
                    "aws/inspector/inspectorScore": str(score),
                    "aws/securityhub/ProductName": "Inspector",
                    "aws/securityhub/CompanyName": "Amazon",
                    "aws/securityhub/FindingId": f"{product_arn}/{fid}",
                },
                "ProductName": "Inspector",
                "CompanyName": "Amazon",
                "Resources": [ec2],
                "Vulnerabilities": [
                    {
                        "Id": cve,
                        "VulnerablePackages": [
                            {
                                "Name": name,
                                "Version": version,
                                "Epoch": "0",
                                "Release": "1",
                                "Architecture": "x86_64",
                                "PackageManager": manager,
                                "FixedInVersion": fixed,
                                "Remediation": f"Upgrade to {fixed}",
                            }
                        ],
                        "Cvss": [
                            {
                                "Version": "3.1",
                                "BaseScore": score,
                                "BaseVector": _CVSS_VECTOR,
                                "Source": "NVD",
                            }
                        ],
                        "Vendor": {
                            "Name": "NVD",
                            "Url": f"https://nvd.nist.gov/vuln/detail/{cve}",
                            "VendorSeverity": label,
                            "VendorCreatedAt": iso_from_us(created_us - 90 * _DAY),
                            "VendorUpdatedAt": iso_from_us(created_us - 10 * _DAY),
                        },
                        "ReferenceUrls": [f"https://nvd.nist.gov/vuln/detail/{cve}"],
                        "FixAvailable": bits.pct(_FIX_TABLE),
                        "ExploitAvailable": ("YES", "NO")[bits.take(1)],
                    }
                ],
                "FindingProviderFields": {
                    "Severity": {"Label": label, "Original": label},
                    "Types": types,
                },
            }
        )
    else:  # GuardDuty finding imported into Security Hub
        gd_type = _GUARDDUTY_TYPES[i % len(_GUARDDUTY_TYPES)]
        detector = bits.hex(32)
        fid = (
            f"arn:{partition}:guardduty:{region}:{account}:detector/{detector}/"
            f"finding/{bits.hex(32)}"
        )
        product_arn = f"arn:{partition}:securityhub:{region}::product/aws/guardduty"
        finding.update(
            {
                "Id": fid,
                "ProductArn": product_arn,
                "GeneratorId": f"arn:{partition}:guardduty:{region}:{account}:detector/{detector}",
                "AwsAccountId": account,
                "Region": region,
                "Types": [f"TTPs/{gd_type.split(':')[0]}/{gd_type}"],
                "Title": f"Unusual activity: {gd_type}",
                "Description": f"EC2 instance {instance_id} is behaving in a way that may indicate "
                f"{gd_type}.",
                "SourceUrl": f"https://console.aws.amazon.com/guardduty/home?region={region}",
                "ProductFields": {
                    "aws/guardduty/service/count": str(1 + bits.below(500)),
                    "aws/guardduty/service/archived": "true"
                    if record_state == "ARCHIVED"
                    else "false",
                    "aws/securityhub/ProductName": "GuardDuty",
                    "aws/securityhub/CompanyName": "Amazon",
                    "aws/securityhub/FindingId": f"{product_arn}/{fid}",
                },
                "ProductName": "GuardDuty",
                "CompanyName": "Amazon",
                "Resources": [ec2],
                "FindingProviderFields": {
                    "Severity": {"Label": label, "Original": ("2", "5", "8")[bits.below(3)]},
                    "Types": [f"TTPs/{gd_type}"],
                },
            }
        )
    finding.update(
        {
            "CreatedAt": iso_from_us(created_us),
            "UpdatedAt": iso_from_us(updated_us),
            "FirstObservedAt": iso_from_us(created_us),
            "LastObservedAt": iso_from_us(last_us),
            "Severity": {"Label": label, "Normalized": _SEV_NORMALIZED[label], "Original": label},
            "WorkflowState": _WORKFLOW_STATE[workflow],
            "Workflow": {"Status": workflow},
            "RecordState": record_state,
        }
    )
    return finding


def _inspector(bits: _Bits, i: int, where: tuple[str, str, str], updated_us: int) -> dict[str, Any]:
    account, region, partition = where
    first_us = updated_us - bits.below(60 * 86_400) * 1_000_000
    last_us = max(first_us, updated_us - bits.below(3600) * 1_000_000)
    severity = "UNTRIAGED" if i % 97 == 96 else bits.pct(_SEV_TABLE)
    network = i % 5 == 4
    arn = f"arn:{partition}:inspector2:{region}:{account}:finding/{bits.hex(32)}"
    resource: dict[str, Any]
    if network or i % 2 == 0:
        resource = {
            "type": "AWS_EC2_INSTANCE",
            "id": f"i-{bits.hex(17)}",
            "partition": partition,
            "region": region,
            "tags": {"Name": f"app-{i % 40}"},
            "details": {
                "awsEc2Instance": {
                    "type": ("t3.micro", "m5.large")[bits.take(1)],
                    "imageId": f"ami-{bits.hex(17)}",
                    "ipV4Addresses": [f"10.1.{i % 256}.{1 + bits.below(254)}"],
                    "vpcId": f"vpc-{bits.hex(17)}",
                    "subnetId": f"subnet-{bits.hex(17)}",
                    "launchedAt": epoch_from_us(first_us - _DAY),
                    "platform": "AMAZON_LINUX_2",
                }
            },
        }
    else:
        repo = f"service-{i % 30}"
        digest = f"sha256:{bits.hex(64)}"
        resource = {
            "type": "AWS_ECR_CONTAINER_IMAGE",
            "id": f"arn:{partition}:ecr:{region}:{account}:repository/{repo}/{digest}",
            "partition": partition,
            "region": region,
            "details": {
                "awsEcrContainerImage": {
                    "repositoryName": repo,
                    "imageTags": [f"v{i % 9}.{i % 7}"],
                    "pushedAt": epoch_from_us(first_us - _HOUR),
                    "architecture": "amd64",
                    "imageHash": digest,
                    "registry": account,
                    "platform": "LINUX",
                }
            },
        }
    finding: dict[str, Any] = {
        "findingArn": arn,
        "awsAccountId": account,
        "type": "NETWORK_REACHABILITY" if network else "PACKAGE_VULNERABILITY",
        "severity": severity,
        "firstObservedAt": epoch_from_us(first_us),
        "lastObservedAt": epoch_from_us(last_us),
        "updatedAt": epoch_from_us(updated_us),
        "status": bits.pct(_I2_STATUS_TABLE),
        "resources": [resource],
    }
    if network:
        port = (22, 80, 443, 3389, 5432)[bits.below(5)]
        finding.update(
            {
                "title": f"Port {port} is reachable from an Internet Gateway",
                "description": f"On the instance, port {port} is reachable from an Internet "
                "Gateway.",
                "remediation": {
                    "recommendation": {
                        "text": "Restrict access to the port with security groups or network ACLs.",
                    }
                },
                "networkReachabilityDetails": {
                    "openPortRange": {"begin": port, "end": port},
                    "protocol": "TCP",
                    "networkPath": {
                        "steps": [
                            {
                                "componentId": f"igw-{bits.hex(17)}",
                                "componentType": "AWS::EC2::InternetGateway",
                            },
                            {
                                "componentId": f"sg-{bits.hex(17)}",
                                "componentType": "AWS::EC2::SecurityGroup",
                            },
                        ]
                    },
                },
            }
        )
        return finding
    name, version, fixed, manager = _PACKAGES[i % len(_PACKAGES)]
    cve = f"CVE-20{18 + bits.below(7)}-{1000 + bits.below(49000)}"
    score = bits.score()
    exploit = ("YES", "NO")[bits.take(1)]
    finding.update(
        {
            "title": f"{cve} - {name}",
            "description": f"A flaw in {name} {version} may allow a remote attacker to execute "
            "arbitrary code.",
            "remediation": {
                "recommendation": {
                    "text": f"Upgrade {name} to {fixed}.",
                    "Url": f"https://nvd.nist.gov/vuln/detail/{cve}",
                }
            },
            "inspectorScore": score,
            "inspectorScoreDetails": {
                "adjustedCvss": {
                    "scoreSource": "NVD",
                    "cvssSource": "NVD",
                    "version": "3.1",
                    "score": score,
                    "scoringVector": _CVSS_VECTOR,
                    "adjustments": [],
                }
            },
            "packageVulnerabilityDetails": {
                "vulnerabilityId": cve,
                "vulnerablePackages": [
                    {
                        "name": name,
                        "version": version,
                        "epoch": 0,
                        "release": "1",
                        "arch": "X86_64",
                        "packageManager": manager,
                        "fixedInVersion": fixed,
                        "remediation": f"Upgrade to {fixed}",
                    }
                ],
                "source": "NVD",
                "cvss": [
                    {
                        "baseScore": score,
                        "scoringVector": _CVSS_VECTOR,
                        "version": "3.1",
                        "source": "NVD",
                    }
                ],
                "relatedVulnerabilities": [],
                "sourceUrl": f"https://nvd.nist.gov/vuln/detail/{cve}",
                "vendorSeverity": severity.title(),
                "vendorCreatedAt": epoch_from_us(first_us - 90 * _DAY),
                "vendorUpdatedAt": epoch_from_us(first_us - 5 * _DAY),
                "referenceUrls": [f"https://nvd.nist.gov/vuln/detail/{cve}"],
            },
            "fixAvailable": bits.pct(_FIX_TABLE),
            "exploitAvailable": exploit,
            "epss": {"score": bits.take(16) % 100_000 / 100_000},
        }
    )
    if exploit == "YES":
        finding["exploitabilityDetails"] = {"lastKnownExploitAt": epoch_from_us(first_us - _DAY)}
    return finding


def _ocsf(bits: _Bits, i: int, where: tuple[str, str, str], updated_us: int) -> dict[str, Any]:
    """Even: an Inspector vulnerability; odd: a Security Hub control (Compliance Finding)."""
    if i % 2 == 0:
        return vulnerability_from_inspector(_inspector(bits, i, where, updated_us))
    return compliance_from_asff(_asff(bits, 3 * (i // 2), where, updated_us))


def digest_line(service: str, f: dict[str, Any]) -> bytes:
    if service == SECURITYHUB:
        return f"{f['Id']}|{f['ProductArn']}|{f['UpdatedAt']}\n".encode()
    if service == SECURITYHUB_OCSF:
        info = f["finding_info"]
        return (
            f"{info['uid']}|{f['metadata']['product']['uid']}|{info['modified_time_dt']}\n".encode()
        )
    return f"{f['findingArn']}|{f['updatedAt']}\n".encode()


def findings_digest(service: str, findings: Iterable[dict[str, Any]]) -> str:
    """sha256 over (id, UpdatedAt) of findings, in the given order: compare server and test."""
    h = hashlib.sha256()
    for f in findings:
        h.update(digest_line(service, f))
    return h.hexdigest()
