"""One module per AWS service; ``STREAM_TYPES`` is every stream the tap has."""

from __future__ import annotations

from tap_aws_uvm.client import AwsStream
from tap_aws_uvm.streams.coverage import SyncCoverageStream
from tap_aws_uvm.streams.ec2 import Ec2InstancesStream
from tap_aws_uvm.streams.ecr import EcrFindingsStream, EcrImagesStream
from tap_aws_uvm.streams.eks import EksClustersStream
from tap_aws_uvm.streams.inspector import InspectorCoverageStream, InspectorFindingsStream
from tap_aws_uvm.streams.network import NetworkStream
from tap_aws_uvm.streams.organizations import AccountsStream
from tap_aws_uvm.streams.rds import RdsInstancesStream
from tap_aws_uvm.streams.s3 import S3BucketsStream
from tap_aws_uvm.streams.securityhub import SecurityHubFindingsStream
from tap_aws_uvm.streams.securityhub_ocsf import SecurityHubOcsfFindingsStream

STREAM_TYPES: tuple[type[AwsStream], ...] = (
    AccountsStream,
    Ec2InstancesStream,
    EcrFindingsStream,
    EcrImagesStream,
    EksClustersStream,
    InspectorCoverageStream,
    InspectorFindingsStream,
    NetworkStream,
    RdsInstancesStream,
    S3BucketsStream,
    SecurityHubFindingsStream,
    SecurityHubOcsfFindingsStream,
    SyncCoverageStream,  # last: written once every other stream is done
)
