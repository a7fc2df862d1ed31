"""Emulated Security Hub ``GetFindings`` and Inspector2 ``ListFindings``.

moto 5.2.5 ignores Security Hub ``Filters``/``SortCriteria`` and answers Inspector2 with canned
results and no ``nextToken`` (see DESIGN.md), so both operations are answered here instead.

Findings live per partition ``(service, account_id, region)``; a caller sees the findings stored
for its own credentials' account and its SigV4 region. ``service`` is ``"securityhub"`` or
``"inspector2"``.

Behaviour (as AWS does)
-----------------------
Security Hub ``GetFindings`` (POST /findings)
    ``Filters``: string filters (EQUALS, NOT_EQUALS, PREFIX, PREFIX_NOT_EQUALS, CONTAINS,
    NOT_CONTAINS) on ``Id``, ``ProductArn``, ``AwsAccountId``, ``GeneratorId``, ``Region``,
    ``Title``, ``ProductName``, ``CompanyName``, ``RecordState``, ``WorkflowStatus``,
    ``WorkflowState``, ``SeverityLabel``, ``ComplianceStatus``, ``Type``, ``ResourceType``,
    ``ResourceId``, ``VulnerabilitiesExploitAvailable``, ``VulnerabilitiesFixAvailable``; date
    filters (``Start``/``End`` inclusive, or ``DateRange`` in DAYS) on ``UpdatedAt``,
    ``CreatedAt``, ``FirstObservedAt``, ``LastObservedAt``. Values of one field: positive
    comparisons are OR'ed, negative ones AND'ed; fields are AND'ed. ``SortCriteria``: any of the
    fields above plus ``SeverityNormalized``, ``asc``/``desc``; ties are broken by ``Id`` (then
    ``ProductArn``) in the same direction. Default order: ``UpdatedAt`` desc. ``MaxResults``
    1..100 (default 100). A filter or sort field the emulator does not implement is answered
    with ``InvalidInputException`` naming it (never silently ignored, unlike moto).
Inspector2 ``ListFindings`` (POST /findings/list)
    ``filterCriteria``: string filters (EQUALS, NOT_EQUALS, PREFIX) on ``findingArn``,
    ``awsAccountId``, ``findingType``, ``severity``, ``findingStatus``, ``title``,
    ``resourceType``, ``resourceId``, ``vulnerabilityId``, ``vulnerabilitySource``,
    ``fixAvailable``, ``exploitAvailable``, ``ecrImageRepositoryName``; date filters
    (``startInclusive``/``endInclusive``, epoch seconds on the wire) on ``updatedAt``,
    ``firstObservedAt``, ``lastObservedAt``; number filter on ``inspectorScore``. ``sortCriteria``
    on ``AWS_ACCOUNT_ID``, ``FINDING_TYPE``, ``SEVERITY``, ``FIRST_OBSERVED_AT``,
    ``LAST_OBSERVED_AT``, ``FINDING_STATUS``, ``RESOURCE_TYPE``, ``VULNERABILITY_ID``,
    ``INSPECTOR_SCORE``, ``EPSS_SCORE`` (ties by ``findingArn``); any other field (``UPDATED_AT``
    in particular: AWS cannot sort by it) is a ``ValidationException``. Default order:
    ``findingArn``, unrelated to ``updatedAt`` so a client cannot rely on time order.
    ``maxResults`` 1..100 (default 50).
Both
    ``NextToken`` is opaque and stable: a keyset cursor (last sort key + id) bound to the query.
    The same request with the same token answers the same page while data is unchanged; a token
    used with other filters/sort is rejected like AWS does. Findings updated during a sync move
    in the order (as in AWS), they are not pinned to a snapshot.

Not enabled (``findings/disable``)
    Security Hub: ``InvalidAccessException`` "Account <id> is not subscribed to AWS Security
    Hub" with HTTP 401 -- the status botocore's securityhub model declares for that error shape
    (``InvalidAccessException.error.httpStatusCode == 401``); the message is the one users report
    from GetFindings (prowler-cloud/prowler#1143, handled as "not enabled" in prowler#1590).
    Inspector2: HTTP 403 ``AccessDeniedException``, message "Invoking account does not have
    access to list findings." No public trace of the exact ListFindings wording was found; the
    code, status and "Invoking account does not have access to <action>" form are what
    Inspector2 answers for other operations in accounts/regions where it is not enabled
    (DescribeOrganizationConfiguration: terraform-provider-aws internal/service/inspector2 and
    steampipe-plugin-aws match that 403 AccessDeniedException text to mean "not enabled"), and
    what clients such as awslabs' MCP security server catch around list_findings as "Inspector
    is not enabled". AccessDeniedException is the inspector2 model's only 403 error shape.

Control routes (POST {endpoint}/_emulator/<path>, JSON in and out)
------------------------------------------------------------------
``findings/load``  {service, account_id, region, findings: [...], replace: false}
    Add (or replace by key) findings; ``replace: true`` empties the partition first. Inspector2
    timestamps may be given as ISO strings or epoch numbers (stored as epoch numbers).
    -> {"loaded": n, "total": m}
``findings/generate``  {service, account_id, region, count, start, end, seed: 0,
    aws_account_ids: null, replace: true, return_findings: false}
    Deterministic findings from :func:`generated_findings` (same function the tests import).
    -> {"count", "total", "digest", "min_updated_at", "max_updated_at"} (+ "findings" if asked)
``findings/update``  {service, account_id, region, ids: [...] | count: n, seed: 0,
    updated_at: ISO|epoch|null(now), record_state, workflow_status, status, severity}
    Simulates new activity: moves UpdatedAt / LastObservedAt and optionally the state.
    -> {"updated": [{"id", "updated_at"}]}
``findings/disable``  {service, account_id, region ("*" = every region), disabled: true}
    (``findings/enable`` is the same with disabled false) -> {"disabled": bool}
``findings/fail_after_pages``  {service, account_id, region, pages: N|null, code, status,
    message, times: null}
    After N more successful pages of that partition, answer an error (``times`` errors, then
    recover; null = forever). Default: Security Hub 400 InvalidInputException, Inspector2 400
    ValidationException (what an expired NextToken gets): not retried by botocore, so a tap sees
    a partition failing mid-way at once. ``pages: null`` clears the rule.
``findings/stats``  {service?, account_id?, region?}
    -> {"partitions": [{service, account_id, region, findings, calls, pages, errors, returned,
    requests: [{operation, filters, sort, max_results, token, status, returned}] (last 200)}],
    "disabled": [[service, account_id, region], ...]}
``findings/reset``  {} -> {"reset": true}: clears every finding, rule and counter. The generic
    reset (``Emulator.reset()``, i.e. POST /_emulator/reset) calls every control route whose last
    path segment is ``reset``, so this one; in-process code may call ``FindingsStore.reset()``
    (``install`` returns the store and sets it as ``app.findings_store``).

Python helpers for tests and seeding (parent process, over HTTP with ``requests``):
:func:`load_findings`, :func:`generate_findings`, :func:`update_findings`, :func:`set_enabled`,
:func:`fail_after_pages`, :func:`findings_stats`, :func:`reset_findings`; and the pure
``generated_findings(service, account_id, region, count, *, start, end, seed=0,
aws_account_ids=None)`` (and its streaming twin :func:`iter_generated_findings`) to recompute
generated findings locally; :func:`findings_digest` compares them with ``generate``'s summary.

Scale: entries keep the finding's JSON bytes (serialized once) plus a few filter fields, and an
index sorted by (UpdatedAt, key). Security Hub pages sorted by UpdatedAt bisect to the window
and the cursor and scan from there; other orders are computed once per (query, data version)
and cached, later pages bisect into them. 200,000 generated findings take ~10 s to generate
here; a page then costs ~1 ms in the emulator (botocore's parsing of a 100-finding page is
~40 ms, the real bottleneck of a client).
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from aws_emulator.handlers import AwsRequest, AwsResponse, EmulatorApp

try:  # msgspec comes with singer-sdk[msgspec]; json is the fallback
    import msgspec

    _encode: Callable[[Any], bytes] = msgspec.json.encode
    _decode: Callable[[bytes], Any] = msgspec.json.decode
except ImportError:  # pragma: no cover

    def _encode(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    _decode = json.loads

SECURITYHUB = "securityhub"
INSPECTOR2 = "inspector2"
SERVICES = (SECURITYHUB, INSPECTOR2)
_HISTORY = 200
_CACHE_SIZE = 4


class FindingsError(Exception):
    """An AWS error answer."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def _error_response(service: str, err: FindingsError) -> AwsResponse:
    if service == SECURITYHUB:
        payload: dict[str, Any] = {"Code": err.code, "Message": err.message}
    else:
        payload = {"message": err.message, **err.extra}
    payload["__type"] = err.code
    return AwsResponse(
        err.status,
        json.dumps(payload).encode(),
        {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": err.code,
            "x-amzn-RequestId": str(uuid.uuid4()),
        },
    )


def _invalid(service: str, message: str) -> FindingsError:
    if service == SECURITYHUB:
        return FindingsError(400, "InvalidInputException", message)
    return FindingsError(400, "ValidationException", message, reason="FIELD_VALIDATION_FAILED")


# --------------------------------------------------------------------------- time helpers


def parse_time_us(value: Any) -> int:
    """ISO 8601 string (``Z``/offset/naive=UTC) or epoch seconds number -> epoch microseconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return round(value * 1_000_000)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_DAY_PREFIX: dict[int, str] = {}


def iso_from_us(us: int) -> str:
    """Epoch microseconds -> ``2024-01-02T03:04:05.678Z`` (milliseconds, as Security Hub;
    microseconds when the value has them)."""
    days, rem = divmod(us, 86_400_000_000)
    prefix = _DAY_PREFIX.get(days)
    if prefix is None:
        prefix = _DAY_PREFIX[days] = (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT")
    secs, frac = divmod(rem, 1_000_000)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    if frac % 1000:
        return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{frac:06d}Z"
    return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{frac // 1000:03d}Z"


def epoch_from_us(us: int) -> float | int:
    """Epoch microseconds -> epoch seconds number (rest-json timestamp on the wire)."""
    if us % 1_000_000 == 0:
        return us // 1_000_000
    return us / 1_000_000


# --------------------------------------------------------------------------- generation

_SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_SEV_NORMALIZED = {"INFORMATIONAL": 0, "LOW": 20, "MEDIUM": 50, "HIGH": 75, "CRITICAL": 95}
_WORKFLOW_STATE = {
    "NEW": "NEW",
    "NOTIFIED": "ASSIGNED",
    "RESOLVED": "RESOLVED",
    "SUPPRESSED": "DEFERRED",
}


def _table(*weighted: tuple[str, int]) -> tuple[str, ...]:
    """A 100-slot lookup table for a weighted choice from 7 random bits."""
    out: list[str] = []
    for value, weight in weighted:
        out.extend([value] * weight)
    assert len(out) == 100
    return tuple(out)


_SEV_TABLE = _table(
    ("INFORMATIONAL", 10), ("LOW", 25), ("MEDIUM", 35), ("HIGH", 20), ("CRITICAL", 10)
)
_WORKFLOW_TABLE = _table(("NEW", 50), ("NOTIFIED", 20), ("RESOLVED", 20), ("SUPPRESSED", 10))
_RECORD_TABLE = _table(("ACTIVE", 80), ("ARCHIVED", 20))
_COMPLIANCE_TABLE = _table(("PASSED", 30), ("FAILED", 50), ("WARNING", 10), ("NOT_AVAILABLE", 10))
_I2_STATUS_TABLE = _table(("ACTIVE", 70), ("SUPPRESSED", 10), ("CLOSED", 20))
_FIX_TABLE = _table(("YES", 60), ("NO", 30), ("PARTIAL", 10))
_CONTROLS = (
    ("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)"),
    ("S3.1", "S3 general purpose buckets should have block public access settings enabled"),
    ("IAM.6", "Hardware MFA should be enabled for the root user"),
    ("EC2.2", "VPC default security groups should not allow inbound or outbound traffic"),
    ("ECR.1", "ECR private repositories should have image scanning configured"),
)
_PACKAGES = (
    ("openssl", "3.0.7", "3.0.13", "OS"),
    ("glibc", "2.26", "2.26-64", "OS"),
    ("log4j-core", "2.14.1", "2.17.1", "JAR"),
    ("requests", "2.25.0", "2.31.0", "PYTHONPKG"),
    ("lodash", "4.17.15", "4.17.21", "NODEPKG"),
    ("curl", "7.79.1", "8.4.0", "OS"),
)
_GUARDDUTY_TYPES = (
    "Recon:EC2/PortProbeUnprotectedPort",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
)
_FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
_CVSS_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
_DAY = 86_400_000_000
_HOUR = 3_600_000_000


class _Bits:
    """A stream of random bits: one ``getrandbits`` call feeds many draws (fast, seeded)."""

    __slots__ = ("n", "rng", "v")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.v = 0
        self.n = 0

    def take(self, nbits: int) -> int:
        if self.n < nbits:
            self.v |= self.rng.getrandbits(2048) << self.n
            self.n += 2048
        x = self.v & ((1 << nbits) - 1)
        self.v >>= nbits
        self.n -= nbits
        return x

    def hex(self, n: int) -> str:
        return f"{self.take(4 * n):0{n}x}"

    def uuid4(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def below(self, n: int) -> int:
        return self.take(40) % n

    def pct(self, table: tuple[str, ...]) -> str:
        return table[self.take(16) % 100]

    def score(self) -> float:
        return (self.take(16) % 91 + 10) / 10  # 1.0 .. 10.0


def _spread(bits: _Bits, count: int, start_us: int, end_us: int) -> list[int]:
    """UpdatedAt values in [start, end] at millisecond precision, with exact ties."""
    lo, span = -(-start_us // 1000), end_us // 1000 - -(-start_us // 1000) + 1
    if span <= 0:
        raise ValueError("no millisecond between start and end")
    out: list[int] = []
    for i in range(count):
        if i % 10 == 9 and out:
            out.append(out[-1])  # deliberate ties: bookmarks must compare >= and use ids
        else:
            out.append((lo + bits.below(span)) * 1000)
    return out


def generated_findings(
    service: str,
    account_id: str,
    region: str,
    count: int,
    *,
    start: Any,
    end: Any,
    seed: int = 0,
    aws_account_ids: Sequence[str] | None = None,
    partition: str = "aws",
) -> list[dict[str, Any]]:
    """The findings ``findings/generate`` stores: a pure, deterministic function.

    ``start``/``end`` bound ``UpdatedAt`` (inclusive; ISO strings, epoch seconds or datetimes;
    millisecond precision). ``aws_account_ids`` spreads the findings' own account (an
    administrator account sees its members' findings); default ``[account_id]``. The same
    arguments give the same findings in any process (``random.Random`` seeded with a string is
    stable across runs and platforms). About 1/10 of the findings share the UpdatedAt of the
    finding before them.
    """
    return [
        f
        for f, _ in iter_generated_findings(
            service,
            account_id,
            region,
            count,
            start=start,
            end=end,
            seed=seed,
            aws_account_ids=aws_account_ids,
            partition=partition,
        )
    ]


def iter_generated_findings(
    service: str,
    account_id: str,
    region: str,
    count: int,
    *,
    start: Any,
    end: Any,
    seed: int = 0,
    aws_account_ids: Sequence[str] | None = None,
    partition: str = "aws",
) -> Iterator[tuple[dict[str, Any], int]]:
    """:func:`generated_findings` one at a time, with each finding's UpdatedAt in epoch µs."""
    if service not in SERVICES:
        raise ValueError(f"service must be one of {SERVICES}, not {service!r}")
    if count < 0:
        raise ValueError("count must be >= 0")
    start_us, end_us = parse_time_us(start), parse_time_us(end)
    if end_us < start_us:
        raise ValueError("end is before start")
    members = [str(a) for a in (aws_account_ids or [account_id])]
    bits = _Bits(random.Random(f"{service}|{account_id}|{region}|{seed}"))
    updated = _spread(bits, count, start_us, end_us)
    make = _asff if service == SECURITYHUB else _inspector
    for i in range(count):
        yield make(bits, i, (members[i % len(members)], region, partition), updated[i]), updated[i]


def _asff(bits: _Bits, i: int, where: tuple[str, str, str], updated_us: int) -> dict[str, Any]:
    account, region, partition = where
    created_us = updated_us - bits.below(30 * 86_400) * 1_000_000
    last_us = max(created_us, updated_us - bits.below(3600) * 1_000_000)
    label = bits.pct(_SEV_TABLE)
    record_state = bits.pct(_RECORD_TABLE)
    workflow = bits.pct(_WORKFLOW_TABLE)
    kind = i % 3
    instance_id = f"i-{bits.hex(17)}"
    ec2 = {
        "Type": "AwsEc2Instance",
        "Id": f"arn:{partition}:ec2:{region}:{account}:instance/{instance_id}",
        "Partition": partition,
        "Region": region,
        "Tags": {"Name": f"web-{i % 50}", "env": ("prod", "dev")[i % 2]},
        "Details": {
            "AwsEc2Instance": {
                "Type": ("t3.micro", "m5.large", "c6i.xlarge")[i % 3],
                "ImageId": f"ami-{bits.hex(17)}",
                "IpV4Addresses": [f"10.{i % 256}.{(i // 256) % 256}.{1 + bits.below(254)}"],
                "VpcId": f"vpc-{bits.hex(17)}",
                "SubnetId": f"subnet-{bits.hex(17)}",
                "LaunchedAt": iso_from_us(created_us - _DAY),
            }
        },
    }
    finding: dict[str, Any] = {"SchemaVersion": "2018-10-08"}
    if kind == 0:  # Security Hub CSPM control finding
        control, title = _CONTROLS[i % len(_CONTROLS)]
        fid = (
            f"arn:{partition}:securityhub:{region}:{account}:subscription/"
            f"aws-foundational-security-best-practices/v/1.0.0/{control}/finding/"
            f"{bits.uuid4()}"
        )
        product_arn = f"arn:{partition}:securityhub:{region}::product/aws/securityhub"
        types = ["Software and Configuration Checks/Industry and Regulatory Standards"]
        finding.update(
            {
                "Id": fid,
                "ProductArn": product_arn,
                "GeneratorId": f"security-control/{control}",
                "AwsAccountId": account,
                "Region": region,
                "Types": types,
                "Title": title,
                "Description": f"This control checks: {title.lower()}.",
                "Remediation": {
                    "Recommendation": {
                        "Text": "For information on how to correct this issue, consult the "
                        "AWS Security Hub controls documentation.",
                        "Url": f"https://docs.aws.amazon.com/console/securityhub/{control}/remediation",
                    }
                },
                "ProductFields": {
                    "RelatedAWSResources:0/name": f"securityhub-{control.lower()}-{bits.hex(8)}",
                    "RelatedAWSResources:0/type": "AWS::Config::ConfigRule",
                    "aws/securityhub/ProductName": "Security Hub",
                    "aws/securityhub/CompanyName": "AWS",
                    "Resources:0/Id": ec2["Id"],
                    "aws/securityhub/FindingId": f"{product_arn}/{fid}",
                },
                "ProductName": "Security Hub",
                "CompanyName": "AWS",
                "Resources": [ec2],
                "Compliance": {
                    "Status": bits.pct(_COMPLIANCE_TABLE),
                    "SecurityControlId": control,
                    "AssociatedStandards": [{"StandardsId": _FSBP}],
                },
                "FindingProviderFields": {
                    "Severity": {"Label": label, "Original": label},
                    "Types": types,
                },
            }
        )
    elif kind == 1:  # Inspector finding imported into Security Hub
        name, version, fixed, manager = _PACKAGES[i % len(_PACKAGES)]
        cve = f"CVE-20{18 + bits.below(7)}-{1000 + bits.below(49000)}"
        fid = f"arn:{partition}:inspector2:{region}:{account}:finding/{bits.hex(32)}"
        product_arn = f"arn:{partition}:securityhub:{region}::product/aws/inspector"
        score = bits.score()
        types = ["Software and Configuration Checks/Vulnerabilities/CVE"]
        finding.update(
            {
                "Id": fid,
                "ProductArn": product_arn,
                "GeneratorId": "AWSInspector",
                "AwsAccountId": account,
                "Region": region,
                "Types": types,
                "Title": f"{cve} - {name}",
                "Description": f"A vulnerability in {name} {version} allows remote attackers to "
                "cause a denial of service.",
                "Remediation": {"Recommendation": {"Text": f"Upgrade {name} to {fixed} or later."}},
                "ProductFields": {
                    "aws/inspector/ProductVersion": "2",
                    "aws/inspector/FindingStatus": "ACTIVE",
                    "aws/inspector/inspectorScore": str(score),
                    "aws/securityhub/ProductName": "Inspector",
                    "aws/securityhub/CompanyName": "Amazon",
                    "aws/securityhub/FindingId": f"{product_arn}/{fid}",
                },
                "ProductName": "Inspector",
                "CompanyName": "Amazon",
                "Resources": [ec2],
                "Vulnerabilities": [
                    {
                        "Id": cve,
                        "VulnerablePackages": [
                            {
                                "Name": name,
                                "Version": version,
                                "Epoch": "0",
                                "Release": "1",
                                "Architecture": "x86_64",
                                "PackageManager": manager,
                                "FixedInVersion": fixed,
                                "Remediation": f"Upgrade to {fixed}",
                            }
                        ],
                        "Cvss": [
                            {
                                "Version": "3.1",
                                "BaseScore": score,
                                "BaseVector": _CVSS_VECTOR,
                                "Source": "NVD",
                            }
                        ],
                        "Vendor": {
                            "Name": "NVD",
                            "Url": f"https://nvd.nist.gov/vuln/detail/{cve}",
                            "VendorSeverity": label,
                            "VendorCreatedAt": iso_from_us(created_us - 90 * _DAY),
                            "VendorUpdatedAt": iso_from_us(created_us - 10 * _DAY),
                        },
                        "ReferenceUrls": [f"https://nvd.nist.gov/vuln/detail/{cve}"],
                        "FixAvailable": bits.pct(_FIX_TABLE),
                        "ExploitAvailable": ("YES", "NO")[bits.take(1)],
                    }
                ],
                "FindingProviderFields": {
                    "Severity": {"Label": label, "Original": label},
                    "Types": types,
                },
            }
        )
    else:  # GuardDuty finding imported into Security Hub
        gd_type = _GUARDDUTY_TYPES[i % len(_GUARDDUTY_TYPES)]
        detector = bits.hex(32)
        fid = (
            f"arn:{partition}:guardduty:{region}:{account}:detector/{detector}/"
            f"finding/{bits.hex(32)}"
        )
        product_arn = f"arn:{partition}:securityhub:{region}::product/aws/guardduty"
        finding.update(
            {
                "Id": fid,
                "ProductArn": product_arn,
                "GeneratorId": f"arn:{partition}:guardduty:{region}:{account}:detector/{detector}",
                "AwsAccountId": account,
                "Region": region,
                "Types": [f"TTPs/{gd_type.split(':')[0]}/{gd_type}"],
                "Title": f"Unusual activity: {gd_type}",
                "Description": f"EC2 instance {instance_id} is behaving in a way that may indicate "
                f"{gd_type}.",
                "SourceUrl": f"https://console.aws.amazon.com/guardduty/home?region={region}",
                "ProductFields": {
                    "aws/guardduty/service/count": str(1 + bits.below(500)),
                    "aws/guardduty/service/archived": "true"
                    if record_state == "ARCHIVED"
                    else "false",
                    "aws/securityhub/ProductName": "GuardDuty",
                    "aws/securityhub/CompanyName": "Amazon",
                    "aws/securityhub/FindingId": f"{product_arn}/{fid}",
                },
                "ProductName": "GuardDuty",
                "CompanyName": "Amazon",
                "Resources": [ec2],
                "FindingProviderFields": {
                    "Severity": {"Label": label, "Original": ("2", "5", "8")[bits.below(3)]},
                    "Types": [f"TTPs/{gd_type}"],
                },
            }
        )
    finding.update(
        {
            "CreatedAt": iso_from_us(created_us),
            "UpdatedAt": iso_from_us(updated_us),
            "FirstObservedAt": iso_from_us(created_us),
            "LastObservedAt": iso_from_us(last_us),
            "Severity": {"Label": label, "Normalized": _SEV_NORMALIZED[label], "Original": label},
            "WorkflowState": _WORKFLOW_STATE[workflow],
            "Workflow": {"Status": workflow},
            "RecordState": record_state,
        }
    )
    return finding


def _inspector(bits: _Bits, i: int, where: tuple[str, str, str], updated_us: int) -> dict[str, Any]:
    account, region, partition = where
    first_us = updated_us - bits.below(60 * 86_400) * 1_000_000
    last_us = max(first_us, updated_us - bits.below(3600) * 1_000_000)
    severity = "UNTRIAGED" if i % 97 == 96 else bits.pct(_SEV_TABLE)
    network = i % 5 == 4
    arn = f"arn:{partition}:inspector2:{region}:{account}:finding/{bits.hex(32)}"
    resource: dict[str, Any]
    if network or i % 2 == 0:
        resource = {
            "type": "AWS_EC2_INSTANCE",
            "id": f"i-{bits.hex(17)}",
            "partition": partition,
            "region": region,
            "tags": {"Name": f"app-{i % 40}"},
            "details": {
                "awsEc2Instance": {
                    "type": ("t3.micro", "m5.large")[bits.take(1)],
                    "imageId": f"ami-{bits.hex(17)}",
                    "ipV4Addresses": [f"10.1.{i % 256}.{1 + bits.below(254)}"],
                    "vpcId": f"vpc-{bits.hex(17)}",
                    "subnetId": f"subnet-{bits.hex(17)}",
                    "launchedAt": epoch_from_us(first_us - _DAY),
                    "platform": "AMAZON_LINUX_2",
                }
            },
        }
    else:
        repo = f"service-{i % 30}"
        digest = f"sha256:{bits.hex(64)}"
        resource = {
            "type": "AWS_ECR_CONTAINER_IMAGE",
            "id": f"arn:{partition}:ecr:{region}:{account}:repository/{repo}/{digest}",
            "partition": partition,
            "region": region,
            "details": {
                "awsEcrContainerImage": {
                    "repositoryName": repo,
                    "imageTags": [f"v{i % 9}.{i % 7}"],
                    "pushedAt": epoch_from_us(first_us - _HOUR),
                    "architecture": "amd64",
                    "imageHash": digest,
                    "registry": account,
                    "platform": "LINUX",
                }
            },
        }
    finding: dict[str, Any] = {
        "findingArn": arn,
        "awsAccountId": account,
        "type": "NETWORK_REACHABILITY" if network else "PACKAGE_VULNERABILITY",
        "severity": severity,
        "firstObservedAt": epoch_from_us(first_us),
        "lastObservedAt": epoch_from_us(last_us),
        "updatedAt": epoch_from_us(updated_us),
        "status": bits.pct(_I2_STATUS_TABLE),
        "resources": [resource],
    }
    if network:
        port = (22, 80, 443, 3389, 5432)[bits.below(5)]
        finding.update(
            {
                "title": f"Port {port} is reachable from an Internet Gateway",
                "description": f"On the instance, port {port} is reachable from an Internet "
                "Gateway.",
                "remediation": {
                    "recommendation": {
                        "text": "Restrict access to the port with security groups or network ACLs.",
                    }
                },
                "networkReachabilityDetails": {
                    "openPortRange": {"begin": port, "end": port},
                    "protocol": "TCP",
                    "networkPath": {
                        "steps": [
                            {
                                "componentId": f"igw-{bits.hex(17)}",
                                "componentType": "AWS::EC2::InternetGateway",
                            },
                            {
                                "componentId": f"sg-{bits.hex(17)}",
                                "componentType": "AWS::EC2::SecurityGroup",
                            },
                        ]
                    },
                },
            }
        )
        return finding
    name, version, fixed, manager = _PACKAGES[i % len(_PACKAGES)]
    cve = f"CVE-20{18 + bits.below(7)}-{1000 + bits.below(49000)}"
    score = bits.score()
    exploit = ("YES", "NO")[bits.take(1)]
    finding.update(
        {
            "title": f"{cve} - {name}",
            "description": f"A flaw in {name} {version} may allow a remote attacker to execute "
            "arbitrary code.",
            "remediation": {
                "recommendation": {
                    "text": f"Upgrade {name} to {fixed}.",
                    "Url": f"https://nvd.nist.gov/vuln/detail/{cve}",
                }
            },
            "inspectorScore": score,
            "inspectorScoreDetails": {
                "adjustedCvss": {
                    "scoreSource": "NVD",
                    "cvssSource": "NVD",
                    "version": "3.1",
                    "score": score,
                    "scoringVector": _CVSS_VECTOR,
                    "adjustments": [],
                }
            },
            "packageVulnerabilityDetails": {
                "vulnerabilityId": cve,
                "vulnerablePackages": [
                    {
                        "name": name,
                        "version": version,
                        "epoch": 0,
                        "release": "1",
                        "arch": "X86_64",
                        "packageManager": manager,
                        "fixedInVersion": fixed,
                        "remediation": f"Upgrade to {fixed}",
                    }
                ],
                "source": "NVD",
                "cvss": [
                    {
                        "baseScore": score,
                        "scoringVector": _CVSS_VECTOR,
                        "version": "3.1",
                        "source": "NVD",
                    }
                ],
                "relatedVulnerabilities": [],
                "sourceUrl": f"https://nvd.nist.gov/vuln/detail/{cve}",
                "vendorSeverity": severity.title(),
                "vendorCreatedAt": epoch_from_us(first_us - 90 * _DAY),
                "vendorUpdatedAt": epoch_from_us(first_us - 5 * _DAY),
                "referenceUrls": [f"https://nvd.nist.gov/vuln/detail/{cve}"],
            },
            "fixAvailable": bits.pct(_FIX_TABLE),
            "exploitAvailable": exploit,
            "epss": {"score": bits.take(16) % 100_000 / 100_000},
        }
    )
    if exploit == "YES":
        finding["exploitabilityDetails"] = {"lastKnownExploitAt": epoch_from_us(first_us - _DAY)}
    return finding


# --------------------------------------------------------------------------- field access


def _path(*keys: str) -> Callable[[dict[str, Any]], list[Any]]:
    def get(f: dict[str, Any]) -> list[Any]:
        cur: Any = f
        for k in keys:
            if not isinstance(cur, dict):
                return []
            cur = cur.get(k)
        if cur is None:
            return []
        return list(cur) if isinstance(cur, list) else [cur]

    return get


def _each(list_key: str, *keys: str) -> Callable[[dict[str, Any]], list[Any]]:
    inner = _path(*keys)

    def get(f: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for item in f.get(list_key) or []:
            if isinstance(item, dict):
                out.extend(inner(item))
        return out

    return get


_SH_STRING: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "Id": _path("Id"),
    "ProductArn": _path("ProductArn"),
    "AwsAccountId": _path("AwsAccountId"),
    "GeneratorId": _path("GeneratorId"),
    "Region": _path("Region"),
    "Title": _path("Title"),
    "Description": _path("Description"),
    "ProductName": _path("ProductName"),
    "CompanyName": _path("CompanyName"),
    "RecordState": _path("RecordState"),
    "WorkflowStatus": _path("Workflow", "Status"),
    "WorkflowState": _path("WorkflowState"),
    "SeverityLabel": _path("Severity", "Label"),
    "ComplianceStatus": _path("Compliance", "Status"),
    "ComplianceSecurityControlId": _path("Compliance", "SecurityControlId"),
    "Type": _path("Types"),
    "ResourceType": _each("Resources", "Type"),
    "ResourceId": _each("Resources", "Id"),
    "ResourceRegion": _each("Resources", "Region"),
    "ResourcePartition": _each("Resources", "Partition"),
    "VulnerabilitiesExploitAvailable": _each("Vulnerabilities", "ExploitAvailable"),
    "VulnerabilitiesFixAvailable": _each("Vulnerabilities", "FixAvailable"),
}
_SH_DATE = ("UpdatedAt", "CreatedAt", "FirstObservedAt", "LastObservedAt")
_SH_NUMBER_SORT = {"SeverityNormalized": _path("Severity", "Normalized")}
# fields kept on each entry (no JSON parse needed to filter on them)
_SH_FAST = ("Id", "ProductArn", "AwsAccountId", "RecordState", "WorkflowStatus", "SeverityLabel")

_I2_STRING: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "findingArn": _path("findingArn"),
    "awsAccountId": _path("awsAccountId"),
    "findingType": _path("type"),
    "severity": _path("severity"),
    "findingStatus": _path("status"),
    "title": _path("title"),
    "resourceType": _each("resources", "type"),
    "resourceId": _each("resources", "id"),
    "vulnerabilityId": _path("packageVulnerabilityDetails", "vulnerabilityId"),
    "vulnerabilitySource": _path("packageVulnerabilityDetails", "source"),
    "fixAvailable": _path("fixAvailable"),
    "exploitAvailable": _path("exploitAvailable"),
    "ecrImageRepositoryName": _each(
        "resources", "details", "awsEcrContainerImage", "repositoryName"
    ),
}
_I2_DATE = {
    "updatedAt": "updatedAt",
    "firstObservedAt": "firstObservedAt",
    "lastObservedAt": "lastObservedAt",
}
_I2_FAST = ("findingArn", "awsAccountId", "findingType", "severity", "findingStatus")
_I2_SEVERITY_RANK = {
    "INFORMATIONAL": 0,
    "LOW": 1,
    "MEDIUM": 2,
    "HIGH": 3,
    "CRITICAL": 4,
    "UNTRIAGED": 5,
}
# sortCriteria.field -> (value of a finding, numeric?)
_I2_SORT: dict[str, Callable[[dict[str, Any]], Any]] = {
    "AWS_ACCOUNT_ID": lambda f: f.get("awsAccountId"),
    "FINDING_TYPE": lambda f: f.get("type"),
    "SEVERITY": lambda f: _I2_SEVERITY_RANK.get(f.get("severity", ""), -1),
    "FIRST_OBSERVED_AT": lambda f: f.get("firstObservedAt"),
    "LAST_OBSERVED_AT": lambda f: f.get("lastObservedAt"),
    "FINDING_STATUS": lambda f: f.get("status"),
    "RESOURCE_TYPE": lambda f: next(iter(_each("resources", "type")(f)), None),
    "VULNERABILITY_ID": lambda f: (f.get("packageVulnerabilityDetails") or {}).get(
        "vulnerabilityId"
    ),
    "INSPECTOR_SCORE": lambda f: f.get("inspectorScore"),
    "EPSS_SCORE": lambda f: (f.get("epss") or {}).get("score"),
}
# the enum botocore's model knows (anything else, e.g. UPDATED_AT, is rejected by AWS)
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


class Entry:
    """One stored finding: its JSON bytes plus the few attributes queries need often."""

    __slots__ = ("data", "fast", "key", "updated_us")

    def __init__(
        self, key: tuple[str, ...], updated_us: int, data: bytes, fast: tuple[tuple[Any, ...], ...]
    ) -> None:
        self.key = key
        self.updated_us = updated_us
        self.data = data
        self.fast = fast

    def finding(self) -> dict[str, Any]:
        result: dict[str, Any] = _decode(self.data)
        return result


def _one(v: Any) -> tuple[Any, ...]:
    return () if v is None else (v,)


def _sh_fast(f: dict[str, Any]) -> tuple[tuple[Any, ...], ...]:
    """Values of ``_SH_FAST`` fields (same as the generic getters, without their overhead)."""
    wf, sev = f.get("Workflow"), f.get("Severity")
    return (
        (f["Id"],),
        (f["ProductArn"],),
        _one(f.get("AwsAccountId")),
        _one(f.get("RecordState")),
        _one(wf.get("Status") if isinstance(wf, dict) else None),
        _one(sev.get("Label") if isinstance(sev, dict) else None),
    )


def _i2_fast(f: dict[str, Any]) -> tuple[tuple[Any, ...], ...]:
    """Values of ``_I2_FAST`` fields."""
    return (
        (f["findingArn"],),
        _one(f.get("awsAccountId")),
        _one(f.get("type")),
        _one(f.get("severity")),
        _one(f.get("status")),
    )


def _make_entry(service: str, finding: dict[str, Any], updated_us: int | None = None) -> Entry:
    """Validate and serialize one finding (``updated_us``: its UpdatedAt when already known)."""
    if not isinstance(finding, dict):
        raise ValueError("a finding must be a JSON object")
    if service == SECURITYHUB:
        for k in ("Id", "ProductArn", "UpdatedAt"):
            if not finding.get(k):
                raise ValueError(f"Security Hub finding without {k}: {str(finding)[:200]}")
        updated = parse_time_us(finding["UpdatedAt"]) if updated_us is None else updated_us
        key: tuple[str, ...] = (finding["Id"], finding["ProductArn"])
        fast = _sh_fast(finding)
    else:
        for k in ("findingArn", "updatedAt"):
            if not finding.get(k):
                raise ValueError(f"Inspector2 finding without {k}: {str(finding)[:200]}")
        if any(isinstance(finding.get(k), str) for k in _I2_TIMES):
            finding = dict(finding)
            for k in _I2_TIMES:  # ISO accepted on load; epoch seconds on the wire
                if isinstance(finding.get(k), str):
                    finding[k] = epoch_from_us(parse_time_us(finding[k]))
        updated = parse_time_us(finding["updatedAt"]) if updated_us is None else updated_us
        key = (finding["findingArn"],)
        fast = _i2_fast(finding)
    return Entry(key, updated, _encode(finding), fast)


_I2_TIMES = ("updatedAt", "firstObservedAt", "lastObservedAt")


# --------------------------------------------------------------------------- queries


class _Rev:
    """Reverses the order of a value inside a sort key (mixed asc/desc criteria)."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Rev) -> bool:
        return bool(other.v < self.v)

    def __gt__(self, other: _Rev) -> bool:
        return bool(other.v > self.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v

    def __hash__(self) -> int:
        return hash(self.v)


def _norm(v: Any) -> list[Any]:
    # None sorts first; a list keeps JSON round trips (tokens) equal to the computed key
    return [0] if v is None else [1, v]


class Query:
    """A parsed request: predicates, an UpdatedAt window, an order. Hashable by ``signature``."""

    def __init__(self) -> None:
        self.window: tuple[int, int] | None = None  # UpdatedAt bounding window, inclusive
        self.predicates: list[Callable[[Entry, dict[str, Any] | None], bool]] = []
        self.needs_json = False
        self.sort: list[tuple[str, bool]] = []  # (field, descending)
        self.signature = ""


def _string_predicate(
    field: str,
    conds: list[tuple[str, str]],
    fast_index: int | None,
    getter: Callable[[dict[str, Any]], list[Any]],
) -> Callable[[Entry, dict[str, Any] | None], bool]:
    pos = [(c, v) for c, v in conds if c in ("EQUALS", "PREFIX", "CONTAINS", "CONTAINS_WORD")]
    neg = [(c, v) for c, v in conds if c not in ("EQUALS", "PREFIX", "CONTAINS", "CONTAINS_WORD")]

    def match(c: str, value: str, actual: str) -> bool:
        if c in ("EQUALS", "NOT_EQUALS"):
            return actual == value
        if c in ("PREFIX", "PREFIX_NOT_EQUALS"):
            return actual.startswith(value)
        if c == "CONTAINS_WORD":
            return value in actual.split()
        return value in actual  # CONTAINS, NOT_CONTAINS

    def pred(entry: Entry, finding: dict[str, Any] | None) -> bool:
        if fast_index is not None:
            values = entry.fast[fast_index]
        else:
            assert finding is not None
            values = tuple(getter(finding))
        actuals = [str(v) for v in values]
        if pos and not any(match(c, v, a) for c, v in pos for a in actuals):
            return False
        return all(not match(c, v, a) for c, v in neg for a in actuals)

    return pred


def _date_predicate(
    ranges: list[tuple[int | None, int | None]],
    getter: Callable[[Entry, dict[str, Any] | None], Any],
) -> Callable[[Entry, dict[str, Any] | None], bool]:
    def pred(entry: Entry, finding: dict[str, Any] | None) -> bool:
        raw = getter(entry, finding)
        if raw is None:
            return False
        us = raw if isinstance(raw, int) and getter is _updated_getter else parse_time_us(raw)
        return any((lo is None or us >= lo) and (hi is None or us <= hi) for lo, hi in ranges)

    return pred


def _updated_getter(entry: Entry, finding: dict[str, Any] | None) -> Any:
    return entry.updated_us


def _json_getter(key: str) -> Callable[[Entry, dict[str, Any] | None], Any]:
    def get(entry: Entry, finding: dict[str, Any] | None) -> Any:
        return (finding or {}).get(key)

    return get


def _window(ranges: list[tuple[int | None, int | None]]) -> tuple[int, int]:
    lo = min((r[0] if r[0] is not None else -(2**62)) for r in ranges)
    hi = max((r[1] if r[1] is not None else 2**62) for r in ranges)
    return lo, hi


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def parse_securityhub_query(params: dict[str, Any], now_us: int) -> Query:
    q = Query()
    filters = params.get("Filters") or {}
    if not isinstance(filters, dict):
        raise _invalid(SECURITYHUB, "Filters must be an object")
    for field, conds in sorted(filters.items()):
        if not isinstance(conds, list) or not conds:
            raise _invalid(SECURITYHUB, f"Filters.{field} must be a non-empty list")
        if field in _SH_DATE:
            ranges: list[tuple[int | None, int | None]] = []
            for c in conds:
                try:
                    if c.get("DateRange"):
                        dr = c["DateRange"]
                        if dr.get("Unit", "DAYS") != "DAYS":
                            raise ValueError("DateRange.Unit must be DAYS")
                        ranges.append((now_us - int(dr["Value"]) * 86_400_000_000, now_us))
                    else:
                        start = parse_time_us(c["Start"]) if c.get("Start") else None
                        end = parse_time_us(c["End"]) if c.get("End") else None
                        if start is None and end is None:
                            raise ValueError("a DateFilter needs Start, End or DateRange")
                        ranges.append((start, end))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise _invalid(SECURITYHUB, f"Invalid Filters.{field}: {exc}") from None
            if field == "UpdatedAt":
                lo, hi = _window(ranges)
                if q.window is not None:
                    lo, hi = max(lo, q.window[0]), min(hi, q.window[1])
                q.window = (lo, hi)
                if len(ranges) > 1:  # one range: the index window is exact
                    q.predicates.append(_date_predicate(ranges, _updated_getter))
            else:
                q.needs_json = True
                q.predicates.append(_date_predicate(ranges, _json_getter(field)))
        elif field in _SH_STRING:
            parsed: list[tuple[str, str]] = []
            for c in conds:
                comp = c.get("Comparison") if isinstance(c, dict) else None
                if comp not in (
                    "EQUALS",
                    "NOT_EQUALS",
                    "PREFIX",
                    "PREFIX_NOT_EQUALS",
                    "CONTAINS",
                    "NOT_CONTAINS",
                    "CONTAINS_WORD",
                ):
                    raise _invalid(SECURITYHUB, f"Invalid Comparison in Filters.{field}: {comp}")
                if not isinstance(c.get("Value"), str):
                    raise _invalid(SECURITYHUB, f"Filters.{field} needs a string Value")
                parsed.append((comp, c["Value"]))
            fast = _SH_FAST.index(field) if field in _SH_FAST else None
            if fast is None:
                q.needs_json = True
            q.predicates.append(_string_predicate(field, parsed, fast, _SH_STRING[field]))
        else:
            raise _invalid(SECURITYHUB, f"Filters.{field} is not supported by the emulator")
    sort = params.get("SortCriteria") or [{"Field": "UpdatedAt", "SortOrder": "desc"}]
    if not isinstance(sort, list):
        raise _invalid(SECURITYHUB, "SortCriteria must be a list")
    for s in sort:
        field, order = s.get("Field"), (s.get("SortOrder") or "asc")
        if order not in ("asc", "desc"):
            raise _invalid(SECURITYHUB, f"Invalid SortOrder: {order}")
        if field not in _SH_STRING and field not in _SH_DATE and field not in _SH_NUMBER_SORT:
            raise _invalid(
                SECURITYHUB, f"SortCriteria field {field} is not supported by the emulator"
            )
        if field not in ("UpdatedAt", *_SH_FAST):
            q.needs_json = True
        q.sort.append((field, order == "desc"))
    q.signature = _canon({"f": filters, "s": q.sort})
    return q


def parse_inspector_query(params: dict[str, Any]) -> Query:
    q = Query()
    crit = params.get("filterCriteria") or {}
    if not isinstance(crit, dict):
        raise _invalid(INSPECTOR2, "filterCriteria must be an object")
    for field, conds in sorted(crit.items()):
        if not isinstance(conds, list) or not conds:
            raise _invalid(INSPECTOR2, f"filterCriteria.{field} must be a non-empty list")
        if field in _I2_DATE:
            ranges: list[tuple[int | None, int | None]] = []
            for c in conds:
                try:
                    start = c.get("startInclusive")
                    end = c.get("endInclusive")
                    ranges.append(
                        (
                            None if start is None else parse_time_us(start),
                            None if end is None else parse_time_us(end),
                        )
                    )
                except (ValueError, TypeError, AttributeError) as exc:
                    raise _invalid(INSPECTOR2, f"Invalid filterCriteria.{field}: {exc}") from None
            if field == "updatedAt":
                lo, hi = _window(ranges)
                q.window = (lo, hi)
                if len(ranges) > 1:  # one range: the index window is exact
                    q.predicates.append(_date_predicate(ranges, _updated_getter))
            else:
                q.needs_json = True
                q.predicates.append(_date_predicate(ranges, _json_getter(field)))
        elif field in _I2_STRING:
            parsed: list[tuple[str, str]] = []
            for c in conds:
                comp = c.get("comparison") if isinstance(c, dict) else None
                if comp not in ("EQUALS", "NOT_EQUALS", "PREFIX"):
                    raise _invalid(
                        INSPECTOR2, f"Invalid comparison in filterCriteria.{field}: {comp}"
                    )
                if not isinstance(c.get("value"), str):
                    raise _invalid(INSPECTOR2, f"filterCriteria.{field} needs a string value")
                parsed.append((comp, c["value"]))
            fast = _I2_FAST.index(field) if field in _I2_FAST else None
            if fast is None:
                q.needs_json = True
            q.predicates.append(_string_predicate(field, parsed, fast, _I2_STRING[field]))
        elif field == "inspectorScore":
            bounds = [(c.get("lowerInclusive"), c.get("upperInclusive")) for c in conds]
            q.needs_json = True

            def score_pred(
                e: Entry, f: dict[str, Any] | None, _b: list[tuple[Any, Any]] = bounds
            ) -> bool:
                s = (f or {}).get("inspectorScore")
                return s is not None and any(
                    (lo is None or s >= lo) and (hi is None or s <= hi) for lo, hi in _b
                )

            q.predicates.append(score_pred)
        else:
            raise _invalid(INSPECTOR2, f"filterCriteria.{field} is not supported by the emulator")
    sc = params.get("sortCriteria")
    if sc:
        field, order = sc.get("field"), sc.get("sortOrder")
        if field not in _I2_SORT_ENUM:
            # AWS: only the SortField enum is accepted; updatedAt in particular is not one
            raise FindingsError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{field}' at 'sortCriteria.field' failed to "
                f"satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(_I2_SORT_ENUM)}]",
                reason="FIELD_VALIDATION_FAILED",
                fields=[{"name": "sortCriteria.field", "message": "invalid enum value"}],
            )
        if order not in ("ASC", "DESC"):
            raise _invalid(INSPECTOR2, f"Invalid sortCriteria.sortOrder: {order}")
        if field not in _I2_SORT:
            raise _invalid(
                INSPECTOR2, f"sortCriteria.field {field} is not supported by the emulator"
            )
        q.needs_json = True
        q.sort.append((field, order == "DESC"))
    q.signature = _canon({"f": crit, "s": q.sort})
    return q


# --------------------------------------------------------------------------- partitions


class Partition:
    def __init__(self, service: str, account_id: str, region: str) -> None:
        self.service = service
        self.account_id = account_id
        self.region = region
        self.entries: dict[tuple[str, ...], Entry] = {}
        self.version = 0
        self._index: list[tuple[int, tuple[str, ...]]] = []  # sorted (updated_us, key)
        self._index_us: list[int] = []
        self._index_version = -1
        self._cache: dict[str, tuple[int, list[Any], list[Entry]]] = {}
        # stats and fault rules
        self.calls = 0
        self.pages = 0
        self.errors = 0
        self.returned = 0
        self.requests: list[dict[str, Any]] = []
        self.fail_rule: dict[str, Any] | None = None

    def put(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            self.entries[e.key] = e
        self.version += 1
        self._cache.clear()

    def clear(self) -> None:
        self.entries.clear()
        self.version += 1
        self._cache.clear()

    def index(self) -> tuple[list[tuple[int, tuple[str, ...]]], list[int]]:
        if self._index_version != self.version:
            self._index = sorted((e.updated_us, e.key) for e in self.entries.values())
            self._index_us = [u for u, _ in self._index]
            self._index_version = self.version
        return self._index, self._index_us

    def ordered(self, q: Query) -> tuple[list[Any], list[Entry]]:
        """Matching entries in query order, and their comparable sort keys (cached)."""
        hit = self._cache.get(q.signature)
        if hit is not None and hit[0] == self.version:
            return hit[1], hit[2]
        index, index_us = self.index()
        if q.window is not None:
            lo = bisect.bisect_left(index_us, q.window[0])
            hi = bisect.bisect_right(index_us, q.window[1])
            candidates = [self.entries[k] for _, k in index[lo:hi]]
        else:
            candidates = [self.entries[k] for _, k in index]
        preds = q.predicates
        if preds:
            if q.needs_json:
                matched = []
                for e in candidates:
                    f = e.finding()
                    if all(p(e, f) for p in preds):
                        matched.append(e)
            else:
                matched = [e for e in candidates if all(p(e, None) for p in preds)]
        else:
            matched = candidates
        keys, ordered = self._order(q, matched)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[q.signature] = (self.version, keys, ordered)
        return keys, ordered

    def page_by_updated(
        self, q: Query, size: int, raw: list[Any] | None
    ) -> tuple[list[Entry], list[Any] | None, bool]:
        """One page in (UpdatedAt, key) order straight from the index: bisect to the cursor,
        then scan while the predicates reject (no per-query copy of the partition)."""
        index, index_us = self.index()
        lo, hi = 0, len(index)
        if q.window is not None:
            lo = bisect.bisect_left(index_us, q.window[0])
            hi = bisect.bisect_right(index_us, q.window[1])
        desc = q.sort[0][1]
        cursor: tuple[int, tuple[str, ...]] | None = None
        if raw is not None:
            try:
                cursor = (int(raw[0]), tuple(str(k) for k in raw[1]))
            except (TypeError, ValueError, IndexError):
                cursor = None
            if cursor is None:
                raise _invalid(self.service, "The NextToken provided is invalid.")
        preds, needs_json = q.predicates, q.needs_json
        entries = self.entries
        page: list[Entry] = []
        more = False
        if desc:
            i = hi - 1 if cursor is None else min(hi, bisect.bisect_left(index, cursor)) - 1
            step = -1
        else:
            i = lo if cursor is None else max(lo, bisect.bisect_right(index, cursor))
            step = 1
        while lo <= i < hi:
            e = entries[index[i][1]]
            i += step
            if preds:
                f = e.finding() if needs_json else None
                if not all(p(e, f) for p in preds):
                    continue
            if len(page) == size:
                more = True
                break
            page.append(e)
        last = [page[-1].updated_us, list(page[-1].key)] if page else None
        return page, last, more

    def _order(self, q: Query, matched: list[Entry]) -> tuple[list[Any], list[Entry]]:
        sh = self.service == SECURITYHUB
        if not q.sort:  # Inspector2 default: by findingArn
            ordered = sorted(matched, key=lambda e: e.key)
            return [e.key for e in ordered], ordered  # raw key: list(key)
        descs = {d for _, d in q.sort}

        def raw_key(e: Entry) -> list[Any]:
            f = e.finding()
            parts: list[Any] = []
            for field, _ in q.sort:
                if sh:
                    if field == "UpdatedAt":
                        v: Any = e.updated_us
                    elif field in _SH_DATE:
                        v = parse_time_us(f[field]) if f.get(field) else None
                    elif field in _SH_NUMBER_SORT:
                        vals = _SH_NUMBER_SORT[field](f)
                        v = vals[0] if vals else None
                    else:
                        vals = _SH_STRING[field](f)
                        v = str(vals[0]) if vals else None
                else:
                    v = _I2_SORT[field](f)
                parts.append(_norm(v))
            parts.append(list(e.key))
            return parts

        pairs = [(raw_key(e), e) for e in matched]
        if len(descs) == 1:
            pairs.sort(key=lambda p: p[0], reverse=descs == {True})
        else:
            pairs.sort(key=lambda p: self.comparable(q, p[0]))
        return [p[0] for p in pairs], [p[1] for p in pairs]

    @staticmethod
    def comparable(q: Query, raw: list[Any]) -> Any:
        """A key whose ascending order is the query's order (for bisect)."""
        if not q.sort:
            return tuple(raw)
        descs = [d for _, d in q.sort]
        if len(set(descs)) == 1:
            return raw if not descs[0] else _Rev(raw)
        last_desc = descs[-1]
        out = [(_Rev(p) if d else p) for p, d in zip(raw[:-1], descs, strict=True)]
        out.append(_Rev(raw[-1]) if last_desc else raw[-1])
        return out

    def record(self, entry: dict[str, Any]) -> None:
        self.requests.append(entry)
        if len(self.requests) > _HISTORY:
            del self.requests[: len(self.requests) - _HISTORY]

    def stats(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "account_id": self.account_id,
            "region": self.region,
            "findings": len(self.entries),
            "calls": self.calls,
            "pages": self.pages,
            "errors": self.errors,
            "returned": self.returned,
            "requests": list(self.requests),
        }


def _encode_token(signature: str, raw_key: list[Any]) -> str:
    body = _canon({"q": hashlib.sha256(signature.encode()).hexdigest()[:16], "k": raw_key})
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _decode_token(service: str, token: str, signature: str) -> list[Any]:
    try:
        pad = "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(token + pad))
        raw = body["k"]
        sig_ok = body["q"] == hashlib.sha256(signature.encode()).hexdigest()[:16]
    except (ValueError, KeyError, TypeError):
        sig_ok, raw = False, None
    if not sig_ok or not isinstance(raw, list):
        if service == SECURITYHUB:
            raise FindingsError(400, "InvalidInputException", "The NextToken provided is invalid.")
        raise FindingsError(
            400, "ValidationException", "The provided nextToken is invalid.", reason="OTHER"
        )
    return raw


# --------------------------------------------------------------------------- the store


class FindingsStore:
    """All findings state of one emulator. Thread-safe; one lock (answers are cheap)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self.partitions: dict[tuple[str, str, str], Partition] = {}
        self.disabled: set[tuple[str, str, str]] = set()

    # ---- state
    def reset(self) -> None:
        with self._lock:
            self.partitions.clear()
            self.disabled.clear()

    def partition(self, service: str, account_id: str, region: str) -> Partition:
        if service not in SERVICES:
            raise ValueError(f"service must be one of {SERVICES}, not {service!r}")
        key = (service, str(account_id), region)
        p = self.partitions.get(key)
        if p is None:
            p = self.partitions[key] = Partition(*key)
        return p

    def is_enabled(self, service: str, account_id: str, region: str) -> bool:
        return not ({(service, account_id, region), (service, account_id, "*")} & self.disabled)

    # ---- operations
    def get_findings(self, req: AwsRequest) -> AwsResponse:
        return self._serve(SECURITYHUB, req)

    def list_findings(self, req: AwsRequest) -> AwsResponse:
        return self._serve(INSPECTOR2, req)

    def _serve(self, service: str, req: AwsRequest) -> AwsResponse:
        params = req.params if req.params else (req.json() if req.body else {})
        with self._lock:
            part = self.partition(service, req.account_id, req.region)
            part.calls += 1
            record: dict[str, Any] = {
                "operation": req.operation,
                "filters": params.get("Filters" if service == SECURITYHUB else "filterCriteria"),
                "sort": params.get("SortCriteria" if service == SECURITYHUB else "sortCriteria"),
                "max_results": params.get("MaxResults" if service == SECURITYHUB else "maxResults"),
                "token": bool(params.get("NextToken" if service == SECURITYHUB else "nextToken")),
            }
            try:
                body, returned = self._page(service, part, req, params)
            except FindingsError as err:
                part.errors += 1
                record.update(status=err.status, error=err.code, returned=0)
                part.record(record)
                return _error_response(service, err)
            part.pages += 1
            part.returned += returned
            record.update(status=200, returned=returned)
            part.record(record)
            return AwsResponse(
                200,
                body,
                {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())},
            )

    def _page(
        self, service: str, part: Partition, req: AwsRequest, params: dict[str, Any]
    ) -> tuple[bytes, int]:
        if not self.is_enabled(service, req.account_id, req.region):
            if service == SECURITYHUB:
                raise FindingsError(
                    401,
                    "InvalidAccessException",
                    f"Account {req.account_id} is not subscribed to AWS Security Hub",
                )
            raise FindingsError(
                403,
                "AccessDeniedException",
                "Invoking account does not have access to list findings.",
            )
        rule = part.fail_rule
        if rule is not None and rule["served"] >= rule["pages"]:
            if rule["times"] is not None:
                rule["times"] -= 1
                if rule["times"] <= 0:
                    part.fail_rule = None
            raise FindingsError(
                rule["status"],
                rule["code"],
                rule["message"],
                **({} if service == SECURITYHUB else {"reason": "OTHER"}),
            )
        if service == SECURITYHUB:
            q = parse_securityhub_query(params, round(self._clock() * 1_000_000))
            size = params.get("MaxResults", 100)
            token = params.get("NextToken")
        else:
            q = parse_inspector_query(params)
            size = params.get("maxResults", 50)
            token = params.get("nextToken")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
            raise _invalid(service, f"MaxResults must be between 1 and 100, got {size!r}")
        raw = _decode_token(service, token, q.signature) if token else None
        if q.sort in ([("UpdatedAt", False)], [("UpdatedAt", True)]):
            page, last, more = part.page_by_updated(q, size, raw)
        else:
            keys, ordered = part.ordered(q)
            start = 0
            if raw is not None:
                start = bisect.bisect_right(
                    keys, Partition.comparable(q, raw), key=lambda k: Partition.comparable(q, k)
                )
            page = ordered[start : start + size]
            more = start + size < len(ordered)
            last = keys[start + len(page) - 1] if page else None
        items = b",".join(e.data for e in page)
        name, token_name = (
            ("Findings", "NextToken") if service == SECURITYHUB else ("findings", "nextToken")
        )
        body = b'{"' + name.encode() + b'":[' + items + b"]"
        if more and last is not None:
            body += (
                b',"'
                + token_name.encode()
                + b'":'
                + json.dumps(_encode_token(q.signature, last)).encode()
            )
        if rule is not None:
            rule["served"] += 1
        return body + b"}", len(page)

    # ---- control
    def _target(self, body: dict[str, Any]) -> tuple[str, str, str]:
        try:
            service, account, region = body["service"], str(body["account_id"]), body["region"]
        except KeyError as exc:
            raise ValueError(f"missing {exc.args[0]!r}") from None
        if service not in SERVICES:
            raise ValueError(f"service must be one of {SERVICES}, not {service!r}")
        return service, account, region

    def control_load(self, body: dict[str, Any]) -> dict[str, Any]:
        service, account, region = self._target(body)
        findings = body.get("findings")
        if not isinstance(findings, list):
            raise ValueError("findings must be a list")
        entries = [_make_entry(service, f) for f in findings]
        with self._lock:
            part = self.partition(service, account, region)
            if body.get("replace"):
                part.clear()
            part.put(entries)
            return {"loaded": len(entries), "total": len(part.entries)}

    def control_generate(self, body: dict[str, Any]) -> dict[str, Any]:
        service, account, region = self._target(body)
        digest = hashlib.sha256()
        kept: list[dict[str, Any]] = []
        entries: list[Entry] = []
        for f, updated_us in iter_generated_findings(
            service,
            account,
            region,
            int(body["count"]),
            start=body["start"],
            end=body["end"],
            seed=int(body.get("seed", 0)),
            aws_account_ids=body.get("aws_account_ids"),
            partition=body.get("partition", "aws"),
        ):
            digest.update(_digest_line(service, f))
            entries.append(_make_entry(service, f, updated_us))
            if body.get("return_findings"):
                kept.append(f)
        with self._lock:
            part = self.partition(service, account, region)
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
        service, account, region = self._target(body)
        when = body.get("updated_at")
        updated_us = parse_time_us(when) if when is not None else round(self._clock() * 1e6)
        # Security Hub keeps milliseconds
        if service == SECURITYHUB:
            updated_us -= updated_us % 1000
        with self._lock:
            part = self.partition(service, account, region)
            if body.get("ids") is not None:
                wanted = [str(i) for i in body["ids"]]
                by_id: dict[str, Entry] = {e.key[0]: e for e in part.entries.values()}
                missing = [i for i in wanted if i not in by_id]
                if missing:
                    raise ValueError(f"unknown finding ids: {missing[:5]}")
                chosen = [by_id[i] for i in wanted]
            else:
                count = int(body.get("count", 1))
                keys = sorted(part.entries)
                rng = random.Random(f"update|{body.get('seed', 0)}")
                chosen = [part.entries[k] for k in rng.sample(keys, min(count, len(keys)))]
            new_entries = []
            out = []
            for e in chosen:
                f = e.finding()
                if service == SECURITYHUB:
                    f["UpdatedAt"] = iso_from_us(updated_us)
                    f["LastObservedAt"] = f["UpdatedAt"]
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
                            "Normalized": _SEV_NORMALIZED.get(label, 0),
                        }
                    out.append(
                        {
                            "id": f["Id"],
                            "product_arn": f["ProductArn"],
                            "updated_at": f["UpdatedAt"],
                        }
                    )
                else:
                    f["updatedAt"] = epoch_from_us(updated_us)
                    f["lastObservedAt"] = f["updatedAt"]
                    if body.get("status"):
                        f["status"] = body["status"]
                    if body.get("severity"):
                        f["severity"] = body["severity"]
                    out.append({"id": f["findingArn"], "updated_at": f["updatedAt"]})
                new_entries.append(_make_entry(service, f))
            part.put(new_entries)
        return {"updated": out}

    def control_disable(self, body: dict[str, Any], default: bool = True) -> dict[str, Any]:
        service, account, region = self._target(body)
        disabled = bool(body.get("disabled", default))
        with self._lock:
            if disabled:
                self.disabled.add((service, account, region))
            else:
                self.disabled.discard((service, account, region))
                if region == "*":
                    self.disabled -= {d for d in self.disabled if d[:2] == (service, account)}
        return {"disabled": disabled}

    def control_fail_after_pages(self, body: dict[str, Any]) -> dict[str, Any]:
        service, account, region = self._target(body)
        with self._lock:
            part = self.partition(service, account, region)
            if body.get("pages") is None:
                part.fail_rule = None
                return {"rule": None}
            default_code = (
                "InvalidInputException" if service == SECURITYHUB else "ValidationException"
            )
            times = body.get("times")
            part.fail_rule = {
                "pages": int(body["pages"]),
                "served": 0,
                "code": body.get("code") or default_code,
                "status": int(body.get("status") or 400),
                "message": body.get("message")
                or "The NextToken provided is invalid (emulated failure).",
                "times": None if times is None else int(times),
            }
            return {"rule": dict(part.fail_rule)}

    def control_stats(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            out = []
            for (service, account, region), part in sorted(self.partitions.items()):
                if body.get("service") not in (None, service):
                    continue
                if body.get("account_id") not in (None, account):
                    continue
                if body.get("region") not in (None, region):
                    continue
                out.append(part.stats())
            return {"partitions": out, "disabled": sorted(list(d) for d in self.disabled)}

    def control_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.reset()
        return {"reset": True}


def _digest_line(service: str, f: dict[str, Any]) -> bytes:
    if service == SECURITYHUB:
        return f"{f['Id']}|{f['ProductArn']}|{f['UpdatedAt']}\n".encode()
    return f"{f['findingArn']}|{f['updatedAt']}\n".encode()


def findings_digest(service: str, findings: Iterable[dict[str, Any]]) -> str:
    """sha256 over (id, UpdatedAt) of findings, in the given order: compare server and test."""
    h = hashlib.sha256()
    for f in findings:
        h.update(_digest_line(service, f))
    return h.hexdigest()


# --------------------------------------------------------------------------- install

STORE_ATTRIBUTE = "findings_store"


def install(app: EmulatorApp, store: FindingsStore | None = None) -> FindingsStore:
    """Register this module's operation handlers and control routes (see the module doc)."""
    store = store or FindingsStore()

    def route(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        def handler(body: dict[str, Any]) -> Any:
            try:
                return fn(body)
            except KeyError as exc:  # a missing field is a bad request, not a missing route
                raise ValueError(f"missing field {exc.args[0]!r}") from None

        return handler

    app.add_operation_handler(SECURITYHUB, "GetFindings", store.get_findings)
    app.add_operation_handler(INSPECTOR2, "ListFindings", store.list_findings)
    app.add_control_route("findings/load", route(store.control_load))
    app.add_control_route("findings/generate", route(store.control_generate))
    app.add_control_route("findings/update", route(store.control_update))
    app.add_control_route("findings/disable", route(store.control_disable))
    app.add_control_route(
        "findings/enable", route(lambda b: store.control_disable(b, default=False))
    )
    app.add_control_route("findings/fail_after_pages", route(store.control_fail_after_pages))
    app.add_control_route("findings/stats", route(store.control_stats))
    app.add_control_route("findings/reset", route(store.control_reset))
    with contextlib.suppress(AttributeError):  # in-process code: app.findings_store.reset()
        setattr(app, STORE_ATTRIBUTE, store)
    return store


# --------------------------------------------------------------------------- HTTP helpers


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


def reset_findings(endpoint_url: str) -> None:
    """Clear every finding, rule and counter."""
    _control(endpoint_url, "findings/reset", {})
