"""What each stream's schema is made of: one entry per stream.

``top`` gives the top-level columns (AWS members renamed with ``records.column_name``);
``extra`` adds columns (a fragment, or a nested AWS shape keeping AWS's names) and wins
over same-named members; ``account_id`` and ``region`` are added to every stream.
``key_properties`` become non-null and required. Regenerate the committed files with
``uv run python scripts/generate_schemas.py`` after changing this table.
"""

from __future__ import annotations

from tap_aws_uvm.schemagen import (
    AwsShape,
    Column,
    SchemaSource,
    array_of,
    date_time,
    integer,
    number,
    string,
    tags_map,
)

# The warehouse columns of every finding stream (tap_aws_uvm.finding_columns).
FINDING_COLUMNS: dict[str, Column] = {
    "severity_label": {
        "type": ["string", "null"],
        "description": "One of: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNTRIAGED.",
    },
    "severity_score": {
        "type": ["number", "null"],
        "description": "The CVSS base score the finding carries (0-10), or null.",
    },
    "vulnerability_ids": {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "description": "Sorted unique CVE / GHSA / vendor ids; [] when none.",
    },
    "resource_ids": {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "description": "Each affected resource as the asset streams write its arn.",
    },
    "finding_status": {
        "type": ["string", "null"],
        "description": "One of: ACTIVE, SUPPRESSED, CLOSED.",
    },
}

ECR_FINDING_COLUMNS: dict[str, Column] = {
    "finding_id": string(),
    "repository_name": string(),
    "image_digest": string(),
    "image_tags": array_of(string()),
    "severity": string(),
    "name": string(),
    "description": string(),
    "uri": string(),
    "package_name": string(),
    "package_version": string(),
    "package_manager": string(),
    "vulnerability_id": string(),
    "cvss_score": number(),
    "status": string(),
    "type": string(),
    "title": string(),
    "first_observed_at": date_time(),
    "last_observed_at": date_time(),
    "updated_at": date_time(),
    "image_scan_status": AwsShape("ecr", "ImageScanStatus"),
    "image_scan_completed_at": date_time(),
    "vulnerability_source_updated_at": date_time(),
    "finding_type": {
        "type": ["string", "null"],
        "description": "One of: basic, enhanced.",
    },
    "basic_finding": AwsShape("ecr", "ImageScanFinding"),
    "enhanced_finding": AwsShape("ecr", "EnhancedImageScanFinding"),
    # every package of the finding (package_name / package_version: the first one)
    "vulnerable_packages": AwsShape("ecr", "VulnerablePackagesList"),
    **FINDING_COLUMNS,
}

NETWORK_COLUMNS: dict[str, Column] = {
    "data_type": {
        "type": ["string", "null"],
        "description": (
            "One of: internet_gateways, nat_gateways, load_balancers, vpc_cidrs, "
            "vpc_subnets, addresses, network_interfaces."
        ),
    },
    "resource_id": string(),
    "arn": string(),
    "vpc_id": string(),
    "cidr_blocks": array_of(string()),
    "public_ips": array_of(string()),
    "private_ips": array_of(string()),
    "state": string(),
    "tags": tags_map(),
    "internet_gateway": AwsShape("ec2", "InternetGateway"),
    "nat_gateway": AwsShape("ec2", "NatGateway"),
    "load_balancer": AwsShape("elbv2", "LoadBalancer", add={"Tags": AwsShape("elbv2", "TagList")}),
    "classic_load_balancer": AwsShape(
        "elb", "LoadBalancerDescription", add={"Tags": AwsShape("elb", "TagList")}
    ),
    "vpc": AwsShape("ec2", "Vpc"),
    "subnet": AwsShape("ec2", "Subnet"),
    "address": AwsShape("ec2", "Address"),
    "network_interface": AwsShape("ec2", "NetworkInterface"),
}

# The tap's own stream: one row per partition attempted (DESIGN.md "the coverage stream").
SYNC_COVERAGE_COLUMNS: dict[str, Column] = {
    "stream": string(),
    "outcome": {
        "type": ["string", "null"],
        "description": (
            "One of: ok, denied, disabled, not_enabled, unreachable, failed, not_entered, "
            "suspended."
        ),
    },
    "error_code": string(),
    "error_message": string(),
    "records": integer(),
    "started_at": date_time(),
    "finished_at": date_time(),
}

SOURCES: dict[str, SchemaSource] = {
    "accounts": SchemaSource(
        top=AwsShape("organizations", "Account"),
        extra={"tags": tags_map()},
        key_properties=("id",),
    ),
    "ec2_instances": SchemaSource(
        top=AwsShape("ec2", "Instance"),
        extra={
            "arn": string(),
            "tags": tags_map(),
            "reservation_id": string(),
            "owner_id": string(),
            "requester_id": string(),
        },
        key_properties=("arn",),
    ),
    "s3_buckets": SchemaSource(
        top=AwsShape("s3", "Bucket"),
        extra={"arn": string()},
        key_properties=("arn",),
    ),
    "ecr_images": SchemaSource(
        top=AwsShape("ecr", "ImageDetail"),
        extra={
            # arn:<partition>:ecr:<region>:<registry>:repository/<name>/<digest>
            "arn": string(),
            "repository": AwsShape("ecr", "Repository"),
            "repository_uri": string(),
        },
        key_properties=("account_id", "region", "repository_name", "image_digest"),
    ),
    "ecr_findings": SchemaSource(
        extra=ECR_FINDING_COLUMNS,
        key_properties=("account_id", "region", "repository_name", "image_digest", "finding_id"),
    ),
    "eks_clusters": SchemaSource(
        top=AwsShape("eks", "Cluster"),
        extra={"arn": string(), "tags": tags_map()},
        key_properties=("arn",),
    ),
    "inspector_findings": SchemaSource(
        top=AwsShape("inspector2", "Finding"),
        extra=FINDING_COLUMNS,
        key_properties=("finding_arn",),
        replication_key="updated_at",
    ),
    "network": SchemaSource(
        extra=NETWORK_COLUMNS,
        key_properties=("account_id", "region", "data_type", "resource_id"),
    ),
    "rds_instances": SchemaSource(
        top=AwsShape("rds", "DBInstance"),
        extra={"arn": string(), "tags": tags_map()},
        key_properties=("arn",),
    ),
    "securityhub_findings": SchemaSource(
        top=AwsShape("securityhub", "AwsSecurityFinding"),
        # The finding's own Region; `region` is the partition the tap read it from.
        extra={"finding_region": string(), **FINDING_COLUMNS},
        # ASFF dates are ISO 8601 strings in the model (NonEmptyString), not timestamps.
        overrides={
            "created_at": date_time(),
            "updated_at": date_time(),
            "first_observed_at": date_time(),
            "last_observed_at": date_time(),
            "processed_at": date_time(),
        },
        # Resources[].Details has a sub-shape per AWS resource type: hundreds of them.
        caps=("resources[].Details",),
        key_properties=("id", "product_arn"),
        replication_key="updated_at",
    ),
    "securityhub_ocsf_findings": SchemaSource(
        # botocore models the OCSF finding (GetFindingsV2 Findings[]) as a document: the
        # columns are lifted from it, and the whole finding is kept under `finding`.
        extra={
            "finding_uid": string(),  # finding_info.uid
            "product_uid": string(),  # metadata.product.uid
            "title": string(),  # finding_info.title
            "created_time": date_time(),  # finding_info.created_time_dt
            "modified_time": date_time(),  # finding_info.modified_time_dt
            "aws_account_id": string(),  # cloud.account.uid: the finding's own account
            "finding_region": string(),  # cloud.region; `region` is the partition read
            **FINDING_COLUMNS,
            "finding": {
                "type": ["object", "null"],
                "description": "The OCSF finding as GetFindingsV2 returns it (securityhub "
                "OcsfFinding, a document in the botocore model).",
            },
        },
        key_properties=("finding_uid", "product_uid"),
        replication_key="modified_time",
    ),
    "inspector_coverage": SchemaSource(
        top=AwsShape("inspector2", "CoveredResource"),
        extra={
            # `account_id` is the account read; the resource's own (accountId) is here
            "aws_account_id": string(),
            "status_code": AwsShape("inspector2", "ScanStatusCode"),  # scanStatus.statusCode
            "reason": AwsShape("inspector2", "ScanStatusReason"),  # scanStatus.reason
        },
        key_properties=("account_id", "region", "resource_id", "scan_type"),
    ),
    "sync_coverage": SchemaSource(
        extra=SYNC_COVERAGE_COLUMNS,
        key_properties=("synced_at", "stream", "account_id", "region"),
    ),
}
