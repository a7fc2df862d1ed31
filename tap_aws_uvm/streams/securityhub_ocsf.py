"""Security Hub's OCSF findings (the new generation, ``GetFindingsV2``), incremental per
(account, region)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from tap_aws_uvm import finding_columns
from tap_aws_uvm.client import IncrementalFindingsStream, Job
from tap_aws_uvm.records import utc_timestamp

# The field GetFindingsV2 filters and sorts on (botocore's OcsfDateFilter FieldName enum).
MODIFIED_TIME_FIELD = "finding_info.modified_time_dt"


class SecurityHubOcsfFindingsStream(IncrementalFindingsStream):
    """OCSF findings in every status, oldest ``finding_info.modified_time_dt`` first.

    https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindingsV2.html

    ``finding_info.uid`` is "a unique identifier for the finding from the finding provider",
    and the product's ``metadata.product.uid`` is part of every finding identifier the API
    takes (``OcsfFindingIdentifier``), so the key is both. ``Scopes`` is never sent: only the
    delegated administrator may use it (others get AccessDeniedException), and a partition
    reads what its own account sees.
    """

    name = "securityhub_ocsf_findings"
    primary_keys = ("finding_uid", "product_uid")
    replication_key = "modified_time"
    iam_actions = ("securityhub:GetFindings",)  # GetFindings and GetFindingsV2 share it
    # GetFindingsV2 declares no InvalidAccessException: an account where Security Hub is not
    # enabled is told so with a 403 AccessDeniedException, an IAM denial names the action.
    not_enabled_errors = frozenset(
        {"InvalidAccessException", "AccessDeniedException:is not subscribed to AWS Security Hub"}
    )

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        window: dict[str, str] = {"End": utc_timestamp(job.params["until"])}
        if job.params["since"] is not None:
            window["Start"] = utc_timestamp(job.params["since"])
        securityhub = job.client("securityhub")
        account_arn = finding_columns.AccountArns(job.organization_accounts)
        for finding in job.paginate(
            securityhub,
            "get_findings_v2",
            "Findings",
            page_size=100,
            Filters={
                "CompositeFilters": [
                    {"DateFilters": [{"FieldName": MODIFIED_TIME_FIELD, "Filter": window}]}
                ]
            },
            SortCriteria=[{"Field": MODIFIED_TIME_FIELD, "SortOrder": "asc"}],
        ):
            info = _object(finding.get("finding_info"))
            product = _object(_object(finding.get("metadata")).get("product"))
            yield job.record(
                {},
                finding_uid=info.get("uid"),
                product_uid=product.get("uid"),
                title=info.get("title"),
                created_time=ocsf_time(job, info, "created_time"),
                modified_time=ocsf_time(job, info, "modified_time"),
                aws_account_id=finding_columns.ocsf_account_id(finding),
                finding_region=_object(finding.get("cloud")).get("region"),
                **finding_columns.ocsf(
                    finding, account_arn, partition=job.partition, region=job.region
                ),
                finding=finding,
            )


def ocsf_time(job: Job, info: Mapping[str, Any], name: str) -> str | None:
    """``<name>_dt`` (ISO 8601) in the tap's UTC form, else ``<name>`` (epoch milliseconds);
    a value that is no date-time is null, counted (``Job.timestamp``)."""
    text = info.get(f"{name}_dt")
    if isinstance(text, str) and text:
        return job.timestamp(text, name)
    millis = info.get(name)
    if isinstance(millis, int | float) and not isinstance(millis, bool):
        return utc_timestamp(dt.datetime.fromtimestamp(millis / 1000, dt.UTC))
    return None


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
