"""Write tap_aws_uvm/schemas/<stream>.json from botocore's service models.

    uv run python scripts/generate_schemas.py            # (re)write every schema
    uv run python scripts/generate_schemas.py --check    # exit 1 listing files that differ
    uv run python scripts/generate_schemas.py accounts   # only some streams

Schemas are declared in tap_aws_uvm/schema_sources.py and built by tap_aws_uvm/schemagen.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import botocore

from tap_aws_uvm import schemagen

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "tap_aws_uvm" / schemagen.SCHEMAS_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("streams", nargs="*", help="streams to generate (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file differs"
    )
    parser.add_argument("--dir", type=Path, default=SCHEMAS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    known = schemagen.stream_names()
    unknown = sorted(set(args.streams) - set(known))
    if unknown:
        parser.error(f"unknown streams: {', '.join(unknown)} (known: {', '.join(known)})")
    streams = args.streams or known
    directory: Path = args.dir

    differ: list[str] = []
    for stream in streams:
        path = directory / schemagen.schema_filename(stream)
        text = schemagen.render_schema(schemagen.schema_for(stream))
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        differ.append(f"{path} ({'missing' if current is None else 'differs'})")
        if not args.check:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    stale: list[Path] = []
    if not args.streams:  # files of streams that no longer exist
        expected = {schemagen.schema_filename(stream) for stream in known}
        stale = sorted(p for p in directory.glob("*.json") if p.name not in expected)
        for path in stale:
            differ.append(f"{path} (no such stream)")
            if not args.check:
                path.unlink()

    if args.check:
        if differ:
            print(
                f"Schemas differ from botocore {botocore.__version__}:\n  "
                + "\n  ".join(differ)
                + f"\nRun `{schemagen.GENERATE_COMMAND}`.",
                file=sys.stderr,
            )
            return 1
        print(f"{len(streams)} schemas up to date (botocore {botocore.__version__}).")
        return 0
    for line in differ:
        print(f"wrote {line}" if "no such stream" not in line else f"removed {line}")
    print(f"{len(streams)} schemas, {len(differ)} changed (botocore {botocore.__version__}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
