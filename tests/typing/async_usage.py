"""Typed usage of the async API and concurrent commits: checked by `mypy --strict` and pyright,
never executed.

Each `# type: ignore[code]` marks a line that MUST be a type error (see core_usage.py).
"""

# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

from typing_extensions import assert_type

import sequin_orm
from sequin_orm import AsyncClient, AsyncConsumer, AsyncMessage, AsyncSession, CommitResult
from sequin_orm.consumers import AsyncConsumerManager, HttpConsumer, MessageBatch
from sequin_orm.credentials import AsyncCredentialManager
from sequin_orm.models import salesforce, stripe
from sequin_orm.progress import ProgressBar, progress_bar
from sequin_orm.results import SaveResult
from sequin_orm.streams import AsyncStreamManager
from sequin_orm.syncs import AsyncSyncManager, Sync


async def typed_async_client() -> None:
    async with AsyncClient("token", max_concurrency=8, max_retries=3) as client:
        assert_type(client, AsyncClient)
        assert_type(client.syncs, AsyncSyncManager)
        assert_type(client.credentials, AsyncCredentialManager)
        assert_type(client.streams, AsyncStreamManager)
        assert_type(client.consumers, AsyncConsumerManager)
        assert_type(await client.syncs.get("sync-id"), Sync)
        assert_type(await client.syncs.list(provider="stripe"), list[Sync])
        assert_type(await client.consumers.get("consumer-id"), HttpConsumer)
        await client.syncs.list(provider=1)  # type: ignore[arg-type]
    AsyncClient(max_concurrency="4")  # type: ignore[arg-type]
    sequin_orm.Client(max_concurrency=4, transport=None)
    assert_type(sequin_orm.get_async_client(), AsyncClient)


async def typed_async_session(client: AsyncClient) -> None:
    async with AsyncSession(client) as session:
        customer = stripe.Customer(email="chani@sietch.org")
        assert_type(await customer.asave(), SaveResult)
        assert_type(await customer.adelete(), SaveResult)
        session.add(customer)
        assert_type(await session.commit(progress=progress_bar()), CommitResult)
        await session.commit(progress=lambda done, total: None)
        await session.commit(progress=lambda done: None)  # type: ignore[arg-type, misc]
        await session.commit(await_consumers_timeout="5s")  # type: ignore[arg-type]
    bar = progress_bar("contacts")
    assert_type(bar, ProgressBar)
    bar(1, 10)


async def typed_async_reading(client: AsyncClient) -> None:
    async for contact in salesforce.Contact.objects.aiter(limit=50):
        assert_type(contact, salesforce.Contact)
    async for contact in salesforce.Contact.objects.using(client).aiter():
        assert_type(contact, salesforce.Contact)


async def typed_async_consumer(client: AsyncClient) -> None:
    consumer = AsyncConsumer("consumer-id", client)
    batch = await consumer.receive_batch(batch_size=10)
    assert_type(batch, MessageBatch[AsyncMessage])
    for message in await consumer.receive():
        assert_type(message, AsyncMessage)
        await message.ack()
    async with consumer.stream(stop_when_empty=True) as messages:
        async for message in messages:
            assert_type(message.record_as(salesforce.Contact), salesforce.Contact)
            await message.nack()
