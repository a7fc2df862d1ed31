"""Python helpers for the ``findings/*`` control routes (parent process, over HTTP).

Every helper takes the emulator's endpoint URL; ``service`` is a kind of
:mod:`aws_emulator.findings`: ``securityhub``, ``inspector2``, ``securityhub_ocsf`` or
``inspector2_coverage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import requests


def _control(endpoint_url: str, path: str, body: dict[str, Any], timeout: float = 300) -> Any:
    url = endpoint_url.rstrip("/") + "/_emulator/" + path
    resp = requests.post(url, json=body, timeout=timeout)
    if resp.status_code >= 400:
        raise RuntimeError(f"emulator control {path} failed: {resp.status_code} {resp.text[:500]}")
    return resp.json()


def load_findings(
    endpoint_url: str,
    service: str,
    account_id: str,
    region: str,
    findings: list[dict[str, Any]],
    *,
    replace: bool = False,
) -> dict[str, Any]:
    """Add (or replace by key) findings of one partition."""
    result: dict[str, Any] = _control(
        endpoint_url,
        "findings/load",
        {
            "service": service,
            "account_id": account_id,
            "region": region,
            "findings": findings,
            "replace": replace,
        },
    )
    return result


def generate_findings(
    endpoint_url: str,
    service: str,
    account_id: str,
    region: str,
    count: int,
    *,
    start: Any,
    end: Any,
    seed: int = 0,
    aws_account_ids: Sequence[str] | None = None,
    replace: bool = True,
    return_findings: bool = False,
) -> dict[str, Any]:
    """Generate ``count`` deterministic findings in the emulator.

    The summary has ``count``, ``total``, ``digest`` (see :func:`findings_digest`),
    ``min_updated_at``/``max_updated_at``; the exact findings are
    ``generated_findings(service, account_id, region, count, start, end, seed, ...)``.
    """
    if isinstance(start, datetime):
        start = start.isoformat()
    if isinstance(end, datetime):
        end = end.isoformat()
    result: dict[str, Any] = _control(
        endpoint_url,
        "findings/generate",
        {
            "service": service,
            "account_id": account_id,
            "region": region,
            "count": count,
            "start": start,
            "end": end,
            "seed": seed,
            "aws_account_ids": aws_account_ids,
            "replace": replace,
            "return_findings": return_findings,
        },
    )
    return result


def update_findings(
    endpoint_url: str,
    service: str,
    account_id: str,
    region: str,
    *,
    ids: Sequence[str] | None = None,
    count: int | None = None,
    seed: int = 0,
    updated_at: Any = None,
    **changes: Any,
) -> list[dict[str, Any]]:
    """Move UpdatedAt (default: now) of some findings; ``changes``: record_state,
    workflow_status (Security Hub), status (Inspector2), severity. Returns what changed."""
    if isinstance(updated_at, datetime):
        updated_at = updated_at.isoformat()
    body: dict[str, Any] = {
        "service": service,
        "account_id": account_id,
        "region": region,
        "seed": seed,
        "updated_at": updated_at,
        **changes,
    }
    if ids is not None:
        body["ids"] = list(ids)
    if count is not None:
        body["count"] = count
    result: list[dict[str, Any]] = _control(endpoint_url, "findings/update", body)["updated"]
    return result


def set_enabled(
    endpoint_url: str, service: str, account_id: str, region: str, enabled: bool
) -> None:
    """Enable or disable a service for an account in a region (``"*"``: every region)."""
    _control(
        endpoint_url,
        "findings/disable",
        {"service": service, "account_id": account_id, "region": region, "disabled": not enabled},
    )


def fail_after_pages(
    endpoint_url: str,
    service: str,
    account_id: str,
    region: str,
    pages: int | None,
    *,
    code: str | None = None,
    status: int | None = None,
    message: str | None = None,
    times: int | None = None,
) -> None:
    """After ``pages`` more pages of the partition, answer errors (``pages=None`` clears)."""
    _control(
        endpoint_url,
        "findings/fail_after_pages",
        {
            "service": service,
            "account_id": account_id,
            "region": region,
            "pages": pages,
            "code": code,
            "status": status,
            "message": message,
            "times": times,
        },
    )


def findings_stats(
    endpoint_url: str,
    service: str | None = None,
    account_id: str | None = None,
    region: str | None = None,
) -> list[dict[str, Any]]:
    """Per-partition counters and the last requests (filters, sort, page size) seen."""
    body = {
        k: v
        for k, v in (("service", service), ("account_id", account_id), ("region", region))
        if v is not None
    }
    result: list[dict[str, Any]] = _control(endpoint_url, "findings/stats", body)["partitions"]
    return result


def set_ocsf_admin(endpoint_url: str, account_id: str, admin: bool = True) -> None:
    """Make ``account_id`` Security Hub's delegated administrator (GetFindingsV2 Scopes)."""
    _control(endpoint_url, "findings/ocsf_admin", {"account_id": account_id, "admin": admin})


def load_coverage(
    endpoint_url: str,
    account_id: str,
    region: str,
    covered_resources: list[dict[str, Any]],
    *,
    replace: bool = False,
) -> dict[str, Any]:
    """Inspector ``ListCoverage`` entries (``CoveredResource`` shapes) of one partition."""
    return load_findings(
        endpoint_url, "inspector2_coverage", account_id, region, covered_resources, replace=replace
    )


def reset_findings(endpoint_url: str) -> None:
    """Clear every finding, rule and counter."""
    _control(endpoint_url, "findings/reset", {})
