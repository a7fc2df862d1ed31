"""Bounded concurrent prefetch of partitions, shared per-partition results, error classification.

singer-sdk consumes streams and partitions one after another on the main thread. Worker
threads run each partition's AWS calls ahead of it and hand back pages of JSON-ready records
through bounded queues; at most ``max_concurrency`` AWS calls are in flight (``CallLimiter``).
Partitions start in the order the SDK consumes them and at most ``window`` partitions may be
started-but-unconsumed, so memory stays bounded and the queues cannot deadlock: the oldest
unconsumed partition always holds a thread and a window slot.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from tap_aws_uvm.auth import error_code, error_message
from tap_aws_uvm.coverage import DENIED, DISABLED, FAILED, NOT_ENABLED

LOGGER = logging.getLogger("tap-aws-uvm")
T = TypeVar("T")


DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "UnauthorizedException",
        "AuthorizationErrorException",
        "Forbidden",
    }
)
DISABLED_CODES = frozenset(
    {
        "AuthFailure",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "OptInRequired",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    }
)
PAGE_RECORDS = 200  # records per queued page
QUEUE_PAGES = 4  # pages a partition may have waiting for the SDK


def classify(exc: BaseException, not_enabled: Iterable[str] = ()) -> tuple[str, str]:
    """(outcome, error code) for an exception raised while reading a partition.

    ``not_enabled`` holds codes (``"InvalidAccessException"``) or a code and a fragment of
    its message (``"AccessDeniedException:does not have access"``) meaning "not enabled".
    """
    code = error_code(exc)
    for rule in not_enabled:
        rule_code, _, fragment = rule.partition(":")
        if code == rule_code and fragment in error_message(exc):
            return NOT_ENABLED, code
    if isinstance(exc, ClientError):
        if code in DENIED_CODES or code.startswith("AccessDenied"):
            return DENIED, code
        if code in DISABLED_CODES:
            return DISABLED, code
        return FAILED, code
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return DISABLED, code
    if isinstance(exc, NoCredentialsError):
        return DENIED, code
    return FAILED, code


class CallLimiter(AbstractContextManager["CallLimiter"]):
    """At most ``limit`` AWS calls in flight, all streams together."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def __enter__(self) -> CallLimiter:
        self._slots.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._slots.release()


@dataclass
class PartitionFailure:
    outcome: str
    code: str
    message: str


_DONE = object()


class PartitionFeed:
    """Pages of one partition, produced by a worker, consumed by the SDK's thread."""

    def __init__(self, ticket: int) -> None:
        self.ticket = ticket
        self.pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_PAGES)
        self.failure: PartitionFailure | None = None


class Fanout:
    """The worker pools and the call limiter of one sync."""

    def __init__(self, max_concurrency: int, *, window: int | None = None) -> None:
        self.max_concurrency = max_concurrency
        self.limiter = CallLimiter(max_concurrency)
        self._partitions = ThreadPoolExecutor(max_concurrency, thread_name_prefix="partition")
        self._tasks = ThreadPoolExecutor(max_concurrency, thread_name_prefix="call")
        self._window = window or max(4, 2 * max_concurrency)
        self._consumed = 0
        self._next_ticket = 0
        self._turn = threading.Condition()
        self._closed = threading.Event()

    # leaf tasks: single calls spread over the pool (account set-up, describe per item)
    def run_all(self, calls: list[Callable[[], T]]) -> list[T]:
        """Run independent calls concurrently; results in order. Calls must not nest."""
        futures = [self._tasks.submit(call) for call in calls]
        return [future.result() for future in futures]

    def map_ordered(self, call: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
        """``call(item)`` for each item over the pool, yielded in order, a bounded number ahead."""
        pending: list[Future[T]] = []
        for item in items:
            pending.append(self._tasks.submit(call, item))
            if len(pending) >= self.max_concurrency:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()

    # partitions
    def start_partition(
        self, produce: Callable[[], Iterator[dict[str, Any]]], not_enabled: Iterable[str] = ()
    ) -> PartitionFeed:
        """Queue a partition; partitions must be started in the order they are consumed."""
        feed = PartitionFeed(self._next_ticket)
        self._next_ticket += 1
        self._partitions.submit(self._run_partition, feed, produce, frozenset(not_enabled))
        return feed

    def _put(self, feed: PartitionFeed, item: Any) -> bool:
        while not self._closed.is_set():
            try:
                feed.pages.put(item, timeout=0.5)
            except queue.Full:
                continue
            return True
        return False

    def _run_partition(
        self,
        feed: PartitionFeed,
        produce: Callable[[], Iterator[dict[str, Any]]],
        not_enabled: frozenset[str],
    ) -> None:
        with self._turn:
            while feed.ticket >= self._consumed + self._window and not self._closed.is_set():
                self._turn.wait(timeout=0.5)
        page: list[dict[str, Any]] = []
        try:
            for record in produce():
                page.append(record)
                if len(page) >= PAGE_RECORDS:
                    if not self._put(feed, page):
                        return
                    page = []
            if page and not self._put(feed, page):
                return
        except Exception as exc:  # noqa: BLE001 - classified, reported and counted by the consumer
            outcome, code = classify(exc, not_enabled)
            feed.failure = PartitionFailure(outcome, code, error_message(exc))
            if page:
                self._put(feed, page)
        self._put(feed, _DONE)

    def consume(self, feed: PartitionFeed) -> Iterator[list[dict[str, Any]]]:
        """Pages of a partition, on the consumer's thread; check ``feed.failure`` afterwards."""
        try:
            while True:
                item = feed.pages.get()
                if item is _DONE:
                    return
                yield item
        finally:
            with self._turn:
                self._consumed = max(self._consumed, feed.ticket + 1)
                self._turn.notify_all()

    def close(self) -> None:
        self._closed.set()
        with self._turn:
            self._turn.notify_all()
        self._partitions.shutdown(wait=False, cancel_futures=True)
        self._tasks.shutdown(wait=False, cancel_futures=True)


class _Shared:
    def __init__(self, users: int) -> None:
        self.users = users
        self.ready = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class SharedResults:
    """Results several streams' partitions of one (account, region) need, made once.

    ``expect`` tells, before the partitions start, how many partitions will ask for each key;
    the first to ask makes the value, the others wait for it, and the last one releases it, so
    nothing outlives the partitions that use it. A key nobody announced is made for its caller
    alone and never kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expected: Counter[Any] = Counter()
        self._made: dict[Any, _Shared] = {}

    def expect(self, users: Counter[Any]) -> None:
        with self._lock:
            self._expected.update(users)

    def get(self, key: Any, make: Callable[[], T]) -> T:
        with self._lock:
            shared = self._made.get(key)
            first = shared is None
            if shared is None:
                users = self._expected.pop(key, 0)
                if users <= 1:
                    shared = None
                else:
                    shared = self._made[key] = _Shared(users)
        if shared is None:
            return make()
        if first:
            try:
                shared.value = make()
            except BaseException as exc:
                shared.error = exc
                raise
            finally:
                shared.ready.set()
                self._release(key, shared)
            return shared.value
        shared.ready.wait()
        self._release(key, shared)
        if shared.error is not None:
            raise shared.error
        return shared.value

    def _release(self, key: Any, shared: _Shared) -> None:
        with self._lock:
            shared.users -= 1
            if shared.users <= 0:
                self._made.pop(key, None)
