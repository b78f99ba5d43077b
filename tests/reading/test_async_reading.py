"""The async side of reading and managing: ``objects.aiter()``, ``AsyncConsumer`` (receive,
ack/nack, ``async with stream()``) and ``AsyncClient``'s managers — against the emulator through
its transport and over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest

import sequin_orm
from sequin_orm import AsyncClient, AsyncConsumer, AsyncSession
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ConfigurationError, NotFoundError
from sequin_orm.models import salesforce

from ..conftest import SYNCS, TOKEN

T = TypeVar("T")
SF = SYNCS["salesforce"]


@pytest.fixture(params=["in-process", "loopback-http"])
def url(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[str | None]:
    if request.param == "in-process":
        yield None
        return
    with emulator.serve() as served:
        yield served


def run(url: str | None, emulator: Emulator, body: Callable[[AsyncClient], Awaitable[T]]) -> T:
    """Run ``body(client)`` on a fresh event loop with an ``AsyncClient`` on the emulator."""

    async def main() -> T:
        transport = emulator.transport() if url is None else None
        async with AsyncClient(
            TOKEN, url or "http://127.0.0.1", transport=transport, syncs=SYNCS
        ) as c:
            return await body(c)

    return asyncio.run(main())


def _records(emulator: Emulator, count: int) -> list[str]:
    return [
        str(
            emulator.create_record(
                SF, "salesforce:contact", {"FirstName": f"C{i}", "LastName": "Atreides"}
            )["upstream_id"]
        )
        for i in range(count)
    ]


def test_aiter_pages_through_every_record(emulator: Emulator, url: str | None) -> None:
    ids = _records(emulator, 23)

    async def read(client: AsyncClient) -> list[str | None]:
        return [
            c.upstream_id async for c in salesforce.Contact.objects.using(client).aiter(limit=5)
        ]

    assert sorted(i for i in run(url, emulator, read) if i) == sorted(ids)


def test_aiter_inside_an_async_session_joins_its_identity_map(emulator: Emulator) -> None:
    _records(emulator, 3)

    async def read(client: AsyncClient) -> bool:
        async with AsyncSession(client) as session:
            first = [c async for c in salesforce.Contact.objects.using(client).aiter()]
            again = [c async for c in salesforce.Contact.objects.using(client).aiter()]
            first[0].Title = "Naib"  # a loaded object that changes is saved by the session
            return all(a is b for a, b in zip(first, again, strict=True)) and bool(session.dirty)

    assert run(None, emulator, read)
    assert {r["data"].get("Title") for r in emulator.records("salesforce:contact")} == {
        "Naib",
        None,
    }


def test_aiter_uses_the_default_async_client(emulator: Emulator) -> None:
    sequin_orm.configure(TOKEN, syncs=SYNCS, transport=emulator.transport())
    _records(emulator, 4)

    async def read() -> int:
        return len([c async for c in salesforce.Contact.objects.aiter()])

    assert asyncio.run(read()) == 4


def test_a_sync_client_is_refused_by_aiter_and_an_async_one_by_iter(emulator: Emulator) -> None:
    with (
        sequin_orm.Client(TOKEN, transport=emulator.transport(), syncs=SYNCS) as client,
        pytest.raises(ConfigurationError, match="needs an AsyncClient"),
    ):
        asyncio.run(anext(salesforce.Contact.objects.using(client).aiter()))
    async_client = AsyncClient(TOKEN, transport=emulator.transport())
    with pytest.raises(ConfigurationError, match="bound to an AsyncClient"):
        next(iter(salesforce.Contact.objects.using(async_client).iter()))


@asynccontextmanager
async def _consumer(emulator: Emulator, client: AsyncClient) -> AsyncIterator[AsyncConsumer]:
    emulator.create_consumer(
        id="consumer-1", ack_wait_ms=60_000, filters={"collection_id": "salesforce:contact"}
    )
    yield AsyncConsumer("consumer-1", client)


def test_async_consumer_receives_acks_and_nacks(emulator: Emulator, url: str | None) -> None:
    ids = _records(emulator, 4)

    async def consume(client: AsyncClient) -> tuple[list[str | None], list[str | None]]:
        async with _consumer(emulator, client) as consumer:
            batch = await consumer.receive_batch(batch_size=4)
            first = [m.record_as(salesforce.Contact).upstream_id for m in batch.messages]
            await batch.messages[0].ack()
            await consumer.nack_all(batch.messages[1:])
            assert [m.settled for m in batch.messages] == ["acked"] + ["nacked"] * 3
            again = await consumer.receive(batch_size=10)
            await consumer.ack_all(again)
            return first, [m.record_as(salesforce.Contact).upstream_id for m in again]

    first, again = run(url, emulator, consume)
    assert sorted(i for i in first if i) == sorted(ids)
    assert sorted(i for i in again if i) == sorted(ids[1:])


def test_async_stream_acks_each_message_and_nacks_the_one_that_raised(emulator: Emulator) -> None:
    _records(emulator, 5)

    async def consume(client: AsyncClient) -> tuple[int, int]:
        handled = 0
        async with _consumer(emulator, client) as consumer:
            with pytest.raises(RuntimeError, match="boom"):
                async with consumer.stream(batch_size=5, wait_for=0) as messages:
                    async for _message in messages:
                        handled += 1
                        if handled == 3:
                            raise RuntimeError("boom")
            left = 0
            async with consumer.stream(batch_size=5, wait_for=0, stop_when_empty=True) as rest:
                async for _message in rest:
                    left += 1
        return handled, left

    handled, left = run(None, emulator, consume)
    assert handled == 3 and left == 3  # two acked; the third was nacked with the two unread


def test_async_managers_have_the_same_methods(emulator: Emulator, url: str | None) -> None:
    async def manage(client: AsyncClient) -> None:
        stream = await client.streams.create("async-dev")
        assert stream.slug == "async-dev" and stream in await client.streams.list()
        sync = await client.syncs.get(SF)
        assert sync.provider == "salesforce"
        renamed = await client.syncs.update(SF, name="Renamed")
        assert renamed.name == "Renamed"
        renamed.name = "Renamed again"
        with pytest.raises(ConfigurationError, match="came from an AsyncClient"):
            renamed.save()
        consumer = await client.consumers.create(stream.id, name="async-consumer")
        assert (await client.consumers.get(consumer.id)).name == "async-consumer"
        updated = await client.consumers.update(consumer.id, max_ack_pending=7)
        assert updated.max_ack_pending == 7
        await client.consumers.delete(consumer.id)
        with pytest.raises(NotFoundError):
            await client.consumers.get(consumer.id)
        credentials = await client.credentials.list(provider="salesforce")
        assert all(c.provider in (None, "salesforce") for c in credentials)

    run(url, emulator, manage)


def test_managers_of_an_async_client_need_no_default(emulator: Emulator) -> None:
    async def manage(client: AsyncClient) -> Any:
        return await client.syncs.list(provider="stripe")

    assert [s.id for s in run(None, emulator, manage)] == [SYNCS["stripe"]]
