"""``aws-emulator`` (or ``python -m aws_emulator``): serve the emulated AWS, seed it.

aws-emulator serve [--port 4566] [--seed]     serve on 127.0.0.1 until killed
aws-emulator seed --endpoint-url URL          seed the demo organization into a running one
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from aws_emulator.server import serve


def _seed(endpoint_url: str) -> None:
    from aws_emulator.demo_org import seed_demo  # noqa: PLC0415 - only when seeding

    started = time.monotonic()
    expected = seed_demo(endpoint_url)
    print(
        f"seeded the demo organization into {endpoint_url} in {time.monotonic() - started:.1f}s; "
        f"records per stream: {json.dumps(expected, sort_keys=True)}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="aws-emulator", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="serve the emulated AWS on 127.0.0.1")
    serve_command.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve_command.add_argument("--port-file", help="write the bound port here once ready")
    serve_command.add_argument("--log-file", help="request log (off when not given)")
    serve_command.add_argument(
        "--seed", action="store_true", help="seed the demo organization once it listens"
    )
    seed_command = commands.add_parser(
        "seed", help="seed the demo organization (inventory and findings) into a running emulator"
    )
    seed_command.add_argument("--endpoint-url", required=True, help="e.g. http://127.0.0.1:4566")
    args = parser.parse_args(argv)

    if args.command == "seed":
        _seed(args.endpoint_url)
        return

    def seed_in_background(port: int) -> None:
        url = f"http://127.0.0.1:{port}"
        threading.Thread(target=_seed, args=(url,), daemon=True).start()

    serve(
        args.port,
        port_file=args.port_file,
        log_file=args.log_file,
        on_ready=seed_in_background if args.seed else None,
    )


if __name__ == "__main__":
    main()
