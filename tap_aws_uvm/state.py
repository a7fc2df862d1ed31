"""A state file is checked before any AWS call: what singer-sdk would read from it must be the
shape it writes (``bookmarks.<stream>.partitions[].context`` and a date-time bookmark), or the
sync stops with one line naming the file and the place at fault."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tap_aws_uvm.records import parse_timestamp
from tap_aws_uvm.settings import ACCOUNT_ID

PROGRESS_MARKERS = "progress_markers"


def state_problem(state: Mapping[str, Any], incremental: Mapping[str, str]) -> str | None:
    """The first problem of a parsed state, or None. ``incremental``: stream -> replication key
    of the streams whose bookmarks the tap reads."""
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        return f"'bookmarks' must be an object, not {type(bookmarks).__name__}"
    for stream, entry in bookmarks.items():
        if stream not in incremental:
            continue  # a stream of another version, or another tap: singer-sdk ignores it
        where = f"bookmarks.{stream}"
        if not isinstance(entry, Mapping):
            return f"'{where}' must be an object, not {type(entry).__name__}"
        problem = _bookmark_problem(entry, where)
        if problem:
            return problem
        partitions = entry.get("partitions", [])
        if not isinstance(partitions, Sequence) or isinstance(partitions, str):
            return f"'{where}.partitions' must be a list, not {type(partitions).__name__}"
        for n, partition in enumerate(partitions):
            problem = _partition_problem(partition, f"{where}.partitions[{n}]")
            if problem:
                return problem
    return None


def _partition_problem(partition: Any, where: str) -> str | None:
    if not isinstance(partition, Mapping):
        return f"'{where}' must be an object, not {type(partition).__name__}"
    context = partition.get("context")
    if not isinstance(context, Mapping):
        return f"'{where}' has no 'context' object"
    account = context.get("account_id")
    if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
        return f"'{where}.context.account_id' must be a 12-digit account id"
    if not isinstance(context.get("region"), str):
        return f"'{where}.context.region' must be a region name"
    return _bookmark_problem(partition, where)


def _bookmark_problem(entry: Mapping[str, Any], where: str) -> str | None:
    for holder, path in (
        (entry, where),
        (entry.get(PROGRESS_MARKERS), f"{where}.{PROGRESS_MARKERS}"),
    ):
        if not isinstance(holder, Mapping):
            continue
        value = holder.get("replication_key_value")
        if value is None:
            continue
        if not isinstance(value, str):
            return f"'{path}.replication_key_value' must be a date-time string"
        try:
            parse_timestamp(value)
        except ValueError:
            return f"'{path}.replication_key_value' is not a date-time: {value[:40]!r}"
    return None
