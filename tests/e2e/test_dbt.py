"""The warehouse models (transform/), run by Meltano after the load, on DuckDB and PostgreSQL.

Over the demo organization (``seed_demo_expectations``, in an emulator of this module's own):

    meltano run tap-aws-uvm target-duckdb dbt-duckdb:build
    meltano run tap-aws-uvm target-postgres dbt-postgres:build

as written in the README, in the ci environment. Every model must hold exactly the rows the seed
implies (tests/e2e/dbt_models.py derives them from DemoExpectations), the same on both
databases, with every dbt test passing. Then an S3 bucket is deleted and one partition denied,
and a second run of each must mark the bucket deleted, keep the denied partition's instances,
and keep every first_seen_at. Meltano and PostgreSQL come from tests/e2e/test_meltano.py's
fixtures.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_emulator import Emulator, demo
from aws_emulator.day_one import Answer, day_one_answers, day_one_sql
from aws_emulator.demo_org import DemoExpectations, seed_demo_expectations

from tests.e2e import test_meltano
from tests.e2e.dbt_models import (
    Snapshot,
    basic_ecr_scores,
    expected_asset_types,
    expected_findings,
    expected_links,
    expected_partitions,
    expected_scan_status,
    finding_identity,
    images_with_critical_cves,
    loaded_findings,
    read_models,
)

ROOT = Path(__file__).resolve().parents[2]
UTILITIES = ("dbt-duckdb", "dbt-postgres")
KINDS = ("duckdb", "postgres")
DBT_DONE = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)")
pytestmark = pytest.mark.timeout(1800)

# ---------------------------------------------------------------------------------------------
# what is declared and documented (no emulator needed)


def test_meltano_yml_declares_the_dbt_utilities_inline_and_pinned() -> None:
    project = test_meltano.meltano_yml()
    utilities = {p["name"]: p for p in project["plugins"]["utilities"]}
    loaders = {p["name"]: p for p in project["plugins"]["loaders"]}
    assert set(UTILITIES) <= set(utilities)
    duckdb_pin = [r for r in loaders["target-duckdb"]["pip_url"].split() if r.startswith("duckdb")]
    assert utilities["dbt-duckdb"]["pip_url"].split() == [
        "dbt-core~=1.11.0",
        "dbt-duckdb~=1.10.0",
        *duckdb_pin,
    ]
    assert utilities["dbt-postgres"]["pip_url"].split() == [
        "dbt-core~=1.11.0",
        "dbt-postgres~=1.10.0",
    ]
    for name in UTILITIES:
        plugin = utilities[name]
        assert "variant" not in plugin
        assert plugin["executable"] == "dbt"
        assert plugin["commands"]["build"]["args"] == "build"
        settings = {s["name"]: s for s in plugin["settings"]}
        assert settings["project_dir"]["value"] == "$MELTANO_PROJECT_ROOT/transform"
        assert settings["target"]["value"] == name.removeprefix("dbt-")


def test_readme_shows_every_model_column_and_the_day_one_sql() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Warehouse models\n", 1)[1].split("\n## ", 1)[0]
    for command in (
        "meltano run tap-aws-uvm target-duckdb dbt-duckdb:build",
        "meltano run tap-aws-uvm target-postgres dbt-postgres:build",
    ):
        assert command in section
    for sql in day_one_sql("analytics").values():
        assert f"```sql\n{sql}\n```" in section
    schema = yaml.safe_load((ROOT / "transform" / "models" / "marts" / "schema.yml").read_text())
    for model in schema["models"]:
        (row,) = [
            line for line in section.splitlines() if line.startswith(f"| `{model['name']}` |")
        ]
        for column in model["columns"]:
            assert f"`{column['name']}`" in row, (model["name"], column["name"])


# ---------------------------------------------------------------------------------------------
# Meltano (with the tap and loaders) and PostgreSQL, as tests/e2e/test_meltano.py sets them up


@pytest.fixture(scope="module")
def meltano_sys_dir(meltano_installed: Path) -> Path:
    """test_meltano's Meltano system directory, plus the dbt utilities."""
    env = demo.meltano_env({"MELTANO_ENVIRONMENT": "ci"}, demo=True)
    demo.install_plugins(ROOT, list(UTILITIES), env)
    link = meltano_installed / "utilities"
    if not link.exists():
        link.symlink_to(ROOT / ".meltano" / "utilities", target_is_directory=True)
    return meltano_installed


@dataclass
class DemoOrg:
    emulator: Emulator
    expected: DemoExpectations
    streams: list[str]  # the tap's streams (all selected)


@pytest.fixture(scope="module")
def demo_org(meltano_sys_dir: Path) -> Iterator[DemoOrg]:
    with Emulator.start() as aws:
        expected = seed_demo_expectations(aws.endpoint_url)
        yield DemoOrg(aws, expected, demo.tap_stream_names(ROOT))


@dataclass(frozen=True)
class Warehouse:
    kind: str  # duckdb | postgres
    loader: str
    utility: str
    env: Mapping[str, str]
    target: str  # the DuckDB file, or the PostgreSQL DSN
    raw_schema: str
    models_schema: str
    state_suffix: str

    def read(self) -> Snapshot:
        return read_models(self.kind, self.target, self.models_schema, self.raw_schema)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> dict[str, Warehouse]:
    """A DuckDB file and a pair of PostgreSQL schemas of this module's own. DuckDB keeps the
    defaults (tap_aws_uvm, analytics): dbt reads the loader's TARGET_DUCKDB_FILEPATH."""
    tag = uuid.uuid4().hex[:8]
    path = tmp_path_factory.mktemp("dbt-duckdb") / "warehouse.duckdb"
    raw, models = f"dbt_raw_{tag}", f"dbt_models_{tag}"
    return {
        "duckdb": Warehouse(
            "duckdb",
            "target-duckdb",
            "dbt-duckdb",
            {"TARGET_DUCKDB_FILEPATH": str(path)},
            str(path),
            "tap_aws_uvm",
            "analytics",
            f"dbt-duckdb-{tag}",
        ),
        "postgres": Warehouse(
            "postgres",
            "target-postgres",
            "dbt-postgres",
            {**test_meltano.postgres_env(postgres_dsn, raw), "DBT_TARGET_SCHEMA": models},
            postgres_dsn,
            raw,
            models,
            f"dbt-postgres-{tag}",
        ),
    }


def meltano(
    sys_dir: Path,
    org: DemoOrg,
    warehouse: Warehouse,
    *args: str,
    extra: Mapping[str, str] | None = None,
    returncode: int = 0,
) -> subprocess.CompletedProcess[str]:
    env = demo.meltano_env(
        {
            "MELTANO_ENVIRONMENT": "ci",
            "MELTANO_SYS_DIR_ROOT": str(sys_dir),
            "TAP_AWS_UVM_ENDPOINT_URL": org.emulator.endpoint_url,
            **warehouse.env,
            **(extra or {}),
        },
        demo=True,
    )
    done = demo.meltano(ROOT, *args, env=env, capture=True, check=False, timeout=900)
    assert done.returncode == returncode, f"meltano {' '.join(args)}:\n{done.stderr[-6000:]}"
    return done


def run_pipeline(sys_dir: Path, org: DemoOrg, warehouse: Warehouse) -> Snapshot:
    """`meltano run tap-aws-uvm <loader> <utility>:build`; every dbt node passes."""
    done = meltano(
        sys_dir,
        org,
        warehouse,
        "run",
        f"--state-id-suffix={warehouse.state_suffix}",
        "tap-aws-uvm",
        warehouse.loader,
        f"{warehouse.utility}:build",
    )
    summary = DBT_DONE.findall(done.stdout + done.stderr)
    assert len(summary) == 1, done.stderr[-4000:]
    passed, warned, errors, skipped = map(int, summary[0])
    assert (warned, errors, skipped) == (0, 0, 0), done.stderr[-4000:]
    assert passed > 0
    return warehouse.read()


_POSTGRES_QUERIES = """
import datetime, decimal, json, sys
import psycopg
out = {}
with psycopg.connect(sys.argv[1]) as con:
    for name, sql in json.loads(sys.argv[2]).items():
        cursor = con.execute(sql)
        out[name] = [[float(v) if isinstance(v, decimal.Decimal) else v for v in row]
                     for row in cursor.fetchall()]
print(json.dumps(out, default=str))
"""


@dataclass
class FirstBuild:
    snapshots: dict[str, Snapshot]
    day_one: dict[str, Answer]  # from DuckDB, with aws_emulator.day_one
    day_one_postgres: dict[str, list[list[Any]]]  # the same SQL on PostgreSQL


@pytest.fixture(scope="module")
def first(meltano_sys_dir: Path, demo_org: DemoOrg, warehouses: dict[str, Warehouse]) -> FirstBuild:
    snapshots = {kind: run_pipeline(meltano_sys_dir, demo_org, w) for kind, w in warehouses.items()}
    duckdb, postgres = warehouses["duckdb"], warehouses["postgres"]
    answers = day_one_answers(
        ROOT,
        Path(duckdb.target),
        duckdb.models_schema,
        python=demo.python_of(ROOT, "utilities", "dbt-duckdb"),
    )
    queries = json.dumps(day_one_sql(postgres.models_schema))
    on_postgres = test_meltano.in_loader_python(
        "target-postgres", _POSTGRES_QUERIES, postgres.target, queries
    )
    return FirstBuild(snapshots, answers, on_postgres)


@dataclass
class Change:
    bucket_arn: str  # deleted from the emulator before the second run
    denied: tuple[str, str, str]  # (stream, account, region) denied in the second run
    denied_assets: frozenset[str]
    snapshots: dict[str, Snapshot] = field(default_factory=dict)


@pytest.fixture(scope="module")
def second(
    first: FirstBuild, meltano_sys_dir: Path, demo_org: DemoOrg, warehouses: dict[str, Warehouse]
) -> Iterator[Change]:
    """Delete a member's S3 bucket, deny ec2:DescribeInstances in another member's region, and
    run both pipelines again (same state ids: the finding streams run incrementally)."""
    org = demo_org.expected.organization
    first_member, second_member = [a for a in org.active_accounts if not a.is_management][:2]
    bucket = org.buckets(first_member.id)[0]
    s3 = org.session(first_member.id).client(
        "s3", endpoint_url=org.endpoint_url, region_name=bucket.region
    )
    s3.delete_bucket(Bucket=bucket.name)
    region = org.regions[-1]
    denied_instances = frozenset(i.arn for i in org.resources(second_member.id, region).instances)
    assert denied_instances, "the denied partition must have instances to keep"
    demo_org.emulator.configure(
        deny=[
            {
                "account": second_member.id,
                "region": region,
                "service": "ec2",
                "operation": "DescribeInstances",
            }
        ]
    )
    change = Change(bucket.arn, ("ec2_instances", second_member.id, region), denied_instances)
    try:
        for kind, w in warehouses.items():
            change.snapshots[kind] = run_pipeline(meltano_sys_dir, demo_org, w)
        yield change
    finally:
        demo_org.emulator.configure()


# ---------------------------------------------------------------------------------------------
# the first build: exactly what the seed implies, on both databases


@pytest.mark.parametrize("kind", KINDS)
def test_assets_are_the_seeded_resources(kind: str, first: FirstBuild, demo_org: DemoOrg) -> None:
    exp = demo_org.expected
    snapshot = first.snapshots[kind]
    assets = snapshot.by_key("aws_assets", "asset_id")
    assert Counter(a["asset_type"] for a in assets.values()) == expected_asset_types(exp)
    assert len(assets) == sum(exp.assets.values())
    not_network = {k for k, a in assets.items() if a["stream"] != "network"}
    assert not_network == set(exp.asset_ids)
    (synced_at,) = snapshot.syncs
    for asset in assets.values():
        assert (asset["first_seen_at"], asset["last_seen_at"]) == (synced_at, synced_at)
        assert asset["is_deleted"] is False
    public = {
        k: a["public_ips"]
        for k, a in assets.items()
        if a["asset_type"] == "ec2_instance" and a["is_public"]
    }
    assert public == {arn: [ip] for arn, ip in exp.public_ips.items()}
    assert set(public) == set(exp.public_instances)
    suspended = {a["account_id"] for a in assets.values() if a["state"] == "SUSPENDED"}
    assert suspended == set(exp.suspended_accounts)

    scanned = {
        k: (a["inspector_scan_status"], a["inspector_scan_reason"])
        for k, a in assets.items()
        if a["inspector_scan_status"] is not None
    }
    if "inspector_coverage" in snapshot.raw_tables:
        assert scanned == expected_scan_status(exp)
        uncovered = {k for k, (status, _) in scanned.items() if status == "NOT_COVERED"}
        instances = {k for k in uncovered if assets[k]["asset_type"] == "ec2_instance"}
        assert instances == set(exp.uncovered_instances)
    else:
        assert scanned == {}, "null until Inspector coverage is read"


@pytest.mark.parametrize("kind", KINDS)
def test_findings_are_one_row_per_distinct_finding(
    kind: str, first: FirstBuild, demo_org: DemoOrg
) -> None:
    snapshot = first.snapshots[kind]
    exp = demo_org.expected
    expected = expected_findings(loaded_findings(exp, demo_org.streams), basic_ecr_scores(exp))
    rows = snapshot.by_key("aws_findings", "finding_id")
    assert len(snapshot.rows("aws_findings")) == len(expected)
    assert set(rows) == set(expected)
    for finding_id, want in expected.items():
        row = rows[finding_id]
        got = (
            tuple(row["sources"]),
            row["severity_label"],
            row["finding_status"],
            row["account_id"],
            tuple(row["vulnerability_ids"]),
            tuple(row["resource_ids"]),
            row["has_asset"],
        )
        assert got == (
            want.sources,
            want.severity_label,
            want.finding_status,
            want.account_id,
            want.vulnerability_ids,
            want.resource_ids,
            want.has_asset,
        ), finding_id
        assert row["severity_score"] == pytest.approx(want.severity_score), finding_id
    assert any(not row["has_asset"] for row in rows.values()), "outside-inventory findings kept"

    links = {(r["asset_id"], r["finding_id"]) for r in snapshot.rows("aws_asset_findings")}
    assert len(snapshot.rows("aws_asset_findings")) == len(links)
    assert links == expected_links(expected, demo_org.expected.asset_ids)


@pytest.mark.parametrize("kind", KINDS)
def test_coverage_is_one_row_per_partition(kind: str, first: FirstBuild, demo_org: DemoOrg) -> None:
    snapshot = first.snapshots[kind]
    (synced_at,) = snapshot.syncs
    rows = snapshot.rows("aws_coverage")
    got = {(r["stream"], r["account_id"], r["region"]): r["outcome"] for r in rows}
    assert len(rows) == len(got)
    assert got == expected_partitions(demo_org.expected, demo_org.streams)
    for row in rows:
        assert row["synced_at"] == synced_at
        assert row["last_ok_at"] == (synced_at if row["outcome"] == "ok" else None)


def test_the_inspector_finding_seen_through_three_streams_is_one_row(
    first: FirstBuild, demo_org: DemoOrg
) -> None:
    exp = demo_org.expected
    streams_of: dict[str, set[str]] = {}
    for f in loaded_findings(exp, demo_org.streams):
        streams_of.setdefault(finding_identity(f), set()).add(f.stream)
    three = {"inspector_findings", "securityhub_findings", "ecr_findings"}
    seen_thrice = sorted(k for k, streams in streams_of.items() if three <= streams)
    assert seen_thrice, "the demo has Inspector findings on images, imported by Security Hub"
    for kind in KINDS:
        snapshot = first.snapshots[kind]
        for finding_id in seen_thrice:
            rows = [r for r in snapshot.rows("aws_findings") if r["finding_id"] == finding_id]
            assert len(rows) == 1, (kind, finding_id)
            assert set(rows[0]["sources"]) == streams_of[finding_id]
            (image,) = rows[0]["resource_ids"]
            assert ":ecr:" in image
            assert image in exp.asset_ids
            linked = {
                r["asset_id"]
                for r in snapshot.rows("aws_asset_findings")
                if r["finding_id"] == finding_id
            }
            assert linked == {image}, (kind, finding_id)


def test_duckdb_and_postgres_hold_the_same_rows(first: FirstBuild) -> None:
    duckdb, postgres = first.snapshots["duckdb"], first.snapshots["postgres"]
    for model in duckdb.models:
        assert duckdb.comparable(model) == postgres.comparable(model), model


def test_day_one_answers_come_from_the_models(first: FirstBuild, demo_org: DemoOrg) -> None:
    exp = demo_org.expected
    answers = {name: answer.records() for name, answer in first.day_one.items()}

    by_account = {r["account_id"]: r for r in answers["critical_high_by_account"]}
    assert {k: r["critical_high"] for k, r in by_account.items()} == exp.critical_high_by_account
    assert {
        k: r["critical_high_active"] for k, r in by_account.items()
    } == exp.critical_high_active_by_account
    names = {a.id: a.name for a in exp.organization.accounts}
    assert all(r["account_name"] == names[k] for k, r in by_account.items())

    public = {r["asset_id"]: r["public_ips"] for r in answers["public_instances"]}
    assert public == dict(exp.public_ips)
    images = {r["asset_id"] for r in answers["images_with_critical_cves"]}
    assert images == images_with_critical_cves(loaded_findings(exp, demo_org.streams))
    assert set(exp.images_with_critical_cves) <= images
    suspended = [r["account_id"] for r in answers["suspended_accounts"]]
    assert suspended == sorted(exp.suspended_accounts)
    assets = {r["asset_type"]: r["assets"] for r in answers["assets_by_type"]}
    assert assets == dict(expected_asset_types(exp))
    gaps = answers["coverage_gaps"]
    assert {(r["stream"], r["account_id"], r["region"]) for r in gaps} == {
        k
        for k, outcome in expected_partitions(exp, demo_org.streams).items()
        if outcome not in ("ok", "suspended")
    }
    not_scanned = {r["asset_id"] for r in answers["instances_not_scanned"]}
    if "inspector_coverage" in first.snapshots["duckdb"].raw_tables:
        statuses = expected_scan_status(exp)
        assert not_scanned == {
            arn
            for arn, (status, _) in statuses.items()
            if status != "ACTIVE" and ":instance/" in arn
        }
        assert set(exp.uncovered_instances) <= not_scanned
    else:
        assert not_scanned == set()

    # the same SQL on PostgreSQL gives the same rows
    for name, answer in first.day_one.items():
        assert [list(row) for row in answer.rows] == first.day_one_postgres[name], name


# ---------------------------------------------------------------------------------------------
# the second build: a deleted bucket, a denied partition


@pytest.mark.parametrize("kind", KINDS)
def test_second_sync_deletes_the_removed_bucket_and_keeps_the_denied_partition(
    kind: str, first: FirstBuild, second: Change
) -> None:
    before = first.snapshots[kind].by_key("aws_assets", "asset_id")
    after_snapshot = second.snapshots[kind]
    after = after_snapshot.by_key("aws_assets", "asset_id")
    first_sync, second_sync = after_snapshot.syncs
    assert set(after) == set(before)
    for asset_id, row in after.items():
        assert row["first_seen_at"] == before[asset_id]["first_seen_at"], asset_id
        if asset_id == second.bucket_arn:
            assert (row["is_deleted"], row["last_seen_at"]) == (True, first_sync)
        elif asset_id in second.denied_assets:
            assert (row["is_deleted"], row["last_seen_at"]) == (False, first_sync), asset_id
        else:
            assert (row["is_deleted"], row["last_seen_at"]) == (False, second_sync), asset_id

    coverage = {
        (r["stream"], r["account_id"], r["region"]): r for r in after_snapshot.rows("aws_coverage")
    }
    assert set(coverage) == {
        (r["stream"], r["account_id"], r["region"])
        for r in first.snapshots[kind].rows("aws_coverage")
    }
    denied = coverage[second.denied]
    assert (denied["outcome"], denied["error_code"]) == ("denied", "UnauthorizedOperation")
    assert (denied["synced_at"], denied["last_ok_at"]) == (second_sync, first_sync)
    for key, row in coverage.items():
        if key != second.denied:
            ok = row["outcome"] == "ok"
            assert row["last_ok_at"] == (second_sync if ok else None), key

    # the findings did not change: same rows, and the deleted bucket's findings still link
    assert after_snapshot.rows("aws_findings") == first.snapshots[kind].rows("aws_findings")
    assert after_snapshot.rows("aws_asset_findings") == first.snapshots[kind].rows(
        "aws_asset_findings"
    )
    assert any(
        r["asset_id"] == second.bucket_arn for r in after_snapshot.rows("aws_asset_findings")
    )


def test_day_one_answers_after_the_second_sync(
    second: Change, warehouses: dict[str, Warehouse]
) -> None:
    """The denied partition is the one coverage gap; the deleted bucket counts as deleted."""
    duckdb = warehouses["duckdb"]
    answers = day_one_answers(
        ROOT,
        Path(duckdb.target),
        duckdb.models_schema,
        python=demo.python_of(ROOT, "utilities", "dbt-duckdb"),
    )
    gaps = answers["coverage_gaps"].records()
    assert [(r["stream"], r["account_id"], r["region"], r["outcome"]) for r in gaps] == [
        (*second.denied, "denied")
    ]
    by_type = {r["asset_type"]: r for r in answers["assets_by_type"].records()}
    assert by_type["s3_bucket"]["deleted"] == 1
    assert sum(r["deleted"] for r in by_type.values()) == 1


def test_duckdb_and_postgres_agree_after_the_second_sync(second: Change) -> None:
    duckdb, postgres = second.snapshots["duckdb"], second.snapshots["postgres"]
    for model in duckdb.models:
        assert duckdb.comparable(model) == postgres.comparable(model), model


@pytest.mark.parametrize("kind", KINDS)
def test_stale_coverage_is_a_warning_not_an_error(
    kind: str,
    first: FirstBuild,
    meltano_sys_dir: Path,
    demo_org: DemoOrg,
    warehouses: dict[str, Warehouse],
) -> None:
    """With coverage_max_age_days 0 every partition that was ever ok is stale: dbt warns
    (exit 0) and counts them. With the default (2 days) every build above ended WARN=0."""
    warehouse = warehouses[kind]
    stale = sum(1 for r in first.snapshots[kind].rows("aws_coverage") if r["last_ok_at"])
    assert stale
    done = meltano(
        meltano_sys_dir,
        demo_org,
        warehouse,
        "invoke",
        warehouse.utility,
        "test",
        "--select",
        "aws_coverage,test_name:not_older_than_days",
        "--vars",
        "{coverage_max_age_days: 0}",
    )
    output = done.stdout + done.stderr
    assert re.search(rf"WARN {stale} not_older_than_days_aws_coverage_last_ok_at", output), output
    assert DBT_DONE.findall(output) == [("0", "1", "0", "0")], output[-3000:]


def test_a_source_schema_without_the_taps_tables_fails_with_one_line(
    first: FirstBuild, meltano_sys_dir: Path, demo_org: DemoOrg, warehouses: dict[str, Warehouse]
) -> None:
    """A wrong DBT_SOURCE_SCHEMA must not build empty models that pass every test."""
    warehouse = warehouses["duckdb"]
    done = meltano(
        meltano_sys_dir,
        demo_org,
        warehouse,
        "invoke",
        warehouse.utility,
        "run",
        "--select",
        "aws_assets",
        extra={"DBT_SOURCE_SCHEMA": "no_such_schema", "DBT_TARGET_SCHEMA": "analytics_unused"},
        returncode=1,
    )
    output = done.stdout + done.stderr
    assert (
        "no tap-aws-uvm table in schema 'no_such_schema' (set DBT_SOURCE_SCHEMA, or the loader's "
        "DEFAULT_TARGET_SCHEMA, to the schema the tap was loaded into)"
    ) in output, output[-3000:]
    assert "Traceback" not in output
