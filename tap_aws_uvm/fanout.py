"""Bounded concurrent prefetch of partitions, shared per-partition results, error classification.

singer-sdk consumes streams and partitions one after another on the main thread. Worker
threads run each partition's AWS calls ahead of it and hand back pages of JSON-ready records
through bounded queues; at most ``max_concurrency`` AWS requests are in flight
(``CallLimiter``, held only while a request is on the wire: ``retries.CallPolicy``).
Partitions start in the order the SDK consumes them and at most ``window`` partitions may be
started-but-unconsumed, so memory stays bounded and the queues cannot deadlock: the oldest
unconsumed partition always holds a thread and a window slot.

Whatever stops consumption early (a signal, a broken pipe, singer-sdk's ``--test``, an
exception) calls :meth:`Fanout.close`: every worker sees it at its next page and ends, and
the workers are daemon threads, so a worker still waiting on a hung endpoint never keeps the
process alive.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError, NoCredentialsError

from tap_aws_uvm.coverage import DENIED, DISABLED, FAILED, NOT_ENABLED, UNREACHABLE
from tap_aws_uvm.errors import error_code, error_message
from tap_aws_uvm.retries import CallLimiter, SyncStopped, is_connection_failure

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
# What AWS answers in a region the account has not enabled: disabled only when the account's
# DescribeRegions does not list the region as enabled; in an enabled region, a failure.
REGION_AUTH_CODES = frozenset(
    {"AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId"}
)
OPT_IN_CODES = frozenset({"OptInRequired"})
PAGE_RECORDS = 200  # records per queued page
QUEUE_PAGES = 4  # pages a partition may have waiting for the SDK


def classify(
    exc: BaseException, not_enabled: Iterable[str] = (), *, region_enabled: bool | None = None
) -> tuple[str, str]:
    """(outcome, error code) for an exception raised while reading a partition.

    ``not_enabled`` holds codes (``"InvalidAccessException"``) or a code and a fragment of
    its message (``"AccessDeniedException:does not have access"``) meaning "not enabled".
    ``region_enabled``: whether the account's DescribeRegions lists the partition's region as
    enabled (None: unknown, e.g. DescribeRegions was denied, or a global partition).
    """
    code = error_code(exc)
    for rule in not_enabled:
        rule_code, _, fragment = rule.partition(":")
        if code == rule_code and fragment in error_message(exc):
            return NOT_ENABLED, code
    if isinstance(exc, ClientError):
        if code in DENIED_CODES or code.startswith("AccessDenied"):
            return DENIED, code
        if code in OPT_IN_CODES or (code in REGION_AUTH_CODES and region_enabled is False):
            return DISABLED, code
        return FAILED, code
    if is_connection_failure(exc):
        return UNREACHABLE, code
    if isinstance(exc, NoCredentialsError):
        return DENIED, code
    return FAILED, code


class _Pool:
    """A fixed set of daemon worker threads running submitted calls, in order of submission."""

    def __init__(self, size: int, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._size = size
        self._name = name
        self._started = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, call: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                future.cancel()
                return future
            if self._started < self._size:
                self._started += 1
                threading.Thread(
                    target=self._work, name=f"{self._name}-{self._started}", daemon=True
                ).start()
        self._tasks.put((future, call))
        return future

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, call = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on it
                future.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            started = self._started
        while True:  # cancel what has not started
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _ in range(started):
            self._tasks.put(None)


@dataclass
class PartitionFailure:
    outcome: str
    code: str
    message: str
    exception: BaseException | None = None


_DONE = object()


class PartitionFeed:
    """Pages of one partition, produced by a worker, consumed by the SDK's thread."""

    def __init__(self, ticket: int) -> None:
        self.ticket = ticket
        self.pages: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_PAGES)
        self.failure: PartitionFailure | None = None
        self.records = 0
        self.abandoned = threading.Event()  # the consumer stopped reading it
        self.context: Any = None  # what the producer's caller wants to keep (e.g. its Job)
        self.where: tuple[str, str, str] = ("", "", "")  # stream, account, region

    def fail(self, failure: PartitionFailure) -> None:
        self.failure = failure


class Fanout:
    """The worker pools and the call limiter of one sync."""

    def __init__(
        self,
        max_concurrency: int,
        *,
        window: int | None = None,
        classify_failure: Callable[[BaseException, PartitionFeed], PartitionFailure] | None = None,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.limiter = CallLimiter(max_concurrency)
        self._partitions = _Pool(max_concurrency, "partition")
        self._tasks = _Pool(max_concurrency, "call")
        self._window = window or max(4, 2 * max_concurrency)
        self._consumed = 0
        self._next_ticket = 0
        self._turn = threading.Condition()
        self._closed = threading.Event()
        self._classify = classify_failure or _default_failure

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def room(self) -> int:
        """How many more partitions may start before the oldest unconsumed one is read."""
        return self._window - (self._next_ticket - self._consumed)

    # leaf tasks: single calls spread over the pool (account set-up, describe per item)
    def run_all(self, calls: list[Callable[[], T]]) -> list[T]:
        """Run independent calls concurrently; results in order. Calls must not nest."""
        futures = [self._tasks.submit(call) for call in calls]
        return [future.result() for future in futures]

    def map_ordered(self, call: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
        """``call(item)`` for each item over the pool, yielded in order, a bounded number ahead."""
        pending: list[Future[T]] = []
        for item in items:
            pending.append(self._tasks.submit(functools.partial(call, item)))
            if len(pending) >= self.max_concurrency:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()

    # partitions
    def start_partition(self, produce: Callable[[], Iterator[dict[str, Any]]]) -> PartitionFeed:
        """Queue a partition; partitions must be started in the order they are consumed."""
        feed = PartitionFeed(self._next_ticket)
        self._next_ticket += 1
        self._partitions.submit(lambda: self._run_partition(feed, produce))
        return feed

    def failed_partition(self, failure: PartitionFailure) -> PartitionFeed:
        """A partition known to fail without any call (e.g. a region not enabled)."""
        feed = PartitionFeed(self._next_ticket)
        self._next_ticket += 1
        feed.fail(failure)
        feed.pages.put(_DONE)
        return feed

    def _stopping(self, feed: PartitionFeed) -> bool:
        return self._closed.is_set() or feed.abandoned.is_set()

    def _put(self, feed: PartitionFeed, item: Any) -> bool:
        while not self._stopping(feed):
            try:
                feed.pages.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False

    def _run_partition(
        self, feed: PartitionFeed, produce: Callable[[], Iterator[dict[str, Any]]]
    ) -> None:
        with self._turn:
            while feed.ticket >= self._consumed + self._window and not self._stopping(feed):
                self._turn.wait(timeout=0.5)
        page: list[dict[str, Any]] = []
        try:
            if self._stopping(feed):
                raise SyncStopped("the sync is stopping")
            for record in produce():
                page.append(record)
                if len(page) >= PAGE_RECORDS:
                    if not self._put(feed, page):
                        return
                    page = []
            if page and not self._put(feed, page):
                return
        except Exception as exc:  # noqa: BLE001 - classified, reported and counted by the consumer
            feed.fail(self._classify(exc, feed))
            if page:
                self._put(feed, page)
        self._put(feed, _DONE)

    def consume(
        self, feed: PartitionFeed, on_wait: Callable[[], None] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of a partition, on the consumer's thread; check ``feed.failure`` afterwards.

        ``on_wait`` is called while no page has come (e.g. to log progress). Stopping early
        (the generator closed) abandons the feed, which releases its worker.
        """
        finished = False
        try:
            while True:
                try:
                    item = feed.pages.get(timeout=0.2)
                except queue.Empty:
                    if self._closed.is_set():
                        raise SyncStopped("the sync is stopping") from None
                    if on_wait is not None:
                        on_wait()
                    continue
                if item is _DONE:
                    finished = True
                    return
                feed.records += len(item)
                yield item
        finally:
            if not finished:
                feed.abandoned.set()
            with self._turn:
                self._consumed = max(self._consumed, feed.ticket + 1)
                self._turn.notify_all()

    def close(self) -> None:
        self._closed.set()
        with self._turn:
            self._turn.notify_all()
        self._partitions.close()
        self._tasks.close()


def _default_failure(exc: BaseException, feed: PartitionFeed) -> PartitionFailure:
    outcome, code = classify(exc)
    return PartitionFailure(outcome, code, error_message(exc), exc)


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
                if users > 1:
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
