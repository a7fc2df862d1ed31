"""tap-aws-uvm: settings, validation, the stream list and the command line."""

from __future__ import annotations

import copy
import json
import logging
import sys
from typing import IO, Any

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.plugin_base import _ConfigInput

from tap_aws_uvm.client import AwsStream, FatalError, Runtime
from tap_aws_uvm.settings import CONFIG_SCHEMA, Settings, SettingsError, validate_settings
from tap_aws_uvm.streams import STREAM_TYPES

LOGGER = logging.getLogger("tap-aws-uvm")


class TapAwsUvm(Tap):
    """AWS asset inventory and vulnerability findings, for one account or a whole organization."""

    name = "tap-aws-uvm"
    # a copy: singer-sdk appends its built-in settings to this dict in place
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    message_writer_class = MsgSpecWriter
    settings: Settings | None = None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # singer-sdk internal, overridden here only: our validation runs first, so the SDK's
        # schema check (which neither enforces formats nor hides secrets) never sees bad input.
        try:
            self.settings = validate_settings(self.config)
        except SettingsError as exc:
            if raise_errors:
                raise ConfigValidationError(str(exc), errors=[str(exc)]) from None
            return [str(exc)]
        return super()._validate_config(raise_errors=raise_errors)

    @property
    def runtime(self) -> Runtime | None:
        """The sync's shared clients, accounts and fan-out (None when settings are invalid)."""
        if self._runtime is None and self.settings is not None:
            self._runtime = Runtime(self.settings, self._ordered_streams)
        return self._runtime

    def discover_streams(self) -> list[AwsStream]:
        return [stream_type(self, self.runtime) for stream_type in STREAM_TYPES]

    def _ordered_streams(self) -> list[AwsStream]:
        return [s for s in self.streams.values() if isinstance(s, AwsStream)]

    def selected_stream_names(self) -> list[str]:
        return [stream.name for stream in self.streams.values() if stream.selected]

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        state: IO[str] | None = None,
        catalog: IO[str] | None = None,
    ) -> None:
        """Sync, then log the coverage summary and exit with the contract's exit code."""
        super(Tap, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        tap = cls(
            config=config.config,
            state=None if state is None else _load_json(state.read()),
            catalog=None if catalog is None else _load_json(catalog.read()),
            parse_env_config=config.parse_env,
            validate_config=True,
        )
        runtime = tap.runtime
        assert runtime is not None
        try:
            if tap.selected_stream_names():
                runtime.prepare()
            tap.sync_all()
            code = runtime.finish(tap.selected_stream_names())
        except FatalError as exc:
            cls.logger.error("%s", exc)
            code = 1
        finally:
            runtime.close()
        if code:
            sys.exit(code)

    _runtime: Runtime | None = None


def _load_json(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise FatalError("state and catalog files must hold a JSON object")
    return loaded


cli = TapAwsUvm.cli
