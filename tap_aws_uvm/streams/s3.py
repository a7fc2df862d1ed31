"""S3 buckets: one paginated ListBuckets pass per account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from tap_aws_uvm.client import ACCOUNT, AwsStream, Job


class S3BucketsStream(AwsStream):
    """Every bucket of the account that lies in one of the account's synced regions.

    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
    """

    name = "s3_buckets"
    primary_keys = ("arn",)
    scope: ClassVar[str] = ACCOUNT
    iam_actions = ("s3:ListAllMyBuckets", "s3:GetBucketLocation")

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        s3 = job.client("s3")
        regions = set(job.account_regions)
        # ListBuckets returns BucketRegion only when a page size is sent.
        for bucket in job.paginate(s3, "list_buckets", "Buckets", page_size=1000):
            region = bucket.get("BucketRegion") or self._bucket_region(job, bucket["Name"])
            if region is not None and region not in regions:
                continue
            yield job.record(
                bucket, region=region, arn=f"arn:{job.partition}:s3:::{bucket['Name']}"
            )

    @staticmethod
    def _bucket_region(job: Job, name: str) -> str | None:
        """The bucket's region; None when GetBucketLocation is denied (the bucket is emitted
        with a null region, counted in one WARNING)."""
        s3 = job.client("s3")
        answer = job.enrich(
            "s3:GetBucketLocation", 1, lambda: job.call(s3, "get_bucket_location", Bucket=name)
        )
        if answer is None:
            return None
        # A null LocationConstraint means us-east-1; "EU" is the legacy name of eu-west-1.
        location = answer.get("LocationConstraint")
        if not location:
            return "us-east-1"
        return "eu-west-1" if location == "EU" else str(location)
