"""Meltano end to end: ``meltano run tap-aws-uvm <target>`` against the emulator's organization.

Targets: PostgreSQL (a real server: ``TAP_UVM_TEST_POSTGRES`` as .ci/run exports it, or one this
module starts when PostgreSQL's binaries are installed), DuckDB and JSONL. Every table must hold
exactly the records the tap emits for the same config, and a second run must add no duplicate
key. Finding streams (when the tap has them) keep their bookmark through ``meltano state``.

Meltano (4.4.1) lives in its own environment under .meltano/, like the plugins; both are
installed once per test session (``aws_emulator.demo`` does the installing).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from aws_emulator import Emulator, demo
from aws_emulator.seed import MANAGEMENT_ACCOUNT_ID, TAP_ROLE_NAME, seed_organization

from tap_aws_uvm.records import parse_timestamp
from tap_aws_uvm.settings import CONFIG_SCHEMA
from tests.e2e.conftest import REGIONS, ROOT
from tests.e2e.tap_runner import FAKE_KEYS, TapRun, run_tap

FINDINGS = {"securityhub": "securityhub_findings", "inspector2": "inspector_findings"}
FINDINGS_PER_PARTITION = 25
pytestmark = pytest.mark.timeout(900)


# ---------------------------------------------------------------------------------------------
# meltano.yml itself


def meltano_yml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "meltano.yml").read_text())
    return loaded


def extractor() -> dict[str, Any]:
    (tap,) = [p for p in meltano_yml()["plugins"]["extractors"] if p["name"] == "tap-aws-uvm"]
    return tap


def test_meltano_yml_declares_every_setting_with_its_kind() -> None:
    declared = {s["name"]: s for s in extractor()["settings"]}
    properties = CONFIG_SCHEMA["properties"]
    assert set(declared) == set(properties)
    for name, schema in properties.items():
        setting = declared[name]
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if schema.get("secret"):
            assert setting.get("sensitive") is True or setting["kind"] == "password", name
        if "array" in types:
            assert setting["kind"] == "array", name
        elif "boolean" in types:
            assert setting["kind"] == "boolean", name
        elif "integer" in types:
            assert setting["kind"] == "integer", name
        elif schema.get("format") == "date-time":
            assert setting["kind"] == "date_iso8601", name
        if "default" in schema:
            assert setting.get("value") == schema["default"], name


def test_meltano_yml_plugins_are_inline_and_pinned() -> None:
    project = meltano_yml()
    tap = extractor()
    assert (tap["namespace"], tap["pip_url"], tap["executable"]) == (
        "tap_aws_uvm",
        "-e .",
        "tap-aws-uvm",
    )
    assert set(tap["capabilities"]) >= {
        "catalog",
        "discover",
        "state",
        "about",
        "stream-maps",
        "schema-flattening",
        "batch",
    }
    loaders = {p["name"]: p for p in project["plugins"]["loaders"]}
    for plugin in [tap, *loaders.values()]:
        assert "variant" not in plugin, "Meltano Hub is not reachable: declare plugins inline"
        assert plugin.get("pip_url"), plugin["name"]
    assert loaders["target-duckdb"]["pip_url"].split() == ["target-duckdb==0.8.0", "duckdb==1.2.2"]
    assert loaders["target-postgres"]["pip_url"] == "meltanolabs-target-postgres==0.8.1"
    assert {e["name"] for e in project["environments"]} >= {"dev", "ci"}


def test_ci_environment_is_the_seeded_organization() -> None:
    (ci,) = [e for e in meltano_yml()["environments"] if e["name"] == "ci"]
    (tap,) = ci["config"]["plugins"]["extractors"]
    assert tap["config"]["role_arn"] == f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/{TAP_ROLE_NAME}"
    assert tap["config"]["regions"] == REGIONS


def postgres_env(dsn: str, schema: str) -> dict[str, str]:
    url = urlparse(dsn)
    return {
        "TARGET_POSTGRES_HOST": url.hostname or "127.0.0.1",
        "TARGET_POSTGRES_PORT": str(url.port or 5432),
        "TARGET_POSTGRES_USER": url.username or "postgres",
        "TARGET_POSTGRES_PASSWORD": url.password or "",
        "TARGET_POSTGRES_DATABASE": url.path.lstrip("/"),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }


_POSTGRES_COUNTS = """
import json, sys
import psycopg
schema, keys = sys.argv[2], json.loads(sys.argv[3])
out = {}
with psycopg.connect(sys.argv[1]) as con:
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = %s", [schema])]
    for table in tables:
        cols = ", ".join(f'"{k}"' for k in keys.get(table, []))
        rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        distinct = con.execute(
            f'select count(*) from (select distinct {cols} from "{schema}"."{table}") d'
        ).fetchone()[0] if cols else None
        out[table] = [rows, distinct]
print(json.dumps(out))
"""

_DUCKDB_COUNTS = """
import json, sys
import duckdb
schema, keys = sys.argv[2], json.loads(sys.argv[3])
con = duckdb.connect(sys.argv[1], read_only=True)
out = {}
tables = [r[0] for r in con.execute(
    "select table_name from information_schema.tables where table_schema = ?", [schema]
).fetchall()]
for table in tables:
    cols = ", ".join(f'"{k}"' for k in keys.get(table, []))
    rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    distinct = con.execute(
        f'select count(*) from (select distinct {cols} from "{schema}"."{table}") d'
    ).fetchone()[0] if cols else None
    out[table] = [rows, distinct]
print(json.dumps(out))
"""


_POSTGRES_EXTRACTED_SINCE = """
import json, sys
import psycopg
dsn, schema, table, since, key, updated = sys.argv[1:7]
with psycopg.connect(dsn) as con:
    rows = con.execute(
        f'select "{key}", "account_id", "region", "{updated}"::text, "_sdc_extracted_at"::text '
        f'from "{schema}"."{table}" where "_sdc_extracted_at" >= %s::timestamptz', [since]
    ).fetchall()
print(json.dumps(rows))
"""


def in_loader_python(loader: str, script: str, *args: str) -> Any:
    """Run ``script`` with the loader's own Python (its database driver); its JSON output."""
    python = demo.python_of(ROOT, "loaders", loader)
    done = subprocess.run(
        [str(python), "-c", script, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def extracted_since(
    dsn: str, schema: str, table: str, since: str, key: str, updated: str = "updated_at"
) -> list[tuple[str, str, str, str]]:
    """(key, account_id, region, the ``updated`` column) of the rows a run at or after
    ``since`` wrote."""
    rows = in_loader_python(
        "target-postgres", _POSTGRES_EXTRACTED_SINCE, dsn, schema, table, since, key, updated
    )
    return [tuple(row[:4]) for row in rows]


def table_counts(
    loader: str, script: str, target: str, schema: str, keys: Mapping[str, Sequence[str]]
) -> dict[str, tuple[int, int | None]]:
    """{table: (rows, distinct primary keys)} read with the loader's own driver."""
    counts = in_loader_python(loader, script, target, schema, json.dumps(keys))
    return {t: (rows, distinct) for t, (rows, distinct) in counts.items()}


# ---------------------------------------------------------------------------------------------
# The emulator, Meltano and the tap's own output for the same config


@dataclass
class Seeded:
    endpoint_url: str
    partitions: list[tuple[str, str]]  # every ACTIVE (account, region)


@pytest.fixture(scope="module")
def aws() -> Iterator[Seeded]:
    """An emulator of this module's own: findings are generated into it, which the session's
    shared organization must not see."""
    with Emulator.start() as started:
        org = seed_organization(started.endpoint_url, regions=REGIONS, members=2, suspended=1)
        assert org.management_role_arn == extractor_ci_config()["role_arn"]
        partitions = [(p.account_id, p.region) for p in org.partitions()]
        now = time.time()
        for service in FINDINGS:
            for n, (account_id, region) in enumerate(partitions):
                demo_generate(started.endpoint_url, service, account_id, region, n, now)
        yield Seeded(started.endpoint_url, partitions)


def demo_generate(
    endpoint_url: str, service: str, account_id: str, region: str, seed: int, now: float
) -> None:
    from aws_emulator.findings import generate_findings  # noqa: PLC0415

    generate_findings(
        endpoint_url,
        service,
        account_id,
        region,
        FINDINGS_PER_PARTITION,
        start=now - 20 * 86400,
        end=now - 3 * 3600,
        seed=seed,
    )


def extractor_ci_config() -> dict[str, Any]:
    (ci,) = [e for e in meltano_yml()["environments"] if e["name"] == "ci"]
    (tap,) = ci["config"]["plugins"]["extractors"]
    config: dict[str, Any] = tap["config"]
    return config


@pytest.fixture(scope="module")
def tap_config(aws: Seeded) -> dict[str, Any]:
    """What the ci environment gives the tap, plus the emulator's endpoint."""
    return {**extractor_ci_config(), "endpoint_url": aws.endpoint_url}


@pytest.fixture(scope="module")
def direct(tap_config: dict[str, Any]) -> TapRun:
    """The tap run on its own, with the same config: the reference for every target."""
    assert all(tap_config[k] == v for k, v in FAKE_KEYS.items())
    run = run_tap(tap_config)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def stream_keys(direct: TapRun) -> dict[str, list[str]]:
    return {
        m["stream"]: list(m["key_properties"]) for m in direct.messages if m["type"] == "SCHEMA"
    }


@pytest.fixture
def run_meltano(meltano_installed: Path, aws: Seeded) -> Any:
    suffix = f"test-{uuid.uuid4().hex[:12]}"

    def run(*args: str, extra: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = demo.meltano_env(
            {
                "MELTANO_ENVIRONMENT": "ci",
                "MELTANO_SYS_DIR_ROOT": str(meltano_installed),
                "TAP_AWS_UVM_ENDPOINT_URL": aws.endpoint_url,
                **(extra or {}),
            },
            demo=True,
        )
        if args and args[0] == "run":
            args = ("run", f"--state-id-suffix={suffix}", *args[1:])
        done = demo.meltano(ROOT, *args, env=env, capture=True, check=False, timeout=600)
        assert done.returncode == 0, f"meltano {' '.join(args)}:\n{done.stderr[-5000:]}"
        return done

    run.suffix = suffix  # type: ignore[attr-defined]
    return run


def after_another_run(
    first: dict[str, tuple[int, int | None]],
) -> dict[str, tuple[int, int | None]]:
    """The tables after a second identical run: the same rows (upserts), but sync_coverage,
    whose key holds synced_at: each run's rows are its own (the coverage history)."""
    rows, distinct = first["sync_coverage"]
    return {**first, "sync_coverage": (2 * rows, None if distinct is None else 2 * distinct)}


def expected(direct: TapRun) -> dict[str, int]:
    """Rows per table: every stream the tap described (a SCHEMA message makes a table, empty
    or not), with the records it emitted."""
    described = {m["stream"] for m in direct.messages if m["type"] == "SCHEMA"}
    records = direct.records
    return {stream: len(records.get(stream, [])) for stream in described}


def assert_no_duplicate_keys_from_tap(direct: TapRun, keys: Mapping[str, Sequence[str]]) -> None:
    for stream, records in direct.records.items():
        seen = Counter(tuple(json.dumps(r.get(k)) for k in keys[stream]) for r in records)
        assert max(seen.values()) == 1, f"{stream}: the tap emitted a key twice"


# ---------------------------------------------------------------------------------------------
# The runs


def test_meltano_run_into_postgres_twice_keeps_one_row_per_key(
    run_meltano: Any,
    aws: Seeded,
    postgres_dsn: str,
    direct: TapRun,
    stream_keys: dict[str, list[str]],
) -> None:
    schema = f"tap_uvm_{uuid.uuid4().hex[:8]}"
    extra = postgres_env(postgres_dsn, schema)
    assert_no_duplicate_keys_from_tap(direct, stream_keys)
    run_meltano("run", "tap-aws-uvm", "target-postgres", extra=extra)
    first = table_counts("target-postgres", _POSTGRES_COUNTS, postgres_dsn, schema, stream_keys)
    assert {t: rows for t, (rows, _) in first.items()} == expected(direct)

    # the state round-trips through Meltano's state backend
    state_id = f"ci:tap-aws-uvm-to-target-postgres:{run_meltano.suffix}"
    state = json.loads(run_meltano("state", "get", state_id).stdout)["singer_state"]["bookmarks"]
    marks = {
        (stream, p["context"]["account_id"], p["context"]["region"]): p["replication_key_value"]
        for stream in FINDINGS.values()
        for p in state[stream]["partitions"]
    }
    assert len(marks) == len(FINDINGS) * len(aws.partitions)
    assert all(marks.values())

    from aws_emulator.findings import update_findings  # noqa: PLC0415

    account_id, region = aws.partitions[-1]
    updated = {
        stream: {
            c["id"] for c in update_findings(aws.endpoint_url, service, account_id, region, count=4)
        }
        for service, stream in FINDINGS.items()
    }
    second_started = dt.datetime.now(dt.UTC).isoformat()
    run_meltano("run", "tap-aws-uvm", "target-postgres", extra=extra)
    second = table_counts("target-postgres", _POSTGRES_COUNTS, postgres_dsn, schema, stream_keys)
    assert second == after_another_run(first)  # upserts: no new row, no duplicate key
    assert all(rows == distinct for rows, distinct in second.values()), second

    lookback = dt.timedelta(minutes=60)  # the tap's default findings_lookback_minutes
    for stream, key in (("securityhub_findings", "id"), ("inspector_findings", "finding_arn")):
        rows = extracted_since(postgres_dsn, schema, stream, second_started, key)
        assert updated[stream] <= {row[0] for row in rows}, f"{stream}: changes not extracted"
        assert 0 < len(rows) < first[stream][0], f"{stream}: the second run read everything"
        for found, account, where, updated_at in rows:
            floor = parse_timestamp(marks[(stream, account, where)]) - lookback
            assert parse_timestamp(updated_at.replace(" ", "T")) >= floor, found


def test_meltano_run_into_duckdb_twice_keeps_one_row_per_key(
    run_meltano: Any, tmp_path: Path, direct: TapRun, stream_keys: dict[str, list[str]]
) -> None:
    path = tmp_path / "warehouse.duckdb"
    extra = {"TARGET_DUCKDB_FILEPATH": str(path), "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": "uvm"}
    run_meltano("run", "tap-aws-uvm", "target-duckdb", extra=extra)
    first = table_counts("target-duckdb", _DUCKDB_COUNTS, str(path), "uvm", stream_keys)
    assert {t: rows for t, (rows, _) in first.items()} == expected(direct)
    run_meltano("run", "tap-aws-uvm", "target-duckdb", extra=extra)
    second = table_counts("target-duckdb", _DUCKDB_COUNTS, str(path), "uvm", stream_keys)
    assert second == after_another_run(first)
    assert all(rows == distinct for rows, distinct in second.values()), second


def jsonl_records(directory: Path) -> dict[str, list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.jsonl")):
        stream = path.name.split("-")[0]
        lines = path.read_text().splitlines()
        records.setdefault(stream, []).extend(json.loads(line) for line in lines if line)
    return records


def test_meltano_run_into_jsonl_and_finding_state_round_trips(
    run_meltano: Any, aws: Seeded, tmp_path: Path, direct: TapRun
) -> None:
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    run_meltano(
        "run",
        "tap-aws-uvm",
        "target-jsonl",
        extra={"TARGET_JSONL_DESTINATION_PATH": str(first_dir)},
    )
    first = jsonl_records(first_dir)
    # target-jsonl writes a file only for a stream with records
    assert {s: len(r) for s, r in first.items()} == {s: n for s, n in expected(direct).items() if n}

    finding_streams = list(FINDINGS.values())
    assert all(direct.records[s] for s in finding_streams), "the demo org has no findings"

    state_id = f"ci:tap-aws-uvm-to-target-jsonl:{run_meltano.suffix}"
    listed = run_meltano("state", "list").stdout.split()
    assert state_id in listed, listed
    state = json.loads(run_meltano("state", "get", state_id).stdout)
    bookmarks = state["singer_state"]["bookmarks"]
    for stream in finding_streams:
        assert json.dumps(bookmarks[stream]).count("replication_key_value"), bookmarks[stream]

    # new activity in one partition, then an incremental run from the stored state
    from aws_emulator.findings import update_findings  # noqa: PLC0415

    account_id, region = aws.partitions[0]
    updated = {
        service: update_findings(aws.endpoint_url, service, account_id, region, count=3)
        for service, stream in FINDINGS.items()
        if stream in finding_streams
    }
    run_meltano(
        "run",
        "tap-aws-uvm",
        "target-jsonl",
        extra={"TARGET_JSONL_DESTINATION_PATH": str(second_dir)},
    )
    second = jsonl_records(second_dir)
    id_field = {"securityhub_findings": "id", "inspector_findings": "finding_arn"}
    lookback = dt.timedelta(minutes=60)  # the tap's default findings_lookback_minutes
    for service, changes in updated.items():
        stream = FINDINGS[service]
        ids = {r[id_field[stream]] for r in second.get(stream, [])}
        assert {c["id"] for c in changes} <= ids, f"{stream}: updated findings not re-read"
        assert len(second.get(stream, [])) < len(first[stream]), f"{stream} read everything again"
        # the incremental run extracted only findings updated at or after bookmark - lookback
        marks = {
            (p["context"]["account_id"], p["context"]["region"]): p["replication_key_value"]
            for p in bookmarks[stream]["partitions"]
        }
        for record in second[stream]:
            floor = parse_timestamp(marks[(record["account_id"], record["region"])]) - lookback
            assert parse_timestamp(record["updated_at"]) >= floor, record[id_field[stream]]
    after = json.loads(run_meltano("state", "get", state_id).stdout)["singer_state"]["bookmarks"]
    for stream in finding_streams:
        assert after[stream] != bookmarks[stream], f"{stream}: bookmark did not move"
        before = {
            json.dumps(p["context"]): p["replication_key_value"]
            for p in bookmarks[stream]["partitions"]
        }
        for partition in after[stream]["partitions"]:
            assert partition["replication_key_value"] >= before[json.dumps(partition["context"])]
