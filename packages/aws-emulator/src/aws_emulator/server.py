"""The emulator's WSGI wrapper around moto's server app, and the subprocess entry point.

Each signed AWS request is parsed into an :class:`AwsRequest`, counted, delayed, possibly
answered with an injected fault, then answered by a registered operation handler or by moto;
paginated operations are split into real pages (``paging.py``). ``/_emulator/*`` are control
routes; ``/moto-api/*`` goes to moto untouched.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import io
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import botocore.session
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.request import Request, determine_request_protocol
from moto.core.routing import get_service_router
from moto.core.utils import get_service_model
from moto.iam.models import get_account_id_from, iam_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition
from werkzeug.serving import make_server

from aws_emulator import ecr_images, ecr_scans, findings
from aws_emulator.faults import Faults, fault_response, throttle_response
from aws_emulator.handlers import (
    AwsRequest,
    AwsResponse,
    ControlHandler,
    OperationHandler,
    ResponseDecorator,
)
from aws_emulator.paging import (
    HANDLER_PAGED_OPERATIONS,
    PAGED_OPERATIONS,
    PagedOperation,
    Pager,
    cap_page_size,
    encode_query,
)

log = logging.getLogger("aws_emulator")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

CREDENTIAL_RE = re.compile(r"Credential=([^/\s,]+)/\d{8}/([^/\s,]+)/([^/\s,]+)/aws4_request")
# One SigV4 signing name used by several botocore services, told apart by the API Version.
SERVICE_BY_SIGNING_NAME_AND_VERSION = {
    ("elasticloadbalancing", "2012-06-01"): "elb",
    ("elasticloadbalancing", "2015-12-01"): "elbv2",
}
SIGNING_NAME_ALIASES = {  # signing name -> botocore service name, where they differ
    "elasticloadbalancing": "elbv2",
    "monitoring": "cloudwatch",
    "email": "ses",
    "states": "stepfunctions",
    "execute-api": "apigateway",
    "tagging": "resourcegroupstaggingapi",
    "elasticmapreduce": "emr",
    "elasticfilesystem": "efs",
    "cognito-identity": "cognito-identity",
    "lambda": "lambda",
}
BUILTIN_CONTROL_ROUTES = {"faults", "counts", "counts/reset", "reset", "health", "sts/issued"}


# ---- request parsing --------------------------------------------------------------------


@cache
def _available_services() -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_available_services())


@cache
def _service_for_signing_name(signing_name: str) -> str | None:
    if signing_name in SIGNING_NAME_ALIASES:
        return SIGNING_NAME_ALIASES[signing_name]
    if signing_name in _available_services():
        return signing_name
    for name in sorted(_available_services()):  # rare: scan once per unknown signing name
        metadata = get_service_model(name).metadata
        if signing_name in (metadata.get("signingName"), metadata.get("endpointPrefix")):
            return name
    return None


@dataclass
class Call:
    """One AWS request being handled, with what the handlers' interface does not carry."""

    req: AwsRequest
    environ: dict[str, Any]
    signing_name: str
    access_key: str
    session_token: str | None
    partition: str

    @property
    def service_names(self) -> tuple[str, ...]:
        return (self.req.service, self.signing_name)


def _headers_from_environ(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        return bytes(stream.read(length))
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


# ---- counters ---------------------------------------------------------------------------


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    pages: Counter[str] = field(default_factory=Counter)
    multi_page: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    assume_role: Counter[str] = field(default_factory=Counter)
    assume_role_denied: Counter[str] = field(default_factory=Counter)
    signed_by: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0

    def clear(self) -> None:
        with self.lock:
            for counter in (
                self.requests,
                self.pages,
                self.multi_page,
                self.injected,
                self.assume_role,
                self.assume_role_denied,
                self.signed_by,
            ):
                counter.clear()
            self.peak_in_flight = self.in_flight

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def add(self, counter: Counter[Any], key: Any) -> None:
        with self.lock:
            counter[key] += 1

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": [
                    {"service": s, "operation": o, "account": a, "region": r, "count": n}
                    for (s, o, a, r), n in sorted(self.requests.items())
                ],
                "pages": dict(self.pages),
                "multi_page": dict(self.multi_page),
                "injected": dict(self.injected),
                "peak_in_flight": self.peak_in_flight,
                "in_flight": self.in_flight,
                "assume_role": dict(self.assume_role),
                "assume_role_denied": dict(self.assume_role_denied),
                "signed_by": dict(self.signed_by),
            }


def _error_code(resp: AwsResponse) -> str:
    header = resp.headers.get("x-amzn-ErrorType")
    if header:
        return header
    match = re.search(rb"<Code>([^<]+)</Code>", resp.body)
    return match.group(1).decode() if match else str(resp.status)


# ---- the wrapper ------------------------------------------------------------------------


class EmulatorServer:
    """WSGI app: moto behind counting, fault injection, page splitting and our handlers."""

    def __init__(self, moto_app: WsgiApp | None = None):
        if moto_app is None:
            moto_app = DomainDispatcherApplication(create_backend_app)
        self.moto = moto_app
        self.handlers: dict[tuple[str, str], OperationHandler] = {}
        self.decorators: dict[tuple[str, str], ResponseDecorator] = {}
        self.control_routes: dict[str, ControlHandler] = {}
        self.stats = Stats()
        self.faults = Faults()
        self.pager = Pager(decorate=self._decorate_page)
        self._lock = threading.Lock()
        self._token_expiry: dict[str, float] = {}
        # every secret AssumeRole handed out: tests search a client's output for them
        self._issued: list[dict[str, str]] = []
        self._account_by_key: dict[str, str] = {}

    # -- EmulatorApp protocol
    def add_operation_handler(
        self, service: str, operation: str, handler: OperationHandler
    ) -> None:
        self.handlers[(service, operation)] = handler

    def add_response_decorator(
        self, service: str, operation: str, decorator: ResponseDecorator
    ) -> None:
        self.decorators[(service, operation)] = decorator

    def add_control_route(self, path: str, handler: ControlHandler) -> None:
        path = path.strip("/")
        if path in BUILTIN_CONTROL_ROUTES:
            raise ValueError(f"control route {path!r} is built in")
        self.control_routes[path] = handler

    # -- WSGI entry
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            return self._respond(start_response, self._control(environ, path[len("/_emulator/") :]))
        if path.startswith("/moto-api"):
            if path.startswith("/moto-api/reset"):
                self._forget_moto_state()
            return self.moto(environ, start_response)
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        call = self._parse(environ, body)
        if call is None:  # unsigned or unparsable: moto's business alone
            return self.moto(environ, start_response)
        self.stats.enter()
        try:
            resp = self._handle(call)
        except Exception:  # noqa: BLE001 - a bug must answer 500, not kill the connection
            traceback.print_exc()
            resp = AwsResponse(500, b"emulator error", {"Content-Type": "text/plain"})
        finally:
            self.stats.leave()
        req = call.req
        self.stats.add(
            self.stats.requests, (req.service, req.operation, req.account_id, req.region)
        )
        self.stats.add(self.stats.signed_by, req.account_id)
        return self._respond(start_response, resp)

    @staticmethod
    def _respond(start_response: StartResponse, resp: AwsResponse) -> list[bytes]:
        headers = [(k, v) for k, v in resp.headers.items()]
        if not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(resp.body))))
        try:
            phrase = HTTPStatus(resp.status).phrase
        except ValueError:
            phrase = "Unknown"
        start_response(f"{resp.status} {phrase}", headers)
        return [resp.body]

    # -- parsing
    def _parse(self, environ: dict[str, Any], body: bytes) -> Call | None:
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        match = CREDENTIAL_RE.search(auth) or CREDENTIAL_RE.search(
            "Credential=" + (query.get("X-Amz-Credential") or [""])[0]
        )
        if not match:
            return None
        access_key, region, signing_name = match.groups()
        content_type = environ.get("CONTENT_TYPE", "")
        params: dict[str, Any] = {}
        if content_type.startswith("application/x-www-form-urlencoded"):
            params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        elif body and "json" in content_type:
            try:
                loaded = json.loads(body)
            except ValueError:
                loaded = None
            params = loaded if isinstance(loaded, dict) else {}
        version = params.get("Version") or (query.get("Version") or [""])[0]
        service = SERVICE_BY_SIGNING_NAME_AND_VERSION.get((signing_name, version), signing_name)
        botocore_name = (
            service if service in ("elb", "elbv2") else _service_for_signing_name(signing_name)
        )
        protocol, operation = self._operation(botocore_name, environ, body, params, query)
        req = AwsRequest(
            service=service,
            operation=operation,
            protocol=protocol,
            account_id=self._account_for(environ, access_key),
            region=region,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            query=query,
            headers=_headers_from_environ(environ),
            body=body,
            params=params,
        )
        token = (
            environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
            or (query.get("X-Amz-Security-Token") or [None])[0]
        )
        return Call(req, environ, signing_name, access_key, token, get_partition(region))

    @staticmethod
    def _operation(
        botocore_name: str | None,
        environ: dict[str, Any],
        body: bytes,
        params: dict[str, Any],
        query: dict[str, list[str]],
    ) -> tuple[str, str]:
        if botocore_name is None:
            return "unknown", "Unknown"
        model = get_service_model(botocore_name)
        try:
            protocol = determine_request_protocol(model, environ.get("CONTENT_TYPE"))
        except NotImplementedError:
            protocol = str(model.protocol)
        if protocol in ("query", "ec2"):
            return protocol, str(params.get("Action") or (query.get("Action") or ["Unknown"])[0])
        if protocol == "json":
            return protocol, environ.get("HTTP_X_AMZ_TARGET", ".Unknown").rsplit(".", 1)[-1]
        try:  # rest-json / rest-xml: method + requestUri templates, compiled and cached by moto
            env = dict(environ, **{"wsgi.input": io.BytesIO(body)})
            operation, _ = get_service_router(botocore_name).match(Request(env))
            return protocol, str(operation.name)
        except Exception:  # noqa: BLE001 - werkzeug NotFound and friends: not a modeled call
            return protocol, "Unknown"

    def _account_for(self, environ: dict[str, Any], access_key: str) -> str:
        if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        cached = self._account_by_key.get(access_key)
        if cached is not None:
            return cached
        account = get_account_id_from(access_key)
        if account != DEFAULT_ACCOUNT_ID:  # keys are random: once known, known for good
            self._account_by_key[access_key] = account
        return account

    def _forget_moto_state(self) -> None:
        self._account_by_key.clear()
        self.pager.clear()
        with self._lock:
            self._token_expiry.clear()
            self._issued.clear()

    # -- handling
    def _handle(self, call: Call) -> AwsResponse:
        faults = self.faults
        req = call.req
        if faults.latency_ms > 0:
            time.sleep(faults.latency_ms / 1000)
        injected = self._injected_fault(call, faults)
        if injected is not None:
            self.stats.add(self.stats.injected, _error_code(injected))
            return injected
        if req.service == "sts" and req.operation == "AssumeRole":
            return self._assume_role(call, faults)
        if req.service == "ec2" and req.operation == "DescribeRegions":
            regions = faults.regions_for(req.account_id)
            disabled = faults.disabled_region_names(req.account_id)
            if regions is not None or disabled:
                return self._describe_regions(call, regions, disabled)
        paged = PAGED_OPERATIONS.get((req.service, req.operation))
        if paged is not None:
            served = self.pager.serve(
                req, paged, lambda r: self._forward(call, r), faults.max_page_items
            )
            self._count_page(req, served.response, served.has_next)
            return served.response
        handler_paged = HANDLER_PAGED_OPERATIONS.get((req.service, req.operation))
        if handler_paged is None:
            return self._forward(call, req)
        if faults.max_page_items is not None:
            req = cap_page_size(req, handler_paged, faults.max_page_items)
        resp = self._forward(call, req)
        self._count_page(req, resp, resp.status == 200 and Pager.carries_token(resp, handler_paged))
        return resp

    def _count_page(self, req: AwsRequest, resp: AwsResponse, has_next: bool) -> None:
        if resp.status == 200:
            key = f"{req.service}:{req.operation}"
            self.stats.add(self.stats.pages, key)
            if has_next:
                self.stats.add(self.stats.multi_page, key)

    def _injected_fault(self, call: Call, faults: Faults) -> AwsResponse | None:
        req = call.req
        if call.session_token is not None:
            with self._lock:
                expiry = self._token_expiry.get(call.session_token)
            if expiry is not None and time.time() >= expiry:
                return fault_response("expired_token", req.protocol)
        # DescribeRegions answers in any region, and lists a disabled one as not-opted-in
        describe_regions = req.service == "ec2" and req.operation == "DescribeRegions"
        if not describe_regions and faults.is_region_disabled(req.account_id, req.region):
            return fault_response("disabled_region", req.protocol)
        throttle_key = f"{req.service}:{req.operation}:{req.account_id}:{req.region}"
        if faults.should_throttle(call.service_names, throttle_key):
            return throttle_response(req.service, req.protocol)
        if faults.is_denied(req.account_id, req.region, call.service_names, req.operation):
            return fault_response(
                "deny",
                req.protocol,
                caller=f"User: {self._caller_arn(call)}",
                action=f"{call.signing_name}:{req.operation}",
            )
        return None

    def _caller_arn(self, call: Call) -> str:
        account = call.req.account_id
        assumed = sts_backends[account][call.partition].get_assumed_role_from_access_key(
            call.access_key
        )
        return assumed.arn if assumed is not None else f"arn:{call.partition}:iam::{account}:root"

    def _forward(self, call: Call, req: AwsRequest) -> AwsResponse:
        handler = self.handlers.get((req.service, req.operation))
        if handler is not None:
            answer = handler(req)
            if answer is not None:
                return answer
        environ = dict(call.environ)
        environ["wsgi.input"] = io.BytesIO(req.body)
        environ["CONTENT_LENGTH"] = str(len(req.body))
        if req.query != call.req.query:
            query_string = encode_query(req.query)
            environ["QUERY_STRING"] = query_string
            raw_path = environ.get("RAW_URI", req.path).split("?", 1)[0]
            for key in ("RAW_URI", "REQUEST_URI"):
                environ[key] = f"{raw_path}?{query_string}" if query_string else raw_path
        resp = self._call_moto(environ)
        decorator = self.decorators.get((req.service, req.operation))
        return resp if decorator is None else decorator(req, resp)

    def _call_moto(self, environ: dict[str, Any]) -> AwsResponse:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.moto(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return AwsResponse(
            int(str(captured["status"]).split(" ", 1)[0]),
            b"".join(chunks),
            dict(captured["headers"]),
        )

    # -- STS AssumeRole: ExternalId, denials, expiration
    def _assume_role(self, call: Call, faults: Faults) -> AwsResponse:
        req = call.req
        role_arn = str(req.params.get("RoleArn", ""))
        external_id = req.params.get("ExternalId")
        expected = faults.expected_external_id(role_arn)
        if (
            faults.assume_role_denied(role_arn)
            or (expected is not None and external_id != expected)
            or not _trust_policy_allows(role_arn, external_id)
        ):
            self.stats.add(self.stats.assume_role_denied, role_arn)
            self.stats.add(self.stats.injected, "AccessDenied")
            return fault_response(
                "deny",
                req.protocol,
                caller=f"User: {self._caller_arn(call)}",
                action=f"sts:AssumeRole on resource: {role_arn}",
            )
        resp = self._forward(call, req)
        if resp.status != 200:
            return resp
        parts = role_arn.split(":")
        if len(parts) > 4:
            self.stats.add(self.stats.assume_role, parts[4])
        if faults.assume_role_expiration_seconds is not None:
            resp = self._rewrite_expiration(resp, faults.assume_role_expiration_seconds)
        issued = {
            name: match.group(1).decode()
            for name in ("AccessKeyId", "SecretAccessKey", "SessionToken")
            if (match := re.search(rf"<{name}>([^<]+)</{name}>".encode(), resp.body))
        }
        with self._lock:
            self._issued.append(issued)
        return resp

    def _rewrite_expiration(self, resp: AwsResponse, seconds: int) -> AwsResponse:
        expires_at = float(int(time.time() + seconds))  # whole seconds, as the stamp shows
        stamp = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = re.sub(
            rb"<Expiration>[^<]*</Expiration>",
            f"<Expiration>{stamp}</Expiration>".encode(),
            resp.body,
        )
        token = re.search(rb"<SessionToken>([^<]+)</SessionToken>", body)
        if token is not None:
            with self._lock:
                self._token_expiry[token.group(1).decode()] = expires_at
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
        return AwsResponse(resp.status, body, headers)

    # -- EC2 DescribeRegions from the `regions` and `disabled_regions` fault config
    def _describe_regions(
        self, call: Call, regions: dict[str, list[str]] | None, disabled: set[str]
    ) -> AwsResponse:
        """What AWS answers: enabled regions, and with AllRegions the not-opted-in ones too.

        The base list is the ``regions`` config of the account, else moto's own list; every
        region a ``disabled_regions`` rule names for the account is ``not-opted-in``.
        """
        req = call.req
        statuses: dict[str, str] = {}
        if regions is not None:
            statuses.update(dict.fromkeys(regions.get("enabled", []), "opt-in-not-required"))
            statuses.update(dict.fromkeys(regions.get("not_opted_in", []), "not-opted-in"))
        else:
            params = {
                k: v
                for k, v in req.params.items()
                if not k.startswith(("RegionName.", "Filter.", "AllRegions"))
            }
            params["AllRegions"] = "true"
            base = dataclasses.replace(req, params=params, body=urlencode(params).encode())
            moto_answer = self._forward(call, base)
            if moto_answer.status != 200:
                return moto_answer
            for item in ET.fromstring(moto_answer.body).iter():  # noqa: S314 - moto's own answer
                if item.tag.rsplit("}", 1)[-1] != "item":
                    continue
                fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in item}
                if fields.get("regionName"):
                    statuses[fields["regionName"]] = fields.get("optInStatus", "")
        statuses.update(dict.fromkeys(sorted(disabled), "not-opted-in"))
        all_regions = str(req.params.get("AllRegions", "false")).lower() == "true"
        wanted = {v for k, v in req.params.items() if k.startswith("RegionName.")}
        filters = _ec2_filters(req.params)
        items = "".join(
            f"<item><regionName>{escape(name)}</regionName>"
            f"<regionEndpoint>ec2.{escape(name)}.amazonaws.com</regionEndpoint>"
            f"<optInStatus>{status}</optInStatus></item>"
            for name, status in statuses.items()
            if (all_regions or status != "not-opted-in")
            and (not wanted or name in wanted)
            and name in filters.get("region-name", {name})
            and status in filters.get("opt-in-status", {status})
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>{uuid.uuid4()}</requestId><regionInfo>{items}</regionInfo>"
            "</DescribeRegionsResponse>"
        )
        return AwsResponse(200, body.encode(), {"Content-Type": "text/xml"})

    # -- S3 BucketRegion on paged ListBuckets
    def _decorate_page(self, req: AwsRequest, op: PagedOperation, items: list[Any]) -> None:
        if (op.service, op.operation) != ("s3", "ListBuckets") or not self.faults.s3_bucket_region:
            return
        buckets = s3_backends[req.account_id][get_partition(req.region)].buckets
        for item in items:
            ns = item.tag[: item.tag.index("}") + 1] if item.tag.startswith("{") else ""
            name = item.findtext(ns + "Name")
            bucket = buckets.get(name or "")
            if bucket is not None and item.find(ns + "BucketRegion") is None:
                ET.SubElement(item, ns + "BucketRegion").text = bucket.region_name

    # -- control routes
    def _control(self, environ: dict[str, Any], path: str) -> AwsResponse:
        path = path.strip("/")
        raw = _read_body(environ)
        try:
            payload = json.loads(raw) if raw.strip() else {}
            if not isinstance(payload, dict):
                raise ValueError("control payload must be a JSON object")
            if not raw.strip():
                payload = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            result = self._control_result(environ.get("REQUEST_METHOD", "GET"), path, payload)
        except LookupError as exc:
            return AwsResponse.json({"error": str(exc)}, status=404)
        except (ValueError, TypeError) as exc:
            return AwsResponse.json({"error": str(exc)}, status=400)
        except Exception as exc:  # noqa: BLE001 - report a handler's bug to the test that called it
            traceback.print_exc()
            return AwsResponse.json({"error": repr(exc)}, status=500)
        return AwsResponse.json(result)

    def _control_result(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        if path == "health":
            return {"ok": True}
        if path == "counts":
            return self.stats.as_json()
        if path == "counts/reset":
            self.stats.clear()
            return {"ok": True}
        if path == "sts/issued":  # every credential AssumeRole issued since the last reset
            with self._lock:
                return {"credentials": list(self._issued)}
        if path == "faults":
            if method == "POST":
                self.faults = Faults.from_config(payload)
            return self.faults.as_config()
        if path == "reset":
            self.stats.clear()
            self.faults = Faults()
            self._forget_moto_state()
            for route, reset_route in list(self.control_routes.items()):
                if route.rsplit("/", 1)[-1] == "reset":
                    reset_route({})
            return {"ok": True}
        handler = self.control_routes.get(path)
        if handler is None:
            raise LookupError(f"no control route /_emulator/{path}")
        return handler(payload)


def _ec2_filters(params: dict[str, Any]) -> dict[str, set[str]]:
    """EC2 ``Filter.N.Name`` / ``Filter.N.Value.M`` form parameters as {name: values}."""
    names = {k.split(".")[1]: v for k, v in params.items() if re.fullmatch(r"Filter\.\d+\.Name", k)}
    found: dict[str, set[str]] = {}
    for n, name in names.items():
        prefix = f"Filter.{n}.Value."
        found.setdefault(name, set()).update(v for k, v in params.items() if k.startswith(prefix))
    return found


def _trust_policy_allows(role_arn: str, external_id: Any) -> bool:
    """False when the role exists in moto with an ``sts:ExternalId`` condition it fails."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        return True
    try:
        role = iam_backends[parts[4]][parts[1]].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NotFoundException: no such role, nothing to enforce
        return True
    document: Any = role.assume_role_policy_document
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            document = json.loads(unquote(document))
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    relevant = [s for s in statements if s.get("Effect") == "Allow" and _allows_assume_role(s)]
    constrained = [s for s in relevant if _external_id_conditions(s)]
    if not constrained:
        return True
    for statement in relevant:
        conditions = _external_id_conditions(statement)
        if all(_condition_holds(op, values, external_id) for op, values in conditions):
            return True
    return False


def _allows_assume_role(statement: dict[str, Any]) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(fnmatch.fnmatchcase("sts:assumerole", a.lower()) for a in actions)


def _external_id_conditions(statement: dict[str, Any]) -> list[tuple[str, list[str]]]:
    found = []
    for operator, clause in (statement.get("Condition") or {}).items():
        for key, values in clause.items():
            if key.lower() == "sts:externalid":
                found.append((operator, values if isinstance(values, list) else [values]))
    return found


def _condition_holds(operator: str, values: list[str], external_id: Any) -> bool:
    if external_id is None:
        return False
    given = str(external_id)
    if operator == "StringEqualsIgnoreCase":
        return given.lower() in [str(v).lower() for v in values]
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(given, str(v)) for v in values)
    if operator in ("StringNotEquals",):
        return given not in values
    return given in [str(v) for v in values]  # StringEquals and anything else: exact


def install_extensions(app: EmulatorServer) -> None:
    findings.install(app)
    archive = ecr_images.install(app)
    ecr_scans.install(app, archive=archive)


def serve(
    port: int,
    port_file: str | None = None,
    log_file: str | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Run the emulator on 127.0.0.1 until killed; write the bound port to ``port_file``.

    ``on_ready(port)`` runs once the socket listens, before requests are served.
    """
    if log_file:
        logging.basicConfig(
            filename=log_file, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
        )
    else:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = EmulatorServer()
    install_extensions(app)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.port)
    if port_file:
        tmp = f"{port_file}.tmp"
        with open(tmp, "w") as fh:
            fh.write(str(server.port))
        os.replace(tmp, port_file)
    print(f"emulator listening on http://127.0.0.1:{server.port}", file=sys.stderr, flush=True)
    if on_ready is not None:
        on_ready(server.port)
    server.serve_forever()
