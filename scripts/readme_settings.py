"""Keep README.md's settings table equal to the one the tap generates.

    uv run python scripts/readme_settings.py            # rewrite the table in README.md
    uv run python scripts/readme_settings.py --check    # exit 1 when README.md differs

The table is the "## Settings" table of `tap-aws-uvm --about --format=markdown`, placed in
README.md between the two marker lines below.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- settings-table:start (generated: uv run python scripts/readme_settings.py) -->"
END = "<!-- settings-table:end -->"
REGENERATE = "uv run python scripts/readme_settings.py"


def about_markdown() -> str:
    """`tap-aws-uvm --about --format=markdown`, run with this interpreter."""
    done = subprocess.run(
        [sys.executable, "-m", "tap_aws_uvm", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def settings_table(markdown: str | None = None) -> str:
    """The table lines under the "## Settings" heading of the --about markdown."""
    lines = (markdown if markdown is not None else about_markdown()).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "## Settings")
    except StopIteration:
        raise SystemExit("--about --format=markdown has no '## Settings' section") from None
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append(line.rstrip())
        elif table:
            break
    if not table:
        raise SystemExit("--about --format=markdown has an empty settings table")
    return "\n".join(table)


def readme_table(text: str) -> str:
    """The table between the markers of README.md."""
    try:
        _, rest = text.split(START + "\n", 1)
        body, _ = rest.split("\n" + END, 1)
    except ValueError:
        raise SystemExit(f"README.md lacks the lines {START!r} and {END!r}") from None
    return body.strip("\n")


def replace_table(text: str, table: str) -> str:
    head, rest = text.split(START + "\n", 1)
    _, tail = rest.split("\n" + END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on a diff")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    current, wanted = readme_table(text), settings_table()
    if current == wanted:
        print("README.md settings table is up to date.")
        return 0
    if args.check:
        print(
            f"README.md settings table differs from --about: run `{REGENERATE}`.", file=sys.stderr
        )
        return 1
    README.write_text(replace_table(text, wanted), encoding="utf-8")
    print("README.md settings table rewritten.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
