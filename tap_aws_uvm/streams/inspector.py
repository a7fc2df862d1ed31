"""Amazon Inspector findings, incremental per (account, region)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tap_aws_uvm import finding_columns
from tap_aws_uvm.client import IncrementalFindingsStream, Job


class InspectorFindingsStream(IncrementalFindingsStream):
    """Findings in every status (ACTIVE, SUPPRESSED, CLOSED); unsorted, as the API allows.

    https://docs.aws.amazon.com/inspector/v2/APIReference/API_ListFindings.html
    """

    name = "inspector_findings"
    primary_keys = ("finding_arn",)
    iam_actions = ("inspector2:ListFindings",)
    # Not activated in the account/region: "Invoking account does not have access to ...".
    # An IAM denial says "... is not authorized to perform" and stays a denial.
    not_enabled_errors = frozenset({"AccessDeniedException:Invoking account does not have access"})

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
