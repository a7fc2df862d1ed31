"""RDS DB instances (Aurora cluster members included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tap_aws_uvm.client import AwsStream, Job


class RdsInstancesStream(AwsStream):
    """Every DB instance, with its tags.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html
    """

    name = "rds_instances"
    primary_keys = ("arn",)
    iam_actions = ("rds:DescribeDBInstances",)

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        rds = job.client("rds")
        for instance in job.paginate(rds, "describe_db_instances", "DBInstances", page_size=100):
            yield job.record(instance, arn=instance["DBInstanceArn"])
