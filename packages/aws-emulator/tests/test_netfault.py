"""Network faults: the TCP proxy's modes and timed outages, with raw sockets and botocore."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_emulator import Emulator
from aws_emulator.netfault import NotAwsServer, TcpProxy
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

REGION = "ap-northeast-3"  # a region nothing else in this session seeds


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[TcpProxy]:
    with TcpProxy(emulator.port) as started:
        yield started


def ec2(endpoint_url: str, *, read_timeout: float = 30.0) -> Any:
    return boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=2,
            read_timeout=read_timeout,
        ),
    )


def http_get(port: int, timeout: float = 2.0) -> bytes:
    """One raw HTTP request to the emulator's health route through ``port``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)


# ---- raw sockets --------------------------------------------------------------------------


def test_pass_relays_both_ways(proxy: TcpProxy) -> None:
    answer = http_get(proxy.port)
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b'{"ok": true}')
    assert proxy.stats()["pass"] == 1


def test_refuse_closes_the_listening_socket(proxy: TcpProxy) -> None:
    proxy.set_mode("refuse")
    with pytest.raises(ConnectionRefusedError) as info:
        socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    assert info.value.errno == errno.ECONNREFUSED
    proxy.set_mode("pass")
    assert http_get(proxy.port).startswith(b"HTTP/1.1 200")  # the same port listens again


def test_reset_accepts_then_sends_rst(proxy: TcpProxy) -> None:
    proxy.set_mode("reset")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    assert proxy.stats()["reset"] == 1


def test_blackhole_accepts_and_never_answers(proxy: TcpProxy) -> None:
    proxy.set_mode("blackhole")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1024)
    assert proxy.stats()["blackhole"] == 1


def test_switching_away_from_pass_cuts_open_connections(proxy: TcpProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as sock:
        deadline = time.monotonic() + 2
        while proxy.stats()["open"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.stats()["open"] == 1
        proxy.set_mode("reset")
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    assert proxy.stats()["open"] == 0


def test_outage_ends_by_itself(proxy: TcpProxy) -> None:
    started = time.monotonic()
    proxy.outage(0.6, "refuse")
    assert proxy.mode == "refuse"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
    proxy.wait_until_passing(timeout=5)
    assert time.monotonic() - started >= 0.6
    assert http_get(proxy.port).startswith(b"HTTP/1.1 200")
    with pytest.raises(ValueError, match="seconds must be > 0"):
        proxy.outage(0, "reset")
    with pytest.raises(ValueError, match="mode must be one of"):
        proxy.set_mode("flaky")  # type: ignore[arg-type]


def test_set_mode_cancels_a_running_outage(proxy: TcpProxy) -> None:
    proxy.outage(0.3, "blackhole")
    proxy.set_mode("reset")
    time.sleep(0.5)
    assert proxy.mode == "reset"  # the outage's timer no longer restores pass


# ---- botocore -----------------------------------------------------------------------------


def test_botocore_sees_each_mode_and_the_emulator_keeps_its_state(proxy: TcpProxy) -> None:
    client = ec2(proxy.endpoint_url)
    vpc_id = client.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    try:
        proxy.set_mode("refuse")
        with pytest.raises(EndpointConnectionError):
            client.describe_vpcs(VpcIds=[vpc_id])
        proxy.set_mode("reset")
        with pytest.raises(ConnectionClosedError):
            client.describe_vpcs(VpcIds=[vpc_id])
        proxy.set_mode("blackhole")
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            ec2(proxy.endpoint_url, read_timeout=0.5).describe_vpcs(VpcIds=[vpc_id])
        assert 0.5 <= time.monotonic() - started < 2.0
        proxy.set_mode("pass")
        vpcs = client.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        assert [v["CidrBlock"] for v in vpcs] == ["10.77.0.0/16"]
    finally:
        proxy.set_mode("pass")
        client.delete_vpc(VpcId=vpc_id)


def test_botocore_through_a_timed_outage(proxy: TcpProxy) -> None:
    client = ec2(proxy.endpoint_url)
    proxy.outage(1.0, "refuse")
    with pytest.raises(EndpointConnectionError):
        client.describe_regions()
    proxy.wait_until_passing(timeout=5)
    assert client.describe_regions()["Regions"]


def test_not_aws_server_answers_html() -> None:
    with NotAwsServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
            sock.sendall(b"POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.0 200 OK")
        assert b"Content-Type: text/html; charset=utf-8" in head
        # botocore parses the page as an empty answer: a client must check for itself
        answer = ec2(server.endpoint_url).describe_regions()
        assert "Regions" not in answer
        meta = answer["ResponseMetadata"]
        assert meta["HTTPStatusCode"] == 200
        assert meta["HTTPHeaders"]["content-type"] == "text/html; charset=utf-8"
        assert "RequestId" not in meta
