"""How every AWS call of a sync is paced, retried and bounded, through botocore's event hooks.

botocore's own retries stay off (one attempt per call); these handlers, registered on every
session the tap makes, decide instead:

- **concurrency**: a call holds one of ``max_concurrency`` slots while its HTTP request is in
  flight (``before-send`` takes it, ``response-received`` or ``after-call-error`` gives it
  back), never while it sleeps between attempts;
- **throttling and 5xx**: retried up to ``max_attempts`` with capped exponential back-off and
  full jitter, never sooner than a ``Retry-After`` the service sent (Inspector's 429);
- **connection refused, reset or timed out**: retried with the same back-off until
  ``call_timeout_seconds`` have passed since the call started, then the call fails and the
  partition is ``unreachable``; the first such failure on an endpoint is one WARNING, later
  ones are quiet until it answers again;
- **circuit breaker**: once ``BREAKER_PARTITIONS`` partitions in a row ended unreachable on
  an endpoint, later calls to it fail at once, without a connection attempt;
- **stop**: after ``stop()`` (a signal, a broken pipe, an early end) no request is sent.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

LOGGER = logging.getLogger("tap-aws-uvm")

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "InternalError"})
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 20.0
MAX_RETRY_AFTER_SECONDS = 60.0
BREAKER_PARTITIONS = 3  # unreachable partitions in a row that open an endpoint's breaker
CALL_STARTED = "tap_aws_uvm_call_started"  # request context key: monotonic start of the call


class CallLimiter:
    """At most ``limit`` AWS requests in flight, all streams together."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def acquire(self) -> None:
        self._slots.acquire()

    def release(self) -> None:
        self._slots.release()


class SyncStopped(Exception):
    """The sync is ending (signal, broken pipe, early stop): no new AWS request is sent."""


class EndpointUnreachable(BotoConnectionError):
    """The endpoint's circuit breaker is open: failed without a connection attempt."""

    fmt = "Endpoint {endpoint_url} unreachable ({partitions} partitions in a row); not retried"


class EndpointNotAws(BotoCoreError):
    """The endpoint answered, but not as AWS does (an HTML page: a proxy, a portal, a typo)."""

    fmt = "{endpoint_url} answered HTTP {status} with an HTML page: not an AWS endpoint"


def endpoint_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, the key of an endpoint's breaker."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_connection_failure(exc: BaseException | None) -> bool:
    """Refused, reset or timed out: botocore's connection and HTTP client errors."""
    return isinstance(exc, BotoConnectionError | HTTPClientError)


def _throttled_or_transient(parsed: dict[str, Any]) -> bool:
    code = str((parsed.get("Error") or {}).get("Code") or "")
    status = int((parsed.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return (
        code in THROTTLING_CODES
        or code in TRANSIENT_CODES
        or status == 429
        or status in TRANSIENT_STATUS
    )


def _retry_after(response: Any) -> float:
    """The service's ``Retry-After`` (seconds) on an HTTP response, or 0."""
    http_response = response[0] if isinstance(response, tuple) else None
    headers = getattr(http_response, "headers", None) or {}
    try:
        return min(MAX_RETRY_AFTER_SECONDS, max(0.0, float(headers.get("Retry-After", 0))))
    except (TypeError, ValueError):
        return 0.0


class Breaker:
    """Per endpoint: partitions in a row that ended unreachable; open at ``BREAKER_PARTITIONS``."""

    def __init__(self, partitions: int = BREAKER_PARTITIONS) -> None:
        self._limit = partitions
        self._in_a_row: dict[str, int] = {}
        self._lock = threading.Lock()

    def partition_unreachable(self, endpoint: str) -> None:
        with self._lock:
            self._in_a_row[endpoint] = self._in_a_row.get(endpoint, 0) + 1
            if self._in_a_row[endpoint] == self._limit:
                LOGGER.error(
                    "Endpoint %s unreachable in %d partitions in a row: the remaining "
                    "partitions on it end unreachable without further calls",
                    endpoint,
                    self._limit,
                )

    def answered(self, endpoint: str) -> None:
        if self._in_a_row.get(endpoint):
            with self._lock:
                self._in_a_row[endpoint] = 0

    def is_open(self, endpoint: str) -> bool:
        return self._in_a_row.get(endpoint, 0) >= self._limit

    def count(self, endpoint: str) -> int:
        return self._in_a_row.get(endpoint, 0)


class CallPolicy:
    """The handlers above, for one sync; ``install`` registers them on a session's emitter."""

    def __init__(
        self,
        *,
        limiter: CallLimiter,
        max_attempts: int,
        call_timeout_seconds: float,
        breaker: Breaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.limiter = limiter
        self.max_attempts = max_attempts
        self.call_timeout = call_timeout_seconds
        self.breaker = breaker or Breaker()
        self._clock = clock
        self._rng = rng
        self._held = threading.local()
        self._stopped = threading.Event()
        self._down_since: dict[str, float] = {}  # endpoint -> when it first failed (warned)
        self._warned_lock = threading.Lock()

    def install(self, emitter: Any) -> None:
        emitter.register("before-call", self._before_call, unique_id="tap-aws-uvm-before-call")
        emitter.register_first("before-send", self._before_send, unique_id="tap-aws-uvm-send")
        emitter.register_first(
            "response-received", self._response_received, unique_id="tap-aws-uvm-received"
        )
        emitter.register_first("needs-retry", self._needs_retry, unique_id="tap-aws-uvm-retry")
        emitter.register_first("before-parse", self._before_parse, unique_id="tap-aws-uvm-parse")
        # a call that raised between before-send and response-received (a parse error, an
        # answer that is not AWS) gives its slot back here: every call ends in one of the two
        emitter.register_first(
            "after-call-error", self._response_received, unique_id="tap-aws-uvm-call-error"
        )

    # -- stop -----------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    # -- the concurrency slot ---------------------------------------------------------------------
    def release(self) -> None:
        """Give back this thread's slot if it holds one (idempotent)."""
        if getattr(self._held, "slot", False):
            self._held.slot = False
            self.limiter.release()

    def _acquire(self) -> None:
        if not getattr(self._held, "slot", False):
            self.limiter.acquire()
            self._held.slot = True

    # -- handlers ------------------------------------------------------------------------------
    def _before_call(self, context: dict[str, Any] | None = None, **_: Any) -> None:
        if context is not None:
            context.setdefault(CALL_STARTED, self._clock())

    def _before_send(self, request: Any = None, **_: Any) -> None:
        if self._stopped.is_set():
            raise SyncStopped("the sync is stopping: no new AWS request")
        endpoint = endpoint_of(str(getattr(request, "url", "")))
        self._held.endpoint = endpoint
        if self.breaker.is_open(endpoint):
            raise EndpointUnreachable(
                endpoint_url=endpoint, partitions=self.breaker.count(endpoint)
            )
        self._acquire()
        if self._stopped.is_set():  # it stopped while this thread waited for a slot
            self.release()
            raise SyncStopped("the sync is stopping: no new AWS request")

    def _response_received(self, **_: Any) -> None:
        self.release()

    def _before_parse(self, response_dict: dict[str, Any] | None = None, **_: Any) -> None:
        """AWS answers JSON or XML; an HTML page means the endpoint is something else (its
        body would otherwise reach botocore's parsers, which fail on it in odd ways). The body
        is sniffed, not the Content-Type: moto labels its JSON text/html."""
        body = (response_dict or {}).get("body") or b""
        head = bytes(body[:64]).lstrip().lower() if isinstance(body, bytes | bytearray) else b""
        if head.startswith((b"<!doctype html", b"<html")):
            raise EndpointNotAws(
                endpoint_url=getattr(self._held, "endpoint", "the endpoint"),
                status=(response_dict or {}).get("status_code", "?"),
            )

    def _needs_retry(
        self,
        response: Any = None,
        endpoint: Any = None,
        attempts: int = 1,
        caught_exception: BaseException | None = None,
        request_dict: dict[str, Any] | None = None,
        **_: Any,
    ) -> float | None:
        self.release()
        url = endpoint_of(str(getattr(endpoint, "host", "")))
        context = (request_dict or {}).get("context") or {}
        elapsed = self._clock() - context.get(CALL_STARTED, self._clock())
        if caught_exception is not None:
            if isinstance(caught_exception, SyncStopped | EndpointUnreachable):
                return None
            if not is_connection_failure(caught_exception):
                return None
            self._warn_once(url, caught_exception)
            delay = self._backoff(attempts)
            return delay if elapsed + delay <= self.call_timeout else None
        if response is not None:
            self.breaker.answered(url)
            self._recovered(url, context.get(CALL_STARTED, 0.0))
            parsed = response[1] if isinstance(response, tuple) else {}
            if not _throttled_or_transient(parsed) or attempts >= self.max_attempts:
                return None
            delay = max(self._backoff(attempts), _retry_after(response))
            return delay if elapsed + delay <= self.call_timeout else None
        return None

    def _backoff(self, attempts: int) -> float:
        return self._rng() * min(MAX_BACKOFF_SECONDS, 2.0 ** (attempts - 1))

    def _warn_once(self, endpoint: str, exc: BaseException) -> None:
        with self._warned_lock:
            if endpoint in self._down_since:
                return
            self._down_since[endpoint] = self._clock()
        LOGGER.warning(
            "Cannot reach %s: %s; retrying quietly for up to %gs per call",
            endpoint,
            type(exc).__name__,
            self.call_timeout,
        )

    def _recovered(self, endpoint: str, call_started: float) -> None:
        """An answer to a call made after the endpoint went down: it is up again. (Answers to
        calls already on the wire when it failed prove nothing.)"""
        since = self._down_since.get(endpoint)
        if since is None or call_started <= since:
            return
        with self._warned_lock:
            if self._down_since.pop(endpoint, None) is None:
                return
        LOGGER.info("%s answers again", endpoint)
