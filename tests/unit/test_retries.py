"""The call policy in process: which answers are retried, for how long, and the breaker."""

from __future__ import annotations

import http.server
import logging
import threading
import time
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from tap_aws_uvm.retries import (
    CALL_STARTED,
    Breaker,
    CallLimiter,
    CallPolicy,
    EndpointNotAws,
    EndpointUnreachable,
    SyncStopped,
)

URL = "https://ec2.us-east-1.amazonaws.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(clock: Clock, *, attempts: int = 10, timeout: float = 90) -> CallPolicy:
    return CallPolicy(
        limiter=CallLimiter(2),
        max_attempts=attempts,
        call_timeout_seconds=timeout,
        clock=clock,
        rng=lambda: 1.0,  # the largest back-off: bounds are checked at their worst
    )


def answer(code: str | None, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    parsed: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": status}}
    if code:
        parsed["Error"] = {"Code": code}
    return (SimpleNamespace(headers=headers or {}, status_code=status), parsed)


def ask(
    p: CallPolicy, clock: Clock, attempts: int, started: float = 1000.0, **kwargs: Any
) -> float | None:
    context = {CALL_STARTED: started}
    return p._needs_retry(
        endpoint=SimpleNamespace(host=URL),
        attempts=attempts,
        request_dict={"context": context},
        **kwargs,
    )


@pytest.mark.parametrize(
    ("code", "status", "retried"),
    [
        ("Throttling", 400, True),
        ("ThrottlingException", 400, True),
        ("RequestLimitExceeded", 503, True),
        ("SlowDown", 503, True),
        (None, 500, True),
        (None, 503, True),
        ("InternalError", 500, True),
        ("AccessDenied", 403, False),
        ("ValidationException", 400, False),
        (None, 200, False),
    ],
)
def test_what_is_retried(code: str | None, status: int, retried: bool) -> None:
    clock = Clock()
    delay = ask(policy(clock), clock, 1, response=answer(code, status))
    assert (delay is not None) is retried
    if retried:
        assert delay == 1.0  # 2 ** (1 - 1) at full jitter


def test_throttling_stops_at_max_attempts_with_capped_backoff() -> None:
    clock = Clock()
    p = policy(clock, attempts=10, timeout=3600)
    delays = [ask(p, clock, n, response=answer("Throttling", 400)) for n in range(1, 11)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0, 20.0, None]


def test_retry_after_is_never_shortened() -> None:
    clock = Clock()
    response = answer("ThrottlingException", 429, {"Retry-After": "7"})
    assert ask(policy(clock), clock, 1, response=response) == 7.0


def test_connection_failures_retry_until_the_call_timeout() -> None:
    clock = Clock()
    p = policy(clock, attempts=2, timeout=30)  # max_attempts does not limit them
    errors = [
        EndpointConnectionError(endpoint_url=URL),
        ConnectionClosedError(endpoint_url=URL),
        ReadTimeoutError(endpoint_url=URL),
    ]
    for error in errors:
        assert ask(p, clock, 5, caught_exception=error) == 16.0
    clock.now = 1000.0 + 20  # 20 s spent: 16 more would pass the 30 s budget
    assert ask(p, clock, 5, caught_exception=errors[0]) is None


def test_other_exceptions_are_not_retried() -> None:
    clock = Clock()
    p = policy(clock)
    assert ask(p, clock, 1, caught_exception=ValueError("x")) is None
    assert ask(p, clock, 1, caught_exception=SyncStopped("stop")) is None


def test_the_first_connection_failure_on_an_endpoint_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tap-aws-uvm")
    clock = Clock()
    p = policy(clock)
    for _ in range(5):
        ask(p, clock, 1, caught_exception=EndpointConnectionError(endpoint_url=URL))
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == [
        f"Cannot reach {URL}: EndpointConnectionError; retrying quietly for up to 90s per call"
    ]
    # an answer to a call already on the wire when it failed proves nothing
    ask(p, clock, 1, response=answer(None))
    assert caplog.records[-1].levelname == "WARNING"
    clock.now = 1010.0
    ask(p, clock, 1, started=1005.0, response=answer(None))
    assert caplog.records[-1].getMessage() == f"{URL} answers again"


def test_after_stop_no_request_is_sent() -> None:
    p = policy(Clock())
    p.stop()
    with pytest.raises(SyncStopped):
        p._before_send(request=SimpleNamespace(url=f"{URL}/"))


def test_a_thread_waiting_for_a_slot_when_the_sync_stops_sends_nothing() -> None:
    p = policy(Clock())
    for _ in range(2):  # every slot taken
        p.limiter.acquire()
    outcome: list[BaseException | None] = []

    def send() -> None:
        try:
            p._before_send(request=SimpleNamespace(url=f"{URL}/"))
            outcome.append(None)
        except SyncStopped as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=send)
    waiter.start()
    time.sleep(0.05)  # it passed the stop check and waits in acquire
    p.stop()
    p.limiter.release()  # the slot it waited for comes free after the stop
    waiter.join(timeout=5)
    assert len(outcome) == 1
    assert isinstance(outcome[0], SyncStopped)
    assert p.limiter._slots.acquire(timeout=1)  # it gave the slot back


def test_the_slot_is_held_only_while_a_request_is_on_the_wire() -> None:
    p = policy(Clock())
    request = SimpleNamespace(url=f"{URL}/")
    p._before_send(request=request)
    p._before_send(request=request)  # the same thread, the same slot
    p._response_received()
    p._before_send(request=request)
    p.release()
    p.release()  # idempotent
    for _ in range(2):  # both slots are free again
        p.limiter.acquire()


def test_breaker_opens_after_partitions_in_a_row_and_closes_on_an_answer() -> None:
    breaker = Breaker(partitions=3)
    p = CallPolicy(limiter=CallLimiter(1), max_attempts=3, call_timeout_seconds=5, breaker=breaker)
    for _ in range(2):
        breaker.partition_unreachable(URL)
    assert not breaker.is_open(URL)
    breaker.answered(URL)
    for _ in range(3):
        breaker.partition_unreachable(URL)
    assert breaker.is_open(URL)
    with pytest.raises(EndpointUnreachable):
        p._before_send(request=SimpleNamespace(url=f"{URL}/x"))
    assert not breaker.is_open("https://sts.amazonaws.com")


@pytest.mark.parametrize(
    ("body", "html"),
    [
        (b"<!DOCTYPE html><html><body>portal</body></html>", True),
        (b"  \n<html><head></head></html>", True),
        (b'{"Accounts": []}', False),
        (b'<?xml version="1.0"?><DescribeRegionsResponse/>', False),
        (b"", False),
    ],
)
def test_an_html_page_is_not_aws(body: bytes, html: bool) -> None:
    p = policy(Clock())
    response = {"body": body, "status_code": 200, "headers": {"Content-Type": "text/html"}}
    if html:
        with pytest.raises(EndpointNotAws, match="answered HTTP 200 with an HTML page"):
            p._before_parse(response_dict=response)
    else:
        p._before_parse(response_dict=response)


def test_a_call_that_raises_after_it_was_sent_gives_its_slot_back() -> None:
    """An answer that is not AWS raises in before-parse, between before-send and
    response-received: after-call-error must give the slot back (every slot leaked so once a
    sync entered more accounts than max_concurrency, and it hung)."""

    class NotAws(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html><body>not AWS</body></html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotAws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        p = CallPolicy(limiter=CallLimiter(1), max_attempts=1, call_timeout_seconds=5)
        session = botocore.session.Session()
        session.set_credentials("testing", "testing")
        p.install(session.get_component("event_emitter"))
        ec2 = session.create_client(
            "ec2",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
            config=Config(retries={"total_max_attempts": 1}),
        )
        for _ in range(3):  # one slot: a leak would block the second call for ever
            with pytest.raises(EndpointNotAws):
                ec2.describe_regions()
        assert p.limiter._slots.acquire(timeout=1)
    finally:
        server.shutdown()
