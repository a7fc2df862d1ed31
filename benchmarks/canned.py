"""A canned AWS for the large benchmark cases: a few operations, answered from bytes.

moto costs ~8 ms of server CPU a call and builds its answers object by object; at 200k findings
or 8,000 partitions the benchmark would measure moto, not the tap. This server answers only
what the finding cases need, with per-call latency and no per-call work beyond a bytes join:

- STS ``AssumeRole`` (any role of any account: the access key of the answer encodes the
  account) and ``GetCallerIdentity``;
- Security Hub ``GetFindings``: ``--findings`` per (account, region) partition, in pages of
  ``MaxResults`` (≤ 100), every finding with its own ``Id``.

Run: ``python -m benchmarks.canned --findings 40000 [--latency-ms 0] [--port-file F]``.
It listens on 127.0.0.1 (port 0 = any free port, written to ``--port-file``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BASE_ACCOUNT = "123456789012"  # the account of the base keys (any key not minted here)
KEY_PREFIX = "ASIABENCH"  # access keys minted by AssumeRole: KEY_PREFIX + account id
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
MARK = b"@@PAGE@@"
TEMPLATE_SIZE = 100


def _templates() -> list[bytes]:
    """100 distinct, realistic ASFF findings (~2.4 KB each), with ``MARK`` in every Id."""
    from aws_emulator.findings import generated_findings  # noqa: PLC0415

    now = dt.datetime.now(dt.UTC)
    findings = generated_findings(
        "securityhub",
        BASE_ACCOUNT,
        "us-east-1",
        TEMPLATE_SIZE,
        start=(now - dt.timedelta(days=2)).isoformat(),
        end=(now - dt.timedelta(minutes=5)).isoformat(),
    )
    out = []
    for i, finding in enumerate(findings):
        finding["Id"] = f"{finding['Id']}/{MARK.decode()}/{i}"
        out.append(json.dumps(finding, separators=(",", ":")).encode())
    return out


class Canned:
    def __init__(self, findings: int, latency_ms: float) -> None:
        self.findings = findings
        self.latency = latency_ms / 1000
        self.items = _templates()
        self.calls = 0


def _xml(body: str) -> bytes:
    return body.encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        canned = self.server.canned
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = CREDENTIAL.search(self.headers.get("Authorization") or "")
        if canned.latency:
            time.sleep(canned.latency)
        canned.calls += 1
        if not match:
            self._send(400, b'{"__type":"MissingAuthenticationToken"}', "application/json")
            return
        key, region, service = match.groups()
        account = key[len(KEY_PREFIX) :] if key.startswith(KEY_PREFIX) else BASE_ACCOUNT
        if service == "sts":
            self._sts(parse_qs(body.decode()), account)
        elif service == "securityhub" and self.path.startswith("/findings"):
            self._get_findings(json.loads(body or b"{}"), account, region)
        else:
            self._send(
                400,
                json.dumps({"__type": "UnknownOperationException", "message": self.path}).encode(),
                "application/json",
            )

    def _sts(self, form: dict[str, list[str]], account: str) -> None:
        action = form.get("Action", [""])[0]
        ns = "https://sts.amazonaws.com/doc/2011-06-15/"
        if action == "AssumeRole":
            role_arn = form["RoleArn"][0]
            target = role_arn.split(":")[4]
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            role = role_arn.split(":role/")[-1]
            body = (
                f'<AssumeRoleResponse xmlns="{ns}"><AssumeRoleResult><Credentials>'
                f"<AccessKeyId>{KEY_PREFIX}{target}</AccessKeyId>"
                f"<SecretAccessKey>secret{target}</SecretAccessKey>"
                f"<SessionToken>token{target}</SessionToken>"
                f"<Expiration>{expires}</Expiration></Credentials>"
                f"<AssumedRoleUser><AssumedRoleId>AROABENCH:{form['RoleSessionName'][0]}"
                f"</AssumedRoleId><Arn>arn:aws:sts::{target}:assumed-role/{role}/bench</Arn>"
                f"</AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>"
                f"{uuid.uuid4()}</RequestId></ResponseMetadata></AssumeRoleResponse>"
            )
        elif action == "GetCallerIdentity":
            body = (
                f'<GetCallerIdentityResponse xmlns="{ns}"><GetCallerIdentityResult>'
                f"<Arn>arn:aws:iam::{account}:user/bench</Arn><UserId>AIDABENCH</UserId>"
                f"<Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
                f"</GetCallerIdentityResponse>"
            )
        else:
            self._send(400, b"<ErrorResponse/>", "text/xml")
            return
        self._send(200, _xml(body), "text/xml")

    def _get_findings(self, params: dict[str, Any], account: str, region: str) -> None:
        canned = self.server.canned
        size = min(int(params.get("MaxResults") or 100), TEMPLATE_SIZE)
        start = int(params.get("NextToken") or 0)
        count = max(0, min(size, canned.findings - start))
        items = [canned.items[(start + i) % TEMPLATE_SIZE] for i in range(count)]
        page = b",".join(items).replace(MARK, f"{account}/{region}/{start // size}".encode())
        following = start + count
        token = b',"NextToken":"%d"' % following if following < canned.findings else b""
        self._send(200, b'{"Findings":[' + page + b"]" + token + b"}", "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, canned: Canned) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.canned = canned


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=0, help="findings per partition")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--port-file")
    args = parser.parse_args(argv)
    server = Server(Canned(args.findings, args.latency_ms))
    port = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as fh:
            fh.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"canned AWS on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
