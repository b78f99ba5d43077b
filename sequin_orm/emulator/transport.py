"""In-process httpx transports that call the emulator's handler directly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import httpx

from sequin_orm.emulator.protocol import Response

HandleFn = Callable[[str, str, str, Mapping[str, str], bytes], Response]
DISCONNECTED = "Server disconnected without sending a response."


def _call(handle: HandleFn, request: httpx.Request, body: bytes) -> httpx.Response:
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    query = request.url.query.decode("ascii")
    response = handle(request.method, path, query, dict(request.headers.items()), body)
    if response.drop:
        raise httpx.RemoteProtocolError(DISCONNECTED, request=request)
    return httpx.Response(
        response.status, headers=list(response.headers), content=response.body, request=request
    )


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike; a dropped connection
    raises ``httpx.RemoteProtocolError``."""

    def __init__(self, handle: HandleFn) -> None:
        self._handle = handle

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` in this thread."""
        return _call(self._handle, request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` from a worker thread, so waits never block the event loop."""
        body = await request.aread()
        return await asyncio.to_thread(_call, self._handle, request, body)


class AsyncEmulatorTransport(EmulatorTransport):
    """The same transport, typed for ``httpx.AsyncClient`` (``Emulator.async_transport()``)."""
