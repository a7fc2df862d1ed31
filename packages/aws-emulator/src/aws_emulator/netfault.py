"""Network faults on loopback: a TCP proxy whose behaviour tests switch at run time.

>>> with Emulator.start() as aws, TcpProxy(aws.port) as proxy:
...     run_tap({..., "endpoint_url": proxy.endpoint_url})   # through the proxy
...     proxy.set_mode("blackhole")                          # every call now hangs
...     proxy.outage(5.0, "refuse")                          # 5 s of ECONNREFUSED, then pass

The proxy listens on 127.0.0.1 in front of a target port (the emulator); the emulator keeps
running and keeps its state whatever the proxy does. Modes:

``pass``       relay bytes both ways (the default).
``refuse``     the listening socket is closed: a connect gets ECONNREFUSED. Open connections are
               reset, as when a server goes away.
``reset``      accept, read the request, then close with SO_LINGER 0: the client sees a TCP
               RST (ECONNRESET; botocore's ``ConnectionClosedError``). Open connections are
               reset too.
``blackhole``  accept and never answer: requests hang until the client's read timeout. Open
               connections stop relaying (their bytes are read and dropped).

:meth:`TcpProxy.outage` switches to a mode for some seconds and back to ``pass`` by itself
(a timer thread); :meth:`TcpProxy.wait_until_passing` waits for that. :class:`NotAwsServer` is
a tiny HTTP server that answers ``200`` with an HTML page to anything: an endpoint that is up
but is not AWS (a captive portal, a wrong URL). Threads only, no dependencies.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal

__all__ = ["MODES", "Mode", "NotAwsServer", "TcpProxy"]

Mode = Literal["pass", "refuse", "reset", "blackhole"]
MODES: tuple[Mode, ...] = ("pass", "refuse", "reset", "blackhole")
_POLL_SECONDS = 0.05
_CHUNK = 65536


def _rst_close(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _reset_after_request(client: socket.socket, wait_seconds: float = 5.0) -> None:
    with contextlib.suppress(OSError, ValueError), selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ)
        if selector.select(wait_seconds):
            client.recv(_CHUNK)
    _rst_close(client)


class _Link:
    """One accepted client connection and, while relaying, its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.lock = threading.Lock()
        self.closed = False

    def close(self, *, reset: bool = False) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for sock in (self.client, self.upstream):
                if sock is None:
                    continue
                if reset:
                    _rst_close(sock)
                else:
                    with contextlib.suppress(OSError):
                        sock.close()

    def drop_upstream(self) -> None:
        """Stop relaying (black hole): the client's connection stays open, unanswered."""
        with self.lock:
            if self.upstream is not None:
                with contextlib.suppress(OSError):
                    self.upstream.close()
                self.upstream = None


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target_port``; see the module docstring."""

    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1", port: int = 0):
        self.target = (target_host, target_port)
        self._lock = threading.RLock()
        self._mode: Mode = "pass"
        self._links: set[_Link] = set()
        self._stopped = threading.Event()
        self._restore_at: float | None = None
        self._timer: threading.Timer | None = None
        self.counts: Counter[str] = Counter()  # connections accepted per mode
        self._listener: socket.socket | None = self._listen(port)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._acceptor.start()

    # -- public API ----------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """Switch now; cancels a running :meth:`outage` timer."""
        with self._lock:
            self._cancel_timer()
            self._switch(mode)

    def outage(self, seconds: float, mode: Mode = "refuse") -> None:
        """``mode`` for ``seconds``, then ``pass`` again (returns at once)."""
        if seconds <= 0:
            raise ValueError("seconds must be > 0")
        with self._lock:
            self._cancel_timer()
            self._switch(mode)
            self._restore_at = time.monotonic() + seconds
            self._timer = threading.Timer(seconds, self._end_outage)
            self._timer.daemon = True
            self._timer.start()

    def wait_until_passing(self, timeout: float = 60.0) -> None:
        """Block until the mode is ``pass`` (the end of an :meth:`outage`)."""
        deadline = time.monotonic() + timeout
        while self._mode != "pass":
            if time.monotonic() > deadline:
                raise TimeoutError(f"proxy still in mode {self._mode!r}")
            time.sleep(0.01)

    def stats(self) -> dict[str, int]:
        """Connections accepted per mode (``refuse`` never accepts) and those open now."""
        with self._lock:
            return {**dict(self.counts), "open": len(self._links)}

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            self._cancel_timer()
            if self._listener is not None:
                with contextlib.suppress(OSError):
                    self._listener.close()
                self._listener = None
            links = list(self._links)
            self._links.clear()
        for link in links:
            link.close()
        self._acceptor.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        return sock

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._restore_at = None

    def _end_outage(self) -> None:
        with self._lock:
            if self._restore_at is None or self._stopped.is_set():
                return
            self._timer = None
            self._restore_at = None
            self._switch("pass")

    def _switch(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if self._stopped.is_set():
            raise RuntimeError("the proxy is closed")
        if mode == "refuse" and self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        elif mode != "refuse" and self._listener is None:
            self._listener = self._listen(self.port)
        self._mode = mode
        if mode == "pass":
            return
        for link in list(self._links):
            if mode == "blackhole":
                link.drop_upstream()
            else:
                link.close(reset=True)
                self._links.discard(link)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(_POLL_SECONDS)
                continue
            try:
                with selectors.DefaultSelector() as selector:
                    selector.register(listener, selectors.EVENT_READ)
                    if not selector.select(_POLL_SECONDS):
                        continue
                client, _ = listener.accept()
            except (OSError, ValueError):  # closed under us by set_mode("refuse") or close()
                continue
            self._handle(client)

    def _handle(self, client: socket.socket) -> None:
        with self._lock:
            mode = self._mode
            self.counts[mode] += 1
        if mode == "refuse":  # a connect that raced the listener's close
            _rst_close(client)
            return
        if mode == "reset":  # wait for the request, so the RST hits it, not the handshake
            threading.Thread(target=_reset_after_request, args=(client,), daemon=True).start()
            return
        upstream = None
        if mode == "pass":
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _rst_close(client)
                return
        link = _Link(client, upstream)
        with self._lock:
            self._links.add(link)
        threading.Thread(
            target=self._relay, args=(link,), name="tcp-proxy-link", daemon=True
        ).start()

    def _relay(self, link: _Link) -> None:
        try:
            while not self._stopped.is_set() and not link.closed:
                with link.lock:
                    upstream = link.upstream
                socks = [link.client] if upstream is None else [link.client, upstream]
                with selectors.DefaultSelector() as selector:
                    for sock in socks:
                        selector.register(sock, selectors.EVENT_READ)
                    events = selector.select(_POLL_SECONDS)
                for key, _ in events:
                    ready = key.fileobj
                    assert isinstance(ready, socket.socket)
                    data = ready.recv(_CHUNK)
                    if not data:
                        return
                    with link.lock:
                        upstream = link.upstream
                    if upstream is None:
                        continue  # black hole: read and drop
                    peer = upstream if ready is link.client else link.client
                    peer.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            link.close()
            with self._lock:
                self._links.discard(link)


class _NotAwsHandler(BaseHTTPRequestHandler):
    PAGE = (
        b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head>"
        b"<body><h1>It works!</h1><p>This is not AWS.</p></body></html>\n"
    )

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(self.PAGE)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


class NotAwsServer:
    """An HTTP server on 127.0.0.1 answering 200 with an HTML page to any request."""

    def __init__(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _NotAwsHandler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="not-aws", daemon=True
        )
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> NotAwsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
