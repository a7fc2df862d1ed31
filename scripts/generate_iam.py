"""Write docs/iam/: the IAM policies and CloudFormation templates of the default selection.

    uv run python scripts/generate_iam.py            # rewrite docs/iam/*.json
    uv run python scripts/generate_iam.py --check    # exit 1 when a committed file differs

The default selection is every stream with default settings in organization mode over every
enabled region (``regions: ["*"]``, so ``ec2:DescribeRegions`` is in the read policy), with the
role and member role named ``TapReadRole``. For another config or catalog, run
``tap-aws-uvm-iam --config config.json [--catalog catalog.json] --print all``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tap_aws_uvm.iam import documents, render, selected_permissions

DOCS = Path(__file__).resolve().parent.parent / "docs" / "iam"
REGENERATE = "uv run python scripts/generate_iam.py"
# Only the role names matter here (the account id is never written to a template).
DEFAULT_CONFIG = {
    "role_arn": "arn:aws:iam::111111111111:role/TapReadRole",
    "org_accounts": True,
    "regions": ["*"],
}
# caller-policy names the configured role ARN: it is per config, not a committed document
COMMITTED = ("policy", "management-policy", "account-template", "stackset-template", "org-template")


def expected_files() -> dict[Path, str]:
    generated = documents(selected_permissions(DEFAULT_CONFIG, None, env=False))
    return {DOCS / f"{name}.json": render(generated[name]) for name in COMMITTED}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    root = DOCS.parent.parent
    for path in stale:
        verb = "differs from its generator" if args.check else "rewritten"
        print(f"{path.relative_to(root)}: {verb}")
    if args.check and stale:
        print(f"regenerate with: {REGENERATE}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
