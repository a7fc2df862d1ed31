"""Amazon Inspector: findings, incremental per (account, region), and scan coverage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tap_aws_uvm import finding_columns
from tap_aws_uvm.client import AwsStream, IncrementalFindingsStream, Job

# Not activated in the account/region: "Invoking account does not have access to ...".
# An IAM denial says "... is not authorized to perform" and stays a denial.
NOT_ACTIVATED = frozenset({"AccessDeniedException:Invoking account does not have access"})


class InspectorFindingsStream(IncrementalFindingsStream):
    """Findings in every status (ACTIVE, SUPPRESSED, CLOSED); unsorted, as the API allows.

    https://docs.aws.amazon.com/inspector/v2/APIReference/API_ListFindings.html
    """

    name = "inspector_findings"
    primary_keys = ("finding_arn",)
    iam_actions = ("inspector2:ListFindings",)
    not_enabled_errors = NOT_ACTIVATED

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        window: dict[str, Any] = {"endInclusive": job.params["until"]}
        if job.params["since"] is not None:
            window["startInclusive"] = job.params["since"]
        inspector = job.client("inspector2")
        for finding in job.paginate(
            inspector,
            "list_findings",
            "findings",
            page_size=100,
            filterCriteria={"updatedAt": [window]},
        ):
            yield job.record(
                finding,
                **finding_columns.inspector(
                    finding, partition=job.partition, region=job.region, account_id=job.account_id
                ),
            )


class InspectorCoverageStream(AwsStream):
    """What Inspector scans, how, and why not: one entry per resource and scan type.

    https://docs.aws.amazon.com/inspector/v2/APIReference/API_ListCoverage.html

    ``account_id`` is the account read (a delegated administrator lists its members' resources
    too); the resource's own account is ``aws_account_id``. ``status_code`` and ``reason`` are
    ``scanStatus`` lifted: an INACTIVE entry's reason says why the resource is not scanned.
    """

    name = "inspector_coverage"
    primary_keys = ("account_id", "region", "resource_id", "scan_type")
    iam_actions = ("inspector2:ListCoverage",)
    not_enabled_errors = NOT_ACTIVATED  # ListCoverage shares Inspector's activation

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        inspector = job.client("inspector2")
        for entry in job.paginate(inspector, "list_coverage", "coveredResources", page_size=200):
            status = entry.get("scanStatus") or {}
            yield job.record(
                entry,
                aws_account_id=entry.get("accountId"),
                status_code=status.get("statusCode"),
                reason=status.get("reason"),
            )
