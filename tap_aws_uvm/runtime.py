"""One sync: the accounts entered, the partitions planned, their outcomes and the exit code.

The tap drives it in explicit steps around singer-sdk's own loop (``TapAwsUvm.run_sync``):
``prepare`` enters the accounts and resolves their regions, ``plan`` starts every partition of
every selected stream on the fan-out in the order singer-sdk will consume them, singer-sdk's
loop then reads each partition's records through ``records``, and ``finish`` logs the coverage
summary and returns the contract's exit code. ``stop`` (a signal, a broken pipe, an early end)
ends every worker and every AWS request; ``close`` always runs last.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime as dt
import gc
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tap_aws_uvm.auth import (
    Account,
    AccountEntryError,
    ClientFactory,
    Entry,
    account_state,
    bound,
    enter_accounts,
    home_region,
)
from tap_aws_uvm.client import ACCOUNT, ORGANIZATION, AwsStream, Job
from tap_aws_uvm.coverage import (
    DISABLED,
    GLOBAL,
    NOT_ENABLED,
    NOT_ENTERED,
    OK,
    SUSPENDED,
    UNREACHABLE,
    Coverage,
    Outcome,
)
from tap_aws_uvm.errors import error_code, error_message
from tap_aws_uvm.fanout import Fanout, PartitionFailure, PartitionFeed, SharedResults
from tap_aws_uvm.fanout import classify as classify_error
from tap_aws_uvm.logs import withhold_wire_logs
from tap_aws_uvm.progress import Progress
from tap_aws_uvm.records import utc_timestamp
from tap_aws_uvm.retries import CallLimiter, CallPolicy, SyncStopped, endpoint_of
from tap_aws_uvm.scope import Scope, resolve_scope
from tap_aws_uvm.settings import Settings

LOGGER = logging.getLogger("tap-aws-uvm")


class FatalError(Exception):
    """The sync cannot go on; the message is one line, safe to print."""


class SyncInterrupted(BaseException):
    """A signal asked the sync to end; ``signum`` says which. A BaseException, as
    KeyboardInterrupt is: singer-sdk's loop must not log it as a stream's error."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


# A STATE message carries the state of every partition, and singer-sdk deep-copies and
# compares it on each write. Written every 1,000 records, its cost grew with records x
# partitions: at 100 accounts x 4 regions, 38 messages of 220 KB; at 1,000 x 17 it would have
# been gigabytes. Every max(1,000, 4 x partitions) records keeps it a small share of the
# records' own cost; the state at each stream's end is written as before.
STATE_RECORDS_PER_PARTITION = 4

# CPython's collector, at its default thresholds (700, 10, 10), traverses every live object
# again and again: here the long-lived ones (botocore's service models and clients, the
# plan) dwarf the short-lived pages and records a sync makes. In benchmarks/scale.py that was
# a fifth of the tap's CPU at 100 accounts x 4 regions.
GC_THRESHOLDS = (20_000, 20, 10)


def collect_less() -> None:
    """Once everything long-lived exists (accounts entered, partitions planned): freeze it
    out of every later collection, and collect the young generation in fewer passes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _partition_key(stream: AwsStream, context: Mapping[str, Any] | None) -> tuple[Any, ...]:
    return (stream.name, *sorted((context or {}).items()))


def where(stream: str, account_id: str, region: str) -> str:
    return f"stream={stream} account={account_id} region={region}"


class Runtime:
    """Everything one sync shares: clients, the accounts entered, the fan-out, coverage."""

    def __init__(self, settings: Settings, ordered_streams: Callable[[], list[AwsStream]]) -> None:
        withhold_wire_logs()  # before any AWS call: no secret at any log level (logs.py)
        self.settings = settings
        self.started_at = dt.datetime.now(dt.UTC)
        self.synced_at = utc_timestamp(self.started_at)  # on every record of the sync
        self.fanout = Fanout(settings.max_concurrency, classify_failure=self._failure)
        self.policy = CallPolicy(
            limiter=self.fanout.limiter,
            max_attempts=settings.max_attempts,
            call_timeout_seconds=settings.call_timeout_seconds,
        )
        self.factory = ClientFactory(settings, self.policy)
        self.coverage = Coverage()
        self.progress = Progress(
            settings.progress_interval_seconds, strict=settings.fail_on_access_denied
        )
        self.interrupted: int | None = None
        self._ordered_streams = ordered_streams
        self._entry: Entry | None = None
        self._scope: Scope | None = None
        # partitions planned but not started yet, in the order singer-sdk reads them, and the
        # started ones (at most the fan-out's window ahead of the reader): memory per partition
        # not yet read is one small tuple, not a feed, a queue and a job
        self._pending: collections.deque[tuple[AwsStream, dict[str, Any] | None]] = (
            collections.deque()
        )
        self._feeds: dict[tuple[Any, ...], PartitionFeed] = {}
        self._shared = SharedResults()

    # ---- step 1: accounts and regions ----------------------------------------------------------
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
        for account in entry.suspended:
            state = account_state(account)
            self.coverage.account(account["Id"], SUSPENDED, state, f"account is {state}")
        for account_id, problem in entry.skipped.items():
            self._not_entered(account_id, problem.code, str(problem))
        if not entry.accounts:
            if entry.skipped:
                raise FatalError(
                    f"No account could be entered: {next(iter(entry.skipped.values()))}"
                )
            raise FatalError("No account in scope: account_ids / exclude_account_ids leave none")
        needs_regions = any(s.selected and s.scope != ORGANIZATION for s in self._ordered_streams())
        scope = resolve_scope(
            self.settings, self.factory, entry.accounts, self.fanout.run_all, needs_regions
        )
        for account_id, failure in scope.region_errors.items():
            code, message = error_code(failure), error_message(failure)
            if self.settings.all_regions:
                self._not_entered(
                    account_id, code, f"could not list its enabled regions: {message}"
                )
            else:
                LOGGER.warning(
                    "account=%s: could not list its enabled regions (%s): an auth error in its "
                    "regions counts as failed, not disabled",
                    account_id,
                    code,
                )
        if needs_regions and not any(scope.regions.values()):
            raise FatalError("No region to read: every account's regions failed or were excluded")
        self._entry, self._scope = entry, scope
        LOGGER.info("%s", self._start_line(needs_regions))

    def _start_line(self, needs_regions: bool) -> str:
        """What this run reads, in one line: mode, accounts, regions, streams."""
        settings, scope = self.settings, self.scope
        if settings.role_arns:
            mode = f"role list ({len(settings.role_arns)} roles)"
        elif settings.role_arn and settings.org_accounts:
            mode = f"organization through {settings.role_arn}"
        elif settings.role_arn:
            mode = f"single role {settings.role_arn}"
        elif settings.aws_access_key_id:
            mode = "access key"
        elif settings.aws_profile:
            mode = f"profile {settings.aws_profile}"
        else:
            mode = "ambient credentials"
        by_outcome = Counter(a.outcome for a in self.coverage.accounts.values())
        regions = sorted({r for found in scope.regions.values() for r in found})
        if not needs_regions:
            where = "none needed"
        elif settings.all_regions:
            where = f"every enabled region ({len(regions)}: {', '.join(regions)})"
        else:
            where = ", ".join(regions)
        streams = [s.name for s in self._ordered_streams() if s.selected]
        return (
            f"Sync of {mode} at {self.synced_at}: {len(scope.accounts)} account(s) entered, "
            f"{by_outcome[NOT_ENTERED]} not entered, {by_outcome[SUSPENDED]} suspended; "
            f"regions: {where}; streams: {', '.join(streams) or 'none selected'}"
        )

    def _not_entered(self, account_id: str, code: str, message: str) -> None:
        LOGGER.warning("Skipped account=%s: %s (not_entered): %s", account_id, code, message)
        self.coverage.account(account_id, NOT_ENTERED, code, message)

    # ---- step 2: planning ----------------------------------------------------------------------
    def partitions_of(self, stream: AwsStream) -> list[dict[str, Any]] | None:
        """The stream's partition contexts (ids only, never credentials); None: one, global."""
        if stream.scope == ORGANIZATION:
            return None
        if stream.scope == ACCOUNT:
            return self.scope.account_partitions()
        return self.scope.regional_partitions()

    def plan(self) -> None:
        """Start every partition of every selected stream, in the order the SDK reads them."""
        self.prepare()
        planned: list[tuple[AwsStream, dict[str, Any] | None]] = []
        for stream in self._ordered_streams():
            if not stream.selected or not stream.calls_aws:
                continue
            partitions = self.partitions_of(stream)
            contexts = [None] if partitions is None else list(partitions)
            planned.extend((stream, context) for context in contexts)
            self.progress.plan(stream.name, len(contexts))
        users: Counter[tuple[str, str, str]] = Counter()
        for stream, context in planned:
            for name in stream.shares:
                if context is not None:
                    users[(context["account_id"], context.get("region", ""), name)] += 1
        self._shared.expect(users)
        self._pending.extend(planned)
        state_every = STATE_RECORDS_PER_PARTITION * len(planned)
        for stream in {id(stream): stream for stream, _ in planned}.values():
            stream.STATE_MSG_FREQUENCY = max(type(stream).STATE_MSG_FREQUENCY, state_every)
        collect_less()
        self._top_up()

    def _top_up(self) -> None:
        """Start planned partitions while the fan-out's window has room (main thread)."""
        while self._pending and self.fanout.room() > 0:
            stream, context = self._pending.popleft()
            self._feeds[_partition_key(stream, context)] = self._start(stream, context)

    def _account_and_region(
        self, stream: AwsStream, context: Mapping[str, Any] | None
    ) -> tuple[Account, str]:
        if stream.scope == ORGANIZATION:
            account = self._organization_account()
            return account, home_region(account.partition)
        assert context is not None
        account = self.scope.account(context["account_id"])
        return account, context.get("region") or home_region(account.partition)

    def _organization_account(self) -> Account:
        """The account Organizations is read through: ``role_arn``'s."""
        assert self._entry is not None
        return self._entry.organization_account or self.scope.accounts[0]

    def _start(self, stream: AwsStream, context: Mapping[str, Any] | None) -> PartitionFeed:
        account, region = self._account_and_region(stream, context)
        assert self._entry is not None
        regional = stream.scope not in (ORGANIZATION, ACCOUNT)
        if regional and self.scope.region_enabled(account.account_id, region) is False:
            feed = self.fanout.failed_partition(
                PartitionFailure(
                    DISABLED,
                    "RegionNotEnabled",
                    "the region is not enabled for the account (its DescribeRegions)",
                )
            )
        else:
            job = Job(
                calls=self,
                account=account,
                region=region,
                settings=self.settings,
                params=stream.job_params(context),
                synced_at=self.synced_at,
                conformer=stream.conformer,
                expected_errors=stream.expected_errors,
                native=stream.records_json_native,
                account_regions=tuple(self.scope.regions.get(account.account_id, ())),
                organization_accounts=self._entry.organization_accounts,
            )

            def produce() -> Iterator[dict[str, Any]]:
                job.started_at = dt.datetime.now(dt.UTC)
                return stream.fetch(job)

            feed = self.fanout.start_partition(produce)
            feed.context = (stream, job)
        feed.where = (stream.name, account.account_id, region if regional else GLOBAL)
        return feed

    def _failure(self, exc: BaseException, feed: PartitionFeed) -> PartitionFailure:
        """The outcome of a partition that raised ``exc`` (called on its worker thread)."""
        stream, job = feed.context
        enabled = None
        if stream.scope not in (ORGANIZATION, ACCOUNT):
            enabled = self.scope.region_enabled(job.account_id, job.region)
        outcome, code = classify_error(exc, stream.not_enabled_errors, region_enabled=enabled)
        return PartitionFailure(outcome, code, error_message(exc), exc)

    # ---- what a Job calls (the ``client.Calls`` protocol) -------------------------------------
    def client(self, account: Account, service: str, region: str) -> Any:
        return self.factory.shared_client(service, region)

    def bind(self, account: Account) -> Any:
        return bound(account.credentials)

    @property
    def limiter(self) -> CallLimiter:
        return self.fanout.limiter

    def release(self) -> None:
        self.policy.release()

    def map_ordered(self, call: Callable[[Any], Any], items: Any) -> Iterator[Any]:
        return self.fanout.map_ordered(call, items)

    def shared(self, account: Account, region: str, name: str, make: Callable[[], Any]) -> Any:
        return self._shared.get((account.account_id, region, name), make)

    # ---- step 3: singer-sdk reads each partition -------------------------------------------------
    def records(
        self, stream: AwsStream, context: Mapping[str, Any] | None
    ) -> Iterator[dict[str, Any]]:
        if context is None and stream.scope != ORGANIZATION:
            return  # singer-sdk asks once with no context when a stream has no partition
        self._check_interrupted()
        self.prepare()
        key = _partition_key(stream, context)
        while key not in self._feeds and self._pending:  # singer-sdk reads in plan order
            stream_, context_ = self._pending.popleft()
            self._feeds[_partition_key(stream_, context_)] = self._start(stream_, context_)
        feed = self._feeds.pop(key, None) or self._start(stream, context)
        snapshot = copy.deepcopy(dict(stream.get_context_state(dict(context)))) if context else None
        by_region: Counter[str] | None = Counter() if stream.scope == ACCOUNT else None
        progress = self.progress
        try:
            for page in self.fanout.consume(feed, on_wait=progress.tick):
                if by_region is not None:
                    by_region.update(record.get("region") or GLOBAL for record in page)
                progress.add_records(len(page))
                yield from page
                self._check_interrupted()
                progress.tick()
        except (SyncStopped, SyncInterrupted):
            self._restore(stream, context, snapshot)
            self._check_interrupted()
            raise
        self._top_up()
        outcome = self._outcome(feed)
        progress.partition_done(stream.name, outcome.outcome)
        if by_region is None:
            self.coverage.record(outcome)
        else:  # one ListBuckets per account, recorded as one partition per region in scope
            for region in self.scope.regions.get(outcome.account_id, ()):
                self.coverage.record(
                    dataclasses.replace(outcome, region=region, records=by_region[region])
                )
        if outcome.outcome == OK:
            if context and snapshot is not None:
                stream.partition_succeeded(context, snapshot)
            return
        self._report(outcome, feed.failure)
        self._restore(stream, context, snapshot)
        stream.partition_failed(context)

    def _check_interrupted(self) -> None:
        if self.interrupted is not None:
            raise SyncInterrupted(self.interrupted)

    @staticmethod
    def _restore(
        stream: AwsStream, context: Mapping[str, Any] | None, snapshot: dict[str, Any] | None
    ) -> None:
        """Put a partition's state back as it was before the sync."""
        if context and snapshot is not None:
            state = stream.get_context_state(dict(context))
            state.clear()
            state.update(snapshot)

    def _outcome(self, feed: PartitionFeed) -> Outcome:
        name, account_id, region = feed.where
        job: Job | None = feed.context[1] if feed.context else None
        failure = feed.failure
        outcome = Outcome(
            stream=name,
            account_id=account_id,
            region=region,
            outcome=OK if failure is None else failure.outcome,
            error_code=None if failure is None else failure.code,
            error_message=None if failure is None else failure.message,
            records=feed.records,
            started_at=(job.started_at if job else None) or dt.datetime.now(dt.UTC),
            finished_at=dt.datetime.now(dt.UTC),
            notes=dict(job.missing) if job else {},
        )
        place = where(name, account_id, region)
        for action, (code, count) in (job.missing_codes if job else {}).items():
            LOGGER.warning(
                "%s: %s denied (%s): %d record(s) emitted without it",
                place,
                action,
                code,
                count,
            )
        for column, count in (job.unparsed if job else {}).items():
            LOGGER.warning(
                "%s: %d value(s) of %s were not date-times: emitted as null", place, count, column
            )
        if failure is not None and failure.outcome == UNREACHABLE and failure.exception:
            url = getattr(failure.exception, "kwargs", {}).get("endpoint_url") or ""
            if url:
                self.policy.breaker.partition_unreachable(endpoint_of(str(url)))
        return outcome

    @staticmethod
    def _report(outcome: Outcome, failure: PartitionFailure | None) -> None:
        place = where(outcome.stream, outcome.account_id, outcome.region)
        message = failure.message if failure else ""
        if outcome.outcome == NOT_ENABLED:
            LOGGER.info("Skipped %s: %s (not_enabled): %s", place, outcome.error_code, message)
        else:
            LOGGER.warning(
                "Skipped %s: %s (%s): %s", place, outcome.error_code, outcome.outcome, message
            )

    # ---- the end ----------------------------------------------------------------------------
    def coverage_records(self) -> Iterator[dict[str, Any]]:
        """The ``sync_coverage`` records: every partition's row, then the accounts not read
        (one row per selected stream)."""
        streams = [s.name for s in self._ordered_streams() if s.selected and s.calls_aws]
        rows = self.coverage.partitions + self.coverage.account_rows(streams, self.started_at)
        for row in rows:
            yield {
                "synced_at": self.synced_at,
                "stream": row.stream,
                "account_id": row.account_id,
                "region": row.region,
                "outcome": row.outcome,
                "error_code": row.error_code,
                "error_message": row.error_message,
                "records": row.records,
                "started_at": utc_timestamp(row.started_at) if row.started_at else None,
                "finished_at": utc_timestamp(row.finished_at) if row.finished_at else None,
            }

    def report(self) -> None:
        """The coverage summary, one line per stream, and the partition_coverage METRIC."""
        for line in self.coverage.summary_lines():
            LOGGER.info(line)
        LOGGER.info("METRIC: %s", json.dumps(self.coverage.metric(), sort_keys=True))

    def finish(self, selected: list[str]) -> int:
        """Log the coverage summary; the exit code the contract asks for."""
        self.report()
        problems = self.coverage.problems(selected, strict=self.settings.fail_on_access_denied)
        for problem in problems:
            LOGGER.error("Sync incomplete: %s", problem)
        return 1 if problems else 0

    def interrupt(self, signum: int) -> None:
        """A signal arrived: stop every request and worker; the main thread ends the sync."""
        if self.interrupted is None:
            self.interrupted = signum
            self.stop()

    def stop(self) -> None:
        """No AWS request starts from now on, and every worker ends."""
        self.policy.stop()
        self.fanout.close()

    def close(self) -> None:
        self.stop()
