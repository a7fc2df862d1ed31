"""The emulator's Security Hub GetFindings and Inspector2 ListFindings handlers.

Unit tests call the handlers with :class:`AwsRequest` objects; HTTP tests drive the session's
emulator with real boto3 paginators. HTTP tests use regions the seeded organization does not use
and leave their partitions empty, enabled and fault-free afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import botocore.session
import pytest
from aws_emulator.findings import (
    INSPECTOR2,
    INSPECTOR2_COVERAGE,
    SECURITYHUB,
    SECURITYHUB_OCSF,
    FindingsStore,
    fail_after_pages,
    findings_digest,
    findings_stats,
    generate_findings,
    generated_findings,
    iso_from_us,
    load_findings,
    parse_time_us,
    set_enabled,
    update_findings,
)
from aws_emulator.handlers import AwsRequest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

ACCOUNT = "111111111111"
REGION = "us-east-1"
START = "2024-01-01T00:00:00Z"
END = "2024-01-31T00:00:00Z"

BOTOCORE = botocore.session.get_session()


OPERATIONS = {
    SECURITYHUB: ("GetFindings", "/findings"),
    INSPECTOR2: ("ListFindings", "/findings/list"),
    SECURITYHUB_OCSF: ("GetFindingsV2", "/findingsv2"),
    INSPECTOR2_COVERAGE: ("ListCoverage", "/coverage/list"),
}
KEYS = {  # (items, next token)
    SECURITYHUB: ("Findings", "NextToken"),
    INSPECTOR2: ("findings", "nextToken"),
    SECURITYHUB_OCSF: ("Findings", "NextToken"),
    INSPECTOR2_COVERAGE: ("coveredResources", "nextToken"),
}

# --------------------------------------------------------------------------- helpers


def call(
    store: FindingsStore,
    service: str,
    params: dict[str, Any],
    account: str = ACCOUNT,
    region: str = REGION,
) -> tuple[int, dict[str, Any]]:
    op, path = OPERATIONS[service]
    body = json.dumps(params).encode()
    req = AwsRequest(service, op, "rest-json", account, region, "POST", path, {}, {}, body, params)
    resp = store.handler(service)(req)
    return resp.status, json.loads(resp.body)


def walk(
    store: FindingsStore, service: str, params: dict[str, Any], **kw: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every page of a query: (findings in order, page count)."""
    items_key, token_key = KEYS[service]
    params = dict(params)
    out: list[dict[str, Any]] = []
    pages = 0
    while True:
        status, body = call(store, service, params, **kw)
        assert status == 200, body
        pages += 1
        out.extend(body[items_key])
        if token_key not in body:
            return out, pages
        params[token_key] = body[token_key]


def sh(fid: str, updated: str, **extra: Any) -> dict[str, Any]:
    """A minimal hand-made ASFF finding."""
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": fid,
        "ProductArn": f"arn:aws:securityhub:{REGION}::product/aws/securityhub",
        "GeneratorId": "gen",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": updated,
        "UpdatedAt": updated,
        "Severity": {"Label": "LOW"},
        "Title": fid,
        "Description": fid,
        "Resources": [{"Type": "Other", "Id": fid}],
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }
    finding.update(extra)
    return finding


def sh_key(f: dict[str, Any]) -> tuple[int, str, str]:
    return parse_time_us(f["UpdatedAt"]), f["Id"], f["ProductArn"]


def ids(findings: list[dict[str, Any]]) -> list[str]:
    return [f.get("Id") or f["findingArn"] for f in findings]


def check_shape(shape: Any, value: Any, path: str = "") -> None:
    """``value`` is what botocore's model allows (AWS wire types; rest-json timestamps are
    epoch-second numbers)."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{path}: not in {shape.name}: {unknown}"
        missing = set(shape.required_members) - set(value)
        assert not missing, f"{path}: {shape.name} misses {missing}"
        for k, v in value.items():
            check_shape(shape.members[k], v, f"{path}.{k}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, v in enumerate(value):
            check_shape(shape.member, v, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for k, v in value.items():
            check_shape(shape.value, v, f"{path}[{k}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: {value!r}"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int), f"{path}: {value!r}"
        assert not isinstance(value, bool), path
    elif kind in ("double", "float"):
        assert isinstance(value, int | float), path
        assert not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert not isinstance(value, bool), path
        assert isinstance(value, int | float), (
            f"{path}: rest-json timestamps are epoch seconds, got {value!r}"
        )
    else:  # pragma: no cover
        raise AssertionError(f"{path}: unexpected shape type {kind}")


@pytest.fixture
def store() -> FindingsStore:
    return FindingsStore()


# --------------------------------------------------------------------------- generation


@pytest.mark.parametrize("service", [SECURITYHUB, INSPECTOR2])
def test_generation_is_deterministic_and_within_bounds(service: str) -> None:
    a = generated_findings(service, ACCOUNT, REGION, 300, start=START, end=END, seed=7)
    b = generated_findings(service, ACCOUNT, REGION, 300, start=START, end=END, seed=7)
    c = generated_findings(service, ACCOUNT, REGION, 300, start=START, end=END, seed=8)
    assert a == b
    assert findings_digest(service, a) != findings_digest(service, c)
    assert len(set(ids(a))) == 300
    lo, hi = parse_time_us(START), parse_time_us(END)
    updated_key = "UpdatedAt" if service == SECURITYHUB else "updatedAt"
    for f in a:
        assert lo <= parse_time_us(f[updated_key]) <= hi
        if service == SECURITYHUB:
            assert f["UpdatedAt"].endswith("Z")
            assert f["CreatedAt"] <= f["UpdatedAt"]
            assert (f["Region"], f["AwsAccountId"]) == (REGION, ACCOUNT)
        else:
            assert isinstance(f["updatedAt"], int | float)
            assert f["firstObservedAt"] <= f["lastObservedAt"] <= f["updatedAt"]
    # deliberate exact ties of UpdatedAt
    assert len({f[updated_key] for f in a}) < len(a)


def test_generation_covers_every_state() -> None:
    shf = generated_findings(SECURITYHUB, ACCOUNT, REGION, 400, start=START, end=END)
    assert {f["RecordState"] for f in shf} == {"ACTIVE", "ARCHIVED"}
    assert {f["Workflow"]["Status"] for f in shf} == {"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}
    assert {f["Severity"]["Label"] for f in shf} == {
        "INFORMATIONAL",
        "LOW",
        "MEDIUM",
        "HIGH",
        "CRITICAL",
    }
    assert len({f["ProductArn"] for f in shf}) == 3
    assert any("Vulnerabilities" in f for f in shf)
    assert any("/" in k for f in shf for k in f["ProductFields"])  # free-form keys
    i2 = generated_findings(INSPECTOR2, ACCOUNT, REGION, 400, start=START, end=END)
    assert {f["status"] for f in i2} == {"ACTIVE", "SUPPRESSED", "CLOSED"}
    assert {f["type"] for f in i2} == {"PACKAGE_VULNERABILITY", "NETWORK_REACHABILITY"}
    assert {f["resources"][0]["type"] for f in i2} == {
        "AWS_EC2_INSTANCE",
        "AWS_ECR_CONTAINER_IMAGE",
    }


def test_generated_findings_match_botocore_models() -> None:
    sh_model = BOTOCORE.get_service_model("securityhub")
    for f in generated_findings(SECURITYHUB, ACCOUNT, REGION, 120, start=START, end=END):
        check_shape(sh_model.shape_for("AwsSecurityFinding"), f, f["Id"])
    i2_model = BOTOCORE.get_service_model("inspector2")
    for f in generated_findings(INSPECTOR2, ACCOUNT, REGION, 120, start=START, end=END):
        check_shape(i2_model.shape_for("Finding"), f, f["findingArn"])


def test_answers_parse_with_botocore(store: FindingsStore) -> None:
    """The bytes we answer are what botocore's rest-json parser turns into boto3 values."""
    for service, op in ((SECURITYHUB, "GetFindings"), (INSPECTOR2, "ListFindings")):
        store.control_generate(
            {
                "service": service,
                "account_id": ACCOUNT,
                "region": REGION,
                "count": 30,
                "start": START,
                "end": END,
            }
        )
        req = AwsRequest(service, op, "rest-json", ACCOUNT, REGION, "POST", "/", {}, {}, b"{}", {})
        resp = store.handler(service)(req)
        model = BOTOCORE.get_service_model(service).operation_model(op)
        parsed = create_parser("rest-json").parse(
            {"status_code": resp.status, "headers": resp.headers, "body": resp.body},
            cast(Any, model.output_shape),
        )
        if service == SECURITYHUB:
            assert len(parsed["Findings"]) == 30
            assert isinstance(parsed["Findings"][0]["UpdatedAt"], str)
        else:
            assert len(parsed["findings"]) == 30
            assert isinstance(parsed["findings"][0]["updatedAt"], datetime)


# --------------------------------------------------------------------------- Security Hub


def test_securityhub_updated_at_filter_is_inclusive_and_sorted(store: FindingsStore) -> None:
    findings = [
        sh("a", "2024-01-01T00:00:00.000Z"),
        sh("b", "2024-01-02T00:00:00.000Z"),
        sh("c", "2024-01-02T00:00:00.000Z"),  # tie with b: Id breaks it
        sh("d", "2024-01-03T00:00:00.001Z"),
        sh("e", "2024-01-03T00:00:00Z"),
    ]
    store.control_load(
        {"service": SECURITYHUB, "account_id": ACCOUNT, "region": REGION, "findings": findings}
    )
    asc = [{"Field": "UpdatedAt", "SortOrder": "asc"}]
    got, _ = walk(
        store,
        SECURITYHUB,
        {
            "Filters": {
                "UpdatedAt": [{"Start": "2024-01-02T00:00:00Z", "End": "2024-01-03T00:00:00Z"}]
            },
            "SortCriteria": asc,
            "MaxResults": 1,
        },
    )
    assert ids(got) == ["b", "c", "e"]
    got, _ = walk(
        store, SECURITYHUB, {"SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "desc"}]}
    )
    assert ids(got) == ["d", "e", "c", "b", "a"]
    # default order: newest first
    assert ids(walk(store, SECURITYHUB, {})[0]) == ["d", "e", "c", "b", "a"]
    # Start only, offsets accepted
    got, _ = walk(
        store,
        SECURITYHUB,
        {"Filters": {"UpdatedAt": [{"Start": "2024-01-03T01:00:00+01:00"}]}, "SortCriteria": asc},
    )
    assert ids(got) == ["e", "d"]


def test_securityhub_paging_walks_each_finding_once(store: FindingsStore) -> None:
    findings = generated_findings(SECURITYHUB, ACCOUNT, REGION, 1000, start=START, end=END, seed=3)
    summary = store.control_generate(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 1000,
            "start": START,
            "end": END,
            "seed": 3,
        }
    )
    assert summary["digest"] == findings_digest(SECURITYHUB, findings)
    window = {"Start": "2024-01-05T00:00:00Z", "End": "2024-01-20T12:00:00Z"}
    filters = {"UpdatedAt": [window]}
    lo, hi = parse_time_us(window["Start"]), parse_time_us(window["End"])
    expected = sorted(
        (f for f in findings if lo <= parse_time_us(f["UpdatedAt"]) <= hi), key=sh_key
    )
    for order in ("asc", "desc"):
        got, pages = walk(
            store,
            SECURITYHUB,
            {
                "Filters": filters,
                "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": order}],
                "MaxResults": 37,
            },
        )
        want = expected if order == "asc" else expected[::-1]
        assert ids(got) == ids(want)
        assert pages == -(-len(want) // 37)
        assert got == want  # the findings themselves come back unchanged


def test_securityhub_several_updated_at_ranges_are_ored(store: FindingsStore) -> None:
    findings = [sh(f"f{n}", f"2024-01-{n:02d}T00:00:00.000Z") for n in range(1, 11)]
    store.control_load(
        {"service": SECURITYHUB, "account_id": ACCOUNT, "region": REGION, "findings": findings}
    )
    got, _ = walk(
        store,
        SECURITYHUB,
        {
            "Filters": {
                "UpdatedAt": [
                    {"End": "2024-01-02T00:00:00Z"},
                    {"Start": "2024-01-05T00:00:00Z", "End": "2024-01-06T00:00:00Z"},
                    {"Start": "2024-01-10T00:00:00Z"},
                ]
            },
            "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "asc"}],
            "MaxResults": 2,
        },
    )
    assert ids(got) == ["f1", "f2", "f5", "f6", "f10"]


def test_securityhub_tokens_are_stable_and_bound_to_the_query(store: FindingsStore) -> None:
    store.control_generate(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 50,
            "start": START,
            "end": END,
        }
    )
    params = {"SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "asc"}], "MaxResults": 10}
    _, first = call(store, SECURITYHUB, params)
    _, again = call(store, SECURITYHUB, params)
    assert first["NextToken"] == again["NextToken"]
    _, p2 = call(store, SECURITYHUB, {**params, "NextToken": first["NextToken"]})
    _, p2b = call(store, SECURITYHUB, {**params, "NextToken": first["NextToken"]})
    assert p2 == p2b
    assert set(ids(p2["Findings"])).isdisjoint(ids(first["Findings"]))
    # a page size change keeps the position (as AWS allows)
    _, p2c = call(store, SECURITYHUB, {**params, "MaxResults": 5, "NextToken": first["NextToken"]})
    assert ids(p2c["Findings"]) == ids(p2["Findings"])[:5]
    status, err = call(
        store,
        SECURITYHUB,
        {
            "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "desc"}],
            "NextToken": first["NextToken"],
        },
    )
    assert (status, err["__type"]) == (400, "InvalidInputException")
    status, err = call(store, SECURITYHUB, {**params, "NextToken": "garbage"})
    assert (status, err["Code"]) == (400, "InvalidInputException")


def test_securityhub_rejects_bad_input_loudly(store: FindingsStore) -> None:
    for bad in (0, 101):
        status, err = call(store, SECURITYHUB, {"MaxResults": bad})
        assert (status, err["Code"]) == (400, "InvalidInputException")
    cases = [
        (
            {"Filters": {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}},
            "Filters.RecordState is not implemented by the emulator (it implements UpdatedAt)",
        ),
        (
            {"Filters": {"UpdatedAt": [{"DateRange": {"Value": 2, "Unit": "DAYS"}}]}},
            "Filters.UpdatedAt.DateRange is not implemented by the emulator "
            "(it implements Start and End)",
        ),
        (
            {"SortCriteria": [{"Field": "SeverityNormalized", "SortOrder": "desc"}]},
            "SortCriteria field SeverityNormalized is not implemented by the emulator "
            "(it implements UpdatedAt)",
        ),
        (
            {
                "SortCriteria": [
                    {"Field": "UpdatedAt", "SortOrder": "asc"},
                    {"Field": "Id", "SortOrder": "asc"},
                ]
            },
            "SortCriteria.Id is not implemented by the emulator (it sorts by UpdatedAt alone)",
        ),
        ({"SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "up"}]}, "Invalid SortOrder: up"),
        ({"Filters": {"UpdatedAt": [{}]}}, "Filters.UpdatedAt needs Start or End"),
    ]
    for params, message in cases:
        status, err = call(store, SECURITYHUB, params)
        assert (status, err["Code"], err["Message"]) == (400, "InvalidInputException", message)
    status, err = call(store, SECURITYHUB, {"Filters": {"UpdatedAt": [{"Start": "yesterday"}]}})
    assert (status, err["Code"]) == (400, "InvalidInputException")
    assert err["Message"].startswith("Invalid Filters.UpdatedAt.Start")


def test_securityhub_update_moves_findings_forward(store: FindingsStore) -> None:
    store.control_generate(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 100,
            "start": START,
            "end": END,
        }
    )
    params = {"SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "asc"}], "MaxResults": 20}
    _, first = call(store, SECURITYHUB, params)
    seen = ids(first["Findings"])
    # new activity on a finding already read: it moves past the cursor and is read again
    changed = store.control_update(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "ids": [seen[0]],
            "updated_at": "2024-02-15T10:00:00Z",
            "record_state": "ARCHIVED",
            "workflow_status": "RESOLVED",
        }
    )["updated"]
    assert changed == [
        {
            "id": seen[0],
            "product_arn": first["Findings"][0]["ProductArn"],
            "updated_at": "2024-02-15T10:00:00.000Z",
        }
    ]
    rest, _ = walk(store, SECURITYHUB, {**params, "NextToken": first["NextToken"]})
    assert ids(rest)[-1] == seen[0]
    assert rest[-1]["RecordState"] == "ARCHIVED"
    assert rest[-1]["Workflow"]["Status"] == "RESOLVED"
    assert rest[-1]["UpdatedAt"] == "2024-02-15T10:00:00.000Z"
    assert len(seen) + len(rest) == 101
    # update by count picks deterministic findings
    a = store.control_update(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 5,
            "seed": 1,
            "updated_at": "2024-03-01T00:00:00Z",
        }
    )
    assert len(a["updated"]) == 5


def test_load_replace_and_keys(store: FindingsStore) -> None:
    target = {"service": SECURITYHUB, "account_id": ACCOUNT, "region": REGION}
    store.control_load({**target, "findings": [sh("x", "2024-01-01T00:00:00Z")]})
    product2 = "arn:aws:securityhub:us-east-1::product/other/p"
    out = store.control_load(
        {
            **target,
            "findings": [
                sh("x", "2024-01-02T00:00:00Z"),  # same (Id, ProductArn): replaced
                sh("x", "2024-01-02T00:00:00Z", ProductArn=product2),
            ],
        }
    )  # same Id, other product
    assert out == {"loaded": 2, "total": 2}
    assert store.control_load({**target, "findings": [], "replace": True})["total"] == 0
    with pytest.raises(ValueError, match="UpdatedAt"):
        store.control_load({**target, "findings": [{"Id": "y", "ProductArn": "p"}]})


# --------------------------------------------------------------------------- Inspector2


def test_inspector_filters_and_default_order(store: FindingsStore) -> None:
    findings = generated_findings(INSPECTOR2, ACCOUNT, REGION, 800, start=START, end=END, seed=5)
    store.control_generate(
        {
            "service": INSPECTOR2,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 800,
            "start": START,
            "end": END,
            "seed": 5,
        }
    )
    # default order: findingArn, which is not time order
    everything, _ = walk(store, INSPECTOR2, {"maxResults": 100})
    assert ids(everything) == sorted(ids(findings))
    times = [f["updatedAt"] for f in everything]
    assert times != sorted(times)
    lo = parse_time_us("2024-01-10T00:00:00Z") / 1e6
    hi = parse_time_us("2024-01-12T06:30:00Z") / 1e6
    got, _ = walk(
        store,
        INSPECTOR2,
        {
            "filterCriteria": {"updatedAt": [{"startInclusive": lo, "endInclusive": hi}]},
            "maxResults": 7,
        },
    )
    expected = sorted(f["findingArn"] for f in findings if lo <= f["updatedAt"] <= hi)
    assert 7 < len(expected) < 800
    assert ids(got) == expected
    got, _ = walk(store, INSPECTOR2, {"filterCriteria": {"updatedAt": [{"endInclusive": lo}]}})
    assert ids(got) == sorted(f["findingArn"] for f in findings if f["updatedAt"] <= lo)


def test_inspector_sort_and_bad_input(store: FindingsStore) -> None:
    # AWS cannot sort by updatedAt: neither can the emulator (AWS's enum validation error)
    for field in ("UPDATED_AT", "updatedAt"):
        status, err = call(
            store, INSPECTOR2, {"sortCriteria": {"field": field, "sortOrder": "ASC"}}
        )
        assert (status, err["__type"]) == (400, "ValidationException")
        assert err["reason"] == "FIELD_VALIDATION_FAILED"
        assert err["message"].startswith(
            f"1 validation error detected: Value '{field}' at 'sortCriteria.field'"
        )
        assert err["fields"] == [{"name": "sortCriteria.field", "message": "invalid enum value"}]
    status, err = call(
        store, INSPECTOR2, {"sortCriteria": {"field": "SEVERITY", "sortOrder": "ASC"}}
    )
    assert (status, err["message"]) == (
        400,
        "sortCriteria.field SEVERITY is not implemented by the emulator",
    )
    for bad in (0, 101):
        status, err = call(store, INSPECTOR2, {"maxResults": bad})
        assert (status, err["__type"]) == (400, "ValidationException")
    status, err = call(store, INSPECTOR2, {"nextToken": "nope"})
    assert (status, err["__type"], err["reason"]) == (400, "ValidationException", "OTHER")
    status, err = call(
        store,
        INSPECTOR2,
        {"filterCriteria": {"findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}]}},
    )
    assert (status, err["message"]) == (
        400,
        "filterCriteria.findingStatus is not implemented by the emulator (it implements updatedAt)",
    )


def test_inspector_load_accepts_iso_and_answers_epoch(store: FindingsStore) -> None:
    finding = {
        "findingArn": f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/{'a' * 32}",
        "awsAccountId": ACCOUNT,
        "type": "PACKAGE_VULNERABILITY",
        "description": "d",
        "remediation": {},
        "severity": "HIGH",
        "status": "ACTIVE",
        "firstObservedAt": "2024-01-01T00:00:00Z",
        "lastObservedAt": "2024-01-02T00:00:00Z",
        "updatedAt": "2024-01-02T00:00:00.250Z",
        "resources": [{"type": "AWS_EC2_INSTANCE", "id": "i-1"}],
    }
    store.control_load(
        {"service": INSPECTOR2, "account_id": ACCOUNT, "region": REGION, "findings": [finding]}
    )
    _, body = call(store, INSPECTOR2, {})
    got = body["findings"][0]
    assert got["updatedAt"] == 1704153600.25
    assert got["firstObservedAt"] == 1704067200
    upd = store.control_update(
        {
            "service": INSPECTOR2,
            "account_id": ACCOUNT,
            "region": REGION,
            "ids": [finding["findingArn"]],
            "updated_at": "2024-02-01T00:00:00Z",
            "status": "CLOSED",
        }
    )
    assert upd["updated"][0]["updated_at"] == 1706745600
    _, body = call(store, INSPECTOR2, {})
    assert body["findings"][0]["status"] == "CLOSED"


# --------------------------------------------------------------------------- both services


def test_partitions_are_isolated(store: FindingsStore) -> None:
    store.control_generate(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 10,
            "start": START,
            "end": END,
        }
    )
    assert call(store, SECURITYHUB, {}, region="eu-west-1")[1]["Findings"] == []
    assert call(store, SECURITYHUB, {}, account="999999999999")[1]["Findings"] == []
    assert call(store, INSPECTOR2, {})[1]["findings"] == []
    assert len(call(store, SECURITYHUB, {})[1]["Findings"]) == 10


def test_not_enabled_answers(store: FindingsStore) -> None:
    store.control_disable({"service": SECURITYHUB, "account_id": ACCOUNT, "region": REGION})
    store.control_disable({"service": INSPECTOR2, "account_id": ACCOUNT, "region": "*"})
    status, err = call(store, SECURITYHUB, {})
    assert (status, err["Code"]) == (401, "InvalidAccessException")
    assert err["Message"] == f"Account {ACCOUNT} is not subscribed to AWS Security Hub"
    assert call(store, SECURITYHUB, {}, region="eu-west-1")[0] == 200
    for region in (REGION, "ap-south-1"):
        status, err = call(store, INSPECTOR2, {}, region=region)
        assert (status, err["__type"]) == (403, "AccessDeniedException")
    store.control_disable(
        {"service": INSPECTOR2, "account_id": ACCOUNT, "region": "*", "disabled": False}
    )
    assert call(store, INSPECTOR2, {})[0] == 200


@pytest.mark.parametrize("service", [SECURITYHUB, INSPECTOR2])
def test_fail_after_pages(store: FindingsStore, service: str) -> None:
    target = {"service": service, "account_id": ACCOUNT, "region": REGION}
    store.control_generate({**target, "count": 50, "start": START, "end": END})
    store.control_fail_after_pages({**target, "pages": 2, "times": 1})
    params: dict[str, Any] = {"MaxResults" if service == SECURITYHUB else "maxResults": 10}
    token_key = "NextToken" if service == SECURITYHUB else "nextToken"
    statuses = []
    for _ in range(3):
        status, body = call(store, service, params)
        statuses.append(status)
        if status == 200:
            params[token_key] = body[token_key]
    assert statuses == [200, 200, 400]
    assert body["__type"] == (
        "InvalidInputException" if service == SECURITYHUB else "ValidationException"
    )
    # times=1: recovered, and the token from page 2 still works
    assert call(store, service, params)[0] == 200
    store.control_fail_after_pages(
        {**target, "pages": 0, "code": "InternalException", "status": 500}
    )
    status, body = call(store, service, {})
    assert (status, body["__type"]) == (500, "InternalException")
    store.control_fail_after_pages({**target, "pages": None})
    assert call(store, service, {})[0] == 200


def test_stats_and_reset(store: FindingsStore) -> None:
    store.control_generate(
        {
            "service": INSPECTOR2,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 25,
            "start": START,
            "end": END,
        }
    )
    walk(
        store,
        INSPECTOR2,
        {
            "maxResults": 10,
            "filterCriteria": {"updatedAt": [{"endInclusive": parse_time_us(END) / 1e6}]},
        },
    )
    call(store, INSPECTOR2, {"maxResults": 1000})
    (part,) = store.control_stats({"service": INSPECTOR2})["partitions"]
    assert (part["account_id"], part["findings"]) == (ACCOUNT, 25)
    assert part["errors"] == 1
    assert part["calls"] == part["pages"] + 1
    assert part["requests"][0]["filters"] == {
        "updatedAt": [{"endInclusive": parse_time_us(END) / 1e6}]
    }
    assert [r["token"] for r in part["requests"][:2]] == [False, True]
    assert store.control_reset({}) == {"reset": True}
    assert store.control_stats({})["partitions"] == []
    assert call(store, INSPECTOR2, {})[1]["findings"] == []


def test_generate_scales(store: FindingsStore) -> None:
    """Pages come from an index by UpdatedAt: their cost does not grow with the partition."""
    n = 20_000
    store.control_generate(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": n,
            "start": START,
            "end": END,
        }
    )
    params: dict[str, Any] = {
        "Filters": {"UpdatedAt": [{"Start": "2024-01-30T00:00:00Z", "End": END}]},
        "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "asc"}],
        "MaxResults": 100,
    }
    call(store, SECURITYHUB, params)  # builds the index once
    started = time.perf_counter()
    for _ in range(20):
        status, body = call(store, SECURITYHUB, params)
        assert status == 200
    assert (time.perf_counter() - started) / 20 < 0.05
    assert 0 < len(body["Findings"]) <= 100


# --------------------------------------------------------------------------- over HTTP

HTTP_REGION = "ap-southeast-2"  # a region the seeded organization does not use
MANAGEMENT = "123456789012"  # what the "testing" keys map to


@pytest.fixture
def endpoint(emulator: Any) -> Iterator[str]:
    url: str = emulator.endpoint_url
    yield url
    for service in (SECURITYHUB, INSPECTOR2):
        for account in (MANAGEMENT, "210987654321"):
            load_findings(url, service, account, HTTP_REGION, [], replace=True)
            set_enabled(url, service, account, HTTP_REGION, True)
            fail_after_pages(url, service, account, HTTP_REGION, None)


def client(endpoint: str, service: str, **creds: str) -> Any:
    return cast(Any, boto3).client(
        service,
        region_name=HTTP_REGION,
        endpoint_url=endpoint,
        aws_access_key_id=creds.get("key", "testing"),
        aws_secret_access_key=creds.get("secret", "testing"),
        aws_session_token=creds.get("token"),
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def test_http_securityhub_paginator(endpoint: str) -> None:
    summary = generate_findings(
        endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION, 450, start=START, end=END, seed=11
    )
    local = generated_findings(
        SECURITYHUB, MANAGEMENT, HTTP_REGION, 450, start=START, end=END, seed=11
    )
    assert summary["digest"] == findings_digest(SECURITYHUB, local)
    start = datetime(2024, 1, 8, tzinfo=UTC)
    filters = {"UpdatedAt": [{"Start": "2024-01-08T00:00:00Z", "End": "2024-01-25T00:00:00Z"}]}
    pages = list(
        client(endpoint, "securityhub")
        .get_paginator("get_findings")
        .paginate(
            Filters=filters,
            SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}],
            PaginationConfig={"PageSize": 40},
        )
    )
    got = [f for p in pages for f in p["Findings"]]
    lo, hi = parse_time_us(start), parse_time_us("2024-01-25T00:00:00Z")
    expected = sorted(
        (f for f in local if lo <= parse_time_us(f["UpdatedAt"]) <= hi),
        key=sh_key,
    )
    assert ids(got) == ids(expected)
    assert got == expected
    assert all(len(p["Findings"]) == 40 for p in pages[:-1])
    stats = findings_stats(endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION)[0]
    assert stats["requests"][-1]["filters"] == filters
    assert stats["requests"][-1]["max_results"] == 40


def test_http_inspector_paginator_with_datetime_filters(endpoint: str) -> None:
    generate_findings(
        endpoint, INSPECTOR2, MANAGEMENT, HTTP_REGION, 300, start=START, end=END, seed=2
    )
    local = generated_findings(
        INSPECTOR2, MANAGEMENT, HTTP_REGION, 300, start=START, end=END, seed=2
    )
    start = datetime(2024, 1, 10, 12, 0, 0, 500_000, tzinfo=UTC)
    end = datetime(2024, 1, 20, tzinfo=UTC)
    pages = list(
        client(endpoint, "inspector2")
        .get_paginator("list_findings")
        .paginate(
            filterCriteria={"updatedAt": [{"startInclusive": start, "endInclusive": end}]},
            PaginationConfig={"PageSize": 25},
        )
    )
    got = [f for p in pages for f in p["findings"]]
    lo, hi = start.timestamp(), end.timestamp()
    expected = sorted(f["findingArn"] for f in local if lo <= f["updatedAt"] <= hi)
    assert [f["findingArn"] for f in got] == expected
    assert len(pages) == -(-len(expected) // 25)
    first = got[0]
    assert isinstance(first["updatedAt"], datetime)
    assert first["updatedAt"].tzinfo is not None
    stats = findings_stats(endpoint, INSPECTOR2, MANAGEMENT, HTTP_REGION)[0]
    # botocore sends rest-json timestamps as epoch-second numbers
    sent = stats["requests"][0]["filters"]["updatedAt"][0]
    assert sent == {"startInclusive": 1704888000.5, "endInclusive": 1705708800}


def test_http_errors(endpoint: str) -> None:
    shc, i2c = client(endpoint, "securityhub"), client(endpoint, "inspector2")
    set_enabled(endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION, False)
    set_enabled(endpoint, INSPECTOR2, MANAGEMENT, HTTP_REGION, False)
    with pytest.raises(ClientError) as sh_err:
        shc.get_findings()
    assert sh_err.value.response["Error"]["Code"] == "InvalidAccessException"
    assert sh_err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert "not subscribed to AWS Security Hub" in sh_err.value.response["Error"]["Message"]
    with pytest.raises(i2c.exceptions.AccessDeniedException) as i2_err:
        i2c.list_findings()
    assert i2_err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    set_enabled(endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION, True)
    set_enabled(endpoint, INSPECTOR2, MANAGEMENT, HTTP_REGION, True)
    with pytest.raises(i2c.exceptions.ValidationException):
        i2c.list_findings(sortCriteria={"field": "UPDATED_AT", "sortOrder": "ASC"})
    with pytest.raises(ClientError) as bad:
        shc.get_findings(MaxResults=500)
    assert bad.value.response["Error"]["Code"] == "InvalidInputException"


def test_http_fail_after_pages_and_update(endpoint: str) -> None:
    generate_findings(endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION, 100, start=START, end=END)
    fail_after_pages(endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION, 2)
    seen: list[str] = []

    def read_all() -> None:
        paginator = client(endpoint, "securityhub").get_paginator("get_findings")
        for page in paginator.paginate(PaginationConfig={"PageSize": 20}):
            seen.extend(ids(page["Findings"]))

    with pytest.raises(ClientError) as err:
        read_all()
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert len(seen) == 40
    fail_after_pages(endpoint, SECURITYHUB, MANAGEMENT, HTTP_REGION, None)
    changed = update_findings(
        endpoint,
        SECURITYHUB,
        MANAGEMENT,
        HTTP_REGION,
        count=3,
        seed=4,
        updated_at="2024-06-01T00:00:00Z",
        workflow_status="NOTIFIED",
    )
    assert len(changed) == 3
    got = client(endpoint, "securityhub").get_findings(
        Filters={"UpdatedAt": [{"Start": "2024-06-01T00:00:00Z", "End": "2024-06-01T00:00:00Z"}]}
    )["Findings"]
    assert sorted(ids(got)) == sorted(c["id"] for c in changed)
    assert {f["Workflow"]["Status"] for f in got} == {"NOTIFIED"}


def test_http_caller_account_is_the_partition(endpoint: str) -> None:
    other = "210987654321"
    load_findings(
        endpoint,
        SECURITYHUB,
        other,
        HTTP_REGION,
        [sh("member-finding", "2024-01-01T00:00:00Z", AwsAccountId=other)],
    )
    creds = client(endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{other}:role/TapReadRole", RoleSessionName="findings-test"
    )["Credentials"]
    member = client(
        endpoint,
        "securityhub",
        key=creds["AccessKeyId"],
        secret=creds["SecretAccessKey"],
        token=creds["SessionToken"],
    )
    assert ids(member.get_findings()["Findings"]) == ["member-finding"]
    assert client(endpoint, "securityhub").get_findings()["Findings"] == []


def test_iso_roundtrip() -> None:
    for text in (
        "2024-01-02T03:04:05.678Z",
        "2024-01-02T03:04:05.000Z",
        "2024-01-02T03:04:05.678901Z",
    ):
        assert iso_from_us(parse_time_us(text)) == text
    assert parse_time_us("2024-01-02T03:04:05Z") == parse_time_us(1704164645)


def test_empty_window(store: FindingsStore) -> None:
    store.control_generate(
        {
            "service": SECURITYHUB,
            "account_id": ACCOUNT,
            "region": REGION,
            "count": 20,
            "start": START,
            "end": END,
        }
    )
    for order in ("asc", "desc"):
        _, body = call(
            store,
            SECURITYHUB,
            {
                "Filters": {
                    "UpdatedAt": [{"Start": "2024-01-20T00:00:00Z", "End": "2024-01-10T00:00:00Z"}]
                },
                "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": order}],
            },
        )
        assert body == {"Findings": []}
