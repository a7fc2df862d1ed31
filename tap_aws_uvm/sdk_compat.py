"""Every override of a singer-sdk or botocore internal, in one place, each with a guard test.

singer-sdk is pinned to its minor version and botocore to a tested range (pyproject.toml)
because of what is here; tests/unit/test_sdk_compat.py fails when a new version changes
what an override relies on. Nothing else in the tap touches a private member of either
library.

1. ``IndexedPartitionState``: O(1) partition state lookups (singer-sdk's StreamStateManager).
2. ``SelectionAwareRecords``: record messages without the no-op deselection walk.
3. ``SharingClientCreator``: botocore service models and client classes shared by sessions.
4. ``WrappedSync``: the tap's steps around singer-sdk's loop (``Tap.sync_all`` is final).
5. ``SignalHooks``: SIGINT and SIGTERM end the sync with 130 and 143 (``_handle_termination``).
6. ``OwnConfigValidation``: the tap's validation before singer-sdk's (``_validate_config``).
7. ``config_input``: the ``--config`` callback's private result type (``_ConfigInput``).
8. ``quiet_sdk_notices``: known-harmless singer-sdk log notices, filtered.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Generator, Mapping
from typing import Any, ClassVar

import botocore.client
import botocore.parsers
import singer_sdk.singerlib as singer
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers._util import utc_now
from singer_sdk.plugin_base import _ConfigInput
from singer_sdk.streams._state import StreamStateManager

# --- O(1) partition state lookups --------------------------
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


def _context_key(context: Mapping[str, Any]) -> Any:
    try:
        return tuple(sorted(context.items()))
    except TypeError:  # unhashable or unorderable values: still one key per equal context
        return json.dumps(context, sort_keys=True, default=str)


class IndexedStateManager(StreamStateManager):
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


class IndexedPartitionState:
    """Mixin for AwsStream: singer-sdk's ``state_manager`` property, with the indexed manager."""

    @property
    def state_manager(self) -> StreamStateManager:
        stream: Any = self
        if stream._state_manager is None:
            stream._state_manager = IndexedStateManager(
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


# --- record messages without a no-op deselection walk ----------------
# singer-sdk 0.54's Stream._generate_record_messages calls pop_deselected_record_properties on
# every record, which walks every nested dict looking each key up in the selection mask: 7.5%
# of the CPU of a Security Hub sync. When no entry of the stream's mask is False (a breadcrumb
# missing from the mask inherits its parent's selection, and the stream itself is selected),
# that walk removes nothing, so it is skipped; with any property deselected it runs as in the
# SDK. The rest is the SDK's method as it is. tests/unit/test_sdk_overrides.py fails when the SDK's
# method changes; tests/e2e/test_invariants.py checks deselected properties are still dropped.


class SelectionAwareRecords:
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


# --- service models and client classes shared by every session of ours ----------------------
# A sync creates one client per account, region and service. For each, botocore builds a new
# ServiceModel (whose shapes resolve lazily, per model: a fresh client's first GetFindings
# page resolves the whole ASFF shape tree again) and a new client class (one method and
# docstring per operation). Sessions made by ClientFactory all have the same handlers, so
# both depend only on the service and its API version: build each once per process. botocore
# already shares one model and one class among the threads using a client, so sharing them
# among clients adds no new concurrency. Sessions not made by ClientFactory (boto3 injects
# methods through ``creating-client-class`` handlers) are never served from these caches.
# Measured in benchmarks/README.md.
_SHARED_MODELS = "_tap_aws_uvm_shared_models"  # marks the event emitters of our sessions


class SharingClientCreator(botocore.client.ClientCreator):
    _models: ClassVar[dict[tuple[str, str | None], Any]] = {}
    _classes: ClassVar[dict[tuple[str, str | None], type]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _shared(self) -> bool:
        return bool(getattr(self._event_emitter, _SHARED_MODELS, False))  # type: ignore[attr-defined]

    def _load_service_model(self, service_name: str, api_version: str | None = None) -> Any:
        load = super()._load_service_model  # type: ignore[misc]
        if not self._shared():
            return load(service_name, api_version)
        return self._once(self._models, (service_name, api_version), load)

    def _create_client_class(self, service_name: str, service_model: Any) -> Any:
        build = super()._create_client_class  # type: ignore[misc]
        if not self._shared():
            return build(service_name, service_model)
        key = (service_name, service_model.api_version)
        return self._once(self._classes, key, lambda *_: build(service_name, service_model))

    @classmethod
    def _once(cls, cache: dict[Any, Any], key: tuple[str, str | None], make: Any) -> Any:
        """``cache[key]``, made by ``make(*key)`` by the first thread that needs it."""
        value = cache.get(key)
        if value is None:
            with cls._lock:
                value = cache.get(key)
                if value is None:
                    value = cache[key] = make(*key)
        return value


def share_models(session: Any) -> None:
    """Let ``session``'s clients use the shared service models and client classes."""
    setattr(session.get_component("event_emitter"), _SHARED_MODELS, True)


# Session.create_client looks ClientCreator up on botocore.client at every call.
botocore.client.ClientCreator = SharingClientCreator  # type: ignore[misc]
# --- end of shared service models and client classes ---------------------------------------


# --- Security Hub findings read as the JSON they are (botocore's rest-json parser) -----------
# botocore's parser walks every member of a response through the model, for JSON as well:
# there the walk copies each value (ASFF has no timestamp, blob or union member, and its
# scalars come as the JSON types they are declared as) and leaves out keys the model does not
# know. For GetFindings that walk was more than half the tap's CPU on ~1 KB findings. The
# body is read with botocore's own JSON reader and kept as it is: the stream keeps only the
# top-level members the model has (SecurityHubFindingsStream), and the tap's conformance
# (conform.py) fits every value to the declared schema as for any other stream. Any other
# operation, and any answer but a 200, goes through botocore's walk as before.
# tests/unit/test_sdk_compat.py checks both still give the same findings.
RAW_JSON_OUTPUTS = frozenset({"GetFindingsResponse"})
_RestJSONParser: Any = botocore.parsers.RestJSONParser  # private members: not in the stubs
_ParserFactory: Any = botocore.parsers.ResponseParserFactory


class RawFindingsParser(_RestJSONParser):
    def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        if shape is None or shape.name not in RAW_JSON_OUTPUTS or response["status_code"] != 200:
            parsed: dict[str, Any] = super()._do_parse(response, shape)
            return parsed
        body = self._parse_body_as_json(response["body"])
        final = {name: body[name] for name in shape.members if name in body}
        final["ResponseMetadata"] = self._populate_response_metadata(response)
        return final


class TapParserFactory(_ParserFactory):
    """The response parsers of the tap's data clients (``ClientFactory.shared_client``)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "rest-json":
            return RawFindingsParser(**self._defaults)
        return super().create_parser(protocol_name)


# --- end of Security Hub findings read as JSON ----------------------------------------------


# --- the tap's steps around singer-sdk's loop (Tap.sync_all, marked @final) ------------------
# singer-sdk's Tap.invoke builds the tap and calls tap.sync_all(), with no hook before or
# after the loop. The tap must enter accounts and plan partitions before it (an explicit step),
# and log coverage, pick the exit code and release every worker after it. The loop itself
# stays the SDK's: this only wraps it.


class WrappedSync:
    """Mixin for the Tap: ``run_sync(loop)`` is called with singer-sdk's own ``sync_all``, and
    ``run_dry(loop)`` with its ``run_sync_dry_run`` (``--test``; final too)."""

    def run_sync(self, sdk_loop: Callable[[], None]) -> None:
        sdk_loop()

    def run_dry(self, sdk_loop: Callable[[], bool]) -> bool:
        return sdk_loop()

    def sync_all(self) -> None:  # final in singer-sdk: see above
        self.run_sync(super().sync_all)  # type: ignore[misc]

    def run_sync_dry_run(self, dry_run_record_limit: int | None = 1, streams: Any = None) -> bool:
        sdk_dry_run = super().run_sync_dry_run  # type: ignore[misc]
        return self.run_dry(lambda: bool(sdk_dry_run(dry_run_record_limit, streams)))


# --- signals (PluginBase._setup_signal_handlers / Tap._handle_termination) -------------------
# singer-sdk installs a handler for SIGINT and SIGTERM that writes the state and calls
# sys.exit(0): a scheduler then sees success. Writing from a signal handler can also land in
# the middle of a record being written. The tap's handler only tells the sync to stop; the
# main thread ends it at a safe point, writes a consistent STATE and exits 130 or 143.


class SignalHooks:
    """Mixin for the Tap: ``on_signal(signum)`` instead of singer-sdk's termination handler."""

    def on_signal(self, signum: int) -> None:
        raise SystemExit(128 + signum)

    def _handle_termination(self, signum: int, frame: Any) -> None:
        self.on_signal(signum)


# --- the tap's own validation before singer-sdk's (PluginBase._validate_config) --------------
# singer-sdk validates the config against the JSON schema in PluginBase.__init__; its messages
# neither enforce formats nor hide secrets (a wrong type on a secret echoes it, a oneOf error
# prints the whole config). The tap's own check runs first and stops at its one-line message.


class OwnConfigValidation:
    """Mixin for the Tap: ``validate_settings_first()`` runs before the SDK's schema check."""

    def validate_settings_first(self) -> str | None:
        """One line naming the first invalid setting, or None."""
        return None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        problem = self.validate_settings_first()
        if problem is not None:
            if raise_errors:
                raise ConfigValidationError(problem, errors=[problem])
            return [problem]
        checked: list[str] = super()._validate_config(raise_errors=raise_errors)  # type: ignore[misc]
        return checked


# --- the --config callback's result (singer-sdk's private _ConfigInput) ---------------------
# The tap reads its config files itself (tap.py: one line for a file that is not a JSON
# object, instead of a traceback) and hands singer-sdk what its own callback would have.


def config_input(config: dict[str, Any], *, parse_env: bool) -> Any:
    """What singer-sdk's ``cb_config`` returns for these merged files."""
    return _ConfigInput(config=config, parse_env=parse_env)


# --- known-harmless singer-sdk notices, filtered in one place --------------------------------
# Each entry is a fragment of a message singer-sdk logs that says nothing an operator can act
# on here, with the reason. tests/unit/test_sdk_compat.py checks each is still logged by the
# pinned SDK (so a filter never outlives its message).
HARMLESS_SDK_NOTICES: dict[str, str] = {
    # once per partition of an unsorted stream: our finding streams are unsorted by design and
    # resumable per partition
    "Stream is assumed to be unsorted": "unsorted finding streams are by design",
    # at every start, whether or not the user asked for environment settings: it blames
    # nothing the user set
    "Skipping parse of env var settings": "said at every start, about nothing the user did",
    # once per partition of an incremental stream, without naming the partition: the progress
    # line and the coverage summary say what was read; a bookmark that is not trusted is a
    # WARNING of the tap's own
    "Starting incremental sync of": "one line per partition that names no partition",
}


def _not_harmless(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(fragment in message for fragment in HARMLESS_SDK_NOTICES)


def quiet_sdk_notices(*loggers: logging.Logger) -> None:
    """Filter the notices above from singer-sdk's loggers, the tap's, and ``loggers`` (a
    stream's: singer-sdk logs through each stream's own logger). Idempotent."""
    for logger in (logging.getLogger("singer_sdk"), logging.getLogger("tap-aws-uvm"), *loggers):
        if _not_harmless not in logger.filters:
            logger.addFilter(_not_harmless)
