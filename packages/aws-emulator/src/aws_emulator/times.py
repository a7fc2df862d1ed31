"""Timestamps as the emulator keeps them: epoch microseconds, rendered as AWS renders them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["epoch_from_us", "iso_from_us", "parse_time_us"]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_LEAP_SECOND = re.compile(r":60(\.\d+)?")


def parse_time_us(value: Any) -> int:
    """ISO 8601 string (``Z``/offset/naive=UTC) or epoch seconds number -> epoch microseconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return round(value * 1_000_000)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Security Hub's date format allows a leap second (23:59:60): it sorts as the last
        # microsecond of its minute, as datetime cannot hold it
        leap = _LEAP_SECOND.search(text)
        if leap is not None:
            text = f"{text[: leap.start()]}:59.999999{text[leap.end() :]}"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_DAY_PREFIX: dict[int, str] = {}


def iso_from_us(us: int) -> str:
    """Epoch microseconds -> ``2024-01-02T03:04:05.678Z`` (milliseconds, as Security Hub;
    microseconds when the value has them)."""
    days, rem = divmod(us, 86_400_000_000)
    prefix = _DAY_PREFIX.get(days)
    if prefix is None:
        prefix = _DAY_PREFIX[days] = (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT")
    secs, frac = divmod(rem, 1_000_000)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    if frac % 1000:
        return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{frac:06d}Z"
    return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{frac // 1000:03d}Z"


def epoch_from_us(us: int) -> float | int:
    """Epoch microseconds -> epoch seconds number (rest-json timestamp on the wire)."""
    if us % 1_000_000 == 0:
        return us // 1_000_000
    return us / 1_000_000
