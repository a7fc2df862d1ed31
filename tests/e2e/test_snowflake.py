"""Snowflake end to end: ``meltano run tap-aws-uvm target-snowflake`` into fakesnow.

The loader is the one meltano.yml pins (meltanolabs-target-snowflake, installed by ``meltano
install``); Snowflake is fakesnow 0.12.1 in server mode (its own environment, built by this module
from tests/e2e/snowflake_requirements.txt into .meltano/fakesnow-0.12.1/), reached over HTTP by
the target's own Snowflake driver with key-pair authentication. fakesnow lacks a few statements
the target sends; tests/e2e/snowflake_shim/sitecustomize.py, on the target's PYTHONPATH only,
translates them (its docstring lists every rewrite) and logs what the target generated beside what
was executed, which ``test_the_shim_keeps_the_targets_merge_keys_and_on_clause`` compares.

The AWS side is the demo organization (``aws_emulator.demo_org.seed_demo``) on an emulator of this
module's own; every expected count comes from what it seeded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_emulator import Emulator, demo
from aws_emulator.demo_org import seed_demo
from aws_emulator.findings import update_findings

from tap_aws_uvm.records import parse_timestamp
from tap_aws_uvm.settings import CONFIG_SCHEMA
from tests.e2e.tap_runner import TAP, clean_env

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHIM_DIR = HERE / "snowflake_shim"
REQUIREMENTS = HERE / "snowflake_requirements.txt"
FAKESNOW_VENV = ROOT / ".meltano" / "fakesnow-0.12.1"

DATABASE = "TAP_UVM_TEST"
SHIM_SCHEMA = "FAKESNOW_SHIM"
USER_STAGE = f"{DATABASE}.{SHIM_SCHEMA}.USER_STAGE"  # stands in for the user stage @~
# finding streams: emulator service -> (stream, the finding's id column)
FINDINGS = {
    "securityhub": ("securityhub_findings", "id"),
    "inspector2": ("inspector_findings", "finding_arn"),
}
pytestmark = pytest.mark.timeout(900)


# ---------------------------------------------------------------------------------------------
# fakesnow: its own environment and a server per module


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_or_fail(command: Sequence[str | Path], what: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    done = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode:
        pytest.fail(f"{what}: {' '.join(map(str, command))}\n{done.stderr[-3000:]}")


@pytest.fixture(scope="session")
def fakesnow_venv() -> Path:
    """fakesnow's environment, built once and rebuilt when its requirements change."""
    python = FAKESNOW_VENV / "bin" / "python"
    marker = FAKESNOW_VENV / "requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    with _file_lock(FAKESNOW_VENV.with_name("fakesnow.lock")):
        if python.exists() and marker.exists() and marker.read_text() == digest:
            return FAKESNOW_VENV
        shutil.rmtree(FAKESNOW_VENV, ignore_errors=True)
        uv = os.environ.get("UV") or shutil.which("uv")
        if uv:
            _run_or_fail([uv, "venv", "--quiet", "--python", sys.executable, FAKESNOW_VENV], "venv")
            install = [uv, "pip", "install", "--quiet", "--python", python, "-r", REQUIREMENTS]
        else:
            _run_or_fail([sys.executable, "-m", "venv", FAKESNOW_VENV], "venv")
            install = [python, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS]
        _run_or_fail(install, "installing fakesnow")
        marker.write_text(digest)
    return FAKESNOW_VENV


# A client kept running with fakesnow's Python (it has snowflake-connector-python, which takes
# seconds to import): one JSON request a line in ({"database", "statements"}), one JSON reply a
# line out ({"results": one list of rows per statement} or {"error"}).
_SQL_CLIENT = """
import json, sys
import snowflake.connector
host, port = sys.argv[1], int(sys.argv[2])
connections = {}
for line in sys.stdin:
    request = json.loads(line)
    try:
        database = request["database"]
        if database not in connections:
            connections[database] = snowflake.connector.connect(
                account="fakesnow", user="TEST", password="test", host=host, port=port,
                protocol="http", database=database, network_timeout=60, login_timeout=60,
            )
        results = []
        for statement in request["statements"]:
            cursor = connections[database].cursor()
            cursor.execute(statement)
            results.append([list(row) for row in cursor.fetchall()])
        reply = {"results": results}
    except Exception as exc:
        reply = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(reply, default=str), flush=True)
"""


@dataclass
class Fakesnow:
    host: str
    port: int
    log: Path
    client: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def query(self, *statements: str, database: str | None = DATABASE) -> list[list[list[Any]]]:
        """Each statement's rows, read through Snowflake's own Python driver."""
        assert self.client.stdin
        assert self.client.stdout
        self.client.stdin.write(json.dumps({"database": database, "statements": statements}))
        self.client.stdin.write("\n")
        self.client.stdin.flush()
        reply = json.loads(self.client.stdout.readline() or '{"error": "the client exited"}')
        assert "error" not in reply, f"{statements}: {reply['error']}"
        results: list[list[list[Any]]] = reply["results"]
        return results


@pytest.fixture(scope="module")
def fakesnow(fakesnow_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakesnow]:
    """``fakesnow -s`` on a free port of 127.0.0.1, with the database the target loads into and
    the named stage the shim uses for the user stage; its staged files go to a temporary dir."""
    workdir = tmp_path_factory.mktemp("fakesnow")
    log = workdir / "server.log"
    env = {**os.environ, "TMPDIR": str(workdir)}
    env.pop("VIRTUAL_ENV", None)
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(fakesnow_venv / "bin" / "fakesnow"), "-s", "--host", "127.0.0.1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    client = None
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"running on http://([\d.]+):(\d+)", log.read_text())):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"fakesnow did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        client = subprocess.Popen(
            [str(fakesnow_venv / "bin" / "python"), "-c", _SQL_CLIENT, found[1], found[2]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        started = Fakesnow(found[1], int(found[2]), log, client)
        started.query(
            f"create database {DATABASE}",
            f"create schema {DATABASE}.{SHIM_SCHEMA}",
            f"create stage {USER_STAGE}",
            database=None,
        )
        yield started
    finally:
        if client is not None and client.stdin:
            client.stdin.close()  # the client's loop ends with its input
            _stop(client, timeout=30)
        server.send_signal(signal.SIGINT)  # fakesnow's own way to stop
        _stop(server, timeout=15)


def _stop(process: subprocess.Popen[Any], timeout: float) -> None:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------------------------------------
# The demo organization, the tap's catalog, Meltano


@dataclass
class Seeded:
    endpoint_url: str
    expected: dict[str, int]  # stream -> records seed_demo says it must load


@pytest.fixture(scope="module")
def aws() -> Iterator[Seeded]:
    with Emulator.start() as started:
        yield Seeded(started.endpoint_url, seed_demo(started.endpoint_url))


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict[str, Any]]:
    """The tap's streams: {stream: catalog entry} from its own --discover."""
    done = subprocess.run(
        [TAP, "--discover"], capture_output=True, text=True, check=False, env=clean_env()
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {s["tap_stream_id"]: s for s in json.loads(done.stdout)["streams"]}


def loader_block() -> dict[str, Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (loader,) = [p for p in project["plugins"]["loaders"] if p["name"] == "target-snowflake"]
    block: dict[str, Any] = loader
    return block


@pytest.fixture(scope="module")
def private_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RSA key for key-pair authentication, the way production authenticates (fakesnow
    accepts any key, but the target and its driver load it and sign the login with it)."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("snowflake-key") / "rsa_key.p8"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def target_settings(fakesnow: Fakesnow, private_key: Path) -> dict[str, str]:
    """The production settings (README), pointed at fakesnow's account, plus the shim's."""
    return {
        "TARGET_SNOWFLAKE_ACCOUNT": "fakesnow",
        "TARGET_SNOWFLAKE_USER": "TAP_AWS_UVM_LOADER",
        "TARGET_SNOWFLAKE_PRIVATE_KEY_PATH": str(private_key),
        "TARGET_SNOWFLAKE_ROLE": "TAP_AWS_UVM_LOADER",
        "TARGET_SNOWFLAKE_WAREHOUSE": "LOADING",
        "TARGET_SNOWFLAKE_DATABASE": DATABASE,
        "TAP_UVM_FAKESNOW_URL": fakesnow.url,
        "TAP_UVM_FAKESNOW_STAGE": USER_STAGE,
    }


@pytest.fixture(scope="module")
def meltano_sys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tap and target-snowflake installed into .meltano/ by ``meltano install``; this
    module's runs get a system directory of their own (state database, run files).

    It shares the tap's environment, and target-snowflake's through a view of that environment
    whose ``bin/target-snowflake`` puts the shim on PYTHONPATH, then runs the installed one
    (Meltano drops PYTHONPATH from a plugin's environment: meltano/core/plugin_invoker.py).
    The installed environment itself is not touched.
    """
    env = demo.meltano_env({"MELTANO_ENVIRONMENT": "ci"}, demo=True)
    demo.install_plugins(ROOT, ["tap-aws-uvm", "target-snowflake"], env)
    sys_dir = tmp_path_factory.mktemp("meltano-sys")
    (sys_dir / "extractors").symlink_to(ROOT / ".meltano" / "extractors", target_is_directory=True)
    installed = ROOT / ".meltano" / "loaders" / "target-snowflake" / "venv"
    view = sys_dir / "loaders" / "target-snowflake" / "venv"
    (view / "bin").mkdir(parents=True)
    for entry in installed.iterdir():
        if entry.name != "bin":
            (view / entry.name).symlink_to(entry)
    for entry in (installed / "bin").iterdir():
        if entry.name != "target-snowflake":
            (view / "bin" / entry.name).symlink_to(entry)
    wrapper = view / "bin" / "target-snowflake"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH={shlex.quote(str(SHIM_DIR))} "
        f'exec {shlex.quote(str(installed / "bin" / "target-snowflake"))} "$@"\n'
    )
    wrapper.chmod(0o755)
    return sys_dir


# ---------------------------------------------------------------------------------------------
# Reading the warehouse back


def table_name(stream: str) -> str:
    return stream.upper()


def key_columns(catalog: Mapping[str, dict[str, Any]], stream: str) -> list[str]:
    return [k.upper() for k in catalog[stream]["key_properties"]]


def table_counts(
    fakesnow: Fakesnow, schema: str, catalog: Mapping[str, dict[str, Any]]
) -> dict[str, tuple[int, int]]:
    """{stream: (rows, distinct keys)} for every table of ``schema`` (nulls count as a key)."""
    (tables,) = fakesnow.query(
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' order by 1"
    )
    streams = [name.lower() for (name,) in tables]
    assert set(streams) <= set(catalog), f"tables the tap has no stream for: {streams}"
    statements = []
    for stream in streams:
        full = f"{DATABASE}.{schema}.{table_name(stream)}"
        keys = ", ".join(key_columns(catalog, stream))
        statements.append(f"select count(*) from {full}")
        statements.append(f"select count(*) from (select distinct {keys} from {full})")
    results = fakesnow.query(*statements)
    return {
        stream: (results[2 * n][0][0], results[2 * n + 1][0][0]) for n, stream in enumerate(streams)
    }


def ntz(value: str) -> dt.datetime:
    """A TIMESTAMP_NTZ read back (UTC, as the target writes it)."""
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def emulator_time(value: str | float) -> dt.datetime:
    if isinstance(value, int | float):  # Inspector's epoch seconds
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return parse_timestamp(value)


def shim_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# ---------------------------------------------------------------------------------------------
# Two Meltano runs, with findings changed in between


@dataclass
class Loads:
    schema: str
    first: dict[str, tuple[int, int]]
    second: dict[str, tuple[int, int]]
    first_state: dict[str, Any]
    second_state: dict[str, Any]
    updated: dict[str, dict[str, dt.datetime]]  # stream -> {finding id: its new updated_at}
    updated_partition: tuple[str, str]
    second_started: dt.datetime
    first_log: list[dict[str, Any]]
    second_log: list[dict[str, Any]]


@pytest.fixture(scope="module")
def loads(
    aws: Seeded,
    fakesnow: Fakesnow,
    catalog: dict[str, dict[str, Any]],
    meltano_sys_dir: Path,
    private_key: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Loads:
    schema = str(loader_block()["config"]["default_target_schema"]).upper()
    suffix = f"test-{uuid.uuid4().hex[:12]}"
    state_id = f"ci:tap-aws-uvm-to-target-snowflake:{suffix}"
    logs = tmp_path_factory.mktemp("shim-log")

    def meltano(*args: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
        extra = {
            "MELTANO_ENVIRONMENT": "ci",
            "MELTANO_SYS_DIR_ROOT": str(meltano_sys_dir),
            "TAP_AWS_UVM_ENDPOINT_URL": aws.endpoint_url,
            **target_settings(fakesnow, private_key),
        }
        if log is not None:
            extra["TAP_UVM_FAKESNOW_LOG"] = str(log)
        env = demo.meltano_env(extra, demo=True)
        done = demo.meltano(ROOT, *args, env=env, capture=True, check=False, timeout=600)
        target_lines = [line for line in done.stderr.splitlines() if "target-snowflake" in line]
        assert done.returncode == 0, (
            f"meltano {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}\n"
            + "\n".join(target_lines[-40:])
            + f"\nfakesnow:\n{fakesnow.log.read_text()[-3000:]}"
        )
        return done

    def run(log: Path) -> None:
        meltano("run", f"--state-id-suffix={suffix}", "tap-aws-uvm", "target-snowflake", log=log)

    def state() -> dict[str, Any]:
        bookmarks: dict[str, Any] = json.loads(meltano("state", "get", state_id).stdout)[
            "singer_state"
        ]["bookmarks"]
        return bookmarks

    run(logs / "first.jsonl")
    first = table_counts(fakesnow, schema, catalog)
    first_state = state()

    # change findings of one partition: their severity becomes CRITICAL, UpdatedAt now
    partitions = sorted(
        (p["context"]["account_id"], p["context"]["region"])
        for p in first_state["securityhub_findings"]["partitions"]
    )
    account_id, region = partitions[0]
    chosen = fakesnow.query(
        f"select id from {DATABASE}.{schema}.SECURITYHUB_FINDINGS where account_id = "
        f"'{account_id}' and region = '{region}' and severity:Label::string <> 'CRITICAL' "
        "order by id limit 3",
        f"select finding_arn from {DATABASE}.{schema}.INSPECTOR_FINDINGS where account_id = "
        f"'{account_id}' and region = '{region}' and severity <> 'CRITICAL' "
        "order by finding_arn limit 3",
    )
    updated: dict[str, dict[str, dt.datetime]] = {}
    for (service, (stream, _)), rows in zip(FINDINGS.items(), chosen, strict=True):
        assert len(rows) == 3, f"{stream}: no finding to change in {account_id}/{region}"
        changes = update_findings(
            aws.endpoint_url,
            service,
            account_id,
            region,
            ids=[r[0] for r in rows],
            severity="CRITICAL",
        )
        updated[stream] = {c["id"]: emulator_time(c["updated_at"]) for c in changes}

    second_started = dt.datetime.now(dt.UTC)
    run(logs / "second.jsonl")
    return Loads(
        schema=schema,
        first=first,
        second=table_counts(fakesnow, schema, catalog),
        first_state=first_state,
        second_state=state(),
        updated=updated,
        updated_partition=(account_id, region),
        second_started=second_started,
        first_log=shim_log(logs / "first.jsonl"),
        second_log=shim_log(logs / "second.jsonl"),
    )


# ---------------------------------------------------------------------------------------------
# The checks


def test_meltano_yml_pins_target_snowflake_for_upserts() -> None:
    loader = loader_block()
    assert loader["pip_url"] == "meltanolabs-target-snowflake==0.20.4"
    assert "variant" not in loader, "Meltano Hub is not reachable: declare plugins inline"
    assert loader["config"]["load_method"] == "upsert"
    settings = {s["name"]: s for s in loader["settings"]}
    for name in ("account", "user", "role", "warehouse", "database", "private_key_path"):
        assert name in settings, name
    for secret in ("private_key", "private_key_passphrase", "password"):
        assert settings[secret].get("sensitive") is True, secret


def test_first_run_loads_exactly_what_was_seeded(
    aws: Seeded, catalog: dict[str, dict[str, Any]], loads: Loads
) -> None:
    assert set(loads.first) == set(catalog), "one table per stream of the tap"
    # every stream the demo seeds records for (the tap may not have all of them yet)
    expected = {stream: count for stream, count in aws.expected.items() if stream in catalog}
    assert len(expected) >= 10, f"the tap's streams {sorted(catalog)}, seeded {aws.expected}"
    assert all(count > 0 for count in expected.values()), expected
    rows = {stream: count for stream, (count, _) in loads.first.items()}
    assert {stream: rows[stream] for stream in expected} == expected
    for stream, (count, distinct) in loads.first.items():
        assert count == distinct, f"{stream}: {count} rows, {distinct} distinct keys"


def test_second_run_upserts_keeping_one_row_per_key(
    fakesnow: Fakesnow, aws: Seeded, loads: Loads
) -> None:
    # sync_coverage is a history (its key starts with synced_at): each run adds its own rows
    rows, _ = loads.first["sync_coverage"]
    assert loads.second == {**loads.first, "sync_coverage": (2 * rows, 2 * rows)}
    assert all(count == distinct for count, distinct in loads.second.values()), loads.second
    # the changed findings were updated in place: new severity, new updated_at, same row
    for stream, id_column in FINDINGS.values():
        ids = ", ".join(f"'{i}'" for i in loads.updated[stream])
        severity = "severity:Label::string" if stream == "securityhub_findings" else "severity"
        (rows,) = fakesnow.query(
            f"select {id_column}, {severity}, updated_at "
            f"from {DATABASE}.{loads.schema}.{table_name(stream)} where {id_column} in ({ids})"
        )
        assert sorted(r[0] for r in rows) == sorted(loads.updated[stream]), stream
        for found, label, updated_at in rows:
            assert label == "CRITICAL", (stream, found)
            drift = abs(ntz(updated_at) - loads.updated[stream][found])
            assert drift < dt.timedelta(milliseconds=1), (stream, found, updated_at)


def test_state_round_trips_and_the_second_run_reads_from_the_bookmarks(
    fakesnow: Fakesnow, loads: Loads
) -> None:
    lookback = dt.timedelta(
        minutes=CONFIG_SCHEMA["properties"]["findings_lookback_minutes"]["default"]
    )
    for stream, id_column in FINDINGS.values():
        full = f"{DATABASE}.{loads.schema}.{table_name(stream)}"
        loaded_partitions, extracted = fakesnow.query(
            f"select distinct account_id, region from {full}",
            f"select {id_column}, account_id, region, updated_at from {full} "
            f"where _sdc_extracted_at >= '{loads.second_started:%Y-%m-%d %H:%M:%S.%f}'"
            "::timestamp_ntz",
        )
        # `meltano state get` after the first run: one bookmark per partition the rows came from
        marks = {
            (p["context"]["account_id"], p["context"]["region"]): p["replication_key_value"]
            for p in loads.first_state[stream]["partitions"]
        }
        assert set(marks) == {tuple(p) for p in loaded_partitions}, stream
        assert all(marks.values()), marks
        # the second run started from them: only findings at or after bookmark - lookback
        assert set(loads.updated[stream]) <= {row[0] for row in extracted}, stream
        assert 0 < len(extracted) < loads.first[stream][0], f"{stream}: read everything again"
        for found, account, region, updated_at in extracted:
            floor = parse_timestamp(marks[(account, region)]) - lookback
            assert ntz(updated_at) >= floor, (stream, found, updated_at)
        # and the bookmarks moved on: the changed partition's to its newest change
        after = {
            (p["context"]["account_id"], p["context"]["region"]): p["replication_key_value"]
            for p in loads.second_state[stream]["partitions"]
        }
        assert set(after) == set(marks), stream
        for partition, mark in after.items():
            assert parse_timestamp(mark) >= parse_timestamp(marks[partition]), partition
        newest = max(loads.updated[stream].values())
        moved = parse_timestamp(after[loads.updated_partition])
        assert abs(moved - newest) < dt.timedelta(milliseconds=1), (stream, moved, newest)


def variant_properties(entry: Mapping[str, Any]) -> set[str]:
    """The properties the target must store as VARIANT: objects and arrays."""
    out = set()
    for name, schema in entry["schema"]["properties"].items():
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if {"object", "array"} & set(types):
            out.add(name.upper())
    return out


def test_nested_objects_land_as_variant_and_paths_query_them(
    fakesnow: Fakesnow, catalog: dict[str, dict[str, Any]], loads: Loads
) -> None:
    (columns,) = fakesnow.query(
        "select table_name, column_name, data_type from information_schema.columns "
        f"where table_schema = '{loads.schema}'"
    )
    variant: dict[str, set[str]] = {}
    for table, column, data_type in columns:
        if data_type == "VARIANT":
            variant.setdefault(table.lower(), set()).add(column)
    for stream in loads.first:
        assert variant.get(stream, set()) == variant_properties(catalog[stream]), stream
    assert sum(map(len, variant.values())) > 50

    schema = f"{DATABASE}.{loads.schema}"
    tags, severities, resources, labels, flattened, packages, flattened_packages = fakesnow.query(
        f"select arn, tags:Name::string, tags from {schema}.EC2_INSTANCES order by arn",
        f"select id, severity:Label::string, severity from {schema}.SECURITYHUB_FINDINGS",
        f"select id, resources[0]:Type::string, resources[0]:Id::string, resources "
        f"from {schema}.SECURITYHUB_FINDINGS",
        f"select severity:Label::string as label, count(*) from {schema}.SECURITYHUB_FINDINGS "
        "group by label order by label",
        # the README's examples: one row per affected resource, per vulnerable package
        f"select f.id, r.value:Type::string, r.value:Id::string "
        f"from {schema}.SECURITYHUB_FINDINGS f, lateral flatten(input => f.resources) r",
        f"select package_vulnerability_details from {schema}.INSPECTOR_FINDINGS",
        "select package_vulnerability_details:vulnerabilityId::string, p.value:name::string, "
        f"p.value:fixedInVersion::string from {schema}.INSPECTOR_FINDINGS, "
        "lateral flatten(input => package_vulnerability_details:vulnerablePackages) p",
    )
    # each path answers what the whole VARIANT holds
    assert len(tags) == loads.first["ec2_instances"][0]
    for arn, name, whole in tags:
        assert name == json.loads(whole)["Name"], arn
    assert all(name for _, name, _ in tags)
    for found, label, whole in severities:
        assert label == json.loads(whole)["Label"], found
    for found, kind, resource_id, whole in resources:
        first = json.loads(whole)[0]
        assert (kind, resource_id) == (first["Type"], first["Id"]), found
    assert {label for label, _ in labels} <= {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}
    assert sum(count for _, count in labels) == loads.first["securityhub_findings"][0]
    every_resource = sorted(
        [found, r["Type"], r["Id"]] for found, _, _, whole in resources for r in json.loads(whole)
    )
    assert sorted(flattened) == every_resource
    every_package = sorted(
        [details["vulnerabilityId"], p["name"], p.get("fixedInVersion")]
        for (whole,) in packages
        if whole and (details := json.loads(whole))
        for p in details.get("vulnerablePackages", [])
    )
    assert every_package, "no Inspector package findings to flatten"
    assert sorted(flattened_packages, key=json.dumps) == sorted(every_package, key=json.dumps)


def readme_queries() -> list[str]:
    """The SQL examples of README.md's "Loading into Snowflake" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Loading into Snowflake\n", 1)[1].split("\n## ", 1)[0]
    examples = section.split("**Querying the nested AWS objects.**", 1)[1]
    (block,) = re.findall(r"```sql\n(.*?)```", examples, re.S)
    return [q.strip() for q in re.sub(r"--[^\n]*", "", block).split(";") if q.strip()]


def test_the_readme_queries_run_and_answer(fakesnow: Fakesnow, loads: Loads) -> None:
    queries = readme_queries()
    assert len(queries) >= 3, queries
    assert all(f"{loads.schema}." in q for q in queries), "README queries name the schema"
    for query, rows in zip(queries, fakesnow.query(*queries), strict=True):
        assert rows, f"no rows from the README's\n{query}"
        assert all(value is not None for value in rows[0]), (query, rows[0])


MERGE = re.compile(
    r"(?s)^merge into (?P<table>\S+) d using \((?P<source>.+?)\) s "
    r"(?P<on>on .+?) (?P<actions>when matched then .+)$"
)
CASTS = re.compile(r"(?:\$1|V):(\S+?)::(\S+) as (\S+?)(?:,|\s)")
PARTITION = re.compile(r"PARTITION BY (.+?) ORDER BY")


def test_the_shim_keeps_the_targets_merge_keys_and_on_clause(
    catalog: dict[str, dict[str, Any]], loads: Loads
) -> None:
    for log in (loads.first_log, loads.second_log):
        rules = [entry["rule"] for entry in log if entry["rule"]]
        assert set(rules) == {"put", "merge", "remove", "drop_file_format"}, set(rules)
        assert rules.count("put") == rules.count("merge") == rules.count("remove")
        assert not [s for e in log for s in e["executed"] if "@~" in s]
        merged = set()
        for entry in log:
            if entry["rule"] != "merge":
                continue
            generated = MERGE.match(entry["generated"])
            executed = MERGE.match(entry["executed"][-1])
            assert generated, entry["generated"]
            assert executed, entry["executed"]
            stream = generated["table"].split(".")[-1].strip('"').lower()
            merged.add(stream)
            # the same table, ON clause, UPDATE and INSERT, from the same typed columns
            for part in ("table", "on", "actions"):
                assert executed[part] == generated[part], (stream, part)
            assert CASTS.findall(executed["source"]) == CASTS.findall(generated["source"])
            assert PARTITION.findall(executed["source"]) == PARTITION.findall(generated["source"])
            # the ON clause is the stream's key, as the target wrote it
            keys = [k.lower() for k in catalog[stream]["key_properties"]]
            assert generated["on"] == "on " + " and ".join(f"d.{k} = s.{k}" for k in keys)
            assert PARTITION.findall(generated["source"]) == [", ".join(keys)]
            assert "SEQ8()" in generated["source"]
            assert "SEQ8()" not in executed["source"]
        assert merged == set(loads.first), merged


def test_a_batch_with_a_key_twice_keeps_its_last_record(
    fakesnow: Fakesnow, private_key: Path, meltano_sys_dir: Path, tmp_path: Path
) -> None:
    """The shim's stand-in for SEQ8(): the target's dedup still keeps the last record."""
    schema = "SHIM_DEDUP"
    config = {
        "account": "fakesnow",
        "user": "TAP_AWS_UVM_LOADER",
        "private_key_path": str(private_key),
        "database": DATABASE,
        "default_target_schema": schema,
        "load_method": "upsert",
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    properties = {
        "id": {"type": "string"},
        "n": {"type": "integer"},
        "detail": {"type": ["object", "null"], "properties": {"label": {"type": "string"}}},
    }
    records = [
        {"id": "a", "n": 1, "detail": {"label": "first"}},
        {"id": "b", "n": 1, "detail": {"label": "only"}},
        {"id": "a", "n": 2, "detail": {"label": "last"}},
    ]
    messages = [
        {
            "type": "SCHEMA",
            "stream": "probe",
            "key_properties": ["id"],
            "schema": {"type": "object", "properties": properties},
        },
        *({"type": "RECORD", "stream": "probe", "record": r} for r in records),
    ]
    env = {
        **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        **target_settings(fakesnow, private_key),
        "PYTHONPATH": str(SHIM_DIR),
        "TAP_UVM_FAKESNOW_LOG": str(tmp_path / "shim.jsonl"),
    }
    target = demo.python_of(ROOT, "loaders", "target-snowflake").with_name("target-snowflake")
    done = subprocess.run(
        [str(target), "--config", str(tmp_path / "config.json")],
        input="".join(json.dumps(m) + "\n" for m in messages),
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (rows,) = fakesnow.query(
        f"select id, n, detail:label::string from {DATABASE}.{schema}.PROBE order by id"
    )
    assert rows == [["a", 2, "last"], ["b", 1, "only"]]
    (merge,) = [e for e in shim_log(tmp_path / "shim.jsonl") if e["rule"] == "merge"]
    assert "ORDER BY SEQ8() DESC" in merge["generated"]
