"""Secrets never reach a log, at any level.

botocore logs at DEBUG what goes over the wire: request headers (the Authorization signature,
X-Amz-Security-Token), the string it signed, and response bodies, AssumeRole's
SecretAccessKey and SessionToken among them; urllib3 logs URLs. With LOGLEVEL=DEBUG,
TAP_AWS_UVM_LOGLEVEL=DEBUG or a log config file, all of it reached stderr. The tap withholds
the DEBUG records of these libraries whatever the configured level (their INFO and above stay:
they carry no secret); at DEBUG the tap logs its own steps only.
"""

from __future__ import annotations

import logging

WIRE_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def withhold_wire_logs() -> None:
    """No DEBUG record of botocore, boto3, urllib3 or s3transfer, and none of their children
    configured by name (a log config file may set ``botocore.endpoint`` to DEBUG)."""
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.split(".", 1)[0] in WIRE_LOGGERS
    ]
    for name in {*WIRE_LOGGERS, *names}:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET and "." in name:
            continue  # inherits from its top logger, set below
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
