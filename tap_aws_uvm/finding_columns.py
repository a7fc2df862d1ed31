"""The five warehouse columns of every finding stream, one small function per source.

Every finding record carries, beside AWS's own fields (DESIGN.md, "Warehouse columns"):

- ``severity_label``: ``CRITICAL``, ``HIGH``, ``MEDIUM``, ``LOW``, ``INFORMATIONAL`` or
  ``UNTRIAGED``;
- ``severity_score``: the CVSS base score the finding carries (0-10), or null;
- ``vulnerability_ids``: sorted unique CVE / GHSA / vendor ids, ``[]`` when none;
- ``resource_ids``: each affected resource as the asset streams write its ``arn``;
- ``finding_status``: ``ACTIVE``, ``SUPPRESSED`` or ``CLOSED``.

Each source has one function from its AWS finding to these columns: :func:`securityhub`
(ASFF), :func:`ocsf` (Security Hub's OCSF findings, ``GetFindingsV2``), :func:`inspector`
(Inspector2), :func:`ecr_basic` and :func:`ecr_enhanced` (``DescribeImageScanFindings``),
all built on the same helpers. The value sets mapped are botocore's enums: Security Hub
``SeverityLabel``, ``WorkflowStatus``, ``RecordState``; Inspector2 ``Severity``,
``FindingStatus``; ECR ``FindingSeverity`` (its ``UNDEFINED`` is UNTRIAGED); and OCSF's
``severity_id`` / ``status_id`` enums (botocore models the OCSF finding as a document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

SEVERITY_LABELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED")
FINDING_STATUSES = ("ACTIVE", "SUPPRESSED", "CLOSED")
COLUMNS = (
    "severity_label",
    "severity_score",
    "vulnerability_ids",
    "resource_ids",
    "finding_status",
)
ACCOUNT_RESOURCE = "AWS::::Account:"  # Security Hub's Id of an account-level resource
# Values of a source's severity that are not one of SEVERITY_LABELS under another name.
_SEVERITY_ALIASES = {"UNDEFINED": "UNTRIAGED"}  # ECR basic scanning: no severity assigned
# Security Hub sets Label from Normalized when a product sends only Normalized (ASFF
# Severity): 0 INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH, 90-100 CRITICAL.
_NORMALIZED_FLOORS = ((90, "CRITICAL"), (70, "HIGH"), (40, "MEDIUM"), (1, "LOW"))
_BASIC_SCORE_ATTRIBUTES = ("CVSS3_SCORE", "CVSS2_SCORE")  # preferred first

AccountArn = Callable[[str], str | None]


# ---- shared rules ----------------------------------------------------------------------------


def severity_label(value: Any) -> str:
    """One of ``SEVERITY_LABELS``; a missing or unknown severity is ``UNTRIAGED``."""
    label = value.upper() if isinstance(value, str) else ""
    if label in SEVERITY_LABELS:
        return label
    return _SEVERITY_ALIASES.get(label, "UNTRIAGED")


def cvss_score(value: Any) -> float | None:
    """A CVSS base score (a number, or a numeric string as ECR's attributes hold it) in 0-10."""
    kind = type(value)
    if kind is float or kind is int:
        score = float(value)
    elif kind is str:
        try:
            score = float(value)
        except ValueError:
            return None
    else:  # None, booleans, anything else
        return None
    return score if 0.0 <= score <= 10.0 else None


def highest_score(values: Iterable[Any]) -> float | None:
    """The highest valid CVSS base score among ``values``, or None."""
    best: float | None = None
    for value in values:
        score = cvss_score(value)
        if score is not None and (best is None or score > best):
            best = score
    return best


def vulnerability_ids(values: Iterable[Any]) -> list[str]:
    """Sorted unique non-empty ids."""
    ids = set()
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        if text:
            ids.add(text)
    return sorted(ids)


def _status(value: Any) -> str:
    status = value.upper() if isinstance(value, str) else ""
    return status if status in FINDING_STATUSES else "ACTIVE"


def _columns(
    label: str, score: float | None, ids: list[str], resources: list[str], status: str
) -> dict[str, Any]:
    return {
        "severity_label": label,
        "severity_score": score,
        "vulnerability_ids": ids,
        "resource_ids": resources,
        "finding_status": status,
    }


def ec2_instance_arn(partition: str, region: str, account_id: str, instance_id: str) -> str:
    """An instance's ARN as ``ec2_instances`` writes it."""
    return f"arn:{partition}:ec2:{region}:{account_id}:instance/{instance_id}"


class AccountArns:
    """Account id -> the account's ``arn`` as ``accounts`` writes it (Organizations'
    ``arn:<partition>:organizations::<management>:account/o-<org>/<id>``), from the
    ListAccounts answer the sync read; built on first use, once per partition."""

    def __init__(self, listed: Sequence[Mapping[str, Any]] | None) -> None:
        self._listed = listed or ()
        self._by_id: dict[str, str] | None = None

    def __call__(self, account_id: str) -> str | None:
        if self._by_id is None:
            self._by_id = {
                str(a["Id"]): str(a["Arn"]) for a in self._listed if a.get("Id") and a.get("Arn")
            }
        return self._by_id.get(account_id)


# ---- Security Hub (ASFF) ---------------------------------------------------------------------


def securityhub(finding: Mapping[str, Any], account_arn: AccountArn) -> dict[str, Any]:
    """ASFF: ``Severity.Label`` (else from ``Normalized``), the highest
    ``Vulnerabilities[].Cvss[].BaseScore``, ``Vulnerabilities[].Id`` and
    ``RelatedVulnerabilities``, ``Resources[].Id`` (``AWS::::Account:<id>`` becomes the
    account's ``arn`` when the organization was listed), RecordState and ``Workflow.Status``."""
    ids: list[Any] = []
    scores: list[Any] = []
    for vulnerability in finding.get("Vulnerabilities") or ():
        ids.append(vulnerability.get("Id"))
        ids.extend(vulnerability.get("RelatedVulnerabilities") or ())
        scores.extend(cvss.get("BaseScore") for cvss in vulnerability.get("Cvss") or ())
    resources: list[str] = []
    for resource in finding.get("Resources") or ():
        resource_id = _securityhub_resource(resource.get("Id"), account_arn)
        if resource_id and resource_id not in resources:
            resources.append(resource_id)
    return _columns(
        _securityhub_severity(finding.get("Severity") or {}),
        highest_score(scores),
        vulnerability_ids(ids),
        resources,
        _securityhub_status(finding),
    )


def _securityhub_severity(severity: Mapping[str, Any]) -> str:
    label = severity.get("Label")
    if isinstance(label, str) and label.upper() in SEVERITY_LABELS:
        return label.upper()
    normalized = severity.get("Normalized")
    if isinstance(normalized, int | float) and not isinstance(normalized, bool):
        for floor, name in _NORMALIZED_FLOORS:
            if normalized >= floor:
                return name
        return "INFORMATIONAL" if normalized >= 0 else "UNTRIAGED"
    return "UNTRIAGED"


def _securityhub_status(finding: Mapping[str, Any]) -> str:
    workflow = (finding.get("Workflow") or {}).get("Status")
    if finding.get("RecordState") == "ARCHIVED" or workflow == "RESOLVED":
        return "CLOSED"
    return "SUPPRESSED" if workflow == "SUPPRESSED" else "ACTIVE"


def _securityhub_resource(resource_id: Any, account_arn: AccountArn) -> str | None:
    if not isinstance(resource_id, str) or not resource_id:
        return None
    if resource_id.startswith(ACCOUNT_RESOURCE):
        return account_arn(resource_id[len(ACCOUNT_RESOURCE) :]) or resource_id
    return resource_id


# ---- Security Hub (OCSF, GetFindingsV2) ------------------------------------------------------

# OCSF severity_id: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal,
# 99 Other. Fatal is CRITICAL; Unknown, Other and anything else UNTRIAGED.
OCSF_SEVERITY_LABELS = {
    1: "INFORMATIONAL",
    2: "LOW",
    3: "MEDIUM",
    4: "HIGH",
    5: "CRITICAL",
    6: "CRITICAL",
}
# OCSF status_id: 0 Unknown, 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 5 Archived,
# 6 Deleted, 99 Other. Suppressed is SUPPRESSED; Resolved, Archived, Deleted CLOSED; else ACTIVE.
OCSF_STATUSES = {3: "SUPPRESSED", 4: "CLOSED", 5: "CLOSED", 6: "CLOSED"}
OCSF_EC2_INSTANCE = "AWS::EC2::Instance"


def ocsf(
    finding: Mapping[str, Any], account_arn: AccountArn, *, partition: str, region: str
) -> dict[str, Any]:
    """OCSF: ``severity_id``, the highest ``vulnerabilities[].cve.cvss[].base_score``,
    ``vulnerabilities[].cve.uid`` and ``vulnerabilities[].advisory.uid``, ``resources[].uid``
    (``AWS::::Account:<id>`` becomes the account's ``arn`` when the organization was listed; an
    ``AWS::EC2::Instance`` named by its id becomes the instance ARN) and ``status_id``.
    ``partition`` and ``region`` stand in where a resource does not name its own."""
    ids: list[Any] = []
    scores: list[Any] = []
    for vulnerability in _objects(finding.get("vulnerabilities")):
        cve = vulnerability.get("cve")
        if isinstance(cve, Mapping):
            ids.append(cve.get("uid"))
            scores.extend(c.get("base_score") for c in _objects(cve.get("cvss")))
        advisory = vulnerability.get("advisory")
        if isinstance(advisory, Mapping):
            ids.append(advisory.get("uid"))
    owner = ocsf_account_id(finding) or ""
    resources: list[str] = []
    for resource in _objects(finding.get("resources")):
        resource_id = _ocsf_resource(resource, account_arn, partition, region, owner)
        if resource_id and resource_id not in resources:
            resources.append(resource_id)
    return _columns(
        ocsf_severity_label(finding.get("severity_id")),
        highest_score(scores),
        vulnerability_ids(ids),
        resources,
        ocsf_status(finding.get("status_id")),
    )


def ocsf_account_id(finding: Mapping[str, Any]) -> str | None:
    """The finding's own account: ``cloud.account.uid``."""
    return _nested_uid(finding.get("cloud"), "account")


def _nested_uid(parent: Any, name: str) -> str | None:
    child = parent.get(name) if isinstance(parent, Mapping) else None
    uid = child.get("uid") if isinstance(child, Mapping) else None
    return str(uid) if uid else None


def ocsf_severity_label(severity_id: Any) -> str:
    """One of ``SEVERITY_LABELS`` for an OCSF ``severity_id``."""
    return OCSF_SEVERITY_LABELS.get(_ocsf_id(severity_id), "UNTRIAGED")


def ocsf_status(status_id: Any) -> str:
    """One of ``FINDING_STATUSES`` for an OCSF ``status_id``."""
    return OCSF_STATUSES.get(_ocsf_id(status_id), "ACTIVE")


def _ocsf_id(value: Any) -> int:
    return value if type(value) is int else -1  # booleans and strings are not OCSF ids


def _objects(values: Any) -> Iterable[Mapping[str, Any]]:
    """The objects of a list in a free-form document (anything else is skipped)."""
    if not isinstance(values, list):
        return ()
    return [v for v in values if isinstance(v, Mapping)]


def _ocsf_resource(
    resource: Mapping[str, Any], account_arn: AccountArn, partition: str, region: str, owner: str
) -> str | None:
    resource_id = _securityhub_resource(resource.get("uid"), account_arn)
    if resource_id is None or resource_id.startswith("arn:"):
        return resource_id
    if resource.get("type") == OCSF_EC2_INSTANCE and resource_id.startswith("i-"):
        owner = _nested_uid(resource.get("owner"), "account") or owner
        if owner:
            return ec2_instance_arn(
                str(resource.get("cloud_partition") or partition),
                str(resource.get("region") or region),
                owner,
                resource_id,
            )
    return resource_id


# ---- Amazon Inspector ------------------------------------------------------------------------


def inspector(
    finding: Mapping[str, Any], *, partition: str, region: str, account_id: str
) -> dict[str, Any]:
    """Inspector2: ``severity``, ``inspectorScore`` (else the highest
    ``packageVulnerabilityDetails.cvss[].baseScore``), ``vulnerabilityId`` and
    ``relatedVulnerabilities``, ``resources[].id`` (an EC2 instance id becomes the instance ARN,
    with the account's ``partition`` and the resource's region, else ``region``), ``status``.
    ``account_id`` stands in when the finding has no ``awsAccountId``."""
    owner = str(finding.get("awsAccountId") or account_id)
    resources: list[str] = []
    for resource in finding.get("resources") or ():
        resource_id = _inspector_resource(resource, partition, region, owner)
        if resource_id and resource_id not in resources:
            resources.append(resource_id)
    return _columns(
        severity_label(finding.get("severity")),
        _inspector_score(finding),
        _package_vulnerability_ids(finding.get("packageVulnerabilityDetails")),
        resources,
        _status(finding.get("status")),
    )


def _inspector_score(finding: Mapping[str, Any]) -> float | None:
    score = cvss_score(finding.get("inspectorScore"))
    if score is not None:
        return score
    return _package_cvss(finding.get("packageVulnerabilityDetails"))


def _package_vulnerability_ids(details: Any) -> list[str]:
    """``vulnerabilityId`` and ``relatedVulnerabilities`` (Inspector's and ECR's shape)."""
    if not details:
        return []
    return vulnerability_ids(
        (details.get("vulnerabilityId"), *(details.get("relatedVulnerabilities") or ()))
    )


def _package_cvss(details: Any) -> float | None:
    if not details:
        return None
    return highest_score(c.get("baseScore") for c in details.get("cvss") or ())


def _inspector_resource(
    resource: Mapping[str, Any], partition: str, region: str, owner: str
) -> str | None:
    resource_id = resource.get("id")
    if not isinstance(resource_id, str) or not resource_id:
        return None
    if resource.get("type") == "AWS_EC2_INSTANCE" and not resource_id.startswith("arn:"):
        return ec2_instance_arn(partition, resource.get("region") or region, owner, resource_id)
    return resource_id  # images, repositories, functions: already their ARN


# ---- Amazon ECR (DescribeImageScanFindings) --------------------------------------------------


def ecr_basic(finding: Mapping[str, Any], image_arn: str) -> dict[str, Any]:
    """A basic-scanning finding: ``severity`` (``UNDEFINED`` is UNTRIAGED), the
    ``CVSS3_SCORE`` attribute (else ``CVSS2_SCORE``), ``name`` (its CVE), the image,
    ACTIVE (basic findings have no status: they are listed while the scan reports them)."""
    attributes = {
        a.get("key"): a.get("value") for a in finding.get("attributes") or () if a.get("key")
    }
    score = next(
        (
            s
            for s in (cvss_score(attributes.get(k)) for k in _BASIC_SCORE_ATTRIBUTES)
            if s is not None
        ),
        None,
    )
    return _columns(
        severity_label(finding.get("severity")),
        score,
        vulnerability_ids([finding.get("name")]),
        [image_arn],
        "ACTIVE",
    )


def ecr_enhanced(finding: Mapping[str, Any], image_arn: str) -> dict[str, Any]:
    """An enhanced-scanning (Amazon Inspector) finding: ``severity``, ``score`` (else the
    highest ``cvss[].baseScore``), ``vulnerabilityId`` and ``relatedVulnerabilities``, the
    image, ``status``."""
    details = finding.get("packageVulnerabilityDetails")
    score = cvss_score(finding.get("score"))
    return _columns(
        severity_label(finding.get("severity")),
        score if score is not None else _package_cvss(details),
        _package_vulnerability_ids(details),
        [image_arn],
        _status(finding.get("status")),
    )
