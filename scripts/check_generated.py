"""Check every generated artefact against its generator; exit 1 if any is stale.

    uv run python scripts/check_generated.py

Each check is a command that exits 0 when the committed files are current, and names the
command that regenerates them otherwise. Add a line to CHECKS for each new generator.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# (what, command, a file that must exist for the check to apply)
CHECKS: list[tuple[str, list[str], str]] = [
    (
        "JSON schemas vs botocore",
        [PY, "scripts/generate_schemas.py", "--check"],
        "scripts/generate_schemas.py",
    ),
    (
        "README settings table vs --about",
        [PY, "scripts/readme_settings.py", "--check"],
        "scripts/readme_settings.py",
    ),
    (
        "meltano.yml tap-aws-uvm settings vs the settings table",
        [PY, "scripts/meltano_settings.py", "--check"],
        "scripts/meltano_settings.py",
    ),
    (
        "IAM policy and CloudFormation templates",
        [PY, "scripts/generate_iam.py", "--check"],
        "scripts/generate_iam.py",
    ),
]


def main() -> int:
    failed: list[str] = []
    for what, command, needs in CHECKS:
        if not (ROOT / needs).exists():
            print(f"[check] {what}: FAILED ({needs} is missing)")
            failed.append(what)
            continue
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        took = time.monotonic() - started
        status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        print(f"[check] {what}: {status} ({took:.1f}s)")
        if done.returncode:
            failed.append(what)
            sys.stdout.write(done.stdout)
            sys.stdout.write(done.stderr)
    if failed:
        print(f"[check] stale generated artefacts: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
