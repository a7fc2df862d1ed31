"""Odd AWS values never fail a partition or a load: a leap second, a date that is not one,
dates in other ISO forms, and a number where the model says string, loaded by target-jsonl and
target-postgres."""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_emulator import Emulator, demo
from aws_emulator.findings import generated_findings, load_findings
from aws_emulator.seed import Organization

from tests.e2e.tap_runner import FAKE_KEYS, TapRun, catalog_selecting, run_tap
from tests.e2e.test_meltano import in_loader_python, postgres_env

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"  # not used by the seeded inventory: these findings are ours


def odd_findings(account: str) -> list[dict[str, Any]]:
    template = generated_findings(
        "securityhub", account, REGION, 3, start="2024-06-01T00:00:00Z", end="2024-06-02T00:00:00Z"
    )
    leap, off_model, bad_date = (copy.deepcopy(f) for f in template)
    leap["UpdatedAt"] = "2016-12-31T23:59:60Z"  # Security Hub's format allows it
    leap["CreatedAt"] = "2016-12-31T23:59:60.500Z"
    off_model["Severity"]["Original"] = 8.8  # AWS's CLI docs show a number here
    off_model["Resources"][0]["Id"] = 123456  # a number where the model says string
    off_model["FirstObservedAt"] = "2019-06-21T19:13:22.979+0000"  # a form real findings carry
    bad_date["CreatedAt"] = "not a date"
    bad_date["LastObservedAt"] = "2024-06-01T12:00:00.123456789Z"
    return [leap, off_model, bad_date]


@pytest.fixture
def odd(emu: Emulator, org: Organization) -> Iterator[list[dict[str, Any]]]:
    account = org.management_account_id
    findings = odd_findings(account)
    load_findings(emu.endpoint_url, "securityhub", account, REGION, findings, replace=True)
    yield findings
    load_findings(emu.endpoint_url, "securityhub", account, REGION, [], replace=True)


def sync(emu: Emulator) -> TapRun:
    config = {**FAKE_KEYS, "regions": [REGION], "endpoint_url": emu.endpoint_url}
    return run_tap(config, catalog=catalog_selecting({"securityhub_findings"}))


def test_odd_dates_and_values_keep_the_partition_ok(
    emu: Emulator, org: Organization, odd: list[dict[str, Any]]
) -> None:
    run = sync(emu)

    assert run.returncode == 0, run.stderr
    by_id = {r["id"]: r for r in run.records["securityhub_findings"]}
    assert set(by_id) == {f["Id"] for f in odd}
    leap, off_model, bad_date = (by_id[f["Id"]] for f in odd)
    assert leap["updated_at"] == "2016-12-31T23:59:59.999999Z"
    assert leap["created_at"] == "2016-12-31T23:59:59.999999Z"
    assert off_model["severity"]["Original"] == "8.8"
    assert off_model["resources"][0]["Id"] == "123456"
    assert off_model["first_observed_at"] == "2019-06-21T19:13:22.979000Z"
    assert bad_date["created_at"] is None
    assert bad_date["last_observed_at"] == "2024-06-01T12:00:00.123456Z"
    (warning,) = run.lines("WARNING")
    assert warning.endswith(
        f"stream=securityhub_findings account={org.management_account_id} region={REGION}: "
        "1 value(s) of created_at were not date-times: emitted as null"
    )
    assert run.lines("coverage securityhub_findings: ok=1 denied=0")
    (partition,) = run.final_state["bookmarks"]["securityhub_findings"]["partitions"]
    assert partition["replication_key_value"] == max(r["updated_at"] for r in by_id.values())


def test_off_model_findings_load_into_jsonl_and_postgres(
    emu: Emulator, odd: list[dict[str, Any]], meltano_installed: Path, postgres_dsn: str
) -> None:
    run = sync(emu)
    assert run.returncode == 0, run.stderr
    schema = f"tap_uvm_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        singer = "\n".join(json.dumps(m) for m in run.messages) + "\n"
        jsonl_dir = Path(tmp) / "jsonl"
        jsonl_dir.mkdir()
        loads = {
            "target-jsonl": {"destination_path": str(jsonl_dir), "do_timestamp_file": False},
            "target-postgres": {
                **{
                    k.removeprefix("TARGET_POSTGRES_").lower(): v
                    for k, v in postgres_env(postgres_dsn, schema).items()
                },
                "load_method": "upsert",
            },
        }
        for loader, config in loads.items():
            config_path = Path(tmp) / f"{loader}.json"
            if "port" in config:
                config["port"] = int(config["port"])
            config_path.write_text(json.dumps(config))
            executable = demo.python_of(ROOT, "loaders", loader).with_name(loader)
            done = subprocess.run(
                [str(executable), "--config", str(config_path)],
                input=singer,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, f"{loader}:\n{done.stderr[-3000:]}"
        lines = (jsonl_dir / "securityhub_findings.jsonl").read_text().splitlines()
        assert sorted(json.loads(line)["id"] for line in lines) == sorted(f["Id"] for f in odd)
    rows = in_loader_python(
        "target-postgres",
        "import json, sys, psycopg\n"
        "with psycopg.connect(sys.argv[1]) as con:\n"
        '    print(json.dumps(con.execute(f\'select id, severity from "{sys.argv[2]}"'
        ".securityhub_findings').fetchall(), default=str))",
        postgres_dsn,
        schema,
    )
    loaded = {row[0]: row[1] for row in rows}
    assert set(loaded) == {f["Id"] for f in odd}
    assert loaded[odd[1]["Id"]]["Original"] == "8.8"
