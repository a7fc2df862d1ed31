"""A canned AWS for the benchmarks: every answer pre-encoded, a bytes join or replace a call.

moto costs ~8 ms of server CPU a call and builds its answers object by object; at 200k findings
or 8,000 partitions the benchmark would measure moto, not the tap. Two modes:

- ``--findings N`` (the emission and state cases): STS ``AssumeRole`` (any role of any account:
  the access key of the answer encodes the account) and ``GetCallerIdentity``; Security Hub
  ``GetFindings``: N findings per (account, region) partition, in pages of ``MaxResults``
  (<= 100), every finding with its own ``Id``. ``--finding-size`` picks ~2.4 KB findings
  (Inspector-sourced ASFF, the default) or ~1 KB ones (CSPM control findings).
- ``--org ACCOUNTS`` (the scale case): every call of every stream of the tap in organization
  mode, for the organization of :mod:`benchmarks.org` (STS, Organizations, EC2 and its
  network describes, ELB v2 and classic, ECR, EKS, RDS, S3, Security Hub v1 and v2,
  Inspector findings and coverage). Answers are written at start-up from botocore's output
  shapes and parsed back by botocore (:mod:`benchmarks.wire`); a call costs a dict lookup and
  two ``bytes.replace``. The server counts every call it answered by (service, operation,
  account, region, the parameters that chose the answer); ``GET /__bench/calls`` returns
  them with the server's CPU time since ``POST /__bench/reset``, which clears them (the bare
  botocore floor replays exactly these calls). A request with an ``x-bench-as:
  ACCOUNT/REGION`` header is answered as that account and region whatever its credentials
  (the floor uses one client per service).

Run: ``python -m benchmarks.canned (--findings N | --org N) [--latency-ms 0] [--port-file F]``.
It listens on 127.0.0.1 (port 0 = any free port, written to ``--port-file``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from socketserver import StreamRequestHandler, ThreadingTCPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from benchmarks import org as orgdata
from benchmarks import wire

BASE_ACCOUNT = "123456789012"  # the account of the base keys (any key not minted here)
KEY_PREFIX = "ASIABENCH"  # access keys minted by AssumeRole: KEY_PREFIX + account id
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
MARK = b"@@PAGE@@"
TEMPLATE_SIZE = 100
A, R = orgdata.A.encode(), orgdata.R.encode()
# A connection idle this long is closed (AWS closes idle connections too); keeps the server's
# threads to the connections in use, whatever number of clients the tap keeps.
IDLE_SECONDS = 20


def _templates(size: str = "2.4k") -> list[bytes]:
    """100 distinct, realistic ASFF findings, with ``MARK`` in every Id: Inspector-sourced
    ones (~2.4 KB, ``2.4k``) or CSPM control findings (~1 KB, ``1k``)."""
    from aws_emulator.findings import generated_findings  # noqa: PLC0415

    now = dt.datetime.now(dt.UTC)
    if size == "1k":
        findings = orgdata.control_findings(
            TEMPLATE_SIZE, now, BASE_ACCOUNT, "us-east-1", compact=True
        )
    else:
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
    def __init__(self, findings: int, latency_ms: float, size: str = "2.4k") -> None:
        self.findings = findings
        self.latency = latency_ms / 1000
        self.items = _templates(size)
        self.calls = 0


def _xml(body: str) -> bytes:
    return body.encode()


# ---- the organization's answers ---------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    detail: dict[str, Any]  # the parameters that chose this answer (the floor sends them)
    account: bytes | None = None  # what @@A@@ becomes, when not the caller's account
    dynamic: bool = False  # body is a bytes %-format of the account (a) and region (r)


def _format(body: bytes) -> bytes:
    """``body`` with its placeholders as a bytes %-format: one C pass a call (six times
    faster than two ``bytes.replace`` on a 225 KB page of findings)."""
    return body.replace(b"%", b"%%").replace(A, b"%(a)s").replace(R, b"%(r)s")


class Template:
    """One pre-encoded answer; placeholders filled per call."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.dynamic = A in body or R in body
        self.body = _format(body) if self.dynamic else body
        self.content_type = content_type

    def reply(self, detail: dict[str, Any] | None = None, account: bytes | None = None) -> Reply:
        return Reply(200, self.body, self.content_type, detail or {}, account, self.dynamic)


class Paged:
    """A JSON listing cut into pages of the size asked (at most ``most``)."""

    def __init__(
        self,
        service: Any,
        operation: str,
        member: str,
        items: list[Any],
        *,
        token: str,
        size: str,
        most: int,
    ) -> None:
        self.items = wire.json_items(service, operation, member, items)
        self.head = b'{"' + wire.json_name(service, operation, member).encode() + b'":['
        self.token, self.size, self.most = token, size, most
        self.content_type = wire.JSON_CONTENT[service.protocol]
        self.dynamic = any(A in item or R in item for item in self.items)
        # botocore must read the first page (and the others) as the items it was made from
        for start in range(0, max(1, len(items)), most):
            following = start + most if start + most < len(items) else None
            page: dict[str, Any] = {member: items[start : start + most]}
            if following is not None:
                page[self.token] = str(following)
            body = self._page(start, most)
            wire.compare(service, operation, body, self.content_type, page)
        if self.dynamic:
            self.items = [_format(item) for item in self.items]

    def _page(self, start: int, size: int) -> bytes:
        following = start + size
        tail = (
            b'],"%s":"%d"}' % (self.token.encode(), following)
            if following < len(self.items)
            else b"]}"
        )
        return self.head + b",".join(self.items[start:following]) + tail

    def reply(self, params: dict[str, Any]) -> Reply:
        size = min(int(params.get(self.size) or self.most), self.most)
        token = params.get(self.token)
        start = int(token or 0)
        detail = {self.token: token} if token else {}
        return Reply(200, self._page(start, size), self.content_type, detail, None, self.dynamic)


def _error(protocol: str, code: str, message: str, status: int = 400) -> Reply:
    if protocol in ("json", "rest-json"):
        return Reply(status, wire.json_error(code, message), wire.JSON_CONTENT[protocol], {})
    if protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            f"</Errors><RequestID>{wire.REQUEST_ID}</RequestID></Response>"
        )
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{wire.REQUEST_ID}</RequestId>"
            f"</ErrorResponse>"
        )
    return Reply(status, body.encode(), "text/xml", {})


Route = Callable[[str, dict[str, Any]], Reply]  # (profile, params) -> reply


class OrgAnswers:
    """Every answer of the canned organization, encoded once."""

    def __init__(self, organization: orgdata.Organization) -> None:
        import botocore.session  # noqa: PLC0415

        self.org = organization
        session = botocore.session.get_session()
        self.models = {
            name: session.get_service_model(name)
            for name in (
                "sts",
                "organizations",
                "ec2",
                "elbv2",
                "elb",
                "ecr",
                "eks",
                "rds",
                "s3",
                "securityhub",
                "inspector2",
            )
        }
        self.protocol = {name: model.protocol for name, model in self.models.items()}
        self.routes: dict[tuple[str, str], Route] = {}
        self._tags: dict[tuple[str, str, tuple[str, ...]], Template] = {}
        self._tags_lock = threading.Lock()
        self._build()

    def _t(self, service: str, operation: str, value: dict[str, Any]) -> Template:
        body, content_type = wire.check(self.models[service], operation, value)
        return Template(body, content_type)

    def _paged(
        self, service: str, operation: str, member: str, items: list[Any], **kw: Any
    ) -> Paged:
        return Paged(self.models[service], operation, member, items, **kw)

    def _per_profile(
        self, service: str, operation: str, make: Callable[[orgdata.Partition], dict[str, Any]]
    ) -> None:
        answers = {
            name: self._t(service, operation, make(p)) for name, p in self.org.partitions.items()
        }
        self.routes[(service, operation)] = lambda profile, params: answers[profile].reply()

    def _paged_per_profile(
        self,
        service: str,
        operation: str,
        member: str,
        items: Callable[[orgdata.Partition], list[Any]],
        **kw: Any,
    ) -> None:
        pages = {
            name: self._paged(service, operation, member, items(p), **kw)
            for name, p in self.org.partitions.items()
        }
        self.routes[(service, operation)] = lambda profile, params: pages[profile].reply(params)

    def _build(self) -> None:
        org = self.org
        # STS: @@A@@ is the role's account; the rest is filled per call
        assume = self._t(
            "sts",
            "AssumeRole",
            {
                "Credentials": {
                    "AccessKeyId": f"{KEY_PREFIX}{orgdata.A}",
                    "SecretAccessKey": f"secret{orgdata.A}",
                    "SessionToken": f"token{orgdata.A}" + "x" * 300,
                    "Expiration": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                },
                "AssumedRoleUser": {
                    "AssumedRoleId": "AROABENCHROLE:@@SESSION@@",
                    "Arn": f"arn:aws:sts::{orgdata.A}:assumed-role/@@ROLE@@/@@SESSION@@",
                },
            },
        )
        expiration = b"2030-01-01T00:00:00.000Z"

        def assume_role(profile: str, params: dict[str, Any]) -> Reply:
            arn = params["RoleArn"]
            duration = int(params.get("DurationSeconds") or 3600)
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=duration)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            )
            body = (
                assume.body.replace(expiration, expires.encode())
                .replace(b"@@ROLE@@", arn.split(":role/")[-1].encode())
                .replace(b"@@SESSION@@", str(params.get("RoleSessionName", "")).encode())
            )
            detail = {"RoleArn": arn, "DurationSeconds": duration}
            account = arn.split(":")[4].encode()
            return Reply(200, body, assume.content_type, detail, account, assume.dynamic)

        self.routes[("sts", "AssumeRole")] = assume_role
        identity = self._t(
            "sts",
            "GetCallerIdentity",
            {
                "UserId": "AIDABENCH",
                "Account": orgdata.A,
                "Arn": f"arn:aws:iam::{orgdata.A}:user/bench",
            },
        )
        self.routes[("sts", "GetCallerIdentity")] = lambda profile, params: identity.reply()

        # Organizations: the whole organization, through any account's credentials
        accounts = self._paged(
            "organizations",
            "ListAccounts",
            "Accounts",
            org.listed(),
            token="NextToken",
            size="MaxResults",
            most=20,
        )
        self.routes[("organizations", "ListAccounts")] = lambda profile, params: accounts.reply(
            params
        )
        tags = self._t(
            "organizations",
            "ListTagsForResource",
            {"Tags": orgdata._tags(env="prod", owner="platform", cost_center=f"cc-{orgdata.A}")},
        )

        def list_tags(profile: str, params: dict[str, Any]) -> Reply:
            resource = str(params["ResourceId"])
            return tags.reply({"ResourceId": resource}, resource.encode())

        self.routes[("organizations", "ListTagsForResource")] = list_tags

        # EC2
        regions = self._t(
            "ec2",
            "DescribeRegions",
            {
                "Regions": [
                    {
                        "RegionName": name,
                        "Endpoint": f"ec2.{name}.amazonaws.com",
                        "OptInStatus": "opt-in-not-required",
                    }
                    for name in orgdata.DEFAULT_REGIONS
                ]
                + [
                    {
                        "RegionName": name,
                        "Endpoint": f"ec2.{name}.amazonaws.com",
                        "OptInStatus": "not-opted-in",
                    }
                    for name in orgdata.OPT_IN_REGIONS
                ]
            },
        )
        self.routes[("ec2", "DescribeRegions")] = lambda profile, params: regions.reply()
        self._per_profile("ec2", "DescribeInstances", lambda p: {"Reservations": p.reservations})
        for operation, member, attr in (
            ("DescribeInternetGateways", "InternetGateways", "internet_gateways"),
            ("DescribeNatGateways", "NatGateways", "nat_gateways"),
            ("DescribeVpcs", "Vpcs", "vpcs"),
            ("DescribeSubnets", "Subnets", "subnets"),
            ("DescribeAddresses", "Addresses", "addresses"),
            ("DescribeNetworkInterfaces", "NetworkInterfaces", "network_interfaces"),
        ):
            self._per_profile("ec2", operation, partial(_listing, member, attr))

        # load balancers and their tags
        self._per_profile(
            "elbv2", "DescribeLoadBalancers", lambda p: {"LoadBalancers": p.load_balancers}
        )
        self._per_profile(
            "elb",
            "DescribeLoadBalancers",
            lambda p: {"LoadBalancerDescriptions": p.classic_load_balancers},
        )
        self.routes[("elbv2", "DescribeTags")] = self._describe_tags(
            "elbv2", "ResourceArns", "ResourceArn"
        )
        self.routes[("elb", "DescribeTags")] = self._describe_tags(
            "elb", "LoadBalancerNames", "LoadBalancerName"
        )

        # ECR
        self._per_profile(
            "ecr",
            "DescribeRepositories",
            lambda p: {"repositories": [r for r, _ in p.repositories]},
        )
        images = {
            (profile, repo["repositoryName"]): self._t(
                "ecr", "DescribeImages", {"imageDetails": [image.detail for image in listed]}
            )
            for profile, part in org.partitions.items()
            for repo, listed in part.repositories
        }
        scans = {
            (profile, repo["repositoryName"], image.detail["imageDigest"]): (
                None
                if image.scan is None
                else self._t("ecr", "DescribeImageScanFindings", image.scan)
            )
            for profile, part in org.partitions.items()
            for repo, listed in part.repositories
            for image in listed
        }

        def describe_images(profile: str, params: dict[str, Any]) -> Reply:
            name = params.get("repositoryName")
            found = images.get((profile, name))
            if found is None:
                return _error("json", "RepositoryNotFoundException", f"repository {name} not found")
            return found.reply({"repositoryName": name, "registryId": params.get("registryId")})

        def scan_findings(profile: str, params: dict[str, Any]) -> Reply:
            name = params.get("repositoryName")
            digest = (params.get("imageId") or {}).get("imageDigest")
            detail = {
                "repositoryName": name,
                "registryId": params.get("registryId"),
                "imageId": {"imageDigest": digest},
            }
            key = (profile, name, digest)
            if key not in scans:
                reply = _error("json", "ImageNotFoundException", f"image {digest} not found")
            elif scans[key] is None:
                reply = _error(
                    "json", "ScanNotFoundException", f"Image scan does not exist for image {digest}"
                )
            else:
                reply = scans[key].reply()  # type: ignore[union-attr]
            reply.detail = detail
            return reply

        self.routes[("ecr", "DescribeImages")] = describe_images
        self.routes[("ecr", "DescribeImageScanFindings")] = scan_findings

        # EKS
        self._per_profile(
            "eks", "ListClusters", lambda p: {"clusters": [c["name"] for c in p.clusters]}
        )
        clusters = {
            (profile, cluster["name"]): self._t("eks", "DescribeCluster", {"cluster": cluster})
            for profile, part in org.partitions.items()
            for cluster in part.clusters
        }

        def describe_cluster(profile: str, params: dict[str, Any]) -> Reply:
            name = params["name"]
            found = clusters.get((profile, name))
            if found is None:
                reply = _error(
                    "rest-json",
                    "ResourceNotFoundException",
                    f"No cluster found for name: {name}.",
                    404,
                )
            else:
                reply = found.reply()
            reply.detail = {"name": name}
            return reply

        self.routes[("eks", "DescribeCluster")] = describe_cluster

        # RDS
        self._per_profile("rds", "DescribeDBInstances", lambda p: {"DBInstances": p.db_instances})

        # S3: BucketRegion only when a page size is sent, as AWS does
        with_region = self._t("s3", "ListBuckets", orgdata.buckets(with_region=True))
        without_region = self._t("s3", "ListBuckets", orgdata.buckets(with_region=False))

        def list_buckets(profile: str, params: dict[str, Any]) -> Reply:
            if params.get("MaxBuckets"):
                return with_region.reply({"MaxBuckets": int(params["MaxBuckets"])})
            return without_region.reply()

        locations = {
            suffix: self._t("s3", "GetBucketLocation", {"LocationConstraint": region})
            for suffix, region in orgdata.BUCKETS
            if region != "us-east-1"
        }
        us_east_1 = Template(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint '
            b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>',
            "text/xml",
        )

        def bucket_location(profile: str, params: dict[str, Any]) -> Reply:
            bucket = str(params["Bucket"])
            found = locations.get(bucket.rsplit("-", 1)[-1], us_east_1)
            return found.reply({"Bucket": bucket})

        self.routes[("s3", "ListBuckets")] = list_buckets
        self.routes[("s3", "GetBucketLocation")] = bucket_location

        # findings and coverage
        self._paged_per_profile(
            "securityhub",
            "GetFindings",
            "Findings",
            lambda p: p.securityhub,
            token="NextToken",
            size="MaxResults",
            most=100,
        )
        self._paged_per_profile(
            "securityhub",
            "GetFindingsV2",
            "Findings",
            lambda p: p.ocsf,
            token="NextToken",
            size="MaxResults",
            most=100,
        )
        self._paged_per_profile(
            "inspector2",
            "ListFindings",
            "findings",
            lambda p: p.inspector,
            token="nextToken",
            size="maxResults",
            most=100,
        )
        self._paged_per_profile(
            "inspector2",
            "ListCoverage",
            "coveredResources",
            lambda p: p.coverage,
            token="nextToken",
            size="maxResults",
            most=200,
        )

    def _describe_tags(self, service: str, param: str, key: str) -> Route:
        def describe(profile: str, params: dict[str, Any]) -> Reply:
            wanted = list(params.get(param) or ())
            # the ids as placeholders: one answer per profile and batch, whatever the account
            names = tuple(_placeholders(name) for name in wanted)
            cache_key = (service, profile, names)
            template = self._tags.get(cache_key)
            if template is None:
                part = self.org.partitions[profile]
                known = part.lb_tags if service == "elbv2" else part.classic_lb_tags
                value = {
                    "TagDescriptions": [
                        {key: name, "Tags": known[name]} for name in names if name in known
                    ]
                }
                with self._tags_lock:
                    template = self._tags[cache_key] = self._t(service, "DescribeTags", value)
            reply = template.reply()
            reply.detail = {param: wanted}
            return reply

        return describe


def _listing(member: str, attr: str, part: orgdata.Partition) -> dict[str, Any]:
    return {member: getattr(part, attr)}


_CALLER = threading.local()


def _placeholders(text: str) -> str:
    """An id as the caller sent it, with its account and region put back as placeholders."""
    account, region = getattr(_CALLER, "where", ("", ""))
    if account:
        text = text.replace(account, orgdata.A)
    if region:
        text = text.replace(region, orgdata.R)
    return text


def _query_params(form: dict[str, list[str]]) -> dict[str, Any]:
    """Query-protocol form fields; ``X.member.N`` lists folded into ``X``."""
    out: dict[str, Any] = {}
    lists: dict[str, list[tuple[int, str]]] = {}
    for name, values in form.items():
        head, sep, index = name.partition(".member.")
        if sep:
            lists.setdefault(head, []).append((int(index), values[0]))
        else:
            out[name] = values[0]
    for head, items in lists.items():
        out[head] = [value for _, value in sorted(items)]
    return out


# ---- the server -------------------------------------------------------------------------------


class Handler(StreamRequestHandler):
    """HTTP/1.1 with keep-alive, parsed by hand: ``http.server`` parses headers with the
    ``email`` package (~0.3 ms a request here), which would put the server's CPU close to the
    tap's on a two-core machine."""

    timeout = IDLE_SECONDS
    server: Server
    command: str
    path: str
    headers: dict[str, str]  # lower-case names

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        rfile = self.rfile
        try:
            while True:
                line = rfile.readline(65537)
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    continue
                command, path, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    header = rfile.readline(65537)
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.command, self.path, self.headers = command, path, headers
                length = int(headers.get("content-length") or 0)
                body = rfile.read(length) if length else b""
                if command == "GET":
                    self.do_GET()
                elif command == "POST":
                    self.do_POST(body)
                else:
                    self._send(405, b"", "text/plain")
        except (TimeoutError, ConnectionError):
            return  # idle for IDLE_SECONDS, or the client went away

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        # Headers and body in one write: written apart, the body waits for the client's
        # delayed ACK of the headers (Nagle), ~40 ms a call on loopback.
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nx-amzn-RequestId: {wire.REQUEST_ID}\r\n\r\n"
        )
        self.wfile.write(head.encode() + body)

    def do_GET(self) -> None:
        if self.path.startswith("/__bench/"):
            self._admin()
        elif self.server.answers is not None:
            self._org(b"")
        else:
            self._send(404, b"", "text/plain")

    def do_POST(self, body: bytes) -> None:
        if self.path.startswith("/__bench/"):
            self._admin()
        elif self.server.answers is not None:
            self._org(body)
        else:
            self._findings_mode(body)

    # ---- the organization ----------------------------------------------------------------
    def _org(self, body: bytes) -> None:
        server = self.server
        answers = server.answers
        assert answers is not None
        if server.latency:
            time.sleep(server.latency)
        match = CREDENTIAL.search(self.headers.get("authorization") or "")
        if not match:
            self._send(400, b'{"__type":"MissingAuthenticationToken"}', "application/json")
            return
        key, region, signing = match.groups()
        account = key[len(KEY_PREFIX) :] if key.startswith(KEY_PREFIX) else BASE_ACCOUNT
        override = self.headers.get("x-bench-as")
        if override:
            account, region = override.split("/", 1)
        routed = self._route(signing, body)
        if routed is None:
            server.unknown(f"{self.command} {self.path} {signing}")
            self._send(
                400,
                json.dumps({"__type": "UnknownOperationException", "message": self.path}).encode(),
                "application/json",
            )
            return
        service, operation, params = routed
        handler = answers.routes.get((service, operation))
        if handler is None:
            server.unknown(f"{service}.{operation}")
            self._send(
                400, wire.json_error("UnknownOperationException", operation), "application/json"
            )
            return
        _CALLER.where = (account, region)
        reply = handler(orgdata.profile_of(account, region), params)
        out = reply.body
        if reply.dynamic:
            out = out % {b"a": reply.account or account.encode(), b"r": region.encode()}
        server.count(service, operation, account, region, reply.detail)
        self._send(reply.status, out, reply.content_type)

    def _route(self, signing: str, body: bytes) -> tuple[str, str, dict[str, Any]] | None:
        target = self.headers.get("x-amz-target")
        if target:  # JSON 1.1: Organizations, ECR
            service = {"organizations": "organizations", "ecr": "ecr"}.get(signing)
            if service is None:
                return None
            return service, target.rsplit(".", 1)[-1], json.loads(body or b"{}")
        url = urlsplit(self.path)
        if signing in ("sts", "ec2", "rds", "elasticloadbalancing"):
            params = _query_params(parse_qs(body.decode()))
            service = signing
            if signing == "elasticloadbalancing":
                service = "elbv2" if params.get("Version") == "2015-12-01" else "elb"
            return service, str(params.pop("Action", "")), params
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if signing == "eks" and self.command == "GET":
            parts = url.path.strip("/").split("/")
            if parts == ["clusters"]:
                return "eks", "ListClusters", query
            if len(parts) == 2 and parts[0] == "clusters":
                return "eks", "DescribeCluster", {"name": unquote(parts[1])}
            return None
        if signing == "securityhub" and self.command == "POST":
            operation = {"/findings": "GetFindings", "/findingsv2": "GetFindingsV2"}.get(url.path)
            return ("securityhub", operation, json.loads(body or b"{}")) if operation else None
        if signing == "inspector2" and self.command == "POST":
            operation = {"/findings/list": "ListFindings", "/coverage/list": "ListCoverage"}.get(
                url.path
            )
            return ("inspector2", operation, json.loads(body or b"{}")) if operation else None
        if signing == "s3" and self.command == "GET":
            if url.path in ("", "/"):
                return "s3", "ListBuckets", {"MaxBuckets": query.get("max-buckets")}
            if "location" in query:
                return "s3", "GetBucketLocation", {"Bucket": unquote(url.path.strip("/"))}
        return None

    def _admin(self) -> None:
        server = self.server
        if self.path == "/__bench/calls":
            with server.lock:
                rows = [[*key, n] for key, n in server.calls.items()]
                payload = {
                    "calls": rows,
                    "unknown": dict(server.unknowns),
                    "cpu_seconds": time.process_time() - server.cpu_since,
                }
            self._send(200, json.dumps(payload).encode(), "application/json")
        elif self.path == "/__bench/reset":
            with server.lock:
                server.calls.clear()
                server.unknowns.clear()
                server.cpu_since = time.process_time()
            self._send(200, b"{}", "application/json")
        else:
            self._send(404, b"", "text/plain")

    # ---- the finding cases ----------------------------------------------------------------
    def _findings_mode(self, body: bytes) -> None:
        canned = self.server.canned
        assert canned is not None
        match = CREDENTIAL.search(self.headers.get("authorization") or "")
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
        assert canned is not None
        size = min(int(params.get("MaxResults") or 100), TEMPLATE_SIZE)
        start = int(params.get("NextToken") or 0)
        count = max(0, min(size, canned.findings - start))
        items = [canned.items[(start + i) % TEMPLATE_SIZE] for i in range(count)]
        page = b",".join(items).replace(MARK, f"{account}/{region}/{start // size}".encode())
        following = start + count
        token = b',"NextToken":"%d"' % following if following < canned.findings else b""
        self._send(200, b'{"Findings":[' + page + b"]" + token + b"}", "application/json")


class Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(
        self,
        canned: Canned | None = None,
        answers: OrgAnswers | None = None,
        latency_ms: float = 0,
    ) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.canned = canned
        self.answers = answers
        self.latency = latency_ms / 1000
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str, str, str, str]] = Counter()
        self.unknowns: Counter[str] = Counter()
        self.cpu_since = time.process_time()  # the server's CPU since the last reset

    def count(
        self, service: str, operation: str, account: str, region: str, detail: dict[str, Any]
    ) -> None:
        key = (service, operation, account, region, json.dumps(detail, sort_keys=True))
        with self.lock:
            self.calls[key] += 1

    def unknown(self, what: str) -> None:
        with self.lock:
            self.unknowns[what] += 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--findings", type=int, default=0, help="findings per partition")
    mode.add_argument("--org", type=int, default=0, help="accounts of the canned organization")
    parser.add_argument("--suspended", type=int, default=-1, help="SUSPENDED accounts (--org)")
    parser.add_argument("--finding-size", choices=("2.4k", "1k"), default="2.4k")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--port-file")
    args = parser.parse_args(argv)
    threading.stack_size(512 * 1024)  # one thread per open connection
    if args.org:
        organization = orgdata.Organization(args.org, args.suspended)
        server = Server(answers=OrgAnswers(organization), latency_ms=args.latency_ms)
    else:
        server = Server(canned=Canned(args.findings, args.latency_ms, args.finding_size))
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
