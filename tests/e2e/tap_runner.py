"""Run the real ``tap-aws-uvm`` command and parse its Singer messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TAP = str(Path(sys.executable).with_name("tap-aws-uvm"))
# Credentials of the emulator's default (management) account. Not real keys.
FAKE_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                by_stream[message["stream"]].append(message["record"])
        return by_stream

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def lines(self, text: str) -> list[str]:
        return [line for line in self.stderr.splitlines() if text in line]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def clean_env() -> dict[str, str]:
    """The environment without ambient AWS settings, so only the config decides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> TapRun:
    with tempfile.TemporaryDirectory() as tmp:
        command = [TAP, "--config", str(_write(Path(tmp) / "config.json", config))]
        if state is not None:
            command += ["--state", str(_write(Path(tmp) / "state.json", state))]
        if catalog is not None:
            command += ["--catalog", str(_write(Path(tmp) / "catalog.json", catalog))]
        command += list(args)
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**clean_env(), **(env or {})},
            timeout=timeout,
            check=False,
        )
    run = TapRun(done.returncode, done.stdout, done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            run.messages.append(json.loads(line))
    return run


def catalog_selecting(streams: set[str]) -> dict[str, Any]:
    """The tap's own discovered catalog with only ``streams`` selected."""
    done = subprocess.run(
        [TAP, "--discover"], capture_output=True, text=True, env=clean_env(), check=True
    )
    catalog = json.loads(done.stdout)
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] in streams
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = selected
    return catalog


def _write(path: Path, payload: dict[str, Any]) -> Path:
    path.write_text(json.dumps(payload))
    return path
