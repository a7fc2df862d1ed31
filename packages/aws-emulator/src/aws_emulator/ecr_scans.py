"""ECR image scan findings that moto 5.2.5 cannot serve, answered by the emulator.

moto's ``DescribeImageScanFindings`` returns one canned finding for any scanned image, or a
result loaded through ``/moto-api/static/ecr/scan-finding-results`` that is keyed by the exact
``imageId`` of the call (a call by tag and a call by digest get different answers), and it
ignores ``maxResults`` / ``nextToken``. This handler answers from results loaded through the
control route ``ecr-scans/load`` and pages them like AWS; an image without a loaded result falls
through to moto, which answers ``ScanNotFoundException`` for a never-scanned image (or
``ImageNotFoundException`` / ``RepositoryNotFoundException``).

Control routes (``POST {endpoint}/_emulator/<path>``, JSON body):

``ecr-scans/load``
    ``{"images": [ScanResult, ...]}`` where a ScanResult is ``{"account_id", "region",
    "repository_name", "image_digest", "image_tags": [...], "image_scan_status": {"status",
    "description"}, "image_scan_completed_at": epoch, "vulnerability_source_updated_at": epoch,
    "findings": [basic finding, ...], "enhanced_findings": [enhanced finding, ...]}``. Findings
    are AWS's JSON shapes (timestamps as epoch seconds). Loading an image again replaces it.
``ecr-scans/reset``
    Forget every loaded result.

An image that is ARCHIVED or ACTIVATING (:mod:`aws_emulator.ecr_images`) is answered with
``imageScanStatus.status`` ``IMAGE_ARCHIVED`` and no findings, loaded or not.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_emulator.ecr_images import ImageArchive, moto_image_digest
from aws_emulator.handlers import AwsRequest, AwsResponse, EmulatorApp

LOAD_ROUTE = "ecr-scans/load"
RESET_ROUTE = "ecr-scans/reset"

DEFAULT_MAX_RESULTS = 100  # AWS's default page size for DescribeImageScanFindings
MAX_MAX_RESULTS = 1000

# (registry account, region, repository name, image digest)
ImageKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class _StoredScan:
    image_digest: str
    image_tags: tuple[str, ...]
    status: dict[str, Any]
    completed_at: float | None
    source_updated_at: float | None
    # ("findings" | "enhancedFindings", finding): basic first, then enhanced, as loaded
    items: tuple[tuple[str, dict[str, Any]], ...]
    severity_counts: dict[str, int]


def _error(code: str, message: str, status: int = 400) -> AwsResponse:
    return AwsResponse(
        status,
        json.dumps({"__type": code, "message": message}).encode(),
        {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code},
    )


class EcrScanStore:
    """Loaded scan results and the ``DescribeImageScanFindings`` handler that serves them."""

    def __init__(self, archive: ImageArchive | None = None) -> None:
        self._archive = archive
        self._lock = threading.Lock()
        self._scans: dict[ImageKey, _StoredScan] = {}
        # (account, region, repository, tag) -> digest, for calls that name an image by tag
        self._tags: dict[tuple[str, str, str, str], str] = {}

    # -- control routes -------------------------------------------------------------------

    def load(self, body: Mapping[str, Any]) -> dict[str, Any]:
        images = body.get("images")
        if not isinstance(images, list):
            raise ValueError("ecr-scans/load expects {'images': [...]}")
        parsed = [self._parse(image) for image in images]
        with self._lock:
            for key, scan in parsed:
                old = self._scans.get(key)
                if old is not None:
                    for tag in old.image_tags:
                        self._tags.pop((*key[:3], tag), None)
                self._scans[key] = scan
                for tag in scan.image_tags:
                    self._tags[(*key[:3], tag)] = scan.image_digest
            total = len(self._scans)
        return {"loaded": len(parsed), "images": total}

    def reset(self, _body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        with self._lock:
            self._scans.clear()
            self._tags.clear()
        return {"reset": True}

    @staticmethod
    def _parse(image: Mapping[str, Any]) -> tuple[ImageKey, _StoredScan]:
        try:
            key: ImageKey = (
                str(image["account_id"]),
                str(image["region"]),
                str(image["repository_name"]),
                str(image["image_digest"]),
            )
        except KeyError as missing:
            raise ValueError(f"ecr-scans/load: an image lacks {missing}") from None
        basic = list(image.get("findings") or [])
        enhanced = list(image.get("enhanced_findings") or [])
        items = tuple(("findings", f) for f in basic) + tuple(
            ("enhancedFindings", f) for f in enhanced
        )
        counts = Counter(str(f.get("severity", "UNDEFINED")) for _, f in items)
        return key, _StoredScan(
            image_digest=key[3],
            image_tags=tuple(image.get("image_tags") or ()),
            status=dict(
                image.get("image_scan_status")
                or {"status": "COMPLETE", "description": "The scan was completed successfully."}
            ),
            completed_at=image.get("image_scan_completed_at"),
            source_updated_at=image.get("vulnerability_source_updated_at"),
            items=items,
            severity_counts=dict(sorted(counts.items())),
        )

    # -- the operation handler ------------------------------------------------------------

    def describe_image_scan_findings(self, request: AwsRequest) -> AwsResponse | None:
        params: dict[str, Any] = request.params or request.json() or {}
        registry = str(params.get("registryId") or request.account_id)
        repository = params.get("repositoryName")
        image_id = params.get("imageId") or {}
        if not isinstance(repository, str) or not isinstance(image_id, dict):
            return None  # let moto produce its validation error
        digest = image_id.get("imageDigest")
        tag = image_id.get("imageTag")
        with self._lock:
            if not digest and tag:
                digest = self._tags.get((registry, request.region, repository, tag))
            scan = self._scans.get((registry, request.region, repository, str(digest)))
        archived = self._archived_answer(request, registry, repository, image_id, digest)
        if archived is not None:
            return archived
        if scan is None:
            return None  # not loaded here: moto answers (ScanNotFoundException, ...)

        max_results = params.get("maxResults", DEFAULT_MAX_RESULTS)
        if not isinstance(max_results, int) or not 1 <= max_results <= MAX_MAX_RESULTS:
            return _error(
                "InvalidParameterException",
                "Invalid parameter at 'maxResults' failed to satisfy constraint: "
                f"'Member must have value between 1 and {MAX_MAX_RESULTS}, inclusive'",
            )
        token = params.get("nextToken")
        offset = 0
        if token is not None:
            offset_or_none = _decode_token(token, scan.image_digest)
            if offset_or_none is None or offset_or_none > len(scan.items):
                return _error("InvalidParameterException", "Invalid parameter: nextToken")
            offset = offset_or_none
        page = scan.items[offset : offset + max_results]
        findings: dict[str, Any] = {}
        if scan.completed_at is not None:
            findings["imageScanCompletedAt"] = scan.completed_at
        if scan.source_updated_at is not None:
            findings["vulnerabilitySourceUpdatedAt"] = scan.source_updated_at
        findings["findingSeverityCounts"] = scan.severity_counts
        basic = [f for kind, f in page if kind == "findings"]
        enhanced = [f for kind, f in page if kind == "enhancedFindings"]
        kinds = {kind for kind, _ in scan.items}
        if "findings" in kinds or not kinds:
            findings["findings"] = basic
        if "enhancedFindings" in kinds:
            findings["enhancedFindings"] = enhanced
        shown_id = {"imageDigest": scan.image_digest}
        if tag or scan.image_tags:
            shown_id["imageTag"] = tag or scan.image_tags[0]
        payload: dict[str, Any] = {
            "registryId": registry,
            "repositoryName": repository,
            "imageId": shown_id,
            "imageScanStatus": scan.status,
            "imageScanFindings": findings,
        }
        end = offset + len(page)
        if end < len(scan.items):
            payload["nextToken"] = _encode_token(end, scan.image_digest)
        response = AwsResponse.json(payload)
        response.headers["Content-Type"] = "application/x-amz-json-1.1"
        return response

    def _archived_answer(
        self,
        request: AwsRequest,
        registry: str,
        repository: str,
        image_id: dict[str, Any],
        digest: Any,
    ) -> AwsResponse | None:
        """An ARCHIVED / ACTIVATING image cannot be scanned: status IMAGE_ARCHIVED."""
        if self._archive is None:
            return None
        digest = digest or moto_image_digest(registry, request.region, repository, image_id)
        if not digest:
            return None
        state = self._archive.state((registry, request.region, repository, str(digest)))
        if state.status == "ACTIVE":
            return None
        shown = {"imageDigest": str(digest)}
        if image_id.get("imageTag"):
            shown["imageTag"] = image_id["imageTag"]
        response = AwsResponse.json(
            {
                "registryId": registry,
                "repositoryName": repository,
                "imageId": shown,
                "imageScanStatus": {
                    "status": "IMAGE_ARCHIVED",
                    "description": "The image is archived. Restore the image to scan it.",
                },
                "imageScanFindings": {"findingSeverityCounts": {}},
            }
        )
        response.headers["Content-Type"] = "application/x-amz-json-1.1"
        return response


def _encode_token(offset: int, digest: str) -> str:
    raw = json.dumps({"o": offset, "d": digest[-12:]}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, digest: str) -> int | None:
    if not isinstance(token, str):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("d") != digest[-12:]:
        return None
    offset = data.get("o")
    return offset if isinstance(offset, int) and offset >= 0 else None


def install(
    app: EmulatorApp, store: EcrScanStore | None = None, archive: ImageArchive | None = None
) -> EcrScanStore:
    """Register the ``DescribeImageScanFindings`` handler and the ``ecr-scans/*`` routes."""
    store = store or EcrScanStore(archive)
    app.add_operation_handler(
        "ecr", "DescribeImageScanFindings", store.describe_image_scan_findings
    )
    app.add_control_route(LOAD_ROUTE, store.load)
    app.add_control_route(RESET_ROUTE, store.reset)
    return store
