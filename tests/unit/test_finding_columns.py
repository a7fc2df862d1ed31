"""The five warehouse columns of each finding source, and the asset identities they link to:
exact values for a table of findings per source, in process."""

from __future__ import annotations

from typing import Any

import botocore.session
import jsonschema
import pytest

from tap_aws_uvm import finding_columns
from tap_aws_uvm.auth import Account
from tap_aws_uvm.client import Job
from tap_aws_uvm.records import shape_record
from tap_aws_uvm.schemagen import load_schema
from tap_aws_uvm.streams import network
from tap_aws_uvm.streams.ecr import basic_columns, enhanced_columns, image_arn
from tap_aws_uvm.validation import validate_settings

MGMT, MEMBER, OUTSIDER = "111111111111", "222222222222", "999999999999"
ORG_ACCOUNTS = [
    {"Id": MGMT, "Arn": f"arn:aws:organizations::{MGMT}:account/o-abc123/{MGMT}"},
    {"Id": MEMBER, "Arn": f"arn:aws:organizations::{MGMT}:account/o-abc123/{MEMBER}"},
]
MEMBER_ARN = ORG_ACCOUNTS[1]["Arn"]
INSTANCE = f"arn:aws:ec2:eu-west-1:{MEMBER}:instance/i-0abc"
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"arn:aws:ecr:eu-west-1:{MEMBER}:repository/team/app/web/{DIGEST}"
BUCKET = "arn:aws:s3:::demo-bucket"
LOG4J = "GHSA-jfh8-c2jp-5v3q"


def columns(
    label: str, score: float | None, ids: list[str], resources: list[str], status: str
) -> dict[str, Any]:
    return {
        "severity_label": label,
        "severity_score": score,
        "vulnerability_ids": ids,
        "resource_ids": resources,
        "finding_status": status,
    }


# ---- Security Hub (ASFF) ---------------------------------------------------------------------


def asff(
    severity: dict[str, Any] | None,
    resources: list[str],
    *,
    vulnerabilities: list[dict[str, Any]] | None = None,
    record_state: str = "ACTIVE",
    workflow: str | None = "NEW",
) -> dict[str, Any]:
    finding: dict[str, Any] = {
        "Id": "f",
        "RecordState": record_state,
        "Resources": [{"Type": "Other", "Id": r} for r in resources],
    }
    if severity is not None:
        finding["Severity"] = severity
    if workflow is not None:
        finding["Workflow"] = {"Status": workflow}
    if vulnerabilities is not None:
        finding["Vulnerabilities"] = vulnerabilities
    return finding


def cvss(*scores: Any) -> list[dict[str, Any]]:
    return [{"Version": "3.1", "BaseScore": s, "Source": "NVD"} for s in scores]


SECURITYHUB = {
    "inspector CVE on an instance, two CVSS entries": (
        asff(
            {"Label": "CRITICAL", "Normalized": 95, "Original": "CRITICAL"},
            [INSTANCE],
            vulnerabilities=[{"Id": "CVE-2024-6387", "Cvss": cvss(9.8, 8.1)}],
        ),
        columns("CRITICAL", 9.8, ["CVE-2024-6387"], [INSTANCE], "ACTIVE"),
    ),
    "GHSA with its CVE, suppressed": (
        asff(
            {"Label": "HIGH", "Original": "HIGH"},
            [IMAGE],
            vulnerabilities=[
                {"Id": LOG4J, "RelatedVulnerabilities": ["CVE-2021-44228"], "Cvss": cvss(10)}
            ],
            workflow="SUPPRESSED",
        ),
        columns("HIGH", 10.0, ["CVE-2021-44228", LOG4J], [IMAGE], "SUPPRESSED"),
    ),
    "Inspector UNTRIAGED as its integration imports it: no score": (
        asff(
            {"Label": "INFORMATIONAL", "Normalized": 0, "Original": "UNTRIAGED"},
            [INSTANCE],
            vulnerabilities=[{"Id": "CVE-2024-0002"}],
        ),
        columns("INFORMATIONAL", None, ["CVE-2024-0002"], [INSTANCE], "ACTIVE"),
    ),
    "archived record, workflow NEW: closed": (
        asff({"Label": "MEDIUM"}, [INSTANCE], record_state="ARCHIVED"),
        columns("MEDIUM", None, [], [INSTANCE], "CLOSED"),
    ),
    "workflow RESOLVED on an active record: closed": (
        asff({"Label": "LOW"}, [BUCKET], workflow="RESOLVED"),
        columns("LOW", None, [], [BUCKET], "CLOSED"),
    ),
    "workflow NOTIFIED: active": (
        asff({"Label": "LOW"}, [BUCKET], workflow="NOTIFIED"),
        columns("LOW", None, [], [BUCKET], "ACTIVE"),
    ),
    "no workflow at all: active": (
        asff({"Label": "LOW"}, [BUCKET], workflow=None),
        columns("LOW", None, [], [BUCKET], "ACTIVE"),
    ),
    "account-level control finding: the account's arn": (
        asff({"Label": "CRITICAL"}, [f"AWS::::Account:{MEMBER}"]),
        columns("CRITICAL", None, [], [MEMBER_ARN], "ACTIVE"),
    ),
    "account outside the organization listing: kept as AWS names it": (
        asff({"Label": "MEDIUM"}, [f"AWS::::Account:{OUTSIDER}"]),
        columns("MEDIUM", None, [], [f"AWS::::Account:{OUTSIDER}"], "ACTIVE"),
    ),
    "only Normalized 45: MEDIUM": (
        asff({"Normalized": 45}, [BUCKET]),
        columns("MEDIUM", None, [], [BUCKET], "ACTIVE"),
    ),
    "only Normalized 0: INFORMATIONAL": (
        asff({"Normalized": 0}, [BUCKET]),
        columns("INFORMATIONAL", None, [], [BUCKET], "ACTIVE"),
    ),
    "only Normalized 39: LOW": (
        asff({"Normalized": 39}, [BUCKET]),
        columns("LOW", None, [], [BUCKET], "ACTIVE"),
    ),
    "only Normalized 40: MEDIUM": (
        asff({"Normalized": 40}, [BUCKET]),
        columns("MEDIUM", None, [], [BUCKET], "ACTIVE"),
    ),
    "only Normalized 70: HIGH": (
        asff({"Normalized": 70}, [BUCKET]),
        columns("HIGH", None, [], [BUCKET], "ACTIVE"),
    ),
    "only Normalized 90: CRITICAL": (
        asff({"Normalized": 90}, [BUCKET]),
        columns("CRITICAL", None, [], [BUCKET], "ACTIVE"),
    ),
    "no severity: UNTRIAGED": (
        asff(None, [BUCKET]),
        columns("UNTRIAGED", None, [], [BUCKET], "ACTIVE"),
    ),
    "vendor ids, duplicates, a CVSS out of range and several resources": (
        asff(
            {"Label": "HIGH"},
            [INSTANCE, BUCKET, INSTANCE],
            vulnerabilities=[
                {"Id": "ALAS2-2023-2100", "RelatedVulnerabilities": ["CVE-2023-4911"]},
                {"Id": "CVE-2023-4911", "Cvss": cvss(7.8, 11, "n/a", None)},
            ],
        ),
        columns("HIGH", 7.8, ["ALAS2-2023-2100", "CVE-2023-4911"], [INSTANCE, BUCKET], "ACTIVE"),
    ),
}


@pytest.mark.parametrize("case", SECURITYHUB)
def test_securityhub(case: str) -> None:
    finding, expected = SECURITYHUB[case]
    account_arn = finding_columns.AccountArns(ORG_ACCOUNTS)
    assert finding_columns.securityhub(finding, account_arn) == expected


def test_securityhub_account_outside_organization_mode() -> None:
    """Access-key and role-list modes list no organization: accounts keep AWS's name."""
    finding = asff({"Label": "HIGH"}, [f"AWS::::Account:{MEMBER}"])
    result = finding_columns.securityhub(finding, finding_columns.AccountArns(None))
    assert result["resource_ids"] == [f"AWS::::Account:{MEMBER}"]


# ---- Amazon Inspector ------------------------------------------------------------------------


def inspector_finding(
    severity: str | None,
    status: str,
    resources: list[dict[str, Any]],
    *,
    score: float | None = None,
    vulnerability: str | None = None,
    related: tuple[str, ...] = (),
    cvss_scores: tuple[float, ...] = (),
) -> dict[str, Any]:
    finding: dict[str, Any] = {
        "findingArn": "arn:aws:inspector2:eu-west-1:222222222222:finding/x",
        "awsAccountId": MEMBER,
        "type": "PACKAGE_VULNERABILITY" if vulnerability else "NETWORK_REACHABILITY",
        "status": status,
        "resources": resources,
    }
    if severity is not None:
        finding["severity"] = severity
    if score is not None:
        finding["inspectorScore"] = score
    if vulnerability is not None:
        finding["packageVulnerabilityDetails"] = {
            "vulnerabilityId": vulnerability,
            "relatedVulnerabilities": list(related),
            "cvss": [{"baseScore": s, "version": "3.1", "source": "NVD"} for s in cvss_scores],
        }
    return finding


def ec2(instance_id: str, region: str | None = "eu-west-1") -> dict[str, Any]:
    resource: dict[str, Any] = {"type": "AWS_EC2_INSTANCE", "id": instance_id, "partition": "aws"}
    if region is not None:
        resource["region"] = region
    return resource


ECR_IMAGE_RESOURCE = {"type": "AWS_ECR_CONTAINER_IMAGE", "id": IMAGE, "region": "eu-west-1"}
LAMBDA = f"arn:aws:lambda:eu-west-1:{MEMBER}:function:api:$LATEST"

INSPECTOR = {
    "CVE on an instance id: the instance ARN": (
        inspector_finding(
            "CRITICAL",
            "ACTIVE",
            [ec2("i-0abc")],
            score=9.8,
            vulnerability="CVE-2024-6387",
            cvss_scores=(9.8,),
        ),
        columns("CRITICAL", 9.8, ["CVE-2024-6387"], [INSTANCE], "ACTIVE"),
    ),
    "GHSA and its CVE, suppressed": (
        inspector_finding(
            "HIGH",
            "SUPPRESSED",
            [ECR_IMAGE_RESOURCE],
            score=7.5,
            vulnerability="GHSA-9wx4-h78v-vm56",
            related=("CVE-2024-35195",),
        ),
        columns("HIGH", 7.5, ["CVE-2024-35195", "GHSA-9wx4-h78v-vm56"], [IMAGE], "SUPPRESSED"),
    ),
    "UNTRIAGED, no score, closed": (
        inspector_finding("UNTRIAGED", "CLOSED", [ec2("i-0abc")], vulnerability="CVE-2024-0002"),
        columns("UNTRIAGED", None, ["CVE-2024-0002"], [INSTANCE], "CLOSED"),
    ),
    "no inspectorScore: the highest CVSS base score": (
        inspector_finding(
            "MEDIUM",
            "ACTIVE",
            [ec2("i-0abc")],
            vulnerability="CVE-2023-38545",
            cvss_scores=(5.3, 6.1),
        ),
        columns("MEDIUM", 6.1, ["CVE-2023-38545"], [INSTANCE], "ACTIVE"),
    ),
    "network reachability: no ids, no score": (
        inspector_finding("LOW", "ACTIVE", [ec2("i-0abc")]),
        columns("LOW", None, [], [INSTANCE], "ACTIVE"),
    ),
    "INFORMATIONAL on a Lambda function: its ARN as it is": (
        inspector_finding(
            "INFORMATIONAL", "ACTIVE", [{"type": "AWS_LAMBDA_FUNCTION", "id": LAMBDA}]
        ),
        columns("INFORMATIONAL", None, [], [LAMBDA], "ACTIVE"),
    ),
    "resource without a region: the partition's region": (
        inspector_finding("HIGH", "ACTIVE", [ec2("i-0def", region=None)]),
        columns(
            "HIGH",
            None,
            [],
            [f"arn:aws:ec2:us-east-1:{MEMBER}:instance/i-0def"],
            "ACTIVE",
        ),
    ),
    "unknown severity: UNTRIAGED": (
        inspector_finding(None, "ACTIVE", [ec2("i-0abc")]),
        columns("UNTRIAGED", None, [], [INSTANCE], "ACTIVE"),
    ),
}


@pytest.mark.parametrize("case", INSPECTOR)
def test_inspector(case: str) -> None:
    finding, expected = INSPECTOR[case]
    result = finding_columns.inspector(
        finding, partition="aws", region="us-east-1", account_id=MEMBER
    )
    assert result == expected


def test_inspector_instance_arn_uses_the_account_partition() -> None:
    finding = inspector_finding("LOW", "ACTIVE", [ec2("i-0gov", region="us-gov-west-1")])
    result = finding_columns.inspector(
        finding, partition="aws-us-gov", region="us-gov-east-1", account_id=MEMBER
    )
    assert result["resource_ids"] == [f"arn:aws-us-gov:ec2:us-gov-west-1:{MEMBER}:instance/i-0gov"]


# ---- Amazon ECR ------------------------------------------------------------------------------


def basic(severity: str, name: str, **attributes: str) -> dict[str, Any]:
    return {
        "name": name,
        "severity": severity,
        "attributes": [{"key": k, "value": v} for k, v in attributes.items()],
    }


ECR_BASIC = {
    "CVSS3 preferred over CVSS2": (
        basic(
            "CRITICAL",
            "CVE-2024-3094",
            package_name="xz-utils",
            package_version="5.6.0",
            CVSS2_SCORE="7.5",
            CVSS3_SCORE="10.0",
        ),
        columns("CRITICAL", 10.0, ["CVE-2024-3094"], [IMAGE], "ACTIVE"),
    ),
    "CVSS2 only": (
        basic("HIGH", "CVE-2019-5188", package_name="e2fsprogs", CVSS2_SCORE="4.6"),
        columns("HIGH", 4.6, ["CVE-2019-5188"], [IMAGE], "ACTIVE"),
    ),
    "UNDEFINED: UNTRIAGED, no score": (
        basic("UNDEFINED", "CVE-2024-0003", package_name="tzdata"),
        columns("UNTRIAGED", None, ["CVE-2024-0003"], [IMAGE], "ACTIVE"),
    ),
    "MEDIUM": (
        basic("MEDIUM", "CVE-2023-44487", CVSS3_SCORE="5.3"),
        columns("MEDIUM", 5.3, ["CVE-2023-44487"], [IMAGE], "ACTIVE"),
    ),
    "LOW": (
        basic("LOW", "CVE-2023-5678", CVSS3_SCORE="3.1"),
        columns("LOW", 3.1, ["CVE-2023-5678"], [IMAGE], "ACTIVE"),
    ),
    "INFORMATIONAL, an unparsable score": (
        basic("INFORMATIONAL", "CVE-2023-0001", CVSS3_SCORE="", CVSS2_SCORE="n/a"),
        columns("INFORMATIONAL", None, ["CVE-2023-0001"], [IMAGE], "ACTIVE"),
    ),
}


@pytest.mark.parametrize("case", ECR_BASIC)
def test_ecr_basic(case: str) -> None:
    finding, expected = ECR_BASIC[case]
    assert finding_columns.ecr_basic(finding, IMAGE) == expected


def enhanced(
    severity: str,
    status: str,
    vulnerability: str,
    *,
    packages: tuple[str, ...] = ("pkg",),
    score: float | None = None,
    related: tuple[str, ...] = (),
    cvss_scores: tuple[float, ...] = (),
) -> dict[str, Any]:
    finding: dict[str, Any] = {
        "findingArn": f"arn:aws:inspector2:eu-west-1:{MEMBER}:finding/{vulnerability}",
        "awsAccountId": MEMBER,
        "severity": severity,
        "status": status,
        "type": "PACKAGE_VULNERABILITY",
        "packageVulnerabilityDetails": {
            "vulnerabilityId": vulnerability,
            "relatedVulnerabilities": list(related),
            "cvss": [
                {"baseScore": s, "version": v, "source": "NVD", "scoringVector": "x"}
                for s, v in zip(cvss_scores, ("2.0", "3.1", "3.1"), strict=False)
            ],
            "vulnerablePackages": [
                {"name": p, "version": f"1.{n}.0", "epoch": 0, "packageManager": "OS"}
                for n, p in enumerate(packages)
            ],
        },
        "resources": [{"type": "AWS_ECR_CONTAINER_IMAGE", "id": IMAGE}],
    }
    if score is not None:
        finding["score"] = score
    return finding


ECR_ENHANCED = {
    "CRITICAL, Inspector's score, two packages": (
        enhanced(
            "CRITICAL",
            "ACTIVE",
            "CVE-2024-3094",
            packages=("xz-utils", "liblzma5"),
            score=10.0,
            cvss_scores=(7.5, 10.0),
        ),
        columns("CRITICAL", 10.0, ["CVE-2024-3094"], [IMAGE], "ACTIVE"),
    ),
    "GHSA and its CVE, no score: the highest CVSS, not the first": (
        enhanced(
            "HIGH",
            "ACTIVE",
            "GHSA-9wx4-h78v-vm56",
            related=("CVE-2024-35195",),
            cvss_scores=(5.0, 7.5),
        ),
        columns("HIGH", 7.5, ["CVE-2024-35195", "GHSA-9wx4-h78v-vm56"], [IMAGE], "ACTIVE"),
    ),
    "UNTRIAGED, suppressed": (
        enhanced("UNTRIAGED", "SUPPRESSED", "CVE-2024-0001"),
        columns("UNTRIAGED", None, ["CVE-2024-0001"], [IMAGE], "SUPPRESSED"),
    ),
    "closed": (
        enhanced("HIGH", "CLOSED", "CVE-2022-40897", score=7.5),
        columns("HIGH", 7.5, ["CVE-2022-40897"], [IMAGE], "CLOSED"),
    ),
}


@pytest.mark.parametrize("case", ECR_ENHANCED)
def test_ecr_enhanced(case: str) -> None:
    finding, expected = ECR_ENHANCED[case]
    assert finding_columns.ecr_enhanced(finding, IMAGE) == expected


def test_ecr_findings_list_every_package_and_keep_the_first_as_before() -> None:
    finding = enhanced(
        "CRITICAL", "ACTIVE", "CVE-2024-3094", packages=("xz-utils", "liblzma5"), score=10.0
    )
    record = enhanced_columns(finding, IMAGE)
    assert record["finding_id"] == finding["findingArn"]
    assert record["vulnerable_packages"] == [
        {"name": "xz-utils", "version": "1.0.0", "epoch": 0, "packageManager": "OS"},
        {"name": "liblzma5", "version": "1.1.0", "epoch": 0, "packageManager": "OS"},
    ]
    assert (record["package_name"], record["package_version"]) == ("xz-utils", "1.0.0")
    assert {k: record[k] for k in finding_columns.COLUMNS} == columns(
        "CRITICAL", 10.0, ["CVE-2024-3094"], [IMAGE], "ACTIVE"
    )

    one = basic("HIGH", "CVE-2019-5188", package_name="e2fsprogs", package_version="1.44")
    record = basic_columns(one, IMAGE)
    assert record["finding_id"] == "CVE-2019-5188|e2fsprogs|1.44"
    assert record["vulnerable_packages"] == [{"name": "e2fsprogs", "version": "1.44"}]
    assert basic_columns(basic("LOW", "CVE-1"), IMAGE)["vulnerable_packages"] == []
    assert enhanced_columns({"findingArn": "a"}, IMAGE)["vulnerable_packages"] == []


# ---- shared rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("CRITICAL", "CRITICAL"),
        ("HIGH", "HIGH"),
        ("MEDIUM", "MEDIUM"),
        ("LOW", "LOW"),
        ("INFORMATIONAL", "INFORMATIONAL"),
        ("UNTRIAGED", "UNTRIAGED"),
        ("UNDEFINED", "UNTRIAGED"),
        ("high", "HIGH"),
        ("SEVERE", "UNTRIAGED"),
        (None, "UNTRIAGED"),
        (3, "UNTRIAGED"),
    ],
)
def test_severity_label(value: Any, label: str) -> None:
    assert finding_columns.severity_label(value) == label


def test_scores_and_ids() -> None:
    assert finding_columns.highest_score([3, "7.5", None, True, 10.5, -1, "x"]) == 7.5
    assert finding_columns.highest_score([]) is None
    assert finding_columns.cvss_score(0) == 0.0
    assert finding_columns.cvss_score(10) == 10.0
    assert finding_columns.vulnerability_ids(["b", "a", "b", "", None, " c "]) == ["a", "b", "c"]


def test_every_documented_value_is_mapped() -> None:
    """botocore's own enums: each maps to a label / status of its own, none to the fallback."""
    session = botocore.session.get_session()

    def enum(service: str, shape: str) -> list[str]:
        return list(session.get_service_model(service).shape_for(shape).enum)

    assert {finding_columns.severity_label(v) for v in enum("inspector2", "Severity")} == set(
        finding_columns.SEVERITY_LABELS
    )
    assert {finding_columns.severity_label(v) for v in enum("ecr", "FindingSeverity")} == set(
        finding_columns.SEVERITY_LABELS
    )
    labels = enum("securityhub", "SeverityLabel")
    assert [
        finding_columns.securityhub(asff({"Label": v}, []), finding_columns.AccountArns(None))[
            "severity_label"
        ]
        for v in labels
    ] == labels
    assert {
        finding_columns.inspector(
            inspector_finding("LOW", s, []), partition="aws", region="r", account_id=MEMBER
        )["finding_status"]
        for s in enum("inspector2", "FindingStatus")
    } == set(finding_columns.FINDING_STATUSES)
    statuses = {
        (state, workflow): finding_columns.securityhub(
            asff({"Label": "LOW"}, [], record_state=state, workflow=workflow),
            finding_columns.AccountArns(None),
        )["finding_status"]
        for state in enum("securityhub", "RecordState")
        for workflow in enum("securityhub", "WorkflowStatus")
    }
    assert statuses == {
        ("ACTIVE", "NEW"): "ACTIVE",
        ("ACTIVE", "NOTIFIED"): "ACTIVE",
        ("ACTIVE", "SUPPRESSED"): "SUPPRESSED",
        ("ACTIVE", "RESOLVED"): "CLOSED",
        ("ARCHIVED", "NEW"): "CLOSED",
        ("ARCHIVED", "NOTIFIED"): "CLOSED",
        ("ARCHIVED", "SUPPRESSED"): "CLOSED",
        ("ARCHIVED", "RESOLVED"): "CLOSED",
    }


# ---- asset identities ------------------------------------------------------------------------


def job(partition: str = "aws", region: str = "eu-west-1", account: str = MEMBER) -> Job:
    settings = validate_settings(
        {"aws_access_key_id": "k", "aws_secret_access_key": "s", "regions": [region]}
    )
    return Job(
        calls=None,  # type: ignore[arg-type]  # the column functions make no call
        account=Account(account, partition, credentials=None),
        region=region,
        settings=settings,
    )


def test_image_identity_keeps_slashes_of_the_repository_name() -> None:
    repository = {"registryId": MEMBER, "repositoryName": "team/app/web"}
    image = {"registryId": MEMBER, "repositoryName": "team/app/web", "imageDigest": DIGEST}
    assert image_arn(job(), repository, image) == IMAGE
    china = image_arn(job("aws-cn", "cn-north-1"), repository, image)
    assert china == f"arn:aws-cn:ecr:cn-north-1:{MEMBER}:repository/team/app/web/{DIGEST}"


NETWORK = [
    (
        network._vpc,
        {"VpcId": "vpc-1", "OwnerId": MGMT},
        f"arn:aws-cn:ec2:cn-north-1:{MGMT}:vpc/vpc-1",
    ),
    (
        network._subnet,
        {"SubnetId": "subnet-1", "OwnerId": MEMBER},
        f"arn:aws-cn:ec2:cn-north-1:{MEMBER}:subnet/subnet-1",
    ),
    (
        network._subnet,
        {"SubnetId": "subnet-2", "SubnetArn": f"arn:aws-cn:ec2:cn-north-1:{MGMT}:subnet/subnet-2"},
        f"arn:aws-cn:ec2:cn-north-1:{MGMT}:subnet/subnet-2",
    ),
    (
        network._internet_gateway,
        {"InternetGatewayId": "igw-1", "OwnerId": MEMBER},
        f"arn:aws-cn:ec2:cn-north-1:{MEMBER}:internet-gateway/igw-1",
    ),
    (
        network._nat_gateway,
        {"NatGatewayId": "nat-1"},
        f"arn:aws-cn:ec2:cn-north-1:{MEMBER}:natgateway/nat-1",
    ),
    (
        network._network_interface,
        {"NetworkInterfaceId": "eni-1", "OwnerId": MEMBER},
        f"arn:aws-cn:ec2:cn-north-1:{MEMBER}:network-interface/eni-1",
    ),
    (
        network._address,
        {"AllocationId": "eipalloc-1", "PublicIp": "52.0.0.1"},
        f"arn:aws-cn:ec2:cn-north-1:{MEMBER}:elastic-ip/eipalloc-1",
    ),
    (
        network._load_balancer,
        {"LoadBalancerArn": "arn:aws-cn:elasticloadbalancing:cn-north-1:1:loadbalancer/app/a/1"},
        "arn:aws-cn:elasticloadbalancing:cn-north-1:1:loadbalancer/app/a/1",
    ),
    (
        network._classic_load_balancer,
        {"LoadBalancerName": "web"},
        f"arn:aws-cn:elasticloadbalancing:cn-north-1:{MEMBER}:loadbalancer/web",
    ),
]


@pytest.mark.parametrize(("columns_of", "item", "arn"), NETWORK)
def test_network_arns(columns_of: Any, item: dict[str, Any], arn: str) -> None:
    """AWS's ARN format of each data type (Service Authorization Reference, EC2 and ELB)."""
    assert columns_of(job("aws-cn", "cn-north-1"), item)["arn"] == arn


def test_network_address_without_allocation_has_no_arn() -> None:
    assert network._address(job(), {"PublicIp": "52.0.0.2"})["arn"] is None


# ---- schemas ---------------------------------------------------------------------------------

EXACT_TYPES = {
    "severity_label": ["string", "null"],
    "severity_score": ["number", "null"],
    "vulnerability_ids": ["array", "null"],
    "resource_ids": ["array", "null"],
    "finding_status": ["string", "null"],
}


@pytest.mark.parametrize("stream", ["securityhub_findings", "inspector_findings", "ecr_findings"])
def test_finding_schemas_declare_the_columns(stream: str) -> None:
    properties = load_schema(stream)["properties"]
    for column, types in EXACT_TYPES.items():
        assert properties[column]["type"] == types, column
    for column in ("vulnerability_ids", "resource_ids"):
        assert properties[column]["items"] == {"type": "string"}


def test_ecr_schemas_and_records_agree() -> None:
    findings = load_schema("ecr_findings")
    packages = findings["properties"]["vulnerable_packages"]
    assert packages["type"] == ["array", "null"]
    assert {"name", "version", "packageManager", "fixedInVersion"} <= set(
        packages["items"]["properties"]
    )
    validator = jsonschema.Draft7Validator(findings)
    base = {
        "account_id": MEMBER,
        "region": "eu-west-1",
        "repository_name": "team/app/web",
        "image_digest": DIGEST,
    }
    for record in (
        enhanced_columns(ECR_ENHANCED["CRITICAL, Inspector's score, two packages"][0], IMAGE),
        basic_columns(ECR_BASIC["CVSS3 preferred over CVSS2"][0], IMAGE),
    ):
        validator.validate(shape_record({}, **base, **record))
    images = load_schema("ecr_images")["properties"]
    assert images["arn"] == {"type": ["string", "null"]}
