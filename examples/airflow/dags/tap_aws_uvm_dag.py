"""Airflow 3 DAG ``tap_aws_uvm``: one AWS Organization, synced in stable shards by Meltano.

Tested by tests/e2e/test_airflow.py with Apache Airflow 3.3.2 against the emulated demo
organization (see README "Orchestrating with Airflow"). Copy this file into your DAGs folder.

    accounts  ->  shard_plan  ->  shard[shard-00-of-08, shard-03-of-08, ...]

- ``accounts`` runs the tap for the ``accounts`` stream only, in single-role mode
  (``org_accounts: false``): it enters only the ``role_arn`` account and lists the whole
  organization, SUSPENDED accounts included; the records go into the loader, and the task
  returns the ACTIVE account ids (XCom).
- ``shard_plan`` puts each ACTIVE account into bucket ``sha256(id) mod shards``: an account
  keeps its bucket while the organization grows. Buckets are numbered before empty ones are
  dropped, so shard ``i`` of ``n`` is always the same bucket, and its state ID with it.
- ``shard`` is mapped (dynamic task mapping) onto the non-empty buckets: one
  ``meltano run --state-id-suffix=shard-<i>-of-<n> tap-aws-uvm <loader>`` each, every stream but
  ``accounts``, with ``TAP_AWS_UVM_ACCOUNT_IDS`` set to the bucket's accounts.

Parsing this file makes no AWS call and imports nothing heavy: the organization is listed by a
task, at run time. Every setting is a DAG param (see PARAMS: change one for a run with the
trigger's conf, or its default here), except the retries of the Meltano tasks, which Airflow
needs when it parses the file: the Airflow Variable ``tap_aws_uvm_retries`` (default 2, ten
minutes apart), best set on the DAG processor as the environment variable
``AIRFLOW_VAR_TAP_AWS_UVM_RETRIES``, so that parsing needs no database query.

Shared state: the shard tasks run on any worker, so Meltano's state (the finding streams'
bookmarks) must live in one place every worker reaches. Meltano keeps state in its system
database (state backend ``systemdb``); point it at PostgreSQL with the Airflow connection
``tap_aws_uvm_meltano_db`` (param ``meltano_database_conn_id``), e.g.
``AIRFLOW_CONN_TAP_AWS_UVM_MELTANO_DB=postgresql://meltano:...@db:5432/meltano``, and install
Meltano with its PostgreSQL driver: ``meltano[postgres]==4.4.1``. Or set ``state_backend_uri``
to object storage (``s3://bucket/prefix``, ``gs://...``, ``azure://...``) and the connection
id to ``""``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import IO, Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Connection, Param, Variable, task
from airflow.sdk.exceptions import AirflowNotFoundException

DAG_ID = "tap_aws_uvm"
TAP = "tap-aws-uvm"
ACCOUNTS_STREAM = "accounts"
RETRIES = int(Variable.get("tap_aws_uvm_retries", default="2"))
RETRY_DELAY = timedelta(minutes=10)

PARAMS = {
    "meltano_bin": Param(
        "meltano", type="string", minLength=1, description="Meltano's executable on the workers"
    ),
    "project_dir": Param(
        "/opt/tap-aws-uvm",
        type="string",
        minLength=1,
        description="The Meltano project (this repository) on every worker, `meltano install` done",
    ),
    "environment": Param("prod", type="string", minLength=1, description="Meltano environment"),
    "loader": Param("target-postgres", type="string", minLength=1, description="Meltano loader"),
    "shards": Param(
        8,
        type="integer",
        minimum=1,
        maximum=999,
        description="Buckets the ACTIVE accounts are hashed into; changing it moves accounts "
        "between shards, which then start without bookmarks",
    ),
    "state_backend_uri": Param(
        "systemdb",
        type="string",
        minLength=1,
        description="Meltano's state_backend.uri: systemdb (its system database) or s3://, "
        "gs://, azure://",
    ),
    "meltano_database_conn_id": Param(
        "tap_aws_uvm_meltano_db",
        type="string",
        description="Airflow connection of Meltano's system database (PostgreSQL), shared by "
        "every worker; empty: the project's own database_uri",
    ),
}


# ---------------------------------------------------------------------------------------------
# Shards (plain functions: no Airflow, no AWS)


def shard_of(account_id: str, shards: int) -> int:
    """The bucket of an account: a hash that is the same on every host and every run
    (Python's ``hash()`` of a str is not)."""
    digest = hashlib.sha256(account_id.encode("ascii")).digest()
    return int.from_bytes(digest, "big") % shards


def state_id_suffix(index: int, shards: int) -> str:
    width = max(2, len(str(shards)))
    return f"shard-{index:0{width}d}-of-{shards:0{width}d}"


def shard_plan(account_ids: Iterable[str], shards: int) -> list[dict[str, Any]]:
    """The non-empty buckets, in bucket order: their state-ID suffix and sorted account ids."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    buckets: dict[int, list[str]] = {}
    for account_id in sorted(set(account_ids)):
        buckets.setdefault(shard_of(account_id, shards), []).append(account_id)
    return [
        {"state_id_suffix": state_id_suffix(index, shards), "account_ids": buckets[index]}
        for index in sorted(buckets)
    ]


def active_account_ids(singer_lines: Iterable[str]) -> list[str]:
    """ACTIVE account ids among the ``accounts`` records of a tap's Singer output (``state``,
    or the retired ``status`` where ``state`` is missing)."""
    ids = set()
    for line in singer_lines:
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("type") != "RECORD" or message.get("stream") != ACCOUNTS_STREAM:
            continue
        record = message["record"]
        if (record.get("state") or record.get("status")) == "ACTIVE":
            ids.add(record["id"])
    return sorted(ids)


# ---------------------------------------------------------------------------------------------
# Meltano's environment for a task


def sqlalchemy_uri(connection: Any) -> str:
    """An Airflow connection as the SQLAlchemy URL Meltano's ``database_uri`` takes."""
    scheme, rest = connection.get_uri().split("://", 1)
    if scheme in {"postgres", "postgresql"}:
        scheme = "postgresql+psycopg"  # meltano[postgres]'s driver
    return f"{scheme}://{rest}"


def meltano_env(params: Mapping[str, Any]) -> dict[str, str]:
    """What every Meltano command of this DAG gets on top of the worker's environment."""
    env = {
        "MELTANO_ENVIRONMENT": str(params["environment"]),
        "MELTANO_STATE_BACKEND_URI": str(params["state_backend_uri"]),
    }
    conn_id = str(params["meltano_database_conn_id"])
    if conn_id:
        try:
            connection = Connection.get(conn_id)
        except AirflowNotFoundException:
            raise AirflowNotFoundException(
                f"Airflow connection {conn_id!r} is not defined: create it for Meltano's system "
                "database (PostgreSQL, where the state of every shard lives), or run with "
                'meltano_database_conn_id "" to use the project\'s own database_uri'
            ) from None
        env["MELTANO_DATABASE_URI"] = sqlalchemy_uri(connection)
    return env


class MeltanoRun(BashOperator):
    """``meltano run --state-id-suffix=<suffix> tap-aws-uvm <loader>`` for some accounts.

    The command is fixed; the run's values reach it as environment variables, so nothing from
    a trigger's conf is ever parsed by the shell, and the database URI is never rendered.
    """

    COMMAND = 'exec "$UVM_MELTANO" run --state-id-suffix="$UVM_STATE_ID_SUFFIX" {tap} "$UVM_LOADER"'

    def __init__(self, *, account_ids: list[str], state_id_suffix: str, **kwargs: Any) -> None:
        super().__init__(
            bash_command=self.COMMAND.format(tap=TAP),
            cwd="{{ params.project_dir }}",
            append_env=True,
            skip_on_exit_code=None,
            **kwargs,
        )
        self.account_ids = account_ids
        self.state_id_suffix = state_id_suffix

    def get_env(self, context: Any) -> dict[str, str]:
        env: dict[str, str] = super().get_env(context)
        params = context["params"]
        env.update(meltano_env(params))
        env.update(
            {
                "UVM_MELTANO": str(params["meltano_bin"]),
                "UVM_LOADER": str(params["loader"]),
                "UVM_STATE_ID_SUFFIX": self.state_id_suffix,
                "TAP_AWS_UVM_ACCOUNT_IDS": json.dumps(self.account_ids),
                "TAP_AWS_UVM__SELECT_FILTER": json.dumps([f"!{ACCOUNTS_STREAM}"]),
            }
        )
        return env


def load_accounts(params: Mapping[str, Any]) -> list[str]:
    """``meltano invoke tap-aws-uvm`` (the ``accounts`` stream, single-role mode) piped into
    ``meltano invoke <loader>``, as ``meltano run`` pipes them; the ACTIVE ids it read.

    First ``meltano upgrade database``: every Meltano command migrates the system database
    when Meltano is newer than the database, and two doing it at once (the shards, or the two
    here) fail. ``accounts`` is a full-table stream: it has no state, so none is stored for it.
    """
    meltano, cwd = str(params["meltano_bin"]), str(params["project_dir"])
    env = {**os.environ, **meltano_env(params)}
    upgrade = subprocess.run([meltano, "upgrade", "database"], cwd=cwd, env=env, check=False)
    if upgrade.returncode:
        raise RuntimeError(f"`meltano upgrade database` exited {upgrade.returncode}")
    tap_env = {
        **env,
        "TAP_AWS_UVM_ORG_ACCOUNTS": "false",
        "TAP_AWS_UVM__SELECT_FILTER": json.dumps([ACCOUNTS_STREAM]),
    }
    loader_command = [meltano, "invoke", str(params["loader"])]
    tap_command = [meltano, "invoke", TAP]
    pipe, out = subprocess.PIPE, subprocess.DEVNULL  # the loader's stdout: its STATE lines
    with (
        subprocess.Popen(loader_command, cwd=cwd, env=env, stdin=pipe, stdout=out) as loader,
        subprocess.Popen(tap_command, cwd=cwd, env=tap_env, stdout=pipe) as tap,
    ):
        assert tap.stdout is not None
        assert loader.stdin is not None
        try:
            ids = active_account_ids(_tee(tap.stdout, loader.stdin))
        except BrokenPipeError:  # the loader stopped reading: its exit code says why
            tap.kill()
            ids = []
        except BaseException:
            tap.kill()  # nobody reads its output any more
            raise
        finally:
            with contextlib.suppress(BrokenPipeError):
                loader.stdin.close()
    for command, process in ((tap_command, tap), (loader_command, loader)):
        if process.returncode:
            raise RuntimeError(f"`{' '.join(command[1:])}` exited {process.returncode}")
    return ids


def _tee(source: IO[bytes], sink: IO[bytes]) -> Iterator[str]:
    for line in source:
        sink.write(line)
        yield line.decode("utf-8")


# ---------------------------------------------------------------------------------------------
# The DAG


with DAG(
    dag_id=DAG_ID,
    description="tap-aws-uvm: an AWS Organization's inventory and findings, in stable shards",
    start_date=datetime(2026, 1, 1),
    schedule="0 2 * * *",
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    tags=["aws", "security", "meltano"],
    doc_md=__doc__,
) as dag:

    @task(task_id="accounts", retries=RETRIES, retry_delay=RETRY_DELAY)
    def accounts(params: dict[str, Any] | None = None) -> list[str]:
        """Load ``accounts`` for the whole organization; return its ACTIVE account ids."""
        assert params is not None
        ids = load_accounts(params)
        print(f"{len(ids)} ACTIVE accounts")
        return ids

    @task(task_id="shard_plan")
    def plan(account_ids: list[str], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One entry per non-empty bucket: its accounts and its state-ID suffix."""
        assert params is not None
        shards = shard_plan(account_ids, int(params["shards"]))
        for shard in shards:
            print(shard["state_id_suffix"], len(shard["account_ids"]), "accounts")
        return shards

    MeltanoRun.partial(
        task_id="shard",
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
        do_xcom_push=False,
        map_index_template="{{ task.state_id_suffix }}",
    ).expand_kwargs(plan(accounts()))
