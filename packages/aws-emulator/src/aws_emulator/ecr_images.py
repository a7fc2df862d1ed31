"""ECR's archive storage class (Nov 2025), which moto 5.2.5 does not have.

- ``DescribeImages`` returns only ACTIVE images unless ``filter.imageStatus`` is given (``ACTIVE``,
  ``ARCHIVED``, ``ACTIVATING`` or ``ANY``); every ``ImageDetail`` carries ``imageStatus``, and
  ``lastArchivedAt`` / ``lastActivatedAt`` once the image was archived / restored. A call naming
  ``imageIds`` is not narrowed by status. (ECR API reference: DescribeImagesFilter, ImageDetail;
  "Archiving an image": archived images "can still be described using describe-images ... The
  image status will be shown as ARCHIVED".) moto's answer is decorated: the wrapper filters and
  annotates each page moto serves, before it splits pages.
- ``UpdateImageStorageClass`` (``targetStorageClass`` ``ARCHIVE`` | ``STANDARD``): ACTIVE ->
  ARCHIVED (``lastArchivedAt`` = now); ARCHIVED -> ACTIVATING (``lastActivatedAt`` = now). AWS
  restores in the background; here an image stays ACTIVATING until ``ecr-images/status`` says
  otherwise. Unknown repository / image: ``RepositoryNotFoundException`` /
  ``ImageNotFoundException``, as moto answers for other calls.
- ``DescribeImageScanFindings`` on an ARCHIVED or ACTIVATING image: "Archived images cannot be
  scanned. Archived images must be restored before they can be scanned" (ECR user guide, image
  scanning); the API's ``ImageScanStatus`` has the status ``IMAGE_ARCHIVED`` and
  ``ImageArchivedException`` ("The specified image is archived and cannot be scanned") is an
  error of ``StartImageScan`` only. So the emulator answers 200 with ``imageScanStatus``
  ``{"status": "IMAGE_ARCHIVED"}`` and no findings (see :mod:`aws_emulator.ecr_scans`).

Control route ``ecr-images/status`` {account_id, region, repository_name, image_digest, status,
last_archived_at?, last_activated_at?} (epoch seconds or ISO) sets an image's status directly;
``ecr-images/reset`` forgets every status (all images ACTIVE again).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from aws_emulator.faults import error_response
from aws_emulator.handlers import AwsRequest, AwsResponse, EmulatorApp
from aws_emulator.times import parse_time_us

STATUSES = ("ACTIVE", "ARCHIVED", "ACTIVATING")
FILTER_VALUES = (*STATUSES, "ANY")
STATUS_ROUTE = "ecr-images/status"
RESET_ROUTE = "ecr-images/reset"

ImageKey = tuple[str, str, str, str]  # (registry, region, repository, digest)


@dataclass
class ImageState:
    status: str = "ACTIVE"
    last_archived_at: float | None = None
    last_activated_at: float | None = None


def _error(code: str, message: str) -> AwsResponse:
    return error_response("json", code, message, 400)


def moto_image_digest(
    registry: str, region: str, repository: str, image_id: Mapping[str, Any]
) -> str | None:
    """The digest of an image named by digest or tag, from moto's backend (same process)."""
    from moto.ecr.models import ecr_backends  # noqa: PLC0415 - moto's state, in the server only

    try:
        repo = ecr_backends[registry][region].repositories.get(repository)
    except KeyError:
        return None
    if repo is None:
        return None
    digest, tag = image_id.get("imageDigest"), image_id.get("imageTag")
    for image in repo.images:
        if (digest and image.get_image_digest() == digest) or (tag and tag in image.image_tags):
            return str(image.get_image_digest())
    return None


class ImageArchive:
    """Image statuses and the ECR calls that read or change them."""

    def __init__(self, clock: Any = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._states: dict[ImageKey, ImageState] = {}

    def state(self, key: ImageKey) -> ImageState:
        with self._lock:
            return self._states.get(key) or ImageState()

    # -- DescribeImages: decorate moto's page
    def decorate_describe_images(self, req: AwsRequest, resp: AwsResponse) -> AwsResponse:
        if resp.status != 200:
            return resp
        params = req.params or {}
        wanted = (params.get("filter") or {}).get("imageStatus", "ACTIVE")
        body = json.loads(resp.body)
        registry = str(params.get("registryId") or req.account_id)
        kept = []
        for detail in body.get("imageDetails", []):
            key = (registry, req.region, detail["repositoryName"], detail["imageDigest"])
            state = self.state(key)
            detail["imageStatus"] = state.status
            if state.last_archived_at is not None:
                detail["lastArchivedAt"] = state.last_archived_at
            if state.last_activated_at is not None:
                detail["lastActivatedAt"] = state.last_activated_at
            if params.get("imageIds") or wanted in ("ANY", state.status):
                kept.append(detail)
        body["imageDetails"] = kept
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "content-length"}
        return AwsResponse(200, json.dumps(body).encode(), headers)

    def describe_images(self, req: AwsRequest) -> AwsResponse | None:
        """Validate ``filter.imageStatus`` (moto does not know it); moto answers the rest."""
        wanted = ((req.params or {}).get("filter") or {}).get("imageStatus")
        if wanted is not None and wanted not in FILTER_VALUES:
            return _error(
                "InvalidParameterException",
                f"Invalid parameter at 'filter.imageStatus' failed to satisfy constraint: "
                f"'Member must satisfy enum value set: [{', '.join(FILTER_VALUES)}]'",
            )
        return None

    # -- UpdateImageStorageClass
    def update_image_storage_class(self, req: AwsRequest) -> AwsResponse:
        params = req.params or {}
        registry = str(params.get("registryId") or req.account_id)
        repository = str(params.get("repositoryName", ""))
        image_id = params.get("imageId") or {}
        target = params.get("targetStorageClass")
        if target not in ("ARCHIVE", "STANDARD"):
            return _error(
                "InvalidParameterException",
                "Invalid parameter at 'targetStorageClass' failed to satisfy constraint: "
                "'Member must satisfy enum value set: [STANDARD, ARCHIVE]'",
            )
        if moto_image_digest(registry, req.region, repository, {}) is None and not _repo_exists(
            registry, req.region, repository
        ):
            return _error(
                "RepositoryNotFoundException",
                f"The repository with name '{repository}' does not exist in the registry with "
                f"id '{registry}'",
            )
        digest = moto_image_digest(registry, req.region, repository, image_id)
        if digest is None:
            return _error(
                "ImageNotFoundException",
                f"The image with imageId {json.dumps(image_id)} does not exist within the "
                f"repository with name '{repository}' in the registry with id '{registry}'",
            )
        key = (registry, req.region, repository, digest)
        with self._lock:
            state = self._states.setdefault(key, ImageState())
            now = float(int(self._clock()))
            if target == "ARCHIVE" and state.status == "ACTIVE":
                state.status, state.last_archived_at = "ARCHIVED", now
            elif target == "STANDARD" and state.status == "ARCHIVED":
                state.status, state.last_activated_at = "ACTIVATING", now
            status = state.status
        shown = {
            "imageDigest": digest,
            **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {}),
        }
        answer = AwsResponse.json(
            {
                "registryId": registry,
                "repositoryName": repository,
                "imageId": shown,
                "imageStatus": status,
            }
        )
        answer.headers["Content-Type"] = "application/x-amz-json-1.1"
        return answer

    # -- control routes
    def control_status(self, body: Mapping[str, Any]) -> dict[str, Any]:
        status = body.get("status")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        key = (
            str(body["account_id"]),
            str(body["region"]),
            str(body["repository_name"]),
            str(body["image_digest"]),
        )

        def epoch(name: str) -> float | None:
            value = body.get(name)
            return None if value is None else parse_time_us(value) / 1_000_000

        with self._lock:
            self._states[key] = ImageState(
                status, epoch("last_archived_at"), epoch("last_activated_at")
            )
            return {"images": len(self._states)}

    def control_reset(self, _body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        with self._lock:
            self._states.clear()
        return {"reset": True}


def _repo_exists(registry: str, region: str, repository: str) -> bool:
    from moto.ecr.models import ecr_backends  # noqa: PLC0415 - moto's state, in the server only

    try:
        return repository in ecr_backends[registry][region].repositories
    except KeyError:
        return False


def install(app: EmulatorApp, archive: ImageArchive | None = None) -> ImageArchive:
    """Register the DescribeImages decoration, UpdateImageStorageClass and the routes."""
    archive = archive or ImageArchive()
    app.add_operation_handler("ecr", "DescribeImages", archive.describe_images)
    app.add_response_decorator("ecr", "DescribeImages", archive.decorate_describe_images)
    app.add_operation_handler("ecr", "UpdateImageStorageClass", archive.update_image_storage_class)
    app.add_control_route(STATUS_ROUTE, archive.control_status)
    app.add_control_route(RESET_ROUTE, archive.control_reset)
    return archive


def set_image_status(
    endpoint_url: str,
    account_id: str,
    region: str,
    repository_name: str,
    image_digest: str,
    *,
    status: str,
    last_archived_at: Any = None,
    last_activated_at: Any = None,
) -> None:
    """Set an image's storage status (ACTIVE, ARCHIVED, ACTIVATING) in a running emulator."""
    response = requests.post(
        f"{endpoint_url.rstrip('/')}/_emulator/{STATUS_ROUTE}",
        json={
            "account_id": account_id,
            "region": region,
            "repository_name": repository_name,
            "image_digest": image_digest,
            "status": status,
            "last_archived_at": last_archived_at,
            "last_activated_at": last_activated_at,
        },
        timeout=60,
    )
    if response.status_code != 200:
        raise RuntimeError(f"{STATUS_ROUTE}: {response.status_code} {response.text[:300]}")
