"""Apache Airflow for tests/e2e/test_airflow.py, in a virtual environment of its own.

Airflow is never a dependency of the tap: the environment is built from the committed lock
examples/airflow/requirements.txt (``uv venv`` + ``uv pip install``) under ``.airflow/`` of the
checkout (gitignored), once, and rebuilt when the lock or the Python changes. Airflow itself runs
with a private ``AIRFLOW_HOME`` and SQLite for its metadata.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "airflow"
DAGS_FOLDER = EXAMPLE / "dags"
REQUIREMENTS = EXAMPLE / "requirements.txt"
AIRFLOW_VERSION = "3.3.2"
CACHE = ROOT / ".airflow"
VENV = CACHE / f"airflow-{AIRFLOW_VERSION}"
STAMP = VENV / ".installed-from"


def _stamp() -> str:
    """What the environment was built from: the lock's digest and the interpreter."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return json.dumps({"requirements_sha256": digest, "python": sys.version})


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    CACHE.mkdir(exist_ok=True)
    with (CACHE / "install.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def without_virtualenv(env: Mapping[str, str]) -> dict[str, str]:
    """``uv run`` exports the tap's own venv; Airflow's tools must not see it."""
    return {k: v for k, v in env.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}


@dataclass(frozen=True)
class AirflowVenv:
    path: Path
    install_seconds: float | None  # None: the cached environment was used

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


def airflow_venv() -> AirflowVenv:
    """The cached environment, built (about 3 s with a warm uv cache) when it is missing."""
    with _install_lock():
        if STAMP.is_file() and STAMP.read_text() == _stamp():
            return AirflowVenv(VENV, None)
        uv = os.environ.get("UV") or shutil.which("uv")
        if uv is None:
            raise RuntimeError("uv is needed to build Airflow's environment (it is on CI's PATH)")
        shutil.rmtree(VENV, ignore_errors=True)
        started = time.monotonic()
        env = without_virtualenv(os.environ)
        for command in (
            [uv, "venv", "--quiet", "--python", sys.executable, str(VENV)],
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(VENV / "bin" / "python"),
                "--requirements",
                str(REQUIREMENTS),
            ],
        ):
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode:
                shutil.rmtree(VENV, ignore_errors=True)
                raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
        STAMP.write_text(_stamp())
        return AirflowVenv(VENV, time.monotonic() - started)


@dataclass(frozen=True)
class AirflowHome:
    """A private AIRFLOW_HOME: its configuration as environment variables, SQLite metadata."""

    venv: AirflowVenv
    home: Path

    @property
    def database(self) -> Path:
        return self.home / "airflow.db"

    def env(
        self, base: Mapping[str, str], extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """``base`` without any Airflow setting of its own, plus this home's, plus ``extra``."""
        env = {k: v for k, v in without_virtualenv(base).items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.database}",
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra or {})
        return env

    def airflow(
        self, *args: str, env: Mapping[str, str], timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        """``airflow ARGS`` (through Airflow's Python, whatever the venv's shebangs say)."""
        return subprocess.run(
            [str(self.venv.python), "-m", "airflow", *args],
            env=dict(env),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(
        self, script: str, *args: str, env: Mapping[str, str], timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv.python), "-c", script, *args],
            env=dict(env),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    # -- the metadata database, read back with the standard library
    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.database)) as con:
            return con.execute(sql, params).fetchall()
