"""Test-side bridge between meltanolabs-target-snowflake 0.20.4 and fakesnow 0.12.1 (server mode).

tests/e2e/test_snowflake.py runs the target with this directory on PYTHONPATH (Meltano drops
PYTHONPATH from a plugin's environment, so the test's Meltano system directory gives the target an
executable that sets it) and ``TAP_UVM_FAKESNOW_URL`` set; Python imports this module as the
interpreter starts. It does nothing unless that variable is set and the interpreter has
``target_snowflake``, so nothing else that might see this directory changes.

The target's code is not changed: it generates every statement as it would for Snowflake. The
shim only translates syntax fakesnow lacks, at the driver (``SnowflakeCursor.execute``), and
logs each statement the target generated beside the statement(s) executed for it
(``TAP_UVM_FAKESNOW_LOG``, JSON lines), so a test can compare them. The MERGE keeps the target's
own target table, key columns, ON clause, dedup PARTITION BY, UPDATE SET and INSERT lists; only
its source changes from the staged file to a table holding that file.

Rewrites (every one of them; a statement naming the user stage ``@~`` that none of them matches
fails the load instead of passing through):

1. Connection arguments, patched into ``SnowflakeConnector.get_connect_args``: host, port and
   ``protocol="http"`` of the fakesnow server (the target has no such settings);
   ``network_timeout`` and ``login_timeout`` (without them a fakesnow HTTP 500 is retried for
   ever); ``schema`` = the stand-in stage's schema as the session's current schema (fakesnow
   runs a MERGE through a temporary table and fails with HTTP 500 when the session has none;
   the target names every object it loads with database and schema, so nothing else changes).
2. ``put <file> '@~/target-snowflake/<sync>'`` -> ``put <file> @<stage>/target-snowflake/<sync>``:
   fakesnow has no user stage ``@~`` and no quoted stage name in PUT; ``<stage>`` is a named
   stage (``TAP_UVM_FAKESNOW_STAGE``) the test creates with the database.
3. ``merge into T d using (select $1:c::TYPE as c, ... from '@~/target-snowflake/<sync>'
   (file_format => F) QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY SEQ8() DESC) = 1) s
   on ...`` -> three statements:
   ``create table <staged> (V variant)``;
   ``copy into <staged> from @<stage>/target-snowflake/<sync> file_format = (format_name='F')``
   (the staged file read into a table, with the target's own file format);
   ``merge into T d using (select * from (select V:c::TYPE as c, ..., ROWID as
   FAKESNOW_SHIM_SEQ8 from <staged>) QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY
   FAKESNOW_SHIM_SEQ8 DESC) = 1) s on ...``, the rest of the statement unchanged.
   fakesnow cannot select ``$1:col`` from a stage inside MERGE, has no SEQ8() in a window ORDER
   BY (the row's position in the staged file, ROWID, stands in: the last record of a key wins,
   as with SEQ8()), and binds a QUALIFY that names a select alias inside a MERGE source as a
   LATERAL reference ("The combining JOIN type must be INNER or LEFT"), hence the inner select.
   ``<staged>`` is a permanent table ``<stage schema>.STAGED_<sync>``: fakesnow cannot
   ``create temporary table db.sch.t``.
4. ``remove '@~/target-snowflake/<sync>/'`` -> ``drop table if exists <staged>`` (fakesnow has no
   REMOVE; the staged copy is what the load left behind; the uploaded file stays in the
   server's temporary bucket, which the test deletes).
5. ``drop file format if exists F`` -> ``select '...' as status`` (fakesnow has no DROP FILE
   FORMAT; the target names every file format with a uuid, so the leftover is never reused).

Not bridged, because this project never sends it: the target's ``copy into T (cols) from (select
$1:c::TYPE ... from '@~/...')``, used for load_method append-only or a stream without key
properties. fakesnow 0.12.1 rejects that transformation from a JSON stage even with a named stage
(``Binder Error: Column "id" referenced that exists in the SELECT clause - but this column cannot
be referenced``), and an INSERT from the staged table would not return the COPY result rows the
target reads; the shim fails such a statement with a clear error instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

URL_ENV = "TAP_UVM_FAKESNOW_URL"  # http://127.0.0.1:PORT of `fakesnow -s`
STAGE_ENV = "TAP_UVM_FAKESNOW_STAGE"  # DATABASE.SCHEMA.STAGE standing in for the user stage
LOG_ENV = "TAP_UVM_FAKESNOW_LOG"  # JSON lines: {"rule", "generated", "executed"}
NETWORK_TIMEOUT_SECONDS = 120
SEQUENCE_COLUMN = "FAKESNOW_SHIM_SEQ8"  # the staged row's position, standing in for SEQ8()

_PUT = re.compile(r"(?is)^\s*put\s+(?P<file>\S+)\s+'@~/target-snowflake/(?P<sync>[^'/]+)'\s*$")
_MERGE_SOURCE = re.compile(
    r"(?s)^(?P<into>merge into .+? d using \()(?P<select>select .+?) "
    r"from '@~/target-snowflake/(?P<sync>[^'/]+)'\(file_format => (?P<format>[^)]+)\) "
    r"(?P<qualify>QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY .+? ORDER BY )SEQ8\(\)"
    r"(?P<tail> DESC\) = 1\) s on .+)$"
)
_REMOVE = re.compile(r"(?is)^\s*remove\s+'@~/target-snowflake/(?P<sync>[^'/]+)/?'\s*$")
_DROP_FILE_FORMAT = re.compile(r"(?is)^\s*drop\s+file\s+format\s+if\s+exists\s+(?P<format>.+)$")
_USER_STAGE = re.compile(r"'@~|@~/")

_log_lock = threading.Lock()


def staged_table(stage: str, sync_id: str) -> str:
    """The table holding the staged file of one batch, in the stand-in stage's schema."""
    database, schema, _ = stage.split(".")
    return f"{database}.{schema}.STAGED_{re.sub(r'[^A-Za-z0-9]', '_', sync_id).upper()}"


def translate(command: str, stage: str) -> tuple[str | None, list[str]]:
    """(rule name, statements to execute) for one statement the target generated."""
    if match := _PUT.match(command):
        return "put", [f"put {match['file']} @{stage}/target-snowflake/{match['sync']}"]
    if match := _MERGE_SOURCE.match(command):
        staged = staged_table(stage, match["sync"])
        merge = (
            f"{match['into']}select * from ("
            + match["select"].replace("$1:", "V:")
            + f", ROWID as {SEQUENCE_COLUMN} from {staged}) "
            + match["qualify"]
            + SEQUENCE_COLUMN
            + match["tail"]
        )
        return "merge", [
            f"create table {staged} (V variant)",
            f"copy into {staged} from @{stage}/target-snowflake/{match['sync']} "
            f"file_format = (format_name='{match['format']}')",
            merge,
        ]
    if match := _REMOVE.match(command):
        return "remove", [f"drop table if exists {staged_table(stage, match['sync'])}"]
    if _DROP_FILE_FORMAT.match(command):
        skipped = "DROP FILE FORMAT skipped: fakesnow has none"
        return "drop_file_format", [f"select '{skipped}' as status"]
    if _USER_STAGE.search(command):
        raise NotImplementedError(
            f"the fakesnow shim cannot bridge this statement of the target: {command[:300]}"
        )
    return None, [command]


def _log(path: str, entry: dict[str, Any]) -> None:
    with _log_lock, open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def install(url: str, stage: str, log_path: str | None) -> None:
    """Patch the target's connect arguments and the driver's execute (see the module doc)."""
    from snowflake.connector.cursor import SnowflakeCursor  # noqa: PLC0415
    from target_snowflake.connector import SnowflakeConnector  # noqa: PLC0415

    address = urlsplit(url)
    connect_args: Callable[..., dict[str, Any]] = SnowflakeConnector.get_connect_args

    def get_connect_args(self: SnowflakeConnector) -> dict[str, Any]:
        return {
            **connect_args(self),
            "host": address.hostname,
            "port": address.port,
            "protocol": address.scheme,
            "schema": stage.split(".")[1],
            "network_timeout": NETWORK_TIMEOUT_SECONDS,
            "login_timeout": NETWORK_TIMEOUT_SECONDS,
        }

    execute: Callable[..., Any] = SnowflakeCursor.execute

    def translated_execute(
        self: SnowflakeCursor, command: str, params: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        rule, statements = translate(command, stage)
        if log_path and not kwargs.get("_is_internal"):
            _log(log_path, {"rule": rule, "generated": command, "executed": statements})
        if rule is None:
            return execute(self, command, params, *args, **kwargs)
        for statement in statements[:-1]:
            execute(self, statement)
        return execute(self, statements[-1], params, *args, **kwargs)

    SnowflakeConnector.get_connect_args = get_connect_args  # type: ignore[method-assign]
    SnowflakeCursor.execute = translated_execute  # type: ignore[method-assign]


def _activate() -> None:
    url = os.environ.get(URL_ENV)
    if not url or importlib.util.find_spec("target_snowflake") is None:
        return  # not a test run, or not the target's interpreter (Meltano, the tap)
    stage = os.environ.get(STAGE_ENV)
    if not stage or stage.count(".") != 2:
        raise SystemExit(f"{STAGE_ENV} must name DATABASE.SCHEMA.STAGE (got {stage!r})")
    install(url, stage, os.environ.get(LOG_ENV))


_activate()
