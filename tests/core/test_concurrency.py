"""Requests in flight together: they overlap and never more than ``max_concurrency`` (or a sync's
rate limit) go at once; a 401 stops new ones; cancelling an ``AsyncSession`` commit after the
server applied a create leaves no duplicate; 200 tasks with their own sessions share nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm import AsyncSession, Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import AuthenticationError, CommitError, ConfigurationError
from sequin_orm.models import salesforce

from ..conftest import SYNCS, TOKEN

MUTATIONS = "/v1/mutations/run"
DELAY = 0.25


class Slow(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The emulator, each mutation taking ``DELAY`` seconds; counts what is in flight and when
    each request started and ended."""

    def __init__(self, emulator: Emulator, delay: float = DELAY) -> None:
        self._inner = emulator.transport()
        self._delay = delay
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.started: list[float] = []
        self.answered: list[tuple[float, int]] = []

    def _enter(self, request: httpx.Request) -> bool:
        if request.url.path != MUTATIONS:
            return False
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.started.append(time.monotonic())
        return True

    def _leave(self, response: httpx.Response) -> httpx.Response:
        with self._lock:
            self.in_flight -= 1
            self.answered.append((time.monotonic(), response.status_code))
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self._enter(request):
            return self._inner.handle_request(request)
        time.sleep(self._delay)
        return self._leave(self._inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._enter(request):
            return await self._inner.handle_async_request(request)
        await asyncio.sleep(self._delay)
        return self._leave(await self._inner.handle_async_request(request))


def _contacts(n: int) -> list[salesforce.Contact]:
    return [salesforce.Contact(LastName=f"Fremen {i}", Email=f"f{i}@sietch.org") for i in range(n)]


def _options(concurrency: int) -> dict[str, Any]:
    return {"syncs": SYNCS, "batch_size": 10, "max_concurrency": concurrency}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_requests_of_a_stage_overlap_and_never_more_than_the_limit(
    emulator: Emulator, kind: str
) -> None:
    slow = Slow(emulator)
    contacts = _contacts(80)  # 8 requests
    started = time.monotonic()
    if kind == "sync":
        with sequin_orm.Client(TOKEN, transport=slow, **_options(4)) as client:
            session = Session(client)
            for contact in contacts:
                session.add(contact)
            result = session.commit()
    else:

        async def commit() -> Any:
            async with sequin_orm.AsyncClient(TOKEN, transport=slow, **_options(4)) as client:
                session = AsyncSession(client)
                for contact in contacts:
                    session.add(contact)
                return await session.commit()

        result = asyncio.run(commit())
    elapsed = time.monotonic() - started

    assert result.created == contacts and result.requests_sent == 8
    assert slow.most_in_flight == 4
    assert elapsed < 8 * DELAY / 2  # sequential would take 2 s; four at once about 0.5 s


def test_a_known_sync_rate_limit_caps_the_requests_in_flight(emulator: Emulator) -> None:
    emulator.reset()
    sync = emulator.create_sync(
        "salesforce",
        ["salesforce:contact"],
        id=SYNCS["salesforce"],
    )
    slow = Slow(emulator, delay=0.05)
    with sequin_orm.Client(TOKEN, transport=slow, **_options(8)) as client:
        limit = {"allowed_requests": 100, "interval": 1, "max_concurrent_requests": 2}
        fetched = client.syncs.update(sync["id"], rate_limit=limit)
        assert fetched.rate_limit is not None and fetched.rate_limit.max_concurrent_requests == 2
        session = Session(client)
        for contact in _contacts(60):
            session.add(contact)
        assert session.commit().requests_sent == 6
    assert slow.most_in_flight == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_401_stops_new_requests_and_those_in_flight_are_recorded(
    emulator: Emulator, kind: str
) -> None:
    emulator.inject(kind="create", status=401, times=1)
    slow = Slow(emulator, delay=0.05)
    contacts = _contacts(100)  # 10 requests; 4 go at once
    error: AuthenticationError
    if kind == "sync":
        with sequin_orm.Client(TOKEN, transport=slow, **_options(4)) as client:
            session = Session(client)
            for contact in contacts:
                session.add(contact)
            with pytest.raises(AuthenticationError) as raised:
                session.commit()
            error = raised.value
    else:

        async def commit() -> AuthenticationError:
            async with sequin_orm.AsyncClient(TOKEN, transport=slow, **_options(4)) as client:
                session = AsyncSession(client)
                for contact in contacts:
                    session.add(contact)
                with pytest.raises(AuthenticationError) as raised:
                    await session.commit()
                return raised.value

        error = asyncio.run(commit())

    # Only the first wave went out: the 401 is one of its answers, and nothing was handed out
    # after it. (Comparing the transport's start times with the 401's answer time raced: a pool
    # thread given its request before the 401 came back may reach the transport after it.)
    result = error.result
    assert result is not None and result.requests_sent == len(slow.started) <= 4
    assert 401 in [status for _, status in slow.answered]
    assert len(result.created) == 10 * sum(status == 200 for _, status in slow.answered)
    assert len(result.created) + len(result.failed) == 100
    assert all(c.is_new and c.is_dirty for c in result.failed)


def test_cancelling_an_async_commit_after_the_server_applied_leaves_no_duplicate(
    emulator: Emulator,
) -> None:
    applied = threading.Event()

    class AppliesThenHangs(httpx.AsyncBaseTransport):
        """Applies the mutation, then never answers (until cancelled)."""

        def __init__(self) -> None:
            self._inner = emulator.transport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            if request.url.path == MUTATIONS and not applied.is_set():
                applied.set()
                await asyncio.sleep(3600)
            return response

    contacts = _contacts(3)

    async def scenario() -> AsyncSession:
        async with sequin_orm.AsyncClient(
            TOKEN, transport=AppliesThenHangs(), syncs=SYNCS
        ) as client:
            session = AsyncSession(client)
            for contact in contacts:
                session.add(contact)
            task = asyncio.ensure_future(session.commit())
            while not applied.is_set():
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert all(c.state is State.UNKNOWN for c in contacts)
            assert session.last_result is not None and len(session.last_result.unknown) == 3
            again = await session.commit()  # nothing may be sent twice
            assert again.requests_sent == 0
            return session

    asyncio.run(scenario())
    assert len(emulator.records("salesforce:contact")) == 3


def test_two_hundred_tasks_with_their_own_sessions_share_nothing(emulator: Emulator) -> None:
    async def one(client: sequin_orm.AsyncClient, n: int) -> tuple[str | None, int]:
        async with AsyncSession(client) as session:
            contact = salesforce.Contact(LastName=f"Task {n}")
            await contact.asave()  # enqueued in this task's session
            await asyncio.sleep(0)  # let the other tasks interleave
            assert sequin_orm.current_session() is session
            assert session.new == (contact,)
        return contact.upstream_id, n

    async def everything() -> list[tuple[str | None, int]]:
        async with sequin_orm.AsyncClient(
            TOKEN, transport=emulator.async_transport(), syncs=SYNCS
        ) as client:
            return await asyncio.gather(*(one(client, n) for n in range(200)))

    outcomes = asyncio.run(everything())
    stored = {
        r["upstream_id"]: r["data"]["LastName"] for r in emulator.records("salesforce:contact")
    }
    assert len(stored) == 200 and len(emulator.mutation_requests("create")) == 200
    assert all(stored[upstream_id] == f"Task {n}" for upstream_id, n in outcomes if upstream_id)


def test_asave_without_a_session_uses_the_default_async_client(emulator: Emulator) -> None:
    sequin_orm.configure(TOKEN, syncs=SYNCS, transport=emulator.transport(), max_concurrency=2)

    async def scenario() -> None:
        contact = salesforce.Contact(LastName="Atreides")
        saved = await contact.asave()
        assert saved.created and contact.upstream_id == saved.upstream_id
        assert sequin_orm.get_async_client().settings.max_concurrency == 2
        contact.Title = "Duke"
        assert (await contact.asave()).updated
        assert (await contact.adelete()).deleted and contact.deleted

    asyncio.run(scenario())
    asyncio.run(scenario())  # a new event loop gets its own async client
    assert len(emulator.mutation_requests()) == 6


def test_an_async_client_talks_real_http_to_the_emulator(emulator: Emulator) -> None:
    async def scenario(url: str) -> list[str | None]:
        async with sequin_orm.AsyncClient(TOKEN, url, syncs=SYNCS, max_concurrency=4) as client:
            async with AsyncSession(client) as session:
                for contact in _contacts(25):
                    session.add(contact)
            read = [c.Email async for c in salesforce.Contact.objects.using(client).aiter(limit=7)]
            syncs = await client.syncs.list(provider="salesforce")
            assert [s.id for s in syncs] == [SYNCS["salesforce"]]
            return read

    with emulator.serve() as url:
        emails = asyncio.run(scenario(url))
    assert sorted(e for e in emails if e) == sorted(f"f{i}@sietch.org" for i in range(25))


def test_a_commit_error_in_an_async_with_block_rolls_nothing_back_silently(
    emulator: Emulator,
) -> None:
    emulator.inject(kind="create", error="LastName: required")

    async def scenario() -> None:
        async with sequin_orm.AsyncClient(
            TOKEN, transport=emulator.transport(), syncs=SYNCS
        ) as client:
            with pytest.raises(CommitError, match="LastName: required") as raised:
                async with AsyncSession(client):
                    await salesforce.Contact(LastName="").asave()
            assert raised.value.result.failed[0].is_new

    asyncio.run(scenario())


def test_a_transport_of_the_wrong_kind_is_refused_when_the_client_is_built() -> None:
    class SyncOnly(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200)

    class AsyncOnly(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200)

    with pytest.raises(ConfigurationError, match="AsyncClient"):
        sequin_orm.Client(TOKEN, transport=AsyncOnly())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="sync clients only"):
        sequin_orm.AsyncClient(TOKEN, transport=SyncOnly())  # type: ignore[arg-type]
