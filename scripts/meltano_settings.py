"""Keep meltano.yml's settings of the tap-aws-uvm extractor equal to the tap's settings table.

    uv run python scripts/meltano_settings.py            # rewrite the block in meltano.yml
    uv run python scripts/meltano_settings.py --check    # exit 1 when meltano.yml differs

The block lies between the two marker comments below, under the extractor's `settings:`; it
is generated from tap_aws_uvm.settings.SETTINGS (kind, default, sensitive, description).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tap_aws_uvm.settings import SETTINGS, Setting

MELTANO_YML = Path(__file__).resolve().parent.parent / "meltano.yml"
START = "    # settings:start (generated: uv run python scripts/meltano_settings.py)"
END = "    # settings:end"
KINDS = {
    "string": "string",
    "boolean": "boolean",
    "integer": "integer",
    "strings": "array",
    "date-time": "date_iso8601",
    "uri": "string",
}


def _scalar(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value).lower()


def entry(setting: Setting) -> list[str]:
    kind = "options" if setting.kind == "string" and setting.choices else KINDS[setting.kind]
    lines = [f"    - name: {setting.name}", f"      kind: {kind}"]
    if setting.secret:
        lines.append("      sensitive: true")
    if setting.default is not None:
        if isinstance(setting.default, tuple):
            lines.append("      value:")
            lines += [f"      - {item}" for item in setting.default]
        else:
            lines.append(f"      value: {_scalar(setting.default)}")
    if kind == "options":
        lines.append("      options:")
        for choice in setting.choices:
            lines += [f"      - label: {choice}", f"        value: {choice}"]
    lines.append(f"      description: {json.dumps(setting.description)}")
    return lines


def block() -> str:
    return "\n".join([START, *(line for s in SETTINGS for line in entry(s)), END])


def current(text: str) -> tuple[int, int]:
    start = text.index(START)
    end = text.index(END, start) + len(END)
    return start, end


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = MELTANO_YML.read_text(encoding="utf-8")
    try:
        start, end = current(text)
    except ValueError:
        print(f"meltano.yml lacks the lines {START.strip()!r} and {END.strip()!r}")
        return 1
    wanted = text[:start] + block() + text[end:]
    if args.check:
        if wanted != text:
            print(
                "meltano.yml's tap-aws-uvm settings are stale: run "
                "`uv run python scripts/meltano_settings.py`"
            )
            return 1
        return 0
    MELTANO_YML.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
