"""What the finding and coverage listings accept: their kinds, and each request parsed into a
:class:`Query` (or the service's validation error). See :mod:`aws_emulator.findings`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_emulator.findings_gen import INSPECTOR2, SECURITYHUB, SECURITYHUB_OCSF
from aws_emulator.ocsf import MODIFIED_FIELD
from aws_emulator.times import parse_time_us

INSPECTOR2_COVERAGE = "inspector2_coverage"
SERVICES = (SECURITYHUB, INSPECTOR2, SECURITYHUB_OCSF, INSPECTOR2_COVERAGE)
# botocore's inspector2 SortField enum (anything else, e.g. UPDATED_AT, is rejected by AWS)
_I2_SORT_ENUM = (
    "AWS_ACCOUNT_ID",
    "FINDING_TYPE",
    "SEVERITY",
    "FIRST_OBSERVED_AT",
    "LAST_OBSERVED_AT",
    "FINDING_STATUS",
    "RESOURCE_TYPE",
    "ECR_IMAGE_PUSHED_AT",
    "ECR_IMAGE_REPOSITORY_NAME",
    "ECR_IMAGE_REGISTRY",
    "NETWORK_PROTOCOL",
    "COMPONENT_TYPE",
    "VULNERABILITY_ID",
    "VULNERABILITY_SOURCE",
    "INSPECTOR_SCORE",
    "VENDOR_SEVERITY",
    "EPSS_SCORE",
)


class FindingsError(Exception):
    """An AWS error answer."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Kind:
    name: str
    service: str  # signing name: error shapes and enablement
    operation: str
    items_key: str
    token_key: str
    size_key: str
    default_size: int
    max_size: int
    default_order: str  # "updated_desc" | "key"
    invalid_code: str  # the service's validation error

    def error(self, message: str, **extra: Any) -> FindingsError:
        if self.service == INSPECTOR2:
            extra.setdefault("reason", "FIELD_VALIDATION_FAILED")
        return FindingsError(400, self.invalid_code, message, **extra)


KINDS = {
    SECURITYHUB: Kind(
        SECURITYHUB, SECURITYHUB, "GetFindings", "Findings", "NextToken", "MaxResults",
        100, 100, "updated_desc", "InvalidInputException",
    ),
    SECURITYHUB_OCSF: Kind(
        SECURITYHUB_OCSF, SECURITYHUB, "GetFindingsV2", "Findings", "NextToken", "MaxResults",
        100, 100, "updated_desc", "ValidationException",
    ),
    INSPECTOR2: Kind(
        INSPECTOR2, INSPECTOR2, "ListFindings", "findings", "nextToken", "maxResults",
        50, 100, "key", "ValidationException",
    ),
    INSPECTOR2_COVERAGE: Kind(
        INSPECTOR2_COVERAGE, INSPECTOR2, "ListCoverage", "coveredResources", "nextToken",
        "maxResults", 100, 200, "key", "ValidationException",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------- queries

Range = tuple[int | None, int | None]


@dataclass
class Query:
    order: str  # "updated_asc" | "updated_desc" | "key"
    window: tuple[int, int] | None = None  # bounding UpdatedAt window, inclusive
    match: Callable[[int], bool] | None = None  # exact time predicate when the window is not
    signature: str = ""


def canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _ranges_query(order: str, ranges: list[Range]) -> Query:
    q = Query(order)
    if ranges:
        lo = min(-(2**62) if r[0] is None else r[0] for r in ranges)
        hi = max(2**62 if r[1] is None else r[1] for r in ranges)
        q.window = (lo, hi)
        if len(ranges) > 1:  # one range: the window is exact
            q.match = lambda us: any(
                (a is None or us >= a) and (b is None or us <= b) for a, b in ranges
            )
    return q


def _time(kind: Kind, where: str, value: Any) -> int:
    try:
        return parse_time_us(value)
    except ValueError as exc:
        raise kind.error(f"Invalid {where}: {exc}") from None


def parse_securityhub(kind: Kind, params: dict[str, Any]) -> Query:
    filters = params.get("Filters") or {}
    if not isinstance(filters, dict):
        raise kind.error("Filters must be an object")
    ranges: list[Range] = []
    for field, conds in sorted(filters.items()):
        if field != "UpdatedAt":
            raise kind.error(
                f"Filters.{field} is not implemented by the emulator (it implements UpdatedAt)"
            )
        if not isinstance(conds, list) or not conds:
            raise kind.error("Filters.UpdatedAt must be a non-empty list")
        for cond in conds:
            if not isinstance(cond, dict):
                raise kind.error("Filters.UpdatedAt entries must be DateFilter objects")
            extra = sorted(set(cond) - {"Start", "End"})
            if extra:
                raise kind.error(
                    f"Filters.UpdatedAt.{extra[0]} is not implemented by the emulator "
                    "(it implements Start and End)"
                )
            start = (
                _time(kind, "Filters.UpdatedAt.Start", cond["Start"]) if "Start" in cond else None
            )
            end = _time(kind, "Filters.UpdatedAt.End", cond["End"]) if "End" in cond else None
            if start is None and end is None:
                raise kind.error("Filters.UpdatedAt needs Start or End")
            ranges.append((start, end))
    order = _sort_order(kind, params.get("SortCriteria"), "UpdatedAt")
    q = _ranges_query(order, ranges)
    q.signature = canon({"f": filters, "o": order})
    return q


def _sort_order(kind: Kind, criteria: Any, field_name: str) -> str:
    if not criteria:
        return kind.default_order
    if not isinstance(criteria, list):
        raise kind.error("SortCriteria must be a list")
    if len(criteria) > 1:
        raise kind.error(
            f"SortCriteria.{criteria[1].get('Field')} is not implemented by the emulator "
            f"(it sorts by {field_name} alone)"
        )
    field, order = criteria[0].get("Field"), criteria[0].get("SortOrder") or "asc"
    if field != field_name:
        raise kind.error(
            f"SortCriteria field {field} is not implemented by the emulator (it implements "
            f"{field_name})"
        )
    if order not in ("asc", "desc"):
        raise kind.error(f"Invalid SortOrder: {order}")
    return f"updated_{order}"


def parse_inspector(kind: Kind, params: dict[str, Any]) -> Query:
    criteria = params.get("filterCriteria") or {}
    if not isinstance(criteria, dict):
        raise kind.error("filterCriteria must be an object")
    implemented = "updatedAt" if kind.name == INSPECTOR2 else None
    ranges: list[Range] = []
    for field, conds in sorted(criteria.items()):
        if field != implemented:
            also = f" (it implements {implemented})" if implemented else ""
            raise kind.error(f"filterCriteria.{field} is not implemented by the emulator{also}")
        if not isinstance(conds, list) or not conds:
            raise kind.error(f"filterCriteria.{field} must be a non-empty list")
        for cond in conds:
            extra = sorted(set(cond) - {"startInclusive", "endInclusive"})
            if extra:
                raise kind.error(f"filterCriteria.{field}.{extra[0]} is not implemented")
            start, end = cond.get("startInclusive"), cond.get("endInclusive")
            ranges.append(
                (
                    None if start is None else _time(kind, f"filterCriteria.{field}", start),
                    None if end is None else _time(kind, f"filterCriteria.{field}", end),
                )
            )
    sort = params.get("sortCriteria")
    if sort and kind.name == INSPECTOR2:
        field, order = sort.get("field"), sort.get("sortOrder")
        if field not in _I2_SORT_ENUM:  # AWS's answer: updatedAt in particular is not one
            raise kind.error(
                f"1 validation error detected: Value '{field}' at 'sortCriteria.field' failed "
                "to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(_I2_SORT_ENUM)}]",
                fields=[{"name": "sortCriteria.field", "message": "invalid enum value"}],
            )
        if order not in ("ASC", "DESC"):
            raise kind.error(f"Invalid sortCriteria.sortOrder: {order}")
        raise kind.error(f"sortCriteria.field {field} is not implemented by the emulator")
    q = _ranges_query("key", ranges)
    q.signature = canon({"f": criteria})
    return q


def _ocsf_node(
    kind: Kind, node: dict[str, Any], where: str
) -> tuple[Callable[[int], bool], tuple[int, int]]:
    """A composite filter -> (predicate on the modified time, its bounding range)."""
    if not isinstance(node, dict):
        raise kind.error(f"{where} must be an object")
    operator = node.get("Operator", "AND")
    if operator not in ("AND", "OR"):
        raise kind.error(f"Invalid {where}.Operator: {operator}")
    parts: list[tuple[Callable[[int], bool], Range]] = []
    for key, value in node.items():
        if key == "Operator":
            continue
        if key != "DateFilters":
            raise kind.error(f"{where}.{key} is not implemented by the emulator")
        for n, date_filter in enumerate(value or []):
            name = date_filter.get("FieldName")
            if name != MODIFIED_FIELD:
                raise kind.error(
                    f"{where}.DateFilters FieldName {name} is not implemented by the emulator "
                    f"(it implements {MODIFIED_FIELD})"
                )
            spec = date_filter.get("Filter") or {}
            extra = sorted(set(spec) - {"Start", "End"})
            if extra:
                raise kind.error(f"{where}.DateFilters[{n}].Filter.{extra[0]} is not implemented")
            lo = _time(kind, "DateFilter Start", spec["Start"]) if "Start" in spec else None
            hi = _time(kind, "DateFilter End", spec["End"]) if "End" in spec else None
            if lo is None and hi is None:
                raise kind.error(f"{where}.DateFilters[{n}] needs Start or End")
            parts.append((_within(lo, hi), (lo, hi)))
    if not parts:
        raise kind.error(f"{where} has no filter")
    return _combine(operator, parts)


def _within(lo: int | None, hi: int | None) -> Callable[[int], bool]:
    return lambda us: (lo is None or us >= lo) and (hi is None or us <= hi)


def _combine(
    operator: str, parts: list[tuple[Callable[[int], bool], Range]]
) -> tuple[Callable[[int], bool], tuple[int, int]]:
    preds = [p for p, _ in parts]
    los = [-(2**62) if r[0] is None else r[0] for _, r in parts]
    his = [2**62 if r[1] is None else r[1] for _, r in parts]
    if operator == "AND":
        return (lambda us: all(p(us) for p in preds)), (max(los), min(his))
    return (lambda us: any(p(us) for p in preds)), (min(los), max(his))


def parse_ocsf(kind: Kind, params: dict[str, Any], is_admin: bool) -> Query:
    if params.get("Scopes") is not None:
        if not is_admin:
            raise FindingsError(
                403,
                "AccessDeniedException",
                "Only the delegated administrator account can use Scopes.",
            )
        raise kind.error("Scopes are not implemented by the emulator")
    filters = params.get("Filters") or {}
    order = _sort_order(kind, params.get("SortCriteria"), MODIFIED_FIELD)
    q = Query(order)
    if filters:
        composites = filters.get("CompositeFilters") or []
        extra = sorted(set(filters) - {"CompositeFilters", "CompositeOperator"})
        if extra:
            raise kind.error(f"Filters.{extra[0]} is not implemented by the emulator")
        if not composites:
            raise kind.error("Filters.CompositeFilters must be a non-empty list")
        if len(composites) > 10:
            raise kind.error("Filters.CompositeFilters: at most 10 composite filters")
        operator = filters.get("CompositeOperator", "AND")
        if operator not in ("AND", "OR"):
            raise kind.error(f"Invalid Filters.CompositeOperator: {operator}")
        match, (lo, hi) = _combine(
            operator,
            [
                _ocsf_node(kind, c, f"Filters.CompositeFilters[{n}]")
                for n, c in enumerate(composites)
            ],
        )
        q.window, q.match = (lo, hi), match
    q.signature = canon({"f": filters, "o": order})
    return q
