"""Record conventions shared by every stream and by the schema generator.

Top-level property names are snake_case (``botocore.xform_name``); nested objects keep
AWS's names; tag lists become ``{key: value}`` maps; timestamps become UTC ISO 8601
strings ending in ``Z``; every value is JSON-native before it reaches singer-sdk.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import botocore.utils
from botocore import xform_name

# Top-level AWS properties that hold a resource's tags, whatever the service calls them.
TAG_PROPERTIES = frozenset({"Tags", "TagList", "TagSet", "tags"})

# Top-level properties that carry free-form content: never renamed inside.
STANDARD_COLUMNS = ("account_id", "region", "arn", "tags")


def column_name(aws_name: str) -> str:
    """The snake_case column for a top-level AWS property name (``TagList`` -> ``tags``)."""
    name = _COLUMN_NAMES.get(aws_name)
    if name is None:
        name = "tags" if aws_name in TAG_PROPERTIES else xform_name(aws_name)
        _COLUMN_NAMES[aws_name] = name  # a few hundred names in all; a race writes the same
    return name


_COLUMN_NAMES: dict[str, str] = {}


def utc_timestamp(value: dt.datetime) -> str:
    """``2024-05-01T12:00:00.123000Z`` for any aware or naive (assumed UTC) datetime.

    Always microseconds, so timestamps (and bookmarks) compare correctly as strings.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> dt.datetime:
    """An aware UTC datetime from an ISO 8601 string (AWS's, or a bookmark); any form
    ``normalize_timestamp`` takes. Raises ``ValueError`` for anything else."""
    return _parse_iso(text)


# AWS's usual form of an ISO 8601 UTC string: only its fraction needs padding to microseconds.
_ISO_UTC = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(?:\.(\d{1,6}))?Z"
)
# Every other ISO 8601 form seen in findings: offsets (+00:00, +0000), no zone, 7-9 digit
# fractions, a comma, a space for the T, a leap second (:60), a date alone.
_ISO_ANY = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?",
    re.A,
)


def normalize_timestamp(text: str | None) -> str | None:
    """An ISO 8601 string (Security Hub's dates) in the canonical form of ``utc_timestamp``.

    ``2024-05-01T12:00:00.123Z`` is padded as it is (a third of the time of parsing it, five
    dates a finding); any other form is parsed and converted to UTC: offsets, no zone (UTC),
    fractions beyond microseconds (cut), and a leap second (``23:59:60``, which Security Hub
    accepts), held at the last microsecond of its minute so it still sorts in place. Raises
    ``ValueError`` for anything else.
    """
    if text is None:
        return None
    match = _ISO_UTC.fullmatch(text)
    if match is not None:
        return f"{text[:19]}.{match.group(1) or '':0<6}Z"
    return utc_timestamp(_parse_iso(text))


def _parse_iso(text: str) -> dt.datetime:
    match = _ISO_ANY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {text[:40]!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    seconds = int(second or 0)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if seconds == 60:  # a leap second: the last microsecond of its minute
        seconds, micros = 59, 999_999
    tz = dt.UTC
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = dt.timezone(sign * offset)
    value = dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), seconds, micros, tz
    )
    return value.astimezone(dt.UTC)


def aws_timestamp(value: Any) -> str:
    """botocore's timestamp parser for the tap's data clients: AWS's value (epoch seconds,
    ISO 8601, RFC 822) straight to the canonical string of ``utc_timestamp``.

    botocore's own parser makes a datetime (through dateutil for most strings) that
    ``json_native`` then formats again; this gives the same string without either step.
    """
    if not isinstance(value, int | float):
        text = str(value)
        try:
            return normalize_timestamp(text) or text
        except ValueError:
            pass
        try:
            value = float(text)
        except ValueError:
            return utc_timestamp(botocore.utils.parse_timestamp(text))  # RFC 822, or its error
    try:
        return utc_timestamp(dt.datetime.fromtimestamp(value, dt.UTC))
    except (OverflowError, OSError, ValueError):
        return utc_timestamp(botocore.utils.parse_timestamp(value))


# What botocore returns that is JSON already: returned as it is, before any other test.
_JSON_LEAVES = frozenset({str, int, float, bool, type(None)})


def json_native(value: Any) -> Any:
    """Convert what botocore returns (datetimes, bytes, Decimals, tuples) to JSON types."""
    kind = type(value)
    if kind in _JSON_LEAVES:
        return value
    if kind is dict:
        return {key: json_native(item) for key, item in value.items()}
    if kind is list:
        return [json_native(item) for item in value]
    return _json_other(value)


def _json_other(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: json_native(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_native(item) for item in value]
    if isinstance(value, dt.datetime):
        return utc_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def tag_map(tags: Any) -> dict[str, str | None]:
    """``{key: value}`` from any of AWS's tag shapes (list of Key/Value pairs, or a map)."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(key): value for key, value in tags.items()}
    result: dict[str, str | None] = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key", tag.get("TagKey")))
        value = tag.get("Value", tag.get("value", tag.get("TagValue")))
        if key is not None:
            result[str(key)] = value
    return result


def shape_record(
    aws_object: Mapping[str, Any], *, native: bool = False, **standard: Any
) -> dict[str, Any]:
    """One record from one AWS object: snake_case top level, tags as a map, JSON values.

    ``standard`` holds the standard columns (``account_id``, ``region``, ``arn`` …) and
    any extra columns; they win over same-named properties of the AWS object. ``native``:
    the object's values are JSON-native already (its service model has no timestamp or blob
    shape), so the per-value conversion walk is skipped.
    """
    names = _COLUMN_NAMES
    record: dict[str, Any] = {}
    for aws_name, value in aws_object.items():
        if aws_name == "ResponseMetadata":
            continue
        name = names.get(aws_name) or column_name(aws_name)
        if name == "tags":
            record[name] = tag_map(value)
        else:
            record[name] = value if native else json_native(value)
    for name, value in standard.items():
        record[name] = tag_map(value) if name == "tags" else json_native(value)
    return record


def snake_keys(names: Iterable[str]) -> set[str]:
    """The columns a set of top-level AWS property names becomes."""
    return {column_name(name) for name in names if name != "ResponseMetadata"}
