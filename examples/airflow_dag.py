"""EXAMPLE ONLY (not tested, not imported by the tap): shard one AWS Organization over Airflow
tasks, one `meltano run` per shard, each with its own `account_ids` and its own state ID.

Copy it into your DAGs folder and adapt the constants. It assumes:
- Airflow 2.x with this repository (a Meltano project) checked out at MELTANO_PROJECT on the
  workers, `meltano install` done, and Meltano on PATH;
- the `prod` environment of meltano.yml configured for organization mode (role_arn,
  org_accounts, member_role_name, regions), secrets in the project's .env;
- the worker's own AWS credentials may call organizations:ListAccounts through ROLE_ARN, to list
  the accounts when the DAG is parsed (cached in an Airflow Variable for a day).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import boto3
from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator

MELTANO_PROJECT = "/opt/tap-aws-uvm"
ROLE_ARN = "arn:aws:iam::111111111111:role/TapReadRole"  # management or delegated admin
SHARDS = 8  # parallel tasks; ~60 accounts each for a 500-account organization
TARGET = "target-postgres"
CACHE = "tap_aws_uvm_active_accounts"
CACHE_SECONDS = 24 * 3600


def active_accounts() -> list[str]:
    """ACTIVE account ids of the organization, cached so DAG parsing stays cheap."""
    cached = json.loads(Variable.get(CACHE, default_var="{}"))
    if cached and time.time() - cached["at"] < CACHE_SECONDS:
        return list(cached["ids"])
    credentials = boto3.client("sts").assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="airflow-shards"
    )["Credentials"]
    organizations = boto3.client(
        "organizations",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    ids = sorted(
        account["Id"]
        for page in organizations.get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
        if account["Status"] == "ACTIVE"
    )
    Variable.set(CACHE, json.dumps({"at": time.time(), "ids": ids}))
    return ids


def shards(ids: list[str], count: int) -> list[list[str]]:
    """Stable shards: an account keeps its shard (and its bookmarks) while the org grows."""
    buckets: list[list[str]] = [[] for _ in range(count)]
    for account_id in ids:
        buckets[int(account_id) % count].append(account_id)
    return [b for b in buckets if b]


with DAG(
    dag_id="tap_aws_uvm_nightly",
    start_date=datetime(2025, 1, 1),
    schedule="0 2 * * *",
    catchup=False,
    max_active_tasks=SHARDS,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["security", "aws", "meltano"],
) as dag:
    # `accounts` once, for the whole organization (SUSPENDED accounts too): single-role mode
    # enters only the management account and lists every account through role_arn
    BashOperator(
        task_id="accounts",
        cwd=MELTANO_PROJECT,
        bash_command=f"meltano run --state-id-suffix=accounts tap-aws-uvm {TARGET}",
        env={
            "MELTANO_ENVIRONMENT": "prod",
            "TAP_AWS_UVM_ORG_ACCOUNTS": "false",
            "TAP_AWS_UVM__SELECT_FILTER": '["accounts"]',
        },
        append_env=True,
    )
    for n, account_ids in enumerate(shards(active_accounts(), SHARDS)):
        BashOperator(
            task_id=f"shard_{n:02d}",
            cwd=MELTANO_PROJECT,
            # its own state ID per shard: the finding streams' bookmarks never mix
            bash_command=f"meltano run --state-id-suffix=shard-{n:02d} tap-aws-uvm {TARGET}",
            env={
                "MELTANO_ENVIRONMENT": "prod",
                "TAP_AWS_UVM_ACCOUNT_IDS": json.dumps(account_ids),
                "TAP_AWS_UVM__SELECT_FILTER": '["!accounts"]',
            },
            append_env=True,
        )
