"""One module per AWS service; ``STREAM_TYPES`` is every stream the tap has."""

from __future__ import annotations

from tap_aws_uvm.client import AwsStream
from tap_aws_uvm.streams.ec2 import Ec2InstancesStream
from tap_aws_uvm.streams.organizations import AccountsStream
from tap_aws_uvm.streams.s3 import S3BucketsStream

STREAM_TYPES: tuple[type[AwsStream], ...] = (
    AccountsStream,
    Ec2InstancesStream,
    S3BucketsStream,
)
