"""Deletion that is safe, in PostgreSQL: the README's current-assets query over what
``meltano run tap-aws-uvm target-postgres`` (upserts) loaded, sync after sync.

A bucket removed from the emulator drops out after the next sync; it stays while its partition
is denied; a run of another shard never removes it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_emulator import Emulator, demo
from aws_emulator.seed import Organization, seed_organization

from tests.e2e.conftest import REGIONS
from tests.e2e.test_meltano import extractor_ci_config, in_loader_python, postgres_env

# Meltano (with every plugin) and PostgreSQL, as tests/e2e/test_meltano.py sets them up

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
pytestmark = pytest.mark.timeout(900)

_QUERY = """
import json, sys
import psycopg
with psycopg.connect(sys.argv[1]) as con:
    rows = con.execute(sys.argv[2]).fetchall()
print(json.dumps([list(r) for r in rows], default=str))
"""


def current_assets_sql(schema: str) -> str:
    """The README's query, verbatim but for the schema."""
    match = re.search(
        r"<!-- current-assets-sql:start -->\n```sql\n(.*?)```\n<!-- current-assets-sql:end -->",
        README,
        re.S,
    )
    assert match, "README.md lacks its current-assets-sql block"
    return match.group(1).replace("tap_aws_uvm.", f"{schema}.")


@pytest.fixture(scope="module")
def aws() -> Iterator[tuple[Emulator, Organization]]:
    """An emulator of this module's own: buckets are deleted from it."""
    with Emulator.start() as started:
        org = seed_organization(started.endpoint_url, regions=REGIONS, members=2, suspended=1)
        assert org.management_role_arn == extractor_ci_config()["role_arn"]
        yield started, org


def test_current_assets_follow_the_coverage_rule(
    aws: tuple[Emulator, Organization], meltano_installed: Path, postgres_dsn: str
) -> None:
    emulator, org = aws
    schema = f"tap_uvm_{uuid.uuid4().hex[:8]}"
    suffix = f"deletion-{uuid.uuid4().hex[:8]}"

    def sync(**settings: Any) -> None:
        extra = {
            "MELTANO_ENVIRONMENT": "ci",
            "MELTANO_SYS_DIR_ROOT": str(meltano_installed),
            "TAP_AWS_UVM_ENDPOINT_URL": emulator.endpoint_url,
            "TAP_AWS_UVM__SELECT": json.dumps(["s3_buckets.*", "sync_coverage.*"]),
            **postgres_env(postgres_dsn, schema),
            **{f"TAP_AWS_UVM_{k.upper()}": json.dumps(v) for k, v in settings.items()},
        }
        env = demo.meltano_env(extra, demo=True)
        args = ("run", f"--state-id-suffix={suffix}", "tap-aws-uvm", "target-postgres")
        done = demo.meltano(ROOT, *args, env=env, capture=True, check=False, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]

    def current() -> set[str]:
        query = f"select arn from ({current_assets_sql(schema)}) as current_assets"
        rows = in_loader_python("target-postgres", _QUERY, postgres_dsn, query)
        return {row[0].rsplit(":", 1)[-1] for row in rows}  # arn:aws:s3:::<name>

    def drop(account: str, name: str) -> None:
        org.session(account).client("s3", endpoint_url=emulator.endpoint_url).delete_bucket(
            Bucket=name
        )

    def in_scope(account: str) -> list[str]:
        return sorted(b.name for b in org.buckets(account) if b.region in REGIONS)

    management, member, other = (
        org.management_account_id,
        org.member_accounts[0].id,
        org.member_accounts[1].id,
    )
    everything = set(in_scope(management) + in_scope(member) + in_scope(other))

    sync()
    assert current() == everything

    # a bucket removed drops out after the next sync
    gone = in_scope(management)[0]
    drop(management, gone)
    # ... but one removed while its partition is denied stays
    kept_while_denied = in_scope(member)[0]
    drop(member, kept_while_denied)
    emulator.configure(deny=[{"account": member, "service": "s3", "operation": "ListBuckets"}])
    sync()
    emulator.configure()
    assert current() == everything - {gone}

    # a run of another shard never removes what it did not read
    removed_elsewhere = in_scope(other)[0]
    drop(other, removed_elsewhere)
    sync(account_ids=[management])
    assert current() == everything - {gone}

    # the next full sync reads both partitions to the end: both drop out
    sync()
    assert current() == everything - {gone, kept_while_denied, removed_elsewhere}
