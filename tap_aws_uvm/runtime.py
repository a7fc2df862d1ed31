"""One sync: the accounts entered, the partitions planned, their outcomes and the exit code.

The tap drives it in four explicit steps around singer-sdk's own loop (``TapAwsUvm.sync_all``):
``prepare`` enters the accounts and resolves their regions, ``plan`` starts every partition of
every selected stream on the fan-out in the order singer-sdk will consume them, singer-sdk's
loop then reads each partition's records through ``records``, and ``finish`` logs the coverage
summary and returns the contract's exit code. ``close`` releases every worker, however the sync
ended.
"""

from __future__ import annotations

import copy
import datetime as dt
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
    account_of_role,
    enter_accounts,
    error_code,
    home_region,
    partition_of_arn,
)
from tap_aws_uvm.client import ACCOUNT, ORGANIZATION, AwsStream, Job
from tap_aws_uvm.coverage import NOT_ENABLED, OK, Coverage
from tap_aws_uvm.fanout import CallLimiter, Fanout, PartitionFeed, SharedResults
from tap_aws_uvm.scope import Scope, resolve_scope
from tap_aws_uvm.settings import Settings

LOGGER = logging.getLogger("tap-aws-uvm")


class FatalError(Exception):
    """The sync cannot go on; the message is one line, safe to print."""


def _partition_key(stream: AwsStream, context: Mapping[str, Any] | None) -> tuple[str, str]:
    return stream.name, json.dumps(dict(context or {}), sort_keys=True)


def where(stream: str, context: Mapping[str, Any] | None) -> str:
    context = context or {}
    return (
        f"stream={stream} account={context.get('account_id', '-')} "
        f"region={context.get('region', '-')}"
    )


class Runtime:
    """Everything one sync shares: clients, the accounts entered, the fan-out, coverage."""

    def __init__(self, settings: Settings, ordered_streams: Callable[[], list[AwsStream]]) -> None:
        self.settings = settings
        self.factory = ClientFactory(settings)
        self.fanout = Fanout(settings.max_concurrency)
        self.coverage = Coverage()
        self.started_at = dt.datetime.now(dt.UTC)
        self._ordered_streams = ordered_streams
        self._entry: Entry | None = None
        self._scope: Scope | None = None
        self._feeds: dict[tuple[str, str], PartitionFeed] = {}
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
            if not stream.selected:
                continue
            partitions = self.partitions_of(stream)
            contexts: list[dict[str, Any] | None] = (
                list(partitions) if partitions is not None else [None]
            )
            planned.extend((stream, context) for context in contexts)
        users: Counter[tuple[str, str, str]] = Counter()
        for stream, context in planned:
            for name in stream.shares:
                if context is not None:
                    users[(context["account_id"], context.get("region", ""), name)] += 1
        self._shared.expect(users)
        for stream, context in planned:
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
        """The account Organizations is read through: ``role_arn``'s, with its session."""
        assert self._entry is not None
        role_arn = self.settings.role_arn
        if role_arn and self._entry.organization_session is not None:
            return Account(
                account_of_role(role_arn),
                partition_of_arn(role_arn),
                self._entry.organization_session,
                role_arn,
            )
        return self.scope.accounts[0]

    def _start(self, stream: AwsStream, context: Mapping[str, Any] | None) -> PartitionFeed:
        account, region = self._account_and_region(stream, context)
        assert self._entry is not None
        job = Job(
            calls=self,
            account=account,
            region=region,
            settings=self.settings,
            params=stream.job_params(context),
            expected_errors=stream.expected_errors,
            native=stream.records_json_native,
            account_regions=tuple(self.scope.regions.get(account.account_id, ())),
            organization_accounts=self._entry.organization_accounts,
        )
        return self.fanout.start_partition(lambda: stream.fetch(job), stream.not_enabled_errors)

    # ---- what a Job calls (the ``client.Calls`` protocol) -------------------------------------
    def client(self, account: Account, service: str, region: str) -> Any:
        return self.factory.client(account.session, service, region)

    @property
    def limiter(self) -> CallLimiter:
        return self.fanout.limiter

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
        self.prepare()
        feed = self._feeds.pop(_partition_key(stream, context), None) or self._start(
            stream, context
        )
        snapshot = copy.deepcopy(dict(stream.get_context_state(dict(context)))) if context else None
        for page in self.fanout.consume(feed):
            yield from page
        failure = feed.failure
        if failure is None:
            self.coverage.record(stream.name, OK)
            if context and snapshot is not None:
                stream.partition_succeeded(context, snapshot)
            return
        self.coverage.record(stream.name, failure.outcome, failure.code)
        place = where(stream.name, context)
        if failure.outcome == NOT_ENABLED:
            LOGGER.info("Skipped %s: %s (not enabled): %s", place, failure.code, failure.message)
        else:
            LOGGER.warning(
                "Skipped %s: %s (%s): %s", place, failure.code, failure.outcome, failure.message
            )
        if context and snapshot is not None:
            state = stream.get_context_state(dict(context))
            state.clear()
            state.update(snapshot)
        stream.partition_failed(context)

    # ---- step 4: the end --------------------------------------------------------------------
    def finish(self, selected: list[str]) -> int:
        """Log the coverage summary; the exit code the contract asks for."""
        for line in self.coverage.summary_lines():
            LOGGER.info(line)
        LOGGER.info("METRIC: %s", json.dumps(self.coverage.metric(), sort_keys=True))
        problems = self.coverage.problems(selected, strict=self.settings.fail_on_access_denied)
        for problem in problems:
            LOGGER.error("Sync incomplete: %s", problem)
        return 1 if problems else 0

    def close(self) -> None:
        self.fanout.close()
