"""EKS clusters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tap_aws_uvm.client import AwsStream, Job


class EksClustersStream(AwsStream):
    """Every cluster, described one by one.

    https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
    """

    name = "eks_clusters"
    primary_keys = ("arn",)
    iam_actions = ("eks:ListClusters", "eks:DescribeCluster")
    # Deleted between ListClusters and DescribeCluster: gone, not a failure.
    expected_errors = frozenset({"ResourceNotFoundException"})

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        eks = job.client("eks")

        def describe(name: str) -> dict[str, Any] | None:
            return job.call(eks, "describe_cluster", name=name)

        names = job.paginate(eks, "list_clusters", "clusters", page_size=100)
        for answer in job.map(describe, names):
            if answer is not None:
                yield job.record(answer["cluster"])
