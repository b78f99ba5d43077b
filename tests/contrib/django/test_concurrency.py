"""Concurrent requests never share a session: each request's contacts travel in its own
mutation request. Every request holds its view open until all have arrived (a barrier), so
all sessions are alive at the same time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import AsyncClient, Client

from sequin_orm.emulator import Emulator
from tests.contrib.django.helpers import last_names, mutations
from tests.contrib.django.testapp import views

REQUESTS = 16
PER_REQUEST = 3


def assert_one_request_per_marker(emu: Emulator, markers: list[str]) -> None:
    bodies = mutations(emu)
    assert len(bodies) == len(markers)
    seen = {}
    for body in bodies:
        names = last_names(body)
        marker = names[0].rsplit("-", 1)[0]
        assert names == [f"{marker}-{i}" for i in range(PER_REQUEST)], names
        seen[marker] = names
    assert sorted(seen) == sorted(markers)


@pytest.fixture
def barrier() -> Iterator[threading.Barrier]:
    views.BARRIER = threading.Barrier(REQUESTS)
    yield views.BARRIER
    views.BARRIER = None


def test_threads_with_their_own_clients_never_share_a_session(
    emu: Emulator, barrier: threading.Barrier
) -> None:
    markers = [f"thread{i}" for i in range(REQUESTS)]

    def request(marker: str) -> int:
        response = Client().get("/create/", {"marker": marker, "count": str(PER_REQUEST)})
        return int(response.status_code)

    with ThreadPoolExecutor(REQUESTS) as pool:
        statuses = list(pool.map(request, markers))

    assert statuses == [200] * REQUESTS
    assert_one_request_per_marker(emu, markers)


def test_asyncio_tasks_through_the_async_handler_never_share_a_session(emu: Emulator) -> None:
    markers = [f"task{i}" for i in range(REQUESTS)]

    async def run() -> list[int]:
        views.ASYNC_GATE = views.AsyncGate(REQUESTS)
        try:
            client = AsyncClient()
            responses = await asyncio.gather(
                *(
                    client.get("/async-create/", {"marker": m, "count": str(PER_REQUEST)})
                    for m in markers
                )
            )
        finally:
            views.ASYNC_GATE = None
        return [int(r.status_code) for r in responses]

    assert asyncio.run(run()) == [200] * REQUESTS
    assert_one_request_per_marker(emu, markers)


def test_asgi_handler_driven_by_tasks_mixing_sync_and_async_views(emu: Emulator) -> None:
    """The real ASGIHandler (what uvicorn runs), sync views in threads, async in the loop."""
    from django.core.handlers.asgi import ASGIHandler

    markers = [f"asgi{i}" for i in range(REQUESTS)]
    handler = ASGIHandler()

    async def call(marker: str, path: str) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": f"marker={marker}&count={PER_REQUEST}".encode(),
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
        }
        messages = [{"type": "http.request", "body": b"", "more_body": False}]
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)  # no disconnect while the request runs
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await handler(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        return int(start["status"])  # type: ignore[call-overload]

    async def run() -> list[int]:
        paths = ["/async-create/" if i % 2 else "/create/" for i in range(REQUESTS)]
        return await asyncio.gather(*(call(m, p) for m, p in zip(markers, paths, strict=True)))

    assert asyncio.run(run()) == [200] * REQUESTS
    assert_one_request_per_marker(emu, markers)
