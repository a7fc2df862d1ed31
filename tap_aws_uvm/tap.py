"""tap-aws-uvm: settings, the stream list and the command line."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import IO, Any, ClassVar

import click
from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.capabilities import CapabilitiesEnum, TapCapabilities
from typing_extensions import override

from tap_aws_uvm.client import AwsStream
from tap_aws_uvm.errors import error_message
from tap_aws_uvm.logs import withhold_wire_logs
from tap_aws_uvm.runtime import FatalError, Runtime, SyncInterrupted
from tap_aws_uvm.schema_sources import SOURCES
from tap_aws_uvm.sdk_compat import (
    OwnConfigValidation,
    SignalHooks,
    WrappedSync,
    config_input,
    quiet_sdk_notices,
)
from tap_aws_uvm.settings import CONFIG_SCHEMA, Settings, SettingsError
from tap_aws_uvm.state import state_problem
from tap_aws_uvm.streams import STREAM_TYPES
from tap_aws_uvm.validation import unknown_settings, validate_settings


class InputFileError(Exception):
    """A config, state or catalog file cannot be used; the message is one line."""


class TargetStopped(BaseException):
    """The target stopped reading stdout (a broken pipe). A BaseException, as
    KeyboardInterrupt is: singer-sdk's loop must not log it as a stream's error."""


HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class StoppingWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer that stops the sync at the first failed write: no AWS
    request starts after it, and nothing more is written."""

    on_broken_pipe: Callable[[], None] | None = None
    broken = False

    @override
    def write_message(self, message: Any) -> None:
        if self.broken:
            raise TargetStopped
        try:
            super().write_message(message)
        except (BrokenPipeError, ConnectionResetError, ValueError) as exc:
            # ValueError: a write to a closed stdout
            self.broken = True
            if self.on_broken_pipe is not None:
                self.on_broken_pipe()
            raise TargetStopped(str(exc)) from None


class TapAwsUvm(WrappedSync, SignalHooks, OwnConfigValidation, Tap):  # type: ignore[misc]  # sdk_compat
    """AWS asset inventory and vulnerability findings, for one account or a whole organization."""

    name = "tap-aws-uvm"
    # a copy: singer-sdk appends its built-in settings to this dict in place
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    message_writer_class = StoppingWriter
    # Singer's ACTIVATE_VERSION makes SQL targets delete every older row of a table, other
    # shards' and denied partitions' rows included: deletion is derived from coverage instead.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        c for c in Tap.capabilities if c is not TapCapabilities.ACTIVATE_VERSION
    ]
    settings: Settings | None = None
    _runtime: Runtime | None = None

    @classmethod
    def known_settings(cls) -> frozenset[str]:
        """Our settings and the built-in ones singer-sdk adds for its capabilities."""
        schema = copy.deepcopy(CONFIG_SCHEMA)
        cls.append_builtin_config(schema)
        return frozenset(schema["properties"])

    @override
    def validate_settings_first(self) -> str | None:
        unknown = unknown_settings(self.config, self.known_settings())
        if unknown is not None:
            return str(unknown)
        try:
            self.settings = validate_settings(self.config)
        except SettingsError as exc:
            return str(exc)
        return None

    @property
    def runtime(self) -> Runtime | None:
        """The sync's shared clients, accounts and fan-out (None when settings are invalid)."""
        if self._runtime is None and self.settings is not None:
            self._runtime = Runtime(self.settings, self._ordered_streams)
            if isinstance(self.message_writer, StoppingWriter):
                self.message_writer.on_broken_pipe = self._runtime.stop
        return self._runtime

    @override
    def discover_streams(self) -> list[AwsStream]:
        return [stream_type(self, self.runtime) for stream_type in STREAM_TYPES]

    def _ordered_streams(self) -> list[AwsStream]:
        return [s for s in self.streams.values() if isinstance(s, AwsStream)]

    def selected_stream_names(self) -> list[str]:
        return [stream.name for stream in self.streams.values() if stream.selected]

    @override
    def run_sync(self, sdk_loop: Callable[[], None]) -> None:
        """Enter the accounts and plan every partition, let singer-sdk's loop sync them, then
        exit with the contract's exit code."""
        runtime = self.runtime
        assert runtime is not None
        code = 0
        try:
            if self.selected_stream_names():
                runtime.plan()
            sdk_loop()
            if runtime.interrupted is None:
                code = runtime.finish(self.selected_stream_names())
        except SyncInterrupted:
            pass
        except TargetStopped:
            code = self._target_stopped()
        except FatalError as exc:
            if runtime.interrupted is None:
                self.logger.error("%s", exc)
                self._coverage_only()
            code = 1
        except Exception as exc:  # one line; the traceback at DEBUG only
            if runtime.interrupted is None:
                self.logger.debug("Sync failed", exc_info=True)
                self.logger.error("Sync failed: %s: %s", type(exc).__name__, error_message(exc))
            code = 1
        finally:
            runtime.close()
        if runtime.interrupted is not None:
            code = self._interrupted(runtime.interrupted)
        self.logger.info("%s", runtime.progress.summary(code))
        if code:
            sys.exit(code)

    def _coverage_only(self) -> None:
        """When the sync cannot start (no account entered), still write sync_coverage: the
        accounts not entered are rows of their own, one per selected stream."""
        stream = self.streams.get("sync_coverage")
        if stream is None or not stream.selected:
            return
        try:
            stream.sync()
        except TargetStopped:
            self._target_stopped()

    @override
    def on_signal(self, signum: int) -> None:
        """SIGINT / SIGTERM: the sync stops at its next safe point (see run_sync)."""
        runtime = self._runtime
        if runtime is None:
            raise SystemExit(128 + signum)
        if runtime.interrupted is None:
            self.logger.warning(
                "%s received: stopping every AWS call; the state of what was read is written "
                "before the exit",
                signal_name(signum),
            )
        runtime.interrupt(signum)

    def _interrupted(self, signum: int) -> int:
        """Write a consistent STATE (partitions read to the end only), then 128 + signum."""
        runtime = self.runtime
        assert runtime is not None
        runtime.report()
        try:
            self.state_writer.write_state(self.state)
        except TargetStopped:
            return self._target_stopped()
        self.logger.error(
            "Sync interrupted by %s: the state written covers the partitions read to the end; "
            "exit %d",
            signal_name(signum),
            128 + signum,
        )
        return 128 + signum

    def _target_stopped(self) -> int:
        """The target stopped reading: one line, stdout silenced, exit 1."""
        with contextlib.suppress(OSError):  # later flushes (and interpreter exit) write nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        self.logger.error(
            "The target stopped reading the tap's output (broken pipe): the sync stopped; exit 1"
        )
        return 1

    @override
    def run_dry(self, sdk_loop: Callable[[], bool]) -> bool:
        """singer-sdk's --test: its own dry run, then every worker released."""
        runtime = self.runtime
        assert runtime is not None
        try:
            runtime.prepare()
            return sdk_loop()
        finally:
            runtime.close()

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """``--config`` files, each a JSON object; anything else is one line and exit 1."""
        merged: dict[str, Any] = {}
        parse_env = False
        for path in value:
            if path == "ENV":
                parse_env = True
                continue
            try:
                merged |= _json_object(path, "config")
            except InputFileError as exc:
                cls.logger.error("%s", exc)
                ctx.exit(1)
        return config_input(merged, parse_env=parse_env)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        state: IO[str] | None = None,
        catalog: IO[str] | None = None,
    ) -> None:
        """singer-sdk's own invoke, given state and catalog files that were checked first."""
        quiet_sdk_notices()
        withhold_wire_logs()
        for signum in HANDLED_SIGNALS:  # until singer-sdk installs its handler (SignalHooks)
            signal.signal(signum, _exit_on_signal)
        try:
            state = _checked_file(state, "state", _state_problem)
            catalog = _checked_file(catalog, "catalog")
        except InputFileError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        super().invoke(
            about=about, about_format=about_format, config=config, state=state, catalog=catalog
        )


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _parse_object(text: str, what: str, name: str) -> dict[str, Any]:
    if not text.strip():
        raise InputFileError(f"Invalid {what} file {name}: it is empty")
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"Invalid {what} file {name}: not JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno})"
        ) from None
    if not isinstance(loaded, dict):
        raise InputFileError(
            f"Invalid {what} file {name}: must hold a JSON object, not {type(loaded).__name__}"
        )
    return loaded


def _json_object(path: str, what: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"Invalid {what} file {path}: {exc}") from None
    return _parse_object(text, what, path)


def _checked_file(
    handle: IO[str] | None,
    what: str,
    check: Callable[[dict[str, Any]], str | None] | None = None,
) -> IO[str] | None:
    """The file's text as a new handle, once it is known to hold a JSON object that ``check``
    finds no problem in."""
    if handle is None:
        return None
    name = getattr(handle, "name", what)
    try:
        text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"Invalid {what} file {name}: {exc}") from None
    loaded = _parse_object(text, what, name)
    problem = check(loaded) if check is not None else None
    if problem:
        raise InputFileError(f"Invalid {what} file {name}: {problem}")
    return io.StringIO(text)


def _state_problem(state: dict[str, Any]) -> str | None:
    incremental = {
        name: src.replication_key for name, src in SOURCES.items() if src.replication_key
    }
    return state_problem(state, incremental)


cli = TapAwsUvm.cli
