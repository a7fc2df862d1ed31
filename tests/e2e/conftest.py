"""What the end-to-end tests share, once per session: one emulator and its seeded
organization, a PostgreSQL server, and Meltano with its loaders installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_emulator import Emulator, demo
from aws_emulator.seed import Organization, seed_organization

from tests.e2e.tap_runner import FAKE_KEYS

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ["us-east-1", "eu-west-1"]
POSTGRES_ENV = "TAP_UVM_TEST_POSTGRES"
LOADERS = ("target-postgres", "target-duckdb", "target-jsonl")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator.start() as started:
        yield started


@pytest.fixture(scope="session")
def org(emulator: Emulator) -> Organization:
    return seed_organization(emulator.endpoint_url, regions=REGIONS)


@pytest.fixture
def emu(emulator: Emulator, org: Organization) -> Iterator[Emulator]:
    """The seeded emulator with no faults and zeroed counts; faults cleared afterwards."""
    emulator.configure()
    emulator.reset_counts()
    yield emulator
    emulator.configure()


@pytest.fixture
def key_config(emu: Emulator) -> dict[str, object]:
    """Access-key mode on the management account."""
    return {**FAKE_KEYS, "regions": REGIONS, "endpoint_url": emu.endpoint_url}


@pytest.fixture
def roles_config(emu: Emulator, org: Organization) -> dict[str, object]:
    """Role-list mode over every ACTIVE account."""
    return {
        **FAKE_KEYS,
        "regions": REGIONS,
        "endpoint_url": emu.endpoint_url,
        "role_arns": [org.role_arn(a.id) for a in org.active_accounts],
    }


@pytest.fixture
def org_config(emu: Emulator, org: Organization) -> dict[str, object]:
    """Organization mode through the management account's role."""
    return {
        **FAKE_KEYS,
        "regions": REGIONS,
        "endpoint_url": emu.endpoint_url,
        "role_arn": org.management_role_arn,
        "org_accounts": True,
    }


def total_requests(counts: dict[str, object]) -> int:
    return sum(int(row["count"]) for row in counts["requests"])  # type: ignore[index, union-attr, attr-defined]


def requests_for(counts: dict, service: str, operation: str, account: str | None = None) -> int:
    return sum(
        row["count"]
        for row in counts["requests"]
        if row["service"] == service
        and row["operation"] == operation
        and (account is None or row["account"] == account)
    )


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the CI's server, or a private one


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
    for bindir in reversed(candidates):
        if (bindir / "initdb").exists():
            return bindir
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    dsn = os.environ.get(POSTGRES_ENV)
    if dsn:
        yield dsn
        return
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set: .ci/run starts PostgreSQL and exports it")
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.fail(
            f"PostgreSQL is needed: set {POSTGRES_ENV}=postgresql://user:pass@host:port/db, "
            "or install its server (apt-get install postgresql) for a private one"
        )
    root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if root else []
    workdir = Path(tempfile.mkdtemp(prefix="tap-uvm-test-pg-"))
    workdir.chmod(0o755)
    if root:
        shutil.chown(workdir, "postgres", "postgres")
    port = _free_port()
    data = workdir / "data"

    def as_server_user(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    as_server_user(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
    as_server_user(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(workdir / "server.log"),
        "-w",
        "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off",
        "start",
    )
    try:
        as_server_user(
            str(bindir / "psql"),
            "-h",
            str(workdir),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-c",
            "CREATE DATABASE tap_uvm_test",
        )
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/tap_uvm_test"
    finally:
        as_server_user(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Meltano and its loaders


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Meltano and every loader used here, installed once per session into .meltano/; the
    session's runs get a system directory of their own (catalogs, logs, state database) that
    shares only those plugin environments, so concurrent Meltano commands cannot collide."""
    env = demo.meltano_env({"MELTANO_ENVIRONMENT": "ci"}, demo=True)
    demo.install_plugins(ROOT, ["tap-aws-uvm", *LOADERS], env)
    sys_dir = tmp_path_factory.mktemp("meltano-sys")
    for kind in ("extractors", "loaders"):
        (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return sys_dir
