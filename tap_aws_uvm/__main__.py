"""``python -m tap_aws_uvm``."""

from tap_aws_uvm.tap import TapAwsUvm

TapAwsUvm.cli()
