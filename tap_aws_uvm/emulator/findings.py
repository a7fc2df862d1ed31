"""Placeholder: replaced by its owner."""

from tap_aws_uvm.emulator.handlers import EmulatorApp


def install(app: EmulatorApp) -> None:
    """Register this module's operation handlers and control routes."""
