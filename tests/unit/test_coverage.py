"""Coverage in process: the summary, the METRIC and the contract's exit rule."""

from __future__ import annotations

import pytest

from tap_aws_uvm.coverage import (
    DENIED,
    DISABLED,
    FAILED,
    NOT_ENABLED,
    NOT_ENTERED,
    OK,
    SUSPENDED,
    UNREACHABLE,
    Coverage,
    Outcome,
)


def coverage(*rows: tuple[str, str, str | None]) -> Coverage:
    result = Coverage()
    for n, (stream, outcome, code) in enumerate(rows):
        result.record(Outcome(stream, f"{n:012d}", "us-east-1", outcome, code))
    return result


def test_summary_lines_and_metric() -> None:
    cov = coverage(
        ("ec2_instances", OK, None),
        ("ec2_instances", DENIED, "UnauthorizedOperation"),
        ("securityhub_findings", NOT_ENABLED, "InvalidAccessException"),
        ("securityhub_findings", UNREACHABLE, "EndpointConnectionError"),
    )
    cov.account("333333333333", NOT_ENTERED, "AccessDenied", "could not assume role")
    cov.account("444444444444", SUSPENDED, "SUSPENDED", "account is SUSPENDED")
    assert cov.summary_lines() == [
        "coverage ec2_instances: ok=1 denied=1 disabled=0 not_enabled=0 unreachable=0 failed=0 "
        "(UnauthorizedOperation x1)",
        "coverage securityhub_findings: ok=0 denied=0 disabled=0 not_enabled=1 unreachable=1 "
        "failed=0 (EndpointConnectionError x1, InvalidAccessException x1)",
        "coverage accounts: not_entered=1 suspended=1",
    ]
    metric = cov.metric()
    assert metric["metric"] == "partition_coverage"
    assert metric["value"] == 4
    assert metric["tags"]["accounts"] == {
        "not_entered": ["333333333333"],
        "suspended": ["444444444444"],
    }
    assert metric["tags"]["streams"]["securityhub_findings"] == {
        "ok": 0,
        "denied": 0,
        "disabled": 0,
        "not_enabled": 1,
        "unreachable": 1,
        "failed": 0,
    }


@pytest.mark.parametrize(
    ("rows", "strict", "problems"),
    [
        # partial denial: a WARNING, not a failure, unless strict
        ([(OK, None), (DENIED, "AccessDenied")], False, []),
        (
            [(OK, None), (DENIED, "AccessDenied")],
            True,
            ["stream s was denied in 1 partition(s) (fail_on_access_denied)"],
        ),
        # denied everywhere it could be read, whatever else it met
        (
            [(DENIED, "AccessDenied"), (DISABLED, "RegionNotEnabled"), (NOT_ENABLED, "X")],
            False,
            ["stream s was denied in every partition it could read"],
        ),
        # unreachable and failed always count
        (
            [(OK, None), (UNREACHABLE, "EndpointConnectionError")],
            False,
            ["stream s: 1 partition(s) unreachable (EndpointConnectionError)"],
        ),
        (
            [(OK, None), (FAILED, "Throttling"), (FAILED, "InternalError")],
            False,
            ["stream s: 2 partition(s) failed (InternalError, Throttling)"],
        ),
        # not enabled and disabled never count
        ([(NOT_ENABLED, "X"), (DISABLED, "OptInRequired")], True, []),
        ([(OK, None), (DISABLED, "RegionNotEnabled")], True, []),
    ],
)
def test_exit_rule(rows: list[tuple[str, str | None]], strict: bool, problems: list[str]) -> None:
    cov = coverage(*(("s", outcome, code) for outcome, code in rows))
    assert cov.problems(["s"], strict=strict) == problems


def test_accounts_not_entered_count_only_when_strict() -> None:
    cov = coverage(("s", OK, None))
    cov.account("333333333333", NOT_ENTERED, "AccessDenied", "no")
    cov.account("444444444444", SUSPENDED, "SUSPENDED", "account is SUSPENDED")
    assert cov.problems(["s"], strict=False) == []
    assert cov.problems(["s"], strict=True) == [
        "1 account(s) could not be entered (fail_on_access_denied)"
    ]


def test_account_rows_are_one_per_selected_stream() -> None:
    cov = Coverage()
    cov.account("333333333333", NOT_ENTERED, "AccessDenied", "no")
    rows = cov.account_rows(["a", "b"], at=None)  # type: ignore[arg-type]
    assert [(r.stream, r.account_id, r.region, r.outcome) for r in rows] == [
        ("a", "333333333333", "global", NOT_ENTERED),
        ("b", "333333333333", "global", NOT_ENTERED),
    ]
