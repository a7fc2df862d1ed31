"""An emulated AWS on loopback: moto's server behind our wrapper, in a subprocess.

>>> with Emulator.start() as aws:
...     boto3.client("ec2", endpoint_url=aws.endpoint_url, ...)

The wrapper (``server.py``) counts calls, injects faults (``faults.py``), splits pages
(``paging.py``) and hands some operations to our own handlers (``handlers.py``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

__all__ = ["Emulator", "EmulatorError"]

START_TIMEOUT_SECONDS = 15.0
CONTROL_TIMEOUT_SECONDS = 60.0


class EmulatorError(RuntimeError):
    pass


class Emulator:
    """A running emulator subprocess; control it over ``/_emulator/*``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, workdir: Path):
        self._process = process
        self._workdir = workdir
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, *, log_file: str | None = None) -> Emulator:
        workdir = Path(tempfile.mkdtemp(prefix="aws-emulator-"))
        port_file = workdir / "port"
        output = workdir / "output.log"
        command = [
            sys.executable,
            "-m",
            "aws_emulator",
            "serve",
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ]
        if log_file:
            command += ["--log-file", str(log_file)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("MOTO_ACCOUNT_ID", None)  # would pin every request to one account
        with output.open("wb") as sink:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(OSError):
                    process.kill()
                process.wait()
                tail = output.read_text(errors="replace")[-3000:]
                shutil.rmtree(workdir, ignore_errors=True)
                raise EmulatorError(
                    f"emulator did not start (exit code {process.returncode}):\n{tail}"
                )
            time.sleep(0.02)
        emulator = cls(process, int(port_file.read_text()), workdir)
        atexit.register(emulator.stop)
        return emulator

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._workdir, ignore_errors=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control
    def control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """POST ``payload`` as JSON to ``/_emulator/<path>``; return the JSON answer."""
        response = requests.post(
            f"{self.endpoint_url}/_emulator/{path.strip('/')}",
            json=payload or {},
            timeout=CONTROL_TIMEOUT_SECONDS,
        )
        if response.status_code != 200:
            raise EmulatorError(f"/_emulator/{path}: {response.status_code} {response.text}")
        return response.json()

    def configure(self, **faults: Any) -> None:
        """Replace the whole fault configuration; no arguments clears every fault."""
        self.control("faults", faults)

    def counts(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.endpoint_url}/_emulator/counts", timeout=CONTROL_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def issued_credentials(self) -> list[dict[str, str]]:
        """Every AccessKeyId / SecretAccessKey / SessionToken AssumeRole issued."""
        response = requests.get(
            f"{self.endpoint_url}/_emulator/sts/issued", timeout=CONTROL_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        issued: list[dict[str, str]] = response.json()["credentials"]
        return issued

    def reset_counts(self) -> None:
        self.control("counts/reset")

    def reset(self) -> None:
        """Empty moto, counts, faults and every handler's state."""
        response = requests.post(
            f"{self.endpoint_url}/moto-api/reset", timeout=CONTROL_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        self.control("reset")
