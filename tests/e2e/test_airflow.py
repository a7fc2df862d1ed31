"""Airflow end to end: the example DAG ``tap_aws_uvm`` (examples/airflow/dags/) on Airflow 3.3.

Apache Airflow 3.3.2 runs from a virtual environment of its own (tests/e2e/airflow_env.py builds
it from examples/airflow/requirements.txt, cached under .airflow/), with SQLite for its metadata
in a private AIRFLOW_HOME. ``airflow dags test tap_aws_uvm`` then runs the DAG for real against
the demo organization on the emulator: ``accounts``, the shard plan and one mapped
``meltano run`` per non-empty shard, into PostgreSQL, with Meltano's state in PostgreSQL too (its
system database). A second DAG run must be incremental in every shard.

Meltano, its plugins and PostgreSQL come from tests/e2e/test_meltano.py's fixtures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from aws_emulator import Emulator, demo
from aws_emulator.demo_org import DEMO_REGIONS, seed_demo
from aws_emulator.findings import update_findings
from aws_emulator.seed import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY, ORG_REGION

from tap_aws_uvm.records import parse_timestamp
from tap_aws_uvm.settings import CONFIG_SCHEMA
from tests.e2e import test_meltano
from tests.e2e.airflow_env import AIRFLOW_VERSION, DAGS_FOLDER, ROOT, AirflowHome, airflow_venv
from tests.e2e.tap_runner import TAP, clean_env

DAG_ID = "tap_aws_uvm"
DAG_FILE = DAGS_FOLDER / "tap_aws_uvm_dag.py"
LOADER = "target-postgres"
ENVIRONMENT = "ci"
MELTANO_DB_CONN = "AIRFLOW_CONN_TAP_AWS_UVM_MELTANO_DB"
EPOCH = "1970-01-01T00:00:00+00:00"
# the emulator's service behind each incremental (finding) stream, for update_findings
FINDING_SERVICES = {
    "securityhub_findings": "securityhub",
    "inspector_findings": "inspector2",
    "securityhub_ocsf_findings": "securityhub_ocsf",
}
LOOKBACK = dt.timedelta(minutes=CONFIG_SCHEMA["properties"]["findings_lookback_minutes"]["default"])
pytestmark = pytest.mark.timeout(1800)

# Meltano (with every plugin) and PostgreSQL, as tests/e2e/test_meltano.py sets them up


def say(message: str) -> None:
    print(f"[test_airflow] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# Airflow, the demo organization, Meltano's system database


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """Airflow's own environment and a private AIRFLOW_HOME whose SQLite database is migrated."""
    venv = airflow_venv()
    say(
        f"Airflow {AIRFLOW_VERSION} environment {venv.path.relative_to(ROOT)}: "
        + (f"installed in {venv.install_seconds:.1f}s" if venv.install_seconds else "cached")
    )
    home = AirflowHome(venv, tmp_path_factory.mktemp("airflow-home"))
    started = time.monotonic()
    done = home.airflow("db", "migrate", env=home.env(clean_env()))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    say(f"airflow db migrate (SQLite) took {time.monotonic() - started:.1f}s")
    return home


@dataclass(frozen=True)
class DemoOrg:
    endpoint_url: str
    expected: dict[str, int]  # records per stream, as seed_demo says
    active_ids: list[str]


@pytest.fixture(scope="module")
def demo_org() -> Iterator[DemoOrg]:
    """The demo organization on an emulator of this module's own (its findings get updated)."""
    with Emulator.start() as aws:
        started = time.monotonic()
        expected = seed_demo(aws.endpoint_url)
        say(f"seed_demo took {time.monotonic() - started:.1f}s: {expected}")
        organizations = boto3.client(
            "organizations",
            endpoint_url=aws.endpoint_url,
            region_name=ORG_REGION,
            aws_access_key_id=FAKE_ACCESS_KEY_ID,
            aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
        )
        listed = [
            account
            for page in organizations.get_paginator("list_accounts").paginate()
            for account in page["Accounts"]
        ]
        active = sorted(a["Id"] for a in listed if a.get("State", a.get("Status")) == "ACTIVE")
        assert len(listed) == expected["accounts"]
        assert 1 < len(active) < len(listed), "the demo organization has a SUSPENDED member"
        yield DemoOrg(aws.endpoint_url, expected, active)


@pytest.fixture(scope="module")
def meltano_sys_dir(meltano_installed: Path) -> Path:
    """test_meltano's Meltano, plus the PostgreSQL driver of its system database
    (``meltano[postgres]``: the extra Meltano needs for a ``postgresql+psycopg`` database_uri)."""
    python = demo.meltano_bin(ROOT).with_name("python")
    probe = subprocess.run([str(python), "-c", "import psycopg"], capture_output=True, check=False)
    if probe.returncode:
        uv = os.environ.get("UV") or shutil.which("uv")
        assert uv, "uv is needed to add meltano[postgres] to Meltano's environment"
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                f"meltano[postgres]=={demo.MELTANO_VERSION}",
            ],
            check=True,
            env={k: v for k, v in clean_env().items() if k != "VIRTUAL_ENV"},
        )
    return meltano_installed


_CREATE_OR_DROP_DATABASE = """
import sys
import psycopg
action, name = sys.argv[2], sys.argv[3]
with psycopg.connect(sys.argv[1], autocommit=True) as con:
    if action == "create":
        con.execute(f'create database "{name}"')
    else:
        con.execute(f'drop database if exists "{name}" with (force)')
print("{}")
"""


@pytest.fixture
def meltano_database(postgres_dsn: str) -> Iterator[str]:
    """A PostgreSQL database of its own for Meltano's system database (runs, state)."""
    name = f"meltano_airflow_{uuid.uuid4().hex[:8]}"
    test_meltano.in_loader_python(LOADER, _CREATE_OR_DROP_DATABASE, postgres_dsn, "create", name)
    yield urlparse(postgres_dsn)._replace(path=f"/{name}").geturl()
    test_meltano.in_loader_python(LOADER, _CREATE_OR_DROP_DATABASE, postgres_dsn, "drop", name)


# ---------------------------------------------------------------------------------------------
# Shards as the DAG's contract says, computed here on their own


def bucket(account_id: str, shards: int) -> int:
    return int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % shards


def suffix(index: int, shards: int) -> str:
    width = max(2, len(str(shards)))
    return f"shard-{index:0{width}d}-of-{shards:0{width}d}"


def expected_plan(account_ids: Sequence[str], shards: int) -> dict[str, list[str]]:
    plan: dict[str, list[str]] = {}
    for account_id in sorted(account_ids):
        plan.setdefault(suffix(bucket(account_id, shards), shards), []).append(account_id)
    return dict(sorted(plan.items()))


def telling_shard_count(account_ids: Sequence[str]) -> int:
    """The smallest shard count that leaves an empty bucket below a used one, with at least
    two used: numbering shards after dropping the empty buckets would then show."""
    for shards in range(2, 64):
        used = {bucket(a, shards) for a in account_ids}
        if len(used) >= 2 and any(i not in used for i in range(max(used))):
            return shards
    raise AssertionError(f"no telling shard count for {account_ids}")


# ---------------------------------------------------------------------------------------------
# Parsing


_PARSE = """
import importlib.metadata, importlib.util, json, os, sys, time
started = time.monotonic()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
seconds = time.monotonic() - started
dag = bag.dags.get(sys.argv[2])
tasks = {
    t.task_id: {
        "type": type(t).__name__,
        "operator": getattr(t, "operator_name", None),
        "upstream": sorted(t.upstream_task_ids),
        "retries": t.partial_kwargs.get("retries") if hasattr(t, "partial_kwargs") else t.retries,
    }
    for t in (dag.tasks if dag else [])
}
print(json.dumps({
    "airflow": importlib.metadata.version("apache-airflow"),
    "boto3": importlib.util.find_spec("boto3") is not None,
    "aws_env": sorted(k for k in os.environ if k.startswith(("AWS_", "TAP_AWS_UVM_"))),
    "errors": {str(path): error for path, error in bag.import_errors.items()},
    "dags": sorted(bag.dags),
    "tasks": tasks,
    "params": sorted(dag.params) if dag else None,
    "seconds": seconds,
}))
"""


def test_the_dag_folder_parses_with_no_aws_credentials_and_no_boto3(
    airflow_home: AirflowHome, tmp_path: Path
) -> None:
    # nothing AWS: no variable, no ~/.aws (HOME is empty), and no boto3 in Airflow's environment
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = airflow_home.python(_PARSE, str(DAGS_FOLDER), DAG_ID, env=airflow_home.env(bare))
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    say(f"DagBag parsed {DAGS_FOLDER.relative_to(ROOT)} in {parsed['seconds']:.2f}s")
    assert parsed["airflow"] == AIRFLOW_VERSION
    assert parsed["boto3"] is False
    assert parsed["aws_env"] == []
    assert parsed["errors"] == {}
    assert parsed["dags"] == [DAG_ID]
    assert parsed["tasks"] == {
        "accounts": {
            "type": "_PythonDecoratedOperator",
            "operator": "@task",
            "upstream": [],
            "retries": 2,
        },
        "shard_plan": {
            "type": "_PythonDecoratedOperator",
            "operator": "@task",
            "upstream": ["accounts"],
            "retries": 0,
        },
        "shard": {
            "type": "MappedOperator",
            "operator": "MeltanoRun",
            "upstream": ["shard_plan"],
            "retries": 2,
        },
    }
    assert parsed["params"] == sorted(
        [
            "meltano_bin",
            "project_dir",
            "environment",
            "loader",
            "shards",
            "state_backend_uri",
            "meltano_database_conn_id",
        ]
    )


_SHARDS = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("tap_aws_uvm_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
cases = json.loads(sys.argv[2])
plans = [module.shard_plan(ids, shards) for ids, shards in cases["plans"]]
active = module.active_account_ids(cases["singer"])
print(json.dumps({"plans": plans, "active": active}))
"""


def test_shards_are_stable_as_the_organization_grows(airflow_home: AirflowHome) -> None:
    """The DAG's own shard_plan, run in Airflow's environment: an account keeps its shard (and
    state ID) when accounts join, empty buckets are not mapped, indices stay fixed."""
    rng = random.Random(21)
    org = [f"{rng.randrange(10**11, 10**12)}" for _ in range(500)]
    grown = org + [f"{rng.randrange(10**11, 10**12)}" for _ in range(120)]
    few = org[:3]
    cases = [(org, 8), (grown, 8), (few, 16), (org, 1), (org[:40], 120)]
    singer = [
        '{"type": "SCHEMA", "stream": "accounts", "schema": {}, "key_properties": ["id"]}',
        '{"type": "RECORD", "stream": "accounts", "record": {"id": "111111111111", "state": '
        '"ACTIVE", "status": "ACTIVE"}}',
        '{"type": "RECORD", "stream": "accounts", "record": {"id": "222222222222", "state": '
        '"SUSPENDED", "status": "SUSPENDED"}}',
        '{"type": "RECORD", "stream": "accounts", "record": {"id": "333333333333", "status": '
        '"ACTIVE"}}',
        '{"type": "RECORD", "stream": "ec2_instances", "record": {"id": "444444444444", "state": '
        '"ACTIVE"}}',
        '{"type": "STATE", "value": {}}',
    ]
    payload = json.dumps({"plans": cases, "singer": singer})
    done = airflow_home.python(_SHARDS, str(DAG_FILE), payload, env=airflow_home.env(clean_env()))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    plans = [{s["state_id_suffix"]: s["account_ids"] for s in plan} for plan in result["plans"]]

    for (ids, shards), plan in zip(cases, plans, strict=True):
        assert plan == expected_plan(ids, shards), (shards, len(ids))
        assert all(plan.values()), "an empty bucket was mapped"
    before, after = plans[0], plans[1]
    where = {a: s for s, ids in before.items() for a in ids}
    assert {a: s for s, ids in after.items() for a in ids if a in where} == where
    assert len(plans[2]) == 3  # three accounts, three of sixteen buckets, numbered as buckets
    assert plans[3] == {"shard-00-of-01": sorted(org)}
    assert all(re.fullmatch(r"shard-\d{3}-of-120", label) for label in plans[4]), plans[4]
    assert result["active"] == ["111111111111", "333333333333"]


def test_a_missing_state_connection_fails_the_task_and_says_what_to_do(
    airflow_home: AirflowHome,
) -> None:
    """Without the connection of Meltano's shared system database the DAG does not fall back to a
    worker's local SQLite file (where each worker would keep bookmarks of its own)."""
    params = {"project_dir": str(ROOT), "meltano_bin": "/nonexistent/meltano"}
    done = airflow_home.airflow(
        "tasks",
        "test",
        DAG_ID,
        "accounts",
        "--task-params",
        json.dumps(params),
        env=airflow_home.env(clean_env()),
    )
    output = done.stdout + done.stderr
    line = (
        "airflow.sdk.exceptions.AirflowNotFoundException: Airflow connection "
        "'tap_aws_uvm_meltano_db' is not defined: create it for Meltano's system database "
        "(PostgreSQL, where the state of every shard lives), or run with "
        'meltano_database_conn_id "" to use the project\'s own database_uri'
    )
    assert line in output.splitlines(), output[-5000:]


# ---------------------------------------------------------------------------------------------
# Running it


@dataclass(frozen=True)
class DagRun:
    run_id: str
    seconds: float
    output: str


_FAILURE = re.compile(r"\[error|Error:|Exception:|exited \d|returned a non-zero|failed", re.I)


def run_dag(home: AirflowHome, env: Mapping[str, str], conf: Mapping[str, Any]) -> DagRun:
    started = time.monotonic()
    done = home.airflow("dags", "test", DAG_ID, "--conf", json.dumps(conf), env=env)
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    log = home.home / f"dags-test-{uuid.uuid4().hex[:8]}.log"
    log.write_text(output)
    failures = [line for line in output.splitlines() if _FAILURE.search(line)]
    assert done.returncode == 0, (
        f"airflow dags test exited {done.returncode} (whole output: {log}):\n"
        + "\n".join(failures[-40:])
    )
    (run_id, state), *_ = home.query(
        "select run_id, state from dag_run where dag_id = ? order by id desc", DAG_ID
    )
    assert state == "success", output[-8000:]
    return DagRun(run_id, seconds, output)


def timings(home: AirflowHome, run: DagRun) -> str:
    rows = home.query(
        "select task_id, rendered_map_index, duration from task_instance "
        "where dag_id = ? and run_id = ? order by start_date",
        DAG_ID,
        run.run_id,
    )
    tasks = ", ".join(f"{label or task} {seconds:.1f}s" for task, label, seconds in rows)
    return f"{run.seconds:.1f}s ({tasks})"


def task_instances(home: AirflowHome, run_id: str) -> dict[tuple[str, str | None], Any]:
    rows = home.query(
        "select task_id, rendered_map_index, state, max_tries from task_instance "
        "where dag_id = ? and run_id = ?",
        DAG_ID,
        run_id,
    )
    return {(task, label): (state, tries) for task, label, state, tries in rows}


def xcom(home: AirflowHome, run_id: str, task_id: str) -> Any:
    ((value,),) = home.query(
        "select value from xcom where dag_id = ? and run_id = ? and task_id = ? "
        "and key = 'return_value'",
        DAG_ID,
        run_id,
        task_id,
    )
    return json.loads(value)


def stream_catalog() -> list[dict[str, Any]]:
    done = subprocess.run(
        [TAP, "--discover"], capture_output=True, text=True, env=clean_env(), check=True
    )
    streams: list[dict[str, Any]] = json.loads(done.stdout)["streams"]
    return streams


def meltano_state_ids(sys_dir: Path, database_uri: str) -> set[str]:
    """``meltano state list``, with the state backend the DAG's tasks used."""
    env = demo.meltano_env(
        {
            "MELTANO_ENVIRONMENT": ENVIRONMENT,
            "MELTANO_SYS_DIR_ROOT": str(sys_dir),
            "MELTANO_DATABASE_URI": database_uri,
        },
        demo=True,
    )
    done = demo.meltano(ROOT, "state", "list", env=env, capture=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(done.stdout.split())


_STORED_STATES = """
import json, sys
import psycopg
with psycopg.connect(sys.argv[1]) as con:
    rows = con.execute("select state_id, partial_state, completed_state from state").fetchall()
print(json.dumps({state_id: [partial, completed] for state_id, partial, completed in rows}))
"""


def stored_states(meltano_database: str) -> dict[str, dict[str, Any]]:
    """Each state ID's state as Meltano stored it in PostgreSQL (its ``state`` table), read with
    target-postgres's driver; a completed run leaves no partial state."""
    rows = test_meltano.in_loader_python(LOADER, _STORED_STATES, meltano_database)
    partial = {state_id: json.loads(row[0]) for state_id, row in rows.items()}
    assert all(value == {} for value in partial.values()), partial
    return {state_id: json.loads(completed) for state_id, (_, completed) in rows.items()}


def bookmarks(state: Mapping[str, Any], stream: str) -> dict[tuple[str, str], str]:
    """(account_id, region) -> the partition's bookmark, of one stream in one state."""
    partitions = state["singer_state"]["bookmarks"][stream]["partitions"]
    return {
        (p["context"]["account_id"], p["context"]["region"]): p["replication_key_value"]
        for p in partitions
    }


def test_dag_shards_the_organization_into_postgres_and_runs_incrementally_per_shard(
    airflow_home: AirflowHome,
    demo_org: DemoOrg,
    postgres_dsn: str,
    meltano_sys_dir: Path,
    meltano_database: str,
) -> None:
    test_started = time.monotonic()
    catalog = stream_catalog()
    keys = {s["tap_stream_id"]: list(s["key_properties"]) for s in catalog}
    replication_keys = {
        s["tap_stream_id"]: s["replication_key"] for s in catalog if s.get("replication_key")
    }
    incremental = sorted(replication_keys)
    assert incremental, "the tap has no incremental stream"
    assert set(incremental) <= set(FINDING_SERVICES), incremental
    expected = {stream: n for stream, n in demo_org.expected.items() if stream in keys}
    assert all(expected[s] for s in incremental), expected

    shards = telling_shard_count(demo_org.active_ids)
    plan = expected_plan(demo_org.active_ids, shards)
    say(f"{len(demo_org.active_ids)} ACTIVE accounts in {shards} buckets: {plan}")
    schema = f"tap_uvm_airflow_{uuid.uuid4().hex[:8]}"
    database_uri = "postgresql+psycopg://" + meltano_database.split("://", 1)[1]
    env = airflow_home.env(
        demo.meltano_env({}, demo=True),  # no ambient AWS configuration, no tracking
        {
            MELTANO_DB_CONN: meltano_database,
            "AIRFLOW_VAR_TAP_AWS_UVM_RETRIES": "0",
            "TAP_AWS_UVM_ENDPOINT_URL": demo_org.endpoint_url,
            "MELTANO_SYS_DIR_ROOT": str(meltano_sys_dir),
            **test_meltano.postgres_env(postgres_dsn, schema),
        },
    )
    conf = {
        "meltano_bin": str(demo.meltano_bin(ROOT)),
        "project_dir": str(ROOT),
        "environment": ENVIRONMENT,
        "loader": LOADER,
        "shards": shards,
    }

    def check_run(run: DagRun) -> None:
        tis = task_instances(airflow_home, run.run_id)
        assert tis == {
            ("accounts", None): ("success", 0),
            ("shard_plan", None): ("success", 0),
            **{("shard", label): ("success", 0) for label in plan},
        }
        assert xcom(airflow_home, run.run_id, "accounts") == demo_org.active_ids
        assert xcom(airflow_home, run.run_id, "shard_plan") == [
            {"state_id_suffix": label, "account_ids": ids} for label, ids in plan.items()
        ]
        counts = test_meltano.table_counts(
            LOADER, test_meltano._POSTGRES_COUNTS, postgres_dsn, schema, keys
        )
        assert {table: rows for table, (rows, _) in counts.items() if table in expected} == (
            expected
        )
        assert set(counts) <= set(keys), "a table that is no stream of the tap"
        duplicates = {t: c for t, c in counts.items() if c[0] != c[1]}
        assert duplicates == {}, "(rows, distinct keys) of tables with a key twice"

    # -- the first run: every stream loaded, one state ID per non-empty shard
    first = run_dag(airflow_home, env, conf)
    say(f"first DAG run: {timings(airflow_home, first)}")
    check_run(first)
    state_ids = {f"{ENVIRONMENT}:tap-aws-uvm-to-{LOADER}:{label}" for label in plan}
    assert meltano_state_ids(meltano_sys_dir, database_uri) == state_ids
    states = stored_states(meltano_database)
    assert set(states) == state_ids
    before = {}
    for label, ids in plan.items():
        state = states[f"{ENVIRONMENT}:tap-aws-uvm-to-{LOADER}:{label}"]
        before[label] = {stream: bookmarks(state, stream) for stream in incremental}
        for stream in incremental:
            assert set(before[label][stream]) == {(a, r) for a in ids for r in DEMO_REGIONS}
            assert all(before[label][stream].values()), (label, stream)

    # -- new activity in one partition of every shard, then the second run
    changed: dict[str, set[str]] = {stream: set() for stream in incremental}
    touched = {label: (ids[0], DEMO_REGIONS[0]) for label, ids in plan.items()}
    for account_id, region in touched.values():
        for stream in incremental:
            service = FINDING_SERVICES[stream]
            updates = update_findings(demo_org.endpoint_url, service, account_id, region, count=2)
            assert updates, (stream, account_id, region)
            changed[stream] |= {u["id"] for u in updates}
    second_started = dt.datetime.now(dt.UTC).isoformat()
    second = run_dag(airflow_home, env, conf)
    say(f"second DAG run: {timings(airflow_home, second)}")
    assert second.run_id != first.run_id
    check_run(second)
    assert meltano_state_ids(meltano_sys_dir, database_uri) == state_ids
    states = stored_states(meltano_database)
    assert set(states) == state_ids

    shard_of = {a: label for label, ids in plan.items() for a in ids}
    for stream in incremental:
        key = keys[stream][0]
        updated = replication_keys[stream]
        rows = test_meltano.extracted_since(
            postgres_dsn, schema, stream, second_started, key, updated
        )
        assert changed[stream] <= {row[0] for row in rows}, f"{stream}: changes not extracted"
        everything = test_meltano.extracted_since(postgres_dsn, schema, stream, EPOCH, key, updated)
        for label, ids in plan.items():
            read = sum(1 for row in rows if row[1] in ids)
            total = sum(1 for row in everything if row[1] in ids)
            assert 0 < read < total, f"{stream} {label}: the second run read {read} of {total}"
        for found, account_id, region, updated_at in rows:
            mark = before[shard_of[account_id]][stream][(account_id, region)]
            floor = parse_timestamp(mark) - LOOKBACK
            assert parse_timestamp(updated_at.replace(" ", "T")) >= floor, (stream, found)

    for label in plan:
        state = states[f"{ENVIRONMENT}:tap-aws-uvm-to-{LOADER}:{label}"]
        for stream in incremental:
            after = bookmarks(state, stream)
            assert set(after) == set(before[label][stream])
            for partition, mark in after.items():
                assert mark >= before[label][stream][partition], (label, stream, partition)
            assert after[touched[label]] > before[label][stream][touched[label]], (label, stream)
    say(f"test wall time {time.monotonic() - test_started:.1f}s (both DAG runs and the checks)")
