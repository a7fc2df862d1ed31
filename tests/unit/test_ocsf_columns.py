"""Security Hub's OCSF findings: the five warehouse columns for every OCSF severity_id and
status_id, the lifted columns and the record the stream builds, in process."""

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
from tap_aws_uvm.streams.securityhub_ocsf import ocsf_time
from tap_aws_uvm.validation import validate_settings

MGMT, MEMBER = "111111111111", "222222222222"
ORG_ACCOUNTS = [
    {"Id": MGMT, "Arn": f"arn:aws:organizations::{MGMT}:account/o-abc123/{MGMT}"},
    {"Id": MEMBER, "Arn": f"arn:aws:organizations::{MGMT}:account/o-abc123/{MEMBER}"},
]
INSTANCE = f"arn:aws:ec2:eu-west-1:{MEMBER}:instance/i-0abc"
IMAGE = f"arn:aws:ecr:eu-west-1:{MEMBER}:repository/team/app/sha256:{'ab' * 32}"


def finding(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "finding_info": {"uid": "f-1", "title": "t"},
        "metadata": {"product": {"uid": "arn:aws:securityhub:eu-west-1::productv2/aws/x"}},
        "cloud": {"account": {"uid": MEMBER}, "region": "eu-west-1"},
    }
    doc.update(fields)
    return doc


def columns(doc: dict[str, Any], *, organization: bool = True) -> dict[str, Any]:
    arns = finding_columns.AccountArns(ORG_ACCOUNTS if organization else None)
    return finding_columns.ocsf(doc, arns, partition="aws", region="us-east-1")


# OCSF 1.x severity_id and status_id, every value of each enum (and what is not one)
SEVERITIES = [
    (0, "UNTRIAGED"),  # Unknown
    (1, "INFORMATIONAL"),
    (2, "LOW"),
    (3, "MEDIUM"),
    (4, "HIGH"),
    (5, "CRITICAL"),
    (6, "CRITICAL"),  # Fatal
    (99, "UNTRIAGED"),  # Other
    (7, "UNTRIAGED"),  # not an OCSF value
    (None, "UNTRIAGED"),  # missing
    ("5", "UNTRIAGED"),  # a string is not an id
    (True, "UNTRIAGED"),  # nor a boolean (True == 1)
]
STATUSES = [
    (0, "ACTIVE"),  # Unknown
    (1, "ACTIVE"),  # New
    (2, "ACTIVE"),  # In Progress
    (3, "SUPPRESSED"),
    (4, "CLOSED"),  # Resolved
    (5, "CLOSED"),  # Archived
    (6, "CLOSED"),  # Deleted
    (99, "ACTIVE"),  # Other
    (None, "ACTIVE"),  # missing
    ("4", "ACTIVE"),
    (True, "ACTIVE"),
]


@pytest.mark.parametrize(("severity_id", "label"), SEVERITIES)
def test_every_severity_id(severity_id: Any, label: str) -> None:
    doc = finding() if severity_id is None else finding(severity_id=severity_id)
    assert columns(doc)["severity_label"] == label
    assert finding_columns.ocsf_severity_label(severity_id) == label


@pytest.mark.parametrize(("status_id", "status"), STATUSES)
def test_every_status_id(status_id: Any, status: str) -> None:
    doc = finding() if status_id is None else finding(status_id=status_id)
    assert columns(doc)["finding_status"] == status
    assert finding_columns.ocsf_status(status_id) == status


def test_vulnerabilities_scores_and_resources() -> None:
    doc = finding(
        severity_id=5,
        status_id=1,
        vulnerabilities=[
            {
                "cve": {
                    "uid": "CVE-2021-44228",
                    "cvss": [{"base_score": 9.0}, {"base_score": 10.0}, {"base_score": 11}],
                },
                "advisory": {"uid": "GHSA-jfh8-c2jp-5v3q"},
            },
            {"cve": {"uid": "CVE-2024-6387", "cvss": [{"base_score": "9.8"}]}},
            {"cve": {"uid": "CVE-2021-44228"}},  # repeated
            {"advisory": {"uid": " ALAS-2024-001 "}},
            "not an object",
        ],
        resources=[
            {"uid": INSTANCE, "type": "AWS::EC2::Instance"},
            {"uid": IMAGE, "type": "AWS::ECR::ContainerImage"},
            {"uid": INSTANCE, "type": "AWS::EC2::Instance"},  # repeated
            {"uid": f"AWS::::Account:{MGMT}", "type": "AWS::::Account"},
            {"uid": "", "type": "Other"},
            {"type": "no uid"},
        ],
    )
    assert columns(doc) == {
        "severity_label": "CRITICAL",
        "severity_score": 10.0,  # 11 is out of range, "9.8" lower
        "vulnerability_ids": [
            "ALAS-2024-001",
            "CVE-2021-44228",
            "CVE-2024-6387",
            "GHSA-jfh8-c2jp-5v3q",
        ],
        "resource_ids": [INSTANCE, IMAGE, ORG_ACCOUNTS[0]["Arn"]],
        "finding_status": "ACTIVE",
    }


def test_no_vulnerability_no_score_no_ids() -> None:
    doc = finding(severity_id=3, compliance={"control": "IAM.6"}, resources=[])
    assert columns(doc) == {
        "severity_label": "MEDIUM",
        "severity_score": None,
        "vulnerability_ids": [],
        "resource_ids": [],
        "finding_status": "ACTIVE",
    }


def test_account_resource_outside_organization_mode_keeps_its_id() -> None:
    doc = finding(resources=[{"uid": f"AWS::::Account:{MEMBER}", "type": "AWS::::Account"}])
    assert columns(doc, organization=False)["resource_ids"] == [f"AWS::::Account:{MEMBER}"]
    outsider = finding(resources=[{"uid": "AWS::::Account:999999999999"}])
    assert columns(outsider)["resource_ids"] == ["AWS::::Account:999999999999"]


def test_an_instance_named_by_its_id_becomes_the_instance_arn() -> None:
    doc = finding(
        resources=[
            {"uid": "i-0abc", "type": "AWS::EC2::Instance", "region": "eu-west-1"},
            {
                "uid": "i-0def",
                "type": "AWS::EC2::Instance",
                "cloud_partition": "aws-cn",
                "owner": {"account": {"uid": MGMT}},
            },
            {"uid": "sg-1", "type": "AWS::EC2::SecurityGroup"},
        ]
    )
    assert columns(doc)["resource_ids"] == [
        INSTANCE,
        f"arn:aws-cn:ec2:us-east-1:{MGMT}:instance/i-0def",  # region: the partition's
        "sg-1",
    ]


def test_malformed_documents_give_defaults() -> None:
    doc = {"vulnerabilities": {"not": "a list"}, "resources": "x", "cloud": []}
    assert columns(doc) == {
        "severity_label": "UNTRIAGED",
        "severity_score": None,
        "vulnerability_ids": [],
        "resource_ids": [],
        "finding_status": "ACTIVE",
    }
    assert finding_columns.ocsf_account_id(doc) is None


def job() -> Job:
    """A partition's Job, for what needs no AWS call (dates)."""
    settings = validate_settings({"regions": ["eu-west-1"]})
    return Job(
        calls=None, account=Account(MGMT, "aws", None), region="eu-west-1", settings=settings
    )  # type: ignore[arg-type]


def test_times_prefer_the_iso_form_and_fall_back_to_epoch_milliseconds() -> None:
    j = job()
    info = {"modified_time_dt": "2024-05-01T12:00:00.123Z", "modified_time": 1}
    assert ocsf_time(j, info, "modified_time") == "2024-05-01T12:00:00.123000Z"
    assert ocsf_time(j, {"modified_time_dt": "2024-05-01T14:00:00+02:00"}, "modified_time") == (
        "2024-05-01T12:00:00.000000Z"
    )
    assert ocsf_time(j, {"created_time": 1714564800123}, "created_time") == (
        "2024-05-01T12:00:00.123000Z"
    )
    assert ocsf_time(j, {}, "created_time") is None
    assert ocsf_time(j, {"created_time": True}, "created_time") is None
    assert j.unparsed == {}
    assert ocsf_time(j, {"modified_time_dt": "2016-12-31T23:59:60Z"}, "modified_time") == (
        "2016-12-31T23:59:59.999999Z"
    )
    assert ocsf_time(j, {"modified_time_dt": "soon"}, "modified_time") is None
    assert j.unparsed == {"modified_time": 1}


def test_a_record_validates_against_the_stream_schema() -> None:
    doc = finding(
        severity_id=4,
        status_id=3,
        finding_info={"uid": "f-1", "title": "t", "modified_time_dt": "2024-05-01T12:00:00Z"},
    )
    record = shape_record(
        {},
        account_id=MGMT,
        region="eu-west-1",
        synced_at="2024-05-02T00:00:00.000000Z",
        finding_uid="f-1",
        product_uid=doc["metadata"]["product"]["uid"],
        title="t",
        created_time=None,
        modified_time=ocsf_time(job(), doc["finding_info"], "modified_time"),
        aws_account_id=finding_columns.ocsf_account_id(doc),
        finding_region="eu-west-1",
        **columns(doc),
        finding=doc,
    )
    schema = load_schema("securityhub_ocsf_findings")
    jsonschema.Draft7Validator(schema).validate(record)
    assert set(record) == set(schema["properties"])
    assert record["aws_account_id"] == MEMBER
    assert (record["severity_label"], record["finding_status"]) == ("HIGH", "SUPPRESSED")


def test_the_document_is_what_botocore_calls_a_document() -> None:
    model = botocore.session.get_session().get_service_model("securityhub")
    output = model.operation_model("GetFindingsV2").output_shape
    assert output.members["Findings"].member.is_document_type
