"""One vulnerability, as each AWS API shows it: Inspector2, ECR enhanced scanning, Security Hub
(ASFF) and Security Hub's OCSF findings.

Amazon Inspector is the source: ECR's ``DescribeImageScanFindings`` (enhanced scanning) shows the
image's Inspector findings under the same ``findingArn``; Inspector's Security Hub integration
imports each finding with ``Id`` = the finding ARN and ``ProductArn``
``arn:<partition>:securityhub:<region>::product/aws/inspector`` (ProductName ``Inspector``,
CompanyName ``Amazon``, GeneratorId ``AWSInspector``), the resource as an ARN (an instance ARN,
or ``arn:<partition>:ecr:<region>:<account>:repository/<repo>/sha256:<digest>`` for an image),
``Vulnerabilities[].Id`` / ``Cvss[].BaseScore``, and the status as workflow and record state:
SUPPRESSED -> Workflow ``SUPPRESSED``; CLOSED -> RecordState ``ARCHIVED``, Workflow ``RESOLVED``;
UNTRIAGED (no CVSS score) -> Severity.Label ``INFORMATIONAL`` with Original ``UNTRIAGED``
(ASFF has no UNTRIAGED label). Sources: the Security Hub user guide's "AWS service integrations"
(Amazon Inspector) and ASFF resource pages (AwsEc2Instance, AwsEcrContainerImage), the Inspector
user guide (finding statuses, suppression, closing), botocore's inspector2/ecr/securityhub
models for field names. OCSF: Vulnerability Finding (class 2002) and Compliance Finding (2003)
of OCSF 1.x with Security Hub's ``metadata.product`` (see :mod:`aws_emulator.ocsf`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_emulator.times import epoch_from_us, iso_from_us

CVSS_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
SEVERITY_NORMALIZED = {"INFORMATIONAL": 0, "LOW": 20, "MEDIUM": 50, "HIGH": 75, "CRITICAL": 95}
OCSF_SEVERITY = {
    "INFORMATIONAL": (1, "Informational"),
    "LOW": (2, "Low"),
    "MEDIUM": (3, "Medium"),
    "HIGH": (4, "High"),
    "CRITICAL": (5, "Critical"),
    "UNTRIAGED": (0, "Unknown"),
}
OCSF_STATUS = {"ACTIVE": (1, "New"), "SUPPRESSED": (3, "Suppressed"), "CLOSED": (4, "Resolved")}
_DAY = 86_400_000_000


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    fixed_in: str
    manager: str  # Inspector's packageManager: OS, PYTHONPKG, NODEPKG, JAR, ...


@dataclass(frozen=True)
class Vulnerability:
    """What an Inspector finding reports: one vulnerability id and the packages it affects."""

    vulnerability_id: str  # CVE-... or GHSA-...
    related: tuple[str, ...]  # relatedVulnerabilities: the CVE of a GHSA advisory
    severity: str  # CRITICAL HIGH MEDIUM LOW INFORMATIONAL UNTRIAGED
    score: float | None  # CVSS base score; None for UNTRIAGED
    packages: tuple[Package, ...]
    source: str = "NVD"

    @property
    def cve_ids(self) -> tuple[str, ...]:
        return tuple(v for v in (self.vulnerability_id, *self.related) if v.startswith("CVE-"))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(sorted({self.vulnerability_id, *self.related}))


def ec2_instance_resource(
    instance_id: str,
    account: str,
    region: str,
    partition: str = "aws",
    *,
    instance_type: str = "t3.micro",
    image_id: str = "ami-12c6146b",
    vpc_id: str = "",
    subnet_id: str = "",
    private_ips: Sequence[str] = (),
    public_ips: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
    launched_us: int = 0,
) -> dict[str, Any]:
    """Inspector's ``resources[]`` entry for an EC2 instance (``id`` is the instance id)."""
    details: dict[str, Any] = {
        "type": instance_type,
        "imageId": image_id,
        "ipV4Addresses": [*private_ips, *public_ips],
        "launchedAt": epoch_from_us(launched_us),
        "platform": "AMAZON_LINUX_2",
    }
    if vpc_id:
        details["vpcId"] = vpc_id
    if subnet_id:
        details["subnetId"] = subnet_id
    return {
        "type": "AWS_EC2_INSTANCE",
        "id": instance_id,
        "partition": partition,
        "region": region,
        "tags": dict(tags or {}),
        "details": {"awsEc2Instance": details},
    }


def ecr_image_resource(
    account: str,
    region: str,
    repository: str,
    digest: str,
    partition: str = "aws",
    *,
    tags: Sequence[str] = (),
    pushed_us: int = 0,
) -> dict[str, Any]:
    """Inspector's ``resources[]`` entry for an ECR image (``id`` is the image ARN)."""
    return {
        "type": "AWS_ECR_CONTAINER_IMAGE",
        "id": f"arn:{partition}:ecr:{region}:{account}:repository/{repository}/{digest}",
        "partition": partition,
        "region": region,
        "details": {
            "awsEcrContainerImage": {
                "repositoryName": repository,
                "imageTags": list(tags),
                "pushedAt": epoch_from_us(pushed_us),
                "architecture": "amd64",
                "imageHash": digest,
                "registry": account,
                "platform": "AMAZON_LINUX_2",
            }
        },
    }


def inspector_resource_arn(resource: Mapping[str, Any], account: str) -> str:
    """The resource's ARN as Security Hub writes it (an instance id becomes its ARN)."""
    if resource["type"] == "AWS_EC2_INSTANCE":
        partition, region = resource.get("partition", "aws"), resource["region"]
        return f"arn:{partition}:ec2:{region}:{account}:instance/{resource['id']}"
    return str(resource["id"])


def package_finding(
    arn: str,
    account: str,
    resource: dict[str, Any],
    vuln: Vulnerability,
    *,
    status: str,
    first_us: int,
    last_us: int,
    updated_us: int,
    exploit: str = "NO",
) -> dict[str, Any]:
    """An Inspector2 PACKAGE_VULNERABILITY finding (ListFindings' ``Finding`` shape)."""
    names = ", ".join(p.name for p in vuln.packages)
    url = (
        f"https://github.com/advisories/{vuln.vulnerability_id}"
        if vuln.vulnerability_id.startswith("GHSA-")
        else f"https://nvd.nist.gov/vuln/detail/{vuln.vulnerability_id}"
    )
    details: dict[str, Any] = {
        "vulnerabilityId": vuln.vulnerability_id,
        "vulnerablePackages": [
            {
                "name": p.name,
                "version": p.version,
                "epoch": 0,
                "release": "1",
                "arch": "X86_64",
                "packageManager": p.manager,
                "fixedInVersion": p.fixed_in,
                "remediation": f"Upgrade to {p.fixed_in}",
            }
            for p in vuln.packages
        ],
        "source": vuln.source,
        "relatedVulnerabilities": list(vuln.related),
        "sourceUrl": url,
        "vendorSeverity": vuln.severity.title(),
        "vendorCreatedAt": epoch_from_us(first_us - 90 * _DAY),
        "vendorUpdatedAt": epoch_from_us(first_us - 5 * _DAY),
        "referenceUrls": [url],
        "cvss": [],
    }
    finding: dict[str, Any] = {
        "findingArn": arn,
        "awsAccountId": account,
        "type": "PACKAGE_VULNERABILITY",
        "title": f"{vuln.vulnerability_id} - {names}",
        "description": f"A flaw in {names} may allow a remote attacker to execute arbitrary code.",
        "remediation": {"recommendation": {"text": f"Upgrade {names}.", "Url": url}},
        "severity": vuln.severity,
        "firstObservedAt": epoch_from_us(first_us),
        "lastObservedAt": epoch_from_us(last_us),
        "updatedAt": epoch_from_us(updated_us),
        "status": status,
        "resources": [resource],
        "packageVulnerabilityDetails": details,
        "fixAvailable": "YES",
        "exploitAvailable": exploit,
    }
    if vuln.score is not None:
        details["cvss"] = [
            {
                "baseScore": vuln.score,
                "scoringVector": CVSS_VECTOR,
                "version": "3.1",
                "source": vuln.source,
            }
        ]
        finding["inspectorScore"] = vuln.score
        finding["inspectorScoreDetails"] = {
            "adjustedCvss": {
                "scoreSource": vuln.source,
                "cvssSource": vuln.source,
                "version": "3.1",
                "score": vuln.score,
                "scoringVector": CVSS_VECTOR,
                "adjustments": [],
            }
        }
    return finding


def network_finding(
    arn: str,
    account: str,
    resource: dict[str, Any],
    *,
    port: int,
    severity: str,
    status: str,
    first_us: int,
    last_us: int,
    updated_us: int,
    igw_id: str,
    sg_id: str,
) -> dict[str, Any]:
    """An Inspector2 NETWORK_REACHABILITY finding on an instance."""
    return {
        "findingArn": arn,
        "awsAccountId": account,
        "type": "NETWORK_REACHABILITY",
        "title": f"Port {port} is reachable from an Internet Gateway - TCP",
        "description": f"On the instance, port {port} is reachable from an Internet Gateway.",
        "remediation": {
            "recommendation": {
                "text": "Restrict access to the port with security groups or network ACLs."
            }
        },
        "severity": severity,
        "firstObservedAt": epoch_from_us(first_us),
        "lastObservedAt": epoch_from_us(last_us),
        "updatedAt": epoch_from_us(updated_us),
        "status": status,
        "resources": [resource],
        "networkReachabilityDetails": {
            "openPortRange": {"begin": port, "end": port},
            "protocol": "TCP",
            "networkPath": {
                "steps": [
                    {"componentId": igw_id, "componentType": "AWS::EC2::InternetGateway"},
                    {"componentId": sg_id, "componentType": "AWS::EC2::SecurityGroup"},
                ]
            },
        },
    }


def ecr_enhanced_finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    """ECR's ``EnhancedImageScanFinding`` for an Inspector finding on an image (same ARN)."""
    resource = finding["resources"][0]
    image = resource["details"]["awsEcrContainerImage"]
    pkg = finding["packageVulnerabilityDetails"]
    out: dict[str, Any] = {
        "awsAccountId": finding["awsAccountId"],
        "description": finding["description"],
        "findingArn": finding["findingArn"],
        "firstObservedAt": finding["firstObservedAt"],
        "lastObservedAt": finding["lastObservedAt"],
        "updatedAt": finding["updatedAt"],
        "packageVulnerabilityDetails": {
            "cvss": list(pkg["cvss"]),
            "referenceUrls": list(pkg["referenceUrls"]),
            "relatedVulnerabilities": list(pkg["relatedVulnerabilities"]),
            "source": pkg["source"],
            "sourceUrl": pkg["sourceUrl"],
            "vendorCreatedAt": pkg["vendorCreatedAt"],
            "vendorSeverity": pkg["vendorSeverity"],
            "vendorUpdatedAt": pkg["vendorUpdatedAt"],
            "vulnerabilityId": pkg["vulnerabilityId"],
            "vulnerablePackages": [
                {
                    "arch": p["arch"],
                    "epoch": p["epoch"],
                    "name": p["name"],
                    "packageManager": p["packageManager"],
                    "release": p["release"],
                    "version": p["version"],
                    "fixedInVersion": p["fixedInVersion"],
                }
                for p in pkg["vulnerablePackages"]
            ],
        },
        "remediation": {
            "recommendation": {"text": finding["remediation"]["recommendation"]["text"]}
        },
        "resources": [
            {
                "details": {
                    "awsEcrContainerImage": {
                        "architecture": image["architecture"],
                        "imageHash": image["imageHash"],
                        "imageTags": list(image["imageTags"]),
                        "platform": image["platform"],
                        "pushedAt": image["pushedAt"],
                        "registry": image["registry"],
                        "repositoryName": image["repositoryName"],
                    }
                },
                "id": resource["id"],
                "type": resource["type"],
            }
        ],
        "severity": finding["severity"],
        "status": finding["status"],
        "title": finding["title"],
        "type": finding["type"],
        "fixAvailable": finding["fixAvailable"],
        "exploitAvailable": finding["exploitAvailable"],
    }
    if "inspectorScore" in finding:
        out["score"] = finding["inspectorScore"]
        adjusted = finding["inspectorScoreDetails"]["adjustedCvss"]
        out["scoreDetails"] = {
            "cvss": {
                "adjustments": [],
                "score": adjusted["score"],
                "scoreSource": adjusted["scoreSource"],
                "scoringVector": adjusted["scoringVector"],
                "version": adjusted["version"],
            }
        }
    return out


def _asff_workflow(status: str) -> tuple[str, str, str]:
    """Inspector status -> (Workflow.Status, WorkflowState, RecordState)."""
    if status == "SUPPRESSED":
        return "SUPPRESSED", "DEFERRED", "ACTIVE"
    if status == "CLOSED":
        return "RESOLVED", "RESOLVED", "ARCHIVED"
    return "NEW", "NEW", "ACTIVE"


def asff_from_inspector(finding: Mapping[str, Any]) -> dict[str, Any]:
    """The finding as Inspector's Security Hub integration imports it (ASFF)."""
    resource = finding["resources"][0]
    account, region = finding["awsAccountId"], resource["region"]
    partition = resource.get("partition", "aws")
    product_arn = f"arn:{partition}:securityhub:{region}::product/aws/inspector"
    severity = finding["severity"]
    label = "INFORMATIONAL" if severity == "UNTRIAGED" else severity
    workflow, workflow_state, record_state = _asff_workflow(finding["status"])
    if resource["type"] == "AWS_EC2_INSTANCE":
        ec2 = resource["details"]["awsEc2Instance"]
        details: dict[str, Any] = {
            "AwsEc2Instance": {
                "Type": ec2["type"],
                "ImageId": ec2["imageId"],
                "IpV4Addresses": list(ec2["ipV4Addresses"]),
                "VpcId": ec2.get("vpcId", ""),
                "SubnetId": ec2.get("subnetId", ""),
                "LaunchedAt": iso_from_us(round(float(ec2["launchedAt"]) * 1_000_000)),
            }
        }
        resource_type = "AwsEc2Instance"
    else:
        image = resource["details"]["awsEcrContainerImage"]
        details = {
            "AwsEcrContainerImage": {
                "RegistryId": image["registry"],
                "RepositoryName": image["repositoryName"],
                "Architecture": image["architecture"],
                "ImageDigest": image["imageHash"],
                "ImageTags": list(image["imageTags"]),
                "ImagePublishedAt": iso_from_us(round(float(image["pushedAt"]) * 1_000_000)),
            }
        }
        resource_type = "AwsEcrContainerImage"

    def iso(key: str) -> str:
        return iso_from_us(round(float(finding[key]) * 1_000_000))

    asff: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": finding["findingArn"],
        "ProductArn": product_arn,
        "ProductName": "Inspector",
        "CompanyName": "Amazon",
        "GeneratorId": "AWSInspector",
        "AwsAccountId": account,
        "Region": region,
        "Title": finding["title"],
        "Description": finding["description"],
        "Remediation": {
            "Recommendation": {"Text": finding["remediation"]["recommendation"]["text"]}
        },
        "CreatedAt": iso("firstObservedAt"),
        "FirstObservedAt": iso("firstObservedAt"),
        "LastObservedAt": iso("lastObservedAt"),
        "UpdatedAt": iso("updatedAt"),
        "Severity": {
            "Label": label,
            "Normalized": SEVERITY_NORMALIZED[label],
            "Original": severity,
        },
        "FindingProviderFields": {"Severity": {"Label": label, "Original": severity}},
        "Workflow": {"Status": workflow},
        "WorkflowState": workflow_state,
        "RecordState": record_state,
        "Resources": [
            {
                "Type": resource_type,
                "Id": inspector_resource_arn(resource, account),
                "Partition": partition,
                "Region": region,
                "Tags": dict(resource.get("tags") or {}),
                "Details": details,
            }
        ],
        "ProductFields": {
            "aws/inspector/ProductVersion": "2",
            "aws/inspector/FindingStatus": finding["status"],
            "aws/securityhub/ProductName": "Inspector",
            "aws/securityhub/CompanyName": "Amazon",
            "aws/securityhub/FindingId": f"{product_arn}/{finding['findingArn']}",
        },
    }
    if "inspectorScore" in finding:
        asff["ProductFields"]["aws/inspector/inspectorScore"] = str(finding["inspectorScore"])
    if finding["type"] == "NETWORK_REACHABILITY":
        asff["Types"] = [
            "Software and Configuration Checks/AWS Security Best Practices/Network Reachability"
        ]
        asff["FindingProviderFields"]["Types"] = asff["Types"]
        return asff
    pkg = finding["packageVulnerabilityDetails"]
    asff["Types"] = ["Software and Configuration Checks/Vulnerabilities/CVE"]
    asff["FindingProviderFields"]["Types"] = asff["Types"]
    vulnerability: dict[str, Any] = {
        "Id": pkg["vulnerabilityId"],
        "VulnerablePackages": [
            {
                "Name": p["name"],
                "Version": p["version"],
                "Epoch": str(p["epoch"]),
                "Release": p["release"],
                "Architecture": p["arch"],
                "PackageManager": p["packageManager"],
                "FixedInVersion": p["fixedInVersion"],
                "Remediation": p["remediation"],
            }
            for p in pkg["vulnerablePackages"]
        ],
        "Vendor": {
            "Name": pkg["source"],
            "Url": pkg["sourceUrl"],
            "VendorSeverity": pkg["vendorSeverity"],
        },
        "ReferenceUrls": list(pkg["referenceUrls"]),
        "FixAvailable": finding["fixAvailable"],
        "ExploitAvailable": finding["exploitAvailable"],
    }
    if pkg["relatedVulnerabilities"]:
        vulnerability["RelatedVulnerabilities"] = list(pkg["relatedVulnerabilities"])
    if pkg["cvss"]:
        vulnerability["Cvss"] = [
            {
                "Version": c["version"],
                "BaseScore": c["baseScore"],
                "BaseVector": c["scoringVector"],
                "Source": c["source"],
            }
            for c in pkg["cvss"]
        ]
    asff["Vulnerabilities"] = [vulnerability]
    return asff


def asff_control_finding(
    *,
    finding_id: str,
    account: str,
    region: str,
    partition: str,
    control: str,
    title: str,
    status: str,  # Compliance.Status: PASSED FAILED WARNING NOT_AVAILABLE
    severity: str,
    resource_type: str,
    resource_id: str,
    created_us: int,
    updated_us: int,
    record_state: str = "ACTIVE",
    workflow: str = "NEW",
) -> dict[str, Any]:
    """A Security Hub CSPM control finding (FSBP standard) on one resource."""
    product_arn = f"arn:{partition}:securityhub:{region}::product/aws/securityhub"
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": product_arn,
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "GeneratorId": f"security-control/{control}",
        "AwsAccountId": account,
        "Region": region,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "Title": title,
        "Description": f"This control checks: {title.lower()}.",
        "CreatedAt": iso_from_us(created_us),
        "FirstObservedAt": iso_from_us(created_us),
        "LastObservedAt": iso_from_us(updated_us),
        "UpdatedAt": iso_from_us(updated_us),
        "Severity": {
            "Label": severity,
            "Normalized": SEVERITY_NORMALIZED[severity],
            "Original": severity,
        },
        "FindingProviderFields": {"Severity": {"Label": severity, "Original": severity}},
        "Compliance": {
            "Status": status,
            "SecurityControlId": control,
            "AssociatedStandards": [
                {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}
            ],
        },
        "Workflow": {"Status": workflow},
        "WorkflowState": "NEW" if workflow == "NEW" else workflow,
        "RecordState": record_state,
        "Resources": [
            {
                "Type": resource_type,
                "Id": resource_id,
                "Partition": partition,
                "Region": region,
            }
        ],
        "ProductFields": {
            "aws/securityhub/ProductName": "Security Hub",
            "aws/securityhub/CompanyName": "AWS",
            "aws/securityhub/FindingId": f"{product_arn}/{finding_id}",
        },
    }
