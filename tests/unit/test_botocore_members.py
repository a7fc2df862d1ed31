"""Every botocore model member the tap relies on exists in the installed botocore.

CI runs the suite at the locked versions and again at the lowest versions pyproject.toml allows
(``uv sync --resolution lowest-direct``, ``.ci/run``). There the committed schemas, generated
from the locked botocore, may hold members an older model lacks, so the byte-equality test
(``test_schemas.py::test_committed_schema_matches_botocore``) is left out, and this test says
what matters: the operations, paginators, request and response members the streams use, the
newer members (Organizations ``State`` / ``Paths``, ECR ``imageStatus``, ``GetFindingsV2``,
``ListCoverage``), and every shape and member the schema sources name.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore
import botocore.session
import pytest
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

from tap_aws_uvm.records import column_name
from tap_aws_uvm.schema_sources import SOURCES
from tap_aws_uvm.schemagen import STANDARD_EXTRA, AwsShape
from tap_aws_uvm.streams import STREAM_TYPES

# (service, operation) -> (the result key the tap pages through, or None when it calls the
# operation once), every AWS call of the tap: the streams', and the sync's own (STS, regions).
OPERATIONS: dict[tuple[str, str], str | None] = {
    ("sts", "AssumeRole"): None,
    ("sts", "GetCallerIdentity"): None,
    ("ec2", "DescribeRegions"): None,
    ("organizations", "ListAccounts"): "Accounts",
    ("organizations", "ListTagsForResource"): "Tags",
    ("ec2", "DescribeInstances"): "Reservations",
    ("ecr", "DescribeRepositories"): "repositories",
    ("ecr", "DescribeImages"): "imageDetails",
    ("ecr", "DescribeImageScanFindings"): "imageScanFindings.findings",
    ("eks", "ListClusters"): "clusters",
    ("eks", "DescribeCluster"): None,
    ("inspector2", "ListFindings"): "findings",
    ("inspector2", "ListCoverage"): "coveredResources",
    ("ec2", "DescribeInternetGateways"): "InternetGateways",
    ("ec2", "DescribeNatGateways"): "NatGateways",
    ("elbv2", "DescribeLoadBalancers"): "LoadBalancers",
    ("elbv2", "DescribeTags"): None,
    ("elb", "DescribeLoadBalancers"): "LoadBalancerDescriptions",
    ("elb", "DescribeTags"): None,
    ("ec2", "DescribeVpcs"): "Vpcs",
    ("ec2", "DescribeSubnets"): "Subnets",
    ("ec2", "DescribeAddresses"): None,
    ("ec2", "DescribeNetworkInterfaces"): "NetworkInterfaces",
    ("rds", "DescribeDBInstances"): "DBInstances",
    ("s3", "ListBuckets"): "Buckets",
    ("s3", "GetBucketLocation"): None,
    ("securityhub", "GetFindings"): "Findings",
    ("securityhub", "GetFindingsV2"): "Findings",
}
# IAM actions whose API operation has another name (AWS's Service Authorization Reference)
OPERATION_OF_ACTION = {"s3:ListAllMyBuckets": ("s3", "ListBuckets")}
IAM_SERVICE = {"elasticloadbalancing": ("elb", "elbv2")}

# Request members the tap sends: (service, operation, path in the input shape)
SENT: tuple[tuple[str, str, str], ...] = (
    ("sts", "AssumeRole", "RoleArn"),
    ("sts", "AssumeRole", "RoleSessionName"),
    ("sts", "AssumeRole", "DurationSeconds"),
    ("sts", "AssumeRole", "ExternalId"),
    ("ec2", "DescribeRegions", "AllRegions"),
    ("organizations", "ListTagsForResource", "ResourceId"),
    ("ecr", "DescribeImages", "registryId"),
    ("ecr", "DescribeImages", "repositoryName"),
    ("ecr", "DescribeImages", "filter.tagStatus"),
    ("ecr", "DescribeImages", "filter.imageStatus"),  # botocore 1.41.0
    ("ecr", "DescribeImageScanFindings", "imageId.imageDigest"),
    ("eks", "DescribeCluster", "name"),
    ("inspector2", "ListFindings", "filterCriteria.updatedAt[].startInclusive"),
    ("inspector2", "ListFindings", "filterCriteria.updatedAt[].endInclusive"),
    ("ec2", "DescribeNatGateways", "Filter"),
    ("elbv2", "DescribeTags", "ResourceArns"),
    ("elb", "DescribeTags", "LoadBalancerNames"),
    ("s3", "ListBuckets", "MaxBuckets"),
    ("s3", "GetBucketLocation", "Bucket"),
    ("securityhub", "GetFindings", "Filters.UpdatedAt[].Start"),
    ("securityhub", "GetFindings", "Filters.UpdatedAt[].End"),
    ("securityhub", "GetFindings", "SortCriteria[].Field"),
    ("securityhub", "GetFindings", "SortCriteria[].SortOrder"),
    ("securityhub", "GetFindingsV2", "Filters.CompositeFilters[].DateFilters[].FieldName"),
    ("securityhub", "GetFindingsV2", "Filters.CompositeFilters[].DateFilters[].Filter.Start"),
    ("securityhub", "GetFindingsV2", "Filters.CompositeFilters[].DateFilters[].Filter.End"),
    ("securityhub", "GetFindingsV2", "SortCriteria[].Field"),
    ("securityhub", "GetFindingsV2", "SortCriteria[].SortOrder"),
)
# Enum values the tap sends: (service, operation, path, value)
SENT_VALUES: tuple[tuple[str, str, str, str], ...] = (
    ("ecr", "DescribeImages", "filter.tagStatus", "ANY"),
    ("ecr", "DescribeImages", "filter.imageStatus", "ANY"),
    ("securityhub", "GetFindings", "SortCriteria[].SortOrder", "asc"),
    (
        "securityhub",
        "GetFindingsV2",
        "Filters.CompositeFilters[].DateFilters[].FieldName",
        "finding_info.modified_time_dt",
    ),
    ("securityhub", "GetFindingsV2", "SortCriteria[].SortOrder", "asc"),
)
# Response members the tap reads: (service, operation, path in the output shape)
READ: tuple[tuple[str, str, str], ...] = (
    ("sts", "AssumeRole", "Credentials.Expiration"),
    ("sts", "GetCallerIdentity", "Arn"),
    ("ec2", "DescribeRegions", "Regions[].RegionName"),
    ("ec2", "DescribeRegions", "Regions[].OptInStatus"),
    ("organizations", "ListAccounts", "Accounts[].Id"),
    ("organizations", "ListAccounts", "Accounts[].Arn"),
    ("organizations", "ListAccounts", "Accounts[].State"),  # botocore 1.40.27
    ("organizations", "ListAccounts", "Accounts[].Paths"),
    ("ecr", "DescribeImages", "imageDetails[].imageStatus"),  # botocore 1.41.0
    ("ecr", "DescribeImages", "imageDetails[].lastArchivedAt"),
    ("ecr", "DescribeImages", "imageDetails[].lastActivatedAt"),
    ("ecr", "DescribeImageScanFindings", "imageScanStatus.status"),
    ("ecr", "DescribeImageScanFindings", "imageScanFindings.enhancedFindings"),
    ("ecr", "DescribeImageScanFindings", "imageScanFindings.imageScanCompletedAt"),
    ("inspector2", "ListCoverage", "coveredResources[].accountId"),
    ("inspector2", "ListCoverage", "coveredResources[].resourceId"),
    ("inspector2", "ListCoverage", "coveredResources[].scanType"),
    ("inspector2", "ListCoverage", "coveredResources[].scanStatus.statusCode"),
    ("inspector2", "ListCoverage", "coveredResources[].scanStatus.reason"),
    ("s3", "ListBuckets", "Buckets[].BucketRegion"),
    ("securityhub", "GetFindingsV2", "Findings[]"),
)
# Enum values the tap compares with: (service, operation, path, value)
READ_VALUES: tuple[tuple[str, str, str, str], ...] = (
    ("organizations", "ListAccounts", "Accounts[].State", "ACTIVE"),
    ("ecr", "DescribeImages", "imageDetails[].imageStatus", "ARCHIVED"),
    ("ecr", "DescribeImages", "imageDetails[].imageStatus", "ACTIVATING"),
    ("ecr", "DescribeImageScanFindings", "imageScanStatus.status", "IMAGE_ARCHIVED"),
)


@cache
def model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def operation_shape(service: str, operation: str, side: str) -> StructureShape:
    assert operation in model(service).operation_names, (
        f"botocore {botocore.__version__} has no {service} {operation}"
    )
    op = model(service).operation_model(operation)
    shape = op.input_shape if side == "input" else op.output_shape
    assert isinstance(shape, StructureShape), f"{service} {operation} has no {side}"
    return shape


def walk(shape: Shape, path: str, where: str) -> Shape:
    """The shape at ``path`` (``Member.Member``, ``[]`` for list items, ``{}`` for map
    values) below ``shape``."""
    for part in path.split("."):
        name = part.rstrip("[]{}")
        if name:
            assert isinstance(shape, StructureShape), f"{where}: {name} below a non-structure"
            assert name in shape.members, (
                f"botocore {botocore.__version__}: {where} has no member {name!r}"
            )
            shape = shape.members[name]
        for suffix in part[len(name) :].replace("][", "] [").split():
            if suffix == "[]":
                assert isinstance(shape, ListShape), f"{where}: {part} is not a list"
                shape = shape.member
            elif suffix == "{}":
                assert isinstance(shape, MapShape), f"{where}: {part} is not a map"
                shape = shape.value
    return shape


@pytest.mark.parametrize(("service", "operation"), sorted(OPERATIONS))
def test_every_operation_and_paginator(service: str, operation: str) -> None:
    operation_shape(service, operation, "input")
    result_key = OPERATIONS[(service, operation)]
    if result_key is None:
        return
    session = botocore.session.get_session()
    paginators = session.get_paginator_model(service)
    config = paginators.get_paginator(operation)  # KeyError: not paginated
    keys = config["result_key"]
    assert result_key in (keys if isinstance(keys, list) else [keys])
    if "limit_key" in config:  # the page size the tap sets
        walk(operation_shape(service, operation, "input"), config["limit_key"], operation)


def test_the_table_holds_every_action_a_stream_declares() -> None:
    for stream in STREAM_TYPES:
        for action in stream.iam_actions:
            prefix, name = action.split(":")
            operation = OPERATION_OF_ACTION.get(action)
            candidates = (
                [operation]
                if operation
                else [(service, name) for service in IAM_SERVICE.get(prefix, (prefix,))]
            )
            assert any(c in OPERATIONS for c in candidates), f"{stream.name}: {action}"


@pytest.mark.parametrize(("service", "operation", "path"), SENT)
def test_sent_members(service: str, operation: str, path: str) -> None:
    walk(operation_shape(service, operation, "input"), path, f"{service} {operation} input")


@pytest.mark.parametrize(("service", "operation", "path"), READ)
def test_read_members(service: str, operation: str, path: str) -> None:
    walk(operation_shape(service, operation, "output"), path, f"{service} {operation} output")


@pytest.mark.parametrize(
    ("service", "operation", "path", "value", "side"),
    [(*row, "input") for row in SENT_VALUES] + [(*row, "output") for row in READ_VALUES],
)
def test_enum_values(service: str, operation: str, path: str, value: str, side: str) -> None:
    shape = walk(operation_shape(service, operation, side), path, f"{service} {operation}")
    assert value in (getattr(shape, "enum", None) or []), (
        f"botocore {botocore.__version__}: {service} {operation} {path} lacks {value!r}"
    )


def test_the_ocsf_finding_is_a_document() -> None:
    shape = walk(operation_shape("securityhub", "GetFindingsV2", "output"), "Findings[]", "V2")
    assert getattr(shape, "is_document_type", False)


def aws_shapes(columns: Any) -> Iterator[AwsShape]:
    for spec in columns:
        if isinstance(spec, AwsShape):
            yield spec
            yield from aws_shapes(spec.add.values())


@pytest.mark.parametrize("stream", sorted(SOURCES))
def test_schema_sources(stream: str) -> None:
    """Each shape a schema source names exists, with the members it adds; every key and the
    replication key that comes from AWS is a member of the top-level shape."""
    source = SOURCES[stream]
    named = list(aws_shapes([source.top, *source.extra.values()]))
    for spec in named:
        assert spec.shape in model(spec.service).shape_names, (
            f"botocore {botocore.__version__}: no {spec.service} shape {spec.shape}"
        )
    lifted = {*STANDARD_EXTRA, *source.extra}
    from_aws = [c for c in (*source.key_properties, source.replication_key) if c]
    from_aws = [c for c in from_aws if c not in lifted]
    if source.top is None:
        assert from_aws == []
        return
    top = model(source.top.service).shape_for(source.top.shape)
    assert isinstance(top, StructureShape)
    columns = {column_name(member) for member in top.members}
    for column in from_aws:
        assert column in columns, f"{stream}: {column} is no {source.top.shape} member"
    for column in source.overrides:
        assert column in columns, f"{stream}: override {column} is no {source.top.shape} member"
