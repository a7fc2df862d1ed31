"""``python -m tap_aws_uvm.emulator serve --port 0 --port-file PATH [--log-file PATH]``."""

from __future__ import annotations

import argparse

from tap_aws_uvm.emulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tap_aws_uvm.emulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="serve the emulated AWS on 127.0.0.1")
    serve_command.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve_command.add_argument("--port-file", help="write the bound port here once ready")
    serve_command.add_argument("--log-file", help="request log (off when not given)")
    args = parser.parse_args(argv)

    serve(args.port, port_file=args.port_file, log_file=args.log_file)


if __name__ == "__main__":
    main()
