"""Real multi-page answers for paginated operations whose moto backend ignores the page size.

For a request that carries a page size, the wrapper strips size and token, lets moto (or one of
our handlers) answer with every item (following moto's own tokens, if it paginates by default),
keeps that answer as a snapshot, and serves ``size`` items from it with an opaque next token of
its own. The next call exchanges that token for the following slice of the same snapshot.
Requests without a page size, or with a token that is not ours, pass through unchanged.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from aws_emulator.faults import error_response
from aws_emulator.handlers import AwsRequest, AwsResponse


@dataclass(frozen=True)
class PagedOperation:
    service: str
    operation: str
    size_param: str  # wire name of the page size in the request
    token_param: str  # wire name of the token in the request
    token_out: str  # XML element / JSON key that carries the next token in the response
    items: str  # XML element (local name) whose children are the items / JSON key of the list
    location: str = "form"  # where size and token travel: form | json | querystring
    body: str = "xml"  # response format: xml | json


def _ec2(operation: str, item_set: str) -> PagedOperation:
    return PagedOperation("ec2", operation, "MaxResults", "NextToken", "nextToken", item_set)


PAGED_OPERATIONS: dict[tuple[str, str], PagedOperation] = {
    (op.service, op.operation): op
    for op in [
        _ec2("DescribeInstances", "reservationSet"),
        _ec2("DescribeInternetGateways", "internetGatewaySet"),
        _ec2("DescribeNatGateways", "natGatewaySet"),
        _ec2("DescribeVpcs", "vpcSet"),
        _ec2("DescribeSubnets", "subnetSet"),
        _ec2("DescribeNetworkInterfaces", "networkInterfaceSet"),
        PagedOperation(
            "s3",
            "ListBuckets",
            "max-buckets",
            "continuation-token",
            "ContinuationToken",
            "Buckets",
            location="querystring",
        ),
        PagedOperation(
            "organizations",
            "ListAccounts",
            "MaxResults",
            "NextToken",
            "NextToken",
            "Accounts",
            location="json",
            body="json",
        ),
        PagedOperation(
            "ecr",
            "DescribeRepositories",
            "maxResults",
            "nextToken",
            "nextToken",
            "repositories",
            location="json",
            body="json",
        ),
        PagedOperation(
            "ecr",
            "DescribeImages",
            "maxResults",
            "nextToken",
            "nextToken",
            "imageDetails",
            location="json",
            body="json",
        ),
        PagedOperation(
            "eks",
            "ListClusters",
            "maxResults",
            "nextToken",
            "nextToken",
            "clusters",
            location="querystring",
            body="json",
        ),
        PagedOperation(
            "rds", "DescribeDBInstances", "MaxRecords", "Marker", "Marker", "DBInstances"
        ),
        PagedOperation(
            "elbv2", "DescribeLoadBalancers", "PageSize", "Marker", "NextMarker", "LoadBalancers"
        ),
        PagedOperation(
            "elb",
            "DescribeLoadBalancers",
            "PageSize",
            "Marker",
            "NextMarker",
            "LoadBalancerDescriptions",
        ),
    ]
}

# Operations our own handlers page (they honour the page size); the wrapper only caps their
# page size under ``max_page_items`` and counts their pages.
HANDLER_PAGED_OPERATIONS: dict[tuple[str, str], PagedOperation] = {
    ("ecr", "DescribeImageScanFindings"): PagedOperation(
        "ecr",
        "DescribeImageScanFindings",
        "maxResults",
        "nextToken",
        "nextToken",
        "imageScanFindings",
        location="json",
        body="json",
    ),
}

TOKEN_PREFIX = "emu1."
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024


# ---- request parameters -------------------------------------------------------------------


def get_param(req: AwsRequest, op: PagedOperation, name: str) -> str | None:
    if op.location == "querystring":
        values = req.query.get(name)
        return values[0] if values else None
    value = req.params.get(name)
    return None if value is None else str(value)


def with_params(req: AwsRequest, op: PagedOperation, updates: dict[str, Any]) -> AwsRequest:
    """A copy of ``req`` with params set (value) or removed (None), body/query re-encoded."""
    if op.location == "querystring":
        query = {k: list(v) for k, v in req.query.items()}
        for name, value in updates.items():
            query.pop(name, None)
            if value is not None:
                query[name] = [str(value)]
        return dataclasses.replace(req, query=query)
    params = dict(req.params)
    for name, value in updates.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    body = json.dumps(params).encode() if op.location == "json" else urlencode(params).encode()
    return dataclasses.replace(req, params=params, body=body)


def cap_page_size(req: AwsRequest, op: PagedOperation, max_items: int) -> AwsRequest:
    """``req`` asking for at most ``max_items`` items (a missing page size becomes the cap)."""
    size = get_param(req, op, op.size_param)
    if size is not None and size.isdigit() and int(size) <= max_items:
        return req
    return with_params(req, op, {op.size_param: max_items})


def encode_query(query: dict[str, list[str]]) -> str:
    return urlencode(query, doseq=True)


# ---- response bodies ----------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


class Page(Protocol):
    items: list[Any]
    next_token: str | None

    def render(self, items: list[Any], next_token: str | None) -> bytes: ...


class XmlPage:
    def __init__(self, body: bytes, op: PagedOperation):
        self.op = op
        self.root = ET.fromstring(body)  # noqa: S314 - moto's own answer, not untrusted input
        self.container, self.parent = self._find(self.root, op.items)
        self.items: list[Any] = list(self.container)
        token_el = self._token_element()
        self.next_token = (token_el.text or None) if token_el is not None else None

    @staticmethod
    def _find(root: ET.Element, name: str) -> tuple[ET.Element, ET.Element]:
        level = [root]
        while level:  # breadth first: the top-level list, never a nested one of the same name
            for parent in level:
                for child in parent:
                    if _local(child.tag) == name:
                        return child, parent
            level = [child for parent in level for child in parent]
        raise ValueError(f"no <{name}> in response")

    def _token_element(self) -> ET.Element | None:
        for child in self.parent:
            if _local(child.tag) == self.op.token_out:
                return child
        return None

    def render(self, items: list[Any], next_token: str | None) -> bytes:
        for child in list(self.container):
            self.container.remove(child)
        self.container.extend(items)
        token_el = self._token_element()
        if token_el is not None:
            self.parent.remove(token_el)
        ns = _namespace(self.container.tag)
        if next_token is not None:
            ET.SubElement(self.parent, ns + self.op.token_out).text = next_token
        try:
            return ET.tostring(
                self.root,
                encoding="utf-8",
                xml_declaration=True,
                default_namespace=ns[1:-1] or None,
            )
        except ValueError:  # mixed namespaces: botocore strips the prefixes anyway
            return ET.tostring(self.root, encoding="utf-8", xml_declaration=True)


class JsonPage:
    def __init__(self, body: bytes, op: PagedOperation):
        self.op = op
        self.data = json.loads(body or b"{}")
        self.items: list[Any] = list(self.data.get(op.items) or [])
        self.next_token = self.data.get(op.token_out) or None

    def render(self, items: list[Any], next_token: str | None) -> bytes:
        self.data[self.op.items] = items
        self.data.pop(self.op.token_out, None)
        if next_token is not None:
            self.data[self.op.token_out] = next_token
        return json.dumps(self.data).encode()


def parse_page(body: bytes, op: PagedOperation) -> Page:
    return JsonPage(body, op) if op.body == "json" else XmlPage(body, op)


def _with_body(resp: AwsResponse, body: bytes) -> AwsResponse:
    headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
    return AwsResponse(resp.status, body, headers)


# ---- the pager ----------------------------------------------------------------------------

Forward = Callable[[AwsRequest], AwsResponse]
Decorate = Callable[[AwsRequest, PagedOperation, list[Any]], None]


@dataclass
class Served:
    response: AwsResponse
    has_next: bool  # the response carried a next token


class Pager:
    def __init__(self, decorate: Decorate | None = None):
        self._decorate = decorate
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[str, AwsResponse] = OrderedDict()
        self._snapshot_bytes = 0

    def clear(self) -> None:
        with self._lock:
            self._snapshots.clear()
            self._snapshot_bytes = 0

    def serve(
        self,
        req: AwsRequest,
        op: PagedOperation,
        forward: Forward,
        max_items: int | None = None,
    ) -> Served:
        size_raw = get_param(req, op, op.size_param)
        token = get_param(req, op, op.token_param)
        if (token is None and size_raw is None) or (token and not token.startswith(TOKEN_PREFIX)):
            resp = forward(req)
            return Served(resp, resp.status == 200 and self.carries_token(resp, op))

        base = with_params(req, op, {op.size_param: None, op.token_param: None})
        key = self._key(base)
        offset = 0
        size = int(size_raw) if size_raw else 0
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :]))
                if decoded["k"] != key:
                    raise ValueError("token of another request")
                offset, size = int(decoded["o"]), size or int(decoded["n"])
            except (ValueError, KeyError, TypeError):
                code = "InvalidParameterException" if op.body == "json" else "InvalidParameterValue"
                return Served(
                    error_response(req.protocol, code, f"Invalid {op.token_param}", 400), False
                )
        size = max(size, 1)
        if max_items is not None:
            size = min(size, max_items)

        snapshot = None if offset == 0 else self._snapshot(key)
        if snapshot is None:
            snapshot = self._fetch_all(base, op, forward)
            if snapshot.status != 200:
                return Served(snapshot, False)
            self._store(key, snapshot)

        page = parse_page(snapshot.body, op)
        items = page.items[offset : offset + size]
        if self._decorate is not None:
            self._decorate(req, op, items)
        end = offset + size
        next_token = None
        if end < len(page.items):
            payload = json.dumps({"k": key, "o": end, "n": size}).encode()
            next_token = TOKEN_PREFIX + base64.urlsafe_b64encode(payload).decode()
        return Served(_with_body(snapshot, page.render(items, next_token)), next_token is not None)

    @staticmethod
    def carries_token(resp: AwsResponse, op: PagedOperation) -> bool:
        try:
            return parse_page(resp.body, op).next_token is not None
        except (ValueError, ET.ParseError):
            return False

    @staticmethod
    def _key(base: AwsRequest) -> str:
        ident = [
            base.service,
            base.operation,
            base.account_id,
            base.region,
            base.path,
            sorted((k, str(v)) for k, v in base.params.items()),
            sorted((k, v) for k, v in base.query.items()),
        ]
        return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:24]

    @staticmethod
    def _fetch_all(base: AwsRequest, op: PagedOperation, forward: Forward) -> AwsResponse:
        first = forward(base)
        if first.status != 200:
            return first
        page = parse_page(first.body, op)
        items = list(page.items)
        moto_token = page.next_token
        for _ in range(100_000):
            if moto_token is None:
                break
            more = forward(with_params(base, op, {op.token_param: moto_token}))
            if more.status != 200:
                return more
            next_page = parse_page(more.body, op)
            items.extend(next_page.items)
            moto_token = next_page.next_token
        return _with_body(first, page.render(items, None))

    def _snapshot(self, key: str) -> AwsResponse | None:
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is not None:
                self._snapshots.move_to_end(key)
            return snapshot

    def _store(self, key: str, snapshot: AwsResponse) -> None:
        with self._lock:
            old = self._snapshots.pop(key, None)
            if old is not None:
                self._snapshot_bytes -= len(old.body)
            self._snapshots[key] = snapshot
            self._snapshot_bytes += len(snapshot.body)
            while self._snapshot_bytes > MAX_SNAPSHOT_BYTES and len(self._snapshots) > 1:
                _, evicted = self._snapshots.popitem(last=False)
                self._snapshot_bytes -= len(evicted.body)
