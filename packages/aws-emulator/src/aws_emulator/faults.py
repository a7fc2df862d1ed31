"""Fault configuration and AWS-shaped error responses, per wire protocol.

Every error the wrapper injects is rendered the way the real service renders it, so botocore
parses the same code (and retries the same ones) as against AWS.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aws_emulator.handlers import AwsResponse

# (HTTP status, error code, message) per fault kind and protocol. "json" covers rest-json too.
ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "throttle": {
        "ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
        "query": (400, "Throttling", "Rate exceeded"),
        "json": (400, "ThrottlingException", "Rate exceeded"),
        "rest-xml": (503, "SlowDown", "Please reduce your request rate."),
    },
    "deny": {
        "ec2": (403, "UnauthorizedOperation", "You are not authorized to perform this operation."),
        "query": (403, "AccessDenied", "{caller} is not authorized to perform: {action}"),
        "json": (403, "AccessDeniedException", "{caller} is not authorized to perform: {action}"),
        "rest-xml": (403, "AccessDenied", "Access Denied"),
    },
    # What AWS answers for a region that is not enabled for the account.
    "disabled_region": {
        "ec2": (401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
        "query": (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        "json": (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        "rest-xml": (
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
    },
    # Requests signed with an expired session token.
    "expired_token": {
        "ec2": (400, "RequestExpired", "Request has expired."),
        "query": (403, "ExpiredToken", "The security token included in the request is expired"),
        "json": (
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        "rest-xml": (400, "ExpiredToken", "The provided token has expired."),
    },
}

KNOWN_KEYS = {
    "seed",
    "throttle_rate",
    "throttle_services",
    "latency_ms",
    "deny",
    "disabled_regions",
    "regions",
    "external_ids",
    "deny_assume_role",
    "assume_role_expiration_seconds",
    "s3_bucket_region",
    "max_page_items",
}


def _protocol_family(protocol: str) -> str:
    if protocol in ("json", "rest-json"):
        return "json"
    if protocol in ("ec2", "rest-xml"):
        return protocol
    return "query"


def error_response(protocol: str, code: str, message: str, status: int) -> AwsResponse:
    """An error in the wire format botocore expects for ``protocol``."""
    request_id = str(uuid.uuid4())
    family = _protocol_family(protocol)
    if family == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = (
            "application/json" if protocol == "rest-json" else "application/x-amz-json-1.1"
        )
        return AwsResponse(
            status,
            body,
            {
                "Content-Type": content_type,
                "x-amzn-ErrorType": code,
                "x-amzn-RequestId": request_id,
            },
        )
    code_x, message_x = escape(code), escape(message)
    if family == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{code_x}</Code><Message>{message_x}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    elif family == "rest-xml":
        xml = (
            f"<Error><Code>{code_x}</Code><Message>{message_x}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code_x}</Code>"
            f"<Message>{message_x}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml.encode()
    return AwsResponse(status, body, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id})


def fault_response(kind: str, protocol: str, **fmt: str) -> AwsResponse:
    status, code, message = ERRORS[kind][_protocol_family(protocol)]
    return error_response(protocol, code, message.format(**fmt) if fmt else message, status)


# Inspector2 throttles with HTTP 429 and a Retry-After header (botocore's inspector2 model maps
# ThrottlingException.retryAfterSeconds to it).
INSPECTOR2_RETRY_AFTER_SECONDS = 1


def throttle_response(service: str, protocol: str) -> AwsResponse:
    """The throttling answer of ``service`` (its own status and headers where AWS has them)."""
    if service == "inspector2":
        resp = error_response(protocol, "ThrottlingException", "Rate exceeded", 429)
        resp.headers["Retry-After"] = str(INSPECTOR2_RETRY_AFTER_SECONDS)
        return resp
    return fault_response("throttle", protocol)


def _matches(rule: dict[str, Any], key: str, *values: str) -> bool:
    return key not in rule or rule[key] in values


def throttle_draw(seed: int, key: str, attempt: int) -> float:
    """The random number deciding whether ``attempt`` (0, 1, ...) of ``key`` is throttled."""
    return random.Random(f"{seed}:{key}:{attempt}").random()


@dataclass
class Faults:
    """One fault configuration, replaced as a whole by ``POST /_emulator/faults``."""

    seed: int = 0
    throttle_rate: float = 0.0
    throttle_services: list[str] | None = None
    latency_ms: int = 0
    deny: list[dict[str, str]] = field(default_factory=list)
    disabled_regions: list[dict[str, str]] = field(default_factory=list)
    regions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    deny_assume_role: list[str] = field(default_factory=list)
    assume_role_expiration_seconds: int | None = None
    s3_bucket_region: bool = True
    # The most items any page of a paginated operation serves, whatever page size is asked:
    # lets tests see several pages with a client's realistic page sizes.
    max_page_items: int | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    _attempts: Counter[str] = field(default_factory=Counter, repr=False)
    _attempts_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Faults:
        unknown = set(config) - KNOWN_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
        faults = cls(**config)
        if not 0.0 <= float(faults.throttle_rate) <= 1.0:
            raise ValueError("throttle_rate must be between 0 and 1")
        if faults.max_page_items is not None and int(faults.max_page_items) < 1:
            raise ValueError("max_page_items must be >= 1")
        for rule in faults.disabled_regions:
            if "region" not in rule:
                raise ValueError("every disabled_regions entry needs a region")
        faults.rng = random.Random(faults.seed)
        return faults

    def as_config(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in sorted(KNOWN_KEYS)}

    def should_throttle(self, services: tuple[str, ...], key: str = "") -> bool:
        """Whether to throttle this attempt.

        The draw depends on the seed, the call's ``key`` (service, operation, account, region)
        and how many attempts that key has made: the same sync gets the same throttles however
        its threads interleave.
        """
        if self.throttle_rate <= 0:
            return False
        if self.throttle_services is not None and not set(services) & set(self.throttle_services):
            return False
        with self._attempts_lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        return throttle_draw(self.seed, key, attempt) < self.throttle_rate

    def is_denied(
        self, account: str, region: str, services: tuple[str, ...], operation: str
    ) -> bool:
        return any(
            _matches(rule, "account", account)
            and _matches(rule, "region", region)
            and _matches(rule, "service", *services)
            and _matches(rule, "operation", operation)
            for rule in self.deny
        )

    def is_region_disabled(self, account: str, region: str) -> bool:
        return any(
            rule["region"] == region and _matches(rule, "account", account)
            for rule in self.disabled_regions
        )

    def disabled_region_names(self, account: str) -> set[str]:
        """The regions ``disabled_regions`` rules disable for ``account``."""
        return {
            rule["region"] for rule in self.disabled_regions if _matches(rule, "account", account)
        }

    def regions_for(self, account: str) -> dict[str, list[str]] | None:
        return self.regions.get(account, self.regions.get("*"))

    def expected_external_id(self, role_arn: str) -> str | None:
        return self.external_ids.get(role_arn, self.external_ids.get("*"))

    def assume_role_denied(self, role_arn: str) -> bool:
        return role_arn in self.deny_assume_role or "*" in self.deny_assume_role
