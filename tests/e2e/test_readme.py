"""README.md stays true: its settings table, its streams table and its quick-start blocks."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tap_aws_uvm.streams import STREAM_TYPES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_settings() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_settings", ROOT / "scripts" / "readme_settings.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_table_equals_the_taps_about_output() -> None:
    script = readme_settings()
    about = subprocess.run(
        [str(Path(sys.executable).with_name("tap-aws-uvm")), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert script.readme_table(README) == script.settings_table(about), (
        f"README.md's settings table is stale: run `{script.REGENERATE}`"
    )


def quickstart(name: str) -> list[str]:
    match = re.search(
        rf"<!-- {name}:start -->\n```sh\n(.*?)\n```\n<!-- {name}:end -->", README, re.S
    )
    assert match, f"README.md lacks its {name} block"
    return match.group(1).splitlines()


def test_quick_start_has_one_command_for_the_main_job_and_one_for_the_tests() -> None:
    (demo,) = quickstart("quickstart-demo")
    (tests,) = quickstart("quickstart-tests")
    assert demo.endswith("tap-aws-uvm-demo")
    assert "pytest" in tests


def test_streams_table_lists_every_stream_with_its_key() -> None:
    rows = {}
    for line in README.split("## Streams", 1)[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[1])
    assert rows == {s.name: list(s.primary_keys) for s in STREAM_TYPES}


def test_placeholder_sections_exist_for_the_other_issues() -> None:
    for heading in ("## Incremental findings", "## Setting up AWS access", "## Performance"):
        assert heading in README
