"""Coverage in process: the summary, the METRIC and the exit rule."""

from __future__ import annotations

from tap_aws_uvm.coverage import DENIED, DISABLED, FAILED, NOT_ENABLED, OK, Coverage


def coverage(*rows: tuple[str, str, str | None]) -> Coverage:
    result = Coverage()
    for stream, outcome, code in rows:
        result.record(stream, outcome, code)
    return result


def test_summary_lines_and_metric() -> None:
    cov = coverage(
        ("ec2_instances", OK, None),
        ("ec2_instances", DENIED, "UnauthorizedOperation"),
        ("securityhub_findings", NOT_ENABLED, "InvalidAccessException"),
    )
    cov.accounts_skipped["333333333333"] = "could not assume role"
    assert cov.summary_lines() == [
        "coverage ec2_instances: ok=1 denied=1 disabled=0 not_enabled=0 failed=0 "
        "(UnauthorizedOperation x1)",
        "coverage securityhub_findings: ok=0 denied=0 disabled=0 not_enabled=1 failed=0 "
        "(InvalidAccessException x1)",
        "coverage accounts not entered: 1",
    ]
    metric = cov.metric()
    assert metric["metric"] == "partition_coverage"
    assert metric["value"] == 3
    assert metric["tags"]["accounts_not_entered"] == ["333333333333"]
    assert metric["tags"]["streams"]["ec2_instances"] == {
        "ok": 1,
        "denied": 1,
        "disabled": 0,
        "not_enabled": 0,
        "failed": 0,
    }


def test_partial_denial_passes_unless_strict() -> None:
    cov = coverage(("ec2_instances", OK, None), ("ec2_instances", DENIED, "AccessDenied"))
    assert cov.problems(["ec2_instances"], strict=False) == []
    assert cov.problems(["ec2_instances"], strict=True) == [
        "stream ec2_instances was denied or failed in 1 partition(s) (fail_on_access_denied)"
    ]


def test_a_stream_denied_or_failed_everywhere_fails_the_run() -> None:
    cov = coverage(("rds_instances", DENIED, "AccessDenied"), ("rds_instances", FAILED, "X"))
    assert cov.problems(["rds_instances"], strict=False) == [
        "stream rds_instances was denied or failed in every partition"
    ]


def test_not_enabled_and_disabled_never_count() -> None:
    cov = coverage(
        ("inspector_findings", NOT_ENABLED, "AccessDeniedException"),
        ("inspector_findings", DISABLED, "OptInRequired"),
    )
    assert cov.problems(["inspector_findings"], strict=True) == []
