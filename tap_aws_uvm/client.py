"""``AwsStream`` and ``Job``: the one base that owns partitions, clients, pagination, errors
and shaping, and the one thing a stream's ``fetch`` sees.

A stream is a small class: ``name``, ``primary_keys``, the IAM actions it calls, and a
``fetch(job)`` generator. ``fetch`` runs on a worker thread and sees only its :class:`Job`
(ids, declared inputs, clients, pagination); every singer-sdk call stays on the main thread.
The sync itself (accounts, planning, fan-out, coverage) is ``runtime.Runtime``; streams never
see it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_aws_uvm.auth import Account
from tap_aws_uvm.conform import Conformer
from tap_aws_uvm.errors import error_code
from tap_aws_uvm.fanout import DENIED_CODES
from tap_aws_uvm.records import (
    normalize_timestamp,
    parse_timestamp,
    shape_record,
    utc_timestamp,
)
from tap_aws_uvm.schemagen import load_schema
from tap_aws_uvm.sdk_compat import (
    IndexedPartitionState,
    SelectionAwareRecords,
    quiet_sdk_notices,
)
from tap_aws_uvm.settings import Settings

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_aws_uvm.runtime import Runtime

LOGGER = logging.getLogger("tap-aws-uvm")
T = TypeVar("T")
# singer-sdk's key for a partition's not-yet-final bookmark (its documented state format).
PROGRESS_MARKERS = "progress_markers"
REGIONAL, ACCOUNT, ORGANIZATION = "regional", "account", "organization"


class Calls(Protocol):
    """What a Job needs from the sync to make AWS calls: clients, the slot release, the pool."""

    def client(self, account: Account, service: str, region: str) -> Any: ...

    def bind(self, account: Account) -> AbstractContextManager[None]: ...

    def release(self) -> None: ...

    def map_ordered(self, call: Callable[[Any], Any], items: Any) -> Iterator[Any]: ...

    def shared(self, account: Account, region: str, name: str, make: Callable[[], Any]) -> Any: ...


@dataclass
class Job:
    """What a partition's ``fetch`` may use: its ids, its declared inputs, paced AWS calls.

    Inputs: ``settings`` (read-only), ``params`` (what the stream's ``job_params`` read from
    singer-sdk on the main thread, e.g. a bookmark window), ``account_regions`` (the regions in
    scope for the account: S3 keeps the buckets of those) and ``organization_accounts`` (the
    organization's ListAccounts answer when the sync read it to enter accounts).
    """

    calls: Calls = field(repr=False)
    account: Account = field(repr=False)
    region: str
    settings: Settings = field(repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    synced_at: str | None = None  # the sync's start, on every record
    conformer: Conformer | None = field(default=None, repr=False)  # the stream's schema
    expected_errors: frozenset[str] = frozenset()
    native: bool = False
    account_regions: tuple[str, ...] = ()
    organization_accounts: list[dict[str, Any]] | None = field(default=None, repr=False)
    started_at: dt.datetime | None = None
    # enrichment calls that were denied: IAM action -> (error code, records emitted without it)
    missing_codes: dict[str, tuple[str, int]] = field(default_factory=dict)
    # date-time columns whose AWS value could not be read: column -> values emitted as null
    unparsed: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def missing(self) -> dict[str, int]:
        return {action: count for action, (_, count) in self.missing_codes.items()}

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def partition(self) -> str:
        return self.account.partition

    def client(self, service: str, region: str | None = None) -> Any:
        return self.calls.client(self.account, service, region or self.region)

    def call(self, client: BaseClient, operation: str, **params: Any) -> dict[str, Any] | None:
        """One unpaginated call; ``None`` when AWS answers one of the stream's expected errors.

        Pacing, retries and time limits are the sync's (``retries.CallPolicy``)."""
        try:
            with self.calls.bind(self.account):
                answer: dict[str, Any] = getattr(client, operation)(**params)
            return answer
        except ClientError as exc:
            if error_code(exc) in self.expected_errors:
                return None
            raise
        finally:
            self.calls.release()

    def enrich(self, action: str, records: int, call: Callable[[], T]) -> T | None:
        """An enrichment call (tags, a bucket's region): its answer, or ``None`` when it is
        denied, counted against ``records`` records that go out without it (one WARNING per
        partition and action, by the runtime)."""
        try:
            return call()
        except ClientError as exc:
            code = error_code(exc)
            if code not in DENIED_CODES and not code.startswith("AccessDenied"):
                raise
            with self._lock:  # enrichments run on the fan-out's threads
                seen = self.missing_codes.get(action, (code, 0))[1]
                self.missing_codes[action] = (code, seen + records)
            return None

    def pages(
        self, client: BaseClient, operation: str, *, page_size: int | None, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, with an explicit page size.

        ``page_size=None`` only for the few operations whose pages have no size parameter.
        """
        paginator = client.get_paginator(operation)
        config = {} if page_size is None else {"PageSize": page_size}
        pages = iter(paginator.paginate(**params, PaginationConfig=config))
        while True:
            try:
                with self.calls.bind(self.account):
                    page = next(pages, None)
            except ClientError as exc:
                if error_code(exc) in self.expected_errors:
                    return
                raise
            finally:
                self.calls.release()
            if page is None:
                return
            yield page

    def paginate(
        self,
        client: BaseClient,
        operation: str,
        result_key: str,
        *,
        page_size: int | None,
        **params: Any,
    ) -> Iterator[Any]:
        """Every item under ``result_key`` of every page."""
        for page in self.pages(client, operation, page_size=page_size, **params):
            yield from page.get(result_key) or ()

    def map(self, call: Callable[[Any], Any], items: Any) -> Iterator[Any]:
        """``call(item)`` spread over the fan-out (e.g. one describe per listed item), in order."""
        return self.calls.map_ordered(call, items)

    def shared(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()`` once per (account, region) for every stream that declares ``name`` in
        ``shares``; released once the last of them has used it."""
        return self.calls.shared(self.account, self.region, name, make)

    def timestamp(self, value: Any, column: str) -> str | None:
        """A date-time column in the tap's UTC form; a value that is no date-time becomes null,
        counted (one WARNING per partition and column): a date never fails a partition."""
        if value is None:
            return None
        try:
            return normalize_timestamp(str(value))
        except ValueError:
            with self._lock:
                self.unparsed[column] = self.unparsed.get(column, 0) + 1
            return None

    def arn(
        self,
        service: str,
        resource: str,
        *,
        region: str | None = None,
        account_id: str | None = None,
    ) -> str:
        """An ARN built with the account's real partition."""
        region = self.region if region is None else region
        account_id = self.account_id if account_id is None else account_id
        return f"arn:{self.partition}:{service}:{region}:{account_id}:{resource}"

    def record(self, aws_object: Mapping[str, Any], **columns: Any) -> dict[str, Any]:
        """A record with the standard columns of this partition."""
        columns.setdefault("account_id", self.account_id)
        columns.setdefault("region", self.region)
        columns.setdefault("synced_at", self.synced_at)
        record = shape_record(aws_object, native=self.native, **columns)
        return record if self.conformer is None else self.conformer.fit(record)


class AwsStream(IndexedPartitionState, SelectionAwareRecords, Stream):
    """Base of every stream. Subclasses set the class attributes and write ``fetch``."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # records are JSON-native already

    iam_actions: ClassVar[tuple[str, ...]] = ()
    scope: ClassVar[str] = REGIONAL
    # AWS error codes that are answers, not failures (e.g. ScanNotFoundException: no findings)
    expected_errors: ClassVar[frozenset[str]] = frozenset()
    # AWS error codes meaning the service is not enabled in the partition
    not_enabled_errors: ClassVar[frozenset[str]] = frozenset()
    # True when the record's AWS shape has no timestamp or blob anywhere (a test checks it)
    records_json_native: ClassVar[bool] = False
    # names of per-(account, region) results this stream shares with others (Job.shared)
    shares: ClassVar[tuple[str, ...]] = ()
    # False for the tap's own streams (sync_coverage): no partition, no AWS call
    calls_aws: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and cls.calls_aws and not cls.__dict__.get("iam_actions"):
            msg = f"stream {cls.__name__} must declare the IAM actions it calls (iam_actions)"
            raise TypeError(msg)

    def __init__(self, tap: Tap, runtime: Runtime | None) -> None:
        super().__init__(tap, schema=load_schema(self.name))
        self._runtime = runtime
        # every record fits this schema (conform.py): cheaper than singer-sdk's conformance
        self.conformer = Conformer(self.schema)
        quiet_sdk_notices(self.logger)

    @classmethod
    def required_actions(cls, settings: Settings | None) -> tuple[str, ...]:
        """IAM actions a sync of this stream calls with these settings."""
        return cls.iam_actions

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        # Never: SQL targets would delete every older row of the table, other shards' and
        # denied partitions' rows included (deletion is derived from sync_coverage instead).
        return False

    # partitions: ids only, never credentials
    @property
    @override
    def partitions(self) -> list[dict[str, Any]] | None:
        if self._runtime is None:
            return None
        return self._runtime.partitions_of(self)

    def job_params(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        """Per-partition inputs read from the SDK on the main thread (e.g. a bookmark)."""
        return {}

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        """The records of one partition. Runs on a worker thread."""
        raise NotImplementedError

    @override
    def get_records(self, context: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        if self._runtime is None:
            return
        yield from self._runtime.records(self, context)

    def partition_failed(self, context: Mapping[str, Any] | None) -> None:
        """Called after a failed partition's state was put back as it was before the sync."""

    def partition_succeeded(self, context: Mapping[str, Any], before: Mapping[str, Any]) -> None:
        """Called when a partition was read completely, before singer-sdk finalizes its state."""


class IncrementalFindingsStream(AwsStream):
    """A finding stream with a bookmark per (account, region) on ``updated_at``.

    Findings come unsorted (Inspector cannot sort by updatedAt; Security Hub's lookback re-read
    starts before the bookmark), so singer-sdk keeps progress markers while a partition is read
    and promotes them only when it completes. A failed partition gets its state back as it was
    (``Runtime.records``), and a completed one never moves its bookmark backwards. Each sync
    reads ``UpdatedAt`` from bookmark - ``findings_lookback_minutes`` (or ``start_date``) up to
    the sync's start, so a bookmark never passes the start of the sync that set it.
    """

    replication_key = "updated_at"
    is_sorted = False
    STATE_MSG_FREQUENCY = 1000

    @override
    def job_params(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        assert self._runtime is not None
        settings = self._runtime.settings
        started = self._runtime.started_at
        state = self.get_context_state(dict(context or {}))
        bookmark = state.get("replication_key_value")
        if bookmark and parse_timestamp(bookmark) > started:
            # A hand-edited or merged state, or a host with a skewed clock: reading after it
            # would skip every finding for ever. Forget it before the partition's state is
            # kept (runtime.Runtime.records), so a failure cannot bring it back.
            LOGGER.warning(
                "stream=%s account=%s region=%s: bookmark %s is later than this sync's start "
                "(%s): not trusted, the partition is read from %s",
                self.name,
                (context or {}).get("account_id", "-"),
                (context or {}).get("region", "-"),
                bookmark,
                utc_timestamp(started),
                "start_date" if settings.start_date else "the beginning",
            )
            state.pop("replication_key_value")
            bookmark = None
        since: dt.datetime | None = None
        if bookmark:
            since = parse_timestamp(bookmark) - dt.timedelta(
                minutes=settings.findings_lookback_minutes
            )
        elif settings.start_date:
            since = settings.start_date
        return {"since": since, "until": started}

    @override
    def partition_succeeded(self, context: Mapping[str, Any], before: Mapping[str, Any]) -> None:
        previous = before.get("replication_key_value")
        markers = self.get_context_state(dict(context)).get(PROGRESS_MARKERS) or {}
        newest = markers.get("replication_key_value")
        if previous and newest and parse_timestamp(str(newest)) < parse_timestamp(previous):
            # e.g. the newest finding of the last sync was deleted since: keep the old bookmark
            markers["replication_key_value"] = previous
