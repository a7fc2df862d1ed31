"""Emulated finding and coverage listings: Security Hub ``GetFindings`` and ``GetFindingsV2``,
Inspector2 ``ListFindings`` and ``ListCoverage``.

moto 5.2.5 ignores Security Hub ``Filters``/``SortCriteria``, answers Inspector2 with canned
results and no ``nextToken``, and has neither GetFindingsV2 nor ListCoverage (see DESIGN.md), so
these operations are answered here. Items live per partition ``(kind, account_id, region)``; a
caller sees what is stored for its own credentials' account and its SigV4 region.

Kinds (the ``service`` of every control route)
----------------------------------------------
``securityhub``  GetFindings (POST /findings). ``Filters``: ``UpdatedAt`` only, a list of
    ``{Start, End}`` (either may be left out; inclusive; several are OR'ed). ``SortCriteria``:
    ``[{Field: UpdatedAt, SortOrder: asc|desc}]``; default ``UpdatedAt`` desc; ties by (Id,
    ProductArn) in the same direction. ``MaxResults`` 1..100 (default 100).
``inspector2``  ListFindings (POST /findings/list). ``filterCriteria``: ``updatedAt`` only
    (``startInclusive``/``endInclusive``, epoch seconds on the wire). No sort: AWS cannot sort by
    updatedAt (a field outside botocore's SortField enum is AWS's enum ValidationException; a
    field inside it is answered "not implemented by the emulator"). Order: by findingArn,
    unrelated to updatedAt, so a client cannot rely on time order. ``maxResults`` 1..100
    (default 50).
``securityhub_ocsf``  GetFindingsV2 (POST /findingsv2), see :mod:`aws_emulator.ocsf`.
``inspector2_coverage``  ListCoverage (POST /coverage/list): ``coveredResources`` by
    (resourceId, scanType); ``maxResults`` 1..200 (default 100, the emulator's choice); no
    ``filterCriteria`` (any is "not implemented"); not enabled / denied as ListFindings.

Any filter, sort field, comparison or operator the emulator does not implement is answered
with the service's validation error naming it (never silently ignored, unlike moto).
``NextToken`` is opaque and stable: a keyset cursor bound to the query (filters and sort); the
same request with the same token answers the same page while data is unchanged; a token used
with other filters is rejected as AWS does. Items updated during a walk move in the order (as
in AWS); they are not pinned to a snapshot.

Not enabled (``findings/disable``)
    Security Hub: HTTP 401 ``InvalidAccessException`` "Account <id> is not subscribed to AWS
    Security Hub" (the status botocore's securityhub model declares for that shape; the message
    users report, prowler-cloud/prowler#1143, handled as "not enabled" in prowler#1590).
    Inspector2 (ListFindings and ListCoverage, which share Inspector's activation): HTTP 403
    ``AccessDeniedException`` "Invoking account does not have access to list findings." (or
    "... list coverage."): the form Inspector2 answers where it is not activated
    (terraform-provider-aws internal/service/inspector2 and steampipe-plugin-aws match it to mean
    "not enabled"); AccessDeniedException is the inspector2 model's only 403 error shape.
    GetFindingsV2: see :mod:`aws_emulator.ocsf`.

Control routes (POST {endpoint}/_emulator/<path>, JSON in and out; ``service`` = a kind)
--------------------------------------------------------------------------------------
``findings/load``  {service, account_id, region, findings: [...], replace: false}
    Add (or replace by key) items; ``replace: true`` empties the partition first. Inspector2
    timestamps may be ISO strings or epoch numbers (stored as epoch numbers). -> {loaded, total}
``findings/generate``  {service, account_id, region, count, start, end, seed: 0,
    aws_account_ids: null, replace: true, return_findings: false}  (not for coverage)
    Deterministic findings from :func:`generated_findings`.
    -> {count, total, digest, min_updated_at, max_updated_at} (+ findings if asked)
``findings/update``  {service, account_id, region, ids: [...] | count: n, seed: 0,
    updated_at: ISO|epoch|null(now), record_state, workflow_status, status, severity}
    New activity: moves the update time (and last-observed time) and optionally the state.
    -> {"updated": [{"id", "updated_at"}]}
``findings/disable``  {service, account_id, region ("*" = every region), disabled: true}
    (``findings/enable``: the same with disabled false) -> {"disabled": bool}
``findings/ocsf_admin``  {account_id, admin: true}: the account is Security Hub's delegated
    administrator (GetFindingsV2 Scopes are then not refused as AccessDenied).
``findings/fail_after_pages``  {service, account_id, region, pages: N|null, code, status,
    message, times: null}: after N more successful pages of that partition, answer an error
    (``times`` errors, then recover; null = forever). Default: Security Hub 400
    InvalidInputException (V2: ValidationException), Inspector2 400 ValidationException -- what an
    expired token gets, not retried by botocore. ``pages: null`` clears the rule.
``findings/stats``  {service?, account_id?, region?} -> {"partitions": [{service, account_id,
    region, findings, calls, pages, errors, returned, requests: [...] (last 200)}], "disabled"}
``findings/reset``  {} -> {"reset": true}; the generic ``POST /_emulator/reset`` calls it.

Python helpers (over HTTP): :mod:`aws_emulator.findings_client`, re-exported here.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import hashlib
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from aws_emulator.finding_queries import (
    INSPECTOR2_COVERAGE,
    KINDS,
    SERVICES,
    FindingsError,
    Kind,
    Query,
    canon,
    parse_inspector,
    parse_ocsf,
    parse_securityhub,
)
from aws_emulator.findings_client import (
    fail_after_pages,
    findings_stats,
    generate_findings,
    load_coverage,
    load_findings,
    reset_findings,
    set_enabled,
    set_ocsf_admin,
    update_findings,
)
from aws_emulator.findings_gen import (
    INSPECTOR2,
    SECURITYHUB,
    SECURITYHUB_OCSF,
    digest_line,
    findings_digest,
    generated_findings,
    iter_generated_findings,
)
from aws_emulator.handlers import AwsRequest, AwsResponse, EmulatorApp
from aws_emulator.ocsf import MODIFIED_FIELD, finding_key
from aws_emulator.shapes import OCSF_SEVERITY, OCSF_STATUS, SEVERITY_NORMALIZED
from aws_emulator.times import epoch_from_us, iso_from_us, parse_time_us

try:  # msgspec comes with singer-sdk[msgspec]; json is the fallback
    import msgspec

    _encode: Callable[[Any], bytes] = msgspec.json.encode
    _decode: Callable[[bytes], Any] = msgspec.json.decode
except ImportError:  # pragma: no cover

    def _encode(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    _decode = json.loads

__all__ = [
    "INSPECTOR2",
    "INSPECTOR2_COVERAGE",
    "SECURITYHUB",
    "SECURITYHUB_OCSF",
    "SERVICES",
    "FindingsStore",
    "epoch_from_us",
    "fail_after_pages",
    "findings_digest",
    "findings_stats",
    "generate_findings",
    "generated_findings",
    "install",
    "iso_from_us",
    "iter_generated_findings",
    "load_coverage",
    "load_findings",
    "parse_time_us",
    "reset_findings",
    "set_enabled",
    "set_ocsf_admin",
    "update_findings",
]

_HISTORY = 200
_WORKFLOW_STATE = {
    "NEW": "NEW",
    "NOTIFIED": "ASSIGNED",
    "RESOLVED": "RESOLVED",
    "SUPPRESSED": "DEFERRED",
}


# botocore's inspector2 SortField enum (anything else, e.g. UPDATED_AT, is rejected by AWS)
def _key_and_time(kind: str, item: dict[str, Any]) -> tuple[tuple[str, ...], int]:
    """An item's key and its update time (epoch µs) -- what the engine orders by."""
    try:
        if kind == SECURITYHUB:
            return (item["Id"], item["ProductArn"]), parse_time_us(item["UpdatedAt"])
        if kind == INSPECTOR2:
            return (item["findingArn"],), parse_time_us(item["updatedAt"])
        if kind == SECURITYHUB_OCSF:
            return finding_key(item), parse_time_us(item["finding_info"][MODIFIED_FIELD[13:]])
        scanned = item.get("lastScannedAt")
        key = (str(item["resourceId"]), str(item["scanType"]))
        return key, 0 if scanned is None else parse_time_us(scanned)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{kind} item without {exc}: {str(item)[:200]}") from None


_EPOCH_FIELDS = {
    INSPECTOR2: ("updatedAt", "firstObservedAt", "lastObservedAt"),
    INSPECTOR2_COVERAGE: ("lastScannedAt",),
}


class Entry:
    """One stored item: its JSON bytes and what queries need."""

    __slots__ = ("data", "key", "updated_us")

    def __init__(self, key: tuple[str, ...], updated_us: int, data: bytes) -> None:
        self.key = key
        self.updated_us = updated_us
        self.data = data

    def item(self) -> dict[str, Any]:
        result: dict[str, Any] = _decode(self.data)
        return result


def make_entry(kind: str, item: dict[str, Any]) -> Entry:
    if not isinstance(item, dict):
        raise ValueError("an item must be a JSON object")
    fields = _EPOCH_FIELDS.get(kind, ())
    if any(isinstance(item.get(k), str) for k in fields):
        item = dict(item)
        for k in fields:  # ISO accepted on load; epoch seconds on the wire
            if isinstance(item.get(k), str):
                item[k] = epoch_from_us(parse_time_us(item[k]))
    key, updated_us = _key_and_time(kind, item)
    return Entry(key, updated_us, _encode(item))


# --------------------------------------------------------------------------- partitions


class Partition:
    def __init__(self, kind: str, account_id: str, region: str) -> None:
        self.kind = kind
        self.account_id = account_id
        self.region = region
        self.entries: dict[tuple[str, ...], Entry] = {}
        self.version = 0
        self._by_time: list[tuple[int, tuple[str, ...]]] = []
        self._by_time_us: list[int] = []
        self._by_time_keys: list[tuple[str, ...]] = []
        self._by_key: list[tuple[str, ...]] = []
        self._index_version = -1
        self.calls = self.pages = self.errors = self.returned = 0
        self.requests: list[dict[str, Any]] = []
        self.fail_rule: dict[str, Any] | None = None

    def put(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            self.entries[e.key] = e
        self.version += 1

    def clear(self) -> None:
        self.entries.clear()
        self.version += 1

    def _index(self) -> None:
        if self._index_version != self.version:
            self._by_time = sorted((e.updated_us, e.key) for e in self.entries.values())
            self._by_time_us = [u for u, _ in self._by_time]
            self._by_time_keys = [k for _, k in self._by_time]
            self._by_key = sorted(self.entries)
            self._index_version = self.version

    def page(self, q: Query, size: int, cursor: list[Any] | None) -> tuple[list[Entry], Any, bool]:
        """One page in the query's order after ``cursor``; (page, last cursor, more?)."""
        self._index()
        lo_us, hi_us = q.window if q.window is not None else (-(2**62), 2**62)
        entries = self.entries
        page: list[Entry] = []
        more = False
        try:
            if q.order == "key":
                start = 0 if cursor is None else bisect.bisect_right(self._by_key, tuple(cursor))
                positions: Iterable[int] = range(start, len(self._by_key))
                keys: Any = self._by_key
            else:
                lo = bisect.bisect_left(self._by_time_us, lo_us)
                hi = bisect.bisect_right(self._by_time_us, hi_us)
                mark = None if cursor is None else (int(cursor[0]), tuple(cursor[1]))
                if q.order == "updated_desc":
                    top = hi if mark is None else min(hi, bisect.bisect_left(self._by_time, mark))
                    positions = range(top - 1, lo - 1, -1)
                else:
                    bottom = (
                        lo if mark is None else max(lo, bisect.bisect_right(self._by_time, mark))
                    )
                    positions = range(bottom, hi)
                keys = self._by_time_keys
        except (TypeError, ValueError, IndexError):
            raise KINDS[self.kind].error("The provided NextToken is invalid.") from None
        for i in positions:
            e = entries[keys[i]]
            if q.order == "key" and not lo_us <= e.updated_us <= hi_us:
                continue
            if q.match is not None and not q.match(e.updated_us):
                continue
            if len(page) == size:
                more = True
                break
            page.append(e)
        if not page:
            return page, None, False
        last = page[-1]
        return (
            page,
            (list(last.key) if q.order == "key" else [last.updated_us, list(last.key)]),
            more,
        )

    def record(self, entry: dict[str, Any]) -> None:
        self.requests.append(entry)
        if len(self.requests) > _HISTORY:
            del self.requests[: len(self.requests) - _HISTORY]

    def stats(self) -> dict[str, Any]:
        return {
            "service": self.kind,
            "account_id": self.account_id,
            "region": self.region,
            "findings": len(self.entries),
            "calls": self.calls,
            "pages": self.pages,
            "errors": self.errors,
            "returned": self.returned,
            "requests": list(self.requests),
        }


def _encode_token(signature: str, cursor: Any) -> str:
    body = canon({"q": hashlib.sha256(signature.encode()).hexdigest()[:16], "k": cursor})
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _decode_token(kind: Kind, token: Any, signature: str) -> list[Any]:
    try:
        pad = "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(token + pad))
        cursor = body["k"]
        ok = body["q"] == hashlib.sha256(signature.encode()).hexdigest()[:16]
    except (ValueError, KeyError, TypeError):
        ok, cursor = False, None
    if not ok or not isinstance(cursor, list):
        if kind.name == SECURITYHUB:
            raise FindingsError(400, "InvalidInputException", "The NextToken provided is invalid.")
        raise kind.error("The provided nextToken is invalid.", reason="OTHER")
    return cursor


def _error_response(kind: Kind, err: FindingsError) -> AwsResponse:
    if kind.service == SECURITYHUB:
        payload: dict[str, Any] = {"Code": err.code, "Message": err.message}
    else:
        payload = {"message": err.message, **err.extra}
    payload["__type"] = err.code
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": err.code,
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    return AwsResponse(err.status, json.dumps(payload).encode(), headers)


def _not_enabled(kind: Kind, account_id: str) -> FindingsError:
    if kind.name == SECURITYHUB:
        return FindingsError(
            401,
            "InvalidAccessException",
            f"Account {account_id} is not subscribed to AWS Security Hub",
        )
    if kind.name == SECURITYHUB_OCSF:
        return FindingsError(
            403,
            "AccessDeniedException",
            f"Account {account_id} is not subscribed to AWS Security Hub",
        )
    what = "coverage" if kind.name == INSPECTOR2_COVERAGE else "findings"
    return FindingsError(
        403, "AccessDeniedException", f"Invoking account does not have access to list {what}."
    )


# --------------------------------------------------------------------------- the store


class FindingsStore:
    """All findings and coverage state of one emulator. Thread-safe; one lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self.partitions: dict[tuple[str, str, str], Partition] = {}
        self.disabled: set[tuple[str, str, str]] = set()
        self.ocsf_admins: set[str] = set()

    def reset(self) -> None:
        with self._lock:
            self.partitions.clear()
            self.disabled.clear()
            self.ocsf_admins.clear()

    def partition(self, kind: str, account_id: str, region: str) -> Partition:
        if kind not in KINDS:
            raise ValueError(f"service must be one of {SERVICES}, not {kind!r}")
        key = (kind, str(account_id), region)
        p = self.partitions.get(key)
        if p is None:
            p = self.partitions[key] = Partition(*key)
        return p

    def is_enabled(self, kind: str, account_id: str, region: str) -> bool:
        owner = INSPECTOR2 if kind == INSPECTOR2_COVERAGE else kind  # one Inspector activation
        return not ({(owner, account_id, region), (owner, account_id, "*")} & self.disabled)

    # ---- operations
    def handler(self, kind_name: str) -> Callable[[AwsRequest], AwsResponse]:
        kind = KINDS[kind_name]
        return lambda req: self._serve(kind, req)

    def _serve(self, kind: Kind, req: AwsRequest) -> AwsResponse:
        params = req.params if req.params else (req.json() if req.body else {})
        with self._lock:
            part = self.partition(kind.name, req.account_id, req.region)
            part.calls += 1
            record: dict[str, Any] = {
                "operation": req.operation,
                "filters": params.get("Filters", params.get("filterCriteria")),
                "sort": params.get("SortCriteria", params.get("sortCriteria")),
                "max_results": params.get(kind.size_key),
                "token": bool(params.get(kind.token_key)),
            }
            try:
                body, returned = self._page(kind, part, req, params)
            except FindingsError as err:
                part.errors += 1
                record.update(status=err.status, error=err.code, returned=0)
                part.record(record)
                return _error_response(kind, err)
            part.pages += 1
            part.returned += returned
            record.update(status=200, returned=returned)
            part.record(record)
            headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
            return AwsResponse(200, body, headers)

    def _page(
        self, kind: Kind, part: Partition, req: AwsRequest, params: dict[str, Any]
    ) -> tuple[bytes, int]:
        if not self.is_enabled(kind.name, req.account_id, req.region):
            raise _not_enabled(kind, req.account_id)
        rule = part.fail_rule
        if rule is not None and rule["served"] >= rule["pages"]:
            if rule["times"] is not None:
                rule["times"] -= 1
                if rule["times"] <= 0:
                    part.fail_rule = None
            extra = {"reason": "OTHER"} if kind.service == INSPECTOR2 else {}
            raise FindingsError(rule["status"], rule["code"], rule["message"], **extra)
        if kind.name == SECURITYHUB:
            q = parse_securityhub(kind, params)
        elif kind.name == SECURITYHUB_OCSF:
            q = parse_ocsf(kind, params, req.account_id in self.ocsf_admins)
        else:
            q = parse_inspector(kind, params)
        size = params.get(kind.size_key, kind.default_size)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= kind.max_size:
            raise kind.error(f"{kind.size_key} must be between 1 and {kind.max_size}, got {size!r}")
        token = params.get(kind.token_key)
        cursor = _decode_token(kind, token, q.signature) if token else None
        page, last, more = part.page(q, size, cursor)
        body = b'{"' + kind.items_key.encode() + b'":[' + b",".join(e.data for e in page) + b"]"
        if more and last is not None:
            token_out = json.dumps(_encode_token(q.signature, last)).encode()
            body += b',"' + kind.token_key.encode() + b'":' + token_out
        if rule is not None:
            rule["served"] += 1
        return body + b"}", len(page)

    # ---- control
    @staticmethod
    def _target(body: dict[str, Any]) -> tuple[str, str, str]:
        try:
            kind, account, region = body["service"], str(body["account_id"]), body["region"]
        except KeyError as exc:
            raise ValueError(f"missing {exc.args[0]!r}") from None
        if kind not in KINDS:
            raise ValueError(f"service must be one of {SERVICES}, not {kind!r}")
        return kind, account, region

    def control_load(self, body: dict[str, Any]) -> dict[str, Any]:
        kind, account, region = self._target(body)
        items = body.get("findings")
        if not isinstance(items, list):
            raise ValueError("findings must be a list")
        entries = [make_entry(kind, f) for f in items]
        with self._lock:
            part = self.partition(kind, account, region)
            if body.get("replace"):
                part.clear()
            part.put(entries)
            return {"loaded": len(entries), "total": len(part.entries)}

    def control_generate(self, body: dict[str, Any]) -> dict[str, Any]:
        kind, account, region = self._target(body)
        if kind == INSPECTOR2_COVERAGE:
            raise ValueError("coverage is loaded (findings/load), not generated")
        digest = hashlib.sha256()
        kept: list[dict[str, Any]] = []
        entries: list[Entry] = []
        for f, updated_us in iter_generated_findings(
            kind,
            account,
            region,
            int(body["count"]),
            start=body["start"],
            end=body["end"],
            seed=int(body.get("seed", 0)),
            aws_account_ids=body.get("aws_account_ids"),
            partition=body.get("partition", "aws"),
        ):
            digest.update(digest_line(kind, f))
            key, _ = _key_and_time(kind, f)
            entries.append(Entry(key, updated_us, _encode(f)))
            if body.get("return_findings"):
                kept.append(f)
        with self._lock:
            part = self.partition(kind, account, region)
            if body.get("replace", True):
                part.clear()
            part.put(entries)
            total = len(part.entries)
        result: dict[str, Any] = {
            "count": len(entries),
            "total": total,
            "digest": digest.hexdigest(),
        }
        if entries:
            us = [e.updated_us for e in entries]
            result["min_updated_at"] = iso_from_us(min(us))
            result["max_updated_at"] = iso_from_us(max(us))
        if body.get("return_findings"):
            result["findings"] = kept
        return result

    def control_update(self, body: dict[str, Any]) -> dict[str, Any]:
        kind, account, region = self._target(body)
        if kind == INSPECTOR2_COVERAGE:
            raise ValueError("coverage is replaced with findings/load, not updated")
        when = body.get("updated_at")
        updated_us = parse_time_us(when) if when is not None else round(self._clock() * 1e6)
        if kind != INSPECTOR2:  # Security Hub keeps milliseconds
            updated_us -= updated_us % 1000
        with self._lock:
            part = self.partition(kind, account, region)
            if body.get("ids") is not None:
                wanted = [str(i) for i in body["ids"]]
                by_id: dict[str, Entry] = {e.key[0]: e for e in part.entries.values()}
                missing = [i for i in wanted if i not in by_id]
                if missing:
                    raise ValueError(f"unknown finding ids: {missing[:5]}")
                chosen = [by_id[i] for i in wanted]
            else:
                keys = sorted(part.entries)
                rng = random.Random(f"update|{body.get('seed', 0)}")
                count = min(int(body.get("count", 1)), len(keys))
                chosen = [part.entries[k] for k in rng.sample(keys, count)]
            updated = [_updated(kind, e.item(), updated_us, body) for e in chosen]
            part.put(make_entry(kind, f) for f, _ in updated)
        return {"updated": [summary for _, summary in updated]}

    def control_disable(self, body: dict[str, Any], default: bool = True) -> dict[str, Any]:
        kind, account, region = self._target(body)
        disabled = bool(body.get("disabled", default))
        with self._lock:
            if disabled:
                self.disabled.add((kind, account, region))
            else:
                self.disabled.discard((kind, account, region))
                if region == "*":
                    self.disabled -= {d for d in self.disabled if d[:2] == (kind, account)}
        return {"disabled": disabled}

    def control_ocsf_admin(self, body: dict[str, Any]) -> dict[str, Any]:
        account = str(body["account_id"])
        with self._lock:
            if body.get("admin", True):
                self.ocsf_admins.add(account)
            else:
                self.ocsf_admins.discard(account)
            return {"admins": sorted(self.ocsf_admins)}

    def control_fail_after_pages(self, body: dict[str, Any]) -> dict[str, Any]:
        kind, account, region = self._target(body)
        with self._lock:
            part = self.partition(kind, account, region)
            if body.get("pages") is None:
                part.fail_rule = None
                return {"rule": None}
            times = body.get("times")
            part.fail_rule = {
                "pages": int(body["pages"]),
                "served": 0,
                "code": body.get("code") or KINDS[kind].invalid_code,
                "status": int(body.get("status") or 400),
                "message": body.get("message")
                or "The NextToken provided is invalid (emulated failure).",
                "times": None if times is None else int(times),
            }
            return {"rule": dict(part.fail_rule)}

    def control_stats(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            out = [
                part.stats()
                for (kind, account, region), part in sorted(self.partitions.items())
                if body.get("service") in (None, kind)
                and body.get("account_id") in (None, account)
                and body.get("region") in (None, region)
            ]
            return {"partitions": out, "disabled": sorted(list(d) for d in self.disabled)}

    def control_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.reset()
        return {"reset": True}


def _updated(
    kind: str, f: dict[str, Any], updated_us: int, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A finding after new activity at ``updated_us``, and the summary ``update`` returns."""
    if kind == SECURITYHUB:
        f["UpdatedAt"] = f["LastObservedAt"] = iso_from_us(updated_us)
        if body.get("record_state"):
            f["RecordState"] = body["record_state"]
        if body.get("workflow_status"):
            f.setdefault("Workflow", {})["Status"] = body["workflow_status"]
            f["WorkflowState"] = _WORKFLOW_STATE.get(body["workflow_status"], "NEW")
        if body.get("severity"):
            label = body["severity"]
            f["Severity"] = {
                **f.get("Severity", {}),
                "Label": label,
                "Normalized": SEVERITY_NORMALIZED.get(label, 0),
            }
        return f, {"id": f["Id"], "product_arn": f["ProductArn"], "updated_at": f["UpdatedAt"]}
    if kind == SECURITYHUB_OCSF:
        info = f["finding_info"]
        info["modified_time"] = updated_us // 1000
        info["modified_time_dt"] = info["last_seen_time_dt"] = iso_from_us(updated_us)
        f["time"], f["time_dt"] = info["modified_time"], info["modified_time_dt"]
        if body.get("status"):
            f["status_id"], f["status"] = OCSF_STATUS[body["status"]]
        if body.get("severity"):
            f["severity_id"], f["severity"] = OCSF_SEVERITY[body["severity"]]
        return f, {
            "id": info["uid"],
            "product_uid": f["metadata"]["product"]["uid"],
            "updated_at": info["modified_time_dt"],
        }
    f["updatedAt"] = f["lastObservedAt"] = epoch_from_us(updated_us)
    if body.get("status"):
        f["status"] = body["status"]
    if body.get("severity"):
        f["severity"] = body["severity"]
    return f, {"id": f["findingArn"], "updated_at": f["updatedAt"]}


# --------------------------------------------------------------------------- install

STORE_ATTRIBUTE = "findings_store"


def install(app: EmulatorApp, store: FindingsStore | None = None) -> FindingsStore:
    """Register the four operations and the ``findings/*`` control routes (module doc)."""
    store = store or FindingsStore()

    def route(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        def handler(body: dict[str, Any]) -> Any:
            try:
                return fn(body)
            except KeyError as exc:  # a missing field is a bad request, not a missing route
                raise ValueError(f"missing field {exc.args[0]!r}") from None

        return handler

    for kind in KINDS.values():
        app.add_operation_handler(kind.service, kind.operation, store.handler(kind.name))
    app.add_control_route("findings/load", route(store.control_load))
    app.add_control_route("findings/generate", route(store.control_generate))
    app.add_control_route("findings/update", route(store.control_update))
    app.add_control_route("findings/disable", route(store.control_disable))
    app.add_control_route(
        "findings/enable", route(lambda b: store.control_disable(b, default=False))
    )
    app.add_control_route("findings/ocsf_admin", route(store.control_ocsf_admin))
    app.add_control_route("findings/fail_after_pages", route(store.control_fail_after_pages))
    app.add_control_route("findings/stats", route(store.control_stats))
    app.add_control_route("findings/reset", route(store.control_reset))
    with contextlib.suppress(AttributeError):  # in-process code: app.findings_store.reset()
        setattr(app, STORE_ATTRIBUTE, store)
    return store
