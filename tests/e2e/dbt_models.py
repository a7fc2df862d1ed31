"""What the warehouse models (transform/) must hold for the demo organization, and reading them.

Everything expected is derived from :class:`aws_emulator.demo_org.DemoExpectations` (the seed's
own account of what it put into the emulator), never written down by hand. The models are
read back with a loader's own Python (its duckdb or psycopg), like tests/e2e/test_meltano.py.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_emulator.demo_org import DemoExpectations, ExpectedFinding

from tests.e2e.test_meltano import in_loader_python

MODELS = {
    "aws_assets": "asset_id",
    "aws_findings": "finding_id",
    "aws_asset_findings": "asset_id, finding_id",
    "aws_coverage": "stream, account_id, region",
}
# DemoExpectations.assets names a type by its stream (network: network_<data type>)
ASSET_TYPES = {
    "accounts": "account",
    "ec2_instances": "ec2_instance",
    "ecr_images": "ecr_image",
    "eks_clusters": "eks_cluster",
    "rds_instances": "rds_instance",
    "s3_buckets": "s3_bucket",
    "network_vpc_cidrs": "vpc",
    "network_vpc_subnets": "subnet",
    "network_internet_gateways": "internet_gateway",
    "network_nat_gateways": "nat_gateway",
    "network_load_balancers": "load_balancer",
    "network_addresses": "elastic_ip",
    "network_network_interfaces": "network_interface",
}
# the order in which aws_findings takes a finding's attributes from its sources
SOURCE_RANK = {
    "inspector_findings": 1,
    "securityhub_findings": 2,
    "securityhub_ocsf_findings": 3,
    "ecr_findings": 4,
}
REGIONAL_STREAMS_EXCLUDED = {"accounts", "sync_coverage"}


# ---------------------------------------------------------------------------------------------
# reading the models


_READ = """
import datetime, decimal, json, sys
kind, target, models_schema, raw_schema, models = sys.argv[1:6]
models = json.loads(models)
if kind == "duckdb":
    import duckdb
    con = duckdb.connect(target, read_only=True)
    def query(sql, params=()):
        cursor = con.execute(sql, list(params))
        return [d[0] for d in cursor.description], cursor.fetchall()
    marker = "?"
else:
    import psycopg
    con = psycopg.connect(target)
    def query(sql, params=()):
        cursor = con.execute(sql, list(params))
        return [d.name for d in cursor.description], cursor.fetchall()
    marker = "%s"

def plain(column, value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if column == "tags" and isinstance(value, str):
        return json.loads(value)
    return value

out = {"models": {}, "raw_tables": []}
for model, order in models.items():
    columns, rows = query(f"select * from {models_schema}.{model} order by {order}")
    out["models"][model] = [
        {c: plain(c, v) for c, v in zip(columns, row)} for row in rows
    ]
_, tables = query(
    f"select table_name from information_schema.tables where table_schema = {marker}",
    [raw_schema],
)
out["raw_tables"] = sorted(t for (t,) in tables)
out["syncs"] = []
if "sync_coverage" in out["raw_tables"]:
    _, synced = query(f"select distinct synced_at from {raw_schema}.sync_coverage order by 1")
    out["syncs"] = [plain("synced_at", s) for (s,) in synced]
print(json.dumps(out, default=str))
"""


@dataclass(frozen=True)
class Snapshot:
    """The four models as rows (dicts), the raw tables present, the syncs recorded."""

    models: Mapping[str, list[dict[str, Any]]]
    raw_tables: frozenset[str]
    syncs: tuple[str, ...]

    def rows(self, model: str) -> list[dict[str, Any]]:
        return self.models[model]

    def by_key(self, model: str, key: str) -> dict[str, dict[str, Any]]:
        return {row[key]: row for row in self.models[model]}

    def comparable(self, model: str) -> list[dict[str, Any]]:
        """The rows with each sync's time replaced by its ordinal ("sync 1", ...): two
        warehouses loaded by separate runs hold the same rows, at other times."""
        ordinal = {synced: f"sync {n}" for n, synced in enumerate(self.syncs, 1)}
        return [
            {k: ordinal.get(v, v) if isinstance(v, str) else v for k, v in row.items()}
            for row in self.models[model]
        ]


def read_models(kind: str, target: str, models_schema: str, raw_schema: str) -> Snapshot:
    """Every model's rows, read with target-duckdb's or target-postgres's own Python."""
    loader = "target-duckdb" if kind == "duckdb" else "target-postgres"
    out = in_loader_python(
        loader, _READ, kind, target, models_schema, raw_schema, json.dumps(MODELS)
    )
    return Snapshot(out["models"], frozenset(out["raw_tables"]), tuple(out["syncs"]))


# ---------------------------------------------------------------------------------------------
# what the seed implies


def finding_identity(f: ExpectedFinding) -> str:
    """aws_findings.finding_id of an expected record: a basic ECR finding's id names a
    vulnerability, so the model qualifies it by its image."""
    if f.stream == "ecr_findings" and not f.finding_id.startswith("arn:"):
        (image,) = f.resource_ids
        return f"{image}|{f.finding_id}"
    return f.finding_id


def loaded_findings(exp: DemoExpectations, streams: Iterable[str]) -> list[ExpectedFinding]:
    """The expected records of the finding streams the tap has (and so loaded)."""
    present = set(streams)
    return [f for f in exp.findings if f.stream in present]


@dataclass(frozen=True)
class ExpectedRow:
    """One aws_findings row as the seed implies it."""

    sources: tuple[str, ...]
    severity_label: str
    finding_status: str
    severity_score: float | None
    account_id: str
    vulnerability_ids: tuple[str, ...]
    resource_ids: tuple[str, ...]
    has_asset: bool


def basic_ecr_scores(exp: DemoExpectations) -> dict[str, float | None]:
    """{finding_id: score} of ECR's basic findings, from the seeded CVSS attributes (the
    highest ``CVSS*_SCORE``). ExpectedFinding.severity_score says None for them, but the
    contract's severity_score is "ECR's score", which the tap lifts from these attributes."""
    out: dict[str, float | None] = {}
    for p in exp.organization.partitions():
        for image in p.ecr_images:
            for finding in image.findings:
                if finding.kind != "basic":
                    continue
                scores = [
                    float(a["value"])
                    for a in finding.data["attributes"]
                    if a["key"].startswith("CVSS") and a["key"].endswith("_SCORE")
                ]
                out[f"{image.arn}|{finding.finding_id}"] = max(scores) if scores else None
    return out


def expected_findings(
    findings: Iterable[ExpectedFinding], scores: Mapping[str, float | None] | None = None
) -> dict[str, ExpectedRow]:
    """{finding_id: row}; ``scores`` overrides the expected severity_score of some ids."""
    grouped: dict[str, list[ExpectedFinding]] = defaultdict(list)
    for f in findings:
        grouped[finding_identity(f)].append(f)
    out = {}
    for identity, records in grouped.items():
        best = min(records, key=lambda f: SOURCE_RANK[f.stream])
        resources = tuple(sorted({r for f in records for r in f.resource_ids}))
        out[identity] = ExpectedRow(
            sources=tuple(sorted({f.stream for f in records})),
            severity_label=best.severity_label,
            finding_status=best.finding_status,
            severity_score=(scores or {}).get(identity, best.severity_score),
            account_id=best.aws_account_id,
            vulnerability_ids=tuple(sorted({v for f in records for v in f.vulnerability_ids})),
            resource_ids=resources,
            has_asset=bool(resources) and all(f.has_asset for f in records),
        )
    return out


def expected_links(
    findings: Mapping[str, ExpectedRow], asset_ids: Iterable[str]
) -> set[tuple[str, str]]:
    assets = set(asset_ids)
    return {
        (resource, identity)
        for identity, row in findings.items()
        for resource in row.resource_ids
        if resource in assets
    }


def expected_asset_types(exp: DemoExpectations) -> Counter[str]:
    return Counter({ASSET_TYPES[name]: count for name, count in exp.assets.items()})


def expected_partitions(exp: DemoExpectations, streams: Iterable[str]) -> dict[tuple, str]:
    """{(stream, account, region): outcome} of one sync of every stream: each ACTIVE account
    x region for the regional streams (s3_buckets too: one partition per region in scope),
    the management account's one `accounts` listing, and each suspended account once per
    stream, region "global"."""
    org = exp.organization
    out: dict[tuple, str] = {}
    for stream in streams:
        if stream == "sync_coverage":
            continue
        if stream == "accounts":
            out[(stream, org.management_account_id, "global")] = "ok"
        else:
            for account in org.active_accounts:
                for region in org.regions:
                    out[(stream, account.id, region)] = "ok"
        for account in org.suspended_accounts:
            out[(stream, account.id, "global")] = "suspended"
    return out


def images_with_critical_cves(findings: Iterable[ExpectedFinding]) -> set[str]:
    """Images (by ARN) named by an ACTIVE CRITICAL finding with a CVE id, from any stream."""
    return {
        resource
        for f in findings
        if f.severity_label == "CRITICAL"
        and f.finding_status == "ACTIVE"
        and any(v.startswith("CVE-") for v in f.vulnerability_ids)
        for resource in f.resource_ids
        if ":ecr:" in resource
    }


def expected_scan_status(exp: DemoExpectations) -> dict[str, tuple[str, str | None]]:
    """{asset_id: (inspector_scan_status, reason)} for instances and images, once Inspector
    coverage is read: ACTIVE if any scan type is, else the entry's status; NOT_COVERED (no
    reason) for an instance or image with no entry."""
    entries: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    by_instance = {}
    for p in exp.organization.partitions():
        for instance in p.instances:
            by_instance[(p.account_id, instance.instance_id)] = instance.arn
    for (account, resource_id, scan_type), (status, reason) in exp.coverage.items():
        arn = by_instance.get((account, resource_id), resource_id)
        entries[arn].append((status, scan_type, reason))
    out: dict[str, tuple[str, str | None]] = {}
    for p in exp.organization.partitions():
        for arn in [i.arn for i in p.instances] + [image.arn for image in p.ecr_images]:
            found = entries.get(arn)
            if not found:
                out[arn] = ("NOT_COVERED", None)
                continue
            status, _, reason = min(
                found, key=lambda e: (e[0] != "ACTIVE", e[1] != "PACKAGE", e[1])
            )
            out[arn] = (status, reason)
    return out
