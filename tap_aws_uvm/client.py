"""``AwsStream``: the one base that owns partitions, clients, pagination, errors and shaping.

A stream is a small class: ``name``, ``primary_keys``, the IAM actions it calls, and a
``fetch(job)`` generator. ``fetch`` runs on a worker thread and sees only its :class:`Job`
(ids, clients, pagination); every singer-sdk call stays on the main thread.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_aws_uvm.auth import (
    Account,
    AccountEntryError,
    ClientFactory,
    Entry,
    enter_accounts,
    error_code,
    home_region,
)
from tap_aws_uvm.fanout import (
    DENIED,
    FAILED,
    NOT_ENABLED,
    OK,
    Coverage,
    Fanout,
    PartitionFeed,
)
from tap_aws_uvm.records import parse_timestamp, shape_record
from tap_aws_uvm.schemagen import load_schema
from tap_aws_uvm.scope import Scope, resolve_scope
from tap_aws_uvm.settings import Settings

if TYPE_CHECKING:
    from singer_sdk import Tap

LOGGER = logging.getLogger("tap-aws-uvm")
# singer-sdk's key for a partition's not-yet-final bookmark (its documented state format).
PROGRESS_MARKERS = "progress_markers"


def _not_the_unsorted_notice(record: logging.LogRecord) -> bool:
    # singer-sdk warns once per partition of an unsorted stream; our finding streams are
    # unsorted by design and resumable per partition, so the notice would only be noise.
    return "Stream is assumed to be unsorted" not in record.getMessage()


logging.getLogger("singer_sdk").addFilter(_not_the_unsorted_notice)

REGIONAL, ACCOUNT, ORGANIZATION = "regional", "account", "organization"


class FatalError(Exception):
    """The sync cannot go on; the message is one line, safe to print."""


class Job:
    """What a partition's ``fetch`` may use: its ids, clients, and paced AWS calls."""

    def __init__(
        self,
        runtime: Runtime,
        stream: AwsStream,
        account: Account,
        region: str,
        params: Mapping[str, Any],
    ) -> None:
        self.runtime = runtime
        self.account = account
        self.account_id = account.account_id
        self.partition = account.partition
        self.region = region
        self.params = params
        self._expected = stream.expected_errors
        self._native = stream.records_json_native

    def client(self, service: str, region: str | None = None) -> Any:
        return self.runtime.factory.client(self.account.session, service, region or self.region)

    def call(self, client: BaseClient, operation: str, **params: Any) -> dict[str, Any] | None:
        """One unpaginated call; ``None`` when AWS answers one of the stream's expected errors."""
        try:
            with self.runtime.fanout.limiter:
                answer: dict[str, Any] = getattr(client, operation)(**params)
                return answer
        except ClientError as exc:
            if error_code(exc) in self._expected:
                return None
            raise

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
                with self.runtime.fanout.limiter:
                    page = next(pages, None)
            except ClientError as exc:
                if error_code(exc) in self._expected:
                    return
                raise
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
        return self.runtime.fanout.map_ordered(call, items)

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
        return shape_record(aws_object, native=self._native, **columns)


# --- O(1) partition state lookups (issue 8): the one override of singer-sdk's state internals --
# singer-sdk 0.54 finds a partition's state by a linear scan of the stream's "partitions" list
# (helpers._state.get_writeable_state_dict), for every record (increment_state) and several
# times per partition (starting value, finalize, our job_params / snapshot / promotion): at
# 8,000 partitions ~0.6 ms a record, and O(partitions^2) a sync. This manager keeps, beside the
# SDK's own list, a dict from a partition context to its entry's position in that list. The
# state dicts stay the SDK's (get_context_state still returns the live, writable entry that
# progress markers, finalization and Runtime.records use); only the lookup changes. A hit is
# checked against the list itself (the entry at that position must have that context), and
# the index is rebuilt whenever the list was replaced or grew behind its back (load_state,
# the SDK's helpers). Assumed, as singer-sdk and Runtime.records do: an entry is never swapped
# in place for another partition's. Measured: benchmarks/README.md, "state at scale".
from singer_sdk.streams._state import StreamStateManager  # noqa: E402 - kept in this block


def _context_key(context: Mapping[str, Any]) -> Any:
    try:
        return tuple(sorted(context.items()))
    except TypeError:  # unhashable or unorderable values: still one key per equal context
        return json.dumps(context, sort_keys=True, default=str)


class _IndexedStateManager(StreamStateManager):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._positions: dict[Any, int] = {}
        self._indexed: list[dict[str, Any]] | None = None  # the list the positions refer to
        self._indexed_len = 0

    def get_context_state(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        partition = self.get_state_partition_context(dict(context) if context else None)
        if not partition:
            return self.stream_state
        partitions: list[dict[str, Any]] = self.stream_state.setdefault("partitions", [])
        key = _context_key(partition)
        if self._indexed is not partitions or self._indexed_len != len(partitions):
            self._reindex(partitions)
        position = self._positions.get(key)
        if position is not None and partitions[position].get("context") != partition:
            self._reindex(partitions)  # an entry was replaced in place
            position = self._positions.get(key)
        if position is not None:
            return partitions[position]
        partitions.append({"context": dict(partition)})  # as the SDK creates one
        self._positions[key] = len(partitions) - 1
        self._indexed_len = len(partitions)
        return partitions[-1]

    def _reindex(self, partitions: list[dict[str, Any]]) -> None:
        positions: dict[Any, int] = {}
        for position, entry in enumerate(partitions):
            key = _context_key(entry["context"])
            if key in positions:  # the SDK's own error for a duplicated partition
                msg = f"State file contains duplicate entries for partition: {entry['context']}."
                raise ValueError(msg)
            positions[key] = position
        self._positions, self._indexed, self._indexed_len = positions, partitions, len(partitions)


class _IndexedPartitionState:
    """Mixin for AwsStream: singer-sdk's ``state_manager`` property, with the indexed manager."""

    @property
    def state_manager(self) -> StreamStateManager:
        stream: Any = self
        if stream._state_manager is None:
            stream._state_manager = _IndexedStateManager(
                tap_name=stream.tap_name,
                stream_name=stream.name,
                tap_state=stream._tap_state,
                state_partitioning_keys=stream.state_partitioning_keys,
                is_sorted=stream.is_sorted,
                check_sorted=stream.check_sorted,
            )
        manager: StreamStateManager = stream._state_manager
        return manager


# --- end of O(1) partition state lookups ---------------------------------------------------------


# --- record messages without a no-op deselection walk (issue 8): one override of singer-sdk --
# singer-sdk 0.54's Stream._generate_record_messages calls pop_deselected_record_properties on
# every record, which walks every nested dict looking each key up in the selection mask: 7.5%
# of the CPU of a Security Hub sync. When no entry of the stream's mask is False (a breadcrumb
# missing from the mask inherits its parent's selection, and the stream itself is selected),
# that walk removes nothing, so it is skipped; with any property deselected it runs as in the
# SDK. The rest is the SDK's method as it is. tests/test_sdk_overrides.py fails when the SDK's
# method changes; tests/test_invariants.py checks deselected properties are still dropped.
import singer_sdk.singerlib as singer  # noqa: E402 - kept in this block
from singer_sdk.helpers._catalog import pop_deselected_record_properties  # noqa: E402
from singer_sdk.helpers._typing import conform_record_data_types  # noqa: E402
from singer_sdk.helpers._util import utc_now  # noqa: E402


class _SelectionAwareRecords:
    """Mixin for AwsStream: singer-sdk's record messages, minus the walk when nothing to drop."""

    _mask_seen: Any = None
    _deselects = True

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[singer.RecordMessage, None, None]:
        stream: Any = self
        mask = stream.mask
        if mask is not self._mask_seen:
            self._mask_seen, self._deselects = mask, not all(mask.values())
        if self._deselects:
            pop_deselected_record_properties(record, stream.schema, mask)
        record = conform_record_data_types(
            stream_name=stream.name,
            record=record,
            schema=stream.effective_schema,
            level=stream.TYPE_CONFORMANCE_LEVEL,
            logger=stream.logger,
        )
        for stream_map in stream.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=stream._stream_version,
                    time_extracted=utc_now(),
                )


# --- end of record messages ------------------------------------------------------------------


class AwsStream(_IndexedPartitionState, _SelectionAwareRecords, Stream):
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and not cls.__dict__.get("iam_actions"):
            msg = f"stream {cls.__name__} must declare the IAM actions it calls (iam_actions)"
            raise TypeError(msg)

    def __init__(self, tap: Tap, runtime: Runtime | None) -> None:
        super().__init__(tap, schema=load_schema(self.name))
        self.runtime = runtime

    @classmethod
    def required_actions(cls, settings: Settings | None) -> tuple[str, ...]:
        """IAM actions a sync of this stream calls with these settings."""
        return cls.iam_actions

    # partitions: ids only, never credentials
    @property
    def partitions(self) -> list[dict[str, Any]] | None:
        if self.runtime is None or self.scope == ORGANIZATION:
            return None
        scope = self.runtime.scope
        if self.scope == ACCOUNT:
            return list(scope.account_partitions())
        return list(scope.regional_partitions())

    def job_params(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        """Per-partition inputs read from the SDK on the main thread (e.g. a bookmark)."""
        return {}

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        """The records of one partition. Runs on a worker thread."""
        raise NotImplementedError

    def get_records(self, context: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        if self.runtime is None:
            return
        yield from self.runtime.records(self, context)

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

    def job_params(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        assert self.runtime is not None
        settings = self.runtime.settings
        bookmark = self.get_context_state(dict(context or {})).get("replication_key_value")
        since: dt.datetime | None = None
        if bookmark:
            since = parse_timestamp(bookmark) - dt.timedelta(
                minutes=settings.findings_lookback_minutes
            )
        elif settings.start_date:
            since = settings.start_date
        return {"since": since, "until": self.runtime.started_at}

    def partition_succeeded(self, context: Mapping[str, Any], before: Mapping[str, Any]) -> None:
        previous = before.get("replication_key_value")
        markers = self.get_context_state(dict(context)).get(PROGRESS_MARKERS)
        if previous and markers and str(markers.get("replication_key_value") or "") < previous:
            # e.g. the newest finding of the last sync was deleted since: keep the old bookmark
            markers["replication_key_value"] = previous


class Runtime:
    """Everything one sync shares: clients, the accounts entered, the fan-out, coverage."""

    def __init__(self, settings: Settings, ordered_streams: Callable[[], list[AwsStream]]) -> None:
        self.settings = settings
        self.factory = ClientFactory(settings)
        self.fanout = Fanout(settings.max_concurrency)
        self.coverage = Coverage()
        self._ordered_streams = ordered_streams
        self._entry: Entry | None = None
        self._scope: Scope | None = None
        self._feeds: dict[tuple[str, str], PartitionFeed] = {}
        self.started_at = dt.datetime.now(dt.UTC)
        self._planned = False

    # accounts and regions
    @property
    def entry(self) -> Entry:
        if self._entry is None:
            self.prepare()
        assert self._entry is not None
        return self._entry

    @property
    def scope(self) -> Scope:
        if self._scope is None:
            self.prepare()
        assert self._scope is not None
        return self._scope

    def prepare(self) -> None:
        """Enter every account and resolve its regions; FatalError when none can be entered."""
        if self._scope is not None:
            return
        try:
            entry = enter_accounts(self.settings, self.factory, self.fanout.run_all)
        except AccountEntryError as exc:
            raise FatalError(f"No account could be entered: {exc}") from None
        for account_id, reason in entry.skipped.items():
            LOGGER.warning("Skipped account %s: %s", account_id, reason)
            self.coverage.accounts_skipped[account_id] = reason
        if not entry.accounts:
            if entry.skipped:
                reason = next(iter(entry.skipped.values()))
                raise FatalError(f"No account could be entered: {reason}")
            raise FatalError("No account in scope: account_ids / exclude_account_ids leave none")
        scope = resolve_scope(self.settings, self.factory, entry.accounts, self.fanout.run_all)
        for account_id, problem in scope.region_errors.items():
            reason = f"could not list its enabled regions: {error_code(problem)}"
            LOGGER.warning("Skipped account %s: %s", account_id, reason)
            self.coverage.accounts_skipped[account_id] = reason
        if not any(scope.regions.values()):
            raise FatalError("No region to read: every account's regions failed or were excluded")
        self._entry, self._scope = entry, scope

    # partitions
    @staticmethod
    def _key(stream: AwsStream, context: Mapping[str, Any] | None) -> tuple[str, str]:
        return stream.name, json.dumps(dict(context or {}), sort_keys=True)

    def _start(self, stream: AwsStream, context: Mapping[str, Any] | None) -> PartitionFeed:
        scope = self.scope
        if stream.scope == ORGANIZATION or context is None:
            account = scope.accounts[0]
            region = home_region(account.partition)
        else:
            account = scope.account(context["account_id"])
            region = context.get("region") or home_region(account.partition)
        job = Job(self, stream, account, region, stream.job_params(context))
        return self.fanout.start_partition(lambda: stream.fetch(job), stream.not_enabled_errors)

    def _plan(self) -> None:
        """Start every partition of every selected stream, in the order the SDK reads them."""
        self._planned = True
        for stream in self._ordered_streams():
            if not stream.selected:
                continue
            partitions: list[dict[str, Any] | None] = list(stream.partitions or ())
            for context in partitions or [None]:
                self._feeds[self._key(stream, context)] = self._start(stream, context)

    def records(
        self, stream: AwsStream, context: Mapping[str, Any] | None
    ) -> Iterator[dict[str, Any]]:
        if not self._planned:
            self._plan()
        feed = self._feeds.pop(self._key(stream, context), None) or self._start(stream, context)
        snapshot = copy.deepcopy(dict(stream.get_context_state(dict(context)))) if context else None
        for page in self.fanout.consume(feed):
            yield from page
        failure = feed.failure
        where = self._where(stream, context)
        if failure is None:
            self.coverage.record(stream.name, OK)
            if context and snapshot is not None:
                stream.partition_succeeded(context, snapshot)
            return
        self.coverage.record(stream.name, failure.outcome, failure.code)
        if failure.outcome == NOT_ENABLED:
            LOGGER.info("Skipped %s: %s (not enabled): %s", where, failure.code, failure.message)
        else:
            LOGGER.warning(
                "Skipped %s: %s (%s): %s", where, failure.code, failure.outcome, failure.message
            )
        if context and snapshot is not None:
            state = stream.get_context_state(dict(context))
            state.clear()
            state.update(snapshot)
        stream.partition_failed(context)

    @staticmethod
    def _where(stream: AwsStream, context: Mapping[str, Any] | None) -> str:
        context = context or {}
        return (
            f"stream={stream.name} account={context.get('account_id', '-')} "
            f"region={context.get('region', '-')}"
        )

    # end of sync
    def finish(self, selected: list[str]) -> int:
        """Log the coverage summary; the exit code the contract asks for."""
        lines = self.coverage.summary_lines()
        for line in lines:
            LOGGER.info(line)
        LOGGER.info("METRIC: %s", json.dumps(self.coverage.metric(), sort_keys=True))
        problems = []
        for name in selected:
            counts = self.coverage.counts.get(name)
            if not counts:
                continue
            bad = counts[DENIED] + counts[FAILED]
            if bad and bad == sum(counts.values()):
                problems.append(f"stream {name} was denied or failed in every partition")
            elif self.settings.fail_on_access_denied and bad:
                problems.append(
                    f"stream {name} was denied or failed in {bad} partition(s) "
                    "(fail_on_access_denied)"
                )
        if self.settings.fail_on_access_denied and self.coverage.accounts_skipped:
            problems.append(
                f"{len(self.coverage.accounts_skipped)} account(s) could not be "
                "entered (fail_on_access_denied)"
            )
        for problem in problems:
            LOGGER.error("Sync incomplete: %s", problem)
        return 1 if problems else 0

    def close(self) -> None:
        self.fanout.close()
