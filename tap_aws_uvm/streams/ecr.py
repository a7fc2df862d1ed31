"""ECR images and their scan findings (basic and enhanced scanning)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tap_aws_uvm import finding_columns
from tap_aws_uvm.client import AwsStream, Job

Image = tuple[dict[str, Any], dict[str, Any]]  # (repository, image detail)
ECR_LISTING = "ecr_images"  # the shared result both streams read (Job.shared)
# Archive storage class: an ARCHIVED image cannot be scanned until it is restored (ACTIVATING,
# then ACTIVE), and DescribeImageScanFindings answers IMAGE_ARCHIVED with no findings.
UNSCANNABLE_STATUSES = frozenset({"ARCHIVED", "ACTIVATING"})


def repository_images(job: Job) -> list[Image]:
    """Every image of every repository of the partition: tagged and untagged, in every status
    (ACTIVE, ARCHIVED, ACTIVATING). Listed once per partition for both ECR streams."""
    return job.shared(ECR_LISTING, lambda: list(_list_images(job)))


def image_arn(job: Job, repository: Mapping[str, Any], image: Mapping[str, Any]) -> str:
    """The image's identity: ``arn:<partition>:ecr:<region>:<registry>:repository/<name>/
    <digest>``, the form Inspector and Security Hub name an image by (a repository name may
    contain ``/``; the digest is the last segment)."""
    registry = image.get("registryId") or repository.get("registryId") or job.account_id
    name = image.get("repositoryName") or repository["repositoryName"]
    return job.arn("ecr", f"repository/{name}/{image['imageDigest']}", account_id=registry)


def _list_images(job: Job) -> Iterator[Image]:
    ecr = job.client("ecr")
    for repository in job.paginate(ecr, "describe_repositories", "repositories", page_size=1000):
        for image in job.paginate(
            ecr,
            "describe_images",
            "imageDetails",
            page_size=1000,
            registryId=repository["registryId"],
            repositoryName=repository["repositoryName"],
            # without imageStatus, DescribeImages answers ACTIVE images only (archive storage
            # class, November 2025)
            filter={"tagStatus": "ANY", "imageStatus": "ANY"},
        ):
            yield repository, image


class EcrImagesStream(AwsStream):
    """Every image of every repository, with its repository.

    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
    """

    name = "ecr_images"
    primary_keys = ("account_id", "region", "repository_name", "image_digest")
    iam_actions = ("ecr:DescribeRepositories", "ecr:DescribeImages")
    shares = (ECR_LISTING,)
    # Deleted between DescribeRepositories and DescribeImages: gone, not a failure.
    expected_errors = frozenset({"RepositoryNotFoundException"})

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        for repository, image in repository_images(job):
            yield job.record(
                image,
                arn=image_arn(job, repository, image),
                repository=repository,
                repository_uri=repository.get("repositoryUri"),
            )


class EcrFindingsStream(AwsStream):
    """One record per finding of each image's latest scan (basic or enhanced).

    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html

    Images that are ARCHIVED or ACTIVATING are not asked: archived images cannot be scanned
    (ECR User Guide, "Archiving an image") and AWS answers them with the scan status
    IMAGE_ARCHIVED and no findings, so the call would cost one request per archived image
    (lifecycle rules archive thousands) for nothing. They stay in ``ecr_images`` with their
    ``image_status``.
    """

    name = "ecr_findings"
    primary_keys = ("account_id", "region", "repository_name", "image_digest", "finding_id")
    # Enhanced-scanning findings are read by ECR from Inspector on the caller's behalf
    # (ECR User Guide, "IAM permissions required for enhanced scanning").
    iam_actions = (
        "ecr:DescribeRepositories",
        "ecr:DescribeImages",
        "ecr:DescribeImageScanFindings",
        "inspector2:ListFindings",
    )
    shares = (ECR_LISTING,)
    # A never-scanned image: no findings; a repository or image deleted since it was listed.
    expected_errors = frozenset(
        {"ScanNotFoundException", "RepositoryNotFoundException", "ImageNotFoundException"}
    )

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        ecr = job.client("ecr")

        def findings_of(item: Image) -> list[dict[str, Any]]:
            repository, image = item
            arn = image_arn(job, repository, image)
            records = []
            for page in job.pages(
                ecr,
                "describe_image_scan_findings",
                page_size=1000,
                registryId=repository["registryId"],
                repositoryName=repository["repositoryName"],
                imageId={"imageDigest": image["imageDigest"]},
            ):
                scan = page.get("imageScanFindings") or {}
                image_columns = {
                    "repository_name": repository["repositoryName"],
                    "image_digest": image["imageDigest"],
                    "image_tags": list(image.get("imageTags") or ()),
                    "image_scan_status": page.get("imageScanStatus"),
                    "image_scan_completed_at": scan.get("imageScanCompletedAt"),
                    "vulnerability_source_updated_at": scan.get("vulnerabilitySourceUpdatedAt"),
                }
                for finding in scan.get("findings") or ():
                    columns = basic_columns(finding, arn)
                    records.append(job.record({}, **image_columns, **columns))
                for finding in scan.get("enhancedFindings") or ():
                    columns = enhanced_columns(finding, arn)
                    records.append(job.record({}, **image_columns, **columns))
            return records

        scannable = [
            (repository, image)
            for repository, image in repository_images(job)
            if image.get("imageStatus") not in UNSCANNABLE_STATUSES
        ]
        for records in job.map(findings_of, scannable):
            yield from records


def basic_columns(finding: Mapping[str, Any], image: str) -> dict[str, Any]:
    """The columns of a basic-scanning finding on ``image`` (its ARN); its one package is in
    ``attributes``."""
    attributes = {a.get("key"): a.get("value") for a in finding.get("attributes") or ()}
    name = finding.get("name")
    package_name = attributes.get("package_name")
    package_version = attributes.get("package_version")
    score = attributes.get("CVSS3_SCORE") or attributes.get("CVSS2_SCORE")
    return {
        "finding_id": f"{name}|{package_name or ''}|{package_version or ''}",
        "finding_type": "basic",
        "severity": finding.get("severity"),
        "name": name,
        "description": finding.get("description"),
        "uri": finding.get("uri"),
        "vulnerability_id": name,
        "package_name": package_name,
        "package_version": package_version,
        "cvss_score": float(score) if score else None,
        "vulnerable_packages": (
            [_package(name=package_name, version=package_version)] if package_name else []
        ),
        **finding_columns.ecr_basic(finding, image),
        "basic_finding": finding,
    }


def enhanced_columns(finding: Mapping[str, Any], image: str) -> dict[str, Any]:
    """The columns of an enhanced-scanning (Amazon Inspector) finding on ``image`` (its ARN).

    ``vulnerable_packages`` lists every package; ``package_*`` stay the first one's, as before.
    """
    details = finding.get("packageVulnerabilityDetails") or {}
    packages = list(details.get("vulnerablePackages") or ())
    package = packages[0] if packages else {}
    cvss = (details.get("cvss") or [{}])[0]
    score = finding.get("score")
    if score is None:
        score = cvss.get("baseScore")
    return {
        "finding_id": finding.get("findingArn"),
        "finding_type": "enhanced",
        "severity": finding.get("severity"),
        "name": details.get("vulnerabilityId"),
        "description": finding.get("description"),
        "uri": details.get("sourceUrl"),
        "vulnerability_id": details.get("vulnerabilityId"),
        "package_name": package.get("name"),
        "package_version": package.get("version"),
        "package_manager": package.get("packageManager"),
        "cvss_score": score,
        "status": finding.get("status"),
        "type": finding.get("type"),
        "title": finding.get("title"),
        "first_observed_at": finding.get("firstObservedAt"),
        "last_observed_at": finding.get("lastObservedAt"),
        "updated_at": finding.get("updatedAt"),
        "vulnerable_packages": packages,
        **finding_columns.ecr_enhanced(finding, image),
        "enhanced_finding": finding,
    }


def _package(**fields: Any) -> dict[str, Any]:
    """A ``VulnerablePackage`` (ECR's names) with the fields that are known."""
    return {name: value for name, value in fields.items() if value is not None}
