"""The day-one questions, answered from the warehouse models (transform/, README "Warehouse
models").

:data:`QUERIES` holds the SQL, written once for DuckDB and PostgreSQL (README "Warehouse
models" shows the same text); ``{schema}`` is the schema the models are built in.
:func:`day_one_answers` runs them against a DuckDB file with the DuckDB that the project
installs beside dbt (the dbt-duckdb utility's environment, ``duckdb==1.2.2`` like
target-duckdb's), and :func:`print_day_one` prints a few lines of each answer::

    answers = day_one_answers(root, root / "output" / "warehouse.duckdb")
    print_day_one(answers)
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODELS_SCHEMA = "analytics"
UTILITY = "dbt-duckdb"


@dataclass(frozen=True)
class Question:
    title: str
    sql: str  # ``{schema}``: the models' schema


QUERIES: Mapping[str, Question] = {
    "critical_high_by_account": Question(
        "Critical and high findings per account (each finding once, whatever its sources)",
        """
select
    f.account_id,
    acct.name as account_name,
    count(*) as critical_high,
    count(*) filter (where f.finding_status = 'ACTIVE') as critical_high_active
from {schema}.aws_findings as f
left join {schema}.aws_assets as acct
    on acct.asset_type = 'account' and acct.account_id = f.account_id
where f.severity_label in ('CRITICAL', 'HIGH')
group by f.account_id, acct.name
order by f.account_id
""",
    ),
    "public_instances": Question(
        "Public instances and their findings",
        """
select
    a.asset_id,
    a.name,
    a.account_id,
    a.region,
    array_to_string(a.public_ips, ', ') as public_ips,
    count(f.finding_id) as findings,
    count(*) filter (
        where f.severity_label in ('CRITICAL', 'HIGH') and f.finding_status = 'ACTIVE'
    ) as critical_high_active
from {schema}.aws_assets as a
left join {schema}.aws_asset_findings as af on af.asset_id = a.asset_id
left join {schema}.aws_findings as f on f.finding_id = af.finding_id
where a.asset_type = 'ec2_instance' and a.is_public and not a.is_deleted
group by a.asset_id, a.name, a.account_id, a.region, a.public_ips
order by critical_high_active desc, a.asset_id
""",
    ),
    "images_with_critical_cves": Question(
        "Container images with active critical CVEs",
        """
select
    a.asset_id,
    a.name,
    a.account_id,
    a.region,
    count(*) as critical_findings
from {schema}.aws_assets as a
inner join {schema}.aws_asset_findings as af on af.asset_id = a.asset_id
inner join {schema}.aws_findings as f on f.finding_id = af.finding_id
where a.asset_type = 'ecr_image'
    and not a.is_deleted
    and f.severity_label = 'CRITICAL'
    and f.finding_status = 'ACTIVE'
    and array_to_string(f.vulnerability_ids, ' ') like '%CVE-%'
group by a.asset_id, a.name, a.account_id, a.region
order by critical_findings desc, a.asset_id
""",
    ),
    "suspended_accounts": Question(
        "Suspended accounts (listed, never entered)",
        """
select a.account_id, a.name, a.state
from {schema}.aws_assets as a
where a.asset_type = 'account' and a.state = 'SUSPENDED'
order by a.account_id
""",
    ),
    "instances_not_scanned": Question(
        "Instances Inspector does not scan",
        """
select
    a.asset_id,
    a.name,
    a.account_id,
    a.region,
    a.inspector_scan_status,
    a.inspector_scan_reason
from {schema}.aws_assets as a
where a.asset_type = 'ec2_instance'
    and not a.is_deleted
    and a.inspector_scan_status in ('NOT_COVERED', 'INACTIVE')
order by a.inspector_scan_status desc, a.asset_id
""",
    ),
    "assets_by_type": Question(
        "Every asset, by type",
        """
select
    asset_type,
    count(*) filter (where not is_deleted) as assets,
    count(*) filter (where is_public and not is_deleted) as public,
    count(*) filter (where is_deleted) as deleted
from {schema}.aws_assets
group by asset_type
order by asset_type
""",
    ),
    "coverage_gaps": Question(
        "Partitions whose latest sync did not end ok (suspended accounts aside)",
        """
select stream, account_id, region, outcome, error_code, last_ok_at
from {schema}.aws_coverage
where outcome not in ('ok', 'suspended')
order by stream, account_id, region
""",
    ),
}


@dataclass(frozen=True)
class Answer:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class DayOneError(RuntimeError):
    """The warehouse could not be read; the message says why in one line."""


_RUNNER = """
import json, sys
import duckdb
path, queries = sys.argv[1], json.loads(sys.argv[2])
con = duckdb.connect(path, read_only=True)
out = {}
for name, sql in queries.items():
    cursor = con.execute(sql)
    out[name] = {"columns": [d[0] for d in cursor.description], "rows": cursor.fetchall()}
print(json.dumps(out, default=str))
"""


def duckdb_python(root: Path) -> Path:
    """The Python of the dbt-duckdb utility's environment (it has duckdb 1.2.2)."""
    return root / ".meltano" / "utilities" / UTILITY / "venv" / "bin" / "python"


def day_one_sql(schema: str = MODELS_SCHEMA) -> dict[str, str]:
    """Every question's SQL for the models in ``schema``."""
    return {name: q.sql.strip().format(schema=schema) for name, q in QUERIES.items()}


def day_one_answers(
    root: Path, database: Path, schema: str = MODELS_SCHEMA, *, python: Path | None = None
) -> dict[str, Answer]:
    """Run every question against the DuckDB file ``database`` (read only)."""
    executable = python or duckdb_python(root)
    if not executable.exists():
        raise DayOneError(f"{executable} is missing: run `meltano install {UTILITY}` first")
    done = subprocess.run(
        [str(executable), "-c", _RUNNER, str(database), json.dumps(day_one_sql(schema))],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DayOneError(f"could not query the models in {database}: {last}")
    raw = json.loads(done.stdout)
    return {
        name: Answer(
            QUERIES[name].title,
            tuple(raw[name]["columns"]),
            tuple(tuple(row) for row in raw[name]["rows"]),
        )
        for name in QUERIES
    }


def format_answer(answer: Answer, limit: int = 5) -> list[str]:
    """The answer as aligned text lines: a title, a header, up to ``limit`` rows."""
    shown = [tuple("" if v is None else str(v) for v in row) for row in answer.rows[:limit]]
    widths = [
        max([len(column)] + [len(row[i]) for row in shown])
        for i, column in enumerate(answer.columns)
    ]
    lines = [f"{answer.title} ({len(answer.rows)}):"]
    if not answer.rows:
        return [*lines, "  (none)"]
    header = "  ".join(c.ljust(w) for c, w in zip(answer.columns, widths, strict=True))
    lines.append(f"  {header}".rstrip())
    lines += [
        "  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in shown
    ]
    if len(answer.rows) > limit:
        lines.append(f"  ... {len(answer.rows) - limit} more")
    return lines


def print_day_one(answers: Mapping[str, Answer], limit: int = 5) -> None:
    for answer in answers.values():
        for line in format_answer(answer, limit):
            print(line)
        print(flush=True)


__all__ = [
    "MODELS_SCHEMA",
    "QUERIES",
    "Answer",
    "DayOneError",
    "Question",
    "day_one_answers",
    "day_one_sql",
    "duckdb_python",
    "format_answer",
    "print_day_one",
]
