"""``tap-aws-uvm-demo``: install Meltano and the plugins, sync into DuckDB, build the models.

Which AWS it reads is explicit, never guessed from the credentials a machine happens to have:

    uv run tap-aws-uvm-demo            # the demo organization, unless tap-aws-uvm.config.json
                                       # in the project names what to read
    uv run tap-aws-uvm-demo --aws      # your AWS: tap-aws-uvm.config.json, else the
                                       # credentials boto3 finds (environment, ~/.aws, SSO)
    uv run tap-aws-uvm-demo --demo     # the demo organization, whatever is configured

The demo organization is the built-in AWS emulator on 127.0.0.1 (no network, no AWS account):
a management account, two ACTIVE members and one SUSPENDED, in two regions, with inventory and
findings. Either way it runs

    meltano run tap-aws-uvm target-duckdb dbt-duckdb:build

then prints the records per table of ``output/warehouse.duckdb`` and the answers to the
day-one questions from the warehouse models. In demo mode it also checks every count against
what was seeded and exits 1 on a mismatch. The first line it prints says which AWS is read.

Meltano 4.4.1 is installed in its own environment under ``.meltano/`` (it is not a dependency
of the tap); ``MELTANO_BIN`` points at another Meltano executable instead.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_emulator import Emulator
from aws_emulator.day_one import DayOneError, day_one_answers, print_day_one
from aws_emulator.demo_org import (
    DEMO_MEMBERS,
    DEMO_REGIONS,
    DEMO_SUSPENDED,
    coverage_rows,
    seed_demo_expectations,
)

MELTANO_VERSION = "4.4.1"
CONFIG_FILE = "tap-aws-uvm.config.json"
DUCKDB_FILE = Path("output") / "warehouse.duckdb"
DUCKDB_SCHEMA = "tap_aws_uvm"
SUMMARY_FILE = Path("output") / "demo-summary.json"
PREFIX = "tap-aws-uvm-demo:"
# SQL over the demo warehouse with what the project installs (no DuckDB CLI needed)
QUERY_COMMAND = (
    '.meltano/utilities/dbt-duckdb/venv/bin/python -i -c "import duckdb; '
    "db = duckdb.connect('output/warehouse.duckdb', read_only=True)\"  "
    "then: db.sql('select * from analytics.aws_assets').show()"
)


class DemoError(RuntimeError):
    """The demo cannot go on; the message is printed as is."""


def say(message: str) -> None:
    print(f"{PREFIX} {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# The Meltano project and Meltano itself


def project_root(start: Path | None = None) -> Path:
    """The directory holding meltano.yml: the working directory or one above it, else the
    checkout this package was installed from (editable installs)."""
    candidates = [start or Path.cwd()]
    candidates += list(candidates[0].resolve().parents)
    candidates += list(Path(__file__).resolve().parents)  # packages/aws-emulator/src/...
    for candidate in candidates:
        if (candidate / "meltano.yml").is_file() and (candidate / "pyproject.toml").is_file():
            return candidate.resolve()
    raise DemoError("no meltano.yml found: run this from the tap-aws-uvm checkout")


def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


def meltano_bin(root: Path) -> Path:
    """Meltano's executable: ``MELTANO_BIN``, else a private install under ``.meltano/``."""
    override = os.environ.get("MELTANO_BIN")
    if override:
        return Path(override)
    venv = root / ".meltano" / f"meltano-{MELTANO_VERSION}"
    executable = venv / "bin" / "meltano"
    if executable.exists():
        return executable
    say(f"installing Meltano {MELTANO_VERSION} into {venv.relative_to(root)}/ (once)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    uv = _uv()
    if uv:
        commands = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                f"meltano=={MELTANO_VERSION}",
            ],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                f"meltano=={MELTANO_VERSION}",
            ],
        ]
    for command in commands:
        done = subprocess.run(command, check=False, env=_without_virtualenv(os.environ))
        if done.returncode:
            shutil.rmtree(venv, ignore_errors=True)
            raise DemoError(f"could not install Meltano {MELTANO_VERSION}: {' '.join(command)}")
    return executable


def _without_virtualenv(env: Mapping[str, str]) -> dict[str, str]:
    """``uv run`` exports VIRTUAL_ENV for the tap's own venv; Meltano's tools must not see it."""
    return {k: v for k, v in env.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}


def meltano_env(extra: Mapping[str, str] | None = None, *, demo: bool) -> dict[str, str]:
    env = _without_virtualenv(os.environ)
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["MELTANO_DISABLE_TRACKING"] = "true"
    if demo:
        # only the demo's own settings decide: no ambient AWS configuration, no metadata service
        env = {k: v for k, v in env.items() if not k.startswith(("AWS_", "TAP_AWS_UVM_"))}
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env.update(extra or {})
    return env


@contextlib.contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """One Meltano command at a time in this project, across processes: Meltano writes each
    plugin's catalog and config under .meltano/run/, and `meltano install` rebuilds the venvs
    a concurrent run would be using."""
    path = root / ".meltano" / "tap-aws-uvm.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def meltano(
    root: Path,
    *args: str,
    env: Mapping[str, str],
    capture: bool = False,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    with project_lock(root):
        command = [str(meltano_bin(root)), *args]
        done = subprocess.run(
            command,
            cwd=root,
            env=dict(env),
            capture_output=capture,
            text=True,
            check=False,
            timeout=timeout,
        )
    if check and done.returncode:
        detail = f"\n{done.stderr[-4000:]}" if capture else ""
        raise DemoError(f"`meltano {' '.join(args)}` exited {done.returncode}{detail}")
    return done


def install_plugins(root: Path, plugins: Sequence[str], env: Mapping[str, str]) -> None:
    """``meltano install`` for the plugins whose environment is missing (Meltano reinstalls an
    installed one only when its pip_url changed, which ``--install`` on run would also do)."""
    say(f"installing plugins: {', '.join(plugins)}")
    meltano(root, "install", *plugins, env=env)


def python_of(root: Path, plugin_type: str, name: str) -> Path:
    return root / ".meltano" / plugin_type / name / "venv" / "bin" / "python"


# ---------------------------------------------------------------------------------------------
# Reading the DuckDB file back (with the target-duckdb plugin's own duckdb)

_COUNT_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [row[0] for row in con.execute(
    "select table_name from information_schema.tables where table_schema = ? order by 1",
    [sys.argv[2]]).fetchall()]
counts = {t: con.execute(f'select count(*) from "{sys.argv[2]}"."{t}"').fetchone()[0]
          for t in tables}
print(json.dumps(counts))
"""


def duckdb_counts(root: Path, path: Path, schema: str = DUCKDB_SCHEMA) -> dict[str, int]:
    python = python_of(root, "loaders", "target-duckdb")
    done = subprocess.run(
        [str(python), "-c", _COUNT_SCRIPT, str(path), schema],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise DemoError(f"could not read {path}: {done.stderr.strip()[-2000:]}")
    counts: dict[str, int] = json.loads(done.stdout)
    return counts


# ---------------------------------------------------------------------------------------------
# Real AWS or the demo organization?


def ambient_aws(root: Path) -> str | None:
    """What AWS access this machine has besides the config file (settings in the environment,
    credentials boto3 finds), said in a few words; None when there is none."""
    settings = sorted(k for k in os.environ if k.startswith("TAP_AWS_UVM_"))
    if settings:
        return f"{settings[0]} is set"
    try:
        import botocore.session  # noqa: PLC0415 - only needed here

        env = dict(os.environ)
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # never probe the metadata service
        try:
            session = botocore.session.get_session()
            credentials = session.get_credentials()
        finally:
            os.environ.clear()
            os.environ.update(env)
    except Exception:  # noqa: BLE001 - a broken AWS configuration is "not configured" here
        return None
    if credentials is not None:
        return f"AWS credentials found ({getattr(credentials, 'method', 'unknown source')})"
    return None


def real_aws_env(root: Path) -> dict[str, str]:
    """The tap's settings as ``TAP_AWS_UVM_*`` variables, from the config file if there is one."""
    path = root / CONFIG_FILE
    config: dict[str, Any] = {}
    if path.is_file():
        config = json.loads(path.read_text())
        if not isinstance(config, dict):
            raise DemoError(f"{CONFIG_FILE} must hold a JSON object")
    env: dict[str, str] = {}
    for key, value in config.items():
        name = f"TAP_AWS_UVM_{key.upper()}"
        env[name] = json.dumps(value) if isinstance(value, list | dict | bool) else str(value)
    if "regions" not in config and "TAP_AWS_UVM_REGIONS" not in os.environ:
        import botocore.session  # noqa: PLC0415

        region = botocore.session.get_session().get_config_variable("region") or "us-east-1"
        say(f"no `regions` configured: syncing {region} only (set regions in {CONFIG_FILE})")
        env["TAP_AWS_UVM_REGIONS"] = json.dumps([region])
    return env


def tap_stream_names(root: Path) -> list[str]:
    """The streams the installed tap has (its own --discover, which needs no config)."""
    tap = root / ".meltano" / "extractors" / "tap-aws-uvm" / "venv" / "bin" / "tap-aws-uvm"
    done = subprocess.run(
        [str(tap), "--discover"], capture_output=True, text=True, check=False, cwd=root
    )
    if done.returncode:
        raise DemoError(f"tap-aws-uvm --discover failed: {done.stderr.strip()[-2000:]}")
    return sorted(s["tap_stream_id"] for s in json.loads(done.stdout)["streams"])


# ---------------------------------------------------------------------------------------------


def print_table(counts: Mapping[str, int], expected: Mapping[str, int] | None) -> None:
    width = max([len(name) for name in counts] + [len("table")])
    header = f"  {'table':<{width}}  {'records':>8}"
    if expected is not None:
        header += f"  {'seeded':>8}"
    print(header)
    for name in sorted(set(counts) | set(expected or {})):
        line = f"  {name:<{width}}  {counts.get(name, '-')!s:>8}"
        if expected is not None:
            line += f"  {expected.get(name, '?')!s:>8}"
            if name in expected and name in counts and counts[name] != expected[name]:
                line += "  MISMATCH"
        print(line)
    print(f"  {'total':<{width}}  {sum(counts.values()):>8}", flush=True)


PLUGINS = ("tap-aws-uvm", "target-duckdb", "dbt-duckdb")
PIPELINE = ("tap-aws-uvm", "target-duckdb", "dbt-duckdb:build")


def which_aws(root: Path, *, demo: bool, aws: bool) -> str | None:
    """Why your AWS is read (the first line says it), or None for the demo organization."""
    if demo:
        return None
    config = root / CONFIG_FILE
    if config.is_file():
        return f"{CONFIG_FILE} names it"
    if not aws:
        return None
    ambient = ambient_aws(root)
    if ambient is None:
        raise DemoError(f"--aws: no AWS access found (write {CONFIG_FILE}, or configure boto3)")
    return f"--aws, {ambient}"


def show_models(root: Path, duckdb_path: Path) -> None:
    say("the day-one questions, answered from the warehouse models (schema analytics):")
    try:
        print_day_one(day_one_answers(root, duckdb_path))
    except DayOneError as exc:
        raise DemoError(str(exc)) from None


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tap-aws-uvm-demo", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", help="the demo organization, whatever is set")
    mode.add_argument("--aws", action="store_true", help="your AWS (see --help's description)")
    args = parser.parse_args(argv)

    root = project_root()
    reason = which_aws(root, demo=args.demo, aws=args.aws)
    duckdb_path = root / DUCKDB_FILE
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    if reason is not None:
        say(f"reading YOUR AWS ({reason}); --demo reads the built-in demo organization instead")
        env = meltano_env(real_aws_env(root), demo=False)
        env["MELTANO_ENVIRONMENT"] = "prod"
        install_plugins(root, list(PLUGINS), env)
        meltano(root, "run", *PIPELINE, env=env)
        counts = duckdb_counts(root, duckdb_path)
        say(f"records per table in {DUCKDB_FILE} (schema {DUCKDB_SCHEMA}):")
        print_table(counts, None)
        show_models(root, duckdb_path)
        return 0

    ambient = ambient_aws(root)
    say(
        "reading the built-in demo organization: an emulated AWS on 127.0.0.1, no AWS account "
        "is touched" + (f" ({ambient}: not used; --aws reads your AWS)" if ambient else "")
    )
    env = meltano_env({"MELTANO_ENVIRONMENT": "dev"}, demo=True)
    install_plugins(root, list(PLUGINS), env)
    with Emulator.start() as aws:
        say(f"emulator listening on {aws.endpoint_url}; seeding the demo organization")
        seeded = seed_demo_expectations(aws.endpoint_url)
        expected = dict(seeded.records)
        say(
            f"seeded {1 + DEMO_MEMBERS} ACTIVE accounts (+{DEMO_SUSPENDED} SUSPENDED) x "
            f"{len(DEMO_REGIONS)} regions ({', '.join(DEMO_REGIONS)})"
        )
        duckdb_path.unlink(missing_ok=True)
        env["TAP_AWS_UVM_ENDPOINT_URL"] = aws.endpoint_url
        say(f"meltano run {' '.join(PIPELINE)}")
        meltano(root, "run", "--full-refresh", *PIPELINE, env=env)
    counts = duckdb_counts(root, duckdb_path)
    streams = tap_stream_names(root)
    expected["sync_coverage"] = coverage_rows(streams, seeded.organization, DEMO_REGIONS)
    expected = {name: expected[name] for name in streams if name in expected}
    say(f"records per table in {DUCKDB_FILE} (schema {DUCKDB_SCHEMA}):")
    print_table(counts, expected)
    problems = [
        f"{name}: {counts.get(name, 0)} records, {count} seeded"
        for name, count in expected.items()
        if counts.get(name, 0) != count
    ]
    problems += [f"{name}: not loaded" for name in streams if name not in counts]
    summary = {
        "mode": "demo",
        "duckdb": str(DUCKDB_FILE),
        "schema": DUCKDB_SCHEMA,
        "streams": streams,
        "tables": counts,
        "seeded": expected,
        "problems": problems,
        "seconds": round(time.monotonic() - started, 1),
    }
    (root / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if problems:
        for problem in problems:
            say(f"MISMATCH {problem}")
        return 1
    show_models(root, duckdb_path)
    say(
        f"OK: {len(counts)} tables, {sum(counts.values())} records, every count as seeded "
        f"({summary['seconds']}s). Query it: {QUERY_COMMAND}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = run(argv)
    except DemoError as exc:
        say(f"ERROR {exc}")
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
