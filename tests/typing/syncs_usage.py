"""Typed usage of syncs, records and consumers: checked by ``mypy --strict`` and pyright, never
executed (not a ``test_`` module). Each ``# type: ignore[code]`` MUST stay a type error."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from typing_extensions import assert_type

import sequin_orm
from sequin_orm.consumers import Consumer, ConsumerManager, HttpConsumer, Message, MessageStream
from sequin_orm.credentials import Credential, CredentialManager, Health
from sequin_orm.models import salesforce
from sequin_orm.reading import RecordManager, RecordPage
from sequin_orm.streams import Stream, StreamManager
from sequin_orm.syncs import RateLimit, Sync, SyncManager


def managers(client: sequin_orm.Client) -> None:
    assert_type(Sync.objects, SyncManager)
    assert_type(client.syncs, SyncManager)
    assert_type(Credential.objects, CredentialManager)
    assert_type(client.credentials, CredentialManager)
    assert_type(Stream.objects, StreamManager)
    assert_type(client.streams, StreamManager)
    assert_type(Consumer.objects, ConsumerManager)


def syncs() -> None:
    sync = Sync.objects.create(
        provider="stripe",
        stream_id="st",
        name="n",
        collection_ids=["stripe:customer"],
        credential_id="c",
        rate_limit=RateLimit(allowed_requests=1, interval=1),
        sync_frequency="4h",
    )
    assert_type(sync, Sync)
    assert_type(sync.rate_limit, RateLimit | None)
    assert_type(sync.health, Health | None)
    assert_type(sync.created_at, datetime.datetime | None)
    assert_type(sync.save(), Sync)
    assert_type(Sync.objects.list(provider="stripe"), list[Sync])
    Sync.objects.create(provider="stripe")  # type: ignore[call-arg]
    Sync.objects.create(
        provider="stripe",
        stream_id="st",
        name="n",
        collection_ids=["stripe:customer"],
        credential_id="c",
        sync_frequency="hourly",  # type: ignore[arg-type]
    )


def records() -> None:
    assert_type(salesforce.Contact.objects, RecordManager[salesforce.Contact])
    assert_type(salesforce.Contact.objects.iter(), Iterator[salesforce.Contact])
    assert_type(salesforce.Contact.objects.get("003"), salesforce.Contact)
    assert_type(next(salesforce.Contact.objects.iter_pages()), RecordPage)
    for contact in salesforce.Contact.objects:
        assert_type(contact.Email, str | None)


def consumers(created: HttpConsumer) -> None:
    consumer = created.consumer()
    assert_type(consumer.receive(), list[Message])
    assert_type(consumer.stream(), MessageStream)
    for message in consumer.stream():
        assert_type(message.record, sequin_orm.Model | None)
        assert_type(message.record_as(salesforce.Contact), salesforce.Contact)
