"""The bare boto3 baselines the tap is measured against (each run as its own process).

Both use one boto3 Session (botocore reads each service model once, as the tap does) and one
client per (account, service, region) made from it with that account's AssumeRole keys. (A
boto3 Session per account reads the models again for every account: at 2,000 accounts that
baseline spends most of its time loading JSON and would flatter the tap.)

``findings``: a plain loop. For each role (or the base keys), for each region: one client,
``get_findings`` paginated with page size 100, ``json.dumps`` of each finding to /dev/null.

``pool``: a ``ThreadPoolExecutor`` of ``--concurrency`` workers making a given list of calls:
first every AssumeRole, then every other call, flat (no dependency between them).

``floor`` (the scale case): the calls the canned server answered for the tap, replayed one
after another on one ready client per service (made before the clock starts, with the
tap's botocore ``Config``): each call with the parameters the tap sends (page sizes, filters)
and those that chose its answer (a repository, a page token...), and an ``x-bench-as``
header so that the server answers it as the tap's account and region. Its figure is the CPU
time of the loop (``time.process_time``): sign, HTTP, parse, the least any client pays.

Each prints one JSON line: ``{"seconds": <time of the loop, after imports>, "calls": n, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

BASE_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _assume(sts: Any, role_arn: str) -> dict[str, str]:
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="bench")["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def findings(endpoint: str, roles: list[str], regions: list[str]) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    base = boto3.Session(**BASE_KEYS, region_name="us-east-1")
    sts = base.client("sts", endpoint_url=endpoint)
    count = 0
    calls = len(roles)
    with open(os.devnull, "w") as sink:
        for role in roles or [None]:
            keys = _assume(sts, role) if role else {}
            for region in regions:
                # one session (models read once), a client per partition with its keys
                client = base.client(
                    "securityhub", region_name=region, endpoint_url=endpoint, **keys
                )
                pages = client.get_paginator("get_findings").paginate(
                    PaginationConfig={"PageSize": 100}
                )
                for page in pages:
                    calls += 1
                    for finding in page["Findings"]:
                        sink.write(json.dumps(finding))
                        sink.write("\n")
                        count += 1
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "findings": count,
        "calls": calls,
    }


def pool(endpoint: str, plan: dict[str, Any]) -> dict[str, Any]:
    """``plan``: {"concurrency": n, "roles": {account: role_arn}, "calls": [[service,
    operation, account, region, count], ...]} (AssumeRole is made once per role first)."""
    started = time.perf_counter()
    concurrency = int(plan["concurrency"])
    config = Config(max_pool_connections=concurrency, retries={"mode": "standard"})
    base = boto3.Session(**BASE_KEYS, region_name="us-east-1")
    sts = base.client("sts", endpoint_url=endpoint, config=config)
    roles: dict[str, str] = plan["roles"]
    lock = threading.Lock()  # clients made from one boto3 Session: one at a time
    clients: dict[tuple[str, str, str], Any] = {}
    with ThreadPoolExecutor(concurrency) as executor:
        accounts = list(roles)
        credentials = dict(
            zip(accounts, executor.map(lambda a: _assume(sts, roles[a]), accounts), strict=True)
        )

        def call(item: tuple[str, str, str, str]) -> None:
            service, method, account, region = item
            key = (account, service, region)
            client = clients.get(key)
            if client is None:
                with lock:
                    client = clients.get(key)
                    if client is None:
                        client = clients[key] = base.client(
                            service,
                            region_name=region,
                            endpoint_url=endpoint,
                            config=config,
                            **credentials[account],
                        )
            getattr(client, method)()

        work = [
            (service, method, account, region)
            for service, method, account, region, count in plan["calls"]
            for _ in range(count)
        ]
        list(executor.map(call, work))
    return {
        "seconds": time.perf_counter() - started,
        "calls": len(work) + len(roles),
        "clients": len(clients),
    }


# What the tap sends beside the parameters the server logs (tap_aws_uvm/streams/, auth.py).
FLOOR_PARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("sts", "AssumeRole"): {"RoleSessionName": "tap-aws-uvm"},
    ("organizations", "ListAccounts"): {"MaxResults": 20},
    ("ec2", "DescribeRegions"): {"AllRegions": True},
    ("ec2", "DescribeInstances"): {"MaxResults": 1000},
    ("ec2", "DescribeInternetGateways"): {"MaxResults": 1000},
    ("ec2", "DescribeNatGateways"): {"MaxResults": 1000},
    ("ec2", "DescribeVpcs"): {"MaxResults": 1000},
    ("ec2", "DescribeSubnets"): {"MaxResults": 1000},
    ("ec2", "DescribeNetworkInterfaces"): {"MaxResults": 1000},
    ("elbv2", "DescribeLoadBalancers"): {"PageSize": 400},
    ("elb", "DescribeLoadBalancers"): {"PageSize": 400},
    ("ecr", "DescribeRepositories"): {"maxResults": 1000},
    ("ecr", "DescribeImages"): {
        "maxResults": 1000,
        "filter": {"tagStatus": "ANY", "imageStatus": "ANY"},
    },
    ("ecr", "DescribeImageScanFindings"): {"maxResults": 1000},
    ("eks", "ListClusters"): {"maxResults": 100},
    ("rds", "DescribeDBInstances"): {"MaxRecords": 100},
    ("securityhub", "GetFindings"): {
        "MaxResults": 100,
        "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "asc"}],
    },
    ("securityhub", "GetFindingsV2"): {"MaxResults": 100},
    ("inspector2", "ListFindings"): {"maxResults": 100},
    ("inspector2", "ListCoverage"): {"maxResults": 200},
}


def _floor_params(service: str, operation: str, until: Any) -> dict[str, Any]:
    params = dict(FLOOR_PARAMS.get((service, operation), {}))
    if (service, operation) == ("securityhub", "GetFindings"):
        params["Filters"] = {"UpdatedAt": [{"End": until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}]}
    elif (service, operation) == ("inspector2", "ListFindings"):
        params["filterCriteria"] = {"updatedAt": [{"endInclusive": until}]}
    return params


def floor(endpoint: str, rows: list[list[Any]]) -> dict[str, Any]:
    """``rows``: [service, operation, account, region, detail (JSON), count] per answer."""
    import datetime as dt  # noqa: PLC0415

    from botocore import xform_name  # noqa: PLC0415
    from botocore.exceptions import ClientError  # noqa: PLC0415

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 10},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=10,
        user_agent_extra="tap-aws-uvm",
    )
    base = boto3.Session(**BASE_KEYS, region_name="us-east-1")
    where = ["-"]

    def as_partition(request: Any, **kwargs: Any) -> None:
        request.headers["x-bench-as"] = where[0]

    clients: dict[str, Any] = {}
    for service in sorted({row[0] for row in rows}):
        client = base.client(service, endpoint_url=endpoint, config=config)
        client.meta.events.register("before-send", as_partition)
        clients[service] = client
    until = dt.datetime.now(dt.UTC)
    work = []
    for service, operation, account, region, detail, count in sorted(rows):
        params = {**_floor_params(service, operation, until), **json.loads(detail)}
        method = getattr(clients[service], xform_name(operation))
        work.append((method, f"{account}/{region}", params, int(count)))
    calls = errors = 0
    started, cpu = time.perf_counter(), time.process_time()
    for method, partition, params, count in work:
        where[0] = partition
        for _ in range(count):
            calls += 1
            try:
                method(**params)
            except ClientError:
                errors += 1  # the answers the tap expects too (ScanNotFoundException)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "calls": calls,
        "errors": errors,
        "clients": len(clients),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("findings", "pool", "floor"))
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--roles", default="", help="file with one role ARN a line")
    parser.add_argument("--regions", default="us-east-1")
    parser.add_argument("--plan", help="pool: the plan as a JSON file; floor: the server's calls")
    args = parser.parse_args(argv)
    if args.mode == "findings":
        roles = []
        if args.roles:
            with open(args.roles) as fh:
                roles = [line.strip() for line in fh if line.strip()]
        result = findings(args.endpoint, roles, args.regions.split(","))
    elif args.mode == "floor":
        with open(args.plan) as fh:
            result = floor(args.endpoint, json.load(fh)["calls"])
    else:
        with open(args.plan) as fh:
            result = pool(args.endpoint, json.load(fh))
    print(json.dumps(result), file=sys.stdout, flush=True)


if __name__ == "__main__":
    main()
