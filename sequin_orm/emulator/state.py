"""The in-memory store: entities, the records stream and the one lock guarding them."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sequin_orm.emulator import clock
from sequin_orm.emulator.delivery import Consumer
from sequin_orm.emulator.ids import UpstreamIds
from sequin_orm.emulator.jsonutil import JSONObject

FIRST_UPDATED_IDX = 2745327037
"""``updated_idx`` of the first change; the counter is global and only grows."""


@dataclass
class Stream:
    """A stream (``/v1/streams``)."""

    id: str
    slug: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Credential:
    """A credential; ``properties`` holds the real (unmasked) secrets."""

    id: str
    provider: str
    kind: str
    name: str | None
    properties: JSONObject
    oauth_app_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass
class Sync:
    """A sync (``/v1/syncs``)."""

    id: str
    provider: str
    stream_id: str
    name: str
    collection_ids: list[str]
    rate_limit: dict[str, int]
    credential_id: str
    status: str
    max_age_days: int | float | None
    sync_frequency: str
    metadata: dict[str, Any]
    external_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class Record:
    """The latest version of one upstream object, as kept in the records stream."""

    id: str
    sync_id: str
    collection_id: str
    provider: str
    stream_id: str
    upstream_id: str
    data: JSONObject
    deleted: bool
    inserted_at: datetime
    upstream_created_at: datetime
    upstream_updated_at: datetime
    updated_idx: int
    sync: JSONObject

    def attributes(self) -> dict[str, str]:
        """What consumer filters match on."""
        return {
            "stream_id": self.stream_id,
            "sync_id": self.sync_id,
            "collection_id": self.collection_id,
            "provider": self.provider,
            "resource_id": self.upstream_id,
        }


@dataclass
class Event:
    """One change of the records stream, as event consumers receive it."""

    record_id: str
    updated_idx: int
    body: JSONObject
    inserted_at: datetime


EVENT_KEYS = ("sync_id", "collection_id", "upstream_id", "upstream_updated_at", "data")


def event_json(snapshot: JSONObject, event: str) -> JSONObject:
    """The ``event`` of an event consumer's message, in the shape of ``GET /v1/events`` items:
    ``{sync_id, collection_id, upstream_id, upstream_updated_at, data, event, event_id,
    event_inserted_at}``."""
    body = {key: snapshot.get(key) for key in EVENT_KEYS}
    body.update(
        event=event,
        event_id=str(uuid.uuid4()),
        event_inserted_at=clock.iso_micro(clock.utcnow()),
    )
    return body


class State:
    """Everything the emulator holds. Callers take ``state.cond`` around every access."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.cond = threading.Condition()
        self.upstream_ids = UpstreamIds()
        self.streams: dict[str, Stream] = {}
        self.credentials: dict[str, Credential] = {}
        self.syncs: dict[str, Sync] = {}
        self.consumers: dict[str, Consumer] = {}
        self.records: dict[str, Record] = {}
        self.events: list[Event] = []
        self._keys: dict[tuple[str, str, str], str] = {}
        self._idx = FIRST_UPDATED_IDX - 1

    def next_idx(self) -> int:
        """The next value of the global ``updated_idx`` counter."""
        self._idx += 1
        return self._idx

    def find_record(self, sync_id: str, collection_id: str, upstream_id: str) -> Record | None:
        """The record of ``upstream_id`` in this sync and collection, deleted or not."""
        record_id = self._keys.get((sync_id, collection_id, upstream_id))
        return None if record_id is None else self.records.get(record_id)

    def publish(self, record: Record, snapshot: JSONObject, event: str = "updated") -> None:
        """Append ``record`` to the end of the stream, log its ``event`` (``created``,
        ``updated`` or ``deleted``) and queue either for the matching consumers."""
        self.records.pop(record.id, None)
        self.records[record.id] = record
        self._keys[(record.sync_id, record.collection_id, record.upstream_id)] = record.id
        logged = Event(record.id, record.updated_idx, event_json(snapshot, event), clock.utcnow())
        self.events.append(logged)
        now = time.monotonic()
        attributes = record.attributes()
        for consumer in self.consumers.values():
            if consumer.matches(attributes):
                message = logged.body if consumer.kind == "event" else snapshot
                consumer.offer(record.id, record.updated_idx, message, now)
        self.cond.notify_all()

    def clear(self) -> None:
        """Forget everything except the ``updated_idx`` counter (it never goes back)."""
        for table in (self.streams, self.credentials, self.syncs, self.consumers, self.records):
            table.clear()
        self.events.clear()
        self._keys.clear()
        self.cond.notify_all()
