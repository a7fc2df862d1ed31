"""EC2 instances."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tap_aws_uvm.client import AwsStream, Job


class Ec2InstancesStream(AwsStream):
    """Every instance, with its reservation's ids.

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
    """

    name = "ec2_instances"
    primary_keys = ("arn",)
    iam_actions = ("ec2:DescribeInstances",)

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        ec2 = job.client("ec2")
        for reservation in job.paginate(ec2, "describe_instances", "Reservations", page_size=1000):
            for instance in reservation.get("Instances") or ():
                yield job.record(
                    instance,
                    arn=job.arn("ec2", f"instance/{instance['InstanceId']}"),
                    reservation_id=reservation.get("ReservationId"),
                    owner_id=reservation.get("OwnerId"),
                    requester_id=reservation.get("RequesterId"),
                )
