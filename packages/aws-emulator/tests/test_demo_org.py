"""The demo organization linked like a real one, and the newer AWS APIs it uses, through boto3:
GetFindingsV2 (OCSF), Inspector ListCoverage and throttling, ECR's archive storage class."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aws_emulator import Emulator
from aws_emulator.demo_org import DemoExpectations, seed_demo_expectations
from aws_emulator.findings import set_enabled, set_ocsf_admin
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    with Emulator.start() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def demo(aws: Emulator) -> DemoExpectations:
    return seed_demo_expectations(aws.endpoint_url)


def client(demo: DemoExpectations, account: str, service: str, region: str) -> Any:
    session = demo.organization.session(account)
    return session.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=demo.organization.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def walk(call: Any, items: str, token_in: str, token_out: str, **params: Any) -> list[Any]:
    out: list[Any] = []
    while True:
        page = call(**params)
        out.extend(page[items])
        if not page.get(token_out):
            return out
        params[token_in] = page[token_out]


def partitions(demo: DemoExpectations) -> list[tuple[str, str]]:
    return [(p.account_id, p.region) for p in demo.organization.partitions()]


def test_counts_and_day_one_answers(demo: DemoExpectations) -> None:
    assert demo.records == {
        "accounts": 4,
        "ec2_instances": 30,
        "s3_buckets": 9,
        "ecr_images": 36,
        "ecr_findings": 108,
        "eks_clusters": 12,
        "rds_instances": 12,
        "network": 135,
        "inspector_findings": 90,
        "securityhub_findings": 153,
        "securityhub_ocsf_findings": 153,
        "inspector_coverage": 96,
    }
    assert len(demo.public_instances) == 18
    assert len(demo.images_with_critical_cves) == 18
    assert len(demo.uncovered_instances) == 6
    assert len(demo.suspended_accounts) == 1
    assert list(demo.critical_high_by_account.values()) == [44, 44, 44]
    assert list(demo.critical_high_active_by_account.values()) == [40, 40, 40]
    inspector = [f for f in demo.findings if f.stream == "inspector_findings"]
    assert Counter(f.severity_label for f in inspector) == {
        "HIGH": 24,
        "MEDIUM": 24,
        "CRITICAL": 18,
        "LOW": 12,
        "UNTRIAGED": 12,
    }
    assert Counter(f.finding_status for f in inspector) == {
        "ACTIVE": 66,
        "SUPPRESSED": 12,
        "CLOSED": 12,
    }
    assert all(f.has_asset for f in inspector)
    outside = [f for f in demo.findings if not f.has_asset]
    assert {f.stream for f in outside} == {"securityhub_findings", "securityhub_ocsf_findings"}
    assert len(outside) == 24


def test_inspector_findings_name_seeded_instances_and_images(demo: DemoExpectations) -> None:
    for account, region in partitions(demo):
        ec2 = client(demo, account, "ec2", region)
        instances = {
            i["InstanceId"]: i
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
        }
        images = {
            (i["repositoryName"], i["imageDigest"])
            for repo in demo.organization.resources(account, region).ecr_repositories
            for i in client(demo, account, "ecr", region).describe_images(
                repositoryName=repo.name, filter={"tagStatus": "ANY", "imageStatus": "ANY"}
            )["imageDetails"]
        }
        inspector = client(demo, account, "inspector2", region)
        findings = walk(inspector.list_findings, "findings", "nextToken", "nextToken")
        assert len(findings) == 15
        for f in findings:
            (resource,) = f["resources"]
            if resource["type"] == "AWS_EC2_INSTANCE":
                assert resource["id"] in instances
                if f["type"] == "NETWORK_REACHABILITY":
                    assert instances[resource["id"]].get("PublicIpAddress")
            else:
                image = resource["details"]["awsEcrContainerImage"]
                assert (image["repositoryName"], image["imageHash"]) in images
                assert resource["id"] == (
                    f"arn:aws:ecr:{region}:{account}:repository/"
                    f"{image['repositoryName']}/{image['imageHash']}"
                )
        assert {f["type"] for f in findings} == {"PACKAGE_VULNERABILITY", "NETWORK_REACHABILITY"}
        ids = {
            f["packageVulnerabilityDetails"]["vulnerabilityId"][:4]
            for f in findings
            if "packageVulnerabilityDetails" in f
        }
        assert ids == {"CVE-", "GHSA"}


def test_public_instances_show_their_ip_on_instance_and_eni(demo: DemoExpectations) -> None:
    account, region = partitions(demo)[0]
    ec2 = client(demo, account, "ec2", region)
    public = {
        i["InstanceId"]: i["PublicIpAddress"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i.get("PublicIpAddress")
    }
    expected = {
        arn.rsplit("/", 1)[-1]: ip
        for arn, ip in demo.public_ips.items()
        if f":{region}:{account}:" in arn
    }
    assert public == expected
    assert len(public) == 3
    enis = ec2.describe_network_interfaces()["NetworkInterfaces"]
    on_eni = {
        e["Attachment"]["InstanceId"]: e["Association"]["PublicIp"]
        for e in enis
        if e.get("Association") and e.get("Attachment", {}).get("InstanceId")
    }
    assert on_eni == public


def test_ecr_enhanced_findings_are_the_images_inspector_findings(demo: DemoExpectations) -> None:
    account, region = partitions(demo)[1]
    res = demo.organization.resources(account, region)
    (image,) = [i for i in res.ecr_images if i.inspector_findings]
    ecr = client(demo, account, "ecr", region)
    scan = ecr.describe_image_scan_findings(
        repositoryName=image.repository_name, imageId={"imageDigest": image.image_digest}
    )
    enhanced = scan["imageScanFindings"]["enhancedFindings"]
    inspector = {
        f["findingArn"]: f
        for f in walk(
            client(demo, account, "inspector2", region).list_findings,
            "findings",
            "nextToken",
            "nextToken",
        )
    }
    assert len(enhanced) == 4
    for finding in enhanced:
        twin = inspector[finding["findingArn"]]
        assert twin["status"] == finding["status"] == "ACTIVE"
        assert twin["severity"] == finding["severity"]
        assert finding["score"] == twin["inspectorScore"]
        assert [
            p["name"] for p in finding["packageVulnerabilityDetails"]["vulnerablePackages"]
        ] == [p["name"] for p in twin["packageVulnerabilityDetails"]["vulnerablePackages"]]
    assert max(len(f["packageVulnerabilityDetails"]["vulnerablePackages"]) for f in enhanced) == 2
    mine = {x["findingArn"] for x in image.inspector_findings}
    others = {f["status"] for arn, f in inspector.items() if arn in mine}
    assert others == {"ACTIVE", "SUPPRESSED", "CLOSED"}


def test_security_hub_shows_inspector_findings_and_account_controls(
    demo: DemoExpectations,
) -> None:
    account, region = partitions(demo)[0]
    findings = walk(
        client(demo, account, "securityhub", region).get_findings,
        "Findings",
        "NextToken",
        "NextToken",
        SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}],
        MaxResults=100,
    )
    by_id = {f["Id"]: f for f in findings}
    inspector = walk(
        client(demo, account, "inspector2", region).list_findings,
        "findings",
        "nextToken",
        "nextToken",
    )
    for f in inspector:
        imported = by_id[f["findingArn"]]
        assert imported["ProductArn"] == f"arn:aws:securityhub:{region}::product/aws/inspector"
        assert imported["ProductName"] == "Inspector"
        resource = f["resources"][0]
        want = (
            f"arn:aws:ec2:{region}:{account}:instance/{resource['id']}"
            if resource["type"] == "AWS_EC2_INSTANCE"
            else resource["id"]
        )
        assert imported["Resources"][0]["Id"] == want
        state = (imported["Workflow"]["Status"], imported["RecordState"])
        assert (
            state
            == {
                "ACTIVE": ("NEW", "ACTIVE"),
                "SUPPRESSED": ("SUPPRESSED", "ACTIVE"),
                "CLOSED": ("RESOLVED", "ARCHIVED"),
            }[f["status"]]
        )
        if "inspectorScore" in f:
            assert imported["Vulnerabilities"][0]["Cvss"][0]["BaseScore"] == f["inspectorScore"]
    account_level = [f for f in findings if f["Resources"][0]["Id"] == f"AWS::::Account:{account}"]
    assert [f["Compliance"]["SecurityControlId"] for f in account_level] == ["Account.1", "IAM.6"]
    assert {f["Resources"][0]["Type"] for f in account_level} == {"AwsAccount"}


def test_get_findings_v2(aws: Emulator, demo: DemoExpectations) -> None:
    account, region = partitions(demo)[2]
    sh = client(demo, account, "securityhub", region)
    expected = [
        f for f in demo.findings
        if f.stream == "securityhub_ocsf_findings" and (f.account_id, f.region) == (account, region)
    ]  # fmt: skip
    date_filter = {
        "CompositeFilters": [
            {
                "DateFilters": [
                    {
                        "FieldName": "finding_info.modified_time_dt",
                        "Filter": {"End": "2030-01-01T00:00:00Z"},
                    }
                ]
            }
        ]
    }
    got = walk(
        sh.get_findings_v2,
        "Findings",
        "NextToken",
        "NextToken",
        Filters=date_filter,
        SortCriteria=[{"Field": "finding_info.modified_time_dt", "SortOrder": "asc"}],
        MaxResults=7,
    )
    assert sorted(f["finding_info"]["uid"] for f in got) == sorted(f.finding_id for f in expected)
    times = [f["finding_info"]["modified_time_dt"] for f in got]
    assert times == sorted(times)
    classes = Counter(f["class_uid"] for f in got)
    assert classes == {2002: 15, 2003: 11}  # 2 account, 5 EC2.8, 2 S3.1, 2 outside
    vuln = next(f for f in got if f.get("vulnerabilities", [{}])[0].get("advisory"))
    assert vuln["vulnerabilities"][0]["advisory"]["uid"].startswith("GHSA-")
    assert vuln["vulnerabilities"][0]["cve"]["cvss"][0]["base_score"] == 10.0

    def code(**params: Any) -> tuple[int, str]:
        with pytest.raises(ClientError) as info:
            sh.get_findings_v2(**params)
        err = info.value.response
        return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]

    scopes = {"AwsOrganizations": [{"OrganizationId": demo.organization.organization_id}]}
    assert code(Scopes=scopes) == (403, "AccessDeniedException")
    set_ocsf_admin(aws.endpoint_url, account)
    assert code(Scopes=scopes) == (400, "ValidationException")
    set_ocsf_admin(aws.endpoint_url, account, admin=False)
    assert code(MaxResults=101) == (400, "ValidationException")
    assert code(SortCriteria=[{"Field": "severity_id", "SortOrder": "desc"}]) == (
        400,
        "ValidationException",
    )
    set_enabled(aws.endpoint_url, "securityhub_ocsf", account, region, False)
    try:
        assert code() == (403, "AccessDeniedException")
    finally:
        set_enabled(aws.endpoint_url, "securityhub_ocsf", account, region, True)


def test_list_coverage(aws: Emulator, demo: DemoExpectations) -> None:
    account, region = partitions(demo)[0]
    inspector = client(demo, account, "inspector2", region)
    covered = walk(
        inspector.list_coverage, "coveredResources", "nextToken", "nextToken", maxResults=7
    )
    assert len(covered) == 16
    res = demo.organization.resources(account, region)
    here = {i.instance_id for i in res.instances} | {r.arn for r in res.ecr_repositories}
    here |= {i.arn for i in res.ecr_images}
    assert {
        (account, c["resourceId"], c["scanType"]): (
            c["scanStatus"]["statusCode"],
            c["scanStatus"]["reason"],
        )
        for c in covered
    } == {k: v for k, v in demo.coverage.items() if k[0] == account and k[1] in here}
    reasons = Counter((c["resourceType"], c["scanStatus"]["reason"]) for c in covered)
    assert reasons == {
        ("AWS_EC2_INSTANCE", "SUCCESSFUL"): 6,
        ("AWS_EC2_INSTANCE", "UNMANAGED_EC2_INSTANCE"): 1,
        ("AWS_ECR_REPOSITORY", "SUCCESSFUL"): 1,
        ("AWS_ECR_REPOSITORY", "SCAN_FREQUENCY_MANUAL"): 2,
        ("AWS_ECR_CONTAINER_IMAGE", "SUCCESSFUL"): 1,
        ("AWS_ECR_CONTAINER_IMAGE", "SCAN_ELIGIBILITY_EXPIRED"): 5,
    }
    ids = {c["resourceId"] for c in covered}
    uncovered = [a for a in demo.uncovered_instances if f":{region}:{account}:" in a]
    assert len(uncovered) == 1
    assert uncovered[0].rsplit("/", 1)[-1] not in ids
    with pytest.raises(ClientError) as info:
        inspector.list_coverage(maxResults=201)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    set_enabled(aws.endpoint_url, "inspector2", account, region, False)
    try:
        with pytest.raises(ClientError) as info:
            inspector.list_coverage()
        assert info.value.response["Error"]["Code"] == "AccessDeniedException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        set_enabled(aws.endpoint_url, "inspector2", account, region, True)


def test_inspector_throttling_is_429_with_retry_after(
    aws: Emulator, demo: DemoExpectations
) -> None:
    account, region = partitions(demo)[0]
    inspector = client(demo, account, "inspector2", region)
    aws.configure(throttle_rate=1.0, throttle_services=["inspector2"])
    try:
        for call in (inspector.list_findings, inspector.list_coverage):
            with pytest.raises(ClientError) as info:
                call()
            err = info.value.response
            assert err["Error"]["Code"] == "ThrottlingException"
            assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert err["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
            assert err["retryAfterSeconds"] == 1
    finally:
        aws.configure()


def test_ecr_archive_storage_class(demo: DemoExpectations) -> None:
    account, region = partitions(demo)[0]
    res = demo.organization.resources(account, region)
    repo = res.ecr_repositories[0]
    ecr = client(demo, account, "ecr", region)
    statuses = {i.image_digest: i.image_status for i in repo.images}
    assert sorted(statuses.values()) == ["ACTIVATING", "ACTIVE", "ARCHIVED"]

    def listed(**filt: str) -> dict[str, str]:
        details = ecr.describe_images(repositoryName=repo.name, filter={"tagStatus": "ANY", **filt})
        return {d["imageDigest"]: d["imageStatus"] for d in details["imageDetails"]}

    assert listed() == {d: s for d, s in statuses.items() if s == "ACTIVE"}
    assert listed(imageStatus="ANY") == statuses
    assert listed(imageStatus="ARCHIVED") == {d: s for d, s in statuses.items() if s == "ARCHIVED"}
    archived = next(d for d, s in statuses.items() if s == "ARCHIVED")
    detail = ecr.describe_images(repositoryName=repo.name, imageIds=[{"imageDigest": archived}])
    assert detail["imageDetails"][0]["lastArchivedAt"].year == 2024
    scan = ecr.describe_image_scan_findings(
        repositoryName=repo.name, imageId={"imageDigest": archived}
    )
    assert scan["imageScanStatus"]["status"] == "IMAGE_ARCHIVED"
    assert "findings" not in scan["imageScanFindings"]
    active = next(d for d, s in statuses.items() if s == "ACTIVE")
    answer = ecr.update_image_storage_class(
        repositoryName=repo.name, imageId={"imageDigest": active}, targetStorageClass="ARCHIVE"
    )
    assert answer["imageStatus"] == "ARCHIVED"
    assert active not in listed()
    answer = ecr.update_image_storage_class(
        repositoryName=repo.name, imageId={"imageDigest": active}, targetStorageClass="STANDARD"
    )
    assert answer["imageStatus"] == "ACTIVATING"
    assert listed(imageStatus="ACTIVATING")[active] == "ACTIVATING"
    with pytest.raises(ClientError) as info:
        ecr.update_image_storage_class(
            repositoryName=repo.name,
            imageId={"imageDigest": "sha256:" + "0" * 64},
            targetStorageClass="ARCHIVE",
        )
    assert info.value.response["Error"]["Code"] == "ImageNotFoundException"
