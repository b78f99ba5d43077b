"""A real HTTP/1.1 server (stdlib ``ThreadingHTTPServer``) in front of the handler."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from sequin_orm.emulator.transport import HandleFn


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) refuses bursts of concurrent clients (tests under load).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handle: HandleFn) -> None:
        super().__init__(address, _RequestHandler)
        self.handle_fn = handle
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections closed under a request are expected (drops, shutdown): stay quiet."""

    def close_connections(self) -> None:
        """Shut every open client connection (idle keep-alive ones included)."""
        with self.connections_lock:
            for connection in self.connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._server.connections_lock:
            self._server.connections.add(self.connection)

    def finish(self) -> None:
        with self._server.connections_lock:
            self._server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request log lines."""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        headers = dict(self.headers.items())
        response = self._server.handle_fn(self.command, path, query, headers, self._read_body())
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()


@contextmanager
def running_server(handle: HandleFn, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``handle`` on ``host:port`` in a background thread; yields the base URL."""
    server = _Server((host, port), handle)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.01},
        daemon=True,
        name="sequin-emulator",
    )
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
    try:
        yield f"http://{shown}:{bound_port}"
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
