"""The fan-out in process: partitions in order, failures classified, every worker released."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from tap_aws_uvm.coverage import DENIED, DISABLED, FAILED, NOT_ENABLED, UNREACHABLE
from tap_aws_uvm.fanout import PAGE_RECORDS, Fanout, SharedResults, classify


def client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeInstances")


@pytest.mark.parametrize(
    ("exc", "enabled", "outcome", "code"),
    [
        (client_error("AccessDenied"), True, DENIED, "AccessDenied"),
        (client_error("AccessDeniedException"), True, DENIED, "AccessDeniedException"),
        (client_error("UnauthorizedOperation"), True, DENIED, "UnauthorizedOperation"),
        (client_error("AuthorizationError"), True, DENIED, "AuthorizationError"),
        (client_error("OptInRequired"), True, DISABLED, "OptInRequired"),
        # an auth error is a disabled region only where DescribeRegions says it is not enabled
        (client_error("AuthFailure"), False, DISABLED, "AuthFailure"),
        (client_error("AuthFailure"), True, FAILED, "AuthFailure"),
        (client_error("AuthFailure"), None, FAILED, "AuthFailure"),
        (client_error("InvalidClientTokenId"), False, DISABLED, "InvalidClientTokenId"),
        (client_error("InvalidClientTokenId"), True, FAILED, "InvalidClientTokenId"),
        (client_error("UnrecognizedClientException"), True, FAILED, "UnrecognizedClientException"),
        (client_error("Throttling"), True, FAILED, "Throttling"),
        (client_error("InternalError"), True, FAILED, "InternalError"),
        (
            EndpointConnectionError(endpoint_url="https://x"),
            True,
            UNREACHABLE,
            "EndpointConnectionError",
        ),
        (ConnectTimeoutError(endpoint_url="https://x"), True, UNREACHABLE, "ConnectTimeoutError"),
        (ReadTimeoutError(endpoint_url="https://x"), True, UNREACHABLE, "ReadTimeoutError"),
        (
            ConnectionClosedError(endpoint_url="https://x"),
            True,
            UNREACHABLE,
            "ConnectionClosedError",
        ),
        (ValueError("boom"), True, FAILED, "ValueError"),
    ],
)
def test_classification(exc: BaseException, enabled: bool | None, outcome: str, code: str) -> None:
    assert classify(exc, region_enabled=enabled) == (outcome, code)


def test_not_enabled_rules_match_code_and_message_fragment() -> None:
    rules = ["InvalidAccessException", "AccessDeniedException:does not have access"]
    assert classify(client_error("InvalidAccessException", "not subscribed"), rules) == (
        NOT_ENABLED,
        "InvalidAccessException",
    )
    assert classify(
        client_error("AccessDeniedException", "Invoking account does not have access"), rules
    ) == (NOT_ENABLED, "AccessDeniedException")
    assert classify(client_error("AccessDeniedException", "is not authorized"), rules) == (
        DENIED,
        "AccessDeniedException",
    )


def records(n: int, tag: str) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"tag": tag, "i": i}


def test_partitions_come_back_in_order_with_every_record() -> None:
    fanout = Fanout(4)
    try:
        size = 3 * PAGE_RECORDS + 7
        feeds = [fanout.start_partition(lambda t=t: records(size, t)) for t in "abcdef"]
        for tag, feed in zip("abcdef", feeds, strict=True):
            got = [record for page in fanout.consume(feed) for record in page]
            assert got == list(records(size, tag))
            assert feed.failure is None
    finally:
        fanout.close()


def test_a_failing_partition_keeps_its_records_and_reports_its_failure() -> None:
    def produce() -> Iterator[dict[str, Any]]:
        yield from records(5, "x")
        raise client_error("UnauthorizedOperation", "no")

    fanout = Fanout(2)
    try:
        feed = fanout.start_partition(produce)
        got = [record for page in fanout.consume(feed) for record in page]
        assert got == list(records(5, "x"))
        assert feed.failure is not None
        assert (feed.failure.outcome, feed.failure.code, feed.failure.message) == (
            DENIED,
            "UnauthorizedOperation",
            "no",
        )
    finally:
        fanout.close()


def test_close_releases_workers_blocked_on_full_queues() -> None:
    fanout = Fanout(2)
    started = threading.Event()

    def endless() -> Iterator[dict[str, Any]]:
        started.set()
        while True:
            yield {"x": 1}

    fanout.start_partition(endless)
    fanout.start_partition(endless)
    assert started.wait(5)
    time.sleep(0.2)  # both workers are now blocked on their full queues
    fanout.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        t.name.startswith("partition") and t.is_alive() for t in threading.enumerate()
    ):
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("partition")]


def test_map_ordered_keeps_order() -> None:
    fanout = Fanout(3)
    try:
        assert list(fanout.map_ordered(lambda x: x * x, range(50))) == [x * x for x in range(50)]
    finally:
        fanout.close()


def test_shared_result_is_made_once_for_its_users_then_released() -> None:
    shared = SharedResults()
    shared.expect(Counter({("a", "r", "listing"): 2}))
    made = []

    def make() -> list[int]:
        made.append(1)
        return [1, 2, 3]

    assert shared.get(("a", "r", "listing"), make) == [1, 2, 3]
    assert shared.get(("a", "r", "listing"), make) == [1, 2, 3]
    assert made == [1]
    assert shared._made == {}  # released after its last user
    # a key nobody announced is made for its caller and never kept
    assert shared.get(("b", "r", "listing"), make) == [1, 2, 3]
    assert made == [1, 1]
    assert shared._made == {}


def test_shared_failure_reaches_every_user() -> None:
    shared = SharedResults()
    shared.expect(Counter({"k": 2}))

    def make() -> None:
        raise client_error("AccessDeniedException")

    for _ in range(2):
        with pytest.raises(ClientError):
            shared.get("k", make)
    assert shared._made == {}
