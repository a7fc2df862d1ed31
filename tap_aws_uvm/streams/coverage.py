"""The tap's own stream: what every partition of the sync ended in, as data.

One record per partition attempted, and one per selected stream x account that was
``not_entered`` or ``suspended``, written once every other stream is done (DESIGN.md "the
coverage stream"). With ``synced_at`` on every record, it is what deletion is derived from
downstream: a resource is gone once a later sync's partition for it is ``ok`` and did not
emit it (README "When an asset is gone").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from typing_extensions import override

from tap_aws_uvm.client import ORGANIZATION, AwsStream


class SyncCoverageStream(AwsStream):
    """Partition outcomes of this sync; no AWS call."""

    name = "sync_coverage"
    primary_keys = ("synced_at", "stream", "account_id", "region")
    scope: ClassVar[str] = ORGANIZATION
    calls_aws: ClassVar[bool] = False

    @override
    def get_records(self, context: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        if self._runtime is None:
            return
        yield from self._runtime.coverage_records()
