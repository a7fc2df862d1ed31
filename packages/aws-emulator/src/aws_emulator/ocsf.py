"""Security Hub's new generation: ``GetFindingsV2`` and its OCSF findings.

The operation (botocore securityhub ``GetFindingsV2``, ``POST /findingsv2``) is answered by the
findings engine (:mod:`aws_emulator.findings`, kind ``securityhub_ocsf``); this module holds the
OCSF shapes and what the engine accepts.

What AWS does, and where it is written down
-------------------------------------------
- ``Filters.CompositeFilters[]`` (up to 10, each with ``StringFilters``, ``DateFilters``, ...,
  ``Operator`` AND|OR; ``CompositeOperator`` between them) and ``SortCriteria [{Field,
  SortOrder}]``; ``MaxResults`` 1..100; ``NextToken``: the GetFindingsV2 API reference
  (docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindingsV2.html) and botocore's
  securityhub model (``OcsfDateFilter.FieldName`` enum includes ``finding_info.modified_time_dt``).
- ``Scopes`` (``AwsOrganizations`` of OrganizationId / OrganizationalUnitId, up to 10): "Only the
  delegated administrator account can use this parameter. Other accounts receive an
  ``AccessDeniedException``" (the model's documentation of ``GetFindingsV2Input.Scopes``, as in
  the AWS SDKs, e.g. aws-sdk-securityhub's ``GetFindingsV2Input``). Without Scopes the delegated
  administrator sees the whole organization, other accounts their own findings.
- GetFindings and GetFindingsV2 both need ``securityhub:GetFindings``; a missing permission is
  HTTP 403 ``AccessDeniedException`` (the model's only 403 error for the operation; error
  members ``Code``/``Message``). The model lists no ``InvalidAccessException`` for V2, so "not
  enabled" is answered as 403 ``AccessDeniedException`` "Account <id> is not subscribed to AWS
  Security Hub" -- an inference from the model, no public trace of the exact text was found.
- Bad input: 400 ``ValidationException``.

The emulator implements the date filter and sort on ``finding_info.modified_time_dt`` (what the
tap sends); every other filter type, field or sort field is answered with a
``ValidationException`` naming it. Default order (no SortCriteria): modified time descending, ties
by uid (the emulator's choice; AWS documents none). Scopes from an account made administrator
with ``findings/ocsf_admin`` are answered with a ValidationException "not implemented by the
emulator" (never silently ignored).

OCSF documents
--------------
Vulnerability Finding (``class_uid`` 2002) for Inspector's findings and Compliance Finding
(2003) for Security Hub controls, OCSF 1.x as Security Hub emits them: ``finding_info.uid``,
``finding_info.title``, ``finding_info.created_time_dt``, ``finding_info.modified_time_dt``,
``metadata.product.uid`` / ``name``, ``cloud.account.uid``, ``cloud.region``, ``severity_id`` /
``severity``, ``status_id`` / ``status``, ``vulnerabilities[].cve.uid``,
``vulnerabilities[].cve.cvss[].base_score``, ``vulnerabilities[].advisory.uid``,
``resources[].uid`` / ``type``, ``compliance`` for control findings. ``finding_info.uid`` is
unique per product, so a finding's identity is (``finding_info.uid``, ``metadata.product.uid``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_emulator.shapes import OCSF_SEVERITY, OCSF_STATUS, inspector_resource_arn
from aws_emulator.times import iso_from_us, parse_time_us

MODIFIED_FIELD = "finding_info.modified_time_dt"
OCSF_VERSION = "1.5.0"

_RESOURCE_TYPES = {
    "AWS_EC2_INSTANCE": "AWS::EC2::Instance",
    "AWS_ECR_CONTAINER_IMAGE": "AWS::ECR::ContainerImage",
    "AwsEc2Instance": "AWS::EC2::Instance",
    "AwsAccount": "AWS::::Account",
    "AwsS3Bucket": "AWS::S3::Bucket",
    "AwsEc2SecurityGroup": "AWS::EC2::SecurityGroup",
    "AwsIamAccessKey": "AWS::IAM::AccessKey",
}
_COMPLIANCE_STATUS = {
    "PASSED": (1, "Pass"),
    "WARNING": (2, "Warning"),
    "FAILED": (3, "Fail"),
    "NOT_AVAILABLE": (99, "Other"),
}


def product(uid_name: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """``metadata.product`` of an AWS integration (``inspector``, ``securityhub``, ...)."""
    names = {"inspector": "Inspector", "securityhub": "Security Hub", "guardduty": "GuardDuty"}
    return {
        "uid": f"arn:{partition}:securityhub:{region}::productv2/aws/{uid_name}",
        "name": names.get(uid_name, uid_name),
        "vendor_name": "AWS",
    }


def _times(created_us: int, modified_us: int) -> dict[str, Any]:
    return {
        "created_time": created_us // 1000,
        "created_time_dt": iso_from_us(created_us),
        "modified_time": modified_us // 1000,
        "modified_time_dt": iso_from_us(modified_us),
        "first_seen_time_dt": iso_from_us(created_us),
        "last_seen_time_dt": iso_from_us(modified_us),
    }


def _envelope(
    class_uid: int,
    class_name: str,
    *,
    uid: str,
    title: str,
    desc: str,
    account: str,
    region: str,
    product_info: dict[str, Any],
    severity: str,
    status: str,
    created_us: int,
    modified_us: int,
    resources: list[dict[str, Any]],
) -> dict[str, Any]:
    severity_id, severity_name = OCSF_SEVERITY[severity]
    status_id, status_name = OCSF_STATUS[status]
    return {
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "type_uid": class_uid * 100 + 1,
        "type_name": f"{class_name}: Create",
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": status_id,
        "status": status_name,
        "time": modified_us // 1000,
        "time_dt": iso_from_us(modified_us),
        "finding_info": {
            "uid": uid,
            "title": title,
            "desc": desc,
            **_times(created_us, modified_us),
        },
        "metadata": {
            "version": OCSF_VERSION,
            "product": product_info,
            "profiles": ["cloud", "datetime"],
        },
        "cloud": {
            "provider": "AWS",
            "region": region,
            "account": {"uid": account, "type": "AWS Account", "type_id": 10},
        },
        "resources": resources,
    }


def vulnerability_from_inspector(finding: Mapping[str, Any]) -> dict[str, Any]:
    """Inspector's finding as a Vulnerability Finding (2002) of the new Security Hub."""
    resource = finding["resources"][0]
    account, region = finding["awsAccountId"], resource["region"]
    partition = resource.get("partition", "aws")
    doc = _envelope(
        2002,
        "Vulnerability Finding",
        uid=finding["findingArn"],
        title=finding["title"],
        desc=finding["description"],
        account=account,
        region=region,
        product_info=product("inspector", region, partition),
        severity=finding["severity"],
        status=finding["status"],
        created_us=parse_time_us(finding["firstObservedAt"]),
        modified_us=parse_time_us(finding["updatedAt"]),
        resources=[
            {
                "uid": inspector_resource_arn(resource, account),
                "type": _RESOURCE_TYPES[resource["type"]],
                "region": region,
                "cloud_partition": partition,
                "owner": {"account": {"uid": account}},
            }
        ],
    )
    pkg = finding.get("packageVulnerabilityDetails")
    if pkg is None:  # network reachability: no vulnerability, a remediation
        doc["finding_info"]["types"] = ["Network Reachability"]
        doc["remediation"] = {"desc": finding["remediation"]["recommendation"]["text"]}
        return doc
    vuln_id = pkg["vulnerabilityId"]
    cve_id = (
        vuln_id
        if vuln_id.startswith("CVE-")
        else next((v for v in pkg["relatedVulnerabilities"] if v.startswith("CVE-")), None)
    )
    entry: dict[str, Any] = {
        "title": finding["title"],
        "severity": doc["severity"],
        "vendor_name": pkg["source"],
        "is_fix_available": finding["fixAvailable"] == "YES",
        "affected_packages": [
            {
                "name": p["name"],
                "version": p["version"],
                "fixed_in_version": p["fixedInVersion"],
                "package_manager": p["packageManager"],
            }
            for p in pkg["vulnerablePackages"]
        ],
        "references": list(pkg["referenceUrls"]),
    }
    if cve_id is not None:
        entry["cve"] = {
            "uid": cve_id,
            "cvss": [
                {
                    "base_score": c["baseScore"],
                    "version": c["version"],
                    "vector_string": c["scoringVector"],
                }
                for c in pkg["cvss"]
            ],
        }
    if vuln_id.startswith("GHSA-"):
        entry["advisory"] = {"uid": vuln_id, "src_url": pkg["sourceUrl"]}
    doc["finding_info"]["types"] = ["Software and Configuration Checks/Vulnerabilities/CVE"]
    doc["vulnerabilities"] = [entry]
    return doc


def compliance_from_asff(asff: Mapping[str, Any]) -> dict[str, Any]:
    """A Security Hub control finding (ASFF) as a Compliance Finding (2003)."""
    region, partition = asff["Region"], asff["Resources"][0].get("Partition", "aws")
    status = "CLOSED" if asff["RecordState"] == "ARCHIVED" else "ACTIVE"
    if asff["Workflow"]["Status"] == "SUPPRESSED":
        status = "SUPPRESSED"
    compliance = asff["Compliance"]
    status_id, status_name = _COMPLIANCE_STATUS[compliance["Status"]]
    doc = _envelope(
        2003,
        "Compliance Finding",
        uid=asff["Id"],
        title=asff["Title"],
        desc=asff["Description"],
        account=asff["AwsAccountId"],
        region=region,
        product_info=product("securityhub", region, partition),
        severity=asff["Severity"]["Label"],
        status=status,
        created_us=parse_time_us(asff["CreatedAt"]),
        modified_us=parse_time_us(asff["UpdatedAt"]),
        resources=[
            {
                "uid": r["Id"],
                "type": _RESOURCE_TYPES.get(r["Type"], r["Type"]),
                "region": r.get("Region", region),
                "cloud_partition": partition,
            }
            for r in asff["Resources"]
        ],
    )
    doc["compliance"] = {
        "control": compliance["SecurityControlId"],
        "status_id": status_id,
        "status": status_name,
        "standards": [s["StandardsId"] for s in compliance.get("AssociatedStandards", [])],
    }
    return doc


def finding_key(doc: Mapping[str, Any]) -> tuple[str, str]:
    """An OCSF finding's identity: (finding_info.uid, metadata.product.uid)."""
    return (str(doc["finding_info"]["uid"]), str(doc["metadata"]["product"]["uid"]))
